//! `raqib bench models`: inference time per model on preloaded tensors, next to the plain
//! Python `onnxruntime` reference run in the same invocation (`benches/baseline/models.py`).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use raqib_models::{Manifest, Runtime, reference};

use crate::config::{Config, Paths};

/// Runs the bench; `python` is the interpreter with `benches/baseline/requirements.txt`
/// installed (none: raqib's figures only).
pub fn models(config: &Config, paths: &Paths, iterations: usize, python: Option<&Path>) -> anyhow::Result<()> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    let manifest = Manifest::builtin()?;
    let mut ours = Vec::new();
    for spec in &manifest.models {
        let mut model = rt.session(&spec.verify_in(&paths.models_dir)?, &opts)?;
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
            let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
            let id = if batch == 1 { spec.id.clone() } else { format!("{}@b{batch}", spec.id) };
            ours.push((id, model.provider, shape, mean, times[times.len() / 2]));
        }
    }
    let baseline = match python {
        Some(py) => python_baseline(py, &paths.models_dir, iterations)?,
        None => HashMap::new(),
    };
    println!("raqib bench models: {iterations} runs each after 3 warm-up, ONNX Runtime {}", rt.version());
    println!(
        "{:22} {:18} {:>5} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "model", "input", "ep", "mean ms", "p50 ms", "p50 ms/item", "python p50", "ratio"
    );
    for (id, provider, shape, mean, p50) in ours {
        let (py, ratio) = match baseline.get(&id) {
            Some(py) => (format!("{py:.3}"), format!("{:.2}", py / p50)),
            None => ("-".into(), "-".into()),
        };
        let per_item = p50 / shape[0] as f64;
        println!(
            "{id:22} {:18} {provider:>5} {mean:10.3} {p50:10.3} {per_item:12.3} {py:>12} {ratio:>8}",
            format!("{shape:?}")
        );
    }
    if python.is_some() {
        println!("ratio = python p50 / raqib p50 (> 1: raqib faster), both measured now on this machine");
    }
    Ok(())
}

/// Runs the Python reference and reads its `p50` per model.
fn python_baseline(python: &Path, models_dir: &Path, iterations: usize) -> anyhow::Result<HashMap<String, f64>> {
    let script = Path::new("benches/baseline/models.py");
    let out = Command::new(python)
        .arg(script)
        .arg("latency")
        .arg(models_dir)
        .arg(iterations.to_string())
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        anyhow::bail!("baseline failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let mut map = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let (Some(id), Some(i)) = (words.first(), words.iter().position(|w| *w == "p50"))
            && let Some(v) = words.get(i + 1).and_then(|v| v.parse::<f64>().ok())
        {
            map.insert((*id).to_owned(), v);
        }
    }
    Ok(map)
}
