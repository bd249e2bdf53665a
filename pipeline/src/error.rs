//! The one error type of the `pipeline` crate.

/// Errors from ingest and analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// GStreamer could not be initialised (library missing or broken).
    #[error("GStreamer failed to initialise: {0}; install it with `make setup`")]
    GstInit(String),

    /// A camera's configuration is invalid; `key` names the offending config key.
    #[error("{key}: {message}")]
    InvalidCamera {
        /// Dotted config key, e.g. `cameras[2].url`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
