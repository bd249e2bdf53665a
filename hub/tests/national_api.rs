//! The hub's national API and console against a real `nats-server` and PostgreSQL, with real
//! node links: every node's hits on the live stream within a second, search of reads and hits
//! across nodes under the node's plate rules, node and camera health, the national watchlist
//! and how far each entry reached, roles, and the audit of every personal-data read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines, missing_docs, reason = "tests")]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use raqib_hub::central::{Hub, HubConfig};
use raqib_hub::http::{HttpConfig, HubState};
use raqib_hub::nats_config::User;
use raqib_hub::node::HubLink;
use raqib_hub::testing::{Nats, Postgres, node_dir, raise, wait_for};
use raqib_server::{Role, UserStore};

const PASSWORD: &str = "national-secret-1";

fn link(nats: &Nats, node: &str, dir: &Path) -> HubLink {
    raqib_hub::testing::link(&nats.url(), node, &format!("{node}-secret"), dir, true, None)
}

/// A logged-in API client: (base URL, bearer token).
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn login(base: &str, name: &str) -> Api {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({ "name": name, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {name}");
        let token = r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        Api { base: base.to_owned(), token, http }
    }

    async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r =
            self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_national_console_shows_every_nodes_hits_within_a_second_and_searches_across_nodes_by_role() {
    let names = ["north", "south"];
    let hub_user = User { name: "hub".into(), password: "hub-secret-1".into() };
    let users: Vec<User> = names.iter().map(|n| User { name: (*n).into(), password: format!("{n}-secret") }).collect();
    let Some(nats) = Nats::start(&hub_user, &users) else { return };
    let Some(pg) = Postgres::start() else { return };
    let plate = "12345-ب-6";
    let dirs: Vec<_> = names.iter().map(|_| node_dir(&[plate])).collect();
    let cfg = HubConfig {
        nats_url: nats.url(),
        nats_user: "hub".into(),
        nats_password: "hub-secret-1".into(),
        postgres: pg.conninfo(),
        nats_ca_file: None,
        replicas: 1,
    };
    let hub = Arc::new(Hub::connect(&cfg).await.unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (hub, stop) = (hub.clone(), stop.clone());
        tokio::spawn(async move { hub.ingest(stop).await.unwrap() })
    };
    let hub_dir = tempfile::tempdir().unwrap();
    {
        let mut u = UserStore::open(&hub_dir.path().join("users.db")).unwrap();
        u.add_user("op", Role::Operator, PASSWORD, false).unwrap();
        u.add_user("an", Role::Analyst, PASSWORD, false).unwrap();
        u.add_user("ad", Role::Admin, PASSWORD, false).unwrap();
    }
    let http = HttpConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let state = Arc::new(HubState::open(hub.clone(), http, hub_dir.path()).unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(raqib_hub::http::serve(state, stop.clone(), Some(tx)));
    let base = format!("http://{}", rx.await.unwrap());
    let links: Vec<HubLink> = names.iter().zip(&dirs).map(|(n, d)| link(&nats, n, d.path())).collect();
    let (op, an, ad) = (Api::login(&base, "op").await, Api::login(&base, "an").await, Api::login(&base, "ad").await);

    // Live: an operator's console receives every node's hit within a second.
    let resp = op.http.get(format!("{base}/api/alerts/stream")).bearer_auth(&op.token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (mut seen_rx, reader) = raqib_hub::testing::live_alerts(resp);
    let mut stores: Vec<_> = dirs.iter().map(|d| raqib_hub::testing::stores(d.path())).collect();
    let mut raised = std::collections::HashMap::new();
    for i in 0..20 {
        let (events, watchlist) = &mut stores[i % 2];
        let t0 = Instant::now();
        let id = raise(events, watchlist, plate, &format!("cam-{i}"));
        raised.insert((names[i % 2].to_owned(), id), t0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut took = Vec::new();
    while took.len() < raised.len() {
        let (alert, at) = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv()).await.unwrap().unwrap();
        took.push(at - raised[&(alert["node"].as_str().unwrap().to_owned(), alert["read_id"].as_i64().unwrap())]);
    }
    took.sort();

    // The node's room confirms one of them: the national console receives it again, decided.
    let (events, _) = &mut stores[0];
    let read = *raised.keys().find(|(n, _)| n == "north").map(|(_, id)| id).unwrap();
    let alert = events.alerts_of_read(read).unwrap()[0];
    events
        .act_on_alert(alert, raqib_events::alerts::AlertAction::Confirm, "amina", "stopped at the checkpoint", None)
        .unwrap();
    let updated = loop {
        let (a, _) = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv()).await.unwrap().unwrap();
        if a["node"] == "north" && a["id"] == alert.to_string() {
            break a;
        }
    };
    assert_eq!(updated["state"], "confirmed", "{updated}");
    assert_eq!(updated["actions"][0]["actor"], "amina");
    reader.abort();
    let (_, listed) = op.get("/api/alerts?node=north").await;
    let listed = listed["alerts"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 10, "updated in place, not added");
    assert_eq!(listed.iter().filter(|a| a["state"] == "confirmed").count(), 1);
    eprintln!("hit → national console: p50 {:?}, max {:?}", took[took.len() / 2], took[took.len() - 1]);
    assert!(took.iter().all(|t| *t < Duration::from_secs(1)), "{took:?}");

    // Roles: an operator neither searches nor changes the national watchlist (and the refusal
    // is audited); an analyst does not change it either.
    assert_eq!(op.get("/api/reads?plate=12345-B-6&reason=case-1").await.0, 403);
    let entry =
        serde_json::json!({ "plate": "77777-و-7", "category": "missing_child", "critical": true, "reason": "case-9" });
    assert_eq!(op.post("/api/entries", entry.clone()).await.0, 403);
    assert_eq!(an.post("/api/entries", entry.clone()).await.0, 403);

    // Search across nodes: any spelling, fuzzy, wildcard; a reason is required.
    wait_for("the forwarded reads", Duration::from_secs(10), async || hub.read_count().await.unwrap() == 20).await;
    assert_eq!(an.get("/api/reads?plate=12345-B-6").await.0, 400, "no reason");
    let (status, found) = an.get("/api/reads?plate=12345-B-6&reason=case-1").await;
    assert_eq!(status, 200, "{found}");
    let nodes: std::collections::BTreeSet<&str> =
        found["results"].as_array().unwrap().iter().map(|r| r["node"].as_str().unwrap()).collect();
    assert_eq!(found["results"].as_array().unwrap().len(), 20);
    assert_eq!(nodes.into_iter().collect::<Vec<_>>(), ["north", "south"]);
    let (_, fuzzy) = an.get("/api/reads?plate=12845-B-6&mode=fuzzy&reason=case-1").await;
    assert_eq!(fuzzy["results"].as_array().unwrap().len(), 20, "a one-edit misread is found fuzzily");
    assert!(fuzzy["results"][0]["distance"].as_f64().unwrap() > 0.0);
    let (_, exact_miss) = an.get("/api/reads?plate=12845-B-6&reason=case-1").await;
    assert!(exact_miss["results"].as_array().unwrap().is_empty());
    let (_, wild) = an.get("/api/reads?plate=1234%3F-%2A-6&reason=case-1").await;
    assert_eq!(wild["mode"], "wildcard");
    assert_eq!(wild["results"].as_array().unwrap().len(), 20);
    let (_, hits) = an.get("/api/hits?plate=12345-ب-6&reason=case-1").await;
    assert_eq!(hits["results"].as_array().unwrap().len(), 20);
    let (status, bad) = an.get("/api/reads?plate=12345&mode=soundex&reason=case-1").await;
    assert_eq!(status, 400, "{bad}");

    // Health: both nodes online (they report every 10 s; the first report comes at once).
    let (_, health) = op.get("/api/nodes").await;
    let listed = health["nodes"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{health}");
    assert!(listed.iter().all(|n| n["online"] == true && n["health"]["link_at"].is_string()), "{health}");
    assert_eq!(listed[0]["hits"], 10);

    // The national watchlist: added by an admin, applied by both nodes, shown with the count.
    // Bad input is refused with a reason, and nothing is added.
    let (status, bad) =
        ad.post("/api/entries", serde_json::json!({ "plate": "!!", "category": "x", "reason": "case-9" })).await;
    assert_eq!(status, 400, "{bad}");
    let (status, _) = ad.post("/api/entries", serde_json::json!({ "plate": 5 })).await;
    assert!((400..500).contains(&status), "malformed body: {status}");
    assert_eq!(ad.get("/api/entries").await.1["entries"].as_array().unwrap().len(), 0);
    let (status, change) = ad.post("/api/entries", entry).await;
    assert_eq!(status, 201, "{change}");
    wait_for("both nodes to apply the entry", Duration::from_secs(5), async || {
        an.get("/api/entries").await.1["entries"][0]["nodes_applied"] == 2
    })
    .await;
    let (_, entries) = an.get("/api/entries").await;
    assert_eq!(entries["nodes"], 2);

    // Every personal-data read is in the hub's audit log, with its reason.
    let (status, log) = ad.get("/api/audit?limit=500").await;
    assert_eq!(status, 200);
    let records = log["records"].as_array().unwrap();
    let has = |action: &str, actor: &str| records.iter().any(|r| r["action"] == action && r["actor"] == actor);
    assert!(has("alerts.watch", "op") && has("access.denied", "op"), "{log}");
    assert!(has("search.reads", "an") && has("search.hits", "an") && has("entries.view", "an"), "{log}");
    assert!(has("national.add", "ad"), "{log}");
    let search = records.iter().find(|r| r["action"] == "search.reads").unwrap();
    assert_eq!(search["reason"], "case-1");
    assert_eq!(op.get("/api/audit").await.0, 403);

    // The console is served, with its script and the shared strings.
    let page = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("/console/hub.js") && page.contains("/console/i18n.js"));
    for file in ["hub.js", "dom.js", "i18n.js", "style.css"] {
        assert_eq!(reqwest::get(format!("{base}/console/{file}")).await.unwrap().status(), 200, "{file}");
    }

    stop.store(true, Ordering::Relaxed);
    drop(links);
    ingest.await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap().unwrap();
}
