//! Watchlist imports: plate entries as CSV or JSON (`raqib watchlist import`, the console's
//! import), person files (`raqib watchlist import-persons`). Invariants: nothing panics, and an
//! atomic import that is rejected changes nothing (the entries before it are all still there, no
//! more and no fewer).

use std::cell::RefCell;

use raqib_watchlist::{Actor, Format, ImportMode, Store};

thread_local! {
    /// One in-memory store per thread, kept across inputs (as a node's store is across imports).
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

fn with_store(f: impl FnOnce(&mut Store)) {
    STORE.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(Store::open_in_memory().unwrap_or_else(|e| panic!("an in-memory watchlist: {e}")));
        }
        if let Some(store) = s.as_mut() {
            f(store);
        }
    });
}

fn entry_count(store: &Store) -> usize {
    store.plates().map(|p| p.len()).unwrap_or_else(|e| panic!("listing the watchlist: {e}"))
}

/// The target: the first byte picks CSV or JSON and atomic or skip-invalid; the rest is the file.
pub fn plate_import(data: &[u8]) {
    let Some((mode, file)) = data.split_first() else { return };
    let format = if mode & 1 == 0 { Format::Csv } else { Format::Json };
    let atomic = mode & 2 == 0;
    with_store(|store| {
        let before = entry_count(store);
        let result = store.import_plates(
            file,
            format,
            if atomic { ImportMode::Atomic } else { ImportMode::SkipInvalid },
            "fuzz",
            Actor::new("fuzz", Some("fuzzing")),
        );
        if result.is_err() && atomic {
            assert_eq!(entry_count(store), before, "a rejected atomic import changed the watchlist");
        }
    });
}

/// The target: the bytes are a persons file (JSON); photos are not read (a fixed 4-value
/// embedding stands for each), then the rows are imported atomically with the node's model size.
pub fn person_import(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let file = dir.path().join("persons.json");
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let mut embed =
        |_: &std::path::Path| raqib_core::Embedding::new(vec![0.5, 0.5, 0.5, 0.5]).map_err(|e| e.to_string());
    let Ok(rows) = raqib_watchlist::persons_file::read_person_rows(&file, "fuzz-model", &mut embed) else { return };
    with_store(|store| {
        let before = store.persons().map(|p| p.len()).unwrap_or_default();
        let known = [("fuzz-model", 4)];
        if store.import_persons(&rows.rows, "fuzz", Actor::new("fuzz", Some("fuzzing")), &known).is_err() {
            let after = store.persons().map(|p| p.len()).unwrap_or_default();
            assert_eq!(after, before, "a rejected person import changed the watchlist");
        }
    });
}
