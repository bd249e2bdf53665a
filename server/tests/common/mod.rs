//! Helpers for the server's integration tests: a node without models, a data directory with a
//! watchlist and users, alerts raised the way `raqib run` raises them (stored, then published).

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use raqib_core::{Embedding, PlateText};
use raqib_events::EventStore;
use raqib_events::bus::{Event, EventBus};
use raqib_events::health::CameraHealth;
use raqib_events::records::PlateEvent;
use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use raqib_server::{Metrics, Node, Role, Server, ServerConfig, UserStore};
use raqib_watchlist::{Actor, FuzzyQuery, NewPlateEntry, Snapshot, Store};

/// A node with no cameras; "photos" starting with `FACE` embed to a fixed vector, anything else
/// has no face.
pub struct FakeNode;

impl Node for FakeNode {
    fn cameras(&self) -> Vec<CameraHealth> {
        Vec::new()
    }
    fn embed_face(&self, photo: &[u8]) -> Result<Embedding, String> {
        if photo.starts_with(b"FACE") {
            Ok(Embedding::new(vec![1.0, 0.0, 0.0, 0.0]).unwrap())
        } else {
            Err("no face found in the photo".into())
        }
    }
    fn face_model(&self) -> String {
        "test-model".into()
    }
}

pub const PASSWORD: &str = "a long enough password";

/// A data dir with users `op` (operator), `ana` (analyst), `boss` (admin) and the watchlist
/// entries given as (plate, category).
pub fn data_dir(plates: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut users = UserStore::open(&dir.path().join("users.db")).unwrap();
    for (name, role) in [("op", Role::Operator), ("ana", Role::Analyst), ("boss", Role::Admin)] {
        users.add_user(name, role, PASSWORD, false).unwrap();
    }
    let mut store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    for (plate, category) in plates {
        let new = NewPlateEntry { plate: (*plate).into(), category: (*category).into(), ..Default::default() };
        store.add_plate(&new, Actor::new("test", Some("setup"))).unwrap();
    }
    // The pipeline creates the events store before the server starts.
    EventStore::open(&dir.path().join("events.db")).unwrap();
    dir
}

/// Adds `plate` (stolen_vehicle) to covert list `list` and an operator `agent` given that list.
pub fn add_covert(dir: &Path, plate: &str, list: &str) {
    let mut store = Store::open(&dir.join("watchlist.db")).unwrap();
    let new = NewPlateEntry {
        plate: plate.into(),
        category: "stolen_vehicle".into(),
        covert_list: Some(list.into()),
        ..Default::default()
    };
    store.add_plate(&new, Actor::new("test", Some("setup"))).unwrap();
    let mut users = UserStore::open(&dir.join("users.db")).unwrap();
    users.add_user("agent", Role::Operator, PASSWORD, false).unwrap();
    users.set_lists("agent", &[list.into()]).unwrap();
}

/// Starts a server on a free loopback port.
pub fn start(dir: &Path, config: ServerConfig, bus: &EventBus) -> Server {
    start_with(dir, config, raqib_server::Rules::default(), bus)
}

/// [`start`] under these `[analysis]`, `[alerts]` and `[retention]` rules.
pub fn start_with(dir: &Path, config: ServerConfig, rules: raqib_server::Rules, bus: &EventBus) -> Server {
    let config = ServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..config };
    Server::start(config, rules, dir, "node-1", Arc::new(FakeNode), Metrics::new(Arc::new(|| 0)), bus).unwrap()
}

/// A read of `plate` by camera `gate`, matched against the watchlist, stored and published
/// exactly as `raqib run` does; returns whether it hit.
pub fn raise(dir: &Path, bus: &EventBus, plate: &str) -> bool {
    raise_on(dir, bus, plate, "gate")
}

/// [`raise`] on camera `camera`: the same entry on the same camera within the repeat window
/// (`[alerts] repeat_window_s`, 5 min by default) is one alert, counting the repeats.
pub fn raise_on(dir: &Path, bus: &EventBus, plate: &str, camera: &str) -> bool {
    raise_at(dir, bus, plate, camera, Utc::now())
}

/// [`raise_on`] for a read seen at `at`.
pub fn raise_at(dir: &Path, bus: &EventBus, plate: &str, camera: &str, at: chrono::DateTime<Utc>) -> bool {
    let text = PlateText::parse(plate, None).unwrap();
    let store = Store::open(&dir.join("watchlist.db")).unwrap();
    let hits =
        Snapshot::load(&store, "test-model").unwrap().match_plate(&FuzzyQuery::from_plate(&text), 1.0, Utc::now());
    let event = PlateEvent {
        track: 1,
        plate: text.clone(),
        confidence: 0.95,
        reads: 5,
        frames: 6,
        first_seen_s: None,
        last_seen_s: None,
        best_frame: 3,
        best_time_s: None,
        bbox: Bbox { x1: 10.0, y1: 10.0, x2: 50.0, y2: 20.0 },
        crop_jpeg: tiny_jpeg(),
        positions: vec![],
        frame_image: Some(Arc::new(RgbImage { width: 8, height: 8, data: vec![120; 192] })),
    };
    EventStore::open(&dir.join("events.db")).unwrap().record_at(camera, at, &event, &hits, None).unwrap();
    let hit = !hits.is_empty();
    bus.publish(Event::PlateRead { source: camera.into(), at, location: None, read: Box::new(event), hits });
    hit
}

/// A valid 8×8 JPEG.
pub fn tiny_jpeg() -> Vec<u8> {
    raqib_events::records::jpeg(&RgbImage { width: 8, height: 8, data: vec![200; 192] })
}

/// An HTTP client that keeps cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

/// Logs `name` in; returns its bearer token.
pub async fn login(base: &str, name: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "name": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {name}");
    r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

/// The first `n` `event: alert` blocks of a live stream (id, alert), or fewer at `timeout`.
pub async fn alerts_from(resp: reqwest::Response, n: usize, timeout: Duration) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while out.len() < n {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await else { break };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(str::to_owned));
            if field("event: ").as_deref() == Some("alert") {
                out.push((field("id: ").unwrap(), serde_json::from_str(&field("data: ").unwrap()).unwrap()));
            }
        }
    }
    out
}
