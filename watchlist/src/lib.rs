//! # raqib-watchlist
//!
//! Watchlists of plates (stolen vehicles, owners under warrant, missing-child alerts, BOLO) and
//! persons (wanted persons, missing children), stored in SQLite and matched against reads. Knows
//! nothing of video: the pipeline hands it plate reads and face embeddings.
//!
//! - [`Store`]: the SQLite file (WAL, foreign keys, migrations), entries, embeddings tagged with
//!   the model that made them, and the [audit log](audit).
//! - [`Snapshot`] / [`LiveWatchlist`]: indexed, immutable copies for matching, reloaded within
//!   the poll interval when the database changes (from the CLI, the API or another process).
//! - Plate matching ([`plate_index`]): exact on the canonical key (Arabic ↔ Latin spellings are
//!   one key), OCR-confusion-aware fuzzy search using the OCR's per-position alternatives
//!   ([`confusion`]), wildcard patterns; each match says why it matched.
//! - Face matching ([`face_gallery`]): exact cosine top-k over the gallery.
//! - [`scope`]: where and when an entry alerts (days, hours, cameras, area) and covert lists.
//! - [`transfer`]: plate CSV/JSON import (atomic, row-numbered errors) and export;
//!   [`transfer_persons`]: persons with their embeddings as JSON.
//!
//! ## Dependency choices
//! - `rusqlite` with the bundled SQLite: one well-tested file format, WAL for concurrent readers,
//!   no server; bundling pins the SQLite version on every machine.
//! - `csv` + `serde`: the standard CSV reader; positions give row numbers for errors.
//! - `chrono`: timestamps and the `YYYY-MM-DD`/RFC 3339 formats operators type.

pub mod audit;
pub mod confusion;
pub mod entry;
pub mod error;
pub mod face_gallery;
pub mod face_template;
pub mod matcher;
pub mod persons_file;
pub mod plate_index;
pub mod scope;
pub mod store;
pub mod transfer;
pub mod transfer_persons;

pub use entry::{NewPerson, NewPlateEntry, Person, PlateEntry, Priority};
pub use error::{Error, Result, RowError};
pub use matcher::{LiveWatchlist, MatchKind, PersonMatch, PlateMatch, Snapshot};
pub use plate_index::{FuzzyQuery, Pattern};
pub use scope::{Scope, Sighting};
pub use store::{Actor, Store};
pub use transfer::{Format, ImportMode, ImportReport};
pub use transfer_persons::{ExportedEmbedding, PersonImport};
