//! Sinks forward every alert to another system: signed webhooks ([`webhook`]) and MQTT
//! ([`mqtt`]); and, unless a sink's `escalations = false`, every escalation an operator records
//! (`"event": "escalation"`, with the action), after the alerts, from a cursor of their own over
//! the operators' actions. Covert alerts and their escalations are never forwarded.
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

use raqib_events::alerts::{ActionRecord, Alert, Cursor, Visibility};
use serde::Serialize;

use crate::error::Result;
use crate::state::AppState;

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryEvent {
    /// An alert raised.
    Alert,
    /// An operator escalated an alert (the delivery's `action`).
    Escalation,
}

/// What a receiver gets for one alert or one escalation of it.
#[derive(Debug, Serialize)]
pub struct Delivery<'a> {
    /// Node that raised it.
    pub node: &'a str,
    /// `alert` (raised) or `escalation` (an operator escalated it: `action`).
    pub event: DeliveryEvent,
    /// Same on every retry of this delivery: receivers drop repeats by it
    /// (`<node>:<alert id>`, `<node>:<alert id>:escalation:<action id>`).
    pub idempotency_key: String,
    /// The alert (as it is now, for an escalation).
    pub alert: &'a Alert,
    /// The escalation: who, when, their comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'a ActionRecord>,
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
        let cursor = cursor_of(state, &name, raqib_events::EventStore::alerts_cursor);
        let escalations = hook.escalations.then(|| escalation_cursor_of(state, &name));
        runtime.spawn(run(state.clone(), name, cursor, escalations, sink, hook.max_backoff()));
    }
    if let Some(cfg) = &state.config.mqtt {
        let sink = mqtt::Mqtt::start(cfg, &state.node_name)?;
        let cursor = cursor_of(state, "mqtt", raqib_events::EventStore::alerts_cursor);
        let escalations = cfg.escalations.then(|| escalation_cursor_of(state, "mqtt"));
        let max_backoff = Duration::from_secs(cfg.max_backoff_s.max(1));
        runtime.spawn(run(state.clone(), "mqtt".into(), cursor, escalations, sink, max_backoff));
    }
    Ok(())
}

/// Wait before retry number `failures` (1, 2, …): 0.5 s doubling, capped.
pub(crate) fn backoff(failures: u32, max: Duration) -> Duration {
    Duration::from_millis(500).saturating_mul(1 << failures.saturating_sub(1).min(16)).min(max)
}

/// The stored cursor named `name`; a new one starts at `present` (the sink does not replay
/// history) and is stored.
fn cursor_of(
    state: &AppState,
    name: &str,
    present: impl Fn(&raqib_events::EventStore) -> raqib_events::Result<Cursor>,
) -> Cursor {
    let mut events = state.events();
    match events.sink_cursor(name) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let c = present(&events).unwrap_or_default();
            if let Err(e) = events.set_sink_cursor(name, c) {
                tracing::error!(sink = name, error = %e, "cannot store the sink's cursor");
            }
            c
        }
        Err(e) => {
            tracing::error!(sink = name, error = %e, "cannot read the sink's cursor; starting at the present");
            present(&events).unwrap_or_default()
        }
    }
}

/// The name under which sink `name` keeps its escalations' cursor (the last action looked at,
/// as the plate part of a [`Cursor`]).
fn escalations_key(name: &str) -> String {
    format!("{name}#escalations")
}

/// The escalations' cursor of sink `name` ([`escalations_key`]); a new one starts at the present.
fn escalation_cursor_of(state: &AppState, name: &str) -> i64 {
    cursor_of(state, &escalations_key(name), |e| Ok(Cursor { plate: e.actions_cursor()?, face: 0 })).plate
}

/// Stores cursor `cursor` under `key`, off the async workers; a failure is logged (the sink
/// goes on: at worst it delivers again after a restart, with the same idempotency keys).
async fn store_cursor(state: &Arc<AppState>, key: String, cursor: Cursor) {
    let name = key.clone();
    let stored = state.events_off_workers(move |events| events.set_sink_cursor(&key, cursor)).await;
    if let Err(e) = stored {
        tracing::error!(sink = %name, error = %e, "cannot store the sink's cursor");
    }
}

/// Delivers one item, retrying with backoff until the receiver accepts or refuses it for good.
async fn deliver<D: Deliver>(state: &AppState, name: &str, sink: &mut D, d: &Delivery<'_>, max_backoff: Duration) {
    let mut failures = 0u32;
    loop {
        match sink.deliver(d).await {
            Ok(()) => {
                state.metrics.sink_delivered(name);
                return;
            }
            Err(Failure::Reject(why)) => {
                state.metrics.sink_failed(name);
                tracing::error!(sink = %name, key = %d.idempotency_key, why, "receiver rejected the delivery; skipped");
                return;
            }
            Err(Failure::Retry(why)) => {
                failures += 1;
                state.metrics.sink_failed(name);
                let wait = backoff(failures, max_backoff);
                tracing::warn!(sink = %name, key = %d.idempotency_key, why, retry_in_ms = wait.as_millis() as u64, "delivery failed");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Forwards the escalations recorded after `*after` (at most 50 actions looked at); moves and
/// stores the cursor. Whether there were actions to look at.
async fn forward_escalations<D: Deliver>(
    state: &Arc<AppState>,
    name: &str,
    after: &mut i64,
    sink: &mut D,
    max_backoff: Duration,
) -> bool {
    let from = *after;
    let found =
        state.events_off_workers(move |events| events.escalations_after(from, 50, Visibility::Lists(&[]))).await;
    let (last, batch) = match found {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(sink = %name, error = %e, "cannot read escalations");
            return false;
        }
    };
    for esc in &batch {
        let delivery = Delivery {
            node: &state.node_name,
            event: DeliveryEvent::Escalation,
            idempotency_key: format!("{}:{}:escalation:{}", state.node_name, esc.alert.id, esc.action_id),
            alert: &esc.alert,
            action: Some(&esc.action),
        };
        deliver(state, name, sink, &delivery, max_backoff).await;
        store_cursor(state, escalations_key(name), Cursor { plate: esc.action_id, face: 0 }).await;
    }
    if last != from {
        *after = last;
        store_cursor(state, escalations_key(name), Cursor { plate: last, face: 0 }).await;
    }
    last != from
}

/// The delivery loop of one sink.
async fn run<D: Deliver>(
    state: Arc<AppState>,
    name: String,
    mut cursor: Cursor,
    mut escalations: Option<i64>,
    mut sink: D,
    max_backoff: Duration,
) {
    let mut wake = state.alerts.subscribe();
    tracing::info!(sink = %name, from = %cursor, escalations = escalations.is_some(), "sink started");
    loop {
        // Store access off the async workers, like the API's.
        let batch = match state
            .events_off_workers(move |events| {
                // Covert alerts are never forwarded: only users given their list see them.
                events.alerts_after_visible(cursor, 50, Visibility::Lists(&[]))
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
                event: DeliveryEvent::Alert,
                idempotency_key: format!("{}:{}", state.node_name, alert.id),
                alert,
                action: None,
            };
            deliver(&state, &name, &mut sink, &delivery, max_backoff).await;
            cursor.advance(alert.id);
            store_cursor(&state, name.clone(), cursor).await;
            state.metrics.sink_pending(&name, batch.len() - i - 1);
        }
        // Escalations after the alerts: an alert is forwarded before its escalation.
        let mut busy = !batch.is_empty();
        if batch.is_empty()
            && let Some(after) = escalations.as_mut()
        {
            busy = forward_escalations(&state, &name, after, &mut sink, max_backoff).await;
        }
        if !busy {
            // New alerts wake us at once; the timeout also picks up alerts written by others
            // and escalations.
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
