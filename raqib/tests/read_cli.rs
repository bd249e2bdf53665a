//! `raqib read` on bad input: a clear error per file, the other files still read, non-zero exit.

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
