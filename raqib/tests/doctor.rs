//! End-to-end checks of `raqib doctor` and `raqib models verify`: the real binary, real files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary in `cwd` with a clean raqib environment plus `envs`.
fn raqib(cwd: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_raqib"));
    cmd.current_dir(cwd).args(args);
    for var in
        ["RAQIB_CONFIG", "RAQIB_DATA_DIR", "RAQIB_CACHE_DIR", "RAQIB_MODELS_DIR", "ORT_DYLIB_PATH", "RAQIB_DEVICE"]
    {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("raqib runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The cache `make setup` filled, or `None` (test skipped) when it has not run.
fn real_cache() -> Option<PathBuf> {
    raqib_models::runtime::installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

#[test]
fn missing_runtime_fails_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = raqib(
        dir.path(),
        &["doctor"],
        &[("ORT_DYLIB_PATH", Path::new("/nonexistent/libonnxruntime.so")), ("RAQIB_CACHE_DIR", dir.path())],
    );
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("FAIL  onnxruntime"), "{text}");
    assert!(text.contains("fix: make setup"), "{text}");
}

#[test]
fn corrupt_model_fails_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::fs::write(models.join("fr_detect.onnx"), b"this is not the model").unwrap();
    let out = raqib(dir.path(), &["doctor"], &[("RAQIB_CACHE_DIR", dir.path())]);
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let line = text.lines().find(|l| l.contains("model face-detect-rfb320")).expect("model line");
    assert!(line.contains("FAIL") && line.contains("fr_detect.onnx") && line.contains("expected 6c0256cc"), "{line}");
    assert!(text.contains("fix: raqib models fetch"), "{text}");

    let verify = raqib(dir.path(), &["models", "verify"], &[("RAQIB_CACHE_DIR", dir.path())]);
    assert!(!verify.status.success());
    assert!(String::from_utf8_lossy(&verify.stderr).contains("raqib models fetch"));
}

#[test]
fn invalid_config_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("raqib.toml"), "[[cameras]]\nid = \"gate\"\nurl = \"ftp://x\"\n").unwrap();
    let out = raqib(dir.path(), &["doctor"], &[("RAQIB_CACHE_DIR", dir.path())]);
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let line = text.lines().find(|l| l.contains("config")).unwrap();
    assert!(line.contains("FAIL") && line.contains("cameras[0].url"), "{line}");

    // Other commands refuse to start on a bad config, naming the key too.
    let list = raqib(dir.path(), &["models", "list"], &[]);
    assert!(!list.status.success());
    assert!(String::from_utf8_lossy(&list.stderr).contains("cameras[0].url"));
}

#[test]
fn doctor_passes_on_a_set_up_machine() {
    let Some(cache) = real_cache() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = raqib(dir.path(), &["doctor"], &[("RAQIB_CACHE_DIR", &cache), ("RAQIB_DATA_DIR", dir.path())]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all checks passed"), "{text}");
    assert!(text.contains("onnxruntime") && text.contains("1.32.0"), "{text}");
}
