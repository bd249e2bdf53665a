//! The SQLite store: one file per node, WAL mode so readers (the running node) never block the
//! writer (CLI, API, imports), foreign keys on, versioned migrations.

mod persons;
mod plates;
pub(crate) mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::entry::{BUILTIN_CATEGORIES, Priority, validate_category_name};
use crate::error::{Error, Result};

pub use persons::StoredEmbedding;
pub(crate) use persons::{insert_embedding, insert_person};
pub use plates::PreparedPlate;
pub(crate) use plates::upsert as upsert_plate;

/// Who does something to the watchlist, and why; written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a> {
    /// User or system name.
    pub name: &'a str,
    /// Reason or case reference.
    pub reason: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// An actor with a reason.
    pub fn new(name: &'a str, reason: Option<&'a str>) -> Self {
        Actor { name, reason }
    }
}

/// A watchlist database.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        Self::init(raqib_core::db::open(path)?, path.to_path_buf())
    }

    /// An in-memory store, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Self> {
        Self::init(raqib_core::db::open_in_memory()?, PathBuf::from(":memory:"))
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self> {
        raqib_core::db::migrate(&mut conn, &path, schema::MIGRATIONS)?;
        let mut store = Store { conn, path };
        crate::audit::chain_legacy_rows(&mut store.conn)?;
        store.seed_categories()?;
        Ok(store)
    }

    /// After a removal: moves the write-ahead log into the file and truncates it, so deleted
    /// rows (overwritten there by `secure_delete`) are not left in the log either.
    pub(crate) fn scrub(&self) -> Result<()> {
        Ok(raqib_core::db::scrub(&self.conn, &self.path)?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds the built-in categories that are missing. Only a store that lacks one writes: an
    /// open by a reading command takes no write lock, so it never waits behind a long import.
    fn seed_categories(&self) -> Result<()> {
        let present: i64 = self.conn.query_row(
            "SELECT count(*) FROM categories WHERE name IN (SELECT value FROM json_each(?1))",
            [serde_json::to_string(&BUILTIN_CATEGORIES.iter().map(|c| c.0).collect::<Vec<_>>()).unwrap_or_default()],
            |r| r.get(0),
        )?;
        if present == BUILTIN_CATEGORIES.len() as i64 {
            return Ok(());
        }
        for (name, prio, desc) in BUILTIN_CATEGORIES {
            self.conn.execute(
                "INSERT OR IGNORE INTO categories (name, default_priority, description) VALUES (?1, ?2, ?3)",
                params![name, *prio as i64, desc],
            )?;
        }
        Ok(())
    }

    /// A counter that grows with every change to entries or embeddings, from any process.
    pub fn revision(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'revision'", [], |r| r.get(0))?)
    }

    /// Categories with their default priority.
    pub fn categories(&self) -> Result<HashMap<String, Priority>> {
        let mut stmt = self.conn.prepare("SELECT name, default_priority FROM categories")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (name, p) = row?;
            out.insert(name, Priority::from_i64(p).unwrap_or(Priority::Low));
        }
        Ok(out)
    }

    /// Adds a category (or changes its default priority).
    pub fn upsert_category(&mut self, name: &str, priority: Priority, description: &str, actor: Actor) -> Result<()> {
        validate_category_name(name)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO categories (name, default_priority, description) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET default_priority = excluded.default_priority, description = excluded.description",
            params![name, priority as i64, description],
        )?;
        crate::audit::record(&tx, actor, "category.upsert", Some(name), None)?;
        tx.commit()?;
        Ok(())
    }
}

pub(crate) fn to_ts(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

pub(crate) fn from_ts(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|s| DateTime::from_timestamp(s, 0))
}

/// Applies the process's database key (encryption at rest), then checks the file can be read:
/// a wrong or missing key is a clear error, not a corrupt-file one.
pub(crate) fn now_ts() -> i64 {
    Utc::now().timestamp()
}

/// Looks up a category's default priority, failing with a list of known ones.
pub(crate) fn category_priority(conn: &Connection, name: &str) -> Result<Priority> {
    let p: Option<i64> =
        conn.query_row("SELECT default_priority FROM categories WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    match p.and_then(Priority::from_i64) {
        Some(p) => Ok(p),
        None => {
            let mut stmt = conn.prepare("SELECT name FROM categories ORDER BY name")?;
            let known: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Err(Error::invalid("category", format!("`{name}` is not a category (known: {})", known.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_and_reading_take_no_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let new =
            crate::NewPlateEntry {
                plate: "12345-ب-6".into(), category: "stolen_vehicle".into(), ..Default::default()
            };
        Store::open(&db).unwrap().add_plate(&new, Actor::new("t", Some("setup"))).unwrap();
        // A long import in another process holds the write lock.
        let importer = rusqlite::Connection::open(&db).unwrap();
        importer.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let store = Store::open(&db).unwrap();
        assert_eq!(store.plates().unwrap().len(), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        importer.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/watchlist.db");
        {
            let store = Store::open(&path).unwrap();
            assert_eq!(store.revision().unwrap(), 0);
            assert!(store.categories().unwrap().contains_key("stolen_vehicle"));
        }
        let store = Store::open(&path).unwrap();
        let v: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, schema::MIGRATIONS.len() as i64);
        let mode: String = store.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Store::open(&path), Err(Error::Open(e)) if e.cause.contains("newer than this raqib")));
    }

    #[test]
    fn unknown_category_lists_known_ones() {
        let store = Store::open_in_memory().unwrap();
        let err = category_priority(&store.conn, "stolen").unwrap_err().to_string();
        assert!(err.starts_with("category:") && err.contains("stolen_vehicle"), "{err}");
    }
}
