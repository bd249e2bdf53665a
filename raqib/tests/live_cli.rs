//! `raqib run` end to end with a real RTSP server (gst-rtsp-server, started by the test on
//! 127.0.0.1) and a file camera side by side. The RTSP server is killed mid-stream and started
//! again: the node logs the failure, reconnects, and the file camera keeps being analysed the
//! whole time; SIGTERM stops the node cleanly with its events flushed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{command, free_port};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// When the test binary is started with `RAQIB_TEST_RTSP=PORT:FILE`, this "test" is an RTSP
/// server streaming FILE (H.264 MP4) at rtsp://127.0.0.1:PORT/cam until it is killed; with
/// `RAQIB_TEST_RTSP_UDP_ONLY` set it refuses to send media over TCP.
#[test]
fn rtsp_server_child() {
    let Ok(spec) = std::env::var("RAQIB_TEST_RTSP") else { return };
    use gstreamer_rtsp_server::prelude::*;
    let (port, file) = spec.split_once(':').expect("PORT:FILE");
    gstreamer::init().unwrap();
    let main_loop = gstreamer::glib::MainLoop::new(None, false);
    let server = gstreamer_rtsp_server::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(port);
    let factory = gstreamer_rtsp_server::RTSPMediaFactory::new();
    factory.set_launch(&format!(
        "( filesrc location={file} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    ));
    factory.set_shared(true);
    if std::env::var_os("RAQIB_TEST_RTSP_UDP_ONLY").is_some() {
        factory.set_protocols(gstreamer_rtsp_server::gst_rtsp::RTSPLowerTrans::UDP);
    }
    server.mount_points().unwrap().add_factory("/cam", factory);
    let _id = server.attach(None).unwrap();
    eprintln!("rtsp server on {port}");
    main_loop.run();
}

fn serve(port: u16, file: &Path) -> Child {
    server_command(port, file).spawn().unwrap()
}

fn server_command(port: u16, file: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "rtsp_server_child", "--nocapture", "--test-threads", "1"])
        .env("RAQIB_TEST_RTSP", format!("{port}:{}", file.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn wait_for_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "the RTSP server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The installed models cache, or `None` (the test then skips, saying why).
fn models_cache() -> Option<PathBuf> {
    raqib_models::runtime::installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// A sample scene video (`raqib samples make`) in `dir/scene`; returns its path.
fn make_scene(dir: &Path, cache: &Path, width: &str, height: &str, seconds: &str, seed: &str) -> PathBuf {
    let made = command(dir, cache)
        .args(["samples", "make", "--out", "scene", "--width", width, "--height", height])
        .args(["--seconds", seconds, "--seed", seed, "-q"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    dir.join("scene/scene.mp4")
}

fn health(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("health.json")).unwrap_or_default()).unwrap_or_default()
}

fn camera<'a>(h: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    h["cameras"].as_array().and_then(|c| c.iter().find(|c| c["id"] == id)).unwrap_or(&serde_json::Value::Null)
}

#[test]
fn a_dead_rtsp_camera_reconnects_while_the_other_camera_keeps_going() {
    let Some(cache) = models_cache() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raqib = || command(d, &cache);
    let video = make_scene(d, &cache, "960", "540", "8", "4");
    let port = free_port();
    let mut server = serve(port, &video);
    wait_for_port(port);

    let mut node = raqib()
        .args(["run", "--listen", "127.0.0.1:0", "--for", "40", "--health-every", "1", "--jsonl", "events.jsonl"])
        .arg("--camera")
        .arg(format!("street=rtsp://127.0.0.1:{port}/cam"))
        .arg("--camera")
        .arg(format!("file={}", video.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wait_until = |what: &str, secs: u64, ok: &dyn Fn(&serde_json::Value) -> bool| {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let h = health(d);
            if ok(&h) {
                return h;
            }
            assert!(Instant::now() < until, "timed out waiting for {what}: {h}");
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    wait_until("the RTSP camera to stream", 20, &|h| camera(h, "street")["frames_analysed"].as_u64().unwrap_or(0) >= 3);

    // Kill the server mid-stream: the camera fails, the file camera goes on.
    server.kill().unwrap();
    server.wait().unwrap();
    let down = wait_until("the failure to be seen", 15, &|h| camera(h, "street")["state"] == "reconnecting");
    let file_before = camera(&down, "file")["frames_analysed"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let later = health(d);
    assert!(
        camera(&later, "file")["frames_analysed"].as_u64().unwrap() > file_before,
        "the file camera stalled: {later}"
    );

    // Start it again: the node reconnects by itself.
    let mut server = serve(port, &video);
    wait_for_port(port);
    let back = wait_until("the reconnection", 30, &|h| camera(h, "street")["reconnects"].as_u64().unwrap_or(0) >= 1);
    let street_before = camera(&back, "street")["frames_analysed"].as_u64().unwrap();
    wait_until("frames after reconnecting", 15, &|h| {
        camera(h, "street")["frames_analysed"].as_u64().unwrap_or(0) > street_before + 2
    });

    // SIGTERM: a clean stop with the events flushed.
    let pid = node.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = node.wait().unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let (mut out, mut err) = (String::new(), String::new());
    node.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    node.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(err.contains("reconnected"), "the reconnection is logged: {err}");
    assert!(err.contains("stopping:") && err.contains("stopped after"), "{err}");
    let end = health(d);
    assert_eq!(camera(&end, "street")["state"], "stopped");
    // Reads from both cameras went out on the event bus to the JSON-lines sink…
    let lines = std::fs::read_to_string(d.join("events.jsonl")).unwrap();
    for cam in ["street", "file"] {
        assert!(
            lines
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|e| e["type"] == "plate_read" && e["source"] == cam && e["read"]["text"].is_string()),
            "no plate_read event from {cam}: {lines}"
        );
    }
    // …and reached the events store.
    let db = rusqlite::Connection::open(d.join("events.db")).unwrap();
    for cam in ["street", "file"] {
        let n: i64 = db.query_row("SELECT count(*) FROM plate_reads WHERE source = ?1", [cam], |r| r.get(0)).unwrap();
        assert!(n >= 1, "no read recorded for {cam}: {out}");
    }
}

#[test]
fn an_rtsp_camera_told_to_use_udp_streams_from_a_udp_only_server() {
    let Some(cache) = models_cache() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let video = make_scene(d, &cache, "640", "360", "6", "5");
    let port = free_port();
    let mut server = server_command(port, &video).env("RAQIB_TEST_RTSP_UDP_ONLY", "1").spawn().unwrap();
    wait_for_port(port);
    // The same stream twice: once as configured over UDP, once with the default (TCP), which
    // this server refuses — so the UDP camera's frames show the setting reached the source.
    let url = format!("rtsp://127.0.0.1:{port}/cam");
    std::fs::write(
        d.join("raqib.toml"),
        format!(
            "[[cameras]]\nid = \"udp\"\nurl = \"{url}\"\nrtsp_transport = \"udp\"\nrtsp_latency_ms = 300\n\n\
             [[cameras]]\nid = \"tcp\"\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
    let mut node = command(d, &cache)
        .args(["run", "--config", "raqib.toml", "--no-server", "--no-store", "--for", "30", "--health-every", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(25);
    let h = loop {
        let h = health(d);
        if camera(&h, "udp")["frames_analysed"].as_u64().unwrap_or(0) >= 3 {
            break h;
        }
        assert!(Instant::now() < until, "the UDP camera did not stream: {h}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(camera(&h, "tcp")["frames_analysed"].as_u64().unwrap_or(0), 0, "the server sends no TCP media: {h}");
    let pid = node.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = node.wait().unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let mut err = String::new();
    node.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");
}
