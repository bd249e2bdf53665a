//! The national hub end to end with the real binary, a real `nats-server` (configured by
//! `raqib hub nats-config`) and a real PostgreSQL: a node (`raqib run` with `[hub]`) publishes
//! the hits in its events store; `raqib hub serve` stores them; `raqib hub alerts` lists them; a
//! national entry added with `raqib hub add --critical` lands in the node's watchlist and
//! `raqib hub entries` shows the node applied it. The national console in a real headless
//! Chromium: an operator logs in, sees the node's hit and the node's camera health, in Arabic
//! too (screenshots in `target/console-browser/hub-*.png`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines, missing_docs, reason = "tests")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;

mod common;

use common::{Killed, command as raqib, free_port};

fn raise(dir: &Path, plate: &str) {
    let text = raqib_core::PlateText::parse(plate, None).unwrap();
    let store = raqib_watchlist::Store::open(&dir.join("watchlist.db")).unwrap();
    let hits = raqib_watchlist::Snapshot::load(&store, "m").unwrap().match_exact(&text, Utc::now());
    assert!(!hits.is_empty());
    let event = raqib_events::records::PlateEvent::bare(text, 1, 4);
    raqib_events::EventStore::open(&dir.join("events.db"))
        .unwrap()
        .record_at("gate", Utc::now(), &event, &hits, None)
        .unwrap();
}

/// Waits for `ok`; on a time-out, fails with the node's and the hub's logs.
fn wait_until(what: &str, logs: &Path, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            let log = |f: &str| std::fs::read_to_string(logs.join(f)).unwrap_or_default();
            panic!("timed out waiting for {what}\nnode:\n{}\nhub:\n{}", log("node.log"), log("hub.log"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_node_publishes_its_hits_to_the_hub_and_applies_the_national_watchlist() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let Some(pg) = raqib_hub::testing::Postgres::start() else { return };
    if Command::new("nats-server").arg("--version").output().is_err() {
        eprintln!("SKIPPED: nats-server is not installed (make setup installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| common::ok(raqib(d, &cache).args(args).output().unwrap());

    // NATS as `raqib hub nats-config` writes it: a user for the hub and one for node gate1.
    let secrets = d.join("secrets");
    let port = free_port();
    let conf = run(&[
        "hub",
        "nats-config",
        "--node",
        "gate1",
        "--secrets",
        secrets.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--store",
        d.join("js").to_str().unwrap(),
    ]);
    let conf: String = conf.lines().filter(|l| !l.starts_with("==")).collect::<Vec<_>>().join("\n");
    std::fs::write(d.join("nats.conf"), conf).unwrap();
    let _nats = Killed(
        Command::new("nats-server")
            .args(["-c", d.join("nats.conf").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mode = std::fs::metadata(secrets.join("gate1.password")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o077, 0, "passwords are private");
    std::fs::write(d.join("pg.conn"), pg.conninfo()).unwrap();
    let hub = |args: &[&str]| {
        let mut c = raqib(d, &cache);
        c.args(["hub", "--nats", &format!("nats://127.0.0.1:{port}")])
            .args(args)
            .env("RAQIB_HUB_NATS_PASSWORD_FILE", secrets.join("hub.password"))
            .env("RAQIB_HUB_POSTGRES_FILE", d.join("pg.conn"));
        c
    };

    // The node: a watchlist, a hit already in its events store, `[hub]` in its raqib.toml.
    let node = d.join("node");
    std::fs::create_dir_all(&node).unwrap();
    std::fs::write(
        node.join("raqib.toml"),
        format!(
            "[hub]\nnats_url = \"nats://127.0.0.1:{port}\"\nnode_id = \"gate1\"\npassword_file = \"{}\"\n",
            secrets.join("gate1.password").display()
        ),
    )
    .unwrap();
    let node_run = |args: &[&str]| common::ok(raqib(&node, &cache).args(args).output().unwrap());
    node_run(&["watchlist", "add", "--plate", "12345-B-6", "--category", "stolen_vehicle", "--reason", "C-1"]);
    raise(&node, "12345-ب-6");
    let hub_data = d.join("hub-data");
    let hub_port = free_port();
    common::ok(
        raqib(d, &cache)
            .args(["user", "add", "leila", "--role", "operator"])
            .env("RAQIB_DATA_DIR", &hub_data)
            .env("RAQIB_PASSWORD", "national room password")
            .output()
            .unwrap(),
    );
    let _serve = Killed(
        hub(&["serve", "--data", hub_data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{hub_port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("hub.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let _node = Killed(
        raqib(&node, &cache)
            .args([
                "run",
                "--camera",
                "gate=rtsp://127.0.0.1:9/down",
                "--no-server",
                "--for",
                "180",
                "--health-every",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("node.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let alerts = || String::from_utf8_lossy(&hub(&["alerts"]).output().unwrap().stdout).to_string();
    wait_until("the node's hit at the hub", d, Duration::from_secs(60), || alerts().contains("12345-ب-6"));
    let listed = alerts();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("\"node\":\"gate1\""), "{listed}");

    // A national missing-child entry reaches the node's watchlist; the hub sees it applied.
    let t0 = Instant::now();
    common::ok(hub(&["add", "--plate", "77777-و-7", "--category", "missing_child", "--critical"]).output().unwrap());
    wait_until("the national entry on the node", d, Duration::from_secs(10), || {
        node_run(&["watchlist", "list", "--json"]).contains("77777-و-7")
    });
    eprintln!("national entry on the node after {:?}", t0.elapsed());
    wait_until("the hub to see it applied", d, Duration::from_secs(10), || {
        String::from_utf8_lossy(&hub(&["entries"]).output().unwrap().stdout).contains("\"nodes_applied\":1")
    });
    if common::browser::available() {
        tokio::runtime::Runtime::new().unwrap().block_on(national_console(d, &format!("http://127.0.0.1:{hub_port}")));
    }
}

/// The national console in Chromium: log in, the node's hit, the node and its camera, Arabic.
async fn national_console(d: &Path, base: &str) {
    use fantoccini::Locator;
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-browser");
    std::fs::create_dir_all(&shots).unwrap();
    common::browser::wait_http(base, "/healthz", Duration::from_secs(30)).await;
    let session = common::browser::start(d, &d.join("downloads")).await;
    let browser = session.client.clone();
    browser.goto(base).await.unwrap();
    browser.wait().for_element(Locator::Id("login-form")).await.unwrap();
    browser.find(Locator::Id("name")).await.unwrap().send_keys("leila").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys("national room password").await.unwrap();
    browser.find(Locator::Id("login-btn")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#conn.up")).await.expect("live");
    let alert = browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("li.alert")).await.unwrap();
    let text = alert.text().await.unwrap();
    assert!(text.contains("gate1") && text.contains("12345"), "{text}");
    std::fs::write(shots.join("hub-1-alerts.png"), browser.screenshot().await.unwrap()).unwrap();
    // An operator has no search, watchlist or audit tab.
    for view in ["search", "entries", "audit"] {
        let tab = browser.find(Locator::Css(&format!("[data-view={view}]"))).await.unwrap();
        assert!(!tab.is_displayed().await.unwrap(), "{view} tab shown to an operator");
    }
    // The node, online, with its camera as it reported it (every second here).
    browser.find(Locator::Css("[data-view=nodes]")).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let nodes = browser.find(Locator::Id("nodes")).await.unwrap().text().await.unwrap();
        if nodes.contains("gate1") && nodes.contains("gate:") {
            break;
        }
        assert!(Instant::now() < deadline, "the node's camera health never reached the console: {nodes}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    std::fs::write(shots.join("hub-2-nodes.png"), browser.screenshot().await.unwrap()).unwrap();
    // Arabic: right to left, the tab names translated.
    browser.find(Locator::Id("lang")).await.unwrap().select_by_value("ar").await.unwrap();
    let dir = browser.execute("return document.documentElement.dir", vec![]).await.unwrap();
    assert_eq!(dir, "rtl");
    let tab = browser.find(Locator::Css("[data-view=nodes]")).await.unwrap().text().await.unwrap();
    assert_eq!(tab, "العُقد");
    // What was drawn before is drawn again in Arabic (node state, live indicator).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let nodes = browser.find(Locator::Id("nodes")).await.unwrap().text().await.unwrap();
        if nodes.contains("متصلة") && nodes.contains("آخر اتصال") {
            break;
        }
        assert!(Instant::now() < deadline, "the nodes were not drawn again in Arabic: {nodes}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(browser.find(Locator::Id("conn")).await.unwrap().text().await.unwrap(), "مباشر");
    std::fs::write(shots.join("hub-3-arabic.png"), browser.screenshot().await.unwrap()).unwrap();
    drop(session);
}
