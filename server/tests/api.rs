//! The REST API and the live stream over real HTTP on loopback: roles and their audit, reasons
//! for searches, malformed input, resuming the live stream after a disconnection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use std::time::Duration;

use common::{alerts_from, data_dir, login, raise, start};
use raqib_events::bus::EventBus;
use raqib_server::ServerConfig;
use raqib_watchlist::Store;

fn audit_actions(dir: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let store = Store::open(&dir.join("watchlist.db")).unwrap();
    store.audit_log(1000).unwrap().into_iter().map(|r| (r.actor, r.action, r.reason)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_role_is_refused_with_403_and_audited() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let op = login(&base, "op").await;

    // No credentials at all: 401.
    assert_eq!(http.get(format!("{base}/api/alerts")).send().await.unwrap().status(), 401);
    // An operator may list alerts but not search reads nor change the watchlist.
    assert_eq!(http.get(format!("{base}/api/alerts")).bearer_auth(&op).send().await.unwrap().status(), 200);
    let r =
        http.get(format!("{base}/api/reads?plate=12345-B-6&reason=case%2042")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("needs the analyst role"));
    let r = http
        .post(format!("{base}/api/watchlist/plates"))
        .bearer_auth(&op)
        .json(&serde_json::json!({ "plate": "777-أ-1", "category": "stolen_vehicle" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let audit = audit_actions(dir.path());
    let denied: Vec<_> = audit.iter().filter(|(actor, action, _)| actor == "op" && action == "access.denied").collect();
    assert_eq!(denied.len(), 2, "{audit:?}");
    assert!(audit.iter().any(|(a, action, _)| a == "op" && action == "alerts.list"), "reading alerts is audited");

    // A cookie session must send the CSRF header on changes.
    let browser = common::client();
    let r = browser
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "name": "boss", "password": common::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
    let add = |csrf: bool| {
        let mut req = browser
            .post(format!("{base}/api/watchlist/plates"))
            .json(&serde_json::json!({ "plate": "777-أ-1", "category": "stolen_vehicle", "case_ref": "C-9" }));
        if csrf {
            req = req.header("x-raqib-csrf", "1");
        }
        req.send()
    };
    assert_eq!(add(false).await.unwrap().status(), 403);
    assert_eq!(add(true).await.unwrap().status(), 201);
    // Wrong password: 401, audited as a failed login.
    let r = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "name": "boss", "password": "not the password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(audit_actions(dir.path()).iter().any(|(a, action, _)| a == "boss" && action == "login.failed"));
    // Logging out ends the session that was presented.
    assert_eq!(http.post(format!("{base}/api/logout")).bearer_auth(&op).send().await.unwrap().status(), 204);
    assert_eq!(http.get(format!("{base}/api/alerts")).bearer_auth(&op).send().await.unwrap().status(), 401);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn searches_need_a_reason_and_bad_input_gets_a_clear_4xx() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let config = ServerConfig { max_upload_bytes: 64 * 1024, ..ServerConfig::default() };
    let server = start(dir.path(), config, &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let ana = login(&base, "ana").await;
    let boss = login(&base, "boss").await;
    assert!(raise(dir.path(), &bus, "12345-ب-8"), "fuzzy watchlist match");

    let get = |path: String, token: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();
    let r = get("/api/reads?plate=12345-B-8".into(), &ana).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("reason"));
    let r = get("/api/reads?plate=12345-B-8&reason=CASE-1".into(), &ana).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["results"].as_array().unwrap().len(), 1);
    // The true plate finds the misread by fuzzy search, and by wildcard.
    let r: serde_json::Value =
        get("/api/reads?plate=12345-B-6&mode=fuzzy&reason=CASE-1".into(), &ana).await.unwrap().json().await.unwrap();
    assert_eq!(r["results"][0]["read"]["plate"], "12345-ب-8");
    let r: serde_json::Value =
        get("/api/reads?plate=1234*&reason=CASE-1".into(), &ana).await.unwrap().json().await.unwrap();
    assert_eq!(r["mode"], "wildcard");
    assert_eq!(r["results"].as_array().unwrap().len(), 1);
    assert_eq!(get("/api/reads?plate=1&mode=psychic&reason=CASE-1".into(), &ana).await.unwrap().status(), 400);
    // Without a plate: every read, paged and filtered (still with a reason).
    let r: serde_json::Value =
        get("/api/reads?reason=CASE-1&camera=gate&limit=5".into(), &ana).await.unwrap().json().await.unwrap();
    assert_eq!((r["mode"].as_str(), r["results"].as_array().unwrap().len()), (Some("list"), 1));
    let r: serde_json::Value =
        get("/api/reads?reason=CASE-1&camera=elsewhere".into(), &ana).await.unwrap().json().await.unwrap();
    assert!(r["results"].as_array().unwrap().is_empty());
    assert_eq!(get("/api/reads?camera=gate".into(), &ana).await.unwrap().status(), 400, "no reason");
    let searches: Vec<_> =
        audit_actions(dir.path()).into_iter().filter(|(_, action, _)| action == "search.reads").collect();
    assert_eq!(searches.len(), 3, "each search that ran is audited (refused ones are not searches)");
    assert_eq!(audit_actions(dir.path()).iter().filter(|(_, a, _)| a == "reads.list").count(), 2);
    assert!(searches.iter().all(|(a, _, reason)| a == "ana" && reason.as_deref() == Some("CASE-1")));

    // Alerts: ids, snapshots, acknowledging.
    let r: serde_json::Value = get("/api/alerts".into(), &ana).await.unwrap().json().await.unwrap();
    let id = r["alerts"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["alerts"][0]["match_kind"], "fuzzy");
    let crop = get(format!("/api/alerts/{id}/crop.jpg"), &ana).await.unwrap();
    assert_eq!(crop.headers()["content-type"], "image/jpeg");
    assert_eq!(get(format!("/api/alerts/{id}/frame.jpg"), &ana).await.unwrap().status(), 200);
    assert_eq!(get("/api/alerts/zz".into(), &ana).await.unwrap().status(), 400);
    assert_eq!(get("/api/alerts/p999".into(), &ana).await.unwrap().status(), 404);
    assert_eq!(get("/api/alerts?since=yesterday".into(), &ana).await.unwrap().status(), 400);

    // Uploads: no face, oversized, not multipart, missing fields; JSON that is not an entry.
    let form = |photo: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("reason", "CASE-1")
            .part("photo", reqwest::multipart::Part::bytes(photo).file_name("p.jpg"))
    };
    let post = |path: &str| http.post(format!("{base}{path}")).bearer_auth(&ana);
    let r = post("/api/search/face").multipart(form(b"not a photo".to_vec())).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("no face"));
    let r = post("/api/search/face").multipart(form(vec![7u8; 200 * 1024])).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let r = post("/api/search/face")
        .header("content-type", "multipart/form-data; boundary=zz")
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("malformed upload"));
    let r = post("/api/search/face").multipart(form(b"FACE".to_vec())).send().await.unwrap();
    assert_eq!(r.status(), 200, "an analyst may search by face");
    let r = http
        .post(format!("{base}/api/watchlist/persons"))
        .bearer_auth(&boss)
        .multipart(
            reqwest::multipart::Form::new()
                .text("name", "X")
                .part("photo", reqwest::multipart::Part::bytes(b"FACE".to_vec())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`category` is required"));
    let r = http
        .post(format!("{base}/api/watchlist/persons"))
        .bearer_auth(&boss)
        .multipart(
            reqwest::multipart::Form::new()
                .text("name", "Child A")
                .text("category", "missing_child")
                .text("priority", "critical")
                .part("photo", reqwest::multipart::Part::bytes(b"FACE".to_vec())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "enrolment by photo");
    let covert = |list: &'static str| {
        reqwest::multipart::Form::new()
            .text("name", "Suspect H")
            .text("category", "wanted_person")
            .text("covert_list", list)
            .part("photo", reqwest::multipart::Part::bytes(b"FACE".to_vec()))
    };
    let send = |f| http.post(format!("{base}/api/watchlist/persons")).bearer_auth(&boss).multipart(f).send();
    let r = send(covert("Not A List")).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("covert_list"), "the bad field is named");
    let r = send(covert("op-heron")).await.unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["person"]["scope"]["covert_list"], "op-heron", "a covert person: {body}");
    let r = http
        .post(format!("{base}/api/watchlist/plates"))
        .bearer_auth(&boss)
        .header("content-type", "application/json")
        .body("{\"plate\": 5")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let r = http
        .post(format!("{base}/api/watchlist/plates"))
        .bearer_auth(&boss)
        .json(&serde_json::json!({ "plate": "", "category": "stolen_vehicle" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http.delete(format!("{base}/api/watchlist/plates/1")).bearer_auth(&boss).send().await.unwrap();
    assert_eq!(r.status(), 400, "removal needs a reason");
    let r =
        http.delete(format!("{base}/api/watchlist/plates/1?reason=recovered")).bearer_auth(&boss).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Metrics and probes answer without a session and hold no personal data.
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("raqib_alerts_total{kind=\"plate\",category=\"stolen_vehicle\"} 1"), "{metrics}");
    assert!(!metrics.contains("12345"));
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    server.stop();
}

/// Reads SSE events (`id`, `data`) until `n` alerts arrived or `timeout`.
#[tokio::test(flavor = "multi_thread")]
async fn an_analyst_exports_an_alerts_evidence_package_with_a_reason_and_the_audit_log_keeps_its_hash() {
    use sha2::Digest;
    use std::io::Read;

    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let (op, ana) = (login(&base, "op").await, login(&base, "ana").await);
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    let get = |path: String, token: &str| http.get(format!("{base}{path}")).bearer_auth(token).send();
    let alerts: serde_json::Value = get("/api/alerts".into(), &ana).await.unwrap().json().await.unwrap();
    let id = alerts["alerts"][0]["id"].as_str().unwrap().to_owned();

    // Operators cannot export; analysts must say why; unknown alerts are 404.
    assert_eq!(get(format!("/api/alerts/{id}/evidence.zip?reason=CASE-9"), &op).await.unwrap().status(), 403);
    let r = get(format!("/api/alerts/{id}/evidence.zip"), &ana).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("reason"));
    assert_eq!(get("/api/alerts/p999/evidence.zip?reason=CASE-9".into(), &ana).await.unwrap().status(), 404);

    let r = get(format!("/api/alerts/{id}/evidence.zip?reason=CASE-9"), &ana).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("raqib-evidence-node-1-{id}.zip")));
    let sent_hash = r.headers()["x-evidence-sha256"].to_str().unwrap().to_owned();
    let zip = r.bytes().await.unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&zip)), sent_hash);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    let mut manifest = String::new();
    archive.by_name("manifest.json").unwrap().read_to_string(&mut manifest).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!((manifest["node"].as_str(), manifest["exported_by"].as_str()), (Some("node-1"), Some("ana")));
    assert_eq!(manifest["reason"], "CASE-9");
    for name in ["alert.json", "crop.jpg", "frame.jpg", "SHA256SUMS"] {
        assert!(archive.by_name(name).is_ok(), "{name} in the package");
    }

    // The export is in the audit log, with its reason and the package's hash.
    let store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    let export = store.audit_log(100).unwrap().into_iter().find(|r| r.action == "alert.export").unwrap();
    assert_eq!((export.actor.as_str(), export.target.as_deref()), ("ana", Some(id.as_str())));
    assert_eq!(export.reason.as_deref(), Some("CASE-9"));
    assert!(export.detail.unwrap().contains(&sent_hash));
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_analyst_deletes_an_alert_with_a_reason_audited_first() {
    let dir = data_dir(&[("12345-ب-6", "stolen_vehicle")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let (op, ana) = (login(&base, "op").await, login(&base, "ana").await);
    assert!(raise(dir.path(), &bus, "12345-ب-6"));
    assert!(common::raise_on(dir.path(), &bus, "12345-ب-6", "road"));
    let delete = |path: String, token: &str| http.delete(format!("{base}{path}")).bearer_auth(token).send();
    let count = || -> i64 {
        let db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        db.query_row("SELECT count(*) FROM hits", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(count(), 2);
    // Operators cannot delete; analysts must say why; unknown alerts are 404.
    assert_eq!(delete("/api/alerts/p1?reason=CASE-9".into(), &op).await.unwrap().status(), 403);
    let r = delete("/api/alerts/p1".into(), &ana).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("reason"));
    assert_eq!(delete("/api/alerts/p999?reason=CASE-9".into(), &ana).await.unwrap().status(), 404);
    assert_eq!(count(), 2);

    let r = delete("/api/alerts/p1?reason=CASE-9".into(), &ana).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["deleted"], "p1");
    assert_eq!(count(), 1);
    let r = http.get(format!("{base}/api/alerts/p1")).bearer_auth(&ana).send().await.unwrap();
    assert_eq!(r.status(), 404, "gone");
    let store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    let record = store.audit_log(100).unwrap().into_iter().find(|r| r.action == "alert.delete").unwrap();
    assert_eq!((record.actor.as_str(), record.target.as_deref()), ("ana", Some("p1")));
    assert_eq!(record.reason.as_deref(), Some("CASE-9"));
    assert!(!record.detail.unwrap_or_default().contains("12345"), "the audit log does not keep the deleted plate");

    // No audit record, no deletion.
    let db = rusqlite::Connection::open(dir.path().join("watchlist.db")).unwrap();
    db.execute_batch("CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'disk full'); END;")
        .unwrap();
    assert_eq!(delete("/api/alerts/p2?reason=CASE-9".into(), &ana).await.unwrap().status(), 503);
    assert_eq!(count(), 1, "nothing deleted without its audit record");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn live_stream_resumes_after_a_disconnection_without_missing_or_repeating() {
    let dir =
        data_dir(&[("11111-أ-1", "stolen_vehicle"), ("22222-ب-2", "stolen_vehicle"), ("33333-د-3", "wanted_owner")]);
    let bus = EventBus::new();
    let server = start(dir.path(), ServerConfig::default(), &bus);
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();
    let op = login(&base, "op").await;
    let stream = || http.get(format!("{base}/api/alerts/stream")).bearer_auth(&op).send();

    let first = stream().await.unwrap();
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    let raised = std::time::Instant::now();
    assert!(raise(dir.path(), &bus, "11111-أ-1"));
    let got = alerts_from(first, 1, Duration::from_secs(5)).await;
    assert!(raised.elapsed() < Duration::from_secs(1), "live within a second: {:?}", raised.elapsed());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["subject"], "11111-أ-1");
    let token = got[0].0.clone();
    // Disconnected (the response above is dropped); two hits and one non-hit meanwhile.
    assert!(raise(dir.path(), &bus, "22222-ب-2"));
    assert!(!raise(dir.path(), &bus, "44444-ه-4"));
    assert!(raise(dir.path(), &bus, "33333-د-3"));
    let resumed = http
        .get(format!("{base}/api/alerts/stream"))
        .bearer_auth(&op)
        .header("last-event-id", &token)
        .send()
        .await
        .unwrap();
    let got = alerts_from(resumed, 3, Duration::from_secs(3)).await;
    let subjects: Vec<_> = got.iter().map(|(_, a)| a["subject"].as_str().unwrap().to_owned()).collect();
    assert_eq!(subjects, ["22222-ب-2", "33333-د-3"], "exactly the alerts missed, in order");
    let r = http.get(format!("{base}/api/alerts/stream?after=bogus")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(r.status(), 400);
    server.stop();
}
