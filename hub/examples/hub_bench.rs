//! `cargo run --release -p raqib-hub --features test-servers --example hub_bench -- NODES ALERTS`:
//! a real nats-server and PostgreSQL on loopback; NODES nodes (real [`raqib_hub::node`] links,
//! each with its own data directory) and the hub.
//!
//! 1. Ingest: each node's NATS user publishes ALERTS alerts as fast as JetStream acknowledges;
//!    the figure is alerts stored per second by the hub, from the first publish to the last row.
//! 2. Propagation: a national entry added at the hub, then the time until each node's
//!    `watchlist.db` holds it: p50, p99, max.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::too_many_lines,
    missing_docs,
    reason = "a bench: a failure panics"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use raqib_hub::central::{Hub, HubConfig};
use raqib_hub::nats_config::User;
use raqib_hub::testing::{Nats, Postgres};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numbers")).collect();
    let (nodes, alerts) = (args.first().copied().unwrap_or(10), args.get(1).copied().unwrap_or(1000));
    let names: Vec<String> = (0..nodes).map(|i| format!("n{i}")).collect();
    let hub_user = User { name: "hub".into(), password: "hub-pass".into() };
    let users: Vec<User> = names.iter().map(|n| User { name: n.clone(), password: format!("{n}-pass") }).collect();
    let nats = Nats::start(&hub_user, &users).expect("nats-server");
    let pg = Postgres::start().expect("PostgreSQL");
    let cfg = HubConfig {
        nats_url: nats.url(),
        nats_user: "hub".into(),
        nats_password: "hub-pass".into(),
        postgres: pg.conninfo(),
    };
    let hub = Arc::new(Hub::connect(&cfg).await.unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (hub, stop) = (hub.clone(), stop.clone());
        tokio::spawn(async move { hub.ingest(stop).await.unwrap() })
    };

    // 1. Ingest.
    let t0 = Instant::now();
    let mut publishers = Vec::new();
    for n in &names {
        let (url, n) = (nats.url(), n.clone());
        publishers.push(tokio::spawn(async move {
            let client = async_nats::ConnectOptions::with_user_and_password(n.clone(), format!("{n}-pass"))
                .custom_inbox_prefix(raqib_hub::nats_config::inbox_prefix(&n))
                .connect(url)
                .await
                .unwrap();
            let js = async_nats::jetstream::new(client);
            let mut acks = Vec::new();
            for i in 0..alerts {
                let body = serde_json::json!({ "node": n, "alert": {
                    "id": format!("p{i}"), "camera": "gate", "raised_at": chrono::Utc::now(), "category": "stolen_vehicle",
                    "priority": "high", "subject": "12345-ب-6", "retro": false } });
                let publish = async_nats::jetstream::context::Publish::build()
                    .payload(serde_json::to_vec(&body).unwrap().into())
                    .message_id(format!("{n}:alert:p{i}"));
                acks.push(js.send_publish(raqib_hub::subjects::node_subject(&n, "alert"), publish).await.unwrap());
                if acks.len() >= 256 {
                    for a in acks.drain(..) {
                        a.await.unwrap();
                    }
                }
            }
            for a in acks {
                a.await.unwrap();
            }
        }));
    }
    for p in publishers {
        p.await.unwrap();
    }
    let published = t0.elapsed();
    let want = (nodes * alerts) as i64;
    loop {
        let stored: i64 = hub.hit_counts().await.unwrap().iter().map(|c| c.1).sum();
        if stored >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored = t0.elapsed();
    println!(
        "ingest: {want} alerts from {nodes} nodes published in {:.2} s, stored in {:.2} s: {:.0} alerts/s",
        published.as_secs_f64(),
        stored.as_secs_f64(),
        want as f64 / stored.as_secs_f64()
    );

    // 2. Propagation to real node links.
    let dirs: Vec<tempfile::TempDir> = names.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let mut links = Vec::new();
    for (n, d) in names.iter().zip(&dirs) {
        raqib_watchlist::Store::open(&d.path().join("watchlist.db")).unwrap();
        raqib_events::EventStore::open(&d.path().join("events.db")).unwrap();
        std::fs::write(d.path().join("pw"), format!("{n}-pass")).unwrap();
        let cfg = raqib_hub::node::HubLinkConfig {
            nats_url: nats.url(),
            node_id: n.clone(),
            password_file: d.path().join("pw"),
            forward_reads: false,
        };
        links.push(raqib_hub::node::start(cfg, d.path().to_path_buf()).unwrap());
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // every link connected
    let entry = raqib_watchlist::NewPlateEntry {
        plate: "77777-و-7".into(),
        category: "missing_child".into(),
        ..Default::default()
    };
    let t1 = Instant::now();
    hub.put_entry(&entry, true).await.unwrap();
    let mut waiting: Vec<usize> = (0..nodes).collect();
    let mut took = Vec::new();
    while !waiting.is_empty() {
        waiting.retain(|&i| {
            let has = raqib_watchlist::Store::open(&dirs[i].path().join("watchlist.db"))
                .map(|s| s.plates().map(|p| !p.is_empty()).unwrap_or(false))
                .unwrap_or(false);
            if has {
                took.push(t1.elapsed());
            }
            !has
        });
        assert!(t1.elapsed() < Duration::from_secs(30), "{} nodes never applied it", waiting.len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "propagation to {nodes} nodes (applied in watchlist.db): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    stop.store(true, Ordering::Relaxed);
    let _ = ingest.await;
    drop(links);
}
