//! The events store: plate reads and the hits they raised, in SQLite, indexed for search by
//! plate key, time and source.
//!
//! One row per track (one vehicle passing), never per frame. Reads keep their plate crop; hits
//! keep the watchlist entry as it was when the hit was raised (a later edit or removal of the
//! entry does not rewrite history). Searching by exact key, by wildcard pattern over the key
//! (`?` one character, `*` any run) and by time range and source is indexed.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use raqib_watchlist::{Pattern, PlateMatch};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::records::PlateEvent;

/// Migration 2: plate formats were stored by their Rust variant names (`MoroccoStandard`); they
/// are stored by their stable names (`PlateFormat::as_str`, `morocco_standard`) from now on.
/// Priorities and match kinds were already stored by theirs.
const STABLE_FORMAT_NAMES: &str = "UPDATE plate_reads SET format = CASE format WHEN 'MoroccoStandard' THEN 'morocco_standard' WHEN 'MoroccoTemporary' THEN 'morocco_temporary' WHEN 'MoroccoGovernment' THEN 'morocco_government' WHEN 'Diplomatic' THEN 'diplomatic' WHEN 'BrazilOld' THEN 'brazil_old' WHEN 'BrazilMercosur' THEN 'brazil_mercosur' WHEN 'FranceItaly' THEN 'france_italy' WHEN 'Spain' THEN 'spain' WHEN 'Belgium' THEN 'belgium' WHEN 'Generic' THEN 'generic' ELSE format END;";

/// Migration 3: where a row came from, for rows recorded from a recorded file (a replay):
/// `<file fingerprint>/<kind>/<what>/<frame>`, unique, so re-running a replay after a crash or
/// a kill adds nothing twice ([`EventStore::record_once`]). Live rows have none.
const ORIGINS: &str = "ALTER TABLE plate_reads ADD COLUMN origin TEXT;
ALTER TABLE face_hits ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX plate_reads_origin ON plate_reads(origin) WHERE origin IS NOT NULL;
CREATE UNIQUE INDEX face_hits_origin ON face_hits(origin) WHERE origin IS NOT NULL;";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS plate_reads (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    track INTEGER NOT NULL,
    seen_at TEXT NOT NULL,
    media_time REAL,
    plate TEXT NOT NULL,
    latin TEXT NOT NULL,
    key TEXT NOT NULL,
    format TEXT NOT NULL,
    confidence REAL NOT NULL,
    reads INTEGER NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    crop_jpeg BLOB,
    hit INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS plate_reads_key ON plate_reads(key, seen_at);
CREATE INDEX IF NOT EXISTS plate_reads_time ON plate_reads(seen_at);
CREATE INDEX IF NOT EXISTS plate_reads_source ON plate_reads(source, seen_at);
CREATE TABLE IF NOT EXISTS hits (
    id INTEGER PRIMARY KEY,
    read_id INTEGER NOT NULL REFERENCES plate_reads(id) ON DELETE CASCADE,
    raised_at TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    entry_plate TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    entry_json TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'new'
);
CREATE INDEX IF NOT EXISTS hits_time ON hits(raised_at);
CREATE INDEX IF NOT EXISTS hits_read ON hits(read_id);
CREATE TABLE IF NOT EXISTS face_hits (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    track INTEGER NOT NULL,
    raised_at TEXT NOT NULL,
    media_time REAL,
    person_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    similarity REAL NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    crop_jpeg BLOB,
    state TEXT NOT NULL DEFAULT 'new'
);
CREATE INDEX IF NOT EXISTS face_hits_time ON face_hits(raised_at);
CREATE INDEX IF NOT EXISTS face_hits_person ON face_hits(person_id);
CREATE TABLE IF NOT EXISTS alert_actions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_actions_alert ON alert_actions(kind, row_id);
CREATE TABLE IF NOT EXISTS sink_cursors (
    sink TEXT PRIMARY KEY,
    plate INTEGER NOT NULL,
    face INTEGER NOT NULL
);
";

/// A stored plate read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRead {
    /// Row id.
    pub id: i64,
    /// Camera id or file.
    pub source: String,
    /// Track id within the source.
    pub track: i64,
    /// When it was recorded (UTC).
    pub seen_at: DateTime<Utc>,
    /// Seconds into the media, for recorded files.
    pub media_time: Option<f64>,
    /// Canonical plate.
    pub plate: String,
    /// Latin transliteration.
    pub latin: String,
    /// Match key.
    pub key: String,
    /// Vote confidence.
    pub confidence: f64,
    /// Whether it raised a hit.
    pub hit: bool,
}

impl StoredRead {
    /// One line: `#id  time  source at N s  plate (latin)  conf C`.
    pub fn summary(&self) -> String {
        let media = self.media_time.map(|t| format!(" at {t:.2} s")).unwrap_or_default();
        format!(
            "#{:<6} {}  {}{media}  {} ({})  conf {:.2}",
            self.id,
            self.seen_at.format("%Y-%m-%d %H:%M:%S"),
            self.source,
            self.plate,
            self.latin,
            self.confidence
        )
    }
}

/// A `plate_reads` row selected as `id, source, track, seen_at, media_time, plate, latin, key,
/// confidence, hit`.
pub(crate) fn stored_read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRead> {
    Ok(StoredRead {
        id: r.get(0)?,
        source: r.get(1)?,
        track: r.get(2)?,
        seen_at: utc(&r.get::<_, String>(3)?),
        media_time: r.get(4)?,
        plate: r.get(5)?,
        latin: r.get(6)?,
        key: r.get(7)?,
        confidence: r.get(8)?,
        hit: r.get(9)?,
    })
}

/// A stored RFC 3339 time stamp (the store writes them all with `to_rfc3339`); an unreadable one
/// reads as the epoch rather than failing the whole query.
pub(crate) fn utc(stored: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(stored).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// What recording one outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored as this row.
    Stored(i64),
    /// An earlier run stored it already (same origin), as this row: nothing was added.
    AlreadyStored(i64),
    /// Not kept: a read that hit nothing while retention keeps hits only.
    NotKept,
}

impl Recorded {
    /// The row id (0: not kept).
    pub fn row(self) -> i64 {
        match self {
            Recorded::Stored(id) | Recorded::AlreadyStored(id) => id,
            Recorded::NotKept => 0,
        }
    }
}

/// The row of `table` already stored with `origin`, if any.
fn stored_origin(conn: &Connection, table: &str, origin: Option<&str>) -> rusqlite::Result<Option<i64>> {
    match origin {
        Some(o) => conn.query_row(&format!("SELECT id FROM {table} WHERE origin = ?1"), [o], |r| r.get(0)).optional(),
        None => Ok(None),
    }
}

/// The events database.
pub struct EventStore {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Write reads that hit nothing (retention `reads_days = 0` turns this off).
    pub(crate) keep_non_hits: bool,
    /// Hides bystanders in the whole frames stored as evidence.
    redactor: Option<Box<dyn crate::redact::Redactor>>,
    /// `[alerts]`: repeat window and deadlines ([`crate::handling`]).
    pub(crate) handling: crate::handling::HandlingPolicy,
    /// The fuzzy read search's index, kept between searches (a mutex: searches take `&self`).
    pub(crate) fuzzy_keys: std::sync::Mutex<Option<crate::read_search::KeyCache>>,
}

pub(crate) fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Events { path: path.to_path_buf(), message: raqib_core::db::cause_of(&e) }
}

fn open_err(e: raqib_core::db::DbError) -> Error {
    Error::Events { path: e.path, message: e.cause }
}

/// Migration 6: the calibrated stranger rate of a face hit
/// ([`crate::records::FaceSighting::stranger_rate`]).
const FACE_STRANGER_RATE: &str = "ALTER TABLE face_hits ADD COLUMN stranger_rate REAL;";

/// Migration 7: the covert list of a face hit's person (as `hits.covert_list` for plates).
const FACE_COVERT_LIST: &str = "ALTER TABLE face_hits ADD COLUMN covert_list TEXT;";

impl EventStore {
    /// Opens (creating if needed) the store at `path` ([`raqib_core::db::open`]: the node's
    /// key, WAL, `secure_delete`, versioned schema).
    pub fn open(path: &Path) -> Result<Self> {
        Self::init(raqib_core::db::open(path).map_err(open_err)?, path.to_path_buf())
    }

    /// An in-memory store for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::init(raqib_core::db::open_in_memory().map_err(open_err)?, PathBuf::from(":memory:"))
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        raqib_core::db::migrate(
            &mut conn,
            &path,
            &[
                SCHEMA,
                STABLE_FORMAT_NAMES,
                ORIGINS,
                crate::deletion::ORPHAN_MARKS,
                crate::decisions::HANDLING,
                FACE_STRANGER_RATE,
                FACE_COVERT_LIST,
            ],
        )
        .map_err(open_err)?;
        {
            let e = db_err(&path);
            // Columns added after the first release of the store.
            for (column, kind) in [("lat", "REAL"), ("lon", "REAL"), ("frame_jpeg", "BLOB")] {
                let exists: bool = conn
                    .query_row("SELECT count(*) FROM pragma_table_info('plate_reads') WHERE name = ?1", [column], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(&e)?
                    > 0;
                if !exists {
                    conn.execute_batch(&format!("ALTER TABLE plate_reads ADD COLUMN {column} {kind}")).map_err(&e)?;
                }
            }
        }
        Ok(EventStore {
            conn,
            path,
            keep_non_hits: true,
            redactor: None,
            handling: Default::default(),
            fuzzy_keys: Default::default(),
        })
    }

    /// After rows were deleted: the write-ahead log moved into the file and truncated
    /// ([`raqib_core::db::scrub`]; with `secure_delete`, nothing deleted stays readable on disk),
    /// and the read search's key index dropped.
    pub(crate) fn scrub_deleted(&self) -> Result<()> {
        raqib_core::db::scrub(&self.conn, &self.path).map_err(open_err)?;
        self.forget_keys();
        Ok(())
    }

    /// Hides other plates and faces in the whole frames stored with hits (see [`crate::redact`]).
    pub fn set_redactor(&mut self, redactor: Option<Box<dyn crate::redact::Redactor>>) {
        self.redactor = redactor;
    }

    /// Records a watchlist person's sighting (faces of people not on a watchlist are never
    /// recorded); returns its row id.
    pub fn record_face(&mut self, source: &str, at: DateTime<Utc>, s: &crate::records::FaceSighting) -> Result<i64> {
        Ok(self.insert_face(source, at, s, None)?.row())
    }

    /// As [`EventStore::record_face`], once per `origin` (see [`EventStore::record_once`]).
    pub fn record_face_once(
        &mut self,
        origin: &str,
        source: &str,
        at: DateTime<Utc>,
        s: &crate::records::FaceSighting,
    ) -> Result<Recorded> {
        self.insert_face(source, at, s, Some(origin))
    }

    fn insert_face(
        &mut self,
        source: &str,
        at: DateTime<Utc>,
        s: &crate::records::FaceSighting,
        origin: Option<&str>,
    ) -> Result<Recorded> {
        let e = db_err(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        if let Some(id) = stored_origin(&tx, "face_hits", origin).map_err(&e)? {
            return Ok(Recorded::AlreadyStored(id));
        }
        tx.execute(
            "INSERT INTO face_hits (source, track, raised_at, media_time, person_id, name, category, priority,
                                    similarity, x1, y1, x2, y2, crop_jpeg, origin, stranger_rate, covert_list)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                source,
                s.track as i64,
                at.to_rfc3339(),
                s.best_time_s,
                s.person_id,
                s.name,
                s.category,
                s.priority.as_str(),
                f64::from(s.similarity),
                s.bbox.x1,
                s.bbox.y1,
                s.bbox.x2,
                s.bbox.y2,
                s.crop_jpeg,
                origin,
                s.stranger_rate,
                s.scope.covert_list,
            ],
        )
        .map_err(&e)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(&e)?;
        Ok(Recorded::Stored(id))
    }

    /// Face hits recorded, newest first (at most `limit`): (source, person name, similarity).
    pub fn face_hits(&self, limit: usize) -> Result<Vec<(String, String, f64)>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare("SELECT source, name, similarity FROM face_hits ORDER BY raised_at DESC, id DESC LIMIT ?1")
            .map_err(&e)?;
        let rows = stmt
            .query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&e)?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(&e)?;
        Ok(rows)
    }

    /// Records a read and its hits in one transaction; returns the read's row id (0 when
    /// it hit nothing and non-hit reads are not kept).
    pub fn record(&mut self, source: &str, at: DateTime<Utc>, event: &PlateEvent, hits: &[PlateMatch]) -> Result<i64> {
        self.record_at(source, at, event, hits, None)
    }

    /// As [`EventStore::record`], with where the camera was; a read that hit also keeps the
    /// whole frame of its best shot as evidence (reads that hit nothing keep their plate crop only).
    pub fn record_at(
        &mut self,
        source: &str,
        at: DateTime<Utc>,
        event: &PlateEvent,
        hits: &[PlateMatch],
        location: Option<(f64, f64)>,
    ) -> Result<i64> {
        Ok(self.insert_read(source, at, event, hits, location, None)?.row())
    }

    /// As [`EventStore::record_at`], once per `origin`: a read (with its hits) whose origin is
    /// already stored adds nothing. Replays give each outcome an origin made of the file's
    /// fingerprint and where in the file it was found, so re-running a replay that crashed or
    /// was killed half-way adds only what the first run had not stored.
    pub fn record_once(
        &mut self,
        origin: &str,
        source: &str,
        at: DateTime<Utc>,
        event: &PlateEvent,
        hits: &[PlateMatch],
        location: Option<(f64, f64)>,
    ) -> Result<Recorded> {
        self.insert_read(source, at, event, hits, location, Some(origin))
    }

    fn insert_read(
        &mut self,
        source: &str,
        at: DateTime<Utc>,
        event: &PlateEvent,
        hits: &[PlateMatch],
        location: Option<(f64, f64)>,
        origin: Option<&str>,
    ) -> Result<Recorded> {
        if hits.is_empty() && !self.keep_non_hits {
            return Ok(Recorded::NotKept);
        }
        let e = db_err(&self.path);
        // Already stored: no need to redact its frame again (the check inside the transaction
        // below is the one that decides).
        if let Some(id) = stored_origin(&self.conn, "plate_reads", origin).map_err(&e)? {
            return Ok(Recorded::AlreadyStored(id));
        }
        let frame = match (&mut self.redactor, &event.frame_image) {
            (_, _) if hits.is_empty() => Vec::new(),
            (Some(r), Some(img)) => r.redact(img, &event.bbox).as_ref().map(crate::records::jpeg).unwrap_or_default(),
            _ => crate::records::frame_jpeg(event),
        };
        let tx = self.conn.transaction().map_err(&e)?;
        if let Some(id) = stored_origin(&tx, "plate_reads", origin).map_err(&e)? {
            return Ok(Recorded::AlreadyStored(id));
        }
        tx.execute(
            "INSERT INTO plate_reads (source, track, seen_at, media_time, plate, latin, key, format, confidence, reads,
                                      x1, y1, x2, y2, crop_jpeg, hit, lat, lon, frame_jpeg, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            params![
                source,
                event.track as i64,
                at.to_rfc3339(),
                event.first_seen_s,
                event.plate.canonical(),
                event.plate.latin_alias(),
                event.plate.key(),
                event.plate.format().as_str(),
                f64::from(event.confidence),
                event.reads as i64,
                event.bbox.x1,
                event.bbox.y1,
                event.bbox.x2,
                event.bbox.y2,
                (!event.crop_jpeg.is_empty()).then_some(&event.crop_jpeg),
                !hits.is_empty(),
                location.map(|l| l.0),
                location.map(|l| l.1),
                (!frame.is_empty()).then_some(&frame),
                origin,
            ],
        )
        .map_err(&e)?;
        let read_id = tx.last_insert_rowid();
        let window = self.handling.repeat_window();
        for h in hits {
            // Repeat suppression: the same entry on the same camera shortly after its alert is
            // stored as a repeat of that alert, not raised again.
            let repeat_of: Option<i64> = match window {
                Some(w) => tx
                    .query_row(
                        "SELECT h.id FROM hits h JOIN plate_reads r ON r.id = h.read_id
                         WHERE h.entry_id = ?1 AND h.entry_plate = ?2 AND h.repeat_of IS NULL AND h.retro = 0
                           AND r.source = ?3 AND h.raised_at >= ?4 AND h.raised_at <= ?5
                         ORDER BY h.raised_at DESC, h.id DESC LIMIT 1",
                        params![h.entry.id, h.entry.plate.canonical(), source, (at - w).to_rfc3339(), at.to_rfc3339()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(&e)?,
                None => None,
            };
            tx.execute(
                "INSERT INTO hits (read_id, raised_at, entry_id, entry_plate, category, priority, kind, score, entry_json,
                                   repeat_of, covert_list)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    read_id,
                    at.to_rfc3339(),
                    h.entry.id,
                    h.entry.plate.canonical(),
                    h.entry.category,
                    h.entry.priority.as_str(),
                    h.kind.as_str(),
                    f64::from(h.score),
                    serde_json::to_string(&h.entry).unwrap_or_default(),
                    repeat_of,
                    h.entry.scope.covert_list,
                ],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)?;
        Ok(Recorded::Stored(read_id))
    }

    /// Reads whose key matches `pattern` (a plate in any spelling, or with `?`/`*` wildcards),
    /// newest first, at most `limit`.
    pub fn search(&self, pattern: &str, limit: usize) -> Result<Vec<StoredRead>> {
        // A whole plate (no wildcard) is looked up by its key, so every spelling works, also
        // multi-letter transliterations (`SH` for `ش`) that a per-character pattern cannot see.
        if !pattern.contains(['*', '?'])
            && let Ok(plate) = raqib_core::PlateText::parse(pattern, None)
        {
            return self.reads_with_key(plate.key(), limit);
        }
        let pattern = Pattern::parse(pattern).map_err(Error::Search)?;
        // A selective pattern is looked up in the key index (a full scan would read every row
        // to find a few); a broad one is scanned newest first and stops at `limit` soon.
        if let Some(keys) = self.keys_matching(&pattern)? {
            let mut out = Vec::new();
            for key in keys {
                out.extend(self.reads_with_key(&key, limit)?);
            }
            out.sort_by(|a, b| b.seen_at.cmp(&a.seen_at).then(b.id.cmp(&a.id)));
            out.truncate(limit);
            return Ok(out);
        }
        let like = pattern.sql_like();
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, source, track, seen_at, media_time, plate, latin, key, confidence, hit
                 FROM plate_reads WHERE key LIKE ?1 ESCAPE '\\' ORDER BY seen_at DESC, id DESC",
            )
            .map_err(&e)?;
        let rows = stmt.query_map(params![like], stored_read).map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(&e)?;
            if pattern.matches(&row.key) {
                out.push(row);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// One read by its id.
    pub fn read(&self, read_id: i64) -> Result<Option<StoredRead>> {
        self.conn
            .query_row(
                "SELECT id, source, track, seen_at, media_time, plate, latin, key, confidence, hit
                 FROM plate_reads WHERE id = ?1",
                [read_id],
                stored_read,
            )
            .optional()
            .map_err(db_err(&self.path))
    }

    /// The plate crop JPEG of a read.
    pub fn crop(&self, read_id: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row("SELECT crop_jpeg FROM plate_reads WHERE id = ?1", [read_id], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(db_err(&self.path))
    }

    /// Number of stored reads and hits.
    pub fn counts(&self) -> Result<(i64, i64)> {
        let e = db_err(&self.path);
        let reads = self.conn.query_row("SELECT count(*) FROM plate_reads", [], |r| r.get(0)).map_err(&e)?;
        let hits = self.conn.query_row("SELECT count(*) FROM hits", [], |r| r.get(0)).map_err(&e)?;
        Ok((reads, hits))
    }
}

/// Events and hits for tests of this crate's store modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use raqib_core::PlateText;
    use raqib_models::face::Bbox;
    use raqib_watchlist::{MatchKind, PlateEntry, PlateMatch, Priority};

    use crate::records::FaceSighting;
    use crate::records::PlateEvent;

    /// A voted read of `text` with a tiny crop and frame.
    pub fn plate_event(text: &str) -> PlateEvent {
        super::tests::event(text, 1)
    }

    /// An exact hit on an entry for `plate` in `category`.
    pub fn hit_for(plate: &str, category: &str) -> PlateMatch {
        let plate = PlateText::parse(plate, None).unwrap();
        PlateMatch {
            entry: PlateEntry {
                id: 1,
                original: plate.canonical().into(),
                plate,
                country: Some("MA".into()),
                category: category.into(),
                priority: Priority::High,
                case_ref: None,
                issuing_unit: None,
                vehicle_make: None,
                vehicle_colour: None,
                valid_from: None,
                expires_at: None,
                notes: None,
                person_id: None,
                scope: Default::default(),
            },
            kind: MatchKind::Exact,
            distance: 0.0,
            score: 1.0,
            edits: vec![],
        }
    }

    /// A sighting of person 7 called `name`.
    pub fn face_sighting(name: &str) -> FaceSighting {
        FaceSighting {
            track: 1,
            person_id: 7,
            name: name.into(),
            category: "wanted".into(),
            priority: Priority::Critical,
            similarity: 0.6,
            votes: 3,
            embeddings: 4,
            first_seen_s: None,
            last_seen_s: None,
            best_frame: 3,
            best_time_s: None,
            bbox: Bbox { x1: 1.0, y1: 2.0, x2: 3.0, y2: 4.0 },
            crop_jpeg: vec![0xFF, 0xD8, 7],
            stranger_rate: Some(1e-4),
            scope: raqib_watchlist::Scope::default(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use raqib_core::PlateText;
    use raqib_models::face::Bbox;

    pub(crate) fn event(text: &str, track: u64) -> PlateEvent {
        let p = PlateText::parse(text, None).unwrap();
        PlateEvent {
            track,
            plate: p,
            confidence: 0.9,
            reads: 5,
            frames: 6,
            first_seen_s: Some(1.5),
            last_seen_s: Some(2.0),
            best_frame: 40,
            best_time_s: Some(1.8),
            bbox: Bbox { x1: 1.0, y1: 2.0, x2: 3.0, y2: 4.0 },
            crop_jpeg: vec![0xFF, 0xD8, 1, 2],
            positions: vec![],
            frame_image: Some(std::sync::Arc::new(raqib_models::RgbImage { width: 4, height: 4, data: vec![9; 48] })),
        }
    }

    #[test]
    fn formats_stored_by_variant_name_are_migrated_to_their_stable_names() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("events.db");
        {
            let mut s = EventStore::open(&db).unwrap();
            s.record("cam", Utc::now(), &event("12345 ب 6", 1), &[]).unwrap();
            // What a store of the first schema version holds.
            s.conn
                .execute_batch(
                    "DROP INDEX hits_repeat_of; DROP INDEX hits_entry;
                     ALTER TABLE hits DROP COLUMN repeat_of; ALTER TABLE hits DROP COLUMN retro;
                     ALTER TABLE hits DROP COLUMN overdue_at; ALTER TABLE face_hits DROP COLUMN overdue_at;
                     ALTER TABLE hits DROP COLUMN covert_list;
                     ALTER TABLE alert_actions DROP COLUMN reason;
                     DROP INDEX plate_reads_origin; DROP INDEX face_hits_origin;
                     ALTER TABLE plate_reads DROP COLUMN origin; ALTER TABLE face_hits DROP COLUMN origin;
                     ALTER TABLE hits DROP COLUMN orphaned_at; ALTER TABLE face_hits DROP COLUMN orphaned_at;
                     ALTER TABLE face_hits DROP COLUMN stranger_rate; ALTER TABLE face_hits DROP COLUMN covert_list;
                     UPDATE plate_reads SET format = 'MoroccoStandard'; PRAGMA user_version = 1;",
                )
                .unwrap();
        }
        let mut s = EventStore::open(&db).unwrap();
        let stored: String = s.conn.query_row("SELECT format FROM plate_reads", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, "morocco_standard");
        let version: i64 = s.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 7);
        // Migration 3 gave the old store its origins.
        assert!(matches!(
            s.record_once("f/plate/A/1", "cam", Utc::now(), &event("B", 2), &[], None),
            Ok(Recorded::Stored(_))
        ));
    }

    #[test]
    fn an_outcome_with_an_origin_is_stored_once_with_its_hits() {
        let mut s = EventStore::open_in_memory().unwrap();
        let hit = [crate::store::tests_support::hit_for("12345-ب-6", "stolen_vehicle")];
        let first =
            s.record_once("fp/plate/12345b6/40", "a.mp4", Utc::now(), &event("12345 ب 6", 1), &hit, None).unwrap();
        let Recorded::Stored(id) = first else { panic!("{first:?}") };
        let again =
            s.record_once("fp/plate/12345b6/40", "a.mp4", Utc::now(), &event("12345 ب 6", 1), &hit, None).unwrap();
        assert_eq!(again, Recorded::AlreadyStored(id));
        assert_eq!(s.counts().unwrap(), (1, 1), "one read, one hit");
        // Another origin, or none (live), is another row.
        s.record_once("fp/plate/12345b6/90", "a.mp4", Utc::now(), &event("12345 ب 6", 2), &hit, None).unwrap();
        s.record("cam", Utc::now(), &event("12345 ب 6", 3), &hit).unwrap();
        s.record("cam", Utc::now(), &event("12345 ب 6", 3), &hit).unwrap();
        assert_eq!(s.counts().unwrap(), (4, 4));
        let face = crate::store::tests_support::face_sighting("Ahmed");
        let f = s.record_face_once("fp/face/7/12", "a.mp4", Utc::now(), &face).unwrap();
        assert_eq!(
            s.record_face_once("fp/face/7/12", "a.mp4", Utc::now(), &face).unwrap(),
            Recorded::AlreadyStored(f.row())
        );
        let faces: i64 = s.conn.query_row("SELECT count(*) FROM face_hits", [], |r| r.get(0)).unwrap();
        assert_eq!(faces, 1);
        // The calibrated stranger rate travels with the face alert; plates have none.
        let alerts = s.alerts(&crate::alerts::AlertFilter { limit: 10, ..Default::default() }).unwrap();
        let face = alerts.iter().find(|a| a.kind == crate::alerts::AlertKind::Face).unwrap();
        assert_eq!(face.stranger_rate, Some(1e-4));
        assert!(alerts.iter().filter(|a| a.kind == crate::alerts::AlertKind::Plate).all(|a| a.stranger_rate.is_none()));
    }

    #[test]
    fn reads_are_found_by_any_spelling_and_by_wildcard() {
        let mut s = EventStore::open_in_memory().unwrap();
        let now = Utc::now();
        let id = s.record("cam-1", now, &event("12345 ب 6", 1), &[]).unwrap();
        s.record("cam-2", now, &event("AB-123-CD", 2), &[]).unwrap();
        assert_eq!(s.search("12345-B-6", 10).unwrap().len(), 1, "Latin spelling of the Arabic letter");
        s.record("cam-1", now, &event("4521-ش-12", 4), &[]).unwrap();
        assert_eq!(s.search("4521-SH-12", 10).unwrap().len(), 1, "two-letter transliteration");
        assert_eq!(s.search("4521 ش 12", 10).unwrap().len(), 1);
        assert_eq!(s.search("12?45*", 10).unwrap()[0].id, id);
        assert_eq!(s.search("*123*", 10).unwrap().len(), 2);
        assert!(s.search("*", 10).is_err(), "a search must name something");
        assert!(s.search("12?45-X-*", 10).unwrap().is_empty());
        assert_eq!(s.crop(id).unwrap(), Some(vec![0xFF, 0xD8, 1, 2]));
        assert_eq!(s.counts().unwrap(), (3, 0));
        // A read that hit nothing keeps no whole frame; the camera's place is kept.
        let id = s.record_at("cam-3", now, &event("22222 د 7", 3), &[], Some((33.57, -7.59))).unwrap();
        let (frame, lat): (Option<Vec<u8>>, Option<f64>) = s
            .conn
            .query_row("SELECT frame_jpeg, lat FROM plate_reads WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert!(frame.is_none());
        assert_eq!(lat, Some(33.57));
    }
}
