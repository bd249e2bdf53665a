//! The one way raqib opens its SQLite databases (`watchlist.db`, `events.db`, `users.db`): the
//! same settings for all three (write-ahead log, 10 s busy timeout, foreign keys,
//! `secure_delete` so deleted rows are overwritten in the file), the process's database key
//! ([`crate::db_key`]) applied and checked at once with one clear message for a wrong or missing
//! key, other failures named by their real cause, and versioned migrations (`user_version`).
//!
//! `rusqlite` (with SQLCipher bundled) is the one heavy dependency of this crate; it sits here
//! because every store needs exactly this and the stores must not disagree about it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

/// What the wrong-key message says after the file name, the same for every database.
pub const WRONG_KEY: &str = "cannot be read with the database key this node was given: it is encrypted with \
                             another key, or the key is missing (RAQIB_DB_KEY / node.db_key_file), or it is not \
                             a raqib database";

/// A database that could not be opened or migrated: the file and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {cause}", path.display())]
pub struct DbError {
    /// The database file.
    pub path: PathBuf,
    /// Why, in words (the wrong-key case is [`WRONG_KEY`]).
    pub cause: String,
    /// The database rejected the key (or is not a database).
    pub wrong_key: bool,
}

impl DbError {
    fn new(path: &Path, cause: impl Into<String>) -> DbError {
        DbError { path: path.to_path_buf(), cause: cause.into(), wrong_key: false }
    }

    /// A failure of a statement on the database at `path`, its cause named.
    pub fn sql(path: &Path, e: &rusqlite::Error) -> DbError {
        DbError::new(path, cause_of(e))
    }
}

/// The cause of an SQLite failure in words a person can act on.
pub fn cause_of(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => format!("the disk is full ({e})"),
        Some(ErrorCode::ReadOnly) => format!("the database is read-only here ({e})"),
        Some(ErrorCode::CannotOpen) => format!("cannot open the file: missing folder or no permission ({e})"),
        Some(ErrorCode::DatabaseCorrupt) => format!("the file is damaged ({e})"),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("another process holds the database locked ({e})")
        }
        Some(ErrorCode::PermissionDenied) => format!("no permission ({e})"),
        _ => e.to_string(),
    }
}

/// Opens (creating if needed, with its folder) the database at `path` with raqib's settings and
/// the process's key, checked.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbError::new(path, format!("cannot create the folder {}: {e}", parent.display())))?;
    }
    let conn = Connection::open(path).map_err(|e| DbError::sql(path, &e))?;
    if let Some(key) = crate::db_key::get() {
        conn.pragma_update(None, "key", key).map_err(|e| DbError::sql(path, &e))?;
    }
    // The first read of the schema is where a wrong key (or a file that is no database) shows.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        return Err(match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                DbError { path: path.to_path_buf(), cause: WRONG_KEY.into(), wrong_key: true }
            }
            _ => DbError::sql(path, &e),
        });
    }
    configure(&conn, path)?;
    Ok(conn)
}

/// An in-memory database with the same settings (tests, benchmarks).
pub fn open_in_memory() -> Result<Connection, DbError> {
    let path = Path::new(":memory:");
    let conn = Connection::open_in_memory().map_err(|e| DbError::sql(path, &e))?;
    configure(&conn, path)?;
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let e = |e: rusqlite::Error| DbError::sql(path, &e);
    conn.busy_timeout(Duration::from_secs(10)).map_err(e)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(e)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(e)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(e)?;
    conn.pragma_update(None, "secure_delete", true).map_err(e)?;
    Ok(())
}

/// Brings the schema up to `migrations.len()`: each migration not yet applied (by
/// `user_version`) runs in its own transaction with the version bump. A database newer than
/// this build is refused, not touched.
pub fn migrate(conn: &mut Connection, path: &Path, migrations: &[&str]) -> Result<(), DbError> {
    let e = |e: rusqlite::Error| DbError::sql(path, &e);
    let known = migrations.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(e)?;
    if found > known {
        return Err(DbError::new(
            path,
            format!("its schema is version {found}, newer than this raqib knows ({known}): upgrade raqib"),
        ));
    }
    for (i, sql) in migrations.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction().map_err(e)?;
        tx.execute_batch(sql).map_err(e)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(e)?;
        tx.commit().map_err(e)?;
    }
    Ok(())
}

/// Moves the write-ahead log into the file and truncates it, so rows just deleted (and
/// overwritten in the file by `secure_delete`) are not left in the log either.
pub fn scrub(conn: &Connection, path: &Path) -> Result<(), DbError> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| DbError::sql(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_migrations_and_causes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.db");
        let mut conn = open(&path).unwrap();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let secure: i64 = conn.pragma_query_value(None, "secure_delete", |r| r.get(0)).unwrap();
        assert_eq!((mode.as_str(), secure), ("wal", 1));
        let m = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"];
        migrate(&mut conn, &path, &m[..1]).unwrap();
        migrate(&mut conn, &path, &m).unwrap();
        migrate(&mut conn, &path, &m).unwrap();
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'z')", []).unwrap();
        let newer = migrate(&mut conn, &path, &m[..1]).unwrap_err();
        assert!(newer.cause.contains("newer than this raqib"), "{newer}");
        drop(conn);
        // A file that is no database: the wrong-key message, naming the file.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![7u8; 8192]).unwrap();
        let err = open(&junk).unwrap_err();
        assert!(err.wrong_key && err.to_string() == format!("{}: {WRONG_KEY}", junk.display()), "{err}");
        // A folder that cannot be created: said so.
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let err = open(&dir.path().join("file/x.db")).unwrap_err();
        assert!(err.cause.contains("cannot create the folder"), "{err}");
    }
}
