//! `raqib read` on bad input: a clear error per file, the other files still read, non-zero exit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn unreadable_image_is_reported_and_the_rest_still_read() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("camera.jpg");
    std::fs::write(&bad, b"\xff\xd8 truncated upload").unwrap();
    let empty = dir.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .current_dir(dir.path())
        .env("RAQIB_CACHE_DIR", &cache)
        .env("RAQIB_DATA_DIR", dir.path())
        .args(["read", "--json"])
        .arg(&bad)
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "one JSON object per image: {stdout}");
    assert!(lines[0]["error"].as_str().unwrap().contains("camera.jpg"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 of 2 image(s) could not be read"));
}

/// The committed sample plates (rendered by `training/plate_ocr/samples.py`, one per layout) are
/// read exactly: Moroccan single-row, two-row and `WW`, European, Brazilian Mercosul, US.
#[test]
fn sample_plates_are_read_exactly() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let samples = workspace.join("samples/plates");
    let truth = std::fs::read_to_string(samples.join("truth.tsv")).unwrap();
    let rows: Vec<(String, String)> = truth
        .lines()
        .skip(1)
        .map(|l| {
            let (f, t) = l.split_once('\t').unwrap();
            (f.to_owned(), raqib_core::PlateText::parse(t, None).unwrap().key().to_owned())
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_raqib"))
        .current_dir(dir.path())
        .env("RAQIB_CACHE_DIR", &cache)
        .env("RAQIB_DATA_DIR", dir.path())
        .args(["read", "--json"])
        .args(rows.iter().map(|(f, _)| samples.join(f)))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for (line, (file, key)) in stdout.lines().zip(&rows) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let best = &v["plates"][0];
        assert_eq!(best["key"].as_str(), Some(key.as_str()), "{file}: {line}");
        assert!(best["confidence"].as_f64().unwrap() > 0.6, "{file}: {line}");
        assert!(best["chars"].as_array().is_some_and(|c| !c.is_empty()), "per-position reads: {line}");
    }
}
