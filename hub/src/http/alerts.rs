//! The national alert list and the live stream of every node's alerts.
//!
//! The stream (`GET /api/alerts/stream`, Server-Sent Events) sends each alert as `event: alert`
//! with the hub's order number as its SSE `id`; a console that reconnects sends it back
//! (`Last-Event-ID`, or `?after=`) and gets every alert stored since. It wakes as soon as the
//! hub's ingest commits a batch with alerts, and looks every second anyway (alerts raised by
//! another hub process: retro-hits of `raqib hub add`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use raqib_server::auth::{ApiError, Caller, audit, off_workers};
use raqib_server::users::Role;
use serde::Deserialize;

use super::{HubState, api_error};
use crate::pg;

/// How often a stream looks even without a wake-up.
const POLL: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    node: Option<String>,
    category: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/alerts?node=&category=&before=&limit=`: newest first (page back with `before`, the
/// last `seq` seen).
pub(crate) async fn list(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator, &state, "national alerts").await?;
    let filter = pg::HitFilter { node: q.node, category: q.category, before: q.before, limit: q.limit.unwrap_or(100) };
    let db = state.hub.db().await.map_err(api_error)?;
    let alerts = pg::hits(&db, &filter).await.map_err(api_error)?;
    let detail = format!("{} alert(s)", alerts.len());
    off_workers(&state, move |s| audit(s, &caller, "alerts.list", filter.node.as_deref(), None, Some(&detail))).await?;
    Ok(Json(serde_json::json!({ "alerts": alerts })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamQuery {
    after: Option<i64>,
}

/// `GET /api/alerts/stream[?after=SEQ]`.
pub(crate) async fn stream(
    State(state): State<Arc<HubState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    caller.require(Role::Operator, &state, "watching national alerts").await?;
    let resume = match headers.get("last-event-id").and_then(|v| v.to_str().ok()).filter(|t| !t.is_empty()) {
        Some(t) => Some(t.parse::<i64>().map_err(|_| ApiError::bad_request(format!("Last-Event-ID `{t}`: a number")))?),
        None => q.after,
    };
    let start = match resume {
        Some(seq) => seq,
        None => pg::last_hit_seq(&*state.hub.db().await.map_err(api_error)?).await.map_err(api_error)?,
    };
    off_workers(&state, move |s| audit(s, &caller, "alerts.watch", None, None, Some(&format!("from {start}")))).await?;
    let mut wake = state.hub.alert_signal();
    let stream = raqib_server::live::async_stream(move |tx| async move {
        let mut cursor = start;
        loop {
            let batch = match state.hub.db().await {
                Ok(db) => pg::hits_after(&db, cursor, 200).await,
                Err(e) => Err(e),
            };
            match batch {
                Ok(alerts) => {
                    for (seq, a) in &alerts {
                        cursor = *seq;
                        let ev = Event::default().event("alert").id(seq.to_string()).data(a.to_string());
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                    if alerts.len() == 200 {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "hub live alerts: cannot read PostgreSQL"),
            }
            if state.closing() {
                return;
            }
            let _ = tokio::time::timeout(POLL, wake.changed()).await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
