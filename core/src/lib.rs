//! # raqib-core
//!
//! The few types every raqib crate speaks: [`PlateText`], the canonical form of a licence plate
//! (so an operator typing `12345-B-6` and the OCR reading `12345 | ب | 6` mean the same plate),
//! [`Embedding`], a face embedding that is L2-normalised by construction, [`AnalysisPolicy`], the
//! `[analysis]` knobs every command and the server read, and [`Reason`], the one rule for why
//! personal data is read, exported or removed.
//!
//! It depends on nothing heavy but SQLite so that `models` (which produces these values) and
//! `watchlist` (which matches them) can share them without depending on each other; [`db`] is
//! the one opener of the node's three databases.

pub mod bbox;
pub mod check;
pub mod db;
pub mod db_key;
pub mod disk;
pub mod edit;
pub mod embedding;
pub mod face_calibration;
pub mod open_files;
pub mod plate;
pub mod policy;
pub mod reason;
pub mod rng;
pub mod spreadsheet;

pub use bbox::Bbox;
pub use embedding::{Embedding, EmbeddingError};
pub use face_calibration::FaceCalibration;
pub use plate::{PlateFormat, PlateText};
pub use policy::{AnalysisPolicy, Overrides, PolicyError};
pub use reason::{Reason, ReasonError};
