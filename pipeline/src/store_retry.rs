//! The live node's events store sink: an outcome that cannot be stored (full disk, a store
//! locked by another process, a failing disk) is kept in memory and stored later, in order,
//! instead of being lost. The backlog is shared ([`Backlog`]) so health, `/metrics`, `/readyz`
//! and the console show the fault while it lasts.
//!
//! Memory is bounded: at most [`MAX_WAITING`] outcomes wait. When the bound is reached the oldest
//! waiting read that hit nothing is dropped first (it is not evidence, and counted as dropped);
//! only when every waiting outcome is a hit is the oldest hit dropped, counted apart, and logged
//! as an error. Hits keep their whole frame for the evidence; reads that hit nothing give theirs
//! up while they wait (the store never keeps it).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use raqib_events::EventStore;
use raqib_events::health::StoreBacklog;

use crate::error::Result;
use crate::stream::{Outcome, Sink, Source};

/// Outcomes kept in memory at most while the store fails.
pub const MAX_WAITING: usize = 2_000;

/// Time between attempts while outcomes wait.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The backlog as health and metrics read it.
pub type Backlog = Arc<Mutex<StoreBacklog>>;

/// The backlog as it stands now (a copy: the lock is not held).
pub fn snapshot(backlog: &Backlog) -> StoreBacklog {
    backlog.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// An [`EventStore`] sink that keeps what it cannot store and retries.
pub struct RetryingStore {
    store: EventStore,
    waiting: VecDeque<Waiting>,
    backlog: Backlog,
    last_try: Option<Instant>,
}

impl RetryingStore {
    /// Wraps `store`; `backlog` is updated as outcomes wait, are stored or dropped.
    pub fn new(store: EventStore, backlog: Backlog) -> Self {
        RetryingStore { store, waiting: VecDeque::new(), backlog, last_try: None }
    }

    /// Outcomes waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Tries to store what waits (at most once per [`RETRY_EVERY`] unless `now`), in order,
    /// stopping at the first failure; returns how many still wait.
    pub fn retry(&mut self, now: bool) -> usize {
        if self.waiting.is_empty() || (!now && self.last_try.is_some_and(|t| t.elapsed() < RETRY_EVERY)) {
            return self.waiting.len();
        }
        self.last_try = Some(Instant::now());
        while let Some((source, at, outcome)) = self.waiting.front() {
            match record(&mut self.store, source, *at, outcome) {
                Ok(()) => {
                    self.waiting.pop_front();
                }
                Err(e) => {
                    self.note(Some(e.to_string()));
                    return self.waiting.len();
                }
            }
        }
        tracing::info!("events store: every waiting outcome is stored now");
        self.note(None);
        0
    }

    /// Of those, hits.
    pub fn waiting_hits(&self) -> usize {
        self.waiting.iter().filter(|(_, _, o)| o.is_hit()).count()
    }

    /// Keeps `outcome` to store later, within [`MAX_WAITING`].
    fn keep(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) {
        make_room(&mut self.waiting, &self.backlog);
        self.waiting.push_back((source.clone(), at, lightened(outcome)));
    }

    /// Updates the shared backlog (counts, and the error when one is given).
    fn note(&self, error: Option<String>) {
        let mut b = self.backlog.lock().unwrap_or_else(PoisonError::into_inner);
        b.waiting = self.waiting.len();
        b.waiting_hits = self.waiting.iter().filter(|(_, _, o)| o.is_hit()).count();
        if self.waiting.is_empty() {
            b.last_error = None;
        } else if error.is_some() {
            b.last_error = error;
        }
    }
}

/// An outcome waiting to be stored: where, when, what.
pub(crate) type Waiting = (Source, DateTime<Utc>, Outcome);

/// `outcome` as it waits: a read that hit nothing gives up its whole frame (the store never
/// keeps it); a hit keeps it for the evidence.
pub(crate) fn lightened(outcome: &Outcome) -> Outcome {
    let mut outcome = outcome.clone();
    if let Outcome::Plate { read, hits } = &mut outcome
        && hits.is_empty()
    {
        read.frame_image = None;
    }
    outcome
}

/// Makes room for one more in `queue` when it holds [`MAX_WAITING`]: the oldest read that hit
/// nothing is dropped (counted), else the oldest hit (counted apart and logged as lost).
pub(crate) fn make_room(queue: &mut VecDeque<Waiting>, backlog: &Backlog) {
    if queue.len() < MAX_WAITING {
        return;
    }
    let victim = queue.iter().position(|(_, _, o)| !o.is_hit()).unwrap_or(0);
    if let Some((s, _, o)) = queue.remove(victim) {
        let mut b = backlog.lock().unwrap_or_else(PoisonError::into_inner);
        if o.is_hit() {
            b.dropped_hits += 1;
            tracing::error!(source = %s.id, "events store failing and its backlog full: a hit is LOST");
        } else {
            b.dropped_reads += 1;
        }
    }
}

fn record(store: &mut EventStore, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()> {
    Sink::emit(store, source, at, outcome)
}

impl Sink for RetryingStore {
    /// Stores the outcome, after what waits; keeps it (and succeeds) when the store fails.
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()> {
        if self.retry(false) == 0 {
            match record(&mut self.store, source, at, outcome) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::error!(source = %source.id, error = %e, "events store failing: the outcome waits in memory");
                    self.keep(source, at, outcome);
                    self.note(Some(e.to_string()));
                    return Ok(());
                }
            }
        }
        self.keep(source, at, outcome);
        self.note(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plate_outcome as plate;

    /// A store on disk, and a second connection to it that can make its inserts fail.
    fn store(dir: &std::path::Path) -> (EventStore, rusqlite::Connection) {
        let path = dir.join("events.db");
        let store = EventStore::open(&path).unwrap();
        (store, rusqlite::Connection::open(&path).unwrap())
    }

    const FULL: &str = "CREATE TRIGGER full BEFORE INSERT ON plate_reads BEGIN SELECT RAISE(FAIL, 'disk full'); END;";

    #[test]
    fn what_cannot_be_stored_waits_and_is_stored_once_in_order_when_the_store_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, other) = store(dir.path());
        let backlog = Backlog::default();
        let mut sink = RetryingStore::new(store, backlog.clone());
        let src = Source { id: "gate".into(), location: None };
        sink.emit(&src, Utc::now(), &plate("11111-أ-1", false)).unwrap();
        // Another process makes the store refuse writes (as a full disk would).
        other.execute_batch(FULL).unwrap();
        sink.emit(&src, Utc::now(), &plate("12345-ب-6", true)).unwrap();
        sink.emit(&src, Utc::now(), &plate("22222-ب-2", false)).unwrap();
        let b = backlog.lock().unwrap().clone();
        assert_eq!((b.waiting, b.waiting_hits), (2, 1));
        assert!(b.last_error.as_deref().is_some_and(|e| e.contains("disk full")), "{b:?}");
        assert_eq!(sink.retry(true), 2, "still failing");
        other.execute_batch("DROP TRIGGER full;").unwrap();
        assert_eq!(sink.retry(true), 0);
        let plates: Vec<String> = {
            let mut stmt = other.prepare("SELECT plate FROM plate_reads ORDER BY id").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        assert_eq!(plates, ["11111-أ-1", "12345-ب-6", "22222-ب-2"], "each once, in order");
        let hits: i64 = other.query_row("SELECT count(*) FROM hits", [], |r| r.get(0)).unwrap();
        assert_eq!(hits, 1);
        assert_eq!(*backlog.lock().unwrap(), StoreBacklog::default(), "the fault is over");
    }

    #[test]
    fn a_full_backlog_drops_reads_before_hits() {
        let dir = tempfile::tempdir().unwrap();
        let (store, other) = store(dir.path());
        other.execute_batch(FULL).unwrap();
        let backlog = Backlog::default();
        let mut sink = RetryingStore::new(store, backlog.clone());
        let src = Source { id: "gate".into(), location: None };
        sink.emit(&src, Utc::now(), &plate("12345-ب-6", true)).unwrap();
        for _ in 0..MAX_WAITING {
            sink.emit(&src, Utc::now(), &plate("22222-ب-2", false)).unwrap();
        }
        let b = backlog.lock().unwrap().clone();
        assert_eq!((b.waiting, b.waiting_hits, b.dropped_reads, b.dropped_hits), (MAX_WAITING, 1, 1, 0));
    }
}
