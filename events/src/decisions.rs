//! What the store does for the hit workflow ([`crate::handling`]): the schema it needs, overdue
//! alerts, retro-hits and the report of decisions per camera and reason.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use raqib_core::PlateText;
use raqib_watchlist::{FuzzyQuery, PlateEntry};
use rusqlite::params;
use serde::Serialize;

use crate::alerts::{AlertId, AlertKind};
use crate::error::Result;
use crate::store::{EventStore, db_err};

/// Migration 5: repeats, retro-hits, overdue marks and rejection reasons.
pub(crate) const HANDLING: &str = "ALTER TABLE hits ADD COLUMN repeat_of INTEGER;
ALTER TABLE hits ADD COLUMN retro INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hits ADD COLUMN overdue_at TEXT;
ALTER TABLE face_hits ADD COLUMN overdue_at TEXT;
ALTER TABLE alert_actions ADD COLUMN reason TEXT;
ALTER TABLE hits ADD COLUMN covert_list TEXT;
CREATE INDEX hits_repeat_of ON hits(repeat_of) WHERE repeat_of IS NOT NULL;
CREATE INDEX hits_entry ON hits(entry_id, raised_at);";

/// Reads looked at per key when checking a new entry against stored reads.
const RETRO_READS_PER_KEY: usize = 10_000;

/// One camera's line of the hit report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CameraReport {
    /// Camera (or file).
    pub camera: String,
    /// Alerts raised.
    pub alerts: u64,
    /// Confirmed by an operator.
    pub confirmed: u64,
    /// Rejected (false hits).
    pub rejected: u64,
    /// Still waiting for a decision.
    pub open: u64,
    /// Found past their deadline still open (decided late or not yet).
    pub overdue: u64,
    /// Rejected / decided (none decided: 0).
    pub false_hit_share: f64,
    /// Rejections per reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
}

impl EventStore {
    /// Marks every open alert past its deadline as of `now` (once: `overdue_at`, and an
    /// `overdue` action by `raqib`); returns the alerts marked now.
    pub fn mark_overdue(&mut self, now: DateTime<Utc>) -> Result<Vec<AlertId>> {
        let e = db_err(&self.path);
        // Found by reading first: the check runs every second, and a write transaction each time
        // would hold up the live node's writer for nothing.
        let mut due: Vec<(AlertKind, &str, i64, f64)> = Vec::new();
        for (kind, table, extra) in
            [(AlertKind::Plate, "hits", "AND repeat_of IS NULL"), (AlertKind::Face, "face_hits", "")]
        {
            for priority in ["critical", "high", "medium", "low"] {
                let minutes = self.handling.deadline(priority).num_seconds() as f64 / 60.0;
                let cutoff = (now - self.handling.deadline(priority)).to_rfc3339();
                // Unknown priorities get the low one's deadline, as `HandlingPolicy::deadline` says.
                let which = if priority == "low" {
                    "?1 = 'low' AND priority NOT IN ('critical', 'high', 'medium')"
                } else {
                    "priority = ?1"
                };
                let sql = format!(
                    "SELECT id FROM {table} WHERE overdue_at IS NULL AND state NOT IN ('confirmed', 'rejected')
                     AND {which} AND raised_at <= ?2 {extra}"
                );
                let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
                let ids = stmt.query_map(params![priority, cutoff], |r| r.get::<_, i64>(0)).map_err(&e)?;
                for id in ids {
                    due.push((kind, table, id.map_err(&e)?, minutes));
                }
            }
        }
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.conn.transaction().map_err(&e)?;
        let mut marked = Vec::new();
        for (kind, table, row, minutes) in due {
            // Decided meanwhile, or marked by another process: not marked again.
            let changed = tx
                .execute(
                    &format!(
                        "UPDATE {table} SET overdue_at = ?1 WHERE id = ?2 AND overdue_at IS NULL
                         AND state NOT IN ('confirmed', 'rejected')"
                    ),
                    params![now.to_rfc3339(), row],
                )
                .map_err(&e)?;
            if changed == 0 {
                continue;
            }
            tx.execute(
                "INSERT INTO alert_actions (kind, row_id, at, actor, action, comment)
                 VALUES (?1, ?2, ?3, 'raqib', 'overdue', ?4)",
                params![
                    kind.prefix().to_string(),
                    row,
                    now.to_rfc3339(),
                    format!("not confirmed or rejected within {minutes:.1} min")
                ],
            )
            .map_err(&e)?;
            marked.push(AlertId { kind, row });
        }
        tx.commit().map_err(&e)?;
        Ok(marked)
    }

    /// Open alerts already past their deadline (the `raqib_alerts_overdue` gauge).
    pub fn open_overdue(&self) -> Result<u64> {
        let e = db_err(&self.path);
        let n: i64 = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM hits WHERE overdue_at IS NOT NULL AND repeat_of IS NULL
                           AND state NOT IN ('confirmed', 'rejected'))
                      + (SELECT count(*) FROM face_hits WHERE overdue_at IS NOT NULL
                           AND state NOT IN ('confirmed', 'rejected'))",
                [],
                |r| r.get(0),
            )
            .map_err(&e)?;
        Ok(n.max(0) as u64)
    }

    /// Retro-hits: checks `entries` (just added or changed, each active at `now`) against the
    /// plate reads stored since `since` (the reads retention cut-off), exact keys and fuzzy keys
    /// within `max_distance` (the live rule). Each read that matches an entry it has not hit yet
    /// raises an alert marked retro, raised `now`, with the read's own time and place; the read
    /// becomes a hit read (kept as long as hits are). Returns the alerts raised.
    pub fn retro_hits(
        &mut self,
        entries: &[PlateEntry],
        max_distance: f32,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<AlertId>> {
        let mut found: Vec<(i64, &PlateEntry, f32)> = Vec::new();
        for entry in entries.iter().filter(|e| e.is_active(now)) {
            for (read, distance) in self.reads_near(&entry.plate, max_distance)? {
                if read.seen_at >= since {
                    found.push((read.id, entry, distance));
                }
            }
        }
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let e = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        let mut raised = Vec::new();
        for (read_id, entry, distance) in found {
            let already: i64 = tx
                .query_row(
                    "SELECT count(*) FROM hits WHERE read_id = ?1 AND entry_id = ?2 AND entry_plate = ?3",
                    params![read_id, entry.id, entry.plate.canonical()],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if already > 0 {
                continue;
            }
            let len = entry.plate.key().chars().count().max(1) as f32;
            let (kind, score) =
                if distance == 0.0 { ("exact", 1.0) } else { ("fuzzy", (1.0 - distance / len).clamp(0.0, 1.0)) };
            tx.execute(
                "INSERT INTO hits (read_id, raised_at, entry_id, entry_plate, category, priority, kind, score, entry_json,
                                   retro, covert_list)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10)",
                params![
                    read_id,
                    now.to_rfc3339(),
                    entry.id,
                    entry.plate.canonical(),
                    entry.category,
                    entry.priority.as_str(),
                    kind,
                    f64::from(score),
                    serde_json::to_string(entry).unwrap_or_default(),
                    entry.scope.covert_list,
                ],
            )
            .map_err(&e)?;
            raised.push(AlertId { kind: AlertKind::Plate, row: tx.last_insert_rowid() });
            tx.execute("UPDATE plate_reads SET hit = 1 WHERE id = ?1", [read_id]).map_err(&e)?;
        }
        tx.commit().map_err(&e)?;
        Ok(raised)
    }

    /// Stored reads whose key is `plate`'s or within `max_distance` of it, with the distance.
    fn reads_near(&self, plate: &PlateText, max_distance: f32) -> Result<Vec<(crate::store::StoredRead, f32)>> {
        let mut out: Vec<(crate::store::StoredRead, f32)> =
            self.reads_with_key(plate.key(), RETRO_READS_PER_KEY)?.into_iter().map(|r| (r, 0.0)).collect();
        if max_distance > 0.0 {
            for (read, d) in
                self.search_fuzzy_query(&FuzzyQuery::from_plate(plate), max_distance, RETRO_READS_PER_KEY)?
            {
                if d > 0.0 {
                    out.push((read, d));
                }
            }
        }
        Ok(out)
    }

    /// Alerts raised in `[since, until)` per camera: decisions, open and overdue alerts, and
    /// rejections per reason, so a camera that raises false hits shows up. Cameras by name.
    pub fn hit_report(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<CameraReport>> {
        let e = db_err(&self.path);
        let sql = format!(
            "SELECT a.camera, a.state, a.overdue_at IS NOT NULL,
                    (SELECT x.reason FROM alert_actions x WHERE x.kind = a.k AND x.row_id = a.row_id
                       AND x.action = 'reject' ORDER BY x.id DESC LIMIT 1)
             FROM ({}) a WHERE a.raised_at >= ?1 AND a.raised_at < ?2",
            crate::alerts::ALERTS
        );
        let mut stmt = self.conn.prepare(&sql).map_err(&e)?;
        let rows = stmt
            .query_map(params![since.to_rfc3339(), until.to_rfc3339()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(&e)?;
        let mut by_camera: BTreeMap<String, CameraReport> = BTreeMap::new();
        for row in rows {
            let (camera, state, overdue, reason) = row.map_err(&e)?;
            let c = by_camera.entry(camera.clone()).or_insert_with(|| CameraReport { camera, ..Default::default() });
            c.alerts += 1;
            c.overdue += u64::from(overdue);
            match state.as_str() {
                "confirmed" => c.confirmed += 1,
                "rejected" => {
                    c.rejected += 1;
                    *c.rejected_by_reason.entry(reason.unwrap_or_else(|| "unknown".into())).or_default() += 1;
                }
                _ => c.open += 1,
            }
        }
        let mut out: Vec<CameraReport> = by_camera.into_values().collect();
        for c in &mut out {
            let decided = c.confirmed + c.rejected;
            c.false_hit_share = if decided == 0 { 0.0 } else { c.rejected as f64 / decided as f64 };
        }
        Ok(out)
    }
}

/// The audited retro-hit check of the CLI and the API alike: [`EventStore::retro_hits`] of
/// `entries` (just added or changed) against the reads `retention` keeps, within
/// `max_distance`, then its record (`watchlist.retro_check`, by `actor`) in the audit log of
/// `audit`. Returns the alerts raised.
pub fn retro_check_audited(
    events: &mut EventStore,
    audit: &raqib_watchlist::Store,
    actor: &str,
    entries: &[PlateEntry],
    max_distance: f32,
    retention: &crate::retention::RetentionPolicy,
) -> Result<Vec<AlertId>> {
    let now = Utc::now();
    let since = retention.cutoffs(now).reads.unwrap_or(now);
    let raised = events.retro_hits(entries, max_distance, since, now)?;
    let ids: Vec<String> = raised.iter().map(ToString::to_string).collect();
    let targets: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
    let detail = format!("reads since {}: {} retro alert(s) {}", since.to_rfc3339(), raised.len(), ids.join(" "));
    audit.audit(
        raqib_watchlist::Actor::new(actor, None),
        "watchlist.retro_check",
        Some(&targets.join(",")),
        Some(detail.trim_end()),
    )?;
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::alerts::{AlertAction, AlertFilter, Cursor};
    use crate::handling::HandlingPolicy;
    use crate::store::tests::event;
    use crate::store::tests_support::{face_sighting, hit_for};

    fn alerts(s: &EventStore) -> Vec<crate::alerts::Alert> {
        s.alerts_after(Cursor::default(), 100).unwrap()
    }

    #[test]
    fn the_same_entry_on_the_same_camera_within_the_window_is_one_alert_counting_the_repeats() {
        let mut s = EventStore::open_in_memory().unwrap();
        s.set_handling(HandlingPolicy { repeat_window_s: 300, ..Default::default() });
        let t0 = Utc::now();
        let hit = [hit_for("12345-ب-6", "stolen_vehicle")];
        s.record("gate", t0, &event("12345 ب 6", 1), &hit).unwrap();
        s.record("gate", t0 + Duration::seconds(60), &event("12345 ب 6", 2), &hit).unwrap();
        s.record("gate", t0 + Duration::seconds(200), &event("12345 ب 6", 3), &hit).unwrap();
        // Another camera, and the same camera after the window: alerts of their own.
        s.record("road", t0 + Duration::seconds(90), &event("12345 ب 6", 4), &hit).unwrap();
        s.record("gate", t0 + Duration::seconds(400), &event("12345 ب 6", 5), &hit).unwrap();
        let a = alerts(&s);
        assert_eq!(a.len(), 3, "{a:?}");
        assert_eq!((a[0].camera.as_str(), a[0].repeats), ("gate", 2));
        assert_eq!(a[0].last_repeat_at.unwrap().timestamp(), (t0 + Duration::seconds(200)).timestamp());
        assert_eq!((a[1].camera.as_str(), a[1].repeats), ("road", 0));
        assert_eq!((a[2].camera.as_str(), a[2].repeats), ("gate", 0));
        assert_eq!(s.counts().unwrap(), (5, 5), "every sighting is stored with its evidence");
        // Off: every pass is an alert.
        s.set_handling(HandlingPolicy { repeat_window_s: 0, ..Default::default() });
        s.record("gate", t0 + Duration::seconds(410), &event("12345 ب 6", 6), &hit).unwrap();
        assert_eq!(alerts(&s).len(), 4);
    }

    #[test]
    fn decisions_are_final_rejections_need_a_configured_reason_and_the_report_counts_them() {
        let mut s = EventStore::open_in_memory().unwrap();
        s.set_handling(HandlingPolicy { repeat_window_s: 0, ..Default::default() });
        let t0 = Utc::now();
        let hit = [hit_for("12345-ب-6", "stolen_vehicle")];
        for (i, cam) in ["gate", "gate", "gate", "road"].iter().enumerate() {
            s.record(cam, t0, &event("12345 ب 6", i as u64), &hit).unwrap();
        }
        let ids: Vec<AlertId> = alerts(&s).iter().map(|a| a.id).collect();
        let err = s.act_on_alert(ids[0], AlertAction::Reject, "op", "", None).unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
        let err = s.act_on_alert(ids[0], AlertAction::Reject, "op", "", Some("bored")).unwrap_err();
        assert!(matches!(err, crate::Error::Invalid(_)), "{err}");
        assert!(s.act_on_alert(ids[0], AlertAction::Confirm, "op", "", Some("misread")).is_err());
        let a = s.act_on_alert(ids[0], AlertAction::Reject, "op", "reads 12845", Some("misread")).unwrap();
        assert_eq!(a.state, "rejected");
        let err = s.act_on_alert(ids[0], AlertAction::Confirm, "op2", "", None).unwrap_err();
        assert!(matches!(err, crate::Error::Decision(_)), "{err}");
        // Escalating a decided alert is recorded; the decision stays.
        assert_eq!(s.act_on_alert(ids[0], AlertAction::Escalate, "sup", "review", None).unwrap().state, "rejected");
        s.act_on_alert(ids[1], AlertAction::Reject, "op", "", Some("wrong_vehicle")).unwrap();
        s.act_on_alert(ids[2], AlertAction::Confirm, "op", "patrol sent", None).unwrap();
        let actions = s.alert_actions(ids[0]).unwrap();
        assert_eq!(actions.len(), 2);
        assert_eq!((actions[0].action.as_str(), actions[0].reason.as_deref()), ("reject", Some("misread")));
        let report = s.hit_report(t0 - Duration::hours(1), t0 + Duration::hours(1)).unwrap();
        assert_eq!(report.len(), 2);
        let gate = &report[0];
        assert_eq!((gate.camera.as_str(), gate.alerts, gate.confirmed, gate.rejected, gate.open), ("gate", 3, 1, 2, 0));
        assert_eq!(gate.rejected_by_reason.get("misread"), Some(&1));
        assert_eq!(gate.rejected_by_reason.get("wrong_vehicle"), Some(&1));
        assert!((gate.false_hit_share - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!((report[1].camera.as_str(), report[1].open), ("road", 1));
        assert!(s.hit_report(t0 + Duration::hours(1), t0 + Duration::hours(2)).unwrap().is_empty());
    }

    #[test]
    fn open_alerts_past_their_priority_deadline_are_marked_overdue_once() {
        let mut s = EventStore::open_in_memory().unwrap();
        s.set_handling(HandlingPolicy { repeat_window_s: 0, ..Default::default() });
        let t0 = Utc::now();
        // High priority: 30 min. The face sighting is critical: 10 min.
        s.record("gate", t0, &event("12345 ب 6", 1), &[hit_for("12345-ب-6", "stolen_vehicle")]).unwrap();
        s.record("gate", t0, &event("12345 ب 6", 2), &[hit_for("12345-ب-6", "stolen_vehicle")]).unwrap();
        s.record_face("hall", t0, &face_sighting("Ahmed")).unwrap();
        // Ordered plate, plate, face.
        let mut a = alerts(&s);
        a.sort_by_key(|a| (a.kind == AlertKind::Face, a.id.row));
        assert_eq!(a[0].due_at, t0 + Duration::minutes(30));
        assert_eq!(a[2].due_at, t0 + Duration::minutes(10));
        assert!(s.mark_overdue(t0 + Duration::minutes(5)).unwrap().is_empty());
        assert_eq!(s.mark_overdue(t0 + Duration::minutes(11)).unwrap(), vec![a[2].id]);
        s.act_on_alert(a[1].id, AlertAction::Confirm, "op", "", None).unwrap();
        assert_eq!(s.mark_overdue(t0 + Duration::minutes(31)).unwrap(), vec![a[0].id]);
        assert!(s.mark_overdue(t0 + Duration::minutes(60)).unwrap().is_empty(), "marked once");
        assert_eq!(s.open_overdue().unwrap(), 2);
        let actions = s.alert_actions(a[0].id).unwrap();
        assert_eq!((actions[0].actor.as_str(), actions[0].action.as_str()), ("raqib", "overdue"));
        assert!(s.alert(a[0].id).unwrap().unwrap().overdue_at.is_some());
        s.act_on_alert(a[0].id, AlertAction::Confirm, "op", "late", None).unwrap();
        assert_eq!(s.open_overdue().unwrap(), 1);
        let open = s.alerts(&AlertFilter { state: Some("new".into()), limit: 10, ..Default::default() }).unwrap();
        assert_eq!(open.len(), 1);
    }

    #[test]
    fn a_new_entry_raises_retro_alerts_for_reads_within_retention_only_once() {
        let mut s = EventStore::open_in_memory().unwrap();
        let now = Utc::now();
        let old = s.record("gate", now - Duration::days(40), &event("12345 ب 6", 1), &[]).unwrap();
        let recent =
            s.record_at("road", now - Duration::days(3), &event("12345 ب 6", 2), &[], Some((33.5, -7.6))).unwrap();
        let misread = s.record("road", now - Duration::days(2), &event("12845 ب 6", 3), &[]).unwrap();
        s.record("road", now - Duration::days(1), &event("777 د 1", 4), &[]).unwrap();
        let entry = hit_for("12345-ب-6", "stolen_vehicle").entry;
        let since = now - Duration::days(30);
        let raised = s.retro_hits(std::slice::from_ref(&entry), 1.0, since, now).unwrap();
        assert_eq!(raised.len(), 2, "the exact read and the one-edit misread; not the 40-day-old read");
        let a = alerts(&s);
        let reads: Vec<i64> = a.iter().filter_map(|a| a.read_id).collect();
        assert!(reads.contains(&recent) && reads.contains(&misread) && !reads.contains(&old));
        let exact = a.iter().find(|a| a.read_id == Some(recent)).unwrap();
        assert!(exact.retro);
        assert_eq!(exact.match_kind, "exact");
        assert_eq!(exact.lat, Some(33.5));
        assert!(exact.seen_at < exact.raised_at - Duration::days(2), "the sighting keeps its own time");
        assert_eq!(a.iter().find(|a| a.read_id == Some(misread)).unwrap().match_kind, "fuzzy");
        assert!(s.retro_hits(std::slice::from_ref(&entry), 1.0, since, now).unwrap().is_empty(), "already raised");
        // Exact only.
        let mut other = entry;
        other.id = 2;
        assert_eq!(s.retro_hits(&[other], 0.0, since, now).unwrap().len(), 1);
    }
}
