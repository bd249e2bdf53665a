//! Who am I, node and camera health, the national watchlist (and how far each entry has
//! reached), the audit log, and the liveness probe.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use raqib_server::auth::{ApiError, Caller, audit, off_workers, require_reason};
use raqib_server::users::Role;
use serde::Deserialize;

use super::{HubState, api_error};
use crate::pg;

/// A node is shown offline once it has sent nothing for this long (three health reports).
pub const OFFLINE_AFTER: chrono::Duration = chrono::Duration::seconds(30);

/// `GET /api/me`.
pub(crate) async fn me(caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": caller.0.name, "role": caller.0.role, "node": "national hub", "hub": true,
        "lists": caller.0.lists, "language": caller.0.language,
    }))
}

/// `GET /api/nodes`: every node, online or not (nothing heard for [`OFFLINE_AFTER`]), its
/// cameras' health as it last reported them, and how many alerts it sent.
pub(crate) async fn nodes(
    State(state): State<Arc<HubState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "node health").await?;
    let db = state.hub.db().await.map_err(api_error)?;
    let now = chrono::Utc::now();
    let nodes: Vec<serde_json::Value> = pg::nodes(&db)
        .await
        .map_err(api_error)?
        .into_iter()
        .map(|n| {
            let online = now - n.last_seen < OFFLINE_AFTER;
            let mut v = serde_json::to_value(&n).unwrap_or_default();
            v["online"] = online.into();
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "nodes": nodes })))
}

/// `GET /api/entries`: the national watchlist, each entry with the number of nodes that applied
/// its current version and when the last did.
pub(crate) async fn entries(
    State(state): State<Arc<HubState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "the national watchlist").await?;
    let entries = state.hub.entries().await.map_err(api_error)?;
    let nodes = pg::node_count(&*state.hub.db().await.map_err(api_error)?).await.map_err(api_error)?;
    let detail = format!("{} entr(ies)", entries.len());
    off_workers(&state, move |s| audit(s, &caller, "entries.view", None, None, Some(&detail))).await?;
    Ok(Json(serde_json::json!({ "entries": entries, "nodes": nodes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewEntry {
    plate: String,
    category: String,
    priority: Option<String>,
    case_ref: Option<String>,
    #[serde(default)]
    critical: bool,
    reason: Option<String>,
}

/// `POST /api/entries {plate, category, priority, case_ref, critical, reason}`: adds or changes a
/// national entry; every node applies it (critical ones first) and the reads stored at the hub
/// are checked for retro-hits.
pub(crate) async fn add_entry(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    body: Result<Json<NewEntry>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Role::Admin, &state, "changing the national watchlist").await?;
    let Json(b) = body.map_err(|e| ApiError { status: e.status(), message: e.body_text() })?;
    let reason = require_reason(b.reason.as_deref())?;
    if let Some(p) = &b.priority {
        raqib_watchlist::Priority::parse(p).map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    if b.category.trim().is_empty() {
        return Err(ApiError::bad_request("category: required"));
    }
    let entry = raqib_watchlist::NewPlateEntry {
        plate: b.plate.clone(),
        category: b.category.clone(),
        priority: b.priority.clone(),
        case_ref: b.case_ref.clone(),
        ..Default::default()
    };
    // Recorded before it goes out: no national change the log does not know about.
    let detail = format!("{} {}{}", b.plate, b.category, if b.critical { ", critical" } else { "" });
    let who = caller.clone();
    off_workers(&state, move |s| audit(s, &who, "national.add", Some(&b.plate), Some(reason.as_str()), Some(&detail)))
        .await?;
    let change = state.hub.put_entry(&entry, b.critical).await.map_err(api_error)?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(&change).unwrap_or_default())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoveQuery {
    reason: Option<String>,
}

/// `DELETE /api/entries/{id}?reason=`: removes a national entry from every node.
pub(crate) async fn remove_entry(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<RemoveQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin, &state, "changing the national watchlist").await?;
    let reason = require_reason(q.reason.as_deref())?;
    let who = caller.clone();
    off_workers(&state, move |s| audit(s, &who, "national.remove", Some(&id.to_string()), Some(reason.as_str()), None))
        .await?;
    match state.hub.remove_entry(id).await.map_err(api_error)? {
        Some(change) => Ok(Json(serde_json::to_value(&change).unwrap_or_default())),
        None => Err(ApiError::not_found(format!("no national entry {id}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    limit: Option<usize>,
}

/// `GET /api/audit?limit=`: the hub's audit log, newest first.
pub(crate) async fn audit_log(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin, &state, "reading the audit log").await?;
    off_workers(&state, move |s| {
        let records = s.audit_log().audit_log(q.limit.unwrap_or(200).clamp(1, 5000)).map_err(ApiError::from)?;
        audit(s, &caller, "audit.view", None, None, None)?;
        Ok(Json(serde_json::json!({ "records": records })))
    })
    .await
}

/// `GET /healthz`: the hub answers and PostgreSQL too.
pub(crate) async fn healthz(State(state): State<Arc<HubState>>) -> (StatusCode, String) {
    match state.hub.db().await {
        Ok(db) if db.simple_query("SELECT 1").await.is_ok() => (StatusCode::OK, "ok".into()),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "PostgreSQL does not answer".into()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("PostgreSQL: {e}")),
    }
}
