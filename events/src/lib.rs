//! # raqib-events
//!
//! What the node keeps and hands on once the analysis has spoken: the events store (plate reads
//! within retention, hits with their evidence, face sightings of listed persons; [`store`]),
//! alerts and operators' actions ([`alerts`]), how hits are handled (deadlines, decisions,
//! repeats, retro-hits: [`handling`]), evidence packages ([`evidence`]), the retention
//! purge ([`retention`]), deleting hits ([`deletion`]), stored-read search ([`read_search`]),
//! snapshot redaction ([`redact`]), the in-process event bus the sinks follow ([`bus`]), the
//! records themselves ([`records`]) and camera and store health ([`health`]).
//!
//! It knows nothing of video: `raqib-server` depends on it, not on `raqib-pipeline`, so the
//! console and API build without GStreamer. Databases are opened with [`raqib_core::db`].

pub mod alerts;
pub mod bus;
pub mod decisions;
pub mod deletion;
pub mod error;
pub mod evidence;
pub mod handling;
pub mod health;
pub mod read_search;
pub mod records;
pub mod redact;
pub mod retention;
pub mod store;

pub use error::{Error, Result};
pub use store::EventStore;
