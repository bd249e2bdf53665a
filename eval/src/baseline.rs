//! The Python reference runs of `benches/baseline/` (plain `onnxruntime` and OpenCV-free NumPy),
//! run in the same invocation as raqib's own figures so that every ratio compares like with like.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::{Error, Result};

/// Runs `python script args…` and returns its standard output; a failure carries its stderr.
fn run(python: &Path, script: &str, args: &[&std::ffi::OsStr]) -> Result<Vec<u8>> {
    let fail = |message: String| Error::Baseline { script: script.to_owned(), message };
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| fail(format!("could not start {}: {e}", python.display())))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(out.stdout)
}

/// `benches/baseline/models.py latency`: the median ms per model id (and `id@bN` batches).
pub fn model_latency(python: &Path, models_dir: &Path, iterations: usize) -> Result<HashMap<String, f64>> {
    let n = iterations.to_string();
    let out = run(python, "benches/baseline/models.py", &["latency".as_ref(), models_dir.as_os_str(), n.as_ref()])?;
    let mut map = HashMap::new();
    for line in String::from_utf8_lossy(&out).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let (Some(id), Some(i)) = (words.first(), words.iter().position(|w| *w == "p50"))
            && let Some(v) = words.get(i + 1).and_then(|v| v.parse::<f64>().ok())
        {
            map.insert((*id).to_owned(), v);
        }
    }
    Ok(map)
}

/// `benches/baseline/pipeline.py VIDEO`: the plain Python pipeline's frames per second.
pub fn pipeline_fps(python: &Path, video: &Path, models_dir: &Path) -> Result<f64> {
    let script = "benches/baseline/pipeline.py";
    let out = run(python, script, &[video.as_os_str(), "--models".as_ref(), models_dir.as_os_str()])?;
    let fail = |message: &str| Error::Baseline { script: script.to_owned(), message: message.to_owned() };
    let doc: serde_json::Value = serde_json::from_slice(&out).map_err(|_| fail("its output is not JSON"))?;
    doc["fps"].as_f64().ok_or_else(|| fail("its output has no fps"))
}
