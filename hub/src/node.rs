//! A node's link to the hub (`[hub]` in `raqib.toml`): publishes its alerts (and, if asked, its
//! reads) from the events store with persisted cursors, and keeps its watchlist a replica of the
//! national one. Runs on a thread of its own; when NATS or the hub is down the node goes on
//! alone (matching from its replica, alerting locally) and catches up on reconnection.
//!
//! - **Outbox**: alerts after the cursor `hub` of `events.db` (reads after `hub-reads`) are
//!   published in batches with `Nats-Msg-Id = <node>:alert:<id>`; the cursor moves only after
//!   JetStream acknowledged the batch, so a crash or an outage re-sends (at least once) and
//!   JetStream's duplicate window plus the hub's unique keys keep the effect exactly once.
//!   Covert alerts are never published.
//! - **Actions**: operators' actions on those alerts (acknowledge, escalate, confirm, reject,
//!   overdue) after the cursor `hub-actions`, with the alert's state, so the national console
//!   shows what the node's room decided.
//! - **Health**: every [`HEALTH_EVERY`], the node's `health.json` (cameras, events store, disk)
//!   on `raqib.node.<node>.health`; the hub keeps the latest and shows a node silent for 30 s as
//!   offline.
//! - **Replica**: the node's two durable consumers on the national watchlist stream (critical
//!   first) are applied to `watchlist.db` as entries by `hub` (audited there like any change);
//!   the running node's matcher picks them up within its poll interval. Each application is
//!   acknowledged, then reported (`raqib.node.<node>.applied`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, context::Publish};
use futures_util::StreamExt;
use raqib_events::EventStore;
use raqib_events::alerts::{Cursor, Visibility};
use raqib_watchlist::{Actor, Store};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::subjects::{
    ActionMsg, AlertMsg, Applied, Change, ReadMsg, WATCHLIST_CRITICAL, WATCHLIST_ROUTINE, WATCHLIST_STREAM,
    node_consumers, node_subject, valid_node_id,
};

/// `[hub]`: how this node reaches the national hub. Absent: the node stands alone.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubLinkConfig {
    /// `nats://host:4222` or `tls://host:4222`.
    pub nats_url: String,
    /// This node's id (its NATS user and subject token: letters, digits, `-`, `_`).
    pub node_id: String,
    /// File holding this node's NATS password (never the TOML itself).
    pub password_file: PathBuf,
    /// Also forward plate reads that hit nothing (within what `[retention]` keeps), for
    /// national search; default: alerts only.
    #[serde(default)]
    pub forward_reads: bool,
    /// CA certificate (PEM) of a `tls://` NATS server signed by a private CA (default: the
    /// system's roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl HubLinkConfig {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if !valid_node_id(&self.node_id) {
            return Err(Error::Config {
                key: "node_id",
                message: format!("`{}`: letters, digits, - and _", self.node_id),
            });
        }
        if !(self.nats_url.starts_with("nats://") || self.nats_url.starts_with("tls://")) {
            return Err(Error::Config { key: "nats_url", message: format!("`{}`: nats:// or tls://", self.nats_url) });
        }
        Ok(())
    }

    fn password(&self) -> Result<String> {
        std::fs::read_to_string(&self.password_file).map(|s| s.trim().to_owned()).map_err(|e| Error::Config {
            key: "password_file",
            message: format!("{}: {e}", self.password_file.display()),
        })
    }
}

/// The running link; stops when dropped.
pub struct HubLink {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HubLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the link for the node whose stores are in `data_dir`.
pub fn start(cfg: HubLinkConfig, data_dir: PathBuf) -> Result<HubLink> {
    cfg.validate()?;
    let password = cfg.password()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("raqib-hub-link".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "hub link: no runtime");
                    return;
                }
            };
            rt.block_on(async move {
                while !flag.load(Ordering::Relaxed) {
                    if let Err(e) = run(&cfg, &password, &data_dir, &flag).await {
                        tracing::warn!(error = %e, "hub link failed; retrying in 2 s");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            });
        })
        .map_err(|e| Error::Config { key: "node_id", message: format!("cannot start the hub link: {e}") })?;
    Ok(HubLink { stop, thread: Some(thread) })
}

async fn run(cfg: &HubLinkConfig, password: &str, data_dir: &std::path::Path, stop: &AtomicBool) -> Result<()> {
    let client = crate::central::connect_nats(&cfg.nats_url, &cfg.node_id, password, cfg.ca_file.as_deref()).await?;
    let js = jetstream::new(client);
    let mut events = EventStore::open(&data_dir.join("events.db"))?;
    let mut watchlist = Store::open(&data_dir.join("watchlist.db"))?;
    let stream = js.get_stream(WATCHLIST_STREAM).await.map_err(Error::nats)?;
    let [critical_name, routine_name] = node_consumers(&cfg.node_id);
    let mut consumers = Vec::new();
    for (name, subject) in [(critical_name, WATCHLIST_CRITICAL), (routine_name, WATCHLIST_ROUTINE)] {
        consumers.push(
            stream
                .get_or_create_consumer(
                    &name,
                    pull::Config {
                        durable_name: Some(name.clone()),
                        filter_subject: subject.to_owned(),
                        ack_policy: jetstream::consumer::AckPolicy::Explicit,
                        ..Default::default()
                    },
                )
                .await
                .map_err(Error::nats)?,
        );
    }
    tracing::info!(node = %cfg.node_id, url = %cfg.nats_url, "hub link up");
    let mut last_health: Option<std::time::Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if last_health.is_none_or(|t| t.elapsed() >= HEALTH_EVERY) {
            publish_health(&js, cfg, data_dir).await?;
            last_health = Some(std::time::Instant::now());
        }
        let mut busy = publish_outbox(&js, cfg, &mut events).await?;
        // Critical changes first: the routine consumer is read only when none is waiting.
        for consumer in &consumers {
            let applied = apply_changes(&js, cfg, consumer, &mut watchlist).await?;
            busy |= applied > 0;
            if applied > 0 {
                break;
            }
        }
        if !busy {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// How often a node reports its health to the hub.
pub const HEALTH_EVERY: Duration = Duration::from_secs(10);

/// Publishes the node's health: `<data_dir>/health.json` as `raqib run` last wrote it (cameras,
/// events store, disk), or, without one, only that the link is up.
async fn publish_health(js: &jetstream::Context, cfg: &HubLinkConfig, data_dir: &std::path::Path) -> Result<()> {
    let now = chrono::Utc::now();
    let mut health = std::fs::read(data_dir.join("health.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({ "at": now, "cameras": [] }));
    health["link_at"] = serde_json::json!(now);
    let id = format!("{}:health:{}", cfg.node_id, now.timestamp_millis());
    send(js, node_subject(&cfg.node_id, "health"), id, serde_json::to_vec(&health).unwrap_or_default()).await
}

async fn send(js: &jetstream::Context, subject: String, id: String, payload: Vec<u8>) -> Result<()> {
    send_all(js, vec![(subject, id, payload)]).await
}

/// Publishes messages back to back, then waits for every acknowledgement (one round trip for
/// the lot instead of one each); fails if any was not acknowledged.
async fn send_all(js: &jetstream::Context, messages: Vec<(String, String, Vec<u8>)>) -> Result<()> {
    let mut acks = Vec::with_capacity(messages.len());
    for (subject, id, payload) in messages {
        acks.push(
            js.send_publish(subject, Publish::build().payload(payload.into()).message_id(id))
                .await
                .map_err(Error::nats)?,
        );
    }
    for ack in acks {
        ack.await.map_err(Error::nats)?;
    }
    Ok(())
}

/// Publishes what is after the cursors, up to [`OUTBOX_BATCH`] of each; returns whether
/// anything was sent. The cursor moves once the whole batch is acknowledged: a failure re-sends
/// it (JetStream drops what it already has, by message id).
async fn publish_outbox(js: &jetstream::Context, cfg: &HubLinkConfig, events: &mut EventStore) -> Result<bool> {
    let node = &cfg.node_id;
    let mut cursor = events.sink_cursor("hub")?.unwrap_or_default();
    let alerts = events.alerts_after_visible(cursor, OUTBOX_BATCH, Visibility::Lists(&[]))?;
    let messages = alerts
        .iter()
        .map(|a| {
            let body = AlertMsg { node: node.clone(), alert: serde_json::to_value(a).unwrap_or_default() };
            (
                node_subject(node, "alert"),
                format!("{node}:alert:{}", a.id),
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        })
        .collect();
    send_all(js, messages).await?;
    for a in &alerts {
        cursor.advance(a.id);
    }
    if !alerts.is_empty() {
        events.set_sink_cursor("hub", cursor)?;
    }
    let mut sent = !alerts.is_empty();
    sent |= publish_actions(js, node, events).await?;
    if cfg.forward_reads {
        let after = events.sink_cursor("hub-reads")?.unwrap_or_default().plate;
        let reads = events.reads_after(after, OUTBOX_BATCH)?;
        let messages = reads
            .iter()
            .map(|r| {
                let body = ReadMsg { node: node.clone(), read: serde_json::to_value(r).unwrap_or_default() };
                (
                    node_subject(node, "read"),
                    format!("{node}:read:{}", r.id),
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
            })
            .collect();
        send_all(js, messages).await?;
        if let Some(last) = reads.last() {
            events.set_sink_cursor("hub-reads", Cursor { plate: last.id, face: 0 })?;
        }
        sent |= !reads.is_empty();
    }
    Ok(sent)
}

/// Publishes the operators' actions after the cursor `hub-actions` (covert alerts' excepted);
/// returns whether any was sent.
async fn publish_actions(js: &jetstream::Context, node: &str, events: &mut EventStore) -> Result<bool> {
    let after = events.sink_cursor("hub-actions")?.unwrap_or_default().plate;
    let actions = events.actions_after(after, OUTBOX_BATCH)?;
    let Some(last) = actions.last().map(|a| a.0) else { return Ok(false) };
    let mut messages = Vec::new();
    for (id, alert, action) in actions {
        let Some(current) = events.alert(alert)?.filter(|a| a.covert_list.is_none()) else { continue };
        let body = ActionMsg {
            node: node.to_owned(),
            id,
            alert: alert.to_string(),
            state: current.state,
            action: serde_json::to_value(&action).unwrap_or_default(),
        };
        messages.push((
            node_subject(node, "action"),
            format!("{node}:action:{id}"),
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    send_all(js, messages).await?;
    events.set_sink_cursor("hub-actions", Cursor { plate: last, face: 0 })?;
    Ok(true)
}

/// Alerts (and reads) published per round trip.
pub const OUTBOX_BATCH: usize = 200;

/// Applies the waiting changes of one consumer; returns how many.
async fn apply_changes(
    js: &jetstream::Context,
    cfg: &HubLinkConfig,
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    watchlist: &mut Store,
) -> Result<usize> {
    let mut batch =
        consumer.fetch().max_messages(100).expires(Duration::from_millis(50)).messages().await.map_err(Error::nats)?;
    let mut n = 0;
    while let Some(msg) = batch.next().await {
        let msg = msg.map_err(Error::nats)?;
        let change: Change = match serde_json::from_slice(&msg.payload) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "hub link: unreadable watchlist change dropped");
                let _ = msg.ack_with(jetstream::AckKind::Term).await;
                continue;
            }
        };
        apply(watchlist, &change)?;
        msg.ack().await.map_err(Error::nats)?;
        let applied = Applied {
            node: cfg.node_id.clone(),
            entry_id: change.entry_id,
            version: change.version,
            applied_at: chrono::Utc::now(),
        };
        send(
            js,
            node_subject(&cfg.node_id, "applied"),
            format!("{}:applied:{}:{}", cfg.node_id, change.entry_id, change.version),
            serde_json::to_vec(&applied).unwrap_or_default(),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Applies one national change to the local replica (the same plate and category is one entry).
pub fn apply(watchlist: &mut Store, change: &Change) -> Result<()> {
    let why = format!("national watchlist entry {} v{}", change.entry_id, change.version);
    match &change.entry {
        Some(entry) => {
            if !watchlist.categories()?.contains_key(entry.category.trim()) {
                let priority = entry
                    .priority
                    .as_deref()
                    .and_then(|p| raqib_watchlist::Priority::parse(p).ok())
                    .unwrap_or(raqib_watchlist::Priority::Medium);
                watchlist.upsert_category(
                    entry.category.trim(),
                    priority,
                    "from the national hub",
                    Actor::new("hub", Some(&why)),
                )?;
            }
            watchlist.add_plate(entry, Actor::new("hub", Some(&why)))?;
        }
        None => {
            for e in watchlist.plates()? {
                if e.plate.canonical() == change.plate && e.category == change.category {
                    watchlist.remove_plate(e.id, Actor::new("hub", Some(&why)))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_applied_to_the_replica_and_a_removal_takes_it_out() {
        let mut store = Store::open_in_memory().unwrap();
        let entry = raqib_watchlist::NewPlateEntry {
            plate: "12345-B-6".into(),
            category: "national_bolo".into(),
            priority: Some("low".into()),
            ..Default::default()
        };
        let change = Change {
            entry_id: 4,
            version: 1,
            entry: Some(entry),
            plate: "12345-ب-6".into(),
            category: "national_bolo".into(),
        };
        apply(&mut store, &change).unwrap();
        apply(&mut store, &change).unwrap(); // applied twice: still one entry
        let plates = store.plates().unwrap();
        assert_eq!(plates.len(), 1);
        assert_eq!(plates[0].category, "national_bolo", "an unknown category is created");
        apply(&mut store, &Change { entry: None, version: 2, ..change }).unwrap();
        assert!(store.plates().unwrap().is_empty());
        let audit = store.audit_log(10).unwrap();
        assert!(audit.iter().all(|r| r.actor == "hub"), "{audit:?}");
    }

    #[test]
    fn bad_link_settings_name_their_key() {
        let ok = HubLinkConfig {
            nats_url: "nats://127.0.0.1:4222".into(),
            node_id: "gate-1".into(),
            password_file: "/nonexistent".into(),
            forward_reads: false,
            ca_file: None,
        };
        ok.validate().unwrap();
        let e = HubLinkConfig { node_id: "gate 1".into(), ..ok.clone() }.validate().unwrap_err();
        assert!(e.to_string().contains("hub.node_id"), "{e}");
        let e = HubLinkConfig { nats_url: "http://x".into(), ..ok.clone() }.validate().unwrap_err();
        assert!(e.to_string().contains("hub.nats_url"), "{e}");
        assert!(start(ok, std::env::temp_dir()).is_err(), "a missing password file is refused at start");
    }
}
