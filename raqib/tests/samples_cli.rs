//! `raqib samples make` → `raqib replay` end to end: a generated scene with exact ground truth
//! must give every plate once, read exactly, raise hits for exactly the listed plates, and
//! identify the listed pedestrian while the other one leaves nothing on disk; the listed person
//! is on a covert list, so their hit is shown only to users given it. Also: the same
//! seed gives the same truth, and bad settings are refused with the setting's name.

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

const SCENE: &[&str] =
    &["--width", "960", "--height", "540", "--seconds", "6", "--seed", "11", "--pedestrians", "2", "-q"];

#[test]
fn a_generated_scene_replays_into_exactly_its_plates_and_listed_hits() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let make = raqib(d, &cache, &[&["samples", "make", "--out", "scene"], SCENE].concat());
    assert!(make.status.success(), "{}", text(&make));
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("scene/truth.json")).unwrap()).unwrap();
    assert_eq!(truth["frames"], 150);
    let plates = truth["plates"].as_array().unwrap();
    assert!(plates.len() >= 2, "{truth}");
    let listed: Vec<&str> =
        plates.iter().filter(|p| !p["watchlist"].is_null()).map(|p| p["text"].as_str().unwrap()).collect();

    let import = raqib(d, &cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]);
    assert!(import.status.success(), "{}", text(&import));
    // The listed pedestrian is on a covert list (the scope fields a persons file may carry).
    let mut listed_persons: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("scene/persons.json")).unwrap()).unwrap();
    listed_persons[0]["covert_list"] = "op-heron".into();
    std::fs::write(d.join("scene/persons.json"), listed_persons.to_string()).unwrap();
    let persons = raqib(d, &cache, &["watchlist", "import-persons", "--reason", "test", "scene/persons.json"]);
    assert!(persons.status.success(), "{}", text(&persons));
    let out = raqib(d, &cache, &["replay", "-q", "--report", "report.json", "scene/scene.mp4"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
    let reads = report["videos"][0]["reads"].as_array().unwrap();
    assert_eq!(report["videos"][0]["frames"], 150);
    for p in plates {
        let text = p["text"].as_str().unwrap();
        let n = reads.iter().filter(|r| r["text"] == text).count();
        assert_eq!(n, 1, "plate {text} read once exactly; reads: {:?}", texts(reads));
    }
    assert_eq!(reads.len(), plates.len(), "no other reads: {:?}", texts(reads));
    for r in reads {
        let hit = !r["hits"].as_array().unwrap().is_empty();
        let text = r["text"].as_str().unwrap();
        assert_eq!(hit, listed.contains(&text), "{text}: hit {hit}, listed {listed:?}");
    }

    // Faces: the listed identity is seen once, the other pedestrian is only counted.
    let pedestrians = truth["faces"].as_array().unwrap();
    assert_eq!(pedestrians.len(), 2, "{truth}");
    let listed_face = pedestrians.iter().find(|f| f["watchlist"] == true).unwrap()["identity"].as_str().unwrap();
    let other_face = pedestrians.iter().find(|f| f["watchlist"] == false).unwrap()["identity"].as_str().unwrap();
    let faces = report["videos"][0]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert!(faces[0]["name"].as_str().unwrap().starts_with(listed_face), "{faces:?}");
    assert!(report["videos"][0]["face_counts"]["unmatched_tracks"].as_u64().unwrap() >= 1);
    // On disk: one face hit; nothing names or shows the other pedestrian.
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM face_hits", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    // Covert: an operator, a webhook or the hub does not see the face hit; a user given the
    // list does.
    let events = raqib_events::EventStore::open(&d.join("events.db")).unwrap();
    let faces_seen = |lists: &[String]| {
        let all = events
            .alerts_after_visible(
                raqib_events::alerts::Cursor::default(),
                100,
                raqib_events::alerts::Visibility::Lists(lists),
            )
            .unwrap();
        all.into_iter().filter(|a| a.kind == raqib_events::alerts::AlertKind::Face).count()
    };
    assert_eq!(faces_seen(&[]), 0, "a covert person's hit is hidden from users without the list");
    assert_eq!(faces_seen(&["op-heron".to_owned()]), 1);
    // Hits keep the whole frame of their best shot as evidence; other reads only their crop.
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE hit AND frame_jpeg IS NOT NULL"), listed.len() as i64);
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE NOT hit AND frame_jpeg IS NOT NULL"), 0);
    for entry in walk(d) {
        let bytes = std::fs::read(&entry).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            !hay.contains(other_face) || entry.ends_with("truth.json"),
            "{} mentions {other_face}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn texts(reads: &[serde_json::Value]) -> Vec<&str> {
    reads.iter().filter_map(|r| r["text"].as_str()).collect()
}

#[test]
fn the_same_settings_give_the_same_truth_and_bad_settings_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("no-cache");
    let small = ["--width", "320", "--height", "240", "--seconds", "1", "--seed", "5", "-q"];
    for out in ["a", "b"] {
        let made = raqib(d, &cache, &[&["samples", "make", "--out", out], &small[..]].concat());
        assert!(made.status.success(), "{}", text(&made));
    }
    let a = std::fs::read(d.join("a/truth.json")).unwrap();
    assert_eq!(a, std::fs::read(d.join("b/truth.json")).unwrap(), "deterministic truth");
    assert_eq!(std::fs::read(d.join("a/watchlist.csv")).unwrap(), std::fs::read(d.join("b/watchlist.csv")).unwrap());
    assert!(d.join("a/faces/astronaut.jpg").is_file(), "the persons file's photo is beside it");
    let other = raqib(
        d,
        &cache,
        &["samples", "make", "--out", "c", "--width", "320", "--height", "240", "--seconds", "1", "--seed", "6", "-q"],
    );
    assert!(other.status.success());
    assert_ne!(a, std::fs::read(d.join("c/truth.json")).unwrap(), "another seed, another scene");

    let bad = raqib(d, &cache, &["samples", "make", "--out", "x", "--width", "333"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("width"), "{}", text(&bad));
    assert!(!d.join("x/scene.mp4").exists(), "nothing written for bad settings");
}
