//! The one error type of the `samples` crate.

use std::path::PathBuf;

/// Errors while making a sample.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A font file is missing or unreadable.
    #[error("font {path}: {message}; install fonts-dejavu-core and fonts-noto-core (`make setup`)")]
    Font {
        /// Font file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A face photo is missing or unreadable.
    #[error("face photo {path}: {message}")]
    Photo {
        /// Photo file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The scene settings are unusable; `key` names the setting.
    #[error("{key}: {message}")]
    Invalid {
        /// Setting name, e.g. `fps`.
        key: &'static str,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// GStreamer is missing an element or the encoder failed.
    #[error("encoding {path}: {message}")]
    Encode {
        /// Output video.
        path: PathBuf,
        /// What went wrong, with GStreamer's detail.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// The ground truth could not be (de)serialised.
    #[error("ground truth {path}: {message}")]
    Truth {
        /// Truth file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// A closure mapping an I/O error on `path` while doing `action`.
    pub fn io<'a>(action: &'static str, path: &'a std::path::Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
        move |source| Error::Io { action, path: path.to_owned(), source }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
