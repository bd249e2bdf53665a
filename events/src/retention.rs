//! Retention: how long the events store keeps what, and the purge that enforces it.
//!
//! Plate reads that hit nothing are personal data about people who are not on a watchlist:
//! they are kept `reads_days` (30 by default; 0 = never written at all). Hits and their evidence
//! (crop, whole frame, operators' actions) are kept `hits_days`, or until removed when unset;
//! the hits of an entry removed from the watchlist go `removed_entry_hits_days` after its
//! removal ([`crate::deletion`]).
//! The store runs with `secure_delete`, so purged rows are overwritten in the file, and the
//! write-ahead log is truncated after a purge: nothing purged stays readable on disk.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::{EventStore, db_err};

/// `[retention]`: how long each kind of personal data is kept (PRIVACY.md), the one place these
/// rules and their bounds are defined; `raqib run`, `raqib replay`, `raqib purge` and the server
/// read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Plate reads that hit nothing: days kept; 0 = never written.
    pub reads_days: u32,
    /// Hits and their evidence: days kept; absent = until removed (the case is closed).
    pub hits_days: Option<u32>,
    /// Audit records: days kept (at least 365); absent = for ever.
    pub audit_days: Option<u32>,
    /// Hits of an entry removed from the watchlist: days kept after the removal (0: at the
    /// next purge); at most 3650.
    pub removed_entry_hits_days: u32,
    /// Minutes between purges while `raqib run` is up (one also runs at start).
    pub purge_every_minutes: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            reads_days: 30,
            hits_days: None,
            audit_days: None,
            removed_entry_hits_days: 30,
            purge_every_minutes: 60,
        }
    }
}

impl RetentionPolicy {
    /// Checks the values against their rules; the error names the key.
    pub fn validate(&self) -> Result<()> {
        let refuse = |key, message| Err(crate::Error::Retention { key, message });
        if self.hits_days == Some(0) {
            return refuse("hits_days", "0 would delete every hit at once; omit it to keep hits until removed");
        }
        if self.audit_days.is_some_and(|d| d < 365) {
            return refuse("audit_days", "keep the audit log at least 365 days (or omit: for ever)");
        }
        if self.hits_days.is_some_and(|h| h < self.reads_days) {
            return refuse("hits_days", "must not be shorter than reads_days");
        }
        if self.removed_entry_hits_days > 3650 {
            return refuse("removed_entry_hits_days", "at most 3650 (ten years)");
        }
        if self.purge_every_minutes == 0 {
            return refuse("purge_every_minutes", "must be > 0");
        }
        Ok(())
    }

    /// Whether reads that hit nothing are written at all.
    pub fn keeps_non_hits(&self) -> bool {
        self.reads_days > 0
    }

    /// Since when a read that hit nothing is still kept as of `now` (`None`: such reads are not
    /// kept at all). A read kept only because it hit is shown as a plain read to a user who may
    /// not see its hit only within this window (`EventStore::hide_unseen_hits`).
    pub fn plain_reads_kept_since(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.keeps_non_hits() { self.cutoffs(now).reads } else { None }
    }

    /// The events store's cut-offs as of `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        let days = |d: u32| now - chrono::Duration::days(i64::from(d));
        Cutoffs {
            reads: Some(days(self.reads_days)),
            hits: self.hits_days.map(days),
            removed_entries: Some(days(self.removed_entry_hits_days)),
        }
    }

    /// The audit log's cut-off as of `now`.
    pub fn audit_cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.audit_days.map(|d| now - chrono::Duration::days(i64::from(d)))
    }

    /// Time between purges of a running node.
    pub fn purge_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.purge_every_minutes) * 60)
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Plate reads that hit nothing.
    pub reads: usize,
    /// Plate reads that hit (with their hits and evidence).
    pub hit_reads: usize,
    /// Face hits.
    pub face_hits: usize,
}

/// Cut-off instants: everything older goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoffs {
    /// Non-hit reads seen before this.
    pub reads: Option<DateTime<Utc>>,
    /// Hits (plate and face) raised before this.
    pub hits: Option<DateTime<Utc>>,
    /// Hits whose watchlist entry was found removed before this (needs the watchlist).
    #[serde(default)]
    pub removed_entries: Option<DateTime<Utc>>,
}

/// What one audited purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// From the events store.
    pub events: Purged,
    /// Hits of entries removed from the watchlist.
    pub removed_entries: crate::deletion::RemovedEntryHits,
    /// Audit records (older than the audit cut-off).
    pub audit: usize,
}

impl PurgeReport {
    /// `purged: N plate read(s) without hit (older than D days), …` for `policy`.
    pub fn summary(&self, policy: &RetentionPolicy) -> String {
        format!(
            "purged: {} plate read(s) without hit (older than {} days), {} with hits, {} face hit(s), {} audit record(s); \
             hits of removed watchlist entries: {} plate, {} face deleted, {} waiting (kept {} days after the removal)",
            self.events.reads,
            policy.reads_days,
            self.events.hit_reads,
            self.events.face_hits,
            self.audit,
            self.removed_entries.plate_hits,
            self.removed_entries.face_hits,
            self.removed_entries.waiting,
            policy.removed_entry_hits_days
        )
    }
}

/// The retention purge with its audit record, the one job `raqib purge` and `raqib run` run:
/// the events store is purged at `cutoffs`; with an audit log, its records older than
/// `audit_before` are purged and the events purge is recorded (`retention.purge`, with counts).
pub fn purge_audited(
    events: &mut EventStore,
    audit: Option<&mut raqib_watchlist::Store>,
    cutoffs: Cutoffs,
    audit_before: Option<DateTime<Utc>>,
) -> Result<PurgeReport> {
    let removed = events.purge(cutoffs)?;
    let mut report = PurgeReport { events: removed, ..Default::default() };
    if let Some(store) = audit {
        if let Some(before) = cutoffs.removed_entries {
            let live = crate::deletion::LiveEntries::of(store)?;
            report.removed_entries = events.purge_removed_entries(&live, Utc::now(), before)?;
        }
        let gone = report.removed_entries;
        let actor = raqib_watchlist::Actor::new("raqib", Some("retention policy"));
        if let Some(before) = audit_before {
            report.audit = store.purge_audit(before, actor)?;
        }
        if removed.reads + removed.hit_reads + removed.face_hits > 0 {
            let detail = format!(
                "{} read(s) without hit, {} read(s) with hits, {} face hit(s)",
                removed.reads, removed.hit_reads, removed.face_hits
            );
            store.audit(actor, "retention.purge", Some("events"), Some(&detail))?;
        }
        if gone.plate_hits + gone.face_hits > 0 {
            let detail = format!(
                "{} plate hit(s), {} face hit(s) of entries removed from the watchlist",
                gone.plate_hits, gone.face_hits
            );
            store.audit(actor, "retention.purge_removed_entries", Some("events"), Some(&detail))?;
        }
    }
    Ok(report)
}

impl EventStore {
    /// Whether plate reads that hit nothing are written at all (`reads_days = 0`: no).
    pub fn set_keep_non_hits(&mut self, keep: bool) {
        self.keep_non_hits = keep;
    }

    /// Applies `[alerts]` ([`crate::handling`]): the repeat window of new hits and the deadlines
    /// of alerts.
    pub fn set_handling(&mut self, handling: crate::handling::HandlingPolicy) {
        self.handling = handling;
    }

    /// Removes what is older than the cut-offs, in one transaction; then truncates the WAL.
    pub fn purge(&mut self, cut: Cutoffs) -> Result<Purged> {
        let e = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        let mut out = Purged::default();
        if let Some(t) = cut.reads {
            out.reads = tx
                .execute("DELETE FROM plate_reads WHERE hit = 0 AND seen_at < ?1", params![t.to_rfc3339()])
                .map_err(&e)?;
        }
        if let Some(t) = cut.hits {
            let t = t.to_rfc3339();
            promote_surviving_repeats(&tx, &t).map_err(&e)?;
            out.hit_reads =
                tx.execute("DELETE FROM plate_reads WHERE hit = 1 AND seen_at < ?1", params![t]).map_err(&e)?;
            out.face_hits = tx.execute("DELETE FROM face_hits WHERE raised_at < ?1", params![t]).map_err(&e)?;
            tx.execute_batch(crate::deletion::DROP_ORPHANED_ACTIONS).map_err(&e)?;
        }
        tx.commit().map_err(&e)?;
        self.scrub_deleted()?;
        Ok(out)
    }
}

/// Before the plate hits seen before `cutoff` go: an alert whose first sighting goes while later
/// repeats of it stay (`hits.repeat_of`, [`crate::handling`]'s repeat window) would leave those
/// repeats pointing at nothing, never listed. The earliest repeat that stays becomes the alert,
/// with the alert's state, overdue mark and operators' history; the others its repeats.
fn promote_surviving_repeats(tx: &rusqlite::Transaction<'_>, cutoff: &str) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS promoted (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
         DELETE FROM promoted;",
    )?;
    tx.execute(
        "INSERT INTO promoted (old, new)
         SELECT h.repeat_of, min(h.id) FROM hits h JOIN plate_reads r ON r.id = h.read_id
         WHERE h.repeat_of IS NOT NULL AND r.seen_at >= ?1
           AND h.repeat_of IN (SELECT x.id FROM hits x JOIN plate_reads xr ON xr.id = x.read_id WHERE xr.seen_at < ?1)
         GROUP BY h.repeat_of",
        [cutoff],
    )?;
    tx.execute_batch(
        "UPDATE hits SET repeat_of = NULL,
             state = (SELECT o.state FROM promoted p JOIN hits o ON o.id = p.old WHERE p.new = hits.id),
             overdue_at = (SELECT o.overdue_at FROM promoted p JOIN hits o ON o.id = p.old WHERE p.new = hits.id)
         WHERE id IN (SELECT new FROM promoted);
         UPDATE hits SET repeat_of = (SELECT new FROM promoted WHERE old = hits.repeat_of)
         WHERE repeat_of IN (SELECT old FROM promoted);
         UPDATE alert_actions SET row_id = (SELECT new FROM promoted WHERE old = alert_actions.row_id)
         WHERE kind = 'p' AND row_id IN (SELECT old FROM promoted);",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests_support::{face_sighting, hit_for, plate_event};

    #[test]
    fn a_plain_read_is_kept_reads_days_or_not_at_all() {
        let now = Utc::now();
        let p = RetentionPolicy::default();
        assert_eq!(p.plain_reads_kept_since(now), Some(now - chrono::Duration::days(30)));
        assert_eq!(RetentionPolicy { reads_days: 0, ..p }.plain_reads_kept_since(now), None);
    }

    #[test]
    fn retention_rules_name_their_key() {
        assert!(RetentionPolicy::default().validate().is_ok());
        let bad = |p: RetentionPolicy| p.validate().err().map(|e| e.to_string()).unwrap_or_default();
        let d = RetentionPolicy::default();
        assert!(bad(RetentionPolicy { hits_days: Some(0), ..d.clone() }).starts_with("retention.hits_days"));
        assert!(bad(RetentionPolicy { hits_days: Some(7), ..d.clone() }).contains("shorter than reads_days"));
        assert!(bad(RetentionPolicy { audit_days: Some(30), ..d.clone() }).starts_with("retention.audit_days"));
        assert!(bad(RetentionPolicy { purge_every_minutes: 0, ..d.clone() }).starts_with("retention.purge_every"));
        assert!(
            bad(RetentionPolicy { removed_entry_hits_days: 4000, ..d.clone() })
                .starts_with("retention.removed_entry_hits_days")
        );
        let now = Utc::now();
        let cut = RetentionPolicy { reads_days: 0, ..d }.cutoffs(now);
        assert_eq!((cut.reads, cut.hits), (Some(now), None));
    }

    #[test]
    fn purge_removes_expired_reads_keeps_hits_and_zero_days_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let mut s = EventStore::open(&path).unwrap();
        let old = Utc::now() - chrono::Duration::days(40);
        s.record("gate", old, &plate_event("11111-أ-1"), &[]).unwrap();
        s.record("gate", Utc::now(), &plate_event("22222-ب-2"), &[]).unwrap();
        s.record("gate", old, &plate_event("12345-ب-6"), &[hit_for("12345-ب-6", "stolen_vehicle")]).unwrap();
        s.record_face("hall", old, &face_sighting("Ahmed")).unwrap();
        let cut = Cutoffs { reads: Some(Utc::now() - chrono::Duration::days(30)), ..Default::default() };
        assert_eq!(s.purge(cut).unwrap(), Purged { reads: 1, hit_reads: 0, face_hits: 0 });
        assert!(s.search("11111-A-1", 10).unwrap().is_empty(), "expired non-hit read gone");
        assert_eq!(s.search("22222-B-2", 10).unwrap().len(), 1, "recent read kept");
        assert_eq!(s.search("12345-B-6", 10).unwrap().len(), 1, "old hit kept");
        assert_eq!(s.alerts_cursor().unwrap(), crate::alerts::Cursor { plate: 1, face: 1 });
        // The purged plate is not left in the file either (secure_delete, WAL truncated).
        drop(s);
        let bytes = std::fs::read(&path).unwrap();
        let needle = "11111أ1".as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "purged key still in the file");

        let mut s = EventStore::open(&path).unwrap();
        let cut = Cutoffs { hits: Some(Utc::now() - chrono::Duration::days(30)), ..Default::default() };
        assert_eq!(s.purge(cut).unwrap(), Purged { reads: 0, hit_reads: 1, face_hits: 1 });
        assert!(s.alerts(&crate::alerts::AlertFilter { limit: 10, ..Default::default() }).unwrap().is_empty());

        s.set_keep_non_hits(false);
        s.record("gate", Utc::now(), &plate_event("33333-د-3"), &[]).unwrap();
        assert!(s.search("33333-D-3", 10).unwrap().is_empty(), "reads_days = 0: never written");
        s.record("gate", Utc::now(), &plate_event("12345-ب-6"), &[hit_for("12345-ب-6", "stolen_vehicle")]).unwrap();
        assert_eq!(s.search("12345-B-6", 10).unwrap().len(), 1, "hits are still written");
    }

    #[test]
    fn an_alert_whose_first_sighting_is_purged_lives_on_in_its_later_repeats_with_its_history() {
        use crate::alerts::{AlertAction, AlertFilter};
        let mut s = EventStore::open_in_memory().unwrap();
        s.set_handling(crate::handling::HandlingPolicy { repeat_window_s: 300, ..Default::default() });
        let t0 = Utc::now() - chrono::Duration::days(60);
        let hit = [hit_for("12345-ب-6", "stolen_vehicle")];
        for (i, dt) in [0, 60, 200].into_iter().enumerate() {
            s.record("gate", t0 + chrono::Duration::seconds(dt), &plate_event("12345-ب-6"), &hit).unwrap();
            assert_eq!(s.alerts(&AlertFilter { limit: 10, ..Default::default() }).unwrap()[0].repeats, i as i64);
        }
        let all = AlertFilter { limit: 10, ..Default::default() };
        let first = s.alerts(&all).unwrap()[0].id;
        s.act_on_alert(first, AlertAction::Confirm, "op", "the stolen car", None).unwrap();
        // The cut falls between the first sighting and its repeats.
        let cut = Cutoffs { hits: Some(t0 + chrono::Duration::seconds(30)), ..Default::default() };
        assert_eq!(s.purge(cut).unwrap().hit_reads, 1);
        let left = s.alerts(&all).unwrap();
        assert_eq!(left.len(), 1, "the repeats are not lost: {left:?}");
        assert_ne!(left[0].id, first);
        assert_eq!(left[0].repeats, 1);
        assert_eq!(left[0].state, "confirmed");
        assert_eq!(left[0].raised_at.timestamp(), (t0 + chrono::Duration::seconds(60)).timestamp());
        let history = s.alert_actions(left[0].id).unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0].comment, "the stolen car");
        // A cut past every sighting removes the alert and its history.
        let cut = Cutoffs { hits: Some(Utc::now()), ..Default::default() };
        assert_eq!(s.purge(cut).unwrap().hit_reads, 2);
        assert!(s.alerts(&all).unwrap().is_empty());
        assert!(s.alert_actions(left[0].id).unwrap().is_empty());
    }
}
