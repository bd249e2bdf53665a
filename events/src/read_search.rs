//! Fuzzy search over stored plate reads: "reads that could be this plate", using the same
//! OCR-confusion-aware weighted edit distance as watchlist matching (`8`/`B`, `0`/`O`, `ب`/`B`
//! cost less than unrelated characters), so an analyst finds a sighting the OCR misread.

use raqib_core::{PlateText, Reason};
use raqib_watchlist::FuzzyQuery;
use raqib_watchlist::plate_index::PlateIndex;
use rusqlite::params;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{EventStore, StoredRead, db_err};

/// Keys considered by a fuzzy search: the most recent distinct ones (a bound on memory and
/// time; retention keeps the table small in practice).
pub const FUZZY_KEY_LIMIT: usize = 200_000;

/// Wildcard searches matching at most this many distinct keys read them from the key index;
/// broader ones scan the reads newest first.
const INDEXED_WILDCARD_KEYS: usize = 256;

/// Keys stored since the index was built that are compared one by one; beyond this many the
/// index is rebuilt.
const RECENT_LIMIT: usize = 2_000;

/// The longest an index is used before it is rebuilt (it sheds purged keys, and catches rows
/// another process wrote under re-used row ids).
const INDEX_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// The fuzzy search's index of stored keys, kept between searches: building it over 200,000
/// keys takes about half a second, so it is built once, then topped up with the keys of reads
/// stored since (one query on the row id), which are compared one by one until there are
/// [`RECENT_LIMIT`] of them. A purge or deletion through this store drops it; keys purged by
/// another process only cost a lookup that finds no read.
pub(crate) struct KeyCache {
    keys: Vec<String>,
    index: PlateIndex,
    known: std::collections::HashSet<String>,
    recent: Vec<String>,
    last_id: i64,
    built: std::time::Instant,
}

/// How a stored-read search matches the plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// Every spelling of this plate (its key).
    Exact,
    /// `?` one character, `*` any run.
    Wildcard,
    /// Within the fuzzy distance, OCR look-alikes costing less (`analysis.plate_max_distance`).
    Fuzzy,
}

impl SearchMode {
    /// `mode` as asked (`exact`, `wildcard`, `fuzzy`), or from the plate when none is: wildcard
    /// when it holds `*` or `?`, else exact. Exact with a wildcard in the plate is refused.
    pub fn parse(mode: Option<&str>, plate: &str) -> Result<Self> {
        let wild = plate.contains(['*', '?']);
        match mode {
            None if wild => Ok(SearchMode::Wildcard),
            None => Ok(SearchMode::Exact),
            Some("exact") if wild => {
                Err(Error::Search("mode exact: the plate may not hold wildcards (use mode=wildcard)".into()))
            }
            Some("exact") => Ok(SearchMode::Exact),
            Some("wildcard") => Ok(SearchMode::Wildcard),
            Some("fuzzy") => Ok(SearchMode::Fuzzy),
            Some(m) => Err(Error::Search(format!("mode: `{m}` is not exact, fuzzy or wildcard"))),
        }
    }

    /// The name, as `parse` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Exact => "exact",
            SearchMode::Wildcard => "wildcard",
            SearchMode::Fuzzy => "fuzzy",
        }
    }
}

/// One read found, with its weighted edit distance from the plate asked (0 unless fuzzy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    /// The stored read.
    pub read: StoredRead,
    /// Weighted edit distance.
    pub distance: f32,
}

/// Who searches, why, and under which audit action (`search.reads` from the console and API,
/// `search.sightings` from `raqib search`: the names existing audit queries use).
#[derive(Debug, Clone, Copy)]
pub struct SearchAudit<'a> {
    /// The user or integration.
    pub actor: &'a str,
    /// The case reference, under the one rule of [`Reason`].
    pub reason: &'a Reason,
    /// The audit action.
    pub action: &'a str,
}

/// The audited stored-read search of the CLI and the API alike: the search, then its audit
/// record (the plate, mode and result count, with the reason). An audit record that cannot be
/// written fails the search: nothing is shown that the log does not know about.
pub fn search_audited(
    events: &EventStore,
    audit: &raqib_watchlist::Store,
    who: SearchAudit<'_>,
    plate: &str,
    mode: SearchMode,
    max_distance: f32,
    limit: usize,
) -> Result<Vec<Found>> {
    let found: Vec<Found> = match mode {
        SearchMode::Exact | SearchMode::Wildcard => {
            events.search(plate, limit)?.into_iter().map(|read| Found { read, distance: 0.0 }).collect()
        }
        SearchMode::Fuzzy => events
            .search_fuzzy(plate, max_distance, limit)?
            .into_iter()
            .map(|(read, distance)| Found { read, distance })
            .collect(),
    };
    let detail = format!("mode {}, {} result(s)", mode.as_str(), found.len());
    let actor = raqib_watchlist::Actor::new(who.actor, Some(who.reason.as_str()));
    audit.audit(actor, who.action, Some(plate), Some(&detail))?;
    Ok(found)
}

/// Filters for listing reads (every field optional).
#[derive(Debug, Clone, Default)]
pub struct ReadFilter {
    /// Seen at or after.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Seen before.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only this camera (or file).
    pub camera: Option<String>,
    /// Page size (capped at 1000).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

impl EventStore {
    /// Reads stored after row `after_id`, oldest first, at most `limit` (an outbox: the national
    /// hub's publisher follows it with a cursor).
    pub fn reads_after(&self, after_id: i64, limit: usize) -> Result<Vec<StoredRead>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, source, track, seen_at, media_time, plate, latin, key, confidence, hit
                 FROM plate_reads WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(&e)?;
        let rows = stmt.query_map(params![after_id, limit as i64], crate::store::stored_read).map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }

    /// Reads newest first, filtered by time and camera, paged.
    pub fn reads(&self, f: &ReadFilter) -> Result<Vec<StoredRead>> {
        let e = db_err(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, source, track, seen_at, media_time, plate, latin, key, confidence, hit FROM plate_reads
                 WHERE (?1 IS NULL OR seen_at >= ?1) AND (?2 IS NULL OR seen_at < ?2) AND (?3 IS NULL OR source = ?3)
                 ORDER BY seen_at DESC, id DESC LIMIT ?4 OFFSET ?5",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map(
                params![
                    f.since.map(|t| t.to_rfc3339()),
                    f.until.map(|t| t.to_rfc3339()),
                    f.camera,
                    f.limit.clamp(1, 1000) as i64,
                    f.offset as i64
                ],
                crate::store::stored_read,
            )
            .map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }

    /// Reads whose key is within `max_cost` weighted edits of `plate`, closest first, then
    /// newest; each with its distance.
    pub fn search_fuzzy(&self, plate: &str, max_cost: f32, limit: usize) -> Result<Vec<(StoredRead, f32)>> {
        let text = PlateText::parse(plate, None).map_err(|e| Error::Search(e.to_string()))?;
        self.search_fuzzy_query(&FuzzyQuery::from_plate(&text), max_cost, limit)
    }

    /// [`EventStore::search_fuzzy`] with the query already made.
    pub(crate) fn search_fuzzy_query(
        &self,
        query: &FuzzyQuery,
        max_cost: f32,
        limit: usize,
    ) -> Result<Vec<(StoredRead, f32)>> {
        let query = query.clone();
        let candidates = {
            let mut cache = self.fuzzy_keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let cache = self.fresh_key_cache(&mut cache)?;
            let mut found: Vec<(String, f32)> = cache
                .index
                .fuzzy(&query, max_cost)
                .into_iter()
                .map(|(slot, cost)| (cache.keys[slot as usize].clone(), cost))
                .collect();
            for key in &cache.recent {
                let (cost, _) = raqib_watchlist::plate_index::explain(&query, key);
                if cost <= max_cost {
                    found.push((key.clone(), cost));
                }
            }
            found.sort_by(|a, b| a.1.total_cmp(&b.1));
            found
        };
        let mut out = Vec::new();
        for (key, cost) in candidates {
            for read in self.reads_with_key(&key, limit)? {
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

    /// The key cache, built or topped up as needed (see [`KeyCache`]).
    fn fresh_key_cache<'c>(&self, cache: &'c mut Option<KeyCache>) -> Result<&'c KeyCache> {
        let e = db_err(&self.path);
        let max_id: i64 =
            self.conn.query_row("SELECT coalesce(max(id), 0) FROM plate_reads", [], |r| r.get(0)).map_err(&e)?;
        let stale = cache
            .as_ref()
            .is_none_or(|c| max_id < c.last_id || c.recent.len() > RECENT_LIMIT || c.built.elapsed() > INDEX_MAX_AGE);
        if stale {
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
            let known = keys.iter().cloned().collect();
            let built = std::time::Instant::now();
            *cache = Some(KeyCache { keys, index, known, recent: Vec::new(), last_id: max_id, built });
        }
        let Some(c) = cache.as_mut() else { unreachable!("set above") };
        if max_id > c.last_id {
            let mut stmt =
                self.conn.prepare_cached("SELECT DISTINCT key FROM plate_reads WHERE id > ?1").map_err(&e)?;
            let new: Vec<String> = stmt
                .query_map([c.last_id], |r| r.get(0))
                .map_err(&e)?
                .collect::<std::result::Result<_, _>>()
                .map_err(&e)?;
            for key in new {
                if c.known.insert(key.clone()) {
                    c.recent.push(key);
                }
            }
            c.last_id = max_id;
        }
        Ok(c)
    }

    /// The stored keys matching `pattern`, from the key index, when they are few (at most
    /// [`INDEXED_WILDCARD_KEYS`]) and the index holds every stored key; `None` otherwise.
    pub(crate) fn keys_matching(&self, pattern: &raqib_watchlist::Pattern) -> Result<Option<Vec<String>>> {
        let mut cache = self.fuzzy_keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cache = self.fresh_key_cache(&mut cache)?;
        if cache.keys.len() >= FUZZY_KEY_LIMIT {
            return Ok(None);
        }
        let mut keys: Vec<String> =
            cache.index.wildcard(pattern).into_iter().map(|slot| cache.keys[slot as usize].clone()).collect();
        keys.extend(cache.recent.iter().filter(|k| pattern.matches(k)).cloned());
        Ok((keys.len() <= INDEXED_WILDCARD_KEYS).then_some(keys))
    }

    /// Drops the fuzzy search's key cache (after rows were deleted through this store).
    pub(crate) fn forget_keys(&self) {
        *self.fuzzy_keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
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
        let rows = stmt.query_map(params![key, limit as i64], crate::store::stored_read).map_err(&e)?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests_support::plate_event;
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
        let all = store.reads(&ReadFilter { limit: 10, ..Default::default() }).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].plate, "99999-د-1", "newest first");
        assert_eq!(
            store.reads(&ReadFilter { limit: 1, offset: 1, ..Default::default() }).unwrap()[0].plate,
            "12345-ب-8"
        );
        assert!(
            store
                .reads(&ReadFilter { camera: Some("other".into()), limit: 10, ..Default::default() })
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_fuzzy_index_is_kept_and_topped_up_with_reads_stored_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let mut writer = EventStore::open(&path).unwrap();
        let reader = EventStore::open(&path).unwrap(); // the server's connection
        writer.record("gate", Utc::now(), &plate_event("12345-ب-8"), &[]).unwrap();
        assert_eq!(reader.search_fuzzy("12345-B-6", 1.0, 10).unwrap().len(), 1);
        let built = reader.fuzzy_keys.lock().unwrap().as_ref().unwrap().built;
        // Written by another connection after the index was built: found without a rebuild.
        writer.record("gate", Utc::now(), &plate_event("12345-ب-0"), &[]).unwrap();
        writer.record("gate", Utc::now(), &plate_event("12345-ب-8"), &[]).unwrap();
        let found = reader.search_fuzzy("12345-B-6", 1.0, 10).unwrap();
        assert_eq!(found.len(), 3, "{found:?}");
        let cache = reader.fuzzy_keys.lock().unwrap();
        let c = cache.as_ref().unwrap();
        assert_eq!((c.built, c.recent.len(), c.keys.len()), (built, 1, 1), "one new key, compared one by one");
        drop(cache);
        // Wildcards use the same index, newest first across keys.
        let wild: Vec<String> = reader.search("12345*", 10).unwrap().into_iter().map(|r| r.plate).collect();
        assert_eq!(wild, ["12345-ب-8", "12345-ب-0", "12345-ب-8"]);
        // Deleting through a store drops its index.
        writer.search_fuzzy("12345-B-6", 1.0, 10).unwrap();
        writer.purge(crate::retention::Cutoffs { reads: Some(Utc::now()), ..Default::default() }).unwrap();
        assert!(writer.fuzzy_keys.lock().unwrap().is_none());
        assert!(writer.search_fuzzy("12345-B-6", 1.0, 10).unwrap().is_empty());
        assert!(reader.search_fuzzy("12345-B-6", 1.0, 10).unwrap().is_empty(), "stale keys find no read");
    }

    #[test]
    fn the_audited_search_writes_its_record() {
        let mut store = EventStore::open_in_memory().unwrap();
        store.record("gate", Utc::now(), &plate_event("12345-ب-8"), &[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let audit = raqib_watchlist::Store::open(&dir.path().join("w.db")).unwrap();
        let reason = Reason::required(Some("CASE-9")).unwrap();
        let who = SearchAudit { actor: "omar", reason: &reason, action: "search.reads" };
        let mode = SearchMode::parse(Some("fuzzy"), "12345-B-6").unwrap();
        let found = search_audited(&store, &audit, who, "12345-B-6", mode, 1.0, 10).unwrap();
        assert_eq!((found.len(), found[0].read.plate.as_str()), (1, "12345-ب-8"));
        let log = audit.audit_log(1).unwrap();
        assert_eq!((log[0].action.as_str(), log[0].target.as_deref()), ("search.reads", Some("12345-B-6")));
        assert_eq!(log[0].detail.as_deref(), Some("mode fuzzy, 1 result(s)"));
        assert_eq!(SearchMode::parse(None, "12?45*").unwrap(), SearchMode::Wildcard);
        assert!(SearchMode::parse(Some("exact"), "12*").is_err() && SearchMode::parse(Some("near"), "1").is_err());
    }
}
