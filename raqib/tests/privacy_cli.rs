//! Privacy controls end to end: the retention purge removes expired reads and keeps hits (real
//! replay of a generated scene, rows then aged in the database), `reads_days = 0` stores no
//! non-hit read at all, and `raqib audit verify` detects a tampered audit row. Hits are deleted
//! by an analyst (`raqib alert delete`, audited) and, after the configured period, when their
//! watchlist entry is removed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{ok, raqib, text};

use std::path::{Path, PathBuf};
use std::process::Command;

const SCENE: &[&str] =
    &["--width", "960", "--height", "540", "--seconds", "6", "--seed", "11", "--pedestrians", "0", "-q"];

#[test]
fn purge_removes_expired_reads_keeps_hits_and_zero_days_keeps_no_read() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(d, &cache, &[&["samples", "make", "--out", "scene"], SCENE].concat()));
    ok(raqib(d, &cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let (reads, hits) = (count("SELECT count(*) FROM plate_reads WHERE NOT hit"), count("SELECT count(*) FROM hits"));
    assert!(reads >= 1 && hits >= 1, "reads {reads}, hits {hits}");
    // Age everything by 31 days; the default policy keeps non-hit reads 30 days, hits until removed.
    db.execute_batch("UPDATE plate_reads SET seen_at = '2020-01-01T00:00:00+00:00'; UPDATE hits SET raised_at = '2020-01-01T00:00:00+00:00';")
        .unwrap();
    let out = ok(raqib(d, &cache, &["purge", "--json"]));
    let report: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["events"]["reads"], reads, "{out}");
    assert_eq!(report["events"]["hit_reads"], 0);
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE NOT hit"), 0);
    assert_eq!(count("SELECT count(*) FROM hits"), hits, "hits are kept");
    let audit = ok(raqib(d, &cache, &["audit", "list", "--action", "retention"]));
    assert!(audit.contains("retention.purge"), "{audit}");

    // A hits_days policy removes old hits with their evidence.
    std::fs::write(d.join("raqib.toml"), "[retention]\nreads_days = 30\nhits_days = 365\n").unwrap();
    let out = ok(raqib(d, &cache, &["purge", "--json"]));
    let report: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(report["events"]["hit_reads"].as_i64().unwrap() >= 1, "{out}");
    assert_eq!(count("SELECT count(*) FROM hits"), 0);
    assert_eq!(count("SELECT count(*) FROM plate_reads"), 0);

    // reads_days = 0: a replay stores the hits and nothing else.
    std::fs::write(d.join("raqib.toml"), "[retention]\nreads_days = 0\n").unwrap();
    ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE NOT hit"), 0);
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE hit"), count("SELECT count(DISTINCT read_id) FROM hits"));
    assert!(count("SELECT count(*) FROM hits") >= 1);
    // Bad policies name their key.
    std::fs::write(d.join("raqib.toml"), "[retention]\nhits_days = 0\n").unwrap();
    let out = raqib(d, &cache, &["purge"]);
    assert!(!out.status.success() && text(&out).contains("retention.hits_days"), "{}", text(&out));
}

#[test]
fn hits_are_deleted_by_an_analyst_and_after_their_entry_is_removed() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 12 s: four vehicles, two of them listed.
    let scene = ["--width", "960", "--height", "540", "--seconds", "12", "--seed", "11", "--pedestrians", "0", "-q"];
    ok(raqib(d, &cache, &[&["samples", "make", "--out", "scene"], &scene[..]].concat()));
    ok(raqib(d, &cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let hits = count("SELECT count(*) FROM hits");
    assert!(hits >= 2, "the scene has two listed plates: {hits} hit(s)");
    let (first, first_plate): (i64, String) = db
        .query_row("SELECT h.id, r.plate FROM hits h JOIN plate_reads r ON r.id = h.read_id ORDER BY h.id", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let id = format!("p{first}");

    // An analyst deletes one hit: a reason is required, the deletion is audited.
    let no_reason = raqib(d, &cache, &["alert", "delete", &id]);
    assert!(!no_reason.status.success() && text(&no_reason).contains("--reason"), "{}", text(&no_reason));
    let out = ok(raqib(d, &cache, &["alert", "delete", &id, "--reason", "case 7 closed"]));
    assert!(out.contains("deleted"), "{out}");
    assert_eq!(count("SELECT count(*) FROM hits"), hits - 1);
    assert_eq!(
        count(&format!("SELECT count(*) FROM plate_reads WHERE plate = '{first_plate}'")),
        0,
        "its read went too"
    );
    let again = raqib(d, &cache, &["alert", "delete", &id, "--reason", "twice"]);
    assert!(!again.status.success() && text(&again).contains(&format!("no alert {id}")), "{}", text(&again));
    let audit = ok(raqib(d, &cache, &["audit", "list", "--action", "alert.delete"]));
    assert!(audit.contains(&id) && audit.contains("case 7 closed"), "{audit}");
    assert!(!audit.contains(&first_plate), "the audit record does not keep the deleted plate: {audit}");

    // Every entry removed from the watchlist: its hits wait the period (30 days by default)...
    let entries: serde_json::Value =
        serde_json::from_str(&ok(raqib(d, &cache, &["watchlist", "list", "--json"]))).unwrap();
    for e in entries["plates"].as_array().unwrap() {
        ok(raqib(d, &cache, &["watchlist", "--reason", "expired", "remove", &e["id"].to_string()]));
    }
    let out = ok(raqib(d, &cache, &["purge", "--json"]));
    let report: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["removed_entries"]["waiting"], hits - 1, "{out}");
    assert_eq!(count("SELECT count(*) FROM hits"), hits - 1, "kept during the period");
    // ...and go when it has passed (0: at the next purge), audited, their reads and frames too.
    std::fs::write(d.join("raqib.toml"), "[retention]\nremoved_entry_hits_days = 0\n").unwrap();
    let out = ok(raqib(d, &cache, &["purge", "--json"]));
    let report: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(report["removed_entries"]["plate_hits"], hits - 1, "{out}");
    assert_eq!(count("SELECT count(*) FROM hits"), 0);
    assert_eq!(count("SELECT count(*) FROM plate_reads WHERE hit"), 0);
    let audit = ok(raqib(d, &cache, &["audit", "list", "--action", "retention"]));
    assert!(audit.contains("retention.purge_removed_entries"), "{audit}");
    std::fs::write(d.join("raqib.toml"), "[retention]\nremoved_entry_hits_days = 4000\n").unwrap();
    let bad = raqib(d, &cache, &["purge"]);
    assert!(!bad.status.success() && text(&bad).contains("retention.removed_entry_hits_days"), "{}", text(&bad));
}

#[test]
fn a_tampered_audit_row_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("no-cache");
    std::fs::write(d.join("list.csv"), "plate,category\n12345-ب-6,stolen_vehicle\nAB-123-CD,bolo\n").unwrap();
    ok(raqib(d, &cache, &["watchlist", "--actor", "amina", "--reason", "CASE-7", "import", "list.csv"]));
    ok(raqib(d, &cache, &["watchlist", "--actor", "omar", "--reason", "CASE-8", "search", "12*"]));
    let out = ok(raqib(d, &cache, &["audit", "verify"]));
    assert!(out.contains("audit log intact"), "{out}");

    let db = rusqlite::Connection::open(d.join("watchlist.db")).unwrap();
    let err = db.execute("UPDATE audit SET reason = 'none' WHERE actor = 'amina'", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    // Someone with the file drops the guard and rewrites who did it.
    db.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone else' WHERE actor = 'amina';")
        .unwrap();
    drop(db);
    let out = raqib(d, &cache, &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("BROKEN at record 1"), "{}", text(&out));
}

#[test]
fn an_encrypted_database_cannot_be_opened_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("no-cache");
    std::fs::write(
        d.join("list.csv"),
        "plate,category,notes\n12345-ب-6,stolen_vehicle,silver sedan seen near the port\n",
    )
    .unwrap();
    let key = "correct horse battery staple 42";
    let with_key = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_raqib"))
            .current_dir(d)
            .env("RAQIB_CACHE_DIR", &cache)
            .env("RAQIB_DATA_DIR", d)
            .env("RAQIB_DB_KEY", key)
            .env_remove("RAQIB_CONFIG")
            .args(args)
            .output()
            .unwrap()
    };
    ok(with_key(&["watchlist", "--reason", "CASE-9", "import", "list.csv"]));
    assert!(ok(with_key(&["watchlist", "list"])).contains("12345-ب-6"));
    // Nothing readable in the file.
    let bytes = std::fs::read(d.join("watchlist.db")).unwrap();
    for needle in ["silver sedan", "stolen_vehicle", "SQLite format 3"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "`{needle}` readable in the file");
    }
    // Without the key (or with another one) it cannot be opened, and says why.
    let out = raqib(d, &cache, &["watchlist", "list"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("RAQIB_DB_KEY"), "{}", text(&out));
    let conn = rusqlite::Connection::open(d.join("watchlist.db")).unwrap();
    assert!(conn.query_row("SELECT count(*) FROM plate_entries", [], |r| r.get::<_, i64>(0)).is_err());
    // The key can come from a file named in the configuration.
    std::fs::write(d.join("db.key"), format!("{key}\n")).unwrap();
    std::fs::write(d.join("raqib.toml"), "[node]\ndb_key_file = \"db.key\"\n").unwrap();
    assert!(ok(raqib(d, &cache, &["watchlist", "list"])).contains("12345-ب-6"));
    std::fs::remove_file(d.join("raqib.toml")).unwrap();

    // The events and users databases too, and a wrong key on each of the three gets the same
    // clear message, naming the file.
    ok(with_key(&["purge"]));
    let mut add = Command::new(env!("CARGO_BIN_EXE_raqib"));
    add.current_dir(d).env("RAQIB_DATA_DIR", d).env("RAQIB_DB_KEY", key).env("RAQIB_PASSWORD", "a long enough pass 1");
    ok(add.env_remove("RAQIB_CONFIG").args(["user", "add", "amina", "--role", "admin"]).output().unwrap());
    let wrong = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_raqib"))
            .current_dir(d)
            .env("RAQIB_CACHE_DIR", &cache)
            .env("RAQIB_DATA_DIR", d)
            .env("RAQIB_DB_KEY", "a different key of 30 characters")
            .env_remove("RAQIB_CONFIG")
            .args(args)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?} opened with a wrong key");
        text(&o)
    };
    for (args, file) in [
        (&["watchlist", "list"][..], "watchlist.db"),
        (&["purge"][..], "events.db"),
        (&["user", "list"][..], "users.db"),
    ] {
        let t = wrong(args);
        let expected = format!("{}: {}", d.join(file).display(), raqib_core::db::WRONG_KEY);
        assert!(t.contains(&expected), "{args:?}: {t}");
    }
}

#[test]
fn stored_hit_frames_hide_other_plates_and_every_face() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scene = ["--width", "960", "--height", "540", "--seconds", "6", "--seed", "11", "--pedestrians", "2", "-q"];
    ok(raqib(d, &cache, &[&["samples", "make", "--out", "scene"], &scene[..]].concat()));
    ok(raqib(d, &cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    // (plate, faces found, plates read) in each stored hit frame.
    let frames = |d: &Path| -> Vec<(String, usize, Vec<String>)> {
        let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
        let mut stmt = db.prepare("SELECT id, plate, frame_jpeg FROM plate_reads WHERE hit").unwrap();
        let rows: Vec<(i64, String, Vec<u8>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        rows.into_iter()
            .map(|(id, plate, jpeg)| {
                let file = d.join(format!("frame{id}.jpg"));
                std::fs::write(&file, jpeg).unwrap();
                let out = raqib(d, &cache, &["read", "--json", file.to_str().unwrap()]);
                assert!(out.status.success(), "{}", text(&out));
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                let image = if v.is_array() { v[0].clone() } else { v };
                let faces = image["faces"].as_array().map_or(0, Vec::len);
                let plates = image["plates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["text"].as_str().unwrap().to_owned())
                    .collect();
                (plate, faces, plates)
            })
            .collect()
    };
    ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    let redacted = frames(d);
    assert!(!redacted.is_empty());
    for (plate, faces, plates) in &redacted {
        assert_eq!(*faces, 0, "a face is visible in the evidence of {plate}");
        assert_eq!(plates, &vec![plate.clone()], "only the hit's plate is readable");
    }
    // The same scene without redaction shows the pedestrians: the check above can fail.
    std::fs::remove_file(d.join("events.db")).unwrap();
    std::fs::write(d.join("raqib.toml"), "[privacy]\nredact_snapshots = false\n").unwrap();
    ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    assert!(frames(d).iter().any(|(_, faces, _)| *faces > 0), "unredacted frames show faces");
}
