//! Hardening of the console's HTTP surface (#28): foreign `Host` names refused, personal data
//! never cached, framed or sniffed, config values bounded, sessions ended when a password
//! changes or a user is disabled.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{data_dir, login, raise, start};
use raqib_events::bus::EventBus;
use raqib_server::ServerConfig;

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_is_refused_and_personal_data_is_never_cached_framed_or_sniffed() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let config = ServerConfig { allowed_hosts: vec!["raqib.police.example".into()], ..ServerConfig::default() };
    let server = start(dir.path(), config, &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let op = login(&base, "op").await;
    assert!(raise(dir.path(), &bus, "12345-ب-6"));

    // DNS rebinding: a page on evil.example resolving to this node sends Host: evil.example.
    let r =
        http.get(format!("{base}/api/alerts")).bearer_auth(&op).header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status(), 421);
    assert!(r.text().await.unwrap().contains("server.allowed_hosts"));
    let r = http.get(format!("{base}/healthz")).header("host", "evil.example:8080").send().await.unwrap();
    assert_eq!(r.status(), 421, "every route, not only the API");
    let named = http.get(format!("{base}/healthz")).header("host", "raqib.police.example:8080").send().await.unwrap();
    assert_eq!(named.status(), 200, "a listed name passes");

    // Personal data: no caching, no framing, no sniffing.
    let alerts = http.get(format!("{base}/api/alerts")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(alerts.status(), 200);
    let h = alerts.headers().clone();
    let v: serde_json::Value = alerts.json().await.unwrap();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let id = v["alerts"][0]["id"].as_str().unwrap().to_owned();
    let crop = http.get(format!("{base}/api/alerts/{id}/crop.jpg")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(crop.status(), 200);
    assert_eq!(crop.headers()["cache-control"], "no-store", "a crop is personal data too");
    let console = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(console.headers()["x-frame-options"], "DENY");
    server.stop();
}

#[test]
fn unbounded_server_values_are_refused_by_name() {
    let bad = |c: ServerConfig| c.validate().unwrap_err().to_string();
    let d = ServerConfig::default;
    assert!(bad(ServerConfig { session_hours: u64::MAX, ..d() }).contains("session_hours"));
    assert!(bad(ServerConfig { max_upload_bytes: u64::MAX, ..d() }).contains("max_upload_bytes"));
    assert!(bad(ServerConfig { allowed_hosts: vec!["evil.example:80".into()], ..d() }).contains("allowed_hosts"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_whose_audit_record_cannot_be_written_is_refused() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let ana = login(&base, "ana").await;
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    assert_eq!(http.get(format!("{base}/api/alerts")).bearer_auth(&ana).send().await.unwrap().status(), 200);
    // The audit log stops accepting records (as on a full disk): a second process's trigger.
    let db = rusqlite::Connection::open(dir.path().join("watchlist.db")).unwrap();
    db.execute_batch("CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'disk full'); END;")
        .unwrap();
    for path in
        ["/api/alerts", "/api/reads?plate=12345-B-6&reason=case%201", "/api/watchlist/persons", "/api/alerts/p1"]
    {
        let r = http.get(format!("{base}{path}")).bearer_auth(&ana).send().await.unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains("audit log cannot be written") && !body.contains("12345"), "{path}: {body}");
    }
    db.execute_batch("DROP TRIGGER audit_down;").unwrap();
    assert_eq!(http.get(format!("{base}/api/alerts")).bearer_auth(&ana).send().await.unwrap().status(), 200);
    server.stop();
}

async fn try_login(from: &str, base: &str, name: &str, password: &str) -> reqwest::Response {
    let local: std::net::IpAddr = from.parse().unwrap();
    let http = reqwest::Client::builder().local_address(local).build().unwrap();
    http.post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_earn_a_growing_wait_per_address_and_per_user() {
    let dir = data_dir(&[]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    for _ in 0..4 {
        assert_eq!(try_login("127.0.0.1", &base, "op", "guess guess guess").await.status(), 401);
    }
    // Locked now: not even the right password is checked, from this address or for this user.
    let r = try_login("127.0.0.1", &base, "op", common::PASSWORD).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(try_login("127.0.0.1", &base, "ana", common::PASSWORD).await.status(), 429, "same address");
    assert_eq!(try_login("127.0.0.2", &base, "op", common::PASSWORD).await.status(), 429, "same user");
    assert_eq!(try_login("127.0.0.2", &base, "ana", common::PASSWORD).await.status(), 200, "others are not locked out");
    // Only checked attempts are audited: a flood of refused ones adds nothing to the log.
    for _ in 0..20 {
        assert_eq!(try_login("127.0.0.1", &base, "op", "guess guess guess").await.status(), 429);
    }
    let store = raqib_watchlist::Store::open(&dir.path().join("watchlist.db")).unwrap();
    let failed = store.audit_log_where(100, None, Some("login.failed")).unwrap();
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert!(failed[0].detail.as_deref().unwrap_or_default().contains("from 127.0.0.1"), "{:?}", failed[0]);
    tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 100)).await;
    assert_eq!(try_login("127.0.0.1", &base, "op", common::PASSWORD).await.status(), 200, "the wait ends");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_that_decodes_to_too_many_pixels_is_refused_before_decoding() {
    let dir = data_dir(&[]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let ana = login(&base, "ana").await;
    // 8000 × 8000 of one colour: a few hundred kilobytes that decode to 64 Mpx (256 MB RGBA).
    let mut png = Vec::new();
    image::RgbImage::new(8000, 8000).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    assert!(png.len() < 2_000_000, "{}", png.len());
    let form = reqwest::multipart::Form::new()
        .text("reason", "case 9")
        .part("photo", reqwest::multipart::Part::bytes(png).file_name("big.png"));
    let r = reqwest::Client::new()
        .post(format!("{base}/api/search/face"))
        .bearer_auth(&ana)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("server.max_upload_pixels"));
    server.stop();
}

/// Whether the server closed `s` within `within` (EOF or reset on read).
async fn closed_within(s: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(within, s.read(&mut buf)).await {
            Err(_) => return false,                // still open
            Ok(Ok(0)) | Ok(Err(_)) => return true, // closed
            Ok(Ok(_)) => continue,                 // an error response first (e.g. 408), then close
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_connections_are_cut_off_capped_and_make_room_for_real_requests() {
    use tokio::io::AsyncWriteExt;
    let dir = data_dir(&[]);
    let bus = EventBus::new();
    let config = ServerConfig { header_timeout_s: 2, max_connections_per_address: 8, ..ServerConfig::default() };
    let server = start(dir.path(), config, &bus);
    let addr = server.addr();
    let mut held = Vec::new();
    for i in 0..20 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            // Half-sent headers (slowloris); the others send nothing at all.
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
        }
        held.push(s);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await; // keep their order
    }
    // One address holds 8 at most: each newer idle connection made room by closing the oldest.
    let mut closed = 0;
    for s in held.iter_mut().take(12) {
        closed += usize::from(closed_within(s, std::time::Duration::from_millis(500)).await);
    }
    assert_eq!(closed, 12, "the 12 oldest were closed for room");
    // The same address is still served at once (before, it was locked out until the timeout),
    // and so is another one.
    let same = reqwest::Client::new().get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(same.status(), 200);
    let other =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    assert_eq!(other.get(format!("http://{addr}/healthz")).send().await.unwrap().status(), 200);
    // The newest ones (one of them closed for the request above) are cut off after the header
    // timeout, idle or half-sent alike.
    for s in held.iter_mut().skip(12) {
        assert!(closed_within(s, std::time::Duration::from_secs(5)).await, "a slow client is cut off");
    }
    let metrics = reqwest::Client::new().get(format!("http://{addr}/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    let counter = text
        .lines()
        .find_map(|l| l.strip_prefix("raqib_connections_closed_for_room_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_default();
    assert!(counter >= 13.0, "{text}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_request_is_not_closed_for_room() {
    let dir = data_dir(&[("12345-B-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let config = ServerConfig { max_connections_per_address: 2, ..ServerConfig::default() };
    let server = start(dir.path(), config, &bus);
    let base = format!("http://{}", server.addr());
    let token = login(&base, "op").await;
    // A live-alert stream is busy for as long as it is open.
    let mut stream =
        reqwest::Client::new().get(format!("{base}/api/alerts/stream")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    // Three more connections from the same address, idle: each makes room by closing an idle
    // one, never the stream.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(server.addr()).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(raise(dir.path(), &bus, "12345-B-6"));
    let mut seen = String::new();
    for _ in 0..20 {
        if seen.contains("12345") {
            break;
        }
        match tokio::time::timeout(std::time::Duration::from_secs(2), stream.chunk()).await {
            Ok(Ok(Some(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    assert!(seen.contains("12345"), "the live stream was closed or got nothing: {seen:?}");
    server.stop();
}

/// A node whose events store fails: three outcomes wait, one hit among them.
struct FailingStoreNode;

impl raqib_server::Node for FailingStoreNode {
    fn cameras(&self) -> Vec<raqib_events::health::CameraHealth> {
        Vec::new()
    }
    fn embed_face(&self, _: &[u8]) -> Result<raqib_core::Embedding, String> {
        Err("no face".into())
    }
    fn face_model(&self) -> String {
        "test-model".into()
    }
    fn events_backlog(&self) -> raqib_events::health::StoreBacklog {
        raqib_events::health::StoreBacklog {
            waiting: 3,
            waiting_hits: 1,
            last_error: Some("database or disk is full".into()),
            ..Default::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_events_store_shows_in_the_console_api_readiness_and_metrics() {
    let dir = data_dir(&[]);
    let bus = EventBus::new();
    let config = ServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let metrics = raqib_server::Metrics::new(std::sync::Arc::new(|| 0));
    let node = std::sync::Arc::new(FailingStoreNode);
    let server =
        raqib_server::Server::start(config, raqib_server::Rules::default(), dir.path(), "node-1", node, metrics, &bus)
            .unwrap();
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let op = login(&base, "op").await;
    let cams: serde_json::Value =
        http.get(format!("{base}/api/cameras")).bearer_auth(&op).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (cams["events_store"]["waiting"].as_u64(), cams["events_store"]["waiting_hits"].as_u64()),
        (Some(3), Some(1))
    );
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.unwrap().contains("3 outcome(s) waiting to be stored (1 hit(s))"));
    let text = http.get(format!("{base}/metrics")).bearer_auth(&op).send().await.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l == "raqib_events_waiting 3"), "{text}");
    assert!(text.contains("raqib_events_dropped_total{kind=\"hit\"} 0"), "{text}");
    server.stop();
}
