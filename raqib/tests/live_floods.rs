//! `raqib run` with its console under a flood of idle connections (#28): 1,100 sockets that
//! never send a request, opened by one client against a node whose open-file limit is 1,024
//! (the usual default). Before, they either ran the node out of descriptors (the camera could no
//! longer reopen its input) or, capped per address, locked that address out until they timed
//! out. Now the node's descriptors stay bounded, the camera goes on analysing, and `/healthz`
//! answers at once, also from the flooding address.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{command, free_port, ok, raqib};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn health(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("health.json")).unwrap_or_default()).unwrap_or_default()
}

fn analysed(dir: &Path) -> u64 {
    health(dir)["cameras"].as_array().map_or(0, |c| c.iter().filter_map(|c| c["frames_analysed"].as_u64()).sum())
}

/// `GET /healthz` on a new connection; the status line, or what went wrong.
fn healthz(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(3))).map_err(|e| e.to_string())?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply.lines().next().unwrap_or_default().to_owned())
}

fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

#[test]
fn a_thousand_idle_connections_leave_the_camera_analysing_and_healthz_answering() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("SKIP: prlimit (util-linux) is not installed");
        return;
    }
    // This client needs more than 1,100 descriptors of its own.
    let mine = raqib_core::open_files::raise().unwrap_or(0);
    if mine < 1_300 {
        eprintln!("SKIP: this process may open only {mine} files; the flood needs 1,300");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(
        d,
        &cache,
        &[
            "samples",
            "make",
            "--out",
            "scene",
            "--width",
            "960",
            "--height",
            "540",
            "--seconds",
            "40",
            "--seed",
            "5",
            "-q",
        ],
    ));
    let port = free_port();
    let node = command(d, &cache);
    let mut node = Command::new("prlimit")
        .args(["--nofile=1024:1024", "--"])
        .arg(node.get_program())
        .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--for", "35", "--health-every", "1"])
        .args(["--camera", "gate=scene/scene.mp4"])
        .envs(node.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("RAQIB_CONFIG")
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while analysed(d) < 3 || healthz(port).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "the node did not start: {}", health(d));
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = descriptors(node.id());

    // 1,100 connections that never send anything, from one address.
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            idle.push(s);
        }
    }
    assert!(idle.len() >= 1_000, "only {} connections opened", idle.len());
    let during = descriptors(node.id());
    assert!(
        during < before + 300,
        "the node's descriptors grew from {before} to {during}: idle connections are not bounded"
    );
    // The health check, from the flooding address itself, is answered at once each time.
    for _ in 0..5 {
        let asked = Instant::now();
        let status = healthz(port).unwrap_or_else(|e| panic!("/healthz refused during the flood: {e}"));
        assert!(status.contains("200"), "{status}");
        assert!(asked.elapsed() < Duration::from_secs(2), "/healthz took {:?}", asked.elapsed());
    }
    // The camera goes on analysing.
    let a = analysed(d);
    std::thread::sleep(Duration::from_secs(3));
    let b = analysed(d);
    assert!(b > a + 3, "the camera stalled during the flood: {a} -> {b} analysed frames");
    drop(idle);

    let pid = node.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = node.wait().unwrap();
    let mut err = String::new();
    node.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(!err.contains("Too many open files"), "{err}");
}
