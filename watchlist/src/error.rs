//! The one error type of the `watchlist` crate.

use std::path::PathBuf;

/// Everything that can go wrong in the watchlist store, matchers and import/export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("watchlist database: {0}")]
    Db(#[from] rusqlite::Error),

    /// The database could not be opened or migrated (wrong key, newer schema, full disk, …;
    /// see [`raqib_core::db`]).
    #[error("watchlist database {0}")]
    Open(#[from] raqib_core::db::DbError),

    /// A value given for a field is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `plate`, `category`, `expires_at`.
        field: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// No entry with this id.
    #[error("no {kind} with id {id}")]
    NotFound {
        /// `plate entry` or `person`.
        kind: &'static str,
        /// The id asked for.
        id: i64,
    },

    /// An import file had invalid rows; nothing was written.
    #[error("{} invalid row(s), nothing imported; first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    ImportRejected(Vec<RowError>),

    /// An import or export file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// A search, export or removal that needs a reason was given none, or one that breaks the
    /// rule of [`raqib_core::Reason`].
    #[error("a reason (case reference, at least 3 characters, no control characters) is required for {0}")]
    ReasonRequired(&'static str),
}

/// One rejected row of an import, numbered as a spreadsheet shows it (header = row 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("row {row}: {message}")]
pub struct RowError {
    /// Row number in the file (CSV: line of the record; JSON: array index + 1).
    pub row: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { field, message: message.into() }
    }
}
