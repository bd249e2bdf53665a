//! Watchlist management: plate entries (list, add, remove) and persons (list, enrol by photo,
//! remove). Changes are written through the watchlist store, which audits them in the same
//! transaction; the running pipeline picks them up within a second.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use raqib_watchlist::{Actor, NewPerson, NewPlateEntry};
use serde::Deserialize;

use crate::auth::{ApiError, Caller, audit, require_reason};
use crate::state::AppState;
use crate::users::Role;

/// `GET /api/watchlist/plates`.
pub(crate) async fn plates(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "viewing the watchlist").await?;
    state
        .blocking(move |state| {
            let plates = state.watchlist().plates()?;
            audit(state, &caller, "watchlist.view", Some("plates"), None, Some(&format!("{} entries", plates.len())))?;
            Ok(Json(serde_json::json!({ "plates": plates })))
        })
        .await
}

/// `POST /api/watchlist/plates` with a JSON entry (`plate`, `category`, optional `priority`,
/// `case_ref`, `expires_at`, …). The new entry is checked against the reads stored within
/// retention at once ([`raqib_events::EventStore::retro_hits`]); the answer lists the retro
/// alerts raised (`retro_alerts`), and the check is audited (`watchlist.retro_check`).
pub(crate) async fn add_plate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Result<Json<NewPlateEntry>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Role::Admin, &state, "changing the watchlist").await?;
    let Json(new) = body.map_err(|e| ApiError { status: e.status(), message: e.body_text() })?;
    state
        .blocking(move |state| {
            let entry = state.watchlist().add_plate(&new, Actor::new(&caller.0.name, new.case_ref.as_deref()))?;
            let retro = retro_check(state, &caller, std::slice::from_ref(&entry))?;
            Ok((StatusCode::CREATED, Json(serde_json::json!({ "entry": entry, "retro_alerts": retro }))))
        })
        .await
}

/// Retro-hits of entries just added: raised, audited
/// ([`raqib_events::decisions::retro_check_audited`]), consoles woken.
fn retro_check(
    state: &AppState,
    caller: &Caller,
    entries: &[raqib_watchlist::PlateEntry],
) -> Result<Vec<raqib_events::alerts::AlertId>, ApiError> {
    let raised = raqib_events::decisions::retro_check_audited(
        &mut state.events(),
        &state.watchlist(),
        &caller.0.name,
        entries,
        state.rules.analysis.plate_max_distance,
        &state.rules.retention,
    )?;
    if !raised.is_empty() {
        state.alerts_changed();
    }
    Ok(raised)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonQuery {
    reason: Option<String>,
}

/// `DELETE /api/watchlist/plates/{id}?reason=`.
pub(crate) async fn remove_plate(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ReasonQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin, &state, "changing the watchlist").await?;
    let reason = require_reason(q.reason.as_deref())?;
    state
        .blocking(move |state| {
            let entry = state.watchlist().remove_plate(id, Actor::new(&caller.0.name, Some(reason.as_str())))?;
            Ok(Json(serde_json::json!({ "removed": entry })))
        })
        .await
}

/// `GET /api/watchlist/persons`.
pub(crate) async fn persons(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "viewing the watchlist").await?;
    state
        .blocking(move |state| {
            let persons = state.watchlist().persons()?;
            audit(
                state,
                &caller,
                "watchlist.view",
                Some("persons"),
                None,
                Some(&format!("{} persons", persons.len())),
            )?;
            Ok(Json(serde_json::json!({ "persons": persons })))
        })
        .await
}

/// `POST /api/watchlist/persons` (multipart: `name`, `category`, optional `priority`,
/// `case_ref`, `valid_from`, `expires_at`, `notes`, the scope `days`, `hours`, `cameras`,
/// `area`, `covert_list`, and the `photo` to enrol).
pub(crate) async fn enrol_person(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    multipart: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Role::Admin, &state, "enrolling a person").await?;
    let form = super::search::read_form(multipart).await?;
    let field = |k: &str| form.fields.get(k).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let new = NewPerson {
        name: field("name").ok_or_else(|| ApiError::bad_request("field `name` is required"))?,
        category: field("category").ok_or_else(|| ApiError::bad_request("field `category` is required"))?,
        priority: field("priority"),
        case_ref: field("case_ref"),
        valid_from: field("valid_from"),
        expires_at: field("expires_at"),
        notes: field("notes"),
        days: field("days"),
        hours: field("hours"),
        cameras: field("cameras"),
        area: field("area"),
        covert_list: field("covert_list"),
    };
    // Check the fields before the photo: a bad one is named, and no face model runs for it.
    new.scope()?;
    // Embed first: a photo without a usable face creates nothing.
    let embedding = super::search::embed(&state, form.photo).await?;
    state
        .blocking(move |state| {
            let model = state.node.face_model();
            let mut store = state.watchlist();
            let actor = Actor::new(&caller.0.name, new.case_ref.as_deref());
            let person = store.add_person(&new, actor)?;
            if let Err(e) = store.add_embedding(person.id, &model, &embedding, Some("console upload"), actor) {
                let _ = store.remove_person(person.id, Actor::new(&caller.0.name, Some("enrolment failed")));
                return Err(e.into());
            }
            Ok((StatusCode::CREATED, Json(serde_json::json!({ "person": person }))))
        })
        .await
}

/// `DELETE /api/watchlist/persons/{id}?reason=`.
pub(crate) async fn remove_person(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ReasonQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin, &state, "changing the watchlist").await?;
    let reason = require_reason(q.reason.as_deref())?;
    state
        .blocking(move |state| {
            let person = state.watchlist().remove_person(id, Actor::new(&caller.0.name, Some(reason.as_str())))?;
            Ok(Json(serde_json::json!({ "removed": person })))
        })
        .await
}
