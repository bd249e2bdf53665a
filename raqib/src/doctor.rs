//! `raqib doctor`: what the node will use, and whether each part works.
//!
//! Every check prints one line; a failed check adds a one-line fix. The command exits non-zero
//! when any check fails, so scripts and CI can rely on it. The configuration and folders are
//! checked here; GStreamer, ONNX Runtime and the models by their own crates.

use std::path::Path;

use raqib_core::check::Check;

use crate::config::{Config, Origin, Paths};

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
    if paths.data_dir.is_dir() {
        out.push(config.disk.doctor_check(&paths.data_dir));
    }
    out.push(Check::info(
        "cache dir",
        format!("{} (models: {})", paths.cache_dir.display(), paths.models_dir.display()),
    ));
    out.extend(raqib_pipeline::gst_check::checks());
    out.extend(raqib_models::doctor::checks(&paths.ort_library, &paths.models_dir, &config.runtime.session_options()));
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
