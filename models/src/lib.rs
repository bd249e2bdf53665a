//! # raqib-models
//!
//! Inference for raqib on ONNX Runtime: loading the runtime, building sessions on CPU or CUDA,
//! and the model manifest that says which files a node needs, where they come from (pinned
//! registry packages) and their checksums. This crate knows nothing of video or watchlists.
//!
//! ## Dependency choices
//! - [`ort`] 2.0 (rc.15) with `load-dynamic`: the maintained Rust binding for ONNX Runtime. The
//!   runtime library comes from the PyPI `onnxruntime` wheel at run time instead of `ort`'s
//!   `download-binaries`, which needs the open web; loading dynamically also lets the same binary
//!   use a CUDA build of the library.
//! - [`ndarray`]: the tensor type `ort` accepts without copies.
//! - `image` (JPEG/PNG only): decoding photos in pure Rust; pixel work (bilinear resize,
//!   similarity warp) is done straight into the input tensor in one pass, which is all these
//!   models need, so OpenCV is not pulled in for it.
//! - `sha2`, `flate2` + `tar`, `zip`: checksum and unpack registry archives (npm `.tgz`, wheels)
//!   in-process, so fetching needs only the registry clients, not `tar`/`unzip` on the host.

pub mod checksum;
pub mod doctor;
pub mod error;
pub mod face;
pub mod fetch;
pub mod image_ops;
pub mod manifest;
pub mod plate;
pub mod reference;
pub mod resample;
pub mod runtime;

pub use error::{Error, Result};
pub use face::{Face, FacePipeline};
pub use fetch::{FetchOutcome, fetch_models};
pub use image_ops::RgbImage;
pub use manifest::{Manifest, ModelSpec, Task};
pub use runtime::{Device, LoadedModel, Runtime, RuntimeConfig, SessionOptions};
