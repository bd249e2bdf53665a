//! Measuring raqib: how right and how fast the node is, on real annotated data and on videos.
//!
//! - [`plates`]: `raqib eval plates`, the localiser's boxes and the recogniser's exact reads on
//!   annotated plate sets (OpenALPR scenes, UM6P close-ups, Moroccan car photos, US crops),
//!   held-back items apart;
//! - [`faces`]: `raqib eval faces`, verification on pair lists and 1:N identification on galleries;
//! - [`video`]: `raqib bench video`, the replay path's speed per stage and its accuracy against a
//!   scene's ground truth ([`accuracy`]), next to the Python pipeline of `benches/baseline/`;
//! - [`models_bench`]: `raqib bench models`, inference only, next to Python `onnxruntime`.
//!
//! The binary loads the models as configured and prints what these functions return; every
//! measured path is the product's own (`raqib_pipeline::stream::StreamAnalysis`, the plate
//! finder, the face pipeline), so a figure here is a figure of `raqib run` and `raqib replay`.

pub mod accuracy;
mod baseline;
mod error;
pub mod face_detection;
pub mod face_quality;
pub mod faces;
pub mod models_bench;
pub mod open_set;
pub mod plates;
pub mod stats;
pub mod video;
mod video_report;

pub use error::{Error, Result};
