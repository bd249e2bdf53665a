//! The hit workflow in the Arabic console, in a real headless Chromium against a real
//! `raqib run`: the operator switches the console to Arabic (right to left; plates stay in their
//! written order), confirms one hit, rejects another with a reason, and sees a third escalate
//! when its deadline passes (a 6 s deadline for critical hits in this node's `raqib.toml`). The
//! language is remembered for the user; the audit log and the evidence package hold the
//! decisions. Screenshots go to `target/console-browser/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fantoccini::Locator;

mod common;

use common::browser::wait_http;
use common::{Killed, command as raqib, free_port};

/// Stores a read of `plate` by `camera` with its watchlist hits, as `raqib run` does.
fn raise(dir: &Path, plate: &str, camera: &str) {
    let text = raqib_core::PlateText::parse(plate, None).unwrap();
    let store = raqib_watchlist::Store::open(&dir.join("watchlist.db")).unwrap();
    let hits = raqib_watchlist::Snapshot::load(&store, "test").unwrap().match_exact(&text, Utc::now());
    assert_eq!(hits.len(), 1, "{plate} is listed");
    let event = raqib_events::records::PlateEvent {
        track: 1,
        plate: text,
        confidence: 0.93,
        reads: 6,
        frames: 7,
        first_seen_s: None,
        last_seen_s: None,
        best_frame: 3,
        best_time_s: None,
        bbox: raqib_models::face::Bbox { x1: 20.0, y1: 30.0, x2: 100.0, y2: 50.0 },
        crop_jpeg: raqib_events::records::jpeg(&raqib_models::RgbImage {
            width: 80,
            height: 20,
            data: vec![210; 80 * 20 * 3],
        }),
        positions: vec![],
        frame_image: Some(Arc::new(raqib_models::RgbImage { width: 160, height: 90, data: vec![90; 160 * 90 * 3] })),
    };
    raqib_events::EventStore::open(&dir.join("events.db"))
        .unwrap()
        .record_at(camera, Utc::now(), &event, &hits, Some((33.5731, -7.5898)))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_confirms_and_rejects_hits_in_the_arabic_console_and_an_overdue_hit_escalates() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    if !common::browser::available() {
        return;
    }
    let shots = workspace.join("target/console-browser");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Critical hits must be decided within 6 s on this node.
    std::fs::write(d.join("raqib.toml"), "[alerts.deadline_minutes]\ncritical = 0.1\n").unwrap();
    let run = |args: &[&str]| common::ok(raqib(d, &cache).args(args).output().unwrap());
    for (plate, category) in
        [("12345-ب-6", "stolen_vehicle"), ("777-د-1", "wanted_owner"), ("48213-أ-9", "missing_child")]
    {
        run(&["watchlist", "add", "--plate", plate, "--category", category, "--reason", "CASE-7"]);
    }
    common::ok(
        raqib(d, &cache)
            .args(["user", "add", "salma", "--role", "analyst"])
            .env("RAQIB_PASSWORD", "night shift password")
            .output()
            .unwrap(),
    );
    raise(d, "12345-ب-6", "gate");
    raise(d, "777-د-1", "road");

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _node = Killed(
        raqib(d, &cache)
            // The hits come from the events store; the node's one camera is down meanwhile
            // (nothing listens on port 9), which the console must not mind.
            .args([
                "run",
                "--camera",
                "gate=rtsp://127.0.0.1:9/down",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--for",
                "300",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("node.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_http(&base, "/healthz", Duration::from_secs(60)).await;
    let session = common::browser::start(d, &d.join("downloads")).await;
    let browser = session.client.clone();
    let shot = |name: &'static str| {
        let browser = browser.clone();
        let path = shots.join(name);
        async move { std::fs::write(path, browser.screenshot().await.unwrap()).unwrap() }
    };
    let js = |script: &'static str| {
        let browser = browser.clone();
        async move { browser.execute(script, vec![]).await.unwrap() }
    };

    // Arabic, chosen on the login page: the page turns right to left.
    browser.goto(&base).await.unwrap();
    browser.wait().for_element(Locator::Id("login-form")).await.unwrap();
    browser.find(Locator::Css("#lang option[value=ar]")).await.unwrap().click().await.unwrap();
    assert_eq!(js("return document.documentElement.dir").await, "rtl");
    assert_eq!(js("return document.getElementById('login-btn').textContent").await, "دخول");
    browser.find(Locator::Id("name")).await.unwrap().send_keys("salma").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys("night shift password").await.unwrap();
    browser.find(Locator::Id("login-btn")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#conn.up")).await.expect("live");

    // The critical hit arrives live after the page connected.
    raise(d, "48213-أ-9", "gate");
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#alert-p3")).await.expect("p3 live");
    assert_eq!(js("return document.querySelector('[data-view=alerts] span').textContent").await, "التنبيهات");
    // The plate keeps its written order, 12345 then ب then 6, left to right, in the RTL page.
    let order = js("const b = document.querySelector('#alert-p1 .subject bdi'); const t = b.firstChild;
        const at = (i) => { const r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + 1); return r.getBoundingClientRect().left; };
        const s = t.textContent; return [at(0), at(s.indexOf('ب')), at(s.length - 1), getComputedStyle(b).direction];")
    .await;
    let order = order.as_array().unwrap();
    let (first, letter, last) = (order[0].as_f64().unwrap(), order[1].as_f64().unwrap(), order[2].as_f64().unwrap());
    assert!(first < letter && letter < last, "plate drawn out of order: {order:?}");
    assert_eq!(order[3], "ltr");
    shot("5-arabic-alerts.png").await;

    // Confirm p1.
    let p1 = browser.find(Locator::Css("#alert-p1")).await.unwrap();
    p1.find(Locator::Css("input.comment")).await.unwrap().send_keys("مطابقة، أُرسلت دورية").await.unwrap();
    p1.find(Locator::Css("button.confirm")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#alert-p1[data-state=confirmed]"))
        .await
        .expect("confirmed");
    // Reject p2: without a reason the console asks for one; with "misread" it goes.
    let p2 = browser.find(Locator::Css("#alert-p2")).await.unwrap();
    p2.find(Locator::Css("button.reject")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#alert-p2 select.reason.missing"))
        .await
        .expect("asks for a reason");
    let p2 = browser.find(Locator::Css("#alert-p2")).await.unwrap();
    p2.find(Locator::Css("select.reason option[value=misread]")).await.unwrap().click().await.unwrap();
    p2.find(Locator::Css("input.comment")).await.unwrap().send_keys("اللوحة 777-د-7").await.unwrap();
    p2.find(Locator::Css("button.reject")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#alert-p2[data-state=rejected]"))
        .await
        .expect("rejected");

    // p3 is left alone: past its 6 s it turns overdue (the node marked it, the console shows it).
    browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#alert-p3.overdue .due.late"))
        .await
        .expect("p3 escalated when overdue");
    let due = browser.find(Locator::Css("#alert-p3 .due")).await.unwrap().text().await.unwrap();
    assert!(due.contains("متأخر"), "{due}");
    shot("6-arabic-decided-and-overdue.png").await;

    // The detail page of p2: its history with the decision and its reason, in Arabic.
    browser.find(Locator::Css("#alert-p2 a.details")).await.unwrap().click().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#detail tr.action-reject"))
        .await
        .unwrap();
    // The page may be drawn again when the alert changes: read it afresh until it holds still.
    let text_of = |css: &'static str| {
        let browser = browser.clone();
        async move {
            for _ in 0..10 {
                if let Ok(e) = browser.find(Locator::Css(css)).await
                    && let Ok(t) = e.text().await
                {
                    return t;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("{css} never readable");
        }
    };
    let row = text_of("#detail tr.action-reject").await;
    assert!(row.contains("salma") && row.contains("قراءة خاطئة") && row.contains("رفض"), "{row}");
    let detail = text_of("#detail").await;
    assert!(detail.contains("wanted_owner") && !detail.contains("[object"), "the entry as it was: {detail}");
    shot("7-arabic-alert-detail.png").await;

    // A fresh page load comes back in Arabic: the node remembered the choice.
    browser.goto(&base).await.unwrap();
    browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#conn.up")).await.unwrap();
    assert_eq!(js("return document.documentElement.dir").await, "rtl");
    drop(session);

    // The audit log and the evidence package hold the decisions.
    let audit = run(&["audit", "list", "--limit", "1000", "--json"]);
    for (action, target) in [("alert.confirm", "p1"), ("alert.reject", "p2"), ("alert.overdue", "p3")] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains(&format!("\"action\":\"{action}\""))
                    && l.contains(&format!("\"target\":\"{target}\""))),
            "audit lacks {action} {target}:\n{audit}"
        );
    }
    let zip = d.join("p2.zip");
    run(&["evidence", "p2", "--reason", "CASE-7", "--out", zip.to_str().unwrap()]);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("alert.json").unwrap(), &mut text).unwrap();
    let alert: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(alert["alert"]["state"], "rejected");
    let reject = alert["actions"].as_array().unwrap().iter().find(|a| a["action"] == "reject").unwrap();
    assert_eq!((reject["actor"].as_str(), reject["reason"].as_str()), (Some("salma"), Some("misread")));
}
