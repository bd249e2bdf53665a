//! The one error type of the `hub` crate.

/// Everything that can go wrong between a node, NATS JetStream and the hub's PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// NATS could not be reached or refused (connection, permissions, JetStream API).
    #[error("NATS: {0}")]
    Nats(String),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The node's own stores failed.
    #[error(transparent)]
    Events(#[from] raqib_events::Error),
    /// The node's watchlist failed.
    #[error(transparent)]
    Watchlist(#[from] raqib_watchlist::Error),
    /// A message that does not parse.
    #[error("message on {subject}: {message}")]
    Message {
        /// Its subject.
        subject: String,
        /// What is wrong.
        message: String,
    },
    /// A search the hub cannot run as asked (bad plate, mode or pattern).
    #[error("{0}")]
    Query(String),
    /// The national API could not start or serve.
    #[error("hub HTTP: {0}")]
    Http(String),
    /// A `[hub]` value or a credential that is refused.
    #[error("hub.{key}: {message}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// A NATS error of any kind, as text with its cause.
    pub(crate) fn nats(e: impl std::fmt::Display) -> Self {
        Error::Nats(e.to_string())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
