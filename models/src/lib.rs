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
//! - `sha2`, `flate2` + `tar`, `zip`: checksum and unpack registry archives (npm `.tgz`, wheels)
//!   in-process, so fetching needs only the registry clients, not `tar`/`unzip` on the host.

pub mod checksum;
pub mod error;
pub mod fetch;
pub mod manifest;
pub mod runtime;

pub use error::{Error, Result};
pub use fetch::{FetchOutcome, fetch_models};
pub use manifest::{Manifest, ModelSpec, Task};
pub use runtime::{Device, LoadedModel, Runtime, SessionOptions};
