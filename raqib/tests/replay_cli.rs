//! `raqib replay` end to end: a real H.264 MP4 made by GStreamer from a sample plate photo →
//! decode → read → track → vote → watchlist hit → report; plus broken files that must not stop
//! the others.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{raqib, text};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Encodes `frames` copies of a PNG as a 10 fps H.264 MP4 with gst-launch.
fn video_from_png(png: &Path, frames: u32, out: &Path) {
    let status = Command::new("gst-launch-1.0")
        .args(["-q", "multifilesrc"])
        .arg(format!("location={}", png.display()))
        .args(["loop=true", &format!("num-buffers={frames}"), "caps=image/png,framerate=10/1", "!", "pngdec", "!"])
        .args(["videoconvert", "!", "x264enc", "!", "mp4mux", "!", "filesink"])
        .arg(format!("location={}", out.display()))
        .status()
        .expect("gst-launch-1.0 runs (make setup installs gstreamer1.0-tools)");
    assert!(status.success(), "encoding the test video failed");
}

#[test]
fn replay_reads_a_plate_once_raises_the_hit_and_survives_bad_files() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let video = d.join("street.mp4");
    video_from_png(&workspace.join("samples/plates/ma-standard.png"), 12, &video);
    let truth = std::fs::read_to_string(workspace.join("samples/plates/truth.tsv")).unwrap();
    let plate = truth.lines().find_map(|l| l.strip_prefix("ma-standard.png\t")).unwrap().to_owned();

    let add =
        raqib(d, &cache, &["watchlist", "add", "--plate", &plate, "--category", "stolen_vehicle", "--reason", "t"]);
    assert!(add.status.success(), "{}", text(&add));
    let corrupt = d.join("corrupt.mp4");
    std::fs::write(&corrupt, b"\x00\x00\x00\x18ftypmp42 then nothing").unwrap();

    let out = raqib(d, &cache, &["replay", "-q", "--report", "report.json", "corrupt.mp4", "street.mp4"]);
    let log = text(&out);
    assert!(!out.status.success(), "a corrupt file makes the exit status non-zero: {log}");
    assert!(log.contains("corrupt.mp4:") && log.contains("1 of 2 file(s)"), "{log}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
    let videos = report["videos"].as_array().unwrap();
    assert!(videos[0]["error"].is_string(), "{report}");
    let street = &videos[1];
    assert_eq!(street["frames"], 12, "every frame decoded: {street}");
    let reads = street["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "one read per track, not per frame: {street}");
    let key = raqib_core::PlateText::parse(&plate, None).unwrap().key().to_owned();
    assert_eq!(reads[0]["key"], key.as_str());
    assert!(reads[0]["reads"].as_u64().unwrap() >= 10, "{street}");
    assert_eq!(reads[0]["hits"][0]["kind"], "exact", "{street}");
    assert_eq!(reads[0]["hits"][0]["entry"]["category"], "stolen_vehicle");
    assert!(log.contains("HIT"), "{log}");

    // Analysts find the sighting later, by any spelling or a wildcard, with a reason (audited).
    let refused = raqib(d, &cache, &["search", &plate]);
    assert!(!refused.status.success() && text(&refused).contains("--reason"), "{}", text(&refused));
    let wildcard = format!("{}*", &key[..3]);
    let found = raqib(d, &cache, &["search", &wildcard, "--reason", "case 7", "--json"]);
    assert!(found.status.success(), "{}", text(&found));
    let rows: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(rows[0]["key"], key.as_str(), "{rows}");
    assert_eq!(rows[0]["hit"], true);
    let audit = raqib(d, &cache, &["watchlist", "audit"]);
    assert!(text(&audit).contains("search.sightings") && text(&audit).contains("case 7"), "{}", text(&audit));

    // The search names the hit's alert; its evidence package is exported with a reason, once.
    let listed = raqib(d, &cache, &["search", &plate, "--reason", "case 7"]);
    assert!(text(&listed).contains("HIT p1"), "{}", text(&listed));
    let no_reason = raqib(d, &cache, &["evidence", "p1"]);
    assert!(!no_reason.status.success() && text(&no_reason).contains("--reason"), "{}", text(&no_reason));
    let export = raqib(d, &cache, &["evidence", "p1", "--reason", "case 7", "--out", "p1.zip"]);
    assert!(export.status.success(), "{}", text(&export));
    let zip = std::fs::read(d.join("p1.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut alert = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("alert.json").unwrap(), &mut alert).unwrap();
    let alert: serde_json::Value = serde_json::from_str(&alert).unwrap();
    assert_eq!(alert["details"]["read"]["key"], key.as_str(), "{alert}");
    assert_eq!(alert["details"]["watchlist_entry"]["category"], "stolen_vehicle", "{alert}");
    assert!(archive.by_name("frame.jpg").is_ok() && archive.by_name("SHA256SUMS").is_ok());
    let again = raqib(d, &cache, &["evidence", "p1", "--reason", "case 7", "--out", "p1.zip"]);
    assert!(!again.status.success() && text(&again).contains("exists already"), "{}", text(&again));
    let missing = raqib(d, &cache, &["evidence", "p9", "--reason", "case 7"]);
    assert!(!missing.status.success() && text(&missing).contains("no alert p9"), "{}", text(&missing));
    let audit = text(&raqib(d, &cache, &["watchlist", "audit"]));
    assert_eq!(audit.matches("alert.export").count(), 1, "one export, audited: {audit}");

    // The HTML report is self-contained: the snapshot is embedded.
    let html = raqib(d, &cache, &["replay", "-q", "--report", "report.html", "street.mp4"]);
    assert!(html.status.success(), "{}", text(&html));
    let page = std::fs::read_to_string(d.join("report.html")).unwrap();
    assert!(page.contains("data:image/jpeg;base64,") && page.contains("class=\"hit\""), "{page}");
}

#[test]
fn search_fuzzy_finds_a_sighting_one_misread_character_away_and_audits_the_mode() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video_from_png(&workspace.join("samples/plates/ma-standard.png"), 12, &d.join("street.mp4"));
    let out = raqib(d, &cache, &["replay", "-q", "--report", "r.csv", "street.mp4"]);
    assert!(out.status.success(), "{}", text(&out));
    let truth = std::fs::read_to_string(workspace.join("samples/plates/truth.tsv")).unwrap();
    let plate = truth.lines().find_map(|l| l.strip_prefix("ma-standard.png\t")).unwrap().to_owned();
    // The plate as an officer might type it with one digit wrong.
    let first = plate.chars().position(|c| c.is_ascii_digit()).unwrap();
    let typo: String = plate
        .chars()
        .enumerate()
        .map(|(i, c)| if i == first { if c == '9' { '8' } else { char::from(c as u8 + 1) } } else { c })
        .collect();
    let exact = raqib(d, &cache, &["search", &typo, "--reason", "case 8", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&exact.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(0), "exact: {rows}");
    let fuzzy = raqib(d, &cache, &["search", &typo, "--fuzzy", "--reason", "case 8", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&fuzzy.stdout).unwrap();
    let key = raqib_core::PlateText::parse(&plate, None).unwrap().key().to_owned();
    assert_eq!(rows[0]["key"], key.as_str(), "fuzzy: {rows}");
    let audit = text(&raqib(d, &cache, &["watchlist", "audit"]));
    assert!(audit.contains("mode exact, 0 result(s)") && audit.contains("mode fuzzy, 1 result(s)"), "{audit}");
    // Writing a report copies reads out of the node: audited like a search.
    assert!(audit.contains("report.write") && audit.contains("r.csv") && audit.contains("1 read(s)"), "{audit}");
}

#[test]
fn a_read_that_cannot_be_stored_fails_the_replay_and_is_counted() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video_from_png(&workspace.join("samples/plates/ma-standard.png"), 12, &d.join("street.mp4"));
    let truth = std::fs::read_to_string(workspace.join("samples/plates/truth.tsv")).unwrap();
    let plate = truth.lines().find_map(|l| l.strip_prefix("ma-standard.png\t")).unwrap().to_owned();
    let add =
        raqib(d, &cache, &["watchlist", "add", "--plate", &plate, "--category", "stolen_vehicle", "--reason", "t"]);
    assert!(add.status.success(), "{}", text(&add));
    let first = raqib(d, &cache, &["replay", "-q", "street.mp4"]);
    assert!(first.status.success(), "{}", text(&first));
    // The events store stops taking reads (as on a full disk); the first run's read is gone, so
    // the second run's is not one already stored.
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    db.execute_batch(
        "DELETE FROM hits; DELETE FROM plate_reads;
         CREATE TRIGGER full BEFORE INSERT ON plate_reads BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
    )
    .unwrap();
    let out = raqib(d, &cache, &["replay", "-q", "--report", "r.json", "street.mp4"]);
    let log = text(&out);
    assert!(!out.status.success(), "a lost hit fails the run: {log}");
    assert!(log.contains("NOT STORED") && log.contains("1 plate read(s)") && log.contains("1 of them hit(s)"), "{log}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    assert!(report["videos"][0]["error"].as_str().unwrap().contains("NOT STORED"), "{report}");
    assert_eq!(report["videos"][0]["reads"].as_array().unwrap().len(), 1, "the report still has it");
}
