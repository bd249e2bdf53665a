//! raqib's outputs against the plain-Python ONNX Runtime reference on identical inputs.
//!
//! The fixture `fixtures/golden.json` was written once by
//! `benches/baseline/models.py golden .cache/models` (onnxruntime 1.32.0, CPU). Tolerance: 1e-4
//! absolute on the first 16 values, 1e-4 relative on the sum and absolute sum of all outputs
//! (same library and model; differences come only from thread scheduling of reductions).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;

use raqib_models::runtime::{default_library_in, installed_cache_or_skip};
use raqib_models::{Device, Manifest, Runtime, SessionOptions, reference};

#[test]
fn outputs_match_the_python_reference() {
    let Some(cache) = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")) else { return };
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/golden.json")).expect("fixture is JSON");
    let rt = Runtime::shared(&default_library_in(&cache)).unwrap();
    let manifest = Manifest::builtin().unwrap();
    let opts = SessionOptions { device: Device::Cpu, intra_threads: 0 };
    for spec in &manifest.models {
        let want = &fixture["models"][&spec.id];
        let shape = reference::input_shape(spec);
        assert_eq!(want["input_shape"], serde_json::json!(shape), "{}", spec.id);
        let mut model = rt.session(&spec.verify_in(&cache.join("models")).unwrap(), &opts).unwrap();
        let input = reference::pattern(shape);
        let outputs = model.session.run(ort::inputs![ort::value::TensorRef::from_array_view(&input).unwrap()]).unwrap();
        let (_, got) = outputs[0].try_extract_tensor::<f32>().unwrap();
        assert_eq!(got.len() as u64, want["output_len"].as_u64().unwrap(), "{}", spec.id);
        for (i, w) in want["head"].as_array().unwrap().iter().enumerate() {
            let w = w.as_f64().unwrap();
            assert!((f64::from(got[i]) - w).abs() < 1e-4, "{} output[{i}] = {} vs {w}", spec.id, got[i]);
        }
        let sum: f64 = got.iter().map(|v| f64::from(*v)).sum();
        let abs_sum: f64 = got.iter().map(|v| f64::from(v.abs())).sum();
        for (name, v) in [("sum", sum), ("abs_sum", abs_sum)] {
            let w = want[name].as_f64().unwrap();
            assert!((v - w).abs() <= 1e-4 * w.abs().max(1.0), "{} {name} {v} vs {w}", spec.id);
        }
    }
}
