//! Live alerts over Server-Sent Events: `GET /api/alerts/stream`.
//!
//! Each event is one alert (`event: alert`, JSON data) whose SSE `id` is the resume token after
//! it (`p<row>.f<row>`). A console that reconnects sends it back (`Last-Event-ID`, which browsers'
//! `EventSource` does by itself, or `?after=`), and gets every alert stored since: nothing is
//! missed across a dropped connection or a node restart. Without a token the stream starts at
//! the present. State changes (acknowledged elsewhere) arrive as `event: state` ticks so every
//! console can refresh; a comment line every 15 s keeps proxies from closing an idle stream.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use raqib_events::alerts::{Cursor, Visibility};
use serde::Deserialize;

use crate::auth::{ApiError, Caller, audit};
use crate::state::AppState;
use crate::users::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamQuery {
    after: Option<String>,
}

/// How often the stream looks at the store even without a wake-up (alerts written by another
/// process, e.g. `raqib replay` into the same data directory).
const POLL: Duration = Duration::from_millis(500);

/// `GET /api/alerts/stream[?after=TOKEN]`.
pub(crate) async fn stream(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Role::Operator, &state, "watching live alerts").await?;
    let caller_lists = caller.0.lists.clone();
    let token = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned).or(q.after);
    let given = match token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(t.parse::<Cursor>().map_err(|e| ApiError::bad_request(e.to_string()))?),
        None => None,
    };
    let start = state
        .blocking(move |state| {
            let start = match given {
                Some(c) => c,
                None => state.events().alerts_cursor()?,
            };
            audit(state, &caller, "alerts.watch", None, None, Some(&format!("from {start}")))?;
            Ok(start)
        })
        .await?;
    // Covert alerts reach only users given their list.
    let lists = caller_lists;
    let mut wake = state.alerts.subscribe();
    let stream = async_stream(move |tx| async move {
        let mut cursor = start;
        let mut seen_tick = *wake.borrow_and_update();
        loop {
            let lists = lists.clone();
            let visible = move |events: &mut raqib_events::EventStore| {
                events.alerts_after_visible(cursor, 100, Visibility::Lists(&lists))
            };
            match state.events_off_workers(visible).await {
                Ok(alerts) => {
                    for a in &alerts {
                        cursor.advance(a.id);
                        let data = serde_json::to_string(a).unwrap_or_default();
                        let ev = Event::default().event("alert").id(cursor.to_string()).data(data);
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                    if alerts.len() == 100 {
                        continue;
                    }
                }
                Err(e) => tracing::error!(error = %e, "live alerts: cannot read the events store"),
            }
            let changed = tokio::time::timeout(POLL, wake.changed()).await;
            if matches!(changed, Ok(Err(_))) {
                return; // server shutting down
            }
            let tick = *wake.borrow_and_update();
            if tick != seen_tick {
                seen_tick = tick;
                if tx.send(Event::default().event("state").data(tick.to_string())).await.is_err() {
                    return;
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stream fed by a task through a small channel (ends when the task ends or the client goes).
pub fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    futures_util::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}
