//! Alerts: the hits of the events store as the console, the API and the sinks see them.
//!
//! A plate hit (one row of `hits`, a read matched to a watchlist entry) and a face hit (a row of
//! `face_hits`) are both an [`Alert`], named `p<row>` or `f<row>`. Rows only ever grow, so a
//! [`Cursor`] (the last plate and face row seen) is a resume token: "everything after this" is
//! exact, across reconnections and restarts. Operators act on alerts (acknowledge, escalate,
//! confirm, reject with a reason; with a comment); every action is kept in `alert_actions`, the
//! alert's `state` is the latest, and a decision (confirmed, rejected) is final
//! ([`crate::handling`]). Repeats of an alert (the same entry on the same camera within the
//! repeat window) are rows of `hits` with `repeat_of` set: they are counted on their alert and
//! are never alerts of their own.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{EventStore, db_err, utc};

/// Which table an alert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A plate read matched a watchlist entry.
    Plate,
    /// A face matched an enrolled person.
    Face,
}

impl AlertKind {
    pub(crate) fn prefix(self) -> char {
        match self {
            AlertKind::Plate => 'p',
            AlertKind::Face => 'f',
        }
    }
}

/// An alert's id: kind and row, written `p12` / `f3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertId {
    /// The table.
    pub kind: AlertKind,
    /// The row in it.
    pub row: i64,
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.prefix(), self.row)
    }
}

impl FromStr for AlertId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidId(format!("`{s}` is not an alert id (p<number> or f<number>)"));
        let kind = match s.chars().next() {
            Some('p') => AlertKind::Plate,
            Some('f') => AlertKind::Face,
            _ => return Err(bad()),
        };
        let row = s[1..].parse::<i64>().map_err(|_| bad())?;
        Ok(AlertId { kind, row })
    }
}

impl Serialize for AlertId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The last plate-hit and face-hit rows a reader has seen; written `p<row>.f<row>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Last `hits` row seen.
    pub plate: i64,
    /// Last `face_hits` row seen.
    pub face: i64,
}

impl Cursor {
    /// Moves the cursor past `alert`.
    pub fn advance(&mut self, id: AlertId) {
        match id.kind {
            AlertKind::Plate => self.plate = self.plate.max(id.row),
            AlertKind::Face => self.face = self.face.max(id.row),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}.f{}", self.plate, self.face)
    }
}

impl FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidId(format!("`{s}` is not a resume token (p<number>.f<number>)"));
        let (p, f) = s.split_once('.').ok_or_else(bad)?;
        let plate = p.strip_prefix('p').and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let face = f.strip_prefix('f').and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        Ok(Cursor { plate, face })
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `p<row>` or `f<row>`.
    pub id: AlertId,
    /// Plate or face.
    pub kind: AlertKind,
    /// Camera (or file) that saw it.
    pub camera: String,
    /// When it was raised (UTC).
    pub raised_at: DateTime<Utc>,
    /// Watchlist category of the entry.
    pub category: String,
    /// `low`, `medium`, `high`, `critical`.
    pub priority: String,
    /// What was seen: the plate read, or the person's name.
    pub subject: String,
    /// Latin spelling of the plate read (plates only).
    pub latin: Option<String>,
    /// The watchlist entry: its plate, or the person id.
    pub entry: String,
    /// How it matched: `exact`, `fuzzy`, `pattern` (plates) or `face`.
    pub match_kind: String,
    /// Match score (plates: 1 = exact) or cosine similarity (faces).
    pub score: f64,
    /// The plate read row (plates only).
    pub read_id: Option<i64>,
    /// Where the camera was, when known.
    pub lat: Option<f64>,
    /// Longitude, when known.
    pub lon: Option<f64>,
    /// Whether a whole-frame snapshot is stored.
    pub has_frame: bool,
    /// `new`, `acknowledged`, `escalated`, `confirmed` or `rejected`.
    pub state: String,
    /// When the vehicle or person was seen (a retro-hit's sighting is older than its alert).
    pub seen_at: DateTime<Utc>,
    /// Raised when a watchlist entry was added, from a read stored before it.
    pub retro: bool,
    /// Later passes of the same entry on the same camera counted on this alert.
    pub repeats: i64,
    /// The latest of those passes.
    pub last_repeat_at: Option<DateTime<Utc>>,
    /// When it must be confirmed or rejected by (`[alerts] deadline_minutes`).
    pub due_at: DateTime<Utc>,
    /// When it was found past that deadline still open (it stays set once decided late).
    pub overdue_at: Option<DateTime<Utc>>,
    /// The covert list of its entry: shown only to users given that list.
    pub covert_list: Option<String>,
    /// Faces: the calibrated chance that a stranger matches the gallery this well (see
    /// [`crate::records::FaceSighting::stranger_rate`]).
    pub stranger_rate: Option<f64>,
}

/// Which alerts a reader may see: covert alerts only with their list.
#[derive(Debug, Clone, Copy)]
pub enum Visibility<'a> {
    /// Every alert (the node itself, the CLI).
    All,
    /// Alerts of no covert list, and those of these lists (an operator; none: a webhook, MQTT).
    Lists(&'a [String]),
}

impl Visibility<'_> {
    /// `NULL` (all) or the lists joined with `,` for the SQL filter [`VISIBLE`].
    fn param(self) -> Option<String> {
        match self {
            Visibility::All => None,
            Visibility::Lists(l) => Some(l.join(",")),
        }
    }

    /// Whether `alert` may be seen.
    pub fn allows(self, alert: &Alert) -> bool {
        match (self, &alert.covert_list) {
            (Visibility::All, _) | (_, None) => true,
            (Visibility::Lists(l), Some(c)) => l.iter().any(|x| x == c),
        }
    }
}

/// The visibility condition over [`ALERTS`], its lists bound as `?V`.
const VISIBLE: &str = "(?V IS NULL OR covert_list IS NULL OR instr(',' || ?V || ',', ',' || covert_list || ',') > 0)";

/// What an operator does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertAction {
    /// Seen and being handled.
    Acknowledge,
    /// Passed up (to a supervisor, to a patrol).
    Escalate,
    /// Verified: the plate (or face) matches the image and the entry. Final.
    Confirm,
    /// A false hit, with one of the configured reasons. Final.
    Reject,
}

impl AlertAction {
    fn state(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledged",
            AlertAction::Escalate => "escalated",
            AlertAction::Confirm => "confirmed",
            AlertAction::Reject => "rejected",
        }
    }

    /// `acknowledge`, `escalate`, `confirm`, `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Escalate => "escalate",
            AlertAction::Confirm => "confirm",
            AlertAction::Reject => "reject",
        }
    }

    /// Whether it decides the alert (confirm, reject).
    pub fn decides(self) -> bool {
        matches!(self, AlertAction::Confirm | AlertAction::Reject)
    }
}

/// An operator's escalation of an alert ([`EventStore::escalations_after`]).
#[derive(Debug, Clone)]
pub struct Escalation {
    /// The action's id (the sinks' cursor).
    pub action_id: i64,
    /// The alert as it is now.
    pub alert: Alert,
    /// The escalation: who, when, their comment.
    pub action: ActionRecord,
}

/// A recorded action on an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `acknowledge`, `escalate`, `confirm`, `reject`, or `overdue` (by `raqib`).
    pub action: String,
    /// The operator's comment.
    pub comment: String,
    /// A rejection's reason.
    pub reason: Option<String>,
}

/// Filters for listing alerts; every field optional.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Raised at or after.
    pub since: Option<DateTime<Utc>>,
    /// Raised before.
    pub until: Option<DateTime<Utc>>,
    /// Only this camera.
    pub camera: Option<String>,
    /// Only this watchlist category.
    pub category: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Covert alerts shown: `None` all (the node itself), else only those of these lists.
    pub lists: Option<Vec<String>>,
    /// Page size (capped at 500).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// The condition that picks alerts (not repeats) out of a hit table.
pub(crate) fn primary(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Plate => "repeat_of IS NULL",
        AlertKind::Face => "1",
    }
}

/// Both hit tables as one, with the columns of [`Alert`] in order.
pub(crate) const ALERTS: &str = "
SELECT 'p' AS k, h.id AS row_id, r.source AS camera, h.raised_at AS raised_at, h.category AS category,
       h.priority AS priority, r.plate AS subject, r.latin AS latin, h.entry_plate AS entry, h.kind AS match_kind,
       h.score AS score, r.id AS read_id, r.lat AS lat, r.lon AS lon, r.frame_jpeg IS NOT NULL AS has_frame,
       h.state AS state, r.seen_at AS seen_at, h.retro AS retro,
       (SELECT count(*) FROM hits x WHERE x.repeat_of = h.id) AS repeats,
       (SELECT max(x.raised_at) FROM hits x WHERE x.repeat_of = h.id) AS last_repeat_at, h.overdue_at AS overdue_at,
       h.covert_list AS covert_list, NULL AS stranger_rate
FROM hits h JOIN plate_reads r ON r.id = h.read_id WHERE h.repeat_of IS NULL
UNION ALL
SELECT 'f', f.id, f.source, f.raised_at, f.category, f.priority, f.name, NULL, CAST(f.person_id AS TEXT), 'face',
       f.similarity, NULL, NULL, NULL, 0, f.state, f.raised_at, 0, 0, NULL, f.overdue_at, f.covert_list, f.stranger_rate
FROM face_hits f";

fn alert_from(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let k: String = r.get(0)?;
    let kind = if k == "p" { AlertKind::Plate } else { AlertKind::Face };
    Ok(Alert {
        id: AlertId { kind, row: r.get(1)? },
        kind,
        camera: r.get(2)?,
        raised_at: utc(&r.get::<_, String>(3)?),
        category: r.get(4)?,
        priority: r.get(5)?,
        subject: r.get(6)?,
        latin: r.get(7)?,
        entry: r.get(8)?,
        match_kind: r.get(9)?,
        score: r.get(10)?,
        read_id: r.get(11)?,
        lat: r.get(12)?,
        lon: r.get(13)?,
        has_frame: r.get(14)?,
        state: r.get(15)?,
        seen_at: utc(&r.get::<_, String>(16)?),
        retro: r.get(17)?,
        repeats: r.get(18)?,
        last_repeat_at: r.get::<_, Option<String>>(19)?.as_deref().map(utc),
        // Set by the store from its policy (`EventStore::finish`).
        due_at: DateTime::<Utc>::default(),
        overdue_at: r.get::<_, Option<String>>(20)?.as_deref().map(utc),
        covert_list: r.get(21)?,
        stranger_rate: r.get(22)?,
    })
}

impl EventStore {
    /// Alerts raised after `cursor`, oldest first, at most `limit`.
    pub fn alerts_after(&self, cursor: Cursor, limit: usize) -> Result<Vec<Alert>> {
        self.alerts_after_visible(cursor, limit, Visibility::All)
    }

    /// [`EventStore::alerts_after`], only those `visibility` allows. The returned cursor
    /// position is still exact: alerts not shown are skipped, never re-sent.
    pub fn alerts_after_visible(&self, cursor: Cursor, limit: usize, visibility: Visibility<'_>) -> Result<Vec<Alert>> {
        let e = db_err(&self.path);
        let sql = format!(
            "SELECT * FROM ({ALERTS}) WHERE ((k = 'p' AND row_id > ?1) OR (k = 'f' AND row_id > ?2)) AND {}
             ORDER BY raised_at, k, row_id LIMIT ?3",
            VISIBLE.replace("?V", "?4")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        let rows = stmt
            .query_map(params![cursor.plate, cursor.face, limit as i64, visibility.param()], alert_from)
            .map_err(&e)?;
        self.finish(rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)?)
    }

    /// Whether read `read_id` hit an entry that `who` may see. A hit on a covert list they are
    /// not given does not exist for them (as its alert does not), so neither does the read's hit.
    pub fn read_hit_visible(&self, read_id: i64, who: Visibility<'_>) -> Result<bool> {
        let e = db_err(&self.path);
        let sql = format!("SELECT EXISTS(SELECT 1 FROM hits WHERE read_id = ?1 AND {})", VISIBLE.replace("?V", "?2"));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        stmt.query_row(params![read_id, who.param()], |r| r.get(0)).map_err(&e)
    }

    /// Reads as `who` may see them. A read whose every hit is hidden from `who`
    /// ([`EventStore::read_hit_visible`]) is to them a read like any other: its `hit` flag is
    /// cleared, and it is left out when a read that hit nothing would no longer be kept (seen
    /// before `plain_kept_since`, or at all when that is `None`:
    /// [`crate::retention::RetentionPolicy::plain_reads_kept_since`]), since its being kept
    /// would tell them it hit. `read` finds the read in each item.
    pub fn hide_unseen_hits<T>(
        &self,
        items: &mut Vec<T>,
        read: impl Fn(&mut T) -> &mut crate::store::StoredRead,
        who: Visibility<'_>,
        plain_kept_since: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut failed = None;
        items.retain_mut(|item| {
            let r = read(item);
            if !r.hit || failed.is_some() {
                return true;
            }
            match self.read_hit_visible(r.id, who) {
                Ok(true) => true,
                Ok(false) => {
                    r.hit = false;
                    plain_kept_since.is_some_and(|since| r.seen_at >= since)
                }
                Err(e) => {
                    failed = Some(e);
                    true
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }

    /// Sets each alert's deadline from the handling policy.
    fn finish(&self, mut alerts: Vec<Alert>) -> Result<Vec<Alert>> {
        for a in &mut alerts {
            a.due_at = self.handling.due_at(a.raised_at, &a.priority);
        }
        Ok(alerts)
    }

    /// The cursor just past every alert stored now.
    pub fn alerts_cursor(&self) -> Result<Cursor> {
        let e = db_err(&self.path);
        let plate = self.conn.query_row("SELECT coalesce(max(id), 0) FROM hits", [], |r| r.get(0)).map_err(&e)?;
        let face = self.conn.query_row("SELECT coalesce(max(id), 0) FROM face_hits", [], |r| r.get(0)).map_err(&e)?;
        Ok(Cursor { plate, face })
    }

    /// Alerts matching `filter`, newest first.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        let e = db_err(&self.path);
        let sql = format!(
            "SELECT * FROM ({ALERTS})
             WHERE (?1 IS NULL OR raised_at >= ?1) AND (?2 IS NULL OR raised_at < ?2)
               AND (?3 IS NULL OR camera = ?3) AND (?4 IS NULL OR category = ?4) AND (?5 IS NULL OR state = ?5)
               AND {}
             ORDER BY raised_at DESC, k, row_id DESC LIMIT ?6 OFFSET ?7",
            VISIBLE.replace("?V", "?8")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        let rows = stmt
            .query_map(
                params![
                    filter.since.map(|t| t.to_rfc3339()),
                    filter.until.map(|t| t.to_rfc3339()),
                    filter.camera,
                    filter.category,
                    filter.state,
                    filter.limit.clamp(1, 500) as i64,
                    filter.offset as i64,
                    filter.lists.as_ref().map(|l| l.join(","))
                ],
                alert_from,
            )
            .map_err(&e)?;
        self.finish(rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)?)
    }

    /// One alert (a repeat row is not one: its alert is the first hit).
    pub fn alert(&self, id: AlertId) -> Result<Option<Alert>> {
        let e = db_err(&self.path);
        let sql = format!("SELECT * FROM ({ALERTS}) WHERE k = ?1 AND row_id = ?2");
        let one = self
            .conn
            .query_row(&sql, params![id.kind.prefix().to_string(), id.row], alert_from)
            .optional()
            .map_err(&e)?;
        Ok(self.finish(one.into_iter().collect())?.pop())
    }

    /// Face hits of these persons, newest first (searching a face photo: only sightings of
    /// enrolled persons exist).
    pub fn alerts_of_persons(&self, person_ids: &[i64], limit: usize) -> Result<Vec<Alert>> {
        let mut out = Vec::new();
        let e = db_err(&self.path);
        let sql = format!("SELECT * FROM ({ALERTS}) WHERE k = 'f' AND entry = ?1 ORDER BY raised_at DESC LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&e)?;
        for id in person_ids {
            let rows = stmt.query_map(params![id.to_string(), limit as i64], alert_from).map_err(&e)?;
            for row in rows {
                out.push(row.map_err(&e)?);
            }
        }
        out.sort_by_key(|a| std::cmp::Reverse(a.raised_at));
        out.truncate(limit);
        self.finish(out)
    }

    /// Records an operator's action and sets the alert's state; returns the updated alert.
    /// `reject` needs one of the configured reasons ([`Error::Invalid`] otherwise); confirming
    /// or rejecting an alert already decided is refused ([`Error::Decision`]); acknowledging or
    /// escalating a decided alert is recorded and leaves its decision in place.
    pub fn act_on_alert(
        &mut self,
        id: AlertId,
        action: AlertAction,
        actor: &str,
        comment: &str,
        reason: Option<&str>,
    ) -> Result<Alert> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        match (action, reason) {
            (AlertAction::Reject, None) => {
                return Err(Error::Invalid(format!(
                    "a rejection needs a reason, one of: {}",
                    self.handling.reject_reasons.join(", ")
                )));
            }
            (AlertAction::Reject, Some(r)) => self.handling.check_reason(r)?,
            (_, Some(_)) => return Err(Error::Invalid("only a rejection takes a reason".into())),
            _ => {}
        }
        let e = db_err(&self.path);
        let table = match id.kind {
            AlertKind::Plate => "hits",
            AlertKind::Face => "face_hits",
        };
        let tx = self.conn.transaction().map_err(&e)?;
        let state: Option<String> = tx
            .query_row(&format!("SELECT state FROM {table} WHERE id = ?1 AND {}", primary(id.kind)), [id.row], |r| {
                r.get(0)
            })
            .optional()
            .map_err(&e)?;
        let Some(state) = state else { return Err(Error::NoAlert(id.to_string())) };
        let decided = !crate::handling::is_open(&state);
        if decided && action.decides() {
            return Err(Error::Decision(format!("alert {id} is already {state}")));
        }
        if !decided {
            tx.execute(&format!("UPDATE {table} SET state = ?1 WHERE id = ?2"), params![action.state(), id.row])
                .map_err(&e)?;
        }
        tx.execute(
            "INSERT INTO alert_actions (kind, row_id, at, actor, action, comment, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id.kind.prefix().to_string(),
                id.row,
                Utc::now().to_rfc3339(),
                actor,
                action.as_str(),
                comment,
                reason
            ],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        self.alert(id)?.ok_or_else(|| Error::NoAlert(id.to_string()))
    }

    /// The actions taken on an alert, oldest first.
    pub fn alert_actions(&self, id: AlertId) -> Result<Vec<ActionRecord>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, actor, action, comment, reason FROM alert_actions WHERE kind = ?1 AND row_id = ?2 ORDER BY id",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map(params![id.kind.prefix().to_string(), id.row], |r| {
                Ok(ActionRecord {
                    at: utc(&r.get::<_, String>(0)?),
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    comment: r.get(3)?,
                    reason: r.get(4)?,
                })
            })
            .map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }

    /// Escalations recorded after action `after` whose alert `who` may see, looking at no more
    /// than `limit` actions: the last action looked at (the next cursor; `after` when none) and
    /// the escalations. The sinks forward them (`Visibility::Lists(&[])`: never a covert one).
    pub fn escalations_after(&self, after: i64, limit: usize, who: Visibility<'_>) -> Result<(i64, Vec<Escalation>)> {
        let actions = self.actions_after(after, limit)?;
        let last = actions.last().map_or(after, |(id, _, _)| *id);
        let mut out = Vec::new();
        for (id, alert, action) in actions {
            if action.action != AlertAction::Escalate.as_str() {
                continue;
            }
            if let Some(alert) = self.alert(alert)?.filter(|a| who.allows(a)) {
                out.push(Escalation { action_id: id, alert, action });
            }
        }
        Ok((last, out))
    }

    /// The id of the last action recorded (0: none): where a new sink's escalations start.
    pub fn actions_cursor(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM alert_actions", [], |r| r.get(0))
            .map_err(db_err(&self.path))
    }

    /// Actions taken on any alert after action row `after` (oldest first, at most `limit`):
    /// (row, alert, action). What a node forwards to the national hub.
    pub fn actions_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, AlertId, ActionRecord)>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, row_id, at, actor, action, comment, reason FROM alert_actions WHERE id > ?1
                 ORDER BY id LIMIT ?2",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                let (kind, row): (String, i64) = (r.get(1)?, r.get(2)?);
                let record = ActionRecord {
                    at: utc(&r.get::<_, String>(3)?),
                    actor: r.get(4)?,
                    action: r.get(5)?,
                    comment: r.get(6)?,
                    reason: r.get(7)?,
                };
                Ok((r.get::<_, i64>(0)?, format!("{kind}{row}"), record))
            })
            .map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, alert, record) = row.map_err(&e)?;
            out.push((id, alert.parse::<AlertId>()?, record));
        }
        Ok(out)
    }

    /// The watchlist entry of a plate alert as it was when the hit was raised (JSON), if any.
    pub fn alert_entry(&self, id: AlertId) -> Result<Option<serde_json::Value>> {
        if id.kind != AlertKind::Plate {
            return Ok(None);
        }
        let json: Option<String> = self
            .conn
            .query_row("SELECT entry_json FROM hits WHERE id = ?1", [id.row], |r| r.get(0))
            .optional()
            .map_err(db_err(&self.path))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// The handling policy this store applies.
    pub fn handling(&self) -> &crate::handling::HandlingPolicy {
        &self.handling
    }

    /// The alerts (plate hits) that plate read `read_id` raised, oldest first.
    pub fn alerts_of_read(&self, read_id: i64) -> Result<Vec<AlertId>> {
        let e = db_err(&self.path);
        let mut stmt = self.conn.prepare_cached("SELECT id FROM hits WHERE read_id = ?1 ORDER BY id").map_err(&e)?;
        let rows = stmt.query_map([read_id], |r| Ok(AlertId { kind: AlertKind::Plate, row: r.get(0)? })).map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }

    /// The JPEG crop of an alert (plate crop or face crop).
    pub fn alert_crop(&self, id: AlertId) -> Result<Option<Vec<u8>>> {
        let sql = match id.kind {
            AlertKind::Plate => "SELECT r.crop_jpeg FROM hits h JOIN plate_reads r ON r.id = h.read_id WHERE h.id = ?1",
            AlertKind::Face => "SELECT crop_jpeg FROM face_hits WHERE id = ?1",
        };
        self.blob(sql, id.row)
    }

    /// The whole-frame JPEG of a plate alert's best shot.
    pub fn alert_frame(&self, id: AlertId) -> Result<Option<Vec<u8>>> {
        match id.kind {
            AlertKind::Plate => self
                .blob("SELECT r.frame_jpeg FROM hits h JOIN plate_reads r ON r.id = h.read_id WHERE h.id = ?1", id.row),
            AlertKind::Face => Ok(None),
        }
    }

    fn blob(&self, sql: &str, row: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(sql, [row], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(db_err(&self.path))
    }

    /// Where the sink `name` has delivered up to (its outbox is every alert after it).
    pub fn sink_cursor(&self, name: &str) -> Result<Option<Cursor>> {
        self.conn
            .query_row("SELECT plate, face FROM sink_cursors WHERE sink = ?1", [name], |r| {
                Ok(Cursor { plate: r.get(0)?, face: r.get(1)? })
            })
            .optional()
            .map_err(db_err(&self.path))
    }

    /// Stores the sink's cursor (after a delivery succeeded).
    pub fn set_sink_cursor(&mut self, name: &str, cursor: Cursor) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sink_cursors (sink, plate, face) VALUES (?1, ?2, ?3)
                 ON CONFLICT(sink) DO UPDATE SET plate = excluded.plate, face = excluded.face",
                params![name, cursor.plate, cursor.face],
            )
            .map(|_| ())
            .map_err(db_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests_support::{face_sighting, hit_for, plate_event};

    #[test]
    fn ids_and_cursors_round_trip_and_reject_garbage() {
        assert_eq!("p12".parse::<AlertId>().unwrap(), AlertId { kind: AlertKind::Plate, row: 12 });
        assert_eq!("f3".parse::<AlertId>().unwrap().to_string(), "f3");
        assert!("x3".parse::<AlertId>().is_err());
        assert!("p".parse::<AlertId>().is_err());
        let c: Cursor = "p4.f9".parse().unwrap();
        assert_eq!(c, Cursor { plate: 4, face: 9 });
        assert_eq!(c.to_string(), "p4.f9");
        assert!("p4".parse::<Cursor>().is_err());
        assert!("p4.fx".parse::<Cursor>().is_err());
    }

    #[test]
    fn alerts_merge_both_tables_resume_after_a_cursor_and_keep_actions() {
        let mut store = EventStore::open_in_memory().unwrap();
        let t0 = Utc::now();
        store.record("gate", t0, &plate_event("12345-ب-6"), &[hit_for("12345-ب-6", "stolen")]).unwrap();
        store.record("gate", t0, &plate_event("777-أ-1"), &[]).unwrap();
        store.record_face("hall", t0 + chrono::Duration::seconds(1), &face_sighting("Ahmed")).unwrap();
        let all = store.alerts_after(Cursor::default(), 100).unwrap();
        assert_eq!(all.len(), 2, "a read that hit nothing is no alert");
        assert_eq!(all[0].id.to_string(), "p1");
        assert_eq!(all[0].subject, "12345-ب-6");
        assert_eq!(all[0].category, "stolen");
        assert_eq!(all[1].id.to_string(), "f1");
        assert_eq!(all[1].subject, "Ahmed");
        let mut cursor = Cursor::default();
        cursor.advance(all[0].id);
        let rest = store.alerts_after(cursor, 100).unwrap();
        assert_eq!(rest.iter().map(|a| a.id.to_string()).collect::<Vec<_>>(), ["f1"]);
        assert_eq!(store.alerts_cursor().unwrap(), Cursor { plate: 1, face: 1 });

        let filtered =
            store.alerts(&AlertFilter { camera: Some("hall".into()), limit: 10, ..Default::default() }).unwrap();
        assert_eq!(filtered.len(), 1);
        let acked = store.act_on_alert(all[0].id, AlertAction::Acknowledge, "op1", "patrol sent", None).unwrap();
        assert_eq!(acked.state, "acknowledged");
        let actions = store.alert_actions(all[0].id).unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!((actions[0].actor.as_str(), actions[0].comment.as_str()), ("op1", "patrol sent"));
        let new_only =
            store.alerts(&AlertFilter { state: Some("new".into()), limit: 10, ..Default::default() }).unwrap();
        assert_eq!(new_only.len(), 1);
        assert!(store.act_on_alert("p99".parse().unwrap(), AlertAction::Escalate, "op1", "", None).is_err());
        assert!(store.alert_crop(all[0].id).unwrap().is_some());
        assert_eq!(store.alerts_of_persons(&[all[1].entry.parse().unwrap()], 10).unwrap().len(), 1);

        assert_eq!(store.sink_cursor("hook").unwrap(), None);
        store.set_sink_cursor("hook", cursor).unwrap();
        store.set_sink_cursor("hook", Cursor { plate: 1, face: 1 }).unwrap();
        assert_eq!(store.sink_cursor("hook").unwrap(), Some(Cursor { plate: 1, face: 1 }));
    }
}
