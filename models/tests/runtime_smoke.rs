//! Loads the real ONNX Runtime library and runs every manifest model once on a blank input.
//!
//! Needs `make setup` (library and models in the cache). Without them the test is skipped with
//! a message, unless `RAQIB_REQUIRE_RUNTIME=1` (set by `make test`), where it fails instead.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;

use ndarray::Array4;
use raqib_models::runtime::{default_library_in, installed_cache_or_skip};
use raqib_models::{Manifest, Runtime, SessionOptions, Task};

#[test]
fn every_model_loads_and_runs_on_cpu() {
    let Some(cache) = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")) else { return };
    let lib = default_library_in(&cache);
    let models_dir = cache.join("models");
    let rt = Runtime::shared(&lib).expect("runtime loads");
    assert_eq!(rt.version(), raqib_models::runtime::PINNED_ORT_VERSION);
    assert_eq!(rt.available_providers()[0], "CPU");

    let manifest = Manifest::builtin().unwrap();
    let opts = SessionOptions { device: raqib_models::Device::Cpu, intra_threads: 1 };
    for spec in &manifest.models {
        let path = spec.verify_in(&models_dir).expect("model present and verified");
        let mut model = rt.session(&path, &opts).expect("session builds");
        assert_eq!(model.provider, "CPU");
        let input = Array4::<f32>::zeros(raqib_models::reference::input_shape(spec));
        let tensor = ort::value::TensorRef::from_array_view(&input).unwrap();
        let outputs = model.session.run(ort::inputs![tensor]).expect("inference runs");
        let shape: Vec<i64> = outputs[0].shape().iter().copied().collect();
        match spec.task {
            Task::FaceDetection => assert_eq!(shape, [1, 4420, 2], "{}", spec.id),
            Task::FaceLandmarks => assert_eq!(shape, [1, 136], "{}", spec.id),
            Task::FaceEmbedding => assert_eq!(shape, [1, 512], "{}", spec.id),
            Task::TextRegionProposal => assert_eq!(shape, [1, 1, 64, 128], "{}", spec.id),
            _ => assert!(!shape.is_empty()),
        }
    }
}
