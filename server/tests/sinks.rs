//! Sinks against real receivers: a webhook receiver that is down for 30 s (and the node
//! restarted meanwhile), webhooks receiving escalations, and a real `mosquitto` broker.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use common::{data_dir, raise, start};
use raqib_events::bus::EventBus;
use raqib_server::{MqttConfig, ServerConfig, WebhookConfig};

type Received = Arc<Mutex<Vec<(String, String)>>>; // (idempotency key, subject)

/// A receiver on `port` that checks every signature and records what it accepted.
async fn receiver(port: u16, secret: &'static [u8], got: Received) -> tokio::task::JoinHandle<()> {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let got = got.clone();
            async move {
                let ts: i64 = headers["x-raqib-timestamp"].to_str().unwrap().parse().unwrap();
                let sig = headers["x-raqib-signature"].to_str().unwrap();
                if sig != raqib_server::sinks::webhook::signature(secret, ts, &body) {
                    return StatusCode::UNAUTHORIZED;
                }
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let key = headers["idempotency-key"].to_str().unwrap().to_owned();
                assert_eq!(v["idempotency_key"], key.as_str());
                assert_eq!(v["event"], if key.contains(":escalation:") { "escalation" } else { "alert" });
                got.lock().unwrap().push((key, v["alert"]["subject"].as_str().unwrap().to_owned()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_down_for_30_s_gets_every_alert_once_after_it_returns_even_across_a_restart() {
    let dir = data_dir(&[
        ("11111-أ-1", "stolen_vehicle"),
        ("22222-ب-2", "stolen_vehicle"),
        ("33333-د-3", "wanted_owner"),
        ("44444-ه-4", "bolo"),
    ]);
    const SECRET: &[u8] = b"shared-secret-of-the-receiver";
    let secret_file = dir.path().join("hook.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // free now: down
    let hook = WebhookConfig {
        name: "command-room".into(),
        url: format!("http://127.0.0.1:{port}/hook"),
        secret_env: None,
        secret_file: Some(secret_file),
        timeout_ms: 1000,
        max_backoff_s: 2,
        escalations: true,
    };
    let config = ServerConfig { webhooks: vec![hook], ..ServerConfig::default() };
    let outage = Instant::now();
    let bus = EventBus::new();
    let server = start(dir.path(), config.clone(), &bus);
    assert!(raise(dir.path(), &bus, "11111-أ-1"));
    assert!(raise(dir.path(), &bus, "22222-ب-2"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The node restarts during the outage: the outbox (cursor over the stored alerts) survives.
    server.stop();
    let bus = EventBus::new();
    let server = start(dir.path(), config, &bus);
    assert!(raise(dir.path(), &bus, "33333-د-3"));
    assert!(!raise(dir.path(), &bus, "55555-و-5"), "not listed: no alert");
    assert!(raise(dir.path(), &bus, "44444-ه-4"));
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(outage.elapsed())).await;

    let got: Received = Arc::default();
    let _receiver = receiver(port, SECRET, got.clone()).await;
    let back = Instant::now();
    while got.lock().unwrap().len() < 4 && back.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // anything sent twice would arrive now
    let got = got.lock().unwrap().clone();
    let subjects: Vec<&str> = got.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(subjects, ["11111-أ-1", "22222-ب-2", "33333-د-3", "44444-ه-4"], "all, in order, once");
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (k, _) in &got {
        *keys.entry(k.as_str()).or_default() += 1;
    }
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");
    assert!(keys.contains_key("node-1:p1"));
    eprintln!(
        "receiver back after {:.1} s of outage; all 4 delivered {:.1} s later",
        30.0,
        back.elapsed().as_secs_f64()
    );
    server.stop();
}

/// `mosquitto` on a free loopback port, killed on drop.
struct Broker(std::process::Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mqtt_subscriber_receives_the_alert() {
    let Some(mosquitto) =
        ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].into_iter().find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("SKIPPED: mosquitto is not installed (make setup installs it)");
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _broker = Broker(
        std::process::Command::new(mosquitto)
            .args(["-p", &port.to_string()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Subscribe first (retrying until the broker listens).
    let mut opts = rumqttc::MqttOptions::new("test-subscriber", "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 16);
    client.subscribe("raqib/#", rumqttc::QoS::AtLeastOnce).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    if let Some(t) = subscribed_tx.take() {
                        let _ = t.send(());
                    }
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send((p.topic.clone(), p.qos, p.payload.to_vec())).await;
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), subscribed).await.expect("broker up").unwrap();

    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let mqtt = MqttConfig {
        host: "127.0.0.1".into(),
        port,
        client_id: None,
        topic_prefix: "raqib".into(),
        username: None,
        password_env: None,
        max_backoff_s: 2,
        escalations: true,
    };
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig { mqtt: Some(mqtt), ..ServerConfig::default() }, &bus);
    tokio::time::sleep(Duration::from_millis(500)).await; // the sink starts at the present
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    let (topic, qos, payload) =
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("alert published").unwrap();
    assert_eq!(topic, "raqib/node-1/alerts/gate/stolen_vehicle");
    assert_eq!(qos, rumqttc::QoS::AtLeastOnce);
    let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(v["alert"]["subject"], "12345-ب-6");
    assert_eq!(v["idempotency_key"], "node-1:p1");
    // An operator escalates it: published on the escalations topic, with the action.
    let base = format!("http://{}", server.addr());
    let r = reqwest::Client::new()
        .post(format!("{base}/api/alerts/p1/escalate"))
        .bearer_auth(common::login(&base, "op").await)
        .json(&serde_json::json!({ "comment": "supervisor please" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (topic, _, payload) =
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("escalation published").unwrap();
    assert_eq!(topic, "raqib/node-1/escalations/gate/stolen_vehicle");
    let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!((v["event"].as_str(), v["action"]["comment"].as_str()), (Some("escalation"), Some("supervisor please")));
    assert_eq!(v["alert"]["state"], "escalated");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escalation_follows_its_alert_to_the_webhook_a_covert_one_never_leaves() {
    let dir = data_dir(&[("11111-أ-1", "stolen_vehicle")]);
    common::add_covert(dir.path(), "48213-أ-9", "op-falcon");
    const SECRET: &[u8] = b"escalation-secret";
    let secret_file = dir.path().join("hook.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (port, quiet_port) = (free(), free());
    let hook = |name: &str, port: u16, escalations: bool| WebhookConfig {
        name: name.into(),
        url: format!("http://127.0.0.1:{port}/hook"),
        secret_env: None,
        secret_file: Some(secret_file.clone()),
        timeout_ms: 1000,
        max_backoff_s: 1,
        escalations,
    };
    let (got, quiet): (Received, Received) = (Arc::default(), Arc::default());
    let _receivers = (receiver(port, SECRET, got.clone()).await, receiver(quiet_port, SECRET, quiet.clone()).await);
    let config = ServerConfig {
        webhooks: vec![hook("dispatch", port, true), hook("alerts-only", quiet_port, false)],
        ..ServerConfig::default()
    };
    let bus = EventBus::new();
    let server = start(dir.path(), config, &bus);
    let base = format!("http://{}", server.addr());
    tokio::time::sleep(Duration::from_millis(500)).await; // the sinks start at the present
    assert!(raise(dir.path(), &bus, "11111-أ-1"));
    assert!(raise(dir.path(), &bus, "48213-أ-9"));
    let http = reqwest::Client::new();
    for (who, alert) in [("op", "p1"), ("agent", "p2")] {
        let token = common::login(&base, who).await;
        let r = http
            .post(format!("{base}/api/alerts/{alert}/escalate"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "comment": "units needed" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{who} escalates {alert}");
    }
    let start_wait = Instant::now();
    while got.lock().unwrap().len() < 2 && start_wait.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // anything more (the covert one) would arrive now
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "the alert, then its escalation; nothing covert: {got:?}");
    assert_eq!(got[0], ("node-1:p1".to_owned(), "11111-أ-1".to_owned()));
    assert!(got[1].0.starts_with("node-1:p1:escalation:"), "{got:?}");
    assert_eq!(got[1].1, "11111-أ-1");
    assert_eq!(*quiet.lock().unwrap(), [("node-1:p1".to_owned(), "11111-أ-1".to_owned())], "escalations = false");
    server.stop();
}
