//! `raqib doctor`: what the node will use, and whether each part works.
//!
//! Every check prints one line; a failed check adds a one-line fix. The command exits non-zero
//! when any check fails, so scripts and CI can rely on it.

use std::path::Path;

use raqib_models::{Manifest, Runtime};

use crate::config::{Config, Origin, Paths};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Works.
    Ok,
    /// Informational (optional part absent, or what was chosen).
    Info,
    /// Broken: the node will not work as configured.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    /// Result.
    pub status: Status,
    /// What was checked.
    pub what: String,
    /// What was found.
    pub detail: String,
    /// How to fix it (failed checks).
    pub fix: Option<String>,
}

impl Check {
    fn ok(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check { status: Status::Ok, what: what.into(), detail: detail.into(), fix: None }
    }
    fn info(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check { status: Status::Info, what: what.into(), detail: detail.into(), fix: None }
    }
    fn fail(what: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check { status: Status::Fail, what: what.into(), detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// Runs every check and returns them in report order.
pub fn checks(config_arg: Option<&Path>) -> Vec<Check> {
    let mut out = Vec::new();
    let (config, origin) = match Config::load(config_arg) {
        Ok((config, origin)) => {
            out.push(Check::ok("config", format!("{origin}; {} camera(s)", config.cameras.len())));
            (config, origin)
        }
        Err(e) => {
            out.push(Check::fail(
                "config",
                format!("{e:#}"),
                "correct the key named above (see config/raqib.example.toml); using defaults for the other checks",
            ));
            (Config::default(), Origin::Defaults)
        }
    };
    let paths = match origin.base_dir() {
        Ok(base) => config.paths(&base),
        Err(e) => {
            out.push(Check::fail("working directory", format!("{e:#}"), "run raqib from an existing directory"));
            return out;
        }
    };
    out.push(check_data_dir(&paths));
    out.push(Check::info(
        "cache dir",
        format!("{} (models: {})", paths.cache_dir.display(), paths.models_dir.display()),
    ));
    gstreamer_checks(&mut out);
    let runtime = runtime_checks(&config, &paths, &mut out);
    model_checks(&config, &paths, runtime, &mut out);
    out
}

fn check_data_dir(paths: &Paths) -> Check {
    let dir = &paths.data_dir;
    let probe = dir.join(".raqib-doctor-probe");
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe));
    match result {
        Ok(()) => Check::ok("data dir", format!("{} writable", dir.display())),
        Err(e) => Check::fail(
            "data dir",
            format!("{} not writable: {e}", dir.display()),
            "set [node] data_dir or RAQIB_DATA_DIR to a writable directory",
        ),
    }
}

fn gstreamer_checks(out: &mut Vec<Check>) {
    let report = match raqib_pipeline::gst_check::probe() {
        Ok(r) => r,
        Err(e) => {
            out.push(Check::fail("gstreamer", e.to_string(), "make setup"));
            return;
        }
    };
    out.push(Check::ok("gstreamer", report.version.clone()));
    for (el, present) in &report.elements {
        let what = format!("element {}", el.name);
        if *present {
            out.push(Check::ok(what, el.purpose));
        } else {
            out.push(Check::fail(
                what,
                format!("missing: needed to {}", el.purpose),
                format!("apt-get install {} (or make setup)", el.package),
            ));
        }
    }
    let hw = if report.hw_decoders.is_empty() {
        "none found: software decoding".to_owned()
    } else {
        report.hw_decoders.join(", ")
    };
    out.push(Check::info("hw decoders", hw));
}

fn runtime_checks(config: &Config, paths: &Paths, out: &mut Vec<Check>) -> Option<&'static Runtime> {
    match Runtime::shared(&paths.ort_library) {
        Ok(rt) => {
            let providers = rt.available_providers();
            out.push(Check::ok(
                "onnxruntime",
                format!("{} at {} (providers: {})", rt.version(), rt.library().display(), providers.join(", ")),
            ));
            let device = config.runtime.device;
            if device == raqib_models::Device::Cuda && !providers.contains(&"CUDA") {
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

fn model_checks(config: &Config, paths: &Paths, runtime: Option<&Runtime>, out: &mut Vec<Check>) {
    let manifest = match Manifest::builtin() {
        Ok(m) => m,
        Err(e) => {
            out.push(Check::fail("manifest", e.to_string(), "rebuild raqib from a clean checkout"));
            return;
        }
    };
    let opts = config.runtime.session_options();
    for spec in &manifest.models {
        let what = format!("model {}", spec.id);
        let path = match spec.verify_in(&paths.models_dir) {
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
        match rt.session(&path, &opts) {
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

/// Prints the report; returns whether every check passed.
pub fn print(checks: &[Check]) -> bool {
    println!("raqib doctor");
    let width = checks.iter().map(|c| c.what.len()).max().unwrap_or(0);
    for c in checks {
        let tag = match c.status {
            Status::Ok => "ok  ",
            Status::Info => "info",
            Status::Fail => "FAIL",
        };
        println!("  {tag}  {:width$}  {}", c.what, c.detail);
        if let Some(fix) = &c.fix {
            println!("        {:width$}  fix: {fix}", "");
        }
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed == 0 {
        println!("all checks passed");
    } else {
        println!("{failed} check(s) failed");
    }
    failed == 0
}
