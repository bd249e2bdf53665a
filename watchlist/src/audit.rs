//! The audit log: who changed or searched the watchlist, when, and why.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::{Actor, Store, from_ts, now_ts};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Row id, increasing.
    pub id: i64,
    /// When.
    pub at: Option<DateTime<Utc>>,
    /// Who.
    pub actor: String,
    /// What, e.g. `plate.add`, `plate.remove`, `import`, `export`, `search.wildcard`.
    pub action: String,
    /// Which entry or file.
    pub target: Option<String>,
    /// Reason or case reference given.
    pub reason: Option<String>,
    /// Extra facts (counts, pattern searched).
    pub detail: Option<String>,
}

/// Appends a record using `conn` (pass the open transaction so the record commits with the change).
pub(crate) fn record(
    conn: &Connection,
    actor: Actor,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now_ts(), actor.name, action, target, actor.reason, detail],
    )?;
    Ok(())
}

impl Store {
    /// Records an action that changes nothing (a search, a view), in its own transaction.
    pub fn audit(&self, actor: Actor, action: &str, target: Option<&str>, detail: Option<&str>) -> Result<()> {
        record(&self.conn, actor, action, target, detail)
    }

    /// The most recent `limit` records, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, at, actor, action, target, reason, detail FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditRecord {
                id: r.get(0)?,
                at: from_ts(r.get(1)?),
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                reason: r.get(5)?,
                detail: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
