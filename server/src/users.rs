//! Users, roles, console sessions and API tokens, in `<data_dir>/users.db`.
//!
//! Passwords are stored as argon2id hashes (PHC strings, per-user salt); there is no default
//! user and no default password: the first admin is created with `raqib user add`. Session and
//! API tokens are 256-bit random values shown once; only their SHA-256 is stored, so a copy of
//! the database gives no usable token.

use std::path::Path;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use chrono::{DateTime, Utc};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
";

/// Migration 2: the covert lists a user is given, and the console language they chose.
const LISTS_AND_LANGUAGE: &str = "ALTER TABLE users ADD COLUMN lists TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN language TEXT;";

/// The console's languages.
pub const LANGUAGES: [&str; 3] = ["ar", "fr", "en"];

/// What a user may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Command room: live alerts, acknowledge/escalate, camera status.
    Operator,
    /// Also: search past reads and sightings, snapshots, evidence.
    Analyst,
    /// Also: watchlists, enrolment, users, the audit log.
    Admin,
}

impl Role {
    /// Parses `operator`, `analyst` or `admin`.
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "operator" => Ok(Role::Operator),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            _ => Err(Error::InvalidUser(format!("unknown role `{s}` (operator, analyst or admin)"))),
        }
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

/// Who is calling: a console user or an integration's API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// User name, or `token:<name>`.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Covert lists whose alerts this user may see (API tokens: none).
    pub lists: Vec<String>,
    /// Console language chosen (`ar`, `fr`, `en`), if any.
    pub language: Option<String>,
}

impl Principal {
    /// A principal with no covert list and no language.
    pub fn new(name: impl Into<String>, role: Role) -> Self {
        Principal { name: name.into(), role, lists: Vec::new(), language: None }
    }
}

fn split_lists(s: &str) -> Vec<String> {
    s.split(',').filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The users database.
pub struct UserStore {
    conn: Connection,
}

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 10;

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh 256-bit random token, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl UserStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<UserStore> {
        let mut conn = raqib_core::db::open(path)?;
        raqib_core::db::migrate(&mut conn, path, &[SCHEMA, LISTS_AND_LANGUAGE])?;
        Ok(UserStore { conn })
    }

    /// Adds a user (or replaces the password and role of an existing one when `replace`, which
    /// ends the user's open sessions).
    pub fn add_user(&mut self, name: &str, role: Role, password: &str, replace: bool) -> Result<()> {
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
            return Err(Error::InvalidUser(format!("user name `{name}`: 1–64 letters, digits or . _ - @")));
        }
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(Error::InvalidUser(format!("password: at least {MIN_PASSWORD_LEN} characters")));
        }
        let hash = hash_password(password)?;
        let now = Utc::now().to_rfc3339();
        let sql = if replace {
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, disabled = 0"
        } else {
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)"
        };
        let tx = self.conn.transaction()?;
        tx.execute(sql, params![name, role.as_str(), hash, now]).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                Error::InvalidUser(format!("user `{name}` exists"))
            }
            e => Error::Users(e),
        })?;
        // A new password (or role) ends every session opened under the old one.
        tx.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)", [name])?;
        tx.commit()?;
        Ok(())
    }

    /// Users: (name, role, disabled).
    pub fn users(&self) -> Result<Vec<(String, Role, bool)>> {
        let mut stmt = self.conn.prepare("SELECT name, role, disabled FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, disabled) = row?;
            out.push((name, Role::parse(&role)?, disabled));
        }
        Ok(out)
    }

    /// Whether any user exists.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? == 0)
    }

    /// Disables a user and ends its sessions.
    pub fn disable_user(&mut self, name: &str) -> Result<()> {
        let n = self.conn.execute("UPDATE users SET disabled = 1 WHERE name = ?1", [name])?;
        if n == 0 {
            return Err(Error::InvalidUser(format!("no user `{name}`")));
        }
        self.conn.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)", [name])?;
        Ok(())
    }

    /// Checks a password; on success opens a session and returns its token and the user.
    /// A wrong name and a wrong password look the same to the caller. (The server looks the
    /// credential up, checks it outside the store's lock and opens the session in three steps:
    /// [`Self::credential`], [`check_password`], [`Self::open_session`].)
    pub fn login(&mut self, name: &str, password: &str, lifetime: Duration) -> Result<Option<(String, Principal)>> {
        let cred = self.credential(name)?;
        if !check_password(cred.as_ref(), password) {
            return Ok(None);
        }
        match cred {
            Some(c) => self.open_session(&c, lifetime).map(Some),
            None => Ok(None),
        }
    }

    /// The stored credential of the enabled user `name`, if any.
    pub fn credential(&self, name: &str) -> Result<Option<Credential>> {
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row("SELECT id, role, password_hash FROM users WHERE name = ?1 AND disabled = 0", [name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(id, role, hash)| Ok(Credential { id, name: name.to_owned(), role: Role::parse(&role)?, hash }))
            .transpose()
    }

    /// Opens a session for a user whose password was checked; returns its token and the user.
    pub fn open_session(&mut self, cred: &Credential, lifetime: Duration) -> Result<(String, Principal)> {
        let token = new_token();
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(12));
        self.conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [now.to_rfc3339()])?;
        self.conn.execute(
            "INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(&token), cred.id, now.to_rfc3339(), expires.to_rfc3339()],
        )?;
        let (lists, language): (String, Option<String>) =
            self.conn.query_row("SELECT lists, language FROM users WHERE id = ?1", [cred.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((token, Principal { name: cred.name.clone(), role: cred.role, lists: split_lists(&lists), language }))
    }

    /// Ends a session.
    pub fn logout(&mut self, token: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE token_sha256 = ?1", [sha256_hex(token)])?;
        Ok(())
    }

    /// The user of a live session.
    pub fn session(&self, token: &str) -> Result<Option<Principal>> {
        type Row = (String, String, String, String, Option<String>);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT u.name, u.role, s.expires_at, u.lists, u.language FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_sha256 = ?1 AND u.disabled = 0",
                [sha256_hex(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((name, role, expires, lists, language)) = row else { return Ok(None) };
        let expired = DateTime::parse_from_rfc3339(&expires).map(|t| t < Utc::now()).unwrap_or(true);
        if expired {
            return Ok(None);
        }
        Ok(Some(Principal { name, role: Role::parse(&role)?, lists: split_lists(&lists), language }))
    }

    /// Creates an API token for an integration; returns the token (shown once).
    pub fn add_token(&mut self, name: &str, role: Role) -> Result<String> {
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "._-".contains(c)) {
            return Err(Error::InvalidUser(format!("token name `{name}`: letters, digits or . _ -")));
        }
        let token = new_token();
        self.conn
            .execute(
                "INSERT INTO api_tokens (name, role, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), sha256_hex(&token), Utc::now().to_rfc3339()],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Error::InvalidUser(format!("token `{name}` exists"))
                }
                e => Error::Users(e),
            })?;
        Ok(token)
    }

    /// Revokes an API token.
    pub fn revoke_token(&mut self, name: &str) -> Result<()> {
        if self.conn.execute("DELETE FROM api_tokens WHERE name = ?1", [name])? == 0 {
            return Err(Error::InvalidUser(format!("no token `{name}`")));
        }
        Ok(())
    }

    /// The integration an API token belongs to.
    pub fn token(&self, token: &str) -> Result<Option<Principal>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT name, role FROM api_tokens WHERE token_sha256 = ?1", [sha256_hex(token)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(name, role)| Ok(Principal::new(format!("token:{name}"), Role::parse(&role)?))).transpose()
    }

    /// Gives user `name` exactly these covert lists (none: sees no covert alert).
    pub fn set_lists(&mut self, name: &str, lists: &[String]) -> Result<()> {
        for l in lists {
            raqib_watchlist::entry::validate_list_name(l).map_err(|e| Error::InvalidUser(e.to_string()))?;
        }
        let mut lists = lists.to_vec();
        lists.sort();
        lists.dedup();
        if self.conn.execute("UPDATE users SET lists = ?1 WHERE name = ?2", params![lists.join(","), name])? == 0 {
            return Err(Error::InvalidUser(format!("no user `{name}`")));
        }
        Ok(())
    }

    /// Remembers user `name`'s console language (`ar`, `fr` or `en`).
    pub fn set_language(&mut self, name: &str, language: &str) -> Result<()> {
        if !LANGUAGES.contains(&language) {
            return Err(Error::InvalidUser(format!("language `{language}`: one of {}", LANGUAGES.join(", "))));
        }
        if self.conn.execute("UPDATE users SET language = ?1 WHERE name = ?2", params![language, name])? == 0 {
            return Err(Error::InvalidUser(format!("no user `{name}`")));
        }
        Ok(())
    }
}

/// A valid hash of a random password, checked against when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1n1z1wNQ+9Vh1lq6NQ7vH7dQcx8m9mS3bH1cW0kq0yQ";

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// A user's stored credential: what a password is checked against.
#[derive(Debug, Clone)]
pub struct Credential {
    id: i64,
    name: String,
    role: Role,
    hash: String,
}

/// Whether `password` is the credential's (argon2, deliberately slow). No credential costs the
/// same time as a real check, so user names cannot be probed by timing.
pub fn check_password(cred: Option<&Credential>, password: &str) -> bool {
    match cred {
        Some(c) => verify_password(password, &c.hash),
        None => {
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    }
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| verify_with_reused_memory(password.as_bytes(), &h).unwrap_or(false))
}

/// argon2 working memory kept between checks (one buffer per hashing slot). Each check needs
/// `m_cost` KiB (19 MiB by default); allocating it afresh for every check made the allocator keep
/// about 700 MiB after a few hundred wrong passwords of a login flood (`benches/floods.sh`),
/// because blocks that large then stay in its heaps instead of going back to the system.
static MEMORY: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());

/// Memory buffers kept at most (the server checks `HASHING_SLOTS` passwords at once).
const KEPT_BUFFERS: usize = 2;

/// `PasswordVerifier::verify_password` with the working memory taken from [`MEMORY`]: the same
/// algorithm, version, parameters and salt as the PHC string, the output compared in constant
/// time (`password_hash::Output`'s equality).
fn verify_with_reused_memory(password: &[u8], hash: &PasswordHash<'_>) -> std::result::Result<bool, argon2::Error> {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return Ok(false) };
    let algorithm = argon2::Algorithm::try_from(hash.algorithm).map_err(|_| argon2::Error::AlgorithmInvalid)?;
    let version = hash.version.map(argon2::Version::try_from).transpose()?.unwrap_or_default();
    // The parameters of the PHC string, its output length included.
    let params = argon2::Params::try_from(hash).map_err(|_| argon2::Error::AlgorithmInvalid)?;
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|_| argon2::Error::SaltTooShort)?;
    let mut memory = MEMORY.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop().unwrap_or_default();
    memory.resize(blocks, argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    let result = argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..]);
    let mut kept = MEMORY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if kept.len() < KEPT_BUFFERS {
        kept.push(memory);
    }
    drop(kept);
    result?;
    let computed = argon2::password_hash::Output::new(&out).map_err(|_| argon2::Error::OutputTooShort)?;
    Ok(computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_memory_verifies_exactly_as_argon2_does() {
        use argon2::PasswordVerifier;
        let other = argon2::Params::new(4096, 3, 2, Some(24)).unwrap();
        let hashes = [
            hash_password("correct horse battery").unwrap(),
            Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x10, other.clone())
                .hash_password(
                    b"correct horse battery",
                    &SaltString::generate(&mut argon2::password_hash::rand_core::OsRng),
                )
                .unwrap()
                .to_string(),
            DUMMY_HASH.to_owned(),
        ];
        for hash in &hashes {
            let parsed = PasswordHash::new(hash).unwrap();
            for attempt in ["correct horse battery", "correct horse batterY", "", "a much longer attempt than the rest"]
            {
                let theirs = Argon2::default().verify_password(attempt.as_bytes(), &parsed).is_ok();
                assert_eq!(verify_password(attempt, hash), theirs, "{hash} / {attempt:?}");
            }
        }
        assert!(verify_password("correct horse battery", &hashes[0]));
        assert!(verify_password("correct horse battery", &hashes[1]), "other parameters and algorithm");
        assert!(!verify_password("x", "not a PHC string"));
    }

    #[test]
    fn a_new_password_ends_the_sessions_opened_under_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = UserStore::open(&dir.path().join("users.db")).unwrap();
        users.add_user("omar", Role::Analyst, "correct horse battery", false).unwrap();
        users.add_user("amina", Role::Analyst, "another long password", false).unwrap();
        let hour = Duration::from_secs(3600);
        let (stolen, _) = users.login("omar", "correct horse battery", hour).unwrap().unwrap();
        let (other, _) = users.login("amina", "another long password", hour).unwrap().unwrap();
        users.add_user("omar", Role::Analyst, "a fresh long password", true).unwrap();
        assert_eq!(users.session(&stolen).unwrap(), None, "the old password's session is over");
        assert!(users.session(&other).unwrap().is_some(), "other users keep theirs");
        assert!(users.login("omar", "correct horse battery", hour).unwrap().is_none());
        assert!(users.login("omar", "a fresh long password", hour).unwrap().is_some());
    }

    #[test]
    fn login_checks_the_password_and_sessions_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = UserStore::open(&dir.path().join("users.db")).unwrap();
        assert!(users.is_empty().unwrap());
        assert!(users.add_user("amina", Role::Operator, "short", false).is_err(), "short password");
        assert!(users.add_user("bad name", Role::Operator, "long enough pw", false).is_err());
        users.add_user("amina", Role::Operator, "correct horse battery", false).unwrap();
        assert!(users.add_user("amina", Role::Admin, "correct horse battery", false).is_err(), "no silent replace");
        let hour = Duration::from_secs(3600);
        assert!(users.login("amina", "wrong password!", hour).unwrap().is_none());
        assert!(users.login("nobody", "correct horse battery", hour).unwrap().is_none());
        let (token, who) = users.login("amina", "correct horse battery", hour).unwrap().unwrap();
        assert_eq!(who.role, Role::Operator);
        assert_eq!(users.session(&token).unwrap(), Some(who));
        assert_eq!(users.session("forged").unwrap(), None);
        // The database holds only a hash of the token and an argon2 hash of the password.
        let stored: String = users.conn.query_row("SELECT token_sha256 FROM sessions", [], |r| r.get(0)).unwrap();
        assert_ne!(stored, token);
        let hash: String = users.conn.query_row("SELECT password_hash FROM users", [], |r| r.get(0)).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        users.logout(&token).unwrap();
        assert_eq!(users.session(&token).unwrap(), None);
        let (token, _) = users.login("amina", "correct horse battery", hour).unwrap().unwrap();
        users.disable_user("amina").unwrap();
        assert_eq!(users.session(&token).unwrap(), None);
        assert!(users.login("amina", "correct horse battery", hour).unwrap().is_none());
    }

    #[test]
    fn api_tokens_carry_a_role_and_can_be_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = UserStore::open(&dir.path().join("users.db")).unwrap();
        let token = users.add_token("dispatch", Role::Analyst).unwrap();
        assert_eq!(users.token(&token).unwrap().unwrap().name, "token:dispatch");
        assert!(users.add_token("dispatch", Role::Analyst).is_err());
        users.revoke_token("dispatch").unwrap();
        assert!(users.token(&token).unwrap().is_none());
        assert!(Role::Admin > Role::Analyst && Role::Analyst > Role::Operator);
    }
}
