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

/// Columns added after the first release of the schema (idempotent too): the live stream's
/// order (`seq`), the plate key of plate hits (search), node health.
const SCHEMA_2: &str = "
ALTER TABLE hits ADD COLUMN IF NOT EXISTS seq BIGSERIAL;
ALTER TABLE hits ADD COLUMN IF NOT EXISTS plate_key TEXT;
CREATE INDEX IF NOT EXISTS hits_seq ON hits (seq);
CREATE INDEX IF NOT EXISTS hits_key ON hits (plate_key);
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS health JSONB;
CREATE TABLE IF NOT EXISTS actions (
    node TEXT NOT NULL, action_id BIGINT NOT NULL, alert_id TEXT NOT NULL, body JSONB NOT NULL,
    PRIMARY KEY (node, action_id));
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS health_at TIMESTAMPTZ;
";

/// Every transaction that writes `hits` (the ingest's batches, retro-hits) holds this advisory
/// lock until it commits, so the order of `seq` (the live stream's order) is the order in which
/// rows become visible: a live stream reading `seq > cursor` never skips a row that a slower
/// transaction committed after a faster one with a higher `seq`.
pub const HITS_WRITE_LOCK: i64 = 7_261_716_963;

/// Creates the tables (idempotent). Under an advisory lock: `CREATE TABLE IF NOT EXISTS` run by
/// two processes at once (the hub and a `raqib hub` command) can otherwise fail.
pub async fn migrate(db: &Client) -> Result<()> {
    db.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock(7261716962); {SCHEMA} {SCHEMA_2} COMMIT;")).await?;
    Ok(())
}

fn text(v: &serde_json::Value, k: &str) -> String {
    v.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

fn time(v: &serde_json::Value, k: &str) -> DateTime<Utc> {
    text(v, k).parse().unwrap_or_else(|_| Utc::now())
}

/// The match key of a plate alert's plate (any spelling of it gives the same key).
fn hit_key(a: &serde_json::Value) -> Option<String> {
    (text(a, "kind") == "plate")
        .then(|| raqib_core::PlateText::parse(&text(a, "subject"), None).ok())
        .flatten()
        .map(|p| p.key().to_owned())
}

/// Stores alerts (node, alert as the node's API shows it) in one statement; a duplicate
/// (same node and alert id) changes nothing. Returns how many were new.
pub async fn insert_hits(db: &Client, alerts: &[(&str, &serde_json::Value)]) -> Result<u64> {
    if alerts.is_empty() {
        return Ok(0);
    }
    let col = |k: &str| alerts.iter().map(|(_, a)| text(a, k)).collect::<Vec<_>>();
    let nodes: Vec<&str> = alerts.iter().map(|(n, _)| *n).collect();
    let raised: Vec<DateTime<Utc>> = alerts.iter().map(|(_, a)| time(a, "raised_at")).collect();
    let retro: Vec<bool> =
        alerts.iter().map(|(_, a)| a.get("retro").and_then(serde_json::Value::as_bool).unwrap_or(false)).collect();
    let keys: Vec<Option<String>> = alerts.iter().map(|(_, a)| hit_key(a)).collect();
    let bodies: Vec<&serde_json::Value> = alerts.iter().map(|(_, a)| *a).collect();
    let n = db
        .execute(
            "INSERT INTO hits (node, alert_id, camera, raised_at, category, priority, subject, retro, plate_key, body)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                                  $7::text[], $8::bool[], $9::text[], $10::jsonb[])
             ON CONFLICT DO NOTHING",
            &[
                &nodes,
                &col("id"),
                &col("camera"),
                &raised,
                &col("category"),
                &col("priority"),
                &col("subject"),
                &retro,
                &keys,
                &bodies,
            ],
        )
        .await?;
    seen(db, &nodes).await?;
    Ok(n)
}

/// Stores plate reads (node, read as the node stores it) in one statement; returns how many
/// were new.
pub async fn insert_reads(db: &Client, reads: &[(&str, &serde_json::Value)]) -> Result<u64> {
    if reads.is_empty() {
        return Ok(0);
    }
    let col = |k: &str| reads.iter().map(|(_, r)| text(r, k)).collect::<Vec<_>>();
    let nodes: Vec<&str> = reads.iter().map(|(n, _)| *n).collect();
    let ids: Vec<i64> =
        reads.iter().map(|(_, r)| r.get("id").and_then(serde_json::Value::as_i64).unwrap_or_default()).collect();
    let seen_at: Vec<DateTime<Utc>> = reads.iter().map(|(_, r)| time(r, "seen_at")).collect();
    let bodies: Vec<&serde_json::Value> = reads.iter().map(|(_, r)| *r).collect();
    let n = db
        .execute(
            "INSERT INTO reads (node, read_id, camera, seen_at, plate, plate_key, body)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[])
             ON CONFLICT DO NOTHING",
            &[&nodes, &ids, &col("source"), &seen_at, &col("plate"), &col("key"), &bodies],
        )
        .await?;
    seen(db, &nodes).await?;
    Ok(n)
}

/// Marks nodes seen now (once per node, whatever the number of its messages).
pub async fn seen(db: &Client, nodes: &[&str]) -> Result<()> {
    let mut distinct: Vec<&str> = nodes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    db.execute(
        "INSERT INTO nodes (node, last_seen) SELECT unnest($1::text[]), now()
         ON CONFLICT (node) DO UPDATE SET last_seen = now()",
        &[&distinct],
    )
    .await?;
    Ok(())
}

/// Stores a node's latest health report (`<data_dir>/health.json` as the node wrote it); an
/// older report than the one held changes nothing.
pub async fn record_health(db: &Client, node: &str, health: &serde_json::Value) -> Result<()> {
    let at = time(health, "at");
    db.execute(
        "INSERT INTO nodes (node, last_seen, health, health_at) VALUES ($1, now(), $2, $3)
         ON CONFLICT (node) DO UPDATE SET last_seen = now(),
           health = CASE WHEN nodes.health_at IS NULL OR nodes.health_at <= excluded.health_at THEN excluded.health ELSE nodes.health END,
           health_at = GREATEST(nodes.health_at, excluded.health_at)",
        &[&node, health, &at],
    )
    .await?;
    Ok(())
}

/// Records an operator's action on a node's alert, once: the alert takes the state it had
/// when the action was sent and the action joins its `actions`, and it moves to the end of the
/// live stream's order (consoles receive it again, updated). An action whose alert has not
/// arrived yet is kept; the alert, sent later, already carries its state.
pub async fn record_action(db: &Client, node: &str, a: &crate::subjects::ActionMsg) -> Result<()> {
    let new = db
        .execute(
            "INSERT INTO actions (node, action_id, alert_id, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&node, &a.id, &a.alert, &a.action],
        )
        .await?;
    if new == 1 {
        db.execute(
            "UPDATE hits SET body = jsonb_set(jsonb_set(body, '{state}', to_jsonb($3::text)), '{actions}',
                    coalesce(body->'actions', '[]'::jsonb) || jsonb_build_array($4::jsonb)),
                 seq = nextval(pg_get_serial_sequence('hits', 'seq'))
             WHERE node = $1 AND alert_id = $2",
            &[&node, &a.alert, &a.state, &a.action],
        )
        .await?;
    }
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
    seen(db, &[&a.node]).await?;
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

/// Deletes the reads seen before `before` (retention); returns how many. Hits stay until their
/// case is closed, as on a node.
pub async fn purge_reads(db: &Client, before: DateTime<Utc>) -> Result<u64> {
    Ok(db.execute("DELETE FROM reads WHERE seen_at < $1", &[&before]).await?)
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
    let query = crate::search::PlateQuery::Fuzzy(raqib_watchlist::FuzzyQuery::from_plate(plate), max_distance);
    let near: Vec<String> =
        query.keys(db, crate::search::Table::Reads, since).await?.into_iter().map(|(k, _)| k).collect();
    let mut raised = 0;
    for r in db
        .query(
            "SELECT node, read_id, camera, seen_at, plate, body, plate_key FROM reads
             WHERE plate_key = ANY($1) AND seen_at >= $2",
            &[&near, &since],
        )
        .await?
    {
        let (node, read_id, camera, seen_at, seen_plate, read, key): (
            String,
            i64,
            String,
            DateTime<Utc>,
            String,
            serde_json::Value,
            String,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
        let id = format!("retro:{read_id}:{entry_id}");
        let body = serde_json::json!({
            "id": id, "kind": "plate", "camera": camera, "raised_at": Utc::now(), "seen_at": seen_at,
            "category": category, "priority": priority, "subject": seen_plate, "entry": plate.canonical(),
            "retro": true, "read": read,
        });
        let n = db
            .execute(
                "INSERT INTO hits (node, alert_id, camera, raised_at, category, priority, subject, retro, plate_key, body)
                 VALUES ($1, $2, $3, now(), $4, $5, $6, true, $7, $8) ON CONFLICT DO NOTHING",
                &[&node, &id, &camera, &category, &priority, &seen_plate, &key, &body],
            )
            .await?;
        raised += n;
    }
    Ok(raised)
}

/// Alerts stored after `after` (the live stream's order), oldest first: `(seq, alert with its
/// node and when the hub received it)`.
pub async fn hits_after(db: &Client, after: i64, limit: i64) -> Result<Vec<(i64, serde_json::Value)>> {
    let rows = db
        .query(
            "SELECT seq, jsonb_build_object('node', node, 'received_at', received_at, 'seq', seq) || body FROM hits
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The newest alert's position in the live stream's order (0: none).
pub async fn last_hit_seq(db: &Client) -> Result<i64> {
    Ok(db.query_one("SELECT coalesce(max(seq), 0) FROM hits", &[]).await?.get(0))
}

/// Filters of the national alert list.
#[derive(Debug, Clone, Default)]
pub struct HitFilter {
    /// Only this node's.
    pub node: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only those before this position (paging back).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Alerts of every node, newest first, filtered.
pub async fn hits(db: &Client, f: &HitFilter) -> Result<Vec<serde_json::Value>> {
    let rows = db
        .query(
            "SELECT jsonb_build_object('node', node, 'received_at', received_at, 'seq', seq) || body FROM hits
             WHERE ($1::text IS NULL OR node = $1) AND ($2::text IS NULL OR category = $2)
               AND ($3::bigint IS NULL OR seq < $3)
             ORDER BY seq DESC LIMIT $4",
            &[&f.node, &f.category, &f.before, &f.limit.clamp(1, 1000)],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One node as the hub knows it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// Node id.
    pub node: String,
    /// When its last message (of any kind) was stored.
    pub last_seen: DateTime<Utc>,
    /// Its last health report (`at`, `cameras`, `events_store`, `disk`), if any.
    pub health: Option<serde_json::Value>,
    /// Alerts stored from it.
    pub hits: i64,
}

/// How many nodes ever sent something.
pub async fn node_count(db: &Client) -> Result<i64> {
    Ok(db.query_one("SELECT count(*) FROM nodes", &[]).await?.get(0))
}

/// Every node that ever sent something, with its latest health.
pub async fn nodes(db: &Client) -> Result<Vec<NodeStatus>> {
    let rows = db
        .query(
            "SELECT n.node, n.last_seen, n.health, (SELECT count(*) FROM hits h WHERE h.node = n.node)
             FROM nodes n ORDER BY n.node",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| NodeStatus { node: r.get(0), last_seen: r.get(1), health: r.get(2), hits: r.get(3) })
        .collect())
}
