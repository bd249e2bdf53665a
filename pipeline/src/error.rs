//! The one error type of the `pipeline` crate.

/// Errors from ingest and analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// GStreamer could not be initialised (library missing or broken).
    #[error("GStreamer failed to initialise: {0}; install it with `make setup`")]
    GstInit(String),

    /// A video source failed: missing file, corrupt or truncated data, unreachable stream.
    #[error("{source_name}: {message}")]
    Source {
        /// The file or camera.
        source_name: String,
        /// What went wrong, with GStreamer's detail.
        message: String,
    },

    /// The events store, alerts, evidence or search failed.
    #[error(transparent)]
    Events(#[from] raqib_events::Error),

    /// Inference failed.
    #[error(transparent)]
    Model(#[from] raqib_models::Error),

    /// A replay report could not be written (unknown format, unwritable place).
    #[error("{}: {message}", path.display())]
    Report {
        /// The report file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A camera's configuration is invalid; `key` names the offending config key.
    #[error("{key}: {message}")]
    InvalidCamera {
        /// Dotted config key, e.g. `cameras[2].url`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

impl Error {
    /// Shorthand for a [`Error::Source`] error.
    pub fn source(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Source { source_name: source_name.into(), message: message.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
