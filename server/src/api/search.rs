//! Analysts' search: past plate reads (exact in any spelling, OCR-confusion-aware fuzzy,
//! wildcard) and sightings of a person from a photo. Every search needs a reason (case
//! reference) and is audited with it.
//!
//! Face search compares the photo with the enrolled persons' embeddings and returns the stored
//! sightings of those who match: faces of people not on a watchlist are never stored, so they
//! cannot be searched (see PRIVACY.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use raqib_events::alerts::Visibility;
use raqib_watchlist::Snapshot;
use serde::Deserialize;

use crate::auth::{ApiError, Caller, audit, require_reason};
use crate::state::AppState;
use crate::users::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadQuery {
    plate: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    reason: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
    since: Option<String>,
    until: Option<String>,
    camera: Option<String>,
}

/// `GET /api/reads?plate=&mode=exact|fuzzy|wildcard&reason=`; without `plate`: every read,
/// newest first, paged and filtered by `since`, `until`, `camera`.
pub(crate) async fn reads(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ReadQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "searching reads").await?;
    let reason = require_reason(q.reason.as_deref())?;
    // The search itself runs off the async workers.
    state.blocking(move |state| search_reads(state, &caller, q, &reason)).await
}

fn search_reads(
    state: &AppState,
    caller: &Caller,
    q: ReadQuery,
    reason: &raqib_core::Reason,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let Some(plate) = q.plate.filter(|p| !p.trim().is_empty()) else {
        let filter = raqib_events::read_search::ReadFilter {
            since: super::alerts::time("since", q.since.as_deref())?,
            until: super::alerts::time("until", q.until.as_deref())?,
            camera: q.camera,
            limit,
            offset: q.offset.unwrap_or(0),
        };
        let mut reads = state.events().reads(&filter)?;
        as_seen_by(state, &state.events(), caller, &mut reads, |r| r)?;
        audit(
            state,
            caller,
            "reads.list",
            filter.camera.as_deref(),
            Some(reason.as_str()),
            Some(&format!("{} read(s)", reads.len())),
        )?;
        let results: Vec<_> = reads.into_iter().map(|r| serde_json::json!({ "read": r, "distance": 0.0 })).collect();
        return Ok(Json(serde_json::json!({ "mode": "list", "results": results })));
    };
    let mode = raqib_events::read_search::SearchMode::parse(q.mode.as_deref(), &plate)?;
    let who = raqib_events::read_search::SearchAudit { actor: &caller.0.name, reason, action: "search.reads" };
    let events = state.events();
    let watchlist = state.watchlist();
    let mut results = raqib_events::read_search::search_audited(
        &events,
        &watchlist,
        who,
        &plate,
        mode,
        state.rules.analysis.plate_max_distance,
        limit,
    )?;
    as_seen_by(state, &events, caller, &mut results, |f| &mut f.read)?;
    let mode = mode.as_str();
    Ok(Json(serde_json::json!({ "mode": mode, "results": results })))
}

/// Leaves `items` as `caller` may see them: the hits of lists not theirs hidden, and the reads
/// kept only for such a hit left out past the reads' retention
/// ([`raqib_events::EventStore::hide_unseen_hits`]).
fn as_seen_by<T>(
    state: &AppState,
    events: &raqib_events::EventStore,
    caller: &Caller,
    items: &mut Vec<T>,
    read: impl Fn(&mut T) -> &mut raqib_events::store::StoredRead,
) -> Result<(), ApiError> {
    let since = state.rules.retention.plain_reads_kept_since(chrono::Utc::now());
    Ok(events.hide_unseen_hits(items, read, Visibility::Lists(&caller.0.lists), since)?)
}

/// `GET /api/reads/{id}/crop.jpg`.
pub(crate) async fn read_crop(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    caller.require(Role::Analyst, &state, "viewing a read's snapshot").await?;
    state
        .blocking(move |state| {
            let events = state.events();
            let mut read: Vec<_> = events.read(id)?.into_iter().collect();
            as_seen_by(state, &events, &caller, &mut read, |r| r)?;
            let bytes = if read.is_empty() { None } else { events.crop(id)? }
                .ok_or_else(|| ApiError::not_found(format!("no crop for read {id}")))?;
            audit(state, &caller, "snapshot.view", Some(&format!("read:{id}")), None, Some("crop"))?;
            Ok(super::alerts::jpeg(bytes))
        })
        .await
}

/// The fields of a multipart form: text fields and at most one file (`photo`).
pub(crate) struct Form {
    pub fields: std::collections::HashMap<String, String>,
    pub photo: Option<Vec<u8>>,
}

/// Reads a multipart form, turning every malformed part into a 400 that says what is wrong.
pub(crate) async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let mut form = Form { fields: Default::default(), photo: None };
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError { status: e.status(), message: format!("malformed upload: {}", e.body_text()) })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| ApiError {
            status: e.status(),
            message: format!("malformed upload (field `{name}`): {}", e.body_text()),
        })?;
        if name == "photo" {
            form.photo = Some(bytes.to_vec());
        } else {
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::bad_request(format!("field `{name}` is not UTF-8 text")))?;
            form.fields.insert(name, text);
        }
    }
    Ok(form)
}

/// Embeds the photo of a form off the async workers; a photo without a usable face is a 422.
pub(crate) async fn embed(state: &Arc<AppState>, photo: Option<Vec<u8>>) -> Result<raqib_core::Embedding, ApiError> {
    let photo = photo.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::bad_request("a `photo` file is required"))?;
    // The decoded size is read from the header, before any pixel is decoded (a file whose header
    // does not parse is not decodable either: the node says so).
    let size = image::ImageReader::new(std::io::Cursor::new(&photo))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok());
    let max = state.config.max_upload_pixels;
    if let Some((w, h)) = size.filter(|(w, h)| u64::from(*w) * u64::from(*h) > max) {
        return Err(ApiError {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("the photo is {w}×{h}: more than server.max_upload_pixels ({max})"),
        });
    }
    // At most UPLOAD_SLOTS photos are decoded and embedded at once: a bounded memory budget.
    let permit = state.uploads.clone().acquire_owned().await.map_err(ApiError::internal)?;
    let node = state.node.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        node.embed_face(&photo)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|m| ApiError { status: axum::http::StatusCode::UNPROCESSABLE_ENTITY, message: m })
}

/// `POST /api/search/face` (multipart: `photo`, `reason`): enrolled persons who match and
/// their sightings.
pub(crate) async fn face(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    multipart: Multipart,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Analyst, &state, "searching by face").await?;
    let form = read_form(multipart).await?;
    let reason = require_reason(form.fields.get("reason").map(String::as_str))?.to_string();
    let probe = embed(&state, form.photo).await?;
    state
        .blocking(move |state| {
            let snapshot = Snapshot::load(&state.watchlist(), &state.node.face_model())?;
            // The live rule: the calibrated threshold for this gallery, or the raw one.
            let threshold =
                state.rules.analysis.face_threshold(state.node.face_calibration(), snapshot.template_count());
            let matches = snapshot.match_face(&probe, 5, threshold, chrono::Utc::now())?;
            let ids: Vec<i64> = matches.iter().map(|m| m.person.id).collect();
            let sightings = state.events().alerts_of_persons(&ids, 200)?;
            let detail = format!("{} person(s), {} sighting(s)", matches.len(), sightings.len());
            audit(state, &caller, "search.face", None, Some(&reason), Some(&detail))?;
            Ok(Json(serde_json::json!({ "persons": matches, "sightings": sightings })))
        })
        .await
}
