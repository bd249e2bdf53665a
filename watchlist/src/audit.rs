//! The audit log: who changed, searched or viewed what, when, and why.
//!
//! **Append-only and tamper-evident.** Each row carries `hash = SHA-256(JSON [prev_hash, id, at,
//! actor, action, target, reason, detail])` and the hash of the row before it, so changing a
//! row, deleting one from the middle or reordering them breaks the chain, which
//! [`Store::verify_audit`] (`raqib audit verify`) finds and names. SQLite triggers refuse
//! `UPDATE` and `DELETE` on the table; only the retention purge removes the oldest rows, and it
//! records the hash of the last row it removed as the new anchor of the chain (and an
//! `audit.purge` record). Rows cut off the *end* of the log leave a valid chain: keep the head
//! hash that `raqib audit verify` prints somewhere else (a ticket, another system) to detect that.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use sha2::{Digest, Sha256};

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

impl AuditRecord {
    /// The record as one tab-separated line: time, actor, action, target, reason, detail, with
    /// every control character (tab, newline, terminal escapes) shown as `\u{..}`, so no field
    /// can forge a line or a column.
    pub fn tsv(&self) -> String {
        let o = |v: &Option<String>| escape_controls(v.as_deref().unwrap_or_default()).into_owned();
        let at = self.at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let (actor, action) = (escape_controls(&self.actor), escape_controls(&self.action));
        format!("{at}\t{actor}\t{action}\t{}\t{}\t{}", o(&self.target), o(&self.reason), o(&self.detail))
    }

    /// `time actor action target reason=R detail` for `raqib watchlist audit`, control
    /// characters escaped as in [`Self::tsv`].
    pub fn line(&self) -> String {
        let e = |v: &Option<String>, none: &str| escape_controls(v.as_deref().unwrap_or(none)).into_owned();
        let at = self.at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let (actor, action) = (escape_controls(&self.actor), escape_controls(&self.action));
        let (target, reason, detail) = (e(&self.target, ""), e(&self.reason, "-"), e(&self.detail, ""));
        format!("{at} {actor:12} {action:16} {target} reason={reason} {detail}")
    }
}

/// `v` with control characters escaped (`\u{a}` for a newline).
pub fn escape_controls(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(v);
    }
    std::borrow::Cow::Owned(
        v.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect(),
    )
}

/// The hash of one row, chained to the one before.
#[allow(clippy::too_many_arguments)]
pub(crate) fn row_hash(
    prev: &str,
    id: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: Option<&str>,
    reason: Option<&str>,
    detail: Option<&str>,
) -> String {
    let doc = serde_json::json!([prev, id, at, actor, action, target, reason, detail]);
    hex::encode(Sha256::digest(doc.to_string().as_bytes()))
}

/// Hash of the last row (or the anchor left by a purge; empty for a new log).
fn head(conn: &Connection) -> Result<(i64, String)> {
    let last: Option<(i64, Option<String>)> = conn
        .query_row("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match last {
        Some((id, Some(hash))) => Ok((id, hash)),
        Some((id, None)) => Ok((id, String::new())),
        None => {
            let anchor: Option<String> =
                conn.query_row("SELECT value FROM audit_meta WHERE key = 'anchor'", [], |r| r.get(0)).optional()?;
            let after: Option<i64> = conn
                .query_row("SELECT value FROM audit_meta WHERE key = 'anchor_id'", [], |r| r.get::<_, String>(0))
                .optional()?
                .and_then(|v| v.parse().ok());
            Ok((after.unwrap_or(0), anchor.unwrap_or_default()))
        }
    }
}

/// Longest actor, action, target and reason kept in a record, in characters; a longer value is
/// cut (marked `…`), so no request can grow the log by more than a few kilobytes a record.
pub const MAX_FIELD_CHARS: usize = 256;
/// Longest detail kept, in characters.
pub const MAX_DETAIL_CHARS: usize = 2000;

/// `v` cut to `max` characters (with `…` when cut); control characters (newlines, escapes) are
/// kept as written, and escaped by [`AuditRecord::tsv`] on output.
fn capped(v: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match v.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(v),
        Some((i, _)) => std::borrow::Cow::Owned(format!("{}…", &v[..i])),
    }
}

/// Appends a record using `conn` (pass the open transaction so the record commits with the
/// change; on a plain connection the record gets its own immediate transaction). Fields are
/// capped ([`MAX_FIELD_CHARS`], [`MAX_DETAIL_CHARS`]).
pub(crate) fn record(
    conn: &Connection,
    actor: Actor,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    let name = capped(actor.name, MAX_FIELD_CHARS);
    let reason = actor.reason.map(|r| capped(r, MAX_FIELD_CHARS));
    let actor = Actor { name: &name, reason: reason.as_deref() };
    let action = capped(action, MAX_FIELD_CHARS);
    let action = action.as_ref();
    let target = target.map(|t| capped(t, MAX_FIELD_CHARS));
    let target = target.as_deref();
    let detail = detail.map(|d| capped(d, MAX_DETAIL_CHARS));
    let detail = detail.as_deref();
    let own = conn.is_autocommit();
    if own {
        conn.execute_batch("BEGIN IMMEDIATE")?;
    } else {
        // Take the write lock before reading the head, so two writers cannot chain to the same row.
        conn.execute("UPDATE audit_meta SET value = value WHERE key = 'lock'", [])?;
    }
    let written = (|| {
        let (last_id, prev) = head(conn)?;
        let id = last_id + 1;
        let at = now_ts();
        let hash = row_hash(&prev, id, at, actor.name, action, target, actor.reason, detail);
        conn.execute(
            "INSERT INTO audit (id, at, actor, action, target, reason, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, at, actor.name, action, target, actor.reason, detail, prev, hash],
        )?;
        Ok(())
    })();
    if own {
        conn.execute_batch(if written.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    }
    written
}

/// Chains rows written before the log had hashes (schema 1), once, in id order.
pub(crate) fn chain_legacy_rows(conn: &mut Connection) -> Result<()> {
    let unchained: i64 = conn.query_row("SELECT count(*) FROM audit WHERE hash IS NULL", [], |r| r.get(0))?;
    if unchained == 0 {
        return Ok(()); // the usual case: no write transaction on open
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let pending: i64 = tx.query_row("SELECT count(*) FROM audit WHERE hash IS NULL", [], |r| r.get(0))?;
    if pending > 0 {
        let rows = all_rows(&tx)?;
        let mut prev = String::new();
        for r in rows {
            let hash = match r.hash {
                Some(h) => h,
                None => {
                    let h = r.hash_after(&prev);
                    tx.execute("UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE id = ?3", params![prev, h, r.id])?;
                    h
                }
            };
            prev = hash;
        }
    }
    tx.commit()?;
    Ok(())
}

struct RawRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl RawRow {
    /// This row's hash when it follows a row whose hash is `prev`.
    fn hash_after(&self, prev: &str) -> String {
        row_hash(
            prev,
            self.id,
            self.at,
            &self.actor,
            &self.action,
            self.target.as_deref(),
            self.reason.as_deref(),
            self.detail.as_deref(),
        )
    }
}

/// Every row, oldest first, as stored.
fn all_rows(conn: &Connection) -> Result<Vec<RawRow>> {
    let mut stmt =
        conn.prepare("SELECT id, at, actor, action, target, reason, detail, prev_hash, hash FROM audit ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(RawRow {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            reason: r.get(5)?,
            detail: r.get(6)?,
            prev_hash: r.get(7)?,
            hash: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: usize,
    /// Hash of the newest row (keep it elsewhere to detect rows cut off the end later).
    pub head: String,
    /// The first row that breaks the chain, with what is wrong; none when intact.
    pub broken: Option<(i64, String)>,
}

impl Store {
    /// Walks the whole log and checks every row's hash and link.
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        let rows = all_rows(&self.conn)?;
        let anchor: Option<String> =
            self.conn.query_row("SELECT value FROM audit_meta WHERE key = 'anchor'", [], |r| r.get(0)).optional()?;
        let mut prev = anchor.unwrap_or_default();
        let mut last_id: Option<i64> = None;
        for r in &rows {
            let problem = if r.hash.is_none() {
                Some("row has no hash".to_string())
            } else if r.prev_hash.as_deref() != Some(prev.as_str()) {
                Some("does not follow the row before it (a row was removed, inserted or reordered)".into())
            } else if last_id.is_some_and(|l| r.id != l + 1) {
                Some(format!("row ids jump from {} (rows removed)", last_id.unwrap_or_default()))
            } else {
                let h = r.hash_after(&prev);
                (r.hash.as_deref() != Some(h.as_str())).then(|| "content changed after it was written".to_string())
            };
            if let Some(p) = problem {
                return Ok(AuditVerification { rows: rows.len(), head: prev, broken: Some((r.id, p)) });
            }
            prev = r.hash.clone().unwrap_or_default();
            last_id = Some(r.id);
        }
        Ok(AuditVerification { rows: rows.len(), head: prev, broken: None })
    }

    /// Removes audit rows older than `before` (retention), keeping the chain verifiable: the
    /// hash of the last removed row becomes the anchor. Returns how many were removed.
    pub fn purge_audit(&mut self, before: DateTime<Utc>, actor: Actor) -> Result<usize> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row("SELECT id, hash FROM audit WHERE at < ?1 ORDER BY id DESC LIMIT 1", [before.timestamp()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((last_id, last_hash)) = last else { return Ok(0) };
        tx.execute("UPDATE audit_meta SET value = '1' WHERE key = 'purging'", [])?;
        let n = tx.execute("DELETE FROM audit WHERE id <= ?1", [last_id])?;
        tx.execute("UPDATE audit_meta SET value = '0' WHERE key = 'purging'", [])?;
        tx.execute("INSERT OR REPLACE INTO audit_meta (key, value) VALUES ('anchor', ?1)", [&last_hash])?;
        tx.execute("INSERT OR REPLACE INTO audit_meta (key, value) VALUES ('anchor_id', ?1)", [last_id.to_string()])?;
        record(&tx, actor, "audit.purge", None, Some(&format!("{n} record(s) before {}", before.to_rfc3339())))?;
        tx.commit()?;
        Ok(n)
    }

    /// Records an action that changes nothing (a search, a view), in its own transaction.
    pub fn audit(&self, actor: Actor, action: &str, target: Option<&str>, detail: Option<&str>) -> Result<()> {
        record(&self.conn, actor, action, target, detail)
    }

    /// The most recent `limit` records, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>> {
        self.audit_log_where(limit, None, None)
    }

    /// [`Self::audit_log`] of one actor's records only and/or of actions starting with
    /// `action_prefix` (`search`, `alert.`, `login`), newest first.
    pub fn audit_log_where(
        &self,
        limit: usize,
        actor: Option<&str>,
        action_prefix: Option<&str>,
    ) -> Result<Vec<AuditRecord>> {
        // substr() rather than LIKE: an action prefix holding `%` or `_` is taken literally.
        let mut stmt = self.conn.prepare(
            "SELECT id, at, actor, action, target, reason, detail FROM audit \
             WHERE (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3) \
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(rusqlite::params![limit as i64, actor, action_prefix], |r| {
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

#[cfg(test)]
mod chain_tests {
    use super::*;
    use crate::NewPlateEntry;

    fn store_with_log(dir: &std::path::Path) -> Store {
        let mut s = Store::open(&dir.join("w.db")).unwrap();
        for plate in ["12345-ب-6", "777-أ-1", "AB-123-CD"] {
            let new = NewPlateEntry { plate: plate.into(), category: "stolen_vehicle".into(), ..Default::default() };
            s.add_plate(&new, Actor::new("amina", Some("CASE-1"))).unwrap();
        }
        s.audit(Actor::new("omar", Some("CASE-2")), "search.reads", Some("12*"), None).unwrap();
        s
    }

    #[test]
    fn an_intact_log_verifies_and_a_tampered_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_log(dir.path());
        let ok = s.verify_audit().unwrap();
        assert_eq!((ok.rows, ok.broken.clone()), (4, None));
        assert_eq!(ok.head.len(), 64);

        // The triggers refuse changes through SQLite…
        let err = s.conn.execute("UPDATE audit SET actor = 'nobody' WHERE id = 2", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(s.conn.execute("DELETE FROM audit WHERE id = 2", []).is_err());
        // …and someone who drops them to edit the file is caught by the chain.
        s.conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
        s.conn.execute("UPDATE audit SET reason = 'no reason' WHERE id = 2", []).unwrap();
        let bad = s.verify_audit().unwrap();
        assert_eq!(bad.broken.as_ref().map(|b| b.0), Some(2), "{bad:?}");
        assert!(bad.broken.unwrap().1.contains("content changed"));
    }

    #[test]
    fn a_removed_row_breaks_the_chain_but_the_retention_purge_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_with_log(dir.path());
        // Retention: everything older than a future instant goes; the chain stays verifiable.
        let n = s.purge_audit(Utc::now() + chrono::Duration::hours(1), Actor::new("raqib", Some("retention"))).unwrap();
        assert_eq!(n, 4);
        s.audit(Actor::new("omar", None), "alerts.list", None, None).unwrap();
        let v = s.verify_audit().unwrap();
        assert_eq!(v.broken, None, "{v:?}");
        assert_eq!(v.rows, 2, "the purge record and the one after it");
        assert_eq!(s.audit_log(10).unwrap()[1].action, "audit.purge");

        s.audit(Actor::new("omar", None), "alerts.list", None, None).unwrap();
        s.conn.execute_batch("DROP TRIGGER audit_no_delete;").unwrap();
        let middle: i64 = s.conn.query_row("SELECT min(id) + 1 FROM audit", [], |r| r.get(0)).unwrap();
        s.conn.execute("DELETE FROM audit WHERE id = ?1", [middle]).unwrap();
        let v = s.verify_audit().unwrap();
        assert_eq!(v.broken.map(|b| b.0), Some(middle + 1));
    }

    #[test]
    fn rows_from_before_the_chain_are_chained_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // A schema-1 file with two audit rows and no hashes.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(crate::store::schema::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for action in ["import", "export"] {
                conn.execute("INSERT INTO audit (at, actor, action) VALUES (1700000000, 'old', ?1)", [action]).unwrap();
            }
        }
        let s = Store::open(&path).unwrap();
        let v = s.verify_audit().unwrap();
        assert_eq!((v.rows, v.broken), (2, None));
        s.audit(Actor::new("new", None), "alerts.list", None, None).unwrap();
        assert_eq!(s.verify_audit().unwrap().broken, None);
    }

    #[test]
    fn the_log_is_filtered_by_actor_and_action_prefix_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let s = store_with_log(dir.path());
        let omar = s.audit_log_where(10, Some("omar"), None).unwrap();
        assert_eq!(omar.len(), 1);
        assert!(omar[0].tsv().contains("\tomar\tsearch.reads\t12*\tCASE-2\t"), "{}", omar[0].tsv());
        let adds = s.audit_log_where(2, None, Some("plate.")).unwrap();
        assert_eq!(adds.len(), 2);
        assert!(adds.iter().all(|r| r.action.starts_with("plate.")) && adds[0].id > adds[1].id);
        assert!(s.audit_log_where(10, None, Some("plate%")).unwrap().is_empty(), "a prefix is literal");
        assert!(s.audit_log_where(10, Some("amina"), Some("search")).unwrap().is_empty());
    }

    #[test]
    fn fields_are_capped_on_write_and_controls_escaped_on_output() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("w.db")).unwrap();
        let huge = "x".repeat(10_000_000);
        s.audit(Actor::new(&huge, Some(&huge)), "login.failed", Some(&huge), Some(&huge)).unwrap();
        let forged = "amina\n2026-01-01T00:00:00+00:00\tboss\tplate.remove\x1b[2K";
        s.audit(Actor::new(forged, None), "login.failed", Some(forged), None).unwrap();
        let log = s.audit_log(2).unwrap();
        let big = &log[1];
        assert_eq!(big.actor.chars().count(), MAX_FIELD_CHARS + 1, "cut, with its mark");
        assert!(big.actor.ends_with('…') && big.target.as_ref().unwrap().chars().count() == MAX_FIELD_CHARS + 1);
        assert_eq!(big.detail.as_ref().unwrap().chars().count(), MAX_DETAIL_CHARS + 1);
        let line = log[0].tsv();
        assert!(!line.contains('\n') && !line.contains('\x1b') && line.matches('\t').count() == 5, "{line:?}");
        assert!(line.contains("amina\\u{a}2026"), "{line}");
        assert!(s.verify_audit().unwrap().broken.is_none(), "the chain holds over capped fields");
    }
}
