//! # raqib-pipeline
//!
//! Turns camera streams and recorded files into plate reads, face sightings and watchlist hits:
//! GStreamer ingest, sampling, batching, tracking, multi-frame voting and events. It composes
//! `raqib-models` (inference) and `raqib-watchlist` (matching); nothing below it knows of video.
//!
//! One analysis path for live, replay and bench ([`stream`]: [`stream::StreamAnalysis`] and its
//! sinks). Ingest ([`ingest`], [`live`]), per-frame analysis ([`analyse`], [`faces`]), IoU tracking
//! ([`track`]) and multi-frame OCR voting ([`vote`]). What the analysis hands on is kept by
//! `raqib-events` (events store, alerts, evidence, retention, search, bus).
//!
//! ## Dependency choices
//! - `gstreamer` (gstreamer-rs 0.25, against Debian 12's GStreamer 1.22): the maintained
//!   binding; GStreamer gives every container, codec, RTSP and V4L2 source and hardware decoders
//!   (NVDEC, VA-API) through one graph API, chosen at run time by `decodebin` ranks.

pub mod analyse;
pub mod camera;
pub mod error;
pub mod faces;
pub mod gps;
pub mod gst_check;
pub mod ingest;
pub mod live;
pub mod plates;
pub mod print_sink;
pub mod recording;
pub mod redactor;
pub mod replay;
pub mod report;
pub mod stills;
pub mod store_retry;
pub mod store_writer;
pub mod stream;
pub mod track;
pub mod vote;

#[cfg(test)]
mod test_support;

pub use camera::{CameraConfig, CameraSource};
pub use error::{Error, Result};
