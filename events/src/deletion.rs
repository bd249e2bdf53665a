//! Deleting hits: one alert by an analyst's decision ([`EventStore::delete_alert`], audited by
//! the caller: `raqib alert delete`, `DELETE /api/alerts/{id}`), and the hits of entries removed
//! from the watchlist once `retention.removed_entry_hits_days` have passed
//! ([`EventStore::purge_removed_entries`], run by every purge).
//!
//! A hit whose watchlist entry is gone is no longer a lead on anyone listed: the personal data
//! it holds (crop, whole frame, name, plate) must not stay for ever. A purge marks each hit whose
//! entry (id and plate, or id and name: a re-used id is another entry) is no longer on the
//! watchlist with the time it first found it so (`orphaned_at`), and deletes it when that mark
//! is older than the period. A hit whose entry comes back before then is unmarked. The read that
//! raised a hit goes with its last hit, evidence frame included. Deleted rows are overwritten in
//! the file (`secure_delete`) and the write-ahead log is truncated.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::alerts::{AlertId, AlertKind};
use crate::error::{Error, Result};
use crate::store::{EventStore, db_err};

/// Migration 4: when a purge first found a hit's watchlist entry gone.
pub(crate) const ORPHAN_MARKS: &str = "ALTER TABLE hits ADD COLUMN orphaned_at TEXT;
ALTER TABLE face_hits ADD COLUMN orphaned_at TEXT;";

/// Operators' actions on alerts that no longer exist (after a purge or a deletion).
pub(crate) const DROP_ORPHANED_ACTIONS: &str = "DELETE FROM alert_actions
    WHERE (kind = 'p' AND row_id NOT IN (SELECT id FROM hits))
       OR (kind = 'f' AND row_id NOT IN (SELECT id FROM face_hits));";

/// What is on the watchlist now: plate entries as (id, canonical plate), persons as (id, name).
#[derive(Debug, Default, Clone)]
pub struct LiveEntries {
    /// Plate entries.
    pub plates: HashSet<(i64, String)>,
    /// Persons.
    pub persons: HashSet<(i64, String)>,
}

impl LiveEntries {
    /// Everything on `watchlist` now.
    pub fn of(watchlist: &raqib_watchlist::Store) -> Result<Self> {
        Ok(LiveEntries {
            plates: watchlist.plates()?.into_iter().map(|p| (p.id, p.plate.canonical().to_owned())).collect(),
            persons: watchlist.persons()?.into_iter().map(|p| (p.id, p.name)).collect(),
        })
    }
}

/// Hits deleted by [`EventStore::purge_removed_entries`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RemovedEntryHits {
    /// Plate hits (their reads go with the last of them).
    pub plate_hits: usize,
    /// Face hits.
    pub face_hits: usize,
    /// Hits now waiting for their period to pass.
    pub waiting: usize,
}

/// An analyst's deletion of alert `id`, audited (`alert.delete`, with the reason, the alert's
/// category, camera and time, not its plate or name) before anything is deleted: a deletion that
/// cannot be audited does not happen.
pub fn delete_audited(
    events: &mut EventStore,
    audit: &raqib_watchlist::Store,
    id: AlertId,
    actor: raqib_watchlist::Actor<'_>,
) -> Result<crate::alerts::Alert> {
    let alert = events.alert(id)?.ok_or_else(|| Error::NoAlert(id.to_string()))?;
    audit.audit(actor, "alert.delete", Some(&id.to_string()), Some(&audit_detail(&alert)))?;
    events.delete_alert(id)?;
    Ok(alert)
}

/// What the audit record of a deletion says of the alert: category, camera, time (its plate or
/// name would keep in the audit log what the deletion removes).
pub fn audit_detail(alert: &crate::alerts::Alert) -> String {
    format!("{} alert from {}, raised {}", alert.category, alert.camera, alert.raised_at.to_rfc3339())
}

impl EventStore {
    /// Deletes one alert (a plate hit, with its read when it was the read's last hit, or a face
    /// hit) and the actions taken on it; [`Error::NoAlert`] when there is no such alert.
    pub fn delete_alert(&mut self, id: AlertId) -> Result<()> {
        let e = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        let deleted = match id.kind {
            AlertKind::Plate => {
                let read: Option<i64> = rusqlite::OptionalExtension::optional(tx.query_row(
                    "SELECT read_id FROM hits WHERE id = ?1",
                    [id.row],
                    |r| r.get(0),
                ))
                .map_err(&e)?;
                // Its repeats (later passes counted on it) go with it, and their reads.
                let repeat_reads: Vec<i64> = {
                    let mut stmt = tx.prepare("SELECT read_id FROM hits WHERE repeat_of = ?1").map_err(&e)?;
                    let rows = stmt.query_map([id.row], |r| r.get(0)).map_err(&e)?;
                    rows.collect::<std::result::Result<_, _>>().map_err(&e)?
                };
                tx.execute("DELETE FROM hits WHERE repeat_of = ?1", [id.row]).map_err(&e)?;
                let n = tx.execute("DELETE FROM hits WHERE id = ?1", [id.row]).map_err(&e)?;
                for read in read.into_iter().chain(repeat_reads) {
                    tx.execute(
                        "DELETE FROM plate_reads WHERE id = ?1 AND id NOT IN (SELECT read_id FROM hits)",
                        [read],
                    )
                    .map_err(&e)?;
                }
                n
            }
            AlertKind::Face => tx.execute("DELETE FROM face_hits WHERE id = ?1", [id.row]).map_err(&e)?,
        };
        if deleted == 0 {
            return Err(Error::NoAlert(id.to_string()));
        }
        tx.execute(
            "DELETE FROM alert_actions WHERE kind = ?1 AND row_id = ?2",
            params![id.kind.prefix().to_string(), id.row],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        self.scrub_deleted()?;
        Ok(())
    }

    /// Marks the hits whose entry is not in `live` (as of `now`), unmarks those whose entry is
    /// back, and deletes those marked before `before`; see the module docs.
    pub fn purge_removed_entries(
        &mut self,
        live: &LiveEntries,
        now: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<RemovedEntryHits> {
        let e = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS live_plates (id INTEGER, plate TEXT, PRIMARY KEY (id, plate));
             CREATE TEMP TABLE IF NOT EXISTS live_persons (id INTEGER, name TEXT, PRIMARY KEY (id, name));
             DELETE FROM live_plates; DELETE FROM live_persons;",
        )
        .map_err(&e)?;
        {
            let mut add = tx.prepare("INSERT OR IGNORE INTO live_plates (id, plate) VALUES (?1, ?2)").map_err(&e)?;
            for (id, plate) in &live.plates {
                add.execute(params![id, plate]).map_err(&e)?;
            }
            let mut add = tx.prepare("INSERT OR IGNORE INTO live_persons (id, name) VALUES (?1, ?2)").map_err(&e)?;
            for (id, name) in &live.persons {
                add.execute(params![id, name]).map_err(&e)?;
            }
        }
        let (now, before) = (now.to_rfc3339(), before.to_rfc3339());
        tx.execute_batch(&format!(
            "UPDATE hits SET orphaned_at = NULL WHERE orphaned_at IS NOT NULL
                 AND EXISTS (SELECT 1 FROM live_plates l WHERE l.id = hits.entry_id AND l.plate = hits.entry_plate);
             UPDATE hits SET orphaned_at = '{now}' WHERE orphaned_at IS NULL
                 AND NOT EXISTS (SELECT 1 FROM live_plates l WHERE l.id = hits.entry_id AND l.plate = hits.entry_plate);
             UPDATE face_hits SET orphaned_at = NULL WHERE orphaned_at IS NOT NULL
                 AND EXISTS (SELECT 1 FROM live_persons l WHERE l.id = face_hits.person_id AND l.name = face_hits.name);
             UPDATE face_hits SET orphaned_at = '{now}' WHERE orphaned_at IS NULL
                 AND NOT EXISTS (SELECT 1 FROM live_persons l WHERE l.id = face_hits.person_id AND l.name = face_hits.name);"
        ))
        .map_err(&e)?;
        let plate_hits = tx.execute("DELETE FROM hits WHERE orphaned_at < ?1", [&before]).map_err(&e)?;
        let face_hits = tx.execute("DELETE FROM face_hits WHERE orphaned_at < ?1", [&before]).map_err(&e)?;
        tx.execute_batch("DELETE FROM plate_reads WHERE hit = 1 AND id NOT IN (SELECT read_id FROM hits);")
            .map_err(&e)?;
        tx.execute_batch(DROP_ORPHANED_ACTIONS).map_err(&e)?;
        let waiting: i64 = tx
            .query_row(
                "SELECT (SELECT count(*) FROM hits WHERE orphaned_at IS NOT NULL)
                      + (SELECT count(*) FROM face_hits WHERE orphaned_at IS NOT NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(&e)?;
        tx.commit().map_err(&e)?;
        if plate_hits + face_hits > 0 {
            self.scrub_deleted()?;
        }
        Ok(RemovedEntryHits { plate_hits, face_hits, waiting: waiting as usize })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertFilter;
    use crate::store::tests_support::{face_sighting, hit_for, plate_event};

    fn alerts(s: &EventStore) -> Vec<String> {
        s.alerts(&AlertFilter { limit: 100, ..Default::default() }).unwrap().iter().map(|a| a.id.to_string()).collect()
    }

    #[test]
    fn an_alert_is_deleted_with_its_read_and_actions_and_the_bytes_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let mut s = EventStore::open(&path).unwrap();
        s.record("gate", Utc::now(), &plate_event("54321-د-9"), &[hit_for("54321-د-9", "stolen_vehicle")]).unwrap();
        s.record_face("hall", Utc::now(), &face_sighting("Ahmed")).unwrap();
        let p1: AlertId = "p1".parse().unwrap();
        s.act_on_alert(p1, crate::alerts::AlertAction::Acknowledge, "op", "checked", None).unwrap();
        s.delete_alert(p1).unwrap();
        assert_eq!(alerts(&s), ["f1"]);
        assert!(s.search("54321-D-9", 10).unwrap().is_empty(), "the read went with its only hit");
        assert!(s.alert_actions(p1).unwrap().is_empty());
        assert!(matches!(s.delete_alert(p1), Err(Error::NoAlert(_))), "deleting twice: no such alert");
        s.delete_alert("f1".parse().unwrap()).unwrap();
        assert!(alerts(&s).is_empty());
        drop(s);
        let bytes = std::fs::read(&path).unwrap();
        for needle in ["54321د9".as_bytes(), "Ahmed".as_bytes()] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "deleted data still in the file");
        }
    }

    #[test]
    fn hits_of_a_removed_entry_go_after_the_period_and_come_back_if_it_does() {
        let mut s = EventStore::open_in_memory().unwrap();
        let hit = hit_for("12345-ب-6", "stolen_vehicle"); // entry id 1
        s.record("gate", Utc::now(), &plate_event("12345-ب-6"), std::slice::from_ref(&hit)).unwrap();
        s.record_face("hall", Utc::now(), &face_sighting("Ahmed")).unwrap();
        let person = face_sighting("Ahmed").person_id;
        let all = LiveEntries {
            plates: [(hit.entry.id, hit.entry.plate.canonical().to_owned())].into(),
            persons: [(person, "Ahmed".to_owned())].into(),
        };
        let t0 = Utc::now();
        let day = chrono::Duration::days(1);
        // Both entries listed: nothing marked.
        assert_eq!(s.purge_removed_entries(&all, t0, t0 - day * 30).unwrap(), RemovedEntryHits::default());
        // Both removed: marked, kept for the period.
        let none = LiveEntries::default();
        let r = s.purge_removed_entries(&none, t0, t0 - day * 30).unwrap();
        assert_eq!(r, RemovedEntryHits { plate_hits: 0, face_hits: 0, waiting: 2 });
        // The plate entry comes back (same id, same plate): unmarked; another plate under its
        // id is another entry.
        let back = LiveEntries { plates: all.plates.clone(), ..Default::default() };
        assert_eq!(s.purge_removed_entries(&back, t0 + day, t0 - day * 29).unwrap().waiting, 1);
        let reused = LiveEntries { plates: [(hit.entry.id, "99999-A-1".to_owned())].into(), ..Default::default() };
        // 31 days on: the face hit (marked at t0) goes; the plate hit, marked again now, waits.
        let r = s.purge_removed_entries(&reused, t0 + day * 31, t0 + day).unwrap();
        assert_eq!(r, RemovedEntryHits { plate_hits: 0, face_hits: 1, waiting: 1 });
        assert_eq!(alerts(&s), ["p1"]);
        let r = s.purge_removed_entries(&reused, t0 + day * 62, t0 + day * 32).unwrap();
        assert_eq!(r, RemovedEntryHits { plate_hits: 1, face_hits: 0, waiting: 0 });
        assert!(alerts(&s).is_empty());
        assert!(s.search("12345-B-6", 10).unwrap().is_empty(), "its read is gone with it");
    }
}
