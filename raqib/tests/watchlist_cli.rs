//! `raqib watchlist` end to end: the real binary on a real SQLite file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::Path;
use std::process::{Command, Output};

fn raqib(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_raqib"))
        .current_dir(dir)
        .env("RAQIB_DATA_DIR", dir)
        .env_remove("RAQIB_CONFIG")
        .env("USER", "officer-7")
        .args(args)
        .output()
        .expect("raqib runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn add_check_import_search_audit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add = raqib(
        d,
        &["watchlist", "add", "--plate", "12345 B 6", "--category", "stolen_vehicle", "--reason", "theft C-1"],
    );
    assert!(add.status.success(), "{}", text(&add));
    assert!(text(&add).contains("12345-ب-6"), "{}", text(&add));

    // The Arabic spelling is an exact hit; a dotted-letter confusion is a fuzzy hit with its reason.
    let exact = raqib(d, &["watchlist", "check", "12345 | ب | 6"]);
    assert!(text(&exact).contains("Exact") && text(&exact).contains("alert level high"), "{}", text(&exact));
    let fuzzy = raqib(d, &["watchlist", "check", "12345-ت-6", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&fuzzy.stdout).unwrap();
    assert_eq!(v[0]["kind"], "fuzzy");
    assert_eq!(v[0]["edits"][0]["why"], "ocr_confusion");

    // A malformed import is refused whole and changes nothing.
    std::fs::write(d.join("bad.csv"), "plate,category\nAB-123-CD,bolo\n,bolo\n").unwrap();
    let bad = raqib(d, &["watchlist", "import", "bad.csv"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("row 3: plate:"), "{}", text(&bad));
    let list = raqib(d, &["watchlist", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["plates"].as_array().unwrap().len(), 1);

    // Wildcard searches need a reason; with one they work and are audited.
    let refused = raqib(d, &["watchlist", "search", "12?45-B-*"]);
    assert!(!refused.status.success() && text(&refused).contains("reason"), "{}", text(&refused));
    let ok = raqib(d, &["watchlist", "search", "12?45-B-*", "--reason", "witness W-3"]);
    assert!(text(&ok).contains("1 entry match"), "{}", text(&ok));
    let audit = raqib(d, &["watchlist", "audit"]);
    let log = text(&audit);
    assert!(log.contains("search.wildcard") && log.contains("witness W-3") && log.contains("officer-7"), "{log}");
    assert!(log.contains("plate.add") && log.contains("theft C-1"), "{log}");
}

#[test]
fn persons_import_is_all_or_nothing_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("bad.json"),
        r#"[{"name": "A", "category": "wanted_person", "embeddings": [{"model_id": "face-embed-512", "vector": [1, 0]}]},
            {"name": "B", "category": "nope"}, {"nme": "C", "category": "bolo"}]"#,
    )
    .unwrap();
    let bad = raqib(d, &["watchlist", "import-persons", "bad.json"]);
    assert!(!bad.status.success());
    let t = text(&bad);
    assert!(t.contains("row 2: category") && t.contains("row 3: missing field `name`"), "{t}");
    // A 2-value "embedding" for a 512-value model is refused by row, not taken as the gallery's size.
    assert!(t.contains("row 1: embeddings[0]: 2 values") && t.contains("512-value"), "{t}");
    let list = raqib(d, &["watchlist", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(v["persons"].as_array().unwrap().is_empty(), "nothing imported");
    assert!(text(&raqib(d, &["watchlist", "audit"])).contains("watchlist.view"), "listing is audited");

    let mut vector = vec![0.0f32; 512];
    (vector[0], vector[1]) = (0.6, 0.8);
    let good = serde_json::json!([{"name": "A", "category": "missing_child",
        "embeddings": [{"model_id": "face-embed-512", "vector": vector}]}]);
    std::fs::write(d.join("good.json"), good.to_string()).unwrap();
    let good = raqib(d, &["watchlist", "import-persons", "good.json"]);
    assert!(good.status.success(), "{}", text(&good));
    let refused = raqib(d, &["watchlist", "export-persons", "out.json"]);
    assert!(!refused.status.success() && text(&refused).contains("reason"), "{}", text(&refused));
    let export = raqib(d, &["watchlist", "--reason", "CASE-3 handover", "export-persons", "out.json"]);
    assert!(export.status.success(), "{}", text(&export));
    let out: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(out[0]["priority"], "critical");
    let back = &out[0]["embeddings"][0]["vector"];
    assert_eq!(back.as_array().map(Vec::len), Some(512));
    let near = |k: usize, want: f64| back[k].as_f64().is_some_and(|v| (v - want).abs() < 1e-6);
    assert!(near(0, 0.6) && near(1, 0.8) && near(2, 0.0), "{back}");
    assert!(text(&raqib(d, &["watchlist", "audit"])).contains("export.persons"));
}

#[test]
fn removal_export_and_search_without_a_valid_reason_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add = raqib(d, &["watchlist", "add", "--plate", "AB-123-CD", "--category", "bolo", "--reason", "case 12"]);
    assert!(add.status.success(), "{}", text(&add));
    let list = raqib(d, &["watchlist", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = v["plates"][0]["id"].as_i64().unwrap().to_string();
    // No reason, too short, or with a new line (which would forge an audit line): refused.
    for reason in [None, Some("ab"), Some("case\nforged")] {
        let with = |args: &[&str]| {
            let mut a: Vec<&str> = args.to_vec();
            if let Some(r) = reason {
                a.extend(["--reason", r]);
            }
            raqib(d, &a)
        };
        for args in [
            &["watchlist", "remove", id.as_str()][..],
            &["watchlist", "export", "out.csv"][..],
            &["watchlist", "search", "AB-*"][..],
            &["search", "AB-123-CD"][..],
            &["evidence", "p1"][..],
        ] {
            let o = with(args);
            assert!(!o.status.success(), "{args:?} with {reason:?} was accepted: {}", text(&o));
            assert!(text(&o).contains("reason"), "{args:?}: {}", text(&o));
        }
    }
    assert!(!d.join("out.csv").exists(), "nothing exported");
    let list = raqib(d, &["watchlist", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["plates"].as_array().unwrap().len(), 1, "nothing removed");
    let removed = raqib(d, &["watchlist", "remove", id.as_str(), "--reason", "entry withdrawn"]);
    assert!(removed.status.success(), "{}", text(&removed));
}

/// A read stored by the node before its plate was listed: `raqib watchlist add` raises a retro
/// alert for it (audited), and `raqib report hits` counts it per camera, in JSON and CSV.
#[test]
fn adding_an_entry_raises_retro_hits_and_the_hit_report_counts_them_per_camera() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    {
        let mut events = raqib_events::EventStore::open(&d.join("events.db")).unwrap();
        let event =
            raqib_events::records::PlateEvent::bare(raqib_core::PlateText::parse("48213-أ-9", None).unwrap(), 1, 4);
        events.record("road", chrono::Utc::now() - chrono::Duration::days(2), &event, &[]).unwrap();
    }
    let add = raqib(
        d,
        &["watchlist", "add", "--plate", "48213-A-9", "--category", "stolen_vehicle", "--reason", "theft C-2"],
    );
    assert!(add.status.success(), "{}", text(&add));
    assert!(text(&add).contains("retro-hits: 1 past read(s) match: p1"), "{}", text(&add));
    let audit = raqib(d, &["audit", "list", "--json"]);
    assert!(text(&audit).contains("watchlist.retro_check"), "{}", text(&audit));

    let report = raqib(d, &["report", "hits", "--since", "1d", "--format", "json"]);
    assert!(report.status.success(), "{}", text(&report));
    let v: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(v["cameras"][0]["camera"], "road");
    assert_eq!((v["cameras"][0]["alerts"].as_u64(), v["cameras"][0]["open"].as_u64()), (Some(1), Some(1)));
    let csv = raqib(d, &["report", "hits"]);
    let out = String::from_utf8_lossy(&csv.stdout);
    assert!(
        out.starts_with("camera,alerts,confirmed,rejected,open,overdue,false_hit_share,rejected_misread,"),
        "{out}"
    );
    assert!(out.contains("\nroad,1,0,0,1,0,0.000,0,"), "{out}");
    let bad = raqib(d, &["report", "hits", "--since", "last week"]);
    assert!(!bad.status.success() && text(&bad).contains("--since"), "{}", text(&bad));
}
