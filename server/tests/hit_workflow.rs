//! The hit workflow over the API against a real server: confirm and reject with a configured
//! reason (final, audited, in the evidence package), the policy the console reads, alerts that
//! pass their deadline marked overdue (audited, counted in `/metrics`), repeats counted on one
//! alert, and retro-hits when an entry is added.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, reason = "tests: a failure panics by design")]

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{data_dir, login, raise, raise_on, start, start_with};
use raqib_events::EventStore;
use raqib_events::bus::EventBus;
use raqib_events::handling::{Deadlines, HandlingPolicy};
use raqib_server::{Rules, ServerConfig};
use raqib_watchlist::Store;

async fn post(base: &str, token: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new().post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

async fn get(base: &str, token: &str, path: &str) -> serde_json::Value {
    let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn audit_actions(dir: &std::path::Path) -> Vec<raqib_watchlist::audit::AuditRecord> {
    Store::open(&dir.join("watchlist.db")).unwrap().audit_log(1000).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_confirms_one_hit_and_rejects_another_with_a_reason_final_and_audited() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle"), ("777-د-1", "wanted_owner")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let (op, ana) = (login(&base, "op").await, login(&base, "ana").await);
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    assert!(raise(dir.path(), &bus, "777-د-1"));

    let policy = get(&base, &op, "/api/alerts/policy").await;
    assert_eq!(policy["reject_reasons"][0], "misread");
    assert_eq!(policy["deadline_minutes"]["critical"], 10.0);

    let (s, body) = post(&base, &op, "/api/alerts/p2/reject", serde_json::json!({ "comment": "no" })).await;
    assert_eq!(s, 400, "a rejection needs a reason: {body}");
    let (s, _) = post(&base, &op, "/api/alerts/p2/reject", serde_json::json!({ "reason": "bored" })).await;
    assert_eq!(s, 400);
    let (s, a) =
        post(&base, &op, "/api/alerts/p1/confirm", serde_json::json!({ "comment": "matches, patrol sent" })).await;
    assert_eq!((s, a["state"].as_str()), (200, Some("confirmed")));
    let (s, a) = post(
        &base,
        &op,
        "/api/alerts/p2/reject",
        serde_json::json!({ "reason": "misread", "comment": "plate reads 177-د-1" }),
    )
    .await;
    assert_eq!((s, a["state"].as_str()), (200, Some("rejected")));
    let (s, _) = post(&base, &op, "/api/alerts/p2/confirm", serde_json::json!({})).await;
    assert_eq!(s, 409, "a decision is final");
    let rejected = get(&base, &op, "/api/alerts?state=rejected").await;
    assert_eq!(rejected["alerts"].as_array().unwrap().len(), 1);

    let one = get(&base, &op, "/api/alerts/p2").await;
    assert_eq!(one["actions"][0]["action"], "reject");
    assert_eq!(one["actions"][0]["reason"], "misread");
    assert_eq!(one["actions"][0]["actor"], "op");

    let audit = audit_actions(dir.path());
    let reject = audit.iter().find(|r| r.action == "alert.reject").unwrap();
    assert_eq!((reject.actor.as_str(), reject.target.as_deref()), ("op", Some("p2")));
    assert!(reject.detail.as_deref().unwrap().contains("misread"));
    assert!(audit.iter().any(|r| r.action == "alert.confirm" && r.target.as_deref() == Some("p1")));

    // The evidence package carries the decision.
    let r = reqwest::Client::new()
        .get(format!("{base}/api/alerts/p2/evidence.zip?reason=CASE-1"))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let zip = r.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("alert.json").unwrap(), &mut text).unwrap();
    let alert: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(alert["actions"][0]["reason"], "misread");
    assert_eq!(alert["alert"]["state"], "rejected");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_left_open_past_its_deadline_is_marked_overdue_audited_and_counted() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle"), ("777-د-1", "stolen_vehicle")]);
    let bus = EventBus::new();
    // High priority: 3 s to decide.
    let alerts =
        HandlingPolicy { deadline_minutes: Deadlines { high: 0.05, ..Default::default() }, ..Default::default() };
    let server = start_with(dir.path(), ServerConfig::default(), Rules { alerts, ..Default::default() }, &bus);
    let base = format!("http://{}", server.addr());
    let op = login(&base, "op").await;
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    assert!(raise(dir.path(), &bus, "777-د-1"));
    let fresh = get(&base, &op, "/api/alerts/p1").await;
    assert!(fresh["alert"]["overdue_at"].is_null());
    // One is decided in time; the other is left open.
    let (s, _) = post(&base, &op, "/api/alerts/p2/confirm", serde_json::json!({})).await;
    assert_eq!(s, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = get(&base, &op, "/api/alerts/p1").await;
        if !a["alert"]["overdue_at"].is_null() {
            assert_eq!(a["actions"][0]["action"], "overdue");
            assert_eq!(a["actions"][0]["actor"], "raqib");
            break;
        }
        assert!(Instant::now() < deadline, "p1 never became overdue: {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(get(&base, &op, "/api/alerts/p2").await["alert"]["overdue_at"].is_null(), "decided in time");
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "raqib_alerts_overdue 1"), "{metrics}");
    let audit = audit_actions(dir.path());
    let overdue: Vec<_> = audit.iter().filter(|r| r.action == "alert.overdue").collect();
    assert_eq!(overdue.len(), 1, "marked once");
    assert_eq!((overdue[0].actor.as_str(), overdue[0].target.as_deref()), ("raqib", Some("p1")));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn repeats_count_on_one_alert_and_a_new_entry_raises_retro_alerts_within_retention_only() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let (op, boss) = (login(&base, "op").await, login(&base, "boss").await);
    for _ in 0..3 {
        assert!(raise(dir.path(), &bus, "12345-ب-6"));
    }
    assert!(raise_on(dir.path(), &bus, "12345-ب-6", "road"));
    let listed = get(&base, &op, "/api/alerts").await;
    let alerts = listed["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{listed}");
    let gate = alerts.iter().find(|a| a["camera"] == "gate").unwrap();
    assert_eq!(gate["repeats"], 2);

    // Reads of a plate nobody listed yet: one 3 days ago, one 40 days ago (reads are kept 30).
    assert!(!raise(dir.path(), &bus, "48213-أ-9"));
    {
        let mut events = EventStore::open(&dir.path().join("events.db")).unwrap();
        let plate = raqib_core::PlateText::parse("48213-أ-9", None).unwrap();
        let mut event = raqib_events::records::PlateEvent::bare(plate, 9, 4);
        events.record_at("road", Utc::now() - chrono::Duration::days(40), &event, &[], Some((33.6, -7.6))).unwrap();
        event.track = 10;
        events.record_at("road", Utc::now() - chrono::Duration::days(3), &event, &[], Some((33.5, -7.5))).unwrap();
    }
    let (s, added) = post(
        &base,
        &boss,
        "/api/watchlist/plates",
        serde_json::json!({ "plate": "48213-A-9", "category": "stolen_vehicle" }),
    )
    .await;
    assert_eq!(s, 201, "{added}");
    // Today's read and the one 3 days old; not the one past retention.
    let retro = added["retro_alerts"].as_array().unwrap();
    assert_eq!(retro.len(), 2, "{added}");
    let listed = get(&base, &op, "/api/alerts").await;
    let retro_alerts: Vec<_> = listed["alerts"].as_array().unwrap().iter().filter(|a| a["retro"] == true).collect();
    assert_eq!(retro_alerts.len(), 2);
    let old = retro_alerts.iter().find(|a| a["lat"] == 33.5).unwrap();
    let seen = chrono::DateTime::parse_from_rfc3339(old["seen_at"].as_str().unwrap()).unwrap();
    assert!(Utc::now() - seen.with_timezone(&Utc) > chrono::Duration::days(2), "the sighting keeps its time: {old}");
    let audit = audit_actions(dir.path());
    let check = audit.iter().find(|r| r.action == "watchlist.retro_check").unwrap();
    assert!(check.detail.as_deref().unwrap().contains("2 retro alert(s)"), "{check:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_covert_hit_reaches_only_users_given_its_list_over_the_api_and_the_live_stream() {
    let dir = data_dir(&[]);
    common::add_covert(dir.path(), "48213-أ-9", "op-falcon");
    {
        let mut users = raqib_server::UserStore::open(&dir.path().join("users.db")).unwrap();
        users.add_user("handler", raqib_server::Role::Analyst, common::PASSWORD, false).unwrap();
        users.set_lists("handler", &["op-falcon".into()]).unwrap();
    }
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let (op, agent, boss) = (login(&base, "op").await, login(&base, "agent").await, login(&base, "boss").await);
    let http = reqwest::Client::new();
    let watch = |token: &str| http.get(format!("{base}/api/alerts/stream")).bearer_auth(token.to_owned()).send();
    let (op_stream, agent_stream) = (watch(&op).await.unwrap(), watch(&agent).await.unwrap());
    assert!(raise(dir.path(), &bus, "48213-أ-9"));
    let seen = common::alerts_from(agent_stream, 1, Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 1, "the list's user sees it live");
    assert_eq!(seen[0].1["covert_list"], "op-falcon");
    assert!(common::alerts_from(op_stream, 1, Duration::from_secs(2)).await.is_empty(), "another operator does not");

    for (token, n) in [(&op, 0), (&boss, 0), (&agent, 1)] {
        assert_eq!(get(&base, token, "/api/alerts").await["alerts"].as_array().unwrap().len(), n);
    }
    for path in ["/api/alerts/p1", "/api/alerts/p1/crop.jpg"] {
        let r = http.get(format!("{base}{path}")).bearer_auth(&op).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}: as if it did not exist");
    }
    let (s, _) = post(&base, &op, "/api/alerts/p1/confirm", serde_json::json!({})).await;
    assert_eq!(s, 404);
    let one = get(&base, &agent, "/api/alerts/p1").await;
    assert_eq!(one["alert"]["subject"], "48213-أ-9");
    let view = audit_actions(dir.path()).into_iter().find(|r| r.action == "alert.view").unwrap();
    assert_eq!(view.actor, "agent");
    assert!(view.detail.unwrap().contains("covert list op-falcon"));
    let me = get(&base, &agent, "/api/me").await;
    assert_eq!(me["lists"][0], "op-falcon");
    // The read behind the covert hit: a hit to an analyst given the list, a read like any other
    // to one who is not (searched by plate, or listed).
    let handler = login(&base, "handler").await;
    for path in ["/api/reads?plate=48213-أ-9&reason=case-7", "/api/reads?reason=case-7"] {
        let hit = |body: serde_json::Value| body["results"][0]["read"]["hit"].as_bool();
        assert_eq!(hit(get(&base, &handler, path).await), Some(true), "{path}");
        assert_eq!(hit(get(&base, &boss, path).await), Some(false), "{path}");
    }
    // A covert hit 40 days old: kept as a hit, while a read that hit nothing is kept 30 days.
    // To the analyst given the list it is there; to one who is not it is absent (a plain read
    // that old would be gone: showing it would tell that it hit), crop included.
    assert!(common::raise_at(dir.path(), &bus, "48213-أ-9", "road", Utc::now() - chrono::Duration::days(40)));
    for path in ["/api/reads?plate=48213-أ-9&reason=case-7", "/api/reads?reason=case-7"] {
        let sources = |body: serde_json::Value| -> Vec<String> {
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["read"]["source"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(sources(get(&base, &handler, path).await), ["gate", "road"], "{path}");
        assert_eq!(sources(get(&base, &boss, path).await), ["gate"], "{path}");
    }
    let old =
        get(&base, &handler, "/api/reads?plate=48213-أ-9&reason=case-7").await["results"][1]["read"]["id"].clone();
    for (token, status) in [(&handler, 200), (&boss, 404)] {
        let r = http.get(format!("{base}/api/reads/{old}/crop.jpg")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), status);
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_user_s_console_language_is_remembered() {
    let dir = data_dir(&[]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let op = login(&base, "op").await;
    assert!(get(&base, &op, "/api/me").await["language"].is_null());
    let (s, _) = post(&base, &op, "/api/me/language", serde_json::json!({ "language": "ar" })).await;
    assert_eq!(s, 200);
    let (s, body) = post(&base, &op, "/api/me/language", serde_json::json!({ "language": "de" })).await;
    assert_eq!(s, 400, "{body}");
    // A new session (another browser) finds it.
    let again = login(&base, "op").await;
    assert_eq!(get(&base, &again, "/api/me").await["language"], "ar");
    assert!(get(&base, &login(&base, "ana").await, "/api/me").await["language"].is_null(), "per user");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_analyst_enrols_a_confirmed_face_sighting_once_and_only_a_confirmed_one() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let person = {
        let mut store = Store::open(&dir.path().join("watchlist.db")).unwrap();
        let new = raqib_watchlist::NewPerson {
            name: "Wanted One".into(),
            category: "wanted_person".into(),
            ..Default::default()
        };
        store.add_person(&new, raqib_watchlist::Actor::new("boss", None)).unwrap().id
    };
    let sighting = raqib_events::records::FaceSighting {
        track: 1,
        person_id: person,
        name: "Wanted One".into(),
        category: "wanted_person".into(),
        priority: raqib_watchlist::Priority::High,
        similarity: 0.6,
        votes: 3,
        embeddings: 4,
        first_seen_s: None,
        last_seen_s: None,
        best_frame: 1,
        best_time_s: None,
        bbox: raqib_core::Bbox { x1: 0.0, y1: 0.0, x2: 60.0, y2: 60.0 },
        crop_jpeg: b"FACE crop".to_vec(),
        stranger_rate: Some(1e-5),
        scope: raqib_watchlist::Scope::default(),
    };
    let mut events = EventStore::open(&dir.path().join("events.db")).unwrap();
    events.record_face("gate", Utc::now(), &sighting).unwrap();
    drop(events);
    assert!(raise(dir.path(), &EventBus::new(), "12345-ب-6"));
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let (op, ana) = (login(&base, "op").await, login(&base, "ana").await);
    let enrol = serde_json::json!({ "comment": "confirmed on camera, recent face" });

    let (s, body) = post(&base, &ana, "/api/alerts/f1/enrol", enrol.clone()).await;
    assert_eq!(s, 409, "not confirmed yet: {body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("confirm"), "{body}");
    let (s, _) = post(&base, &op, "/api/alerts/f1/confirm", serde_json::json!({ "comment": "it is them" })).await;
    assert_eq!(s, 200);
    let (s, _) = post(&base, &op, "/api/alerts/f1/enrol", enrol.clone()).await;
    assert_eq!(s, 403, "an operator does not change the watchlist");
    let (s, _) = post(&base, &ana, "/api/alerts/f1/enrol", serde_json::json!({})).await;
    assert_eq!(s, 400, "a comment says why");
    let (s, _) = post(&base, &ana, "/api/alerts/p1/enrol", enrol.clone()).await;
    assert_eq!(s, 400, "a plate alert has no face");
    let (s, body) = post(&base, &ana, "/api/alerts/f1/enrol", enrol.clone()).await;
    assert_eq!((s, body["person_id"].as_i64()), (201, Some(person)), "{body}");
    let (s, _) = post(&base, &ana, "/api/alerts/f1/enrol", enrol).await;
    assert_eq!(s, 409, "the same sighting is enrolled once");

    let store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    let enrolled = store.person_embeddings(person).unwrap();
    assert_eq!(enrolled.len(), 1);
    assert_eq!(enrolled[0].source.as_deref(), Some("confirmed alert f1"));
    let audit = audit_actions(dir.path());
    let act = audit.iter().find(|r| r.action == "alert.enrol").unwrap();
    assert_eq!((act.actor.as_str(), act.target.as_deref()), ("ana", Some("f1")));
    assert!(audit.iter().any(|r| r.action == "person.enroll" && r.actor == "ana"));
    server.stop();
}
