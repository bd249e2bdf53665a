//! Floods a running node's console and measures what a legitimate user gets meanwhile (#28):
//! `benches/floods.sh` starts the node and runs this.
//!
//! ```text
//! flood URL TOKEN MODE CLIENTS SECONDS
//! ```
//! MODE `login`: CLIENTS unauthenticated clients, each from its own loopback address
//! (127.0.1.x), post wrong passwords as fast as they are answered. MODE `idle`: CLIENTS
//! connections that never send a byte, from 40 loopback addresses (127.0.2.x), reopened as soon
//! as the node closes them. Meanwhile one analyst (TOKEN, from 127.0.0.2) asks `/api/me` and a
//! monitor asks `/healthz` (from 127.0.0.3) in a loop; prints their p50/p99/max latency and
//! failures, and what the flood got.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, reason = "a bench: a failure panics by design")]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Asks `path` in a loop until `stop`; latencies in ms and failures.
async fn probe(
    url: String,
    path: &str,
    token: Option<String>,
    from: Ipv4Addr,
    stop: Arc<AtomicBool>,
) -> (Vec<f64>, u64) {
    let client =
        reqwest::Client::builder().local_address(IpAddr::V4(from)).timeout(Duration::from_secs(5)).build().unwrap();
    let (mut ms, mut failed) = (Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        let mut req = client.get(format!("{url}{path}"));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let t0 = Instant::now();
        match req.send().await {
            Ok(r) if r.status().is_success() => ms.push(t0.elapsed().as_secs_f64() * 1000.0),
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ms.sort_by(f64::total_cmp);
    (ms, failed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, mode, clients, seconds] = args.as_slice() else {
        eprintln!("usage: flood URL TOKEN login|idle CLIENTS SECONDS");
        std::process::exit(2);
    };
    let clients: usize = clients.parse().unwrap();
    let seconds: u64 = seconds.parse().unwrap();
    let limit = raqib_core::open_files::raise().unwrap_or(0);
    assert!(limit as usize > clients + 200, "this process may open only {limit} files");
    let addr: SocketAddr = url.trim_start_matches("http://").parse().expect("URL is http://IP:PORT");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let answered_429 = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for i in 0..clients {
        let (stop, sent) = (stop.clone(), sent.clone());
        match mode.as_str() {
            "login" => {
                let from = Ipv4Addr::new(127, 0, 1, 1 + (i % 250) as u8);
                let url = url.clone();
                let limited = answered_429.clone();
                flood.push(tokio::spawn(async move {
                    let client = reqwest::Client::builder().local_address(IpAddr::V4(from)).build().unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        let body = serde_json::json!({ "name": format!("user{i}"), "password": "wrong password" });
                        if let Ok(r) = client.post(format!("{url}/api/login")).json(&body).send().await {
                            sent.fetch_add(1, Ordering::Relaxed);
                            if r.status() == 429 {
                                limited.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
            }
            "idle" => {
                let from = Ipv4Addr::new(127, 0, 2, 1 + (i % 40) as u8);
                flood.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let socket = tokio::net::TcpSocket::new_v4().unwrap();
                        if socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).is_err() {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                        let Ok(mut s) = socket.connect(addr).await else {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        sent.fetch_add(1, Ordering::Relaxed);
                        // Held until the node closes it, then opened again.
                        let mut buf = [0u8; 64];
                        loop {
                            tokio::select! {
                                r = tokio::io::AsyncReadExt::read(&mut s, &mut buf) => if matches!(r, Ok(0) | Err(_)) { break },
                                () = tokio::time::sleep(Duration::from_millis(200)) => if stop.load(Ordering::Relaxed) { return },
                            }
                        }
                    }
                }));
            }
            other => panic!("unknown mode {other}"),
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // the flood under way
    let me =
        tokio::spawn(probe(url.clone(), "/api/me", Some(token.clone()), Ipv4Addr::new(127, 0, 0, 2), stop.clone()));
    let health = tokio::spawn(probe(url.clone(), "/healthz", None, Ipv4Addr::new(127, 0, 0, 3), stop.clone()));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (me, me_failed) = me.await.unwrap();
    let (hz, hz_failed) = health.await.unwrap();
    for f in flood {
        f.abort();
    }
    let what = if mode == "login" {
        format!(
            "{} login attempts answered, {} of them 429",
            sent.load(Ordering::Relaxed),
            answered_429.load(Ordering::Relaxed)
        )
    } else {
        format!("{} idle connections opened", sent.load(Ordering::Relaxed))
    };
    println!(
        "{mode} flood, {clients} clients, {seconds} s: {what}; /api/me p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} answered, {me_failed} failed; /healthz p99 {:.1} ms, {hz_failed} failed",
        percentile(&me, 0.5),
        percentile(&me, 0.99),
        me.last().copied().unwrap_or(f64::NAN),
        me.len(),
        percentile(&hz, 0.99),
    );
}
