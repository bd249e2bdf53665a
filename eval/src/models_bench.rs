//! `raqib bench models`: inference time per model on preloaded tensors, next to the plain
//! Python `onnxruntime` reference run in the same invocation (`benches/baseline/models.py`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use raqib_models::{Manifest, Runtime, SessionOptions, reference};
use serde::Serialize;

use crate::{Result, baseline};

/// One model at one batch size.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// Model id, with `@bN` for batches above 1.
    pub id: String,
    /// The execution provider that ran it.
    pub provider: String,
    /// Input shape.
    pub shape: Vec<usize>,
    /// Mean ms per call.
    pub mean_ms: f64,
    /// Median ms per call.
    pub p50_ms: f64,
    /// The Python reference's median, when it ran.
    pub python_p50_ms: Option<f64>,
}

/// Every model of the built-in manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ModelsBench {
    /// Timed runs per model after 3 warm-up runs.
    pub iterations: usize,
    /// The ONNX Runtime version.
    pub runtime: String,
    /// One row per model and batch.
    pub rows: Vec<ModelRow>,
}

/// Times every model of the manifest found in `models_dir`, `iterations` runs each after 3
/// warm-up runs; `python` is an interpreter with `benches/baseline/requirements.txt` (none:
/// raqib's figures only).
pub fn run(
    rt: &Runtime,
    opts: &SessionOptions,
    models_dir: &Path,
    iterations: usize,
    python: Option<&Path>,
) -> Result<ModelsBench> {
    let iterations = iterations.max(1);
    let manifest = Manifest::builtin()?;
    let mut rows = Vec::new();
    for spec in &manifest.models {
        let mut model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        for &batch in reference::bench_batches(spec) {
            let mut shape = reference::input_shape(spec);
            shape[0] = batch;
            let input = reference::pattern(shape);
            let mut times = Vec::with_capacity(iterations);
            for i in 0..iterations + 3 {
                let t = Instant::now();
                let out = model.session.run(ort::inputs![ort::value::TensorRef::from_array_view(&input)?])?;
                drop(out);
                if i >= 3 {
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            times.sort_by(f64::total_cmp);
            let mean_ms = times.iter().sum::<f64>() / times.len().max(1) as f64;
            let id = if batch == 1 { spec.id.clone() } else { format!("{}@b{batch}", spec.id) };
            rows.push(ModelRow {
                id,
                provider: model.provider.to_string(),
                shape: shape.to_vec(),
                mean_ms,
                p50_ms: times[times.len() / 2],
                python_p50_ms: None,
            });
        }
    }
    if let Some(py) = python {
        let reference = baseline::model_latency(py, models_dir, iterations)?;
        for row in &mut rows {
            row.python_p50_ms = reference.get(&row.id).copied();
        }
    }
    Ok(ModelsBench { iterations, runtime: rt.version().to_string(), rows })
}

/// The figures as a text table.
pub fn table(b: &ModelsBench) -> String {
    let mut o = format!("raqib bench models: {} runs each after 3 warm-up, ONNX Runtime {}\n", b.iterations, b.runtime);
    let _ = writeln!(
        o,
        "{:22} {:18} {:>5} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "model", "input", "ep", "mean ms", "p50 ms", "p50 ms/item", "python p50", "ratio"
    );
    for r in &b.rows {
        let (py, ratio) = match r.python_p50_ms {
            Some(py) => (format!("{py:.3}"), format!("{:.2}", py / r.p50_ms)),
            None => ("-".into(), "-".into()),
        };
        let per_item = r.p50_ms / r.shape.first().copied().unwrap_or(1).max(1) as f64;
        let _ = writeln!(
            o,
            "{:22} {:18} {:>5} {:10.3} {:10.3} {per_item:12.3} {py:>12} {ratio:>8}",
            r.id,
            format!("{:?}", r.shape),
            r.provider,
            r.mean_ms,
            r.p50_ms
        );
    }
    if b.rows.iter().any(|r| r.python_p50_ms.is_some()) {
        o.push_str("ratio = python p50 / raqib p50 (> 1: raqib faster), both measured now on this machine\n");
    }
    o
}
