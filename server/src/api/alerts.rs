//! Alerts: list (paged, filtered), one alert with its history, acknowledge/escalate, confirm or
//! reject with a reason ([`raqib_events::handling`]), snapshots, evidence.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use raqib_events::alerts::{Alert, AlertAction, AlertFilter, AlertId, Visibility};
use serde::Deserialize;

use crate::auth::{ApiError, Caller, audit, require_reason};
use crate::state::AppState;
use crate::users::Role;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    camera: Option<String>,
    category: Option<String>,
    state: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// The states an alert can be in.
const STATES: [&str; 5] = ["new", "acknowledged", "escalated", "confirmed", "rejected"];

pub(crate) fn time(name: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| ApiError::bad_request(format!("{name}: `{s}` is not an RFC 3339 time ({e})")))
        })
        .transpose()
}

pub(crate) fn parse_id(id: &str) -> Result<AlertId, ApiError> {
    id.parse().map_err(|e: raqib_events::Error| ApiError::bad_request(e.to_string()))
}

/// The alert, if `caller` may see it: a covert alert is shown only to users given its list;
/// to anyone else it does not exist (404, the same answer as an unknown id).
pub(crate) fn visible_alert(state: &AppState, caller: &Caller, id: AlertId) -> Result<Alert, ApiError> {
    let alert = state.events().alert(id)?;
    alert
        .filter(|a| Visibility::Lists(&caller.0.lists).allows(a))
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))
}

/// The audit detail of a view of `alert`: which covert list, for a covert one.
fn covert_detail(alert: &Alert) -> Option<String> {
    alert.covert_list.as_ref().map(|l| format!("covert list {l}"))
}

/// `GET /api/alerts`: newest first, with the resume token of the newest stored alert.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "listing alerts").await?;
    if let Some(s) = q.state.as_deref()
        && !STATES.contains(&s)
    {
        return Err(ApiError::bad_request(format!("state: `{s}` is not one of {}", STATES.join(", "))));
    }
    let filter = AlertFilter {
        since: time("since", q.since.as_deref())?,
        until: time("until", q.until.as_deref())?,
        camera: q.camera,
        category: q.category,
        state: q.state,
        lists: Some(caller.0.lists.clone()),
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    state
        .blocking(move |state| {
            let (alerts, cursor) = {
                let events = state.events();
                (events.alerts(&filter)?, events.alerts_cursor()?)
            };
            audit(state, &caller, "alerts.list", None, None, Some(&format!("{} alert(s)", alerts.len())))?;
            Ok(Json(serde_json::json!({ "alerts": alerts, "cursor": cursor.to_string() })))
        })
        .await
}

/// `GET /api/alerts/{id}`: the alert, the actions taken on it, and its watchlist entry as it
/// was when the hit was raised.
pub(crate) async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "viewing an alert").await?;
    let id = parse_id(&id)?;
    state
        .blocking(move |state| {
            let alert = visible_alert(state, &caller, id)?;
            let (actions, entry) = {
                let events = state.events();
                (events.alert_actions(id)?, events.alert_entry(id)?)
            };
            audit(state, &caller, "alert.view", Some(&id.to_string()), None, covert_detail(&alert).as_deref())?;
            Ok(Json(serde_json::json!({ "alert": alert, "actions": actions, "entry": entry })))
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonQuery {
    reason: Option<String>,
}

/// `DELETE /api/alerts/{id}?reason=`: an analyst deletes a hit with its evidence (its read,
/// crop, whole frame, operators' actions). The audit record (`alert.delete`) is written first: a
/// deletion that cannot be audited is refused (503) and nothing is deleted.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ReasonQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "deleting an alert").await?;
    let id = parse_id(&id)?;
    let reason = require_reason(q.reason.as_deref())?;
    state
        .blocking(move |state| {
            let alert = visible_alert(state, &caller, id)?;
            let detail = raqib_events::deletion::audit_detail(&alert);
            audit(state, &caller, "alert.delete", Some(&id.to_string()), Some(reason.as_str()), Some(&detail))?;
            state.events().delete_alert(id)?;
            state.alerts_changed();
            Ok(Json(serde_json::json!({ "deleted": id })))
        })
        .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActBody {
    #[serde(default)]
    comment: String,
    /// A rejection's reason (one of `[alerts] reject_reasons`).
    #[serde(default)]
    reason: Option<String>,
}

async fn act(
    state: Arc<AppState>,
    caller: Caller,
    id: String,
    action: AlertAction,
    body: ActBody,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator, &state, "acting on an alert").await?;
    let id = parse_id(&id)?;
    if body.comment.len() > 2000 {
        return Err(ApiError::bad_request("comment: at most 2000 characters"));
    }
    state
        .blocking(move |state| {
            let comment = body.comment.trim();
            visible_alert(state, &caller, id)?;
            let alert = state.events().act_on_alert(id, action, &caller.0.name, comment, body.reason.as_deref())?;
            let name = format!("alert.{}", action.as_str());
            let detail = body.reason.as_deref().map(|r| format!("reason: {}", r.trim()));
            audit(state, &caller, &name, Some(&id.to_string()), Some(comment), detail.as_deref())?;
            state.alerts_changed();
            Ok(Json(alert).into_response())
        })
        .await
}

/// `POST /api/alerts/{id}/acknowledge {comment}`.
pub(crate) async fn acknowledge(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ActBody>>,
) -> Result<Response, ApiError> {
    act(state, caller, id, AlertAction::Acknowledge, body.map(|b| b.0).unwrap_or_default()).await
}

/// `POST /api/alerts/{id}/confirm {comment}`: the hit is verified against the image. Final.
pub(crate) async fn confirm(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ActBody>>,
) -> Result<Response, ApiError> {
    act(state, caller, id, AlertAction::Confirm, body.map(|b| b.0).unwrap_or_default()).await
}

/// `POST /api/alerts/{id}/reject {reason, comment}`: a false hit, with one of the configured
/// reasons. Final.
pub(crate) async fn reject(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ActBody>>,
) -> Result<Response, ApiError> {
    act(state, caller, id, AlertAction::Reject, body.map(|b| b.0).unwrap_or_default()).await
}

/// `GET /api/alerts/policy`: the rejection reasons and the deadline of each priority (minutes),
/// for the console's forms and timers.
pub(crate) async fn policy(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "reading the alert policy").await?;
    let p = &state.rules.alerts;
    Ok(Json(serde_json::json!({
        "reject_reasons": p.reject_reasons,
        "deadline_minutes": p.deadlines_by_priority(),
        "repeat_window_s": p.repeat_window_s,
    })))
}

/// `POST /api/alerts/{id}/escalate {comment}`.
pub(crate) async fn escalate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ActBody>>,
) -> Result<Response, ApiError> {
    act(state, caller, id, AlertAction::Escalate, body.map(|b| b.0).unwrap_or_default()).await
}

pub(crate) fn jpeg(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=3600")], bytes).into_response()
}

/// One stored image of an alert (`what`: `crop` or `frame`), audited as a snapshot view.
async fn snapshot(
    state: Arc<AppState>,
    caller: Caller,
    id: String,
    what: &'static str,
    fetch: fn(&raqib_events::EventStore, AlertId) -> raqib_events::Result<Option<Vec<u8>>>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator, &state, "viewing a snapshot").await?;
    let id = parse_id(&id)?;
    state
        .blocking(move |state| {
            let alert = visible_alert(state, &caller, id)?;
            let bytes =
                fetch(&state.events(), id)?.ok_or_else(|| ApiError::not_found(format!("no {what} for {id}")))?;
            let detail = match covert_detail(&alert) {
                Some(c) => format!("{what}, {c}"),
                None => what.to_owned(),
            };
            audit(state, &caller, "snapshot.view", Some(&id.to_string()), None, Some(&detail))?;
            Ok(jpeg(bytes))
        })
        .await
}

/// `GET /api/alerts/{id}/crop.jpg`: the plate or face crop.
pub(crate) async fn crop(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    snapshot(state, caller, id, "crop", raqib_events::EventStore::alert_crop).await
}

/// `GET /api/alerts/{id}/frame.jpg`: the whole frame of a plate hit's best shot.
pub(crate) async fn frame(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    snapshot(state, caller, id, "frame", raqib_events::EventStore::alert_frame).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceQuery {
    reason: Option<String>,
}

/// `GET /api/alerts/{id}/evidence.zip?reason=`: the alert's evidence package
/// ([`raqib_events::evidence`]). Analysts only, with a reason; the export and the package's
/// SHA-256 (also sent as `X-Evidence-SHA256`) go into the audit log.
pub(crate) async fn evidence(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<EvidenceQuery>,
) -> Result<Response, ApiError> {
    caller.require(Role::Analyst, &state, "exporting evidence").await?;
    let reason = crate::auth::require_reason(q.reason.as_deref())?;
    let id = parse_id(&id)?;
    let info = raqib_events::evidence::ExportInfo {
        node: state.node_name.clone(),
        exported_by: caller.0.name.clone(),
        reason,
        at: Utc::now(),
    };
    // No export without its audit record: a failure to write it fails the request.
    let package = state
        .blocking(move |state| {
            visible_alert(state, &caller, id)?;
            raqib_events::evidence::export_audited(&state.events(), &state.watchlist(), id, &info, None).map_err(|e| {
                match e {
                    raqib_events::Error::Audit(e) => ApiError::internal(e),
                    e => ApiError::from(e),
                }
            })
        })
        .await?;
    let file = format!("attachment; filename=\"{}\"", raqib_events::evidence::file_name(&state.node_name, id));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, file),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::HeaderName::from_static("x-evidence-sha256"), package.sha256),
        ],
        package.zip,
    )
        .into_response())
}

/// `POST /api/alerts/{id}/enrol {comment}`: an analyst adds the face of a **confirmed** face
/// alert to the person's enrolled faces (re-enrolment from a verified sighting: a recent,
/// real-camera face makes the person's template closer to how cameras see them). Only by this
/// explicit action, only for a confirmed alert, with a comment saying why (audited as
/// `alert.enrol`, and in the watchlist's own log as `person.enroll`); the same alert is not
/// enrolled twice. The person's template leaves out faces unlike their others
/// (`raqib_watchlist::face_template`), so one wrong confirmation cannot take it over.
pub(crate) async fn enrol(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ActBody>>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Role::Analyst, &state, "enrolling a sighting").await?;
    let id = parse_id(&id)?;
    let comment = require_reason(body.as_ref().map(|b| b.comment.as_str()))?.to_string();
    let conflict = |message: String| ApiError { status: axum::http::StatusCode::CONFLICT, message };
    let (person_id, crop) = state
        .blocking({
            let caller = caller.clone();
            move |state| {
                let alert = visible_alert(state, &caller, id)?;
                if alert.kind != raqib_events::alerts::AlertKind::Face {
                    return Err(ApiError::bad_request(format!("{id} is a plate alert: only a face can be enrolled")));
                }
                if alert.state != "confirmed" {
                    return Err(conflict(format!(
                        "{id} is {}: only a confirmed sighting is enrolled (confirm it first)",
                        alert.state
                    )));
                }
                let person_id: i64 = alert
                    .entry
                    .parse()
                    .map_err(|_| ApiError::internal(format!("{id}: person id `{}`", alert.entry)))?;
                let crop = state
                    .events()
                    .alert_crop(id)?
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| conflict(format!("{id}: its face image is no longer kept (retention)")))?;
                Ok((person_id, crop))
            }
        })
        .await?;
    let embedding = super::search::embed(&state, Some(crop)).await?;
    state
        .blocking(move |state| {
            let source = format!("confirmed alert {id}");
            let model = state.node.face_model();
            let row = {
                let mut store = state.watchlist();
                if store.person_embeddings(person_id)?.iter().any(|e| e.source.as_deref() == Some(source.as_str())) {
                    return Err(conflict(format!("{id} is already enrolled for person {person_id}")));
                }
                let actor = raqib_watchlist::Actor::new(&caller.0.name, Some(comment.as_str()));
                store.add_embedding(person_id, &model, &embedding, Some(&source), actor)?
            }; // the watchlist's lock is released before the audit takes it
            let detail = format!("person {person_id}, embedding {row}");
            audit(state, &caller, "alert.enrol", Some(&id.to_string()), Some(&comment), Some(&detail))?;
            Ok((
                axum::http::StatusCode::CREATED,
                Json(serde_json::json!({ "person_id": person_id, "embedding": row, "source": source })),
            ))
        })
        .await
}
