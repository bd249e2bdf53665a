//! `raqib bench hub`: N simulated nodes against a real hub on this machine. Each node is the
//! real node-side code (its own data directory, events store and watchlist, its
//! [`crate::node`] link with its own NATS user) fed with alerts without video; the hub is the
//! real ingest and national API over a real `nats-server` (JetStream, file storage) and a real
//! PostgreSQL with every commit flushed to disk.
//!
//! 1. **Ingest**: every node starts with ALERTS alerts waiting in its outbox; the figure is
//!    alerts stored in PostgreSQL per second, from the links' start to the last row.
//! 2. **Hit → national console**: hits raised one at a time on the nodes (round robin, 20 ms
//!    apart) while an operator's console follows `GET /api/alerts/stream`; the latency of each
//!    is from the moment the node stored it to the moment its event reached the console.
//! 3. **Propagation**: a critical national entry added at the hub, then the time until each
//!    node's `watchlist.db` holds it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench on servers it starts: a failure ends it")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::central::{Hub, HubConfig};
use crate::nats_config::User;
use crate::testing::{Nats, Postgres, node_dir, raise};

/// What to simulate.
#[derive(Debug, Clone, Copy)]
pub struct BenchConfig {
    /// Simulated nodes.
    pub nodes: usize,
    /// Alerts waiting in each node's outbox for the ingest figure.
    pub alerts: usize,
    /// Hits raised one at a time for the latency figure.
    pub live_hits: usize,
}

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Nodes simulated.
    pub nodes: usize,
    /// Alerts stored by the ingest phase.
    pub ingest_alerts: usize,
    /// Seconds from the links' start to the last one stored.
    pub ingest_s: f64,
    /// Alerts stored per second.
    pub ingest_per_s: f64,
    /// Hit stored on a node → event on the national console: p50, p99, max (ms).
    pub live_ms: [f64; 3],
    /// National entry added → in every node's watchlist: p50, p99, max (ms).
    pub propagation_ms: [f64; 3],
    /// PostgreSQL bytes per stored alert, with its indexes.
    pub bytes_per_alert: f64,
}

fn quantiles(mut v: Vec<Duration>) -> [f64; 3] {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    [at(0.5), at(0.99), at(1.0)]
}

const PLATE: &str = "12345-ب-6";

/// Runs the three phases; `say` gets a line per step.
pub async fn run(cfg: BenchConfig, say: impl Fn(&str)) -> Result<BenchReport, String> {
    let names: Vec<String> = (0..cfg.nodes).map(|i| format!("n{i}")).collect();
    let hub_user = User { name: "hub".into(), password: "hub-pass-bench".into() };
    let users: Vec<User> = names.iter().map(|n| User { name: n.clone(), password: format!("{n}-pass") }).collect();
    let nats = Nats::start(&hub_user, &users).ok_or("nats-server is not installed (make setup)")?;
    let pg = Postgres::start_durable().ok_or("PostgreSQL is not installed (make setup)")?;

    say(&format!("filling {} outboxes with {} alerts each", cfg.nodes, cfg.alerts));
    let dirs: Vec<tempfile::TempDir> = names.iter().map(|_| node_dir(&[PLATE])).collect();
    for d in &dirs {
        fill_outbox(d.path(), cfg.alerts);
    }
    let hub_cfg = HubConfig {
        nats_url: nats.url(),
        nats_user: "hub".into(),
        nats_password: hub_user.password.clone(),
        postgres: pg.conninfo(),
        nats_ca_file: None,
        replicas: 1,
    };
    let hub = Arc::new(Hub::connect(&hub_cfg).await.map_err(|e| e.to_string())?);
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (hub, stop) = (hub.clone(), stop.clone());
        tokio::spawn(async move { hub.ingest(stop).await })
    };
    let hub_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let console = start_console(hub.clone(), hub_dir.path(), stop.clone()).await?;

    // 1. Ingest.
    let want = (cfg.nodes * cfg.alerts) as i64;
    let t0 = Instant::now();
    let links: Vec<_> = names
        .iter()
        .zip(&dirs)
        .map(|(n, d)| crate::testing::link(&nats.url(), n, &format!("{n}-pass"), d.path(), false, None))
        .collect();
    loop {
        let stored: i64 = hub.hit_counts().await.map_err(|e| e.to_string())?.iter().map(|c| c.1).sum();
        if stored >= want {
            break;
        }
        if t0.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {stored} of {want} alerts stored after 10 minutes"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ingest_s = t0.elapsed().as_secs_f64();
    say(&format!("ingest: {want} alerts stored in {ingest_s:.2} s"));

    // 2. Hit → national console; 3. propagation.
    let mut stores: Vec<_> = dirs.iter().map(|d| crate::testing::stores(d.path())).collect();
    let live_ms = live_latency(&console, &names, &mut stores, cfg.live_hits).await?;
    say(&format!("hit → national console: p50 {:.0} ms, p99 {:.0} ms", live_ms[0], live_ms[1]));
    let propagation_ms = propagation(&hub, &stores).await?;
    let db = hub.db().await.map_err(|e| e.to_string())?;
    let size = db
        .query_one("SELECT pg_total_relation_size('hits')::float8 / greatest(count(*), 1) FROM hits", &[])
        .await
        .map_err(|e| e.to_string())?;
    stop.store(true, Ordering::Relaxed);
    drop(links);
    let _ = ingest.await;
    Ok(BenchReport {
        nodes: cfg.nodes,
        ingest_alerts: want as usize,
        ingest_s,
        ingest_per_s: want as f64 / ingest_s,
        live_ms,
        propagation_ms,
        bytes_per_alert: size.get(0),
    })
}

/// Hits raised one at a time on the nodes (round robin, 20 ms apart) → their events on the
/// console: p50, p99, max (ms).
async fn live_latency(
    console: &Console,
    names: &[String],
    stores: &mut [(raqib_events::EventStore, raqib_watchlist::Store)],
    n: usize,
) -> Result<[f64; 3], String> {
    let resp = console.stream().await?;
    let mut raised: HashMap<(String, i64), Instant> = HashMap::new();
    // The console's side: each alert, timed as it arrives.
    let (mut rx, reader) = crate::testing::live_alerts(resp);
    for i in 0..n {
        let n = i % names.len();
        let (events, watchlist) = &mut stores[n];
        let at = Instant::now();
        let read_id = raise(events, watchlist, PLATE, "live");
        raised.insert((names[n].clone(), read_id), at);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut live = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((alert, at))) => {
                let key =
                    (alert["node"].as_str().unwrap_or_default().to_owned(), alert["read_id"].as_i64().unwrap_or(-1));
                if let Some(t) = raised.get(&key) {
                    live.push(at - *t);
                }
            }
            _ => return Err(format!("{} of {} live hits reached the console", live.len(), n)),
        }
    }
    reader.abort();
    Ok(quantiles(live))
}

/// A critical national entry → in every node's watchlist: p50, p99, max (ms).
async fn propagation(
    hub: &Hub,
    stores: &[(raqib_events::EventStore, raqib_watchlist::Store)],
) -> Result<[f64; 3], String> {
    let entry = raqib_watchlist::NewPlateEntry {
        plate: "77777-و-7".into(),
        category: "missing_child".into(),
        ..Default::default()
    };
    let key = raqib_core::PlateText::parse(&entry.plate, None).map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    hub.put_entry(&entry, true).await.map_err(|e| e.to_string())?;
    let mut waiting: Vec<usize> = (0..stores.len()).collect();
    let mut took = Vec::new();
    while !waiting.is_empty() {
        waiting.retain(|&i| {
            let has = stores[i].1.plates().map(|p| p.iter().any(|e| e.plate == key)).unwrap_or(false);
            if has {
                took.push(t1.elapsed());
            }
            !has
        });
        if t1.elapsed() > Duration::from_secs(30) {
            return Err(format!("{} nodes never applied the entry", waiting.len()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(quantiles(took))
}

/// Stores `n` hits in the node's events store (the outbox its link will send).
fn fill_outbox(dir: &Path, n: usize) {
    let watchlist = raqib_watchlist::Store::open(&dir.join("watchlist.db")).unwrap();
    let text = raqib_core::PlateText::parse(PLATE, None).unwrap();
    let hits = raqib_watchlist::Snapshot::load(&watchlist, "m").unwrap().match_exact(&text, chrono::Utc::now());
    let mut events = raqib_events::EventStore::open(&dir.join("events.db")).unwrap();
    events.set_handling(raqib_events::handling::HandlingPolicy { repeat_window_s: 0, ..Default::default() });
    let event = raqib_events::records::PlateEvent::bare(text, 1, 4);
    for _ in 0..n {
        events.record_at("gate", chrono::Utc::now(), &event, &hits, None).unwrap();
    }
}

/// The hub's national API on a free port, with one operator.
struct Console {
    base: String,
    client: reqwest::Client,
}

async fn start_console(hub: Arc<Hub>, dir: &Path, stop: Arc<AtomicBool>) -> Result<Console, String> {
    let http = crate::http::HttpConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let state = Arc::new(crate::http::HubState::open(hub, http, dir).map_err(|e| e.to_string())?);
    {
        let mut users = raqib_server::UserStore::open(&dir.join("users.db")).map_err(|e| e.to_string())?;
        users.add_user("bench", raqib_server::Role::Operator, "bench-password-1", true).map_err(|e| e.to_string())?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(crate::http::serve(state, stop, Some(tx)));
    let addr = rx.await.map_err(|_| "the national API did not start".to_owned())?;
    let client = reqwest::Client::builder().cookie_store(true).build().map_err(|e| e.to_string())?;
    let base = format!("http://{addr}");
    let login = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "name": "bench", "password": "bench-password-1" }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !login.status().is_success() {
        return Err(format!("login: {}", login.status()));
    }
    Ok(Console { base, client })
}

impl Console {
    /// The live stream from now on.
    async fn stream(&self) -> Result<reqwest::Response, String> {
        let resp =
            self.client.get(format!("{}/api/alerts/stream", self.base)).send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("live stream: {}", resp.status()));
        }
        Ok(resp)
    }
}
