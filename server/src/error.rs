//! The server crate's error type.

/// Errors of the server crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `[server]` key is invalid.
    #[error("server.{key}: {message}")]
    InvalidConfig {
        /// The key inside `[server]`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The users database failed.
    #[error("users database: {0}")]
    Users(#[from] rusqlite::Error),
    /// The users database could not be opened or migrated (wrong key, full disk, …).
    #[error("users database {0}")]
    UsersOpen(#[from] raqib_core::db::DbError),
    /// A user name, role or password is not acceptable.
    #[error("{0}")]
    InvalidUser(String),
    /// The events store failed.
    #[error(transparent)]
    Events(#[from] raqib_events::Error),
    /// The watchlist store failed.
    #[error(transparent)]
    Watchlist(#[from] raqib_watchlist::Error),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
    /// Binding or serving failed.
    #[error("serving on {addr}: {source}")]
    Serve {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Result with the server's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
