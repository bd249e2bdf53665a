//! The key that encrypts the node's SQLite databases at rest (SQLCipher), set once per process
//! by the binary from `RAQIB_DB_KEY` or `node.db_key_file`, and applied by every store when it
//! opens a database. No key: plain SQLite files.
//!
//! Kept here, in the one crate every store depends on, so the watchlist, events and users
//! databases cannot disagree about it.

use std::sync::OnceLock;

static KEY: OnceLock<String> = OnceLock::new();

/// Sets the key for this process (only the first call counts); refuses an empty or short key.
pub fn set(key: &str) -> Result<(), String> {
    let key = key.trim();
    if key.chars().count() < 16 {
        return Err("the database key must be at least 16 characters".into());
    }
    let _ = KEY.set(key.to_owned());
    Ok(())
}

/// The key, when encryption at rest is on.
pub fn get() -> Option<&'static str> {
    KEY.get().map(String::as_str)
}
