//! # raqib-core
//!
//! The few types every raqib crate speaks: [`PlateText`], the canonical form of a licence plate
//! (so an operator typing `12345-B-6` and the OCR reading `12345 | ب | 6` mean the same plate),
//! and [`Embedding`], a face embedding that is L2-normalised by construction.
//!
//! It depends on nothing heavy so that `models` (which produces these values) and `watchlist`
//! (which matches them) can share them without depending on each other.

pub mod db_key;
pub mod embedding;
pub mod plate;

pub use embedding::{Embedding, EmbeddingError};
pub use plate::{PlateFormat, PlateText};
