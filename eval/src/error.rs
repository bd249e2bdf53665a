//! The one error type of the `eval` crate.

use std::path::PathBuf;

/// Errors while loading an annotated set, running a measured path or a Python baseline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error (a field, not a `source`: the message already says it,
        /// and the binary prints sources after the message).
        cause: std::io::Error,
    },

    /// An annotation file is malformed; the message names the line and what was expected.
    #[error("{}: {message}", path.display())]
    Annotation {
        /// The annotation file (or the folder it should be in).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// The Python reference run failed or printed something unexpected.
    #[error("Python baseline {script}: {message}")]
    Baseline {
        /// The script under `benches/baseline/`.
        script: String,
        /// Its error output, or what was missing from its output.
        message: String,
    },

    /// Inference or model loading failed.
    #[error(transparent)]
    Model(#[from] raqib_models::Error),

    /// Inference on preloaded tensors failed (`raqib bench models`).
    #[error("ONNX Runtime: {0}")]
    Runtime(#[from] ort::Error),

    /// Decoding or analysing a video failed.
    #[error(transparent)]
    Pipeline(#[from] raqib_pipeline::Error),

    /// The watchlist could not be read.
    #[error(transparent)]
    Watchlist(#[from] raqib_watchlist::Error),

    /// A scene's ground truth could not be read.
    #[error(transparent)]
    Samples(#[from] raqib_samples::Error),

    /// Figures could not be written as JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), cause: source }
    }

    /// Shorthand for [`Error::Annotation`].
    pub fn annotation(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Annotation { path: path.into(), message: message.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
