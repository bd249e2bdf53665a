//! The web console in a real headless Chromium (Debian `chromium` + `chromium-driver`, driven
//! over WebDriver with `fantoccini`) against a real `raqib run` on a generated scene: log in, see
//! a hit appear live within 1 s of being raised, acknowledge it, search its plate. Screenshots
//! go to `target/console-browser/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::Locator;

mod common;

use common::browser::wait_http;
use common::{Killed, command as raqib, free_port};

fn ok(c: &mut Command) {
    common::ok(c.output().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_sees_a_live_hit_within_a_second_acknowledges_it_exports_its_evidence_and_searches_its_plate() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    if !common::browser::available() {
        return;
    }
    let shots = workspace.join("target/console-browser");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(raqib(d, &cache).args([
        "samples",
        "make",
        "--out",
        "scene",
        "--width",
        "960",
        "--height",
        "540",
        "--seconds",
        "8",
        "--seed",
        "11",
        "--pedestrians",
        "0",
        "-q",
    ]));
    ok(raqib(d, &cache).args(["watchlist", "import", "--reason", "test", "scene/watchlist.csv"]));
    ok(raqib(d, &cache)
        .args(["user", "add", "amina", "--role", "analyst"])
        .env("RAQIB_PASSWORD", "night shift password"));

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _node = Killed(
        raqib(d, &cache)
            .args(["run", "--camera", "gate=scene/scene.mp4", "--listen", &format!("127.0.0.1:{port}"), "--for", "300"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("node.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_http(&base, "/healthz", Duration::from_secs(60)).await;
    let downloads = d.join("downloads");
    let session = common::browser::start(d, &downloads).await;
    let browser = session.client.clone();
    let shot = |name: &'static str| {
        let browser = browser.clone();
        let path = shots.join(name);
        async move { std::fs::write(path, browser.screenshot().await.unwrap()).unwrap() }
    };

    // Log in.
    browser.goto(&base).await.unwrap();
    browser.wait().for_element(Locator::Id("login-form")).await.unwrap();
    browser.find(Locator::Id("name")).await.unwrap().send_keys("amina").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys("night shift password").await.unwrap();
    shot("1-login.png").await;
    browser.find(Locator::Id("login-btn")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#conn.up"))
        .await
        .expect("live stream connected");

    // A hit raised after the page connected arrives live; the page stamps when it showed it.
    let alert = browser
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css("li.alert.fresh"))
        .await
        .expect("a live alert within 90 s");
    let raised: f64 = alert.attr("data-raised").await.unwrap().unwrap().parse().unwrap();
    let shown: f64 = alert.attr("data-shown").await.unwrap().unwrap().parse().unwrap();
    let id = alert.attr("data-id").await.unwrap().unwrap();
    let subject = alert.find(Locator::Css(".subject")).await.unwrap().text().await.unwrap();
    eprintln!("alert {id} ({subject}) shown {:.0} ms after it was raised", shown - raised);
    assert!(shown - raised < 1000.0, "alert shown {:.0} ms after it was raised", shown - raised);
    shot("2-live-alert.png").await;

    // Acknowledge it with a comment.
    alert.find(Locator::Css("input.comment")).await.unwrap().send_keys("patrol 12 sent").await.unwrap();
    alert.find(Locator::Css("button.ack")).await.unwrap().click().await.unwrap();
    let acked = format!("#alert-{id}[data-state=acknowledged]");
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(&acked)).await.expect("acknowledged");
    shot("3-acknowledged.png").await;

    // Export its evidence: the console asks why, the browser saves the package.
    let alert = browser.find(Locator::Css(&format!("#alert-{id}"))).await.unwrap();
    alert.find(Locator::Css("a.evidence")).await.unwrap().click().await.unwrap();
    browser.send_alert_text("CASE-2026-118").await.expect("the console asks for a reason");
    browser.accept_alert().await.unwrap();
    let saved = downloads.join(format!("raqib-evidence-raqib-{id}.zip"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !saved.is_file() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let zip = std::fs::read(&saved).unwrap_or_else(|e| panic!("{} not saved: {e}", saved.display()));
    assert!(zip.starts_with(b"PK"), "the download is a ZIP");

    // Search the plate it read (the Latin spelling finds the Arabic one).
    let plate = subject.split(" (").nth(1).map(|s| s.trim_end_matches(')')).unwrap_or(&subject).to_owned();
    browser.find(Locator::Css("[data-view=search]")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Id("s-plate")).await.unwrap().send_keys(&plate).await.unwrap();
    browser.find(Locator::Id("s-reason")).await.unwrap().send_keys("CASE-2026-118").await.unwrap();
    browser.find(Locator::Id("s-go")).await.unwrap().click().await.unwrap();
    let results = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#s-results[data-count]"))
        .await
        .expect("search results");
    let count: usize = results.attr("data-count").await.unwrap().unwrap().parse().unwrap();
    assert!(count >= 1, "the plate {plate} was read at least once");
    shot("4-search.png").await;
    browser.close().await.unwrap();

    // The server recorded who did what.
    let audit = raqib(d, &cache).args(["watchlist", "audit", "--limit", "1000"]).output().unwrap();
    let (status, err) = (audit.status, String::from_utf8_lossy(&audit.stderr).to_string());
    let audit = String::from_utf8_lossy(&audit.stdout).to_string();
    for action in ["login", "alert.acknowledge", "alert.export", "search.reads"] {
        assert!(audit.contains(action), "audit lacks {action} ({status}):\n{audit}\nstderr:\n{err}");
    }
}
