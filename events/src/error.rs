//! The one error type of the `events` crate.

/// Everything that can go wrong in the events store, alerts, evidence and search.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The events database failed (the cause named: wrong key, full disk, …).
    #[error("events store {path}: {message}")]
    Events {
        /// Database file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A `[retention]` value is refused; `key` names it.
    #[error("retention.{key}: {message}")]
    Retention {
        /// The key under `[retention]`.
        key: &'static str,
        /// The rule it breaks.
        message: &'static str,
    },

    /// An `[alerts]` value is refused; `key` names it.
    #[error("alerts.{key}: {message}")]
    Handling {
        /// The key under `[alerts]`.
        key: &'static str,
        /// The rule it breaks.
        message: &'static str,
    },

    /// An operator's decision that cannot be taken now (the alert is already decided).
    #[error("{0}")]
    Decision(String),

    /// A value given by a caller that is refused (an unknown rejection reason, …).
    #[error("{0}")]
    Invalid(String),

    /// A search query that cannot be run.
    #[error("search: {0}")]
    Search(String),

    /// An id that does not parse.
    #[error("{0}")]
    InvalidId(String),

    /// No such alert.
    #[error("no alert {0}")]
    NoAlert(String),

    /// An evidence package could not be written.
    #[error("evidence package {0}")]
    Evidence(String),

    /// The audit record of an operation could not be written (the operation is refused).
    #[error("audit log: {0}")]
    Audit(#[from] raqib_watchlist::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
