//! `raqib doctor`'s lines for inference: the ONNX Runtime library (version, providers, whether
//! the requested device is available) and every model of the manifest (present, sha256, loads).

use std::path::Path;

use raqib_core::check::Check;

use crate::{Device, Manifest, Runtime, SessionOptions};

/// Checks the runtime at `ort_library` and each model in `models_dir`, loading them with `opts`.
pub fn checks(ort_library: &Path, models_dir: &Path, opts: &SessionOptions) -> Vec<Check> {
    let mut out = Vec::new();
    let runtime = runtime_checks(ort_library, opts.device, &mut out);
    model_checks(models_dir, opts, runtime, &mut out);
    out
}

fn runtime_checks(ort_library: &Path, device: Device, out: &mut Vec<Check>) -> Option<&'static Runtime> {
    match Runtime::shared(ort_library) {
        Ok(rt) => {
            let providers = rt.available_providers();
            out.push(Check::ok(
                "onnxruntime",
                format!("{} at {} (providers: {})", rt.version(), rt.library().display(), providers.join(", ")),
            ));
            if device == Device::Cuda && !providers.contains(&"CUDA") {
                out.push(Check::fail(
                    "device",
                    "cuda requested but this ONNX Runtime has no CUDA provider",
                    "RAQIB_GPU=1 make setup on a GPU machine, or set [runtime] device = \"auto\"",
                ));
            } else {
                out.push(Check::info("device", format!("{device:?} requested").to_lowercase()));
            }
            Some(rt)
        }
        Err(e) => {
            out.push(Check::fail(
                "onnxruntime",
                e.to_string(),
                "make setup (or set ORT_DYLIB_PATH to libonnxruntime.so)",
            ));
            None
        }
    }
}

fn model_checks(models_dir: &Path, opts: &SessionOptions, runtime: Option<&Runtime>, out: &mut Vec<Check>) {
    let manifest = match Manifest::builtin() {
        Ok(m) => m,
        Err(e) => {
            out.push(Check::fail("manifest", e.to_string(), "rebuild raqib from a clean checkout"));
            return;
        }
    };
    for spec in &manifest.models {
        let what = format!("model {}", spec.id);
        let path = match spec.verify_in(models_dir) {
            Ok(p) => p,
            Err(e) => {
                out.push(Check::fail(what, e.to_string(), "raqib models fetch (or make setup)"));
                continue;
            }
        };
        let Some(rt) = runtime else {
            out.push(Check::ok(what, format!("sha256 ok ({}); not loaded: no ONNX Runtime", spec.licence)));
            continue;
        };
        match rt.session(&path, opts) {
            Ok(model) => out.push(Check::ok(
                what,
                format!(
                    "sha256 ok, loads on {} ({}; {})",
                    model.provider,
                    spec.licence,
                    model.describe_io().join(", ")
                ),
            )),
            Err(e) => out.push(Check::fail(what, format!("does not load: {e}"), "raqib models fetch (or make setup)")),
        }
    }
}
