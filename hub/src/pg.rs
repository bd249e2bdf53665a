//! The hub's PostgreSQL store: what every node sent (alerts, reads, applied watchlist changes)
//! and the national watchlist. Unique keys (node, alert id), (node, read id), (entry, node) make
//! a message received twice change nothing: publishing is at least once, the effect exactly once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::Result;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS nodes (node TEXT PRIMARY KEY, last_seen TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS hits (
    node TEXT NOT NULL, alert_id TEXT NOT NULL, camera TEXT NOT NULL, raised_at TIMESTAMPTZ NOT NULL,
    category TEXT NOT NULL, priority TEXT NOT NULL, subject TEXT NOT NULL, retro BOOLEAN NOT NULL,
    body JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (node, alert_id));
CREATE INDEX IF NOT EXISTS hits_received ON hits (received_at);
CREATE TABLE IF NOT EXISTS reads (
    node TEXT NOT NULL, read_id BIGINT NOT NULL, camera TEXT NOT NULL, seen_at TIMESTAMPTZ NOT NULL,
    plate TEXT NOT NULL, plate_key TEXT NOT NULL, body JSONB NOT NULL,
    PRIMARY KEY (node, read_id));
CREATE INDEX IF NOT EXISTS reads_key ON reads (plate_key, seen_at);
CREATE TABLE IF NOT EXISTS entries (
    id BIGSERIAL PRIMARY KEY, plate TEXT NOT NULL, category TEXT NOT NULL, priority TEXT NOT NULL,
    body JSONB, version BIGINT NOT NULL, changed_at TIMESTAMPTZ NOT NULL, removed BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (plate, category));
CREATE TABLE IF NOT EXISTS applied (
    entry_id BIGINT NOT NULL, node TEXT NOT NULL, version BIGINT NOT NULL, applied_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entry_id, node));
";

/// Creates the tables (idempotent). Under an advisory lock: `CREATE TABLE IF NOT EXISTS` run by
/// two processes at once (the hub and a `raqib hub` command) can otherwise fail.
pub async fn migrate(db: &Client) -> Result<()> {
    db.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock(7261716962); {SCHEMA} COMMIT;")).await?;
    Ok(())
}

/// Stores one alert; `false` when it was already stored (a duplicate).
pub async fn insert_hit(db: &Client, node: &str, a: &serde_json::Value) -> Result<bool> {
    let s = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let raised: DateTime<Utc> = s("raised_at").parse().unwrap_or_else(|_| Utc::now());
    let n = db
        .execute(
            "INSERT INTO hits (node, alert_id, camera, raised_at, category, priority, subject, retro, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                &node,
                &s("id"),
                &s("camera"),
                &raised,
                &s("category"),
                &s("priority"),
                &s("subject"),
                &a.get("retro").and_then(serde_json::Value::as_bool).unwrap_or(false),
                a,
            ],
        )
        .await?;
    seen(db, node).await?;
    Ok(n == 1)
}

/// Stores one read; `false` when it was already stored.
pub async fn insert_read(db: &Client, node: &str, r: &serde_json::Value) -> Result<bool> {
    let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let seen_at: DateTime<Utc> = s("seen_at").parse().unwrap_or_else(|_| Utc::now());
    let id = r.get("id").and_then(serde_json::Value::as_i64).unwrap_or_default();
    let n = db
        .execute(
            "INSERT INTO reads (node, read_id, camera, seen_at, plate, plate_key, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[&node, &id, &s("source"), &seen_at, &s("plate"), &s("key"), r],
        )
        .await?;
    seen(db, node).await?;
    Ok(n == 1)
}

async fn seen(db: &Client, node: &str) -> Result<()> {
    db.execute(
        "INSERT INTO nodes (node, last_seen) VALUES ($1, now()) ON CONFLICT (node) DO UPDATE SET last_seen = now()",
        &[&node],
    )
    .await?;
    Ok(())
}

/// Records that `node` applied `version` of entry `entry_id` (a later version replaces it).
pub async fn record_applied(db: &Client, a: &crate::subjects::Applied) -> Result<()> {
    db.execute(
        "INSERT INTO applied (entry_id, node, version, applied_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (entry_id, node) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at
         WHERE applied.version < excluded.version",
        &[&a.entry_id, &a.node, &a.version, &a.applied_at],
    )
    .await?;
    seen(db, &a.node).await?;
    Ok(())
}

/// Adds or changes a national entry (same plate and category: a change); returns (id, version).
pub async fn upsert_entry(
    db: &Client,
    plate: &str,
    category: &str,
    priority: &str,
    body: &serde_json::Value,
) -> Result<(i64, i64)> {
    let row = db
        .query_one(
            "INSERT INTO entries (plate, category, priority, body, version, changed_at) VALUES ($1, $2, $3, $4, 1, now())
             ON CONFLICT (plate, category) DO UPDATE SET priority = excluded.priority, body = excluded.body,
               version = entries.version + 1, changed_at = now(), removed = false
             RETURNING id, version",
            &[&plate, &category, &priority, body],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Marks a national entry removed; returns (id, version, plate, category), or `None`.
pub async fn remove_entry(db: &Client, id: i64) -> Result<Option<(i64, i64, String, String)>> {
    let row = db
        .query_opt(
            "UPDATE entries SET removed = true, version = version + 1, changed_at = now() WHERE id = $1 AND NOT removed
             RETURNING id, version, plate, category",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
}

/// One national entry and how far it has reached.
#[derive(Debug, Clone, Serialize)]
pub struct EntryStatus {
    /// Hub id.
    pub id: i64,
    /// Plate.
    pub plate: String,
    /// Category.
    pub category: String,
    /// Current version.
    pub version: i64,
    /// When it last changed.
    pub changed_at: DateTime<Utc>,
    /// Nodes that applied the current version.
    pub nodes_applied: i64,
    /// The last of them, when.
    pub last_applied_at: Option<DateTime<Utc>>,
}

/// Every national entry with the number of nodes that applied its current version.
pub async fn entry_status(db: &Client) -> Result<Vec<EntryStatus>> {
    let rows = db
        .query(
            "SELECT e.id, e.plate, e.category, e.version, e.changed_at,
                    count(a.node), max(a.applied_at)
             FROM entries e LEFT JOIN applied a ON a.entry_id = e.id AND a.version = e.version
             GROUP BY e.id ORDER BY e.id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| EntryStatus {
            id: r.get(0),
            plate: r.get(1),
            category: r.get(2),
            version: r.get(3),
            changed_at: r.get(4),
            nodes_applied: r.get(5),
            last_applied_at: r.get(6),
        })
        .collect())
}

/// Reads stored at the hub.
pub async fn read_count(db: &Client) -> Result<i64> {
    Ok(db.query_one("SELECT count(*) FROM reads", &[]).await?.get(0))
}

/// Hits stored, per node.
pub async fn hit_counts(db: &Client) -> Result<Vec<(String, i64)>> {
    let rows = db.query("SELECT node, count(*) FROM hits GROUP BY node ORDER BY node", &[]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The latest alerts from every node, newest first.
pub async fn recent_hits(db: &Client, limit: i64) -> Result<Vec<serde_json::Value>> {
    let rows = db
        .query(
            "SELECT jsonb_build_object('node', node, 'received_at', received_at) || body FROM hits
             ORDER BY received_at DESC LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Retro-hits at the hub: reads stored since `since` whose key is the entry's, or within
/// `max_distance` weighted edits of it (the live rule, OCR confusions cheaper), become alerts
/// marked retro of that entry (id `retro:<read id>:<entry id>`, once). Returns how many were raised.
pub async fn retro_hits(
    db: &Client,
    entry_id: i64,
    plate: &raqib_core::PlateText,
    category: &str,
    priority: &str,
    max_distance: f32,
    since: DateTime<Utc>,
) -> Result<u64> {
    let keys: Vec<String> = db
        .query("SELECT DISTINCT plate_key FROM reads WHERE seen_at >= $1", &[&since])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let query = raqib_watchlist::FuzzyQuery::from_plate(plate);
    let near: Vec<String> = keys
        .into_iter()
        .filter(|k| {
            k == plate.key()
                || (max_distance > 0.0 && raqib_watchlist::plate_index::explain(&query, k).0 <= max_distance)
        })
        .collect();
    let mut raised = 0;
    for r in db
        .query(
            "SELECT node, read_id, camera, seen_at, plate, body FROM reads WHERE plate_key = ANY($1) AND seen_at >= $2",
            &[&near, &since],
        )
        .await?
    {
        let (node, read_id, camera, seen_at, seen_plate, read): (
            String,
            i64,
            String,
            DateTime<Utc>,
            String,
            serde_json::Value,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        let body = serde_json::json!({
            "id": format!("retro:{read_id}:{entry_id}"), "camera": camera, "raised_at": Utc::now(), "seen_at": seen_at,
            "category": category, "priority": priority, "subject": seen_plate, "entry": plate.canonical(),
            "retro": true, "read": read,
        });
        let n = db
            .execute(
                "INSERT INTO hits (node, alert_id, camera, raised_at, category, priority, subject, retro, body)
                 VALUES ($1, $2, $3, now(), $4, $5, $6, true, $7) ON CONFLICT DO NOTHING",
                &[&node, &format!("retro:{read_id}:{entry_id}"), &camera, &category, &priority, &seen_plate, &body],
            )
            .await?;
        raised += n;
    }
    Ok(raised)
}
