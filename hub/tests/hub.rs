//! The national hub against a real `nats-server` (JetStream) and a real PostgreSQL: nodes'
//! alerts stored exactly once through a NATS restart, a hub outage and a PostgreSQL restart; a
//! national entry reaching every node, critical first, and an offline node catching up; a node
//! that can publish only its own subjects and cannot write the watchlist.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines, missing_docs, reason = "tests")]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use raqib_hub::central::{Hub, HubConfig};
use raqib_hub::nats_config::User;
use raqib_hub::node::{HubLink, HubLinkConfig};
use raqib_hub::testing::{Nats, Postgres};
use raqib_watchlist::{Actor, NewPlateEntry, Snapshot, Store};

fn users(nodes: &[&str]) -> (User, Vec<User>) {
    let hub = User { name: "hub".into(), password: "hub-secret-1".into() };
    (hub, nodes.iter().map(|n| User { name: (*n).into(), password: format!("{n}-secret") }).collect())
}

/// A node's data directory: a watchlist with `plates` and an events store.
fn node_dir(plates: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    for p in plates {
        let new = NewPlateEntry { plate: (*p).into(), category: "stolen_vehicle".into(), ..Default::default() };
        store.add_plate(&new, Actor::new("test", Some("setup"))).unwrap();
    }
    raqib_events::EventStore::open(&dir.path().join("events.db")).unwrap();
    dir
}

/// Stores a hit of `plate` by `camera` in the node's events store, as `raqib run` does.
fn raise(dir: &Path, plate: &str, camera: &str) {
    let text = raqib_core::PlateText::parse(plate, None).unwrap();
    let store = Store::open(&dir.join("watchlist.db")).unwrap();
    let hits = Snapshot::load(&store, "m").unwrap().match_exact(&text, Utc::now());
    assert!(!hits.is_empty(), "{plate} listed");
    let event = raqib_events::records::PlateEvent::bare(text, 1, 4);
    let mut events = raqib_events::EventStore::open(&dir.join("events.db")).unwrap();
    events.set_handling(raqib_events::handling::HandlingPolicy { repeat_window_s: 0, ..Default::default() });
    events.record_at(camera, Utc::now(), &event, &hits, None).unwrap();
}

fn link(nats: &Nats, node: &str, dir: &Path) -> HubLink {
    link_with(nats, node, dir, false)
}

fn link_with(nats: &Nats, node: &str, dir: &Path, forward_reads: bool) -> HubLink {
    let password = dir.join("nats.password");
    std::fs::write(&password, format!("{node}-secret")).unwrap();
    let cfg = HubLinkConfig { nats_url: nats.url(), node_id: node.into(), password_file: password, forward_reads };
    raqib_hub::node::start(cfg, dir.to_path_buf()).unwrap()
}

async fn hub(nats: &Nats, pg: &Postgres) -> Hub {
    let cfg = HubConfig {
        nats_url: nats.url(),
        nats_user: "hub".into(),
        nats_password: "hub-secret-1".into(),
        postgres: pg.conninfo(),
    };
    Hub::connect(&cfg).await.unwrap()
}

/// Runs the hub's ingest until the returned flag is set.
fn ingest(hub: Arc<Hub>) -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    (stop, tokio::spawn(async move { hub.ingest(flag).await.unwrap() }))
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_of_every_node_are_stored_exactly_once_through_a_nats_restart_a_hub_outage_and_a_postgres_restart() {
    let names = ["n1", "n2", "n3"];
    let (hub_user, node_users) = users(&names);
    let Some(mut nats) = Nats::start(&hub_user, &node_users) else { return };
    let Some(mut pg) = Postgres::start() else { return };
    let plates = ["11111-أ-1", "22222-ب-2", "33333-د-3", "44444-ه-4"];
    let dirs: Vec<_> = names.iter().map(|_| node_dir(&plates)).collect();
    let hub = Arc::new(hub(&nats, &pg).await);
    let (stop, task) = ingest(hub.clone());
    let links: Vec<HubLink> = names.iter().zip(&dirs).map(|(n, d)| link(&nats, n, d.path())).collect();
    let mut raised = 0;
    let mut raise_round = |cam: &str| {
        for d in &dirs {
            for p in plates {
                raise(d.path(), p, cam);
            }
        }
        raised += dirs.len() * plates.len();
        raised
    };
    let total =
        |hub: Arc<Hub>| async move { hub.hit_counts().await.map(|c| c.iter().map(|x| x.1).sum::<i64>()).unwrap_or(-1) };

    let want = raise_round("gate") as i64;
    wait_for("the first round", Duration::from_secs(20), async || total(hub.clone()).await == want).await;

    // The hub goes down; the nodes go on raising; NATS is killed and restarted meanwhile.
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    raise_round("road");
    nats.down();
    raise_round("bridge");
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.up();
    let want = raise_round("port") as i64;
    let (stop, task) = ingest(hub.clone());
    wait_for("every alert after the outages", Duration::from_secs(60), async || total(hub.clone()).await == want).await;

    // PostgreSQL restarts while alerts keep coming.
    pg.down();
    let want = raise_round("airport") as i64;
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.up();
    wait_for("every alert after the PostgreSQL restart", Duration::from_secs(60), async || {
        total(hub.clone()).await == want
    })
    .await;
    // Nothing more arrives: no duplicates were waiting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = hub.hit_counts().await.unwrap();
    assert_eq!(counts.len(), 3);
    for (node, n) in &counts {
        assert_eq!(*n, want / 3, "{node}");
    }
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    drop(links);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_national_entry_reaches_every_node_within_two_seconds_and_an_offline_node_catches_up() {
    let names = ["a", "b", "c", "late"];
    let (hub_user, node_users) = users(&names);
    let Some(nats) = Nats::start(&hub_user, &node_users) else { return };
    let Some(pg) = Postgres::start() else { return };
    let dirs: Vec<_> = names.iter().map(|_| node_dir(&[])).collect();
    let hub = Arc::new(hub(&nats, &pg).await);
    let (stop, task) = ingest(hub.clone());
    let links: Vec<HubLink> = names[..3].iter().zip(&dirs).map(|(n, d)| link(&nats, n, d.path())).collect();
    let has = |dir: &Path, plate: &str| {
        let key = raqib_core::PlateText::parse(plate, None).unwrap();
        Store::open(&dir.join("watchlist.db")).unwrap().plates().unwrap().iter().any(|e| e.plate == key)
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // the links are up

    let entry = NewPlateEntry { plate: "77777-و-7".into(), category: "missing_child".into(), ..Default::default() };
    let t0 = Instant::now();
    hub.put_entry(&entry, true).await.unwrap();
    let mut took = Vec::new();
    for d in &dirs[..3] {
        wait_for("the entry on a node", Duration::from_secs(5), async || has(d.path(), "77777-و-7")).await;
        took.push(t0.elapsed());
    }
    eprintln!("national entry applied by 3 nodes in {took:?}");
    assert!(took.iter().all(|t| *t < Duration::from_secs(2)), "{took:?}");
    wait_for("the hub to count 3 nodes", Duration::from_secs(5), async || {
        hub.entries().await.unwrap().first().map(|e| e.nodes_applied) == Some(3)
    })
    .await;

    // A node that was offline applies it within 2 s of connecting; a removal follows.
    assert!(!has(dirs[3].path(), "77777-و-7"));
    let t1 = Instant::now();
    let late = link(&nats, "late", dirs[3].path());
    wait_for("the late node", Duration::from_secs(5), async || has(dirs[3].path(), "77777-و-7")).await;
    assert!(t1.elapsed() < Duration::from_secs(2), "{:?}", t1.elapsed());
    let id = hub.entries().await.unwrap()[0].id;
    hub.remove_entry(id).await.unwrap().unwrap();
    for d in &dirs {
        wait_for("the removal", Duration::from_secs(5), async || !has(d.path(), "77777-و-7")).await;
    }
    // The change is in each node's audit log, by `hub`.
    let audit = Store::open(&dirs[0].path().join("watchlist.db")).unwrap().audit_log(100).unwrap();
    assert!(audit.iter().any(|r| r.actor == "hub" && r.action == "plate.add"), "{audit:?}");
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    drop((links, late));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_can_publish_only_its_own_subjects_and_cannot_write_the_watchlist() {
    let (hub_user, node_users) = users(&["a", "b"]);
    let Some(nats) = Nats::start(&hub_user, &node_users) else { return };
    let Some(pg) = Postgres::start() else { return };
    let hub = Arc::new(hub(&nats, &pg).await);
    let client = async_nats::ConnectOptions::with_user_and_password("a".into(), "a-secret".into())
        .custom_inbox_prefix(raqib_hub::nats_config::inbox_prefix("a"))
        .connect(nats.url())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let publish = |subject: &'static str| {
        let js = js.clone();
        async move {
            let sent =
                tokio::time::timeout(Duration::from_secs(3), async { js.publish(subject, "{}".into()).await?.await });
            matches!(sent.await, Ok(Ok(_)))
        }
    };
    assert!(publish("raqib.node.a.alert").await, "its own subject");
    assert!(!publish("raqib.node.b.alert").await, "another node's subject");
    assert!(!publish("raqib.watchlist.critical").await, "the watchlist");
    assert!(!publish("raqib.watchlist.routine").await, "the watchlist");
    // Reading the nodes' stream (another node's alerts) is refused too.
    let stream = tokio::time::timeout(Duration::from_secs(3), js.get_stream(raqib_hub::subjects::NODES_STREAM)).await;
    assert!(!matches!(stream, Ok(Ok(_))), "a node cannot open the nodes' stream");
    let mut sub = client.subscribe("raqib.node.b.alert").await.unwrap();
    let hub_js = async_nats::jetstream::new(
        async_nats::ConnectOptions::with_user_and_password("hub".into(), "hub-secret-1".into())
            .custom_inbox_prefix("_INBOX_hub")
            .connect(nats.url())
            .await
            .unwrap(),
    );
    hub_js.publish("raqib.node.b.alert", "{}".into()).await.unwrap().await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(1), futures_util::StreamExt::next(&mut sub)).await;
    assert!(!matches!(got, Ok(Some(_))), "a node does not receive another node's messages");
    drop(hub);
}

/// A read forwarded before its plate was listed nationally raises a retro alert at the hub,
/// also for a one-edit misread; a read of another plate does not.
#[tokio::test(flavor = "multi_thread")]
async fn a_national_entry_raises_retro_alerts_from_the_reads_stored_at_the_hub() {
    let (hub_user, node_users) = users(&["r"]);
    let Some(nats) = Nats::start(&hub_user, &node_users) else { return };
    let Some(pg) = Postgres::start() else { return };
    let dir = node_dir(&[]);
    let hub = Arc::new(hub(&nats, &pg).await);
    let (stop, task) = ingest(hub.clone());
    {
        let mut events = raqib_events::EventStore::open(&dir.path().join("events.db")).unwrap();
        for (i, plate) in ["55555-ه-5", "55855-ه-5", "90210-و-1"].iter().enumerate() {
            let event = raqib_events::records::PlateEvent::bare(
                raqib_core::PlateText::parse(plate, None).unwrap(),
                i as u64,
                4,
            );
            events.record_at("road", Utc::now() - chrono::Duration::days(2), &event, &[], None).unwrap();
        }
    }
    let _link = link_with(&nats, "r", dir.path(), true);
    wait_for("the reads at the hub", Duration::from_secs(10), async || hub.read_count().await.unwrap() == 3).await;
    let entry = NewPlateEntry { plate: "55555-H-5".into(), category: "stolen_vehicle".into(), ..Default::default() };
    hub.put_entry(&entry, false).await.unwrap();
    let hits = hub.recent_hits(10).await.unwrap();
    let subjects: Vec<&str> =
        hits.iter().filter(|h| h["retro"] == true).filter_map(|h| h["subject"].as_str()).collect();
    assert_eq!(subjects.len(), 2, "{hits:?}");
    assert!(subjects.contains(&"55555-ه-5") && subjects.contains(&"55855-ه-5"), "{subjects:?}");
    // Checked again (the entry changed): nothing twice.
    hub.put_entry(&entry, false).await.unwrap();
    assert_eq!(hub.recent_hits(10).await.unwrap().len(), 2);
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
}
