//! Sinks forward every alert to another system: signed webhooks ([`webhook`]) and MQTT
//! ([`mqtt`]).
//!
//! **The outbox is the alerts table itself.** Each sink keeps a cursor (last plate-hit and
//! face-hit row delivered) in the events store and moves it only after the receiver accepted a
//! delivery. Alerts are written to SQLite before anything is published, so a receiver outage
//! (retries with exponential backoff) or a node restart (the cursor is read back) loses
//! nothing. Delivery is at least once and in order; every delivery carries an idempotency key
//! (`<node>:<alert id>`), identical on every retry, so a receiver can drop repeats. A sink
//! configured for the first time starts at the present (it does not replay history).

pub mod mqtt;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use raqib_events::alerts::{Alert, Cursor};
use serde::Serialize;

use crate::error::Result;
use crate::state::AppState;

/// What a receiver gets for one alert.
#[derive(Debug, Serialize)]
pub struct Delivery<'a> {
    /// Node that raised it.
    pub node: &'a str,
    /// Same on every retry of this alert: receivers drop repeats by it.
    pub idempotency_key: String,
    /// The alert.
    pub alert: &'a Alert,
}

/// Why a delivery did not go through.
#[derive(Debug)]
pub enum Failure {
    /// Try again later (receiver down, 5xx, timeout).
    Retry(String),
    /// The receiver refused this alert for good (4xx): logged, counted, skipped.
    Reject(String),
}

/// A way of delivering alerts.
pub(crate) trait Deliver: Send + 'static {
    fn deliver(&mut self, d: &Delivery<'_>) -> impl std::future::Future<Output = Result<(), Failure>> + Send;
}

/// Starts every configured sink on the runtime.
pub(crate) fn start(runtime: &tokio::runtime::Runtime, state: &Arc<AppState>) -> Result<()> {
    for hook in &state.config.webhooks {
        let sink = webhook::Webhook::new(hook)?;
        let name = format!("webhook:{}", hook.name);
        // The cursor is settled before `start` returns: an alert raised right after is delivered.
        let cursor = cursor_of(state, &name);
        runtime.spawn(run(state.clone(), name, cursor, sink, hook.max_backoff()));
    }
    if let Some(cfg) = &state.config.mqtt {
        let sink = mqtt::Mqtt::start(cfg, &state.node_name)?;
        let cursor = cursor_of(state, "mqtt");
        runtime.spawn(run(state.clone(), "mqtt".into(), cursor, sink, Duration::from_secs(cfg.max_backoff_s.max(1))));
    }
    Ok(())
}

/// Wait before retry number `failures` (1, 2, …): 0.5 s doubling, capped.
pub(crate) fn backoff(failures: u32, max: Duration) -> Duration {
    Duration::from_millis(500).saturating_mul(1 << failures.saturating_sub(1).min(16)).min(max)
}

fn cursor_of(state: &AppState, name: &str) -> Cursor {
    let mut events = state.events();
    match events.sink_cursor(name) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let c = events.alerts_cursor().unwrap_or_default();
            if let Err(e) = events.set_sink_cursor(name, c) {
                tracing::error!(sink = name, error = %e, "cannot store the sink's cursor");
            }
            c
        }
        Err(e) => {
            tracing::error!(sink = name, error = %e, "cannot read the sink's cursor; starting at the present");
            events.alerts_cursor().unwrap_or_default()
        }
    }
}

/// The delivery loop of one sink.
async fn run<D: Deliver>(state: Arc<AppState>, name: String, mut cursor: Cursor, mut sink: D, max_backoff: Duration) {
    let mut wake = state.alerts.subscribe();
    tracing::info!(sink = %name, from = %cursor, "sink started");
    loop {
        // Store access off the async workers, like the API's.
        let batch = match state
            .events_off_workers(move |events| {
                // Covert alerts are never forwarded: only users given their list see them.
                events.alerts_after_visible(cursor, 50, raqib_events::alerts::Visibility::Lists(&[]))
            })
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(sink = %name, error = %e, "cannot read alerts");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        state.metrics.sink_pending(&name, batch.len());
        for (i, alert) in batch.iter().enumerate() {
            let delivery = Delivery {
                node: &state.node_name,
                idempotency_key: format!("{}:{}", state.node_name, alert.id),
                alert,
            };
            let mut failures = 0u32;
            loop {
                match sink.deliver(&delivery).await {
                    Ok(()) => {
                        state.metrics.sink_delivered(&name);
                        break;
                    }
                    Err(Failure::Reject(why)) => {
                        state.metrics.sink_failed(&name);
                        tracing::error!(sink = %name, alert = %alert.id, why, "receiver rejected the alert; skipped");
                        break;
                    }
                    Err(Failure::Retry(why)) => {
                        failures += 1;
                        state.metrics.sink_failed(&name);
                        let wait = backoff(failures, max_backoff);
                        tracing::warn!(sink = %name, alert = %alert.id, why, retry_in_ms = wait.as_millis() as u64, "delivery failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            cursor.advance(alert.id);
            let sink_name = name.clone();
            let stored = state.events_off_workers(move |events| events.set_sink_cursor(&sink_name, cursor)).await;
            if let Err(e) = stored {
                tracing::error!(sink = %name, error = %e, "cannot store the sink's cursor");
            }
            state.metrics.sink_pending(&name, batch.len() - i - 1);
        }
        if batch.is_empty() {
            // New alerts wake us at once; the timeout also picks up alerts written by others.
            let _ = tokio::time::timeout(Duration::from_secs(1), wake.changed()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(1, max), Duration::from_millis(500));
        assert_eq!(backoff(2, max), Duration::from_secs(1));
        assert_eq!(backoff(4, max), Duration::from_secs(4));
        assert_eq!(backoff(40, max), max);
    }
}
