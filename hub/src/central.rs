//! The hub: follows every node's messages on JetStream into PostgreSQL and publishes the
//! national watchlist's changes. A message is acknowledged only once PostgreSQL holds it, so a
//! hub (or a PostgreSQL) that is down loses nothing: JetStream keeps and redelivers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull, context::Publish, stream};
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use crate::error::{Error, Result};
use crate::nats_config::inbox_prefix;
use crate::pg;
use crate::subjects::{
    AlertMsg, Applied, Change, NODES_STREAM, ReadMsg, WATCHLIST_CRITICAL, WATCHLIST_ROUTINE, WATCHLIST_STREAM,
};

/// How to reach NATS and PostgreSQL. Credentials come from the environment or files, never
/// from `raqib.toml`.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// `nats://host:4222` (or `tls://…`).
    pub nats_url: String,
    /// NATS user (`hub`).
    pub nats_user: String,
    /// Its password.
    pub nats_password: String,
    /// PostgreSQL connection string (`host=… user=… password=… dbname=…`).
    pub postgres: String,
    /// CA certificate (PEM) that signed the NATS server's, for `tls://` with a private CA.
    pub nats_ca_file: Option<std::path::PathBuf>,
    /// Copies JetStream keeps of each stream: 1 on a single server, 3 on a cluster of three
    /// (a stream then survives the loss of one server). Applies when the streams are created.
    pub replicas: usize,
}

/// One node message, parsed.
enum Row {
    Alert(String, serde_json::Value),
    Read(String, serde_json::Value),
    Applied(Applied),
    Health(String, serde_json::Value),
    Action(String, crate::subjects::ActionMsg),
}

/// Parses a node message; the subject (`raqib.node.<node>.<what>`, which NATS lets a node use
/// for its own id only) names the node, whatever the body says.
fn parse(subject: &str, payload: &[u8]) -> Result<Row> {
    let bad = |m: String| Error::Message { subject: subject.to_owned(), message: m };
    let mut parts = subject.split('.');
    let (Some("raqib"), Some("node"), Some(node), Some(what)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not raqib.node.<node>.<what>".into()));
    };
    Ok(match what {
        "alert" => Row::Alert(
            node.to_owned(),
            serde_json::from_slice::<AlertMsg>(payload).map_err(|e| bad(e.to_string()))?.alert,
        ),
        "read" => {
            Row::Read(node.to_owned(), serde_json::from_slice::<ReadMsg>(payload).map_err(|e| bad(e.to_string()))?.read)
        }
        "action" => {
            let mut m: crate::subjects::ActionMsg = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
            node.clone_into(&mut m.node);
            Row::Action(node.to_owned(), m)
        }
        "health" => Row::Health(node.to_owned(), serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?),
        "applied" => {
            let mut m: Applied = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
            node.clone_into(&mut m.node);
            Row::Applied(m)
        }
        other => return Err(bad(format!("unknown kind `{other}`"))),
    })
}

/// How far back the hub's retro-hits look, and with what fuzzy distance (the nodes'
/// `[analysis] plate_max_distance` and `[retention] reads_days` by default).
#[derive(Debug, Clone, Copy)]
pub struct Retro {
    /// Reads stored at the hub within this many days are checked.
    pub reads_days: u32,
    /// Weighted edit distance of a fuzzy match (0: exact only).
    pub max_distance: f32,
}

impl Default for Retro {
    fn default() -> Self {
        Retro { reads_days: 30, max_distance: 1.0 }
    }
}

/// A connected hub.
pub struct Hub {
    js: jetstream::Context,
    db: Db,
    /// What a new entry is checked against.
    pub retro: Retro,
    /// Bumped after every stored batch that held alerts: live streams wait on it.
    alerts: tokio::sync::watch::Sender<u64>,
}

/// A PostgreSQL client that reconnects after PostgreSQL restarts.
struct Db {
    conninfo: String,
    client: Mutex<Option<Arc<Client>>>,
}

impl Db {
    async fn get(&self) -> Result<Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let (client, conn) = tokio_postgres::connect(&self.conninfo, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "hub: PostgreSQL connection ended");
            }
        });
        pg::migrate(&client).await?;
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }
}

/// Connects to NATS as `user` with its own inbox prefix (retrying until the server answers).
/// A `tls://` URL requires TLS, verified against the system's roots or `ca_file`.
pub(crate) async fn connect_nats(
    url: &str,
    user: &str,
    password: &str,
    ca_file: Option<&std::path::Path>,
) -> Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password.to_owned())
        .require_tls(url.starts_with("tls://"));
    if let Some(ca) = ca_file {
        options = options.add_root_certificates(ca.to_path_buf());
    }
    options
        .custom_inbox_prefix(inbox_prefix(user))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .name(format!("raqib {user}"))
        .connect(url)
        .await
        .map_err(Error::nats)
}

impl Hub {
    /// Connects, creates the tables and the two streams (idempotent).
    pub async fn connect(cfg: &HubConfig) -> Result<Hub> {
        let client =
            connect_nats(&cfg.nats_url, &cfg.nats_user, &cfg.nats_password, cfg.nats_ca_file.as_deref()).await?;
        let js = jetstream::new(client);
        for (name, subjects) in [
            (NODES_STREAM, vec!["raqib.node.>".to_owned()]),
            (WATCHLIST_STREAM, vec![WATCHLIST_CRITICAL.to_owned(), WATCHLIST_ROUTINE.to_owned()]),
        ] {
            js.get_or_create_stream(stream::Config {
                name: name.to_owned(),
                subjects,
                storage: stream::StorageType::File,
                // Node messages leave the stream once the hub has stored them; watchlist
                // changes stay (a node offline for days catches up), both within 30 days.
                retention: if name == NODES_STREAM {
                    stream::RetentionPolicy::WorkQueue
                } else {
                    stream::RetentionPolicy::Limits
                },
                max_age: Duration::from_secs(30 * 86_400),
                num_replicas: cfg.replicas.max(1),
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .map_err(Error::nats)?;
        }
        let db = Db { conninfo: cfg.postgres.clone(), client: Mutex::new(None) };
        db.get().await?;
        Ok(Hub { js, db, retro: Retro::default(), alerts: tokio::sync::watch::channel(0).0 })
    }

    /// Stores every node message into PostgreSQL until `stop`; each is acknowledged once
    /// stored, or handed back for redelivery in a second when PostgreSQL fails.
    pub async fn ingest(&self, stop: Arc<AtomicBool>) -> Result<()> {
        let consumer = self
            .js
            .get_stream(NODES_STREAM)
            .await
            .map_err(Error::nats)?
            .get_or_create_consumer(
                "hub",
                pull::Config {
                    durable_name: Some("hub".into()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(10),
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(Error::nats)?;
        // A connection of its own: its transactions never take in another caller's statements.
        let db = Db { conninfo: self.db.conninfo.clone(), client: Mutex::new(None) };
        while !stop.load(Ordering::Relaxed) {
            let messages = match consumer.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "hub: cannot follow NATS; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            // Whatever has arrived is stored together (one transaction), so a burst costs one
            // commit, and a lone alert is stored at once.
            let mut chunks = messages.ready_chunks(1000);
            loop {
                let next = tokio::time::timeout(Duration::from_millis(250), chunks.next()).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let chunk = match next {
                    Err(_) => continue, // idle
                    Ok(None) => break,  // the subscription ended (NATS restarted): follow again
                    Ok(Some(chunk)) => chunk,
                };
                let msgs: Vec<_> = chunk.into_iter().filter_map(std::result::Result::ok).collect();
                if store_batch(&db, msgs).await {
                    self.alerts.send_modify(|n| *n += 1);
                }
            }
        }
        Ok(())
    }
}

/// Stores a batch in one transaction and acknowledges it; on a PostgreSQL failure every
/// message is handed back for redelivery in a second. Unreadable messages are dropped.
/// Returns whether alerts were stored.
async fn store_batch(db: &Db, msgs: Vec<jetstream::Message>) -> bool {
    let mut rows = Vec::with_capacity(msgs.len());
    let mut keep = Vec::with_capacity(msgs.len());
    for m in msgs {
        match parse(&m.subject, &m.payload) {
            Ok(row) => {
                rows.push(row);
                keep.push(m);
            }
            Err(e) => {
                tracing::error!(error = %e, "hub: unreadable message dropped");
                let _ = m.ack_with(AckKind::Term).await;
            }
        }
    }
    if rows.is_empty() {
        return false;
    }
    match write(db, &rows).await {
        Ok(()) => {
            futures_util::future::join_all(keep.iter().map(|m| m.ack())).await;
            rows.iter().any(|r| matches!(r, Row::Alert(..) | Row::Action(..)))
        }
        Err(e) => {
            tracing::warn!(error = %e, messages = keep.len(), "hub: cannot store; redelivery in 1 s");
            futures_util::future::join_all(keep.iter().map(|m| m.ack_with(AckKind::Nak(Some(Duration::from_secs(1))))))
                .await;
            false
        }
    }
}

async fn write(db: &Db, rows: &[Row]) -> Result<()> {
    let client = db.get().await?;
    client.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({});", pg::HITS_WRITE_LOCK)).await?;
    let result = async {
        // Alerts and reads: one statement each for the whole batch.
        let alerts: Vec<(&str, &serde_json::Value)> =
            rows.iter().filter_map(|r| if let Row::Alert(n, a) = r { Some((n.as_str(), a)) } else { None }).collect();
        let reads: Vec<(&str, &serde_json::Value)> =
            rows.iter().filter_map(|r| if let Row::Read(n, x) = r { Some((n.as_str(), x)) } else { None }).collect();
        pg::insert_hits(&client, &alerts).await?;
        pg::insert_reads(&client, &reads).await?;
        for r in rows {
            match r {
                Row::Applied(a) => pg::record_applied(&client, a).await?,
                Row::Health(node, h) => pg::record_health(&client, node, h).await?,
                Row::Action(node, a) => pg::record_action(&client, node, a).await?,
                Row::Alert(..) | Row::Read(..) => {}
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    match result {
        Ok(()) => client.batch_execute("COMMIT").await.map_err(Error::from),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

impl Hub {
    /// Adds or changes a national plate entry and publishes it to every node (critical ones on
    /// the subject nodes drain first), then raises retro alerts at the hub for the reads it
    /// already holds (see [`Hub::retro`]).
    pub async fn put_entry(&self, entry: &raqib_watchlist::NewPlateEntry, critical: bool) -> Result<Change> {
        let plate = raqib_core::PlateText::parse(&entry.plate, entry.country.as_deref())
            .map_err(|e| Error::Config { key: "plate", message: e.to_string() })?;
        let body = serde_json::to_value(entry).map_err(|e| Error::Config { key: "entry", message: e.to_string() })?;
        let priority = entry.priority.clone().unwrap_or_default();
        let db = self.db.get().await?;
        let (entry_id, version) =
            pg::upsert_entry(&db, plate.canonical(), entry.category.trim(), &priority, &body).await?;
        let change = Change {
            entry_id,
            version,
            entry: Some(entry.clone()),
            plate: plate.canonical().to_owned(),
            category: entry.category.trim().to_owned(),
        };
        self.publish(&change, critical).await?;
        // In a transaction of its own, under the hits' write lock (see `pg::HITS_WRITE_LOCK`).
        let (own, conn) = tokio_postgres::connect(&self.db.conninfo, NoTls).await?;
        tokio::spawn(conn);
        own.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({});", pg::HITS_WRITE_LOCK)).await?;
        let raised = pg::retro_hits(
            &own,
            entry_id,
            &plate,
            entry.category.trim(),
            &priority,
            self.retro.max_distance,
            chrono::Utc::now() - chrono::Duration::days(i64::from(self.retro.reads_days)),
        )
        .await;
        let raised = match raised {
            Ok(n) => {
                own.batch_execute("COMMIT").await?;
                n
            }
            Err(e) => {
                let _ = own.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        };
        if raised > 0 {
            tracing::info!(entry = entry_id, raised, "hub: retro alerts from stored reads");
            self.alerts.send_modify(|n| *n += 1);
        }
        Ok(change)
    }

    /// Removes a national entry from every node.
    pub async fn remove_entry(&self, id: i64) -> Result<Option<Change>> {
        let db = self.db.get().await?;
        let Some((entry_id, version, plate, category)) = pg::remove_entry(&db, id).await? else { return Ok(None) };
        let change = Change { entry_id, version, entry: None, plate, category };
        self.publish(&change, false).await?;
        Ok(Some(change))
    }

    async fn publish(&self, change: &Change, critical: bool) -> Result<()> {
        let subject = if critical { WATCHLIST_CRITICAL } else { WATCHLIST_ROUTINE };
        let payload = serde_json::to_vec(change).map_err(|e| Error::Config { key: "entry", message: e.to_string() })?;
        self.js
            .send_publish(
                subject,
                Publish::build()
                    .payload(payload.into())
                    .message_id(format!("entry:{}:{}", change.entry_id, change.version)),
            )
            .await
            .map_err(Error::nats)?
            .await
            .map_err(Error::nats)?;
        Ok(())
    }

    /// Every national entry and how many nodes applied its current version.
    pub async fn entries(&self) -> Result<Vec<pg::EntryStatus>> {
        pg::entry_status(&*self.db.get().await?).await
    }

    /// Deletes the reads seen more than `days` ago (the nodes' `retention.reads_days`): data
    /// on people who are not on a watchlist does not pile up at the hub either.
    pub async fn purge_reads(&self, days: u32) -> Result<u64> {
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        pg::purge_reads(&*self.db.get().await?, before).await
    }

    /// Reads stored at the hub.
    pub async fn read_count(&self) -> Result<i64> {
        pg::read_count(&*self.db.get().await?).await
    }

    /// Hits stored per node.
    pub async fn hit_counts(&self) -> Result<Vec<(String, i64)>> {
        pg::hit_counts(&*self.db.get().await?).await
    }

    /// The latest alerts of every node.
    pub async fn recent_hits(&self, limit: i64) -> Result<Vec<serde_json::Value>> {
        pg::hits(&*self.db.get().await?, &pg::HitFilter { limit, ..Default::default() }).await
    }

    /// The PostgreSQL client (reconnected after a restart of PostgreSQL).
    pub async fn db(&self) -> Result<Arc<Client>> {
        self.db.get().await
    }

    /// Wakes on every stored batch of alerts (live streams).
    pub fn alert_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.alerts.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_a_node_publishes_is_parsed_and_the_subject_names_the_node() {
        let alert = br#"{"node":"other","alert":{"id":"p1"}}"#;
        assert!(matches!(parse("raqib.node.n1.alert", alert), Ok(Row::Alert(n, _)) if n == "n1"));
        let read = br#"{"node":"n1","read":{"id":4}}"#;
        assert!(matches!(parse("raqib.node.n1.read", read), Ok(Row::Read(..))));
        let action = br#"{"node":"other","id":3,"alert":"p1","state":"confirmed","action":{}}"#;
        assert!(matches!(parse("raqib.node.n1.action", action), Ok(Row::Action(n, m)) if n == "n1" && m.node == "n1"));
        let applied = br#"{"node":"other","entry_id":1,"version":2,"applied_at":"2026-12-06T10:00:00Z"}"#;
        assert!(matches!(parse("raqib.node.n1.applied", applied), Ok(Row::Applied(a)) if a.node == "n1"));
        assert!(matches!(parse("raqib.node.n1.health", br#"{"at":"x"}"#), Ok(Row::Health(..))));
        assert!(parse("raqib.node.n1.bogus", b"{}").is_err());
        assert!(parse("raqib.node.n1.alert", b"not json").is_err());
        assert!(parse("other.subject", b"{}").is_err());
    }
}
