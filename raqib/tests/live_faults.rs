//! `raqib run` with a failing events store (#28): what cannot be stored waits in memory, shows
//! in `health.json`, and is stored (once, in order) when the store takes writes again; what is
//! still not stored at the end fails the run with its count.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{command, ok, raqib};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// 12 s, four vehicles one after another, the second and the fourth listed.
const SCENE: &[&str] =
    &["--width", "960", "--height", "540", "--seconds", "12", "--seed", "11", "--pedestrians", "0", "-q"];

const FULL: &str = "CREATE TRIGGER full BEFORE INSERT ON plate_reads BEGIN SELECT RAISE(FAIL, 'disk full'); END;";

/// A data directory with the scene, its watchlist and an empty events store.
fn scene_with_store(cache: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(d, cache, &[&["samples", "make", "--out", "scene"], SCENE].concat()));
    ok(raqib(d, cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    ok(raqib(d, cache, &["purge"])); // creates events.db
    dir
}

/// [`scene_with_store`], with an events store that refuses reads.
fn failing_store(cache: &Path) -> tempfile::TempDir {
    let dir = scene_with_store(cache);
    rusqlite::Connection::open(dir.path().join("events.db")).unwrap().execute_batch(FULL).unwrap();
    dir
}

fn health(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("health.json")).unwrap_or_default()).unwrap_or_default()
}

fn run(d: &Path, cache: &Path, seconds: &str) -> std::process::Child {
    command(d, cache)
        .args(["run", "--no-server", "--for", seconds, "--health-every", "1", "--camera", "gate=scene/scene.mp4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn hits_the_store_cannot_take_wait_and_are_stored_once_when_it_recovers() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = failing_store(&cache);
    let d = dir.path();
    let child = run(d, &cache, "16");
    let started = Instant::now();
    // Waiting, and the store's refusal shown (an outcome waits in the hand-over queue a moment
    // before the store has answered).
    while health(d)["events_store"]["waiting"].as_u64().unwrap_or(0) == 0
        || health(d)["events_store"]["last_error"].is_null()
    {
        assert!(started.elapsed() < Duration::from_secs(90), "nothing ever waited: {}", health(d));
        std::thread::sleep(Duration::from_millis(100));
    }
    let fault = health(d);
    assert!(fault["events_store"]["last_error"].as_str().unwrap().contains("disk full"), "{fault}");
    // The disk has room again.
    rusqlite::Connection::open(d.join("events.db")).unwrap().execute_batch("DROP TRIGGER full;").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    // Every read printed is stored, once; the listed plates among them raised their hits.
    let printed = stdout.lines().filter(|l| l.starts_with("[gate]")).count() as i64;
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(printed >= 2, "{stdout}");
    assert_eq!(count("SELECT count(*) FROM plate_reads"), printed, "{stdout}");
    let printed_hits = stdout.lines().filter(|l| l.starts_with("[gate]") && l.contains("HIT")).count() as i64;
    assert!(printed_hits >= 1, "{stdout}");
    assert_eq!(count("SELECT count(*) FROM hits"), printed_hits);
    assert_eq!(health(d)["events_store"]["waiting"], 0, "the fault is over");
}

#[test]
fn hits_still_not_stored_at_the_end_fail_the_run_with_their_count() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = failing_store(&cache);
    let d = dir.path();
    let out = run(d, &cache, "11").wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "a lost hit fails the run: {stdout}{stderr}");
    let printed = stdout.lines().filter(|l| l.starts_with("[gate]")).count();
    let hits = stdout.lines().filter(|l| l.starts_with("[gate]") && l.contains("HIT")).count();
    assert!(hits >= 1, "{stdout}");
    let expected = format!(
        "NOT STORED in {}: events store: {printed} outcome(s) waiting to be stored ({hits} hit(s))",
        d.join("events.db").display()
    );
    assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    let h = health(d);
    assert_eq!(h["events_store"]["waiting"], printed as u64, "{h}");
}

#[test]
fn a_store_locked_by_another_process_neither_stalls_the_analysis_nor_loses_a_read() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = scene_with_store(&cache);
    let d = dir.path();
    // Another process (here: another connection) holds the store's write lock for 20 s, longer
    // than the node's 10 s busy wait.
    let path = d.join("events.db");
    let locker = std::thread::spawn(move || {
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute_batch("BEGIN EXCLUSIVE;").unwrap();
        std::thread::sleep(Duration::from_secs(20));
        db.execute_batch("COMMIT;").unwrap();
    });
    let child = run(d, &cache, "26");
    let started = Instant::now();
    while health(d)["events_store"]["waiting"].as_u64().unwrap_or(0) == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing waited for the lock: {}", health(d));
        std::thread::sleep(Duration::from_millis(100));
    }
    // The camera goes on being analysed while the store is locked (before, the analysis waited
    // for the store and dropped frames: plates passing meanwhile were never read).
    let analysed = || health(d)["cameras"][0]["frames_analysed"].as_u64().unwrap_or(0);
    let before = analysed();
    std::thread::sleep(Duration::from_secs(3));
    let during = health(d);
    assert!(during["events_store"]["waiting"].as_u64().unwrap_or(0) > 0, "still locked: {during}");
    assert!(analysed() >= before + 8, "the analysis stalled behind the locked store: {before} -> {during}");
    let out = child.wait_with_output().unwrap();
    locker.join().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    let printed = stdout.lines().filter(|l| l.starts_with("[gate]")).count() as i64;
    let printed_hits = stdout.lines().filter(|l| l.starts_with("[gate]") && l.contains("HIT")).count() as i64;
    assert!(printed >= 2 && printed_hits >= 1, "{stdout}");
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM plate_reads"), printed, "every read stored once: {stderr}");
    assert_eq!(count("SELECT count(*) FROM hits"), printed_hits);
}
