//! End-to-end behaviour of the watchlist on a real SQLite file: hot reload across connections,
//! expiry, spelling equivalence, and readers that keep working while an import is written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::time::{Duration, Instant};

use chrono::Utc;
use raqib_core::PlateText;
use raqib_watchlist::{Actor, Format, ImportMode, LiveWatchlist, NewPlateEntry, Snapshot, Store};

fn entry(plate: &str, category: &str) -> NewPlateEntry {
    NewPlateEntry { plate: plate.into(), category: category.into(), ..Default::default() }
}

fn plate(s: &str) -> PlateText {
    PlateText::parse(s, None).unwrap()
}

const ACTOR: Actor = Actor { name: "test", reason: Some("case T-1") };

#[test]
fn change_by_another_connection_reaches_the_live_watchlist_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watchlist.db");
    let live = LiveWatchlist::open(&db, "face-embed-512", Duration::from_millis(100)).unwrap();
    assert!(live.snapshot().match_exact(&plate("12345-ب-6"), Utc::now()).is_empty());

    let mut writer = Store::open(&db).unwrap(); // as the CLI or the API would
    writer.add_plate(&entry("12345-B-6", "stolen_vehicle"), ACTOR).unwrap();
    let start = Instant::now();
    while live.snapshot().match_exact(&plate("12345 | ب | 6"), Utc::now()).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(1), "not reloaded within 1 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Removal propagates too.
    let id = writer.plates().unwrap()[0].id;
    writer.remove_plate(id, ACTOR).unwrap();
    let start = Instant::now();
    while !live.snapshot().match_exact(&plate("12345-ب-6"), Utc::now()).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(1), "removal not seen within 1 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn expired_and_future_entries_never_match() {
    let mut s = Store::open_in_memory().unwrap();
    let mut expired = entry("AB-123-CD", "stolen_vehicle");
    expired.expires_at = Some("2020-01-01".into());
    let mut future = entry("AB-124-CD", "stolen_vehicle");
    future.valid_from = Some("2999-01-01".into());
    let mut current = entry("AB-125-CD", "stolen_vehicle");
    current.expires_at = Some("2999-01-01".into());
    for e in [&expired, &future, &current] {
        s.add_plate(e, ACTOR).unwrap();
    }
    let snap = Snapshot::load(&s, "m").unwrap();
    let now = Utc::now();
    assert!(snap.match_exact(&plate("AB-123-CD"), now).is_empty());
    assert!(snap.match_exact(&plate("AB-124-CD"), now).is_empty());
    assert_eq!(snap.match_exact(&plate("AB-125-CD"), now).len(), 1);
    // Fuzzy matching must not resurrect them either: AB-123-CD is 1 edit from AB-125-CD's read.
    let fuzzy = snap.match_plate(&raqib_watchlist::FuzzyQuery::from_plate(&plate("AB-126-CD")), 2.0, now);
    assert_eq!(fuzzy.iter().map(|m| m.entry.plate.canonical()).collect::<Vec<_>>(), ["AB-125-CD"]);
    // Analysts may still find expired entries by pattern when they ask to.
    let pattern = raqib_watchlist::Pattern::parse("AB-12?-CD").unwrap();
    assert_eq!(snap.search_pattern(&pattern, now, false).len(), 1);
    assert_eq!(snap.search_pattern(&pattern, now, true).len(), 3);
}

#[test]
fn priority_orders_matches_and_sets_the_alert_level() {
    let mut s = Store::open_in_memory().unwrap();
    s.add_plate(&entry("12345-ب-6", "bolo"), ACTOR).unwrap();
    s.add_plate(&entry("12345-ب-6", "missing_child"), ACTOR).unwrap();
    let snap = Snapshot::load(&s, "m").unwrap();
    let m = snap.match_exact(&plate("12345-B-6"), Utc::now());
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].entry.category, "missing_child");
    assert_eq!(Snapshot::alert_level(&m), Some(raqib_watchlist::Priority::Critical));
}

#[test]
fn readers_see_all_or_nothing_while_an_import_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watchlist.db");
    let rows = 20_000;
    let mut csv = String::from("plate,category\n");
    for i in 0..rows {
        csv.push_str(&format!("{}-ب-{},stolen_vehicle\n", 10_000 + i, 1 + i % 89));
    }
    let mut writer = Store::open(&db).unwrap();
    let reader = Store::open(&db).unwrap();
    let importer = std::thread::spawn(move || {
        writer.import_plates(csv.as_bytes(), Format::Csv, ImportMode::Atomic, "bulk.csv", ACTOR).unwrap()
    });
    let mut seen = std::collections::BTreeSet::new();
    while !importer.is_finished() {
        let n = reader.plates().expect("reader is never blocked").len();
        seen.insert(n);
    }
    let report = importer.join().unwrap();
    assert_eq!(report.added, rows);
    seen.insert(reader.plates().unwrap().len());
    assert!(seen.iter().all(|n| *n == 0 || *n == rows), "partial import visible: {seen:?}");
    assert!(seen.contains(&rows));
}

#[test]
fn face_match_skips_inactive_persons_and_keeps_k_active_ones() {
    use raqib_core::Embedding;
    use raqib_watchlist::NewPerson;
    let mut s = Store::open_in_memory().unwrap();
    let person = |name: &str, expires: Option<&str>| NewPerson {
        name: name.into(),
        category: "wanted_person".into(),
        expires_at: expires.map(str::to_owned),
        ..Default::default()
    };
    let expired = s.add_person(&person("expired", Some("2020-01-01")), ACTOR).unwrap();
    let active = s.add_person(&person("active", None), ACTOR).unwrap();
    // The expired person is the closer match; k = 1 must still yield the active one.
    s.add_embedding(expired.id, "m", &Embedding::new(vec![1.0, 0.0]).unwrap(), None, ACTOR).unwrap();
    s.add_embedding(active.id, "m", &Embedding::new(vec![0.9, 0.3]).unwrap(), None, ACTOR).unwrap();
    let snap = Snapshot::load(&s, "m").unwrap();
    let probe = Embedding::new(vec![1.0, 0.05]).unwrap();
    let hits = snap.match_face(&probe, 1, 0.5, Utc::now()).unwrap();
    assert_eq!(hits.iter().map(|h| h.person.name.as_str()).collect::<Vec<_>>(), ["active"]);
}
