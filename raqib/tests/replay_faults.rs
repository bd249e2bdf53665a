//! Replays under faults (#28): a replay killed with -9 and run again stores nothing twice; a
//! SIGTERM stops it cleanly (open tracks stored and reported, the report written, exit status
//! non-zero) and running it again finishes the file, again without duplicates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{command, ok, raqib, text};

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// 12 s, four vehicles one after another (two listed), analysed in about 10 s by a debug build.
const SCENE: &[&str] =
    &["--width", "960", "--height", "540", "--seconds", "12", "--seed", "11", "--pedestrians", "0", "-q"];

/// (plate reads, hits) in `dir`'s events store; (0, 0) before it exists.
fn counts(dir: &Path) -> (i64, i64) {
    let Ok(db) =
        rusqlite::Connection::open_with_flags(dir.join("events.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return (0, 0);
    };
    let count = |table: &str| db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap_or(0);
    (count("plate_reads"), count("hits"))
}

/// Starts `raqib replay ARGS scene/scene.mp4` in `dir` and waits until it has stored a read.
fn replay_until_first_read(dir: &Path, cache: &Path, args: &[&str]) -> Child {
    let mut child = command(dir, cache)
        .arg("replay")
        .args(args)
        .arg("scene/scene.mp4")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while counts(dir).0 == 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "no read stored in 120 s");
        assert!(child.try_wait().unwrap().is_none(), "the replay ended before its first read was stored");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// (plates, listed plates) in the scene's ground truth.
fn truth_counts(d: &Path) -> (i64, i64) {
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("scene/truth.json")).unwrap()).unwrap();
    let plates = truth["plates"].as_array().unwrap();
    (plates.len() as i64, plates.iter().filter(|p| !p["watchlist"].is_null()).count() as i64)
}

/// A data directory with the scene and its watchlist.
fn scene(cache: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(d, cache, &[&["samples", "make", "--out", "scene"], SCENE].concat()));
    ok(raqib(d, cache, &["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    dir
}

#[test]
fn a_replay_killed_and_run_again_stores_each_read_and_hit_once() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = scene(&cache);
    let d = dir.path();
    let (plates, listed) = truth_counts(d);
    assert!(plates >= 3 && listed >= 1, "{plates} plate(s), {listed} listed");

    let mut child = replay_until_first_read(d, &cache, &["-q"]);
    child.kill().unwrap(); // SIGKILL: nothing is flushed, no handler runs
    child.wait().unwrap();
    let (at_kill, _) = counts(d);
    assert!(at_kill >= 1 && at_kill < plates, "killed half-way: {at_kill} of {plates} reads stored");

    let again = raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]);
    let log = text(&again);
    assert!(again.status.success(), "{log}");
    assert_eq!(counts(d), (plates, listed), "each read and hit once after the re-run: {log}");
    assert!(log.contains(&format!("{at_kill} read(s)/sighting(s) were stored by an earlier replay")), "{log}");

    // A third run adds nothing at all, and says so.
    let third = ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    assert_eq!(counts(d), (plates, listed), "{third}");
    assert!(third.contains(&format!("{plates} read(s)/sighting(s) were stored by an earlier replay")), "{third}");
    // A copy of the same recording under another name is the same recording.
    std::fs::copy(d.join("scene/scene.mp4"), d.join("copy.mp4")).unwrap();
    ok(raqib(d, &cache, &["replay", "-q", "copy.mp4"]));
    assert_eq!(counts(d), (plates, listed));
}

#[test]
fn sigterm_stops_a_replay_cleanly_and_a_re_run_finishes_it() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = scene(&cache);
    let d = dir.path();
    let (plates, listed) = truth_counts(d);

    let child = replay_until_first_read(d, &cache, &["-q", "--report", "stopped.json"]);
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "a stopped replay is incomplete, so the exit status is non-zero: {log}");
    assert!(log.contains("stopped by a signal") && log.contains("1 of 1 file(s)"), "{log}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("stopped.json")).expect("the report is written")).unwrap();
    let video = &report["videos"][0];
    assert!(video["error"].as_str().unwrap().contains("stopped by a signal"), "{report}");
    let reported = video["reads"].as_array().unwrap().len() as i64;
    let (stored, _) = counts(d);
    assert_eq!(stored, reported, "every read in the report is stored, open tracks included: {log}");
    assert!(stored < plates, "stopped half-way: {stored} of {plates}");
    assert!(video["frames"].as_u64().unwrap() < 300, "{video}");

    let rest = ok(raqib(d, &cache, &["replay", "-q", "scene/scene.mp4"]));
    assert_eq!(counts(d), (plates, listed), "the re-run finishes the file, nothing twice: {rest}");
}

#[test]
fn a_nearly_full_disk_is_refused_before_anything_starts() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No disk here has 16 TiB free: the guard's bound is above what is left.
    std::fs::write(d.join("raqib.toml"), "[disk]\nmin_free_mb = 16777216\nwarn_free_mb = 16777216\n").unwrap();
    for args in [&["replay", "-q", "any.mp4"][..], &["run", "--for", "1", "--no-server", "--camera", "any.mp4"][..]] {
        let out = raqib(d, &cache, args);
        let log = text(&out);
        assert!(!out.status.success(), "{args:?}: {log}");
        assert!(log.contains("MiB free on its disk") && log.contains("disk.min_free_mb = 16777216"), "{args:?}: {log}");
    }
    assert!(!d.join("events.db").exists(), "nothing was started");
    let doctor = raqib(d, &cache, &["doctor"]);
    assert!(!doctor.status.success() && text(&doctor).contains("TOO LOW"), "{}", text(&doctor));
    std::fs::write(d.join("raqib.toml"), "[disk]\nmin_free_mb = 100\nwarn_free_mb = 50\n").unwrap();
    let bad = raqib(d, &cache, &["replay", "-q", "any.mp4"]);
    assert!(!bad.status.success() && text(&bad).contains("disk.warn_free_mb"), "{}", text(&bad));
}

/// A tmpfs of `size` mounted on `path` while this lives (needs root); `None`, with a message,
/// where mounting is not allowed.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status();
        if status.is_ok_and(|s| s.success()) {
            Some(Tmpfs(path.to_owned()))
        } else {
            eprintln!("SKIP: cannot mount a tmpfs here (needs root): the full-disk case is not run");
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_disk_that_fills_during_a_replay_fails_it_and_a_re_run_with_room_stores_each_read_once() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(d, &cache, &[&["samples", "make", "--out", "scene"], SCENE].concat()));
    let (plates, listed) = truth_counts(d);
    // The data directory (watchlist, events store) on a small disk of its own.
    let data = d.join("data");
    let Some(_disk) = Tmpfs::mount(&data, "48m") else { return };
    std::fs::write(d.join("raqib.toml"), "[disk]\nmin_free_mb = 1\nwarn_free_mb = 1\n").unwrap();
    let on_disk = |args: &[&str]| command(d, &cache).env("RAQIB_DATA_DIR", &data).args(args).output().unwrap();
    ok(on_disk(&["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));

    let mut child = command(d, &cache)
        .env("RAQIB_DATA_DIR", &data)
        .args(["replay", "-q", "scene/scene.mp4"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while counts(&data).0 == 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "no read stored in 120 s");
        assert!(child.try_wait().unwrap().is_none(), "the replay ended before its first read was stored");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The disk fills up while the replay goes on.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(data.join("filler")).unwrap();
        let chunk = vec![0u8; 1 << 20];
        while filler.write_all(&chunk).is_ok() {}
        let _ = filler.sync_all();
    }
    let out = child.wait_with_output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "reads lost to a full disk fail the run: {log}");
    assert!(log.contains("NOT STORED"), "and it says what was lost: {log}");
    let (stored, _) = counts(&data);
    assert!(stored >= 1 && stored < plates, "{stored} of {plates} stored before the disk filled: {log}");

    // Room again: the re-run stores what was lost, nothing twice.
    std::fs::remove_file(data.join("filler")).unwrap();
    let again = on_disk(&["replay", "-q", "scene/scene.mp4"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(counts(&data), (plates, listed), "each read and hit once: {}", text(&again));
    let db = rusqlite::Connection::open(data.join("events.db")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
