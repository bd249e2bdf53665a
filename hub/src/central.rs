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
}

/// A connected hub.
pub struct Hub {
    js: jetstream::Context,
    db: Db,
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
pub(crate) async fn connect_nats(url: &str, user: &str, password: &str) -> Result<async_nats::Client> {
    async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password.to_owned())
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
        let client = connect_nats(&cfg.nats_url, &cfg.nats_user, &cfg.nats_password).await?;
        let js = jetstream::new(client);
        for (name, subjects) in [
            (NODES_STREAM, vec!["raqib.node.>".to_owned()]),
            (WATCHLIST_STREAM, vec![WATCHLIST_CRITICAL.to_owned(), WATCHLIST_ROUTINE.to_owned()]),
        ] {
            js.get_or_create_stream(stream::Config {
                name: name.to_owned(),
                subjects,
                storage: stream::StorageType::File,
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .map_err(Error::nats)?;
        }
        let db = Db { conninfo: cfg.postgres.clone(), client: Mutex::new(None) };
        db.get().await?;
        Ok(Hub { js, db })
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
        while !stop.load(Ordering::Relaxed) {
            let batch = consumer.fetch().max_messages(500).expires(Duration::from_millis(200)).messages().await;
            let mut batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "hub: cannot fetch from NATS; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            while let Some(msg) = batch.next().await {
                let Ok(msg) = msg else { break };
                match self.store(&msg.subject, &msg.payload).await {
                    Ok(()) => {
                        let _ = msg.ack().await;
                    }
                    Err(Error::Message { subject, message }) => {
                        // A message that will never parse is dropped (and logged), not retried.
                        tracing::error!(%subject, %message, "hub: unreadable message dropped");
                        let _ = msg.ack_with(AckKind::Term).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "hub: cannot store; redelivery in 1 s");
                        let _ = msg.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                    }
                }
            }
        }
        Ok(())
    }

    async fn store(&self, subject: &str, payload: &[u8]) -> Result<()> {
        let bad = |m: String| Error::Message { subject: subject.to_owned(), message: m };
        // raqib.node.<node>.<what>: the subject names the node (NATS lets a node publish on its
        // own subjects only), whatever the message says.
        let mut parts = subject.split('.');
        let (Some("raqib"), Some("node"), Some(node), Some(what)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not raqib.node.<node>.<what>".into()));
        };
        let db = self.db.get().await?;
        match what {
            "alert" => {
                let m: AlertMsg = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
                pg::insert_hit(&db, node, &m.alert).await?;
            }
            "read" => {
                let m: ReadMsg = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
                pg::insert_read(&db, node, &m.read).await?;
            }
            "applied" => {
                let mut m: Applied = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
                node.clone_into(&mut m.node);
                pg::record_applied(&db, &m).await?;
            }
            other => return Err(bad(format!("unknown kind `{other}`"))),
        }
        Ok(())
    }

    /// Adds or changes a national plate entry and publishes it to every node (critical ones on
    /// the subject nodes drain first).
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

    /// Hits stored per node.
    pub async fn hit_counts(&self) -> Result<Vec<(String, i64)>> {
        pg::hit_counts(&*self.db.get().await?).await
    }

    /// The latest alerts of every node.
    pub async fn recent_hits(&self, limit: i64) -> Result<Vec<serde_json::Value>> {
        pg::recent_hits(&*self.db.get().await?, limit).await
    }
}
