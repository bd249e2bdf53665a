//! Fuzzy search over stored plate reads: "reads that could be this plate", using the same
//! OCR-confusion-aware weighted edit distance as watchlist matching (`8`/`B`, `0`/`O`, `ب`/`B`
//! cost less than unrelated characters), so an analyst finds a sighting the OCR misread.

use raqib_core::PlateText;
use raqib_watchlist::FuzzyQuery;
use raqib_watchlist::plate_index::PlateIndex;
use rusqlite::params;

use crate::error::{Error, Result};
use crate::events::{EventStore, StoredRead, db_err};

/// Keys considered by a fuzzy search: the most recent distinct ones (a bound on memory and
/// time; retention keeps the table small in practice).
pub const FUZZY_KEY_LIMIT: usize = 200_000;

impl EventStore {
    /// Reads whose key is within `max_cost` weighted edits of `plate`, closest first, then
    /// newest; each with its distance.
    pub fn search_fuzzy(&self, plate: &str, max_cost: f32, limit: usize) -> Result<Vec<(StoredRead, f32)>> {
        let text = PlateText::parse(plate, None).map_err(|e| Error::Search(e.to_string()))?;
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare("SELECT key FROM plate_reads GROUP BY key ORDER BY max(seen_at) DESC LIMIT ?1")
            .map_err(&e)?;
        let keys: Vec<String> = stmt
            .query_map(params![FUZZY_KEY_LIMIT as i64], |r| r.get(0))
            .map_err(&e)?
            .collect::<std::result::Result<_, _>>()
            .map_err(&e)?;
        let index = PlateIndex::build(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)));
        let mut out = Vec::new();
        for (slot, cost) in index.fuzzy(&FuzzyQuery::from_plate(&text), max_cost) {
            let key = &keys[slot as usize];
            for read in self.reads_with_key(key, limit)? {
                out.push((read, cost));
            }
            if out.len() >= limit {
                break;
            }
        }
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.seen_at.cmp(&a.0.seen_at)));
        out.truncate(limit);
        Ok(out)
    }

    pub(crate) fn reads_with_key(&self, key: &str, limit: usize) -> Result<Vec<StoredRead>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, source, track, seen_at, media_time, plate, latin, key, confidence, hit
                 FROM plate_reads WHERE key = ?1 ORDER BY seen_at DESC, id DESC LIMIT ?2",
            )
            .map_err(&e)?;
        let rows = stmt.query_map(params![key, limit as i64], crate::events::stored_read).map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests_support::plate_event;
    use chrono::Utc;

    #[test]
    fn a_misread_is_found_by_the_true_plate() {
        let mut store = EventStore::open_in_memory().unwrap();
        store.record("gate", Utc::now(), &plate_event("12345-ب-8"), &[]).unwrap(); // 6 read as 8
        store.record("gate", Utc::now(), &plate_event("99999-د-1"), &[]).unwrap();
        let found = store.search_fuzzy("12345-B-6", 1.0, 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.plate, "12345-ب-8");
        assert!(found[0].1 > 0.0 && found[0].1 <= 1.0);
        assert!(store.search_fuzzy("12345-B-6", 0.0, 10).unwrap().is_empty());
        assert!(store.search_fuzzy("", 1.0, 10).is_err());
    }
}
