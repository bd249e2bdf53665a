//! Cameras, the audit log, metrics, probes and the API description.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{ApiError, Caller, audit};
use crate::state::AppState;
use crate::users::Role;

/// `GET /api/cameras`: every camera's health.
pub(crate) async fn cameras(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "viewing cameras").await?;
    Ok(Json(serde_json::json!({ "cameras": state.node.cameras(), "events_store": state.node.events_backlog() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    limit: Option<usize>,
}

/// `GET /api/audit?limit=`: newest first (admin).
pub(crate) async fn audit_log(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin, &state, "reading the audit log").await?;
    state
        .blocking(move |state| {
            let records = state.watchlist().audit_log(q.limit.unwrap_or(200).clamp(1, 5000))?;
            audit(state, &caller, "audit.view", None, None, None)?;
            Ok(Json(serde_json::json!({ "records": records })))
        })
        .await
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.encode())
        .into_response()
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the stores answer, nothing waits to be stored, and at least one camera
/// delivers frames.
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if let Err(e) = state.events_off_workers(|events| events.alerts_cursor().map(drop)).await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("events store: {e}")).into_response();
    }
    let backlog = state.node.events_backlog();
    if backlog.waiting > 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, backlog.summary()).into_response();
    }
    let cams = state.node.cameras();
    let running = cams.iter().filter(|c| matches!(c.state, raqib_events::health::CameraState::Streaming)).count();
    if running == 0 && !cams.is_empty() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("no camera delivers frames (0 of {})", cams.len()))
            .into_response();
    }
    (StatusCode::OK, format!("ready: {running} of {} camera(s) running", cams.len())).into_response()
}

/// `GET /api/openapi.yaml`.
pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], include_str!("../../openapi.yaml")).into_response()
}
