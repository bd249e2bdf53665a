//! The live node's events store on a thread of its own. The analysis hands every outcome over
//! and goes on at once; the writer thread stores it (through [`RetryingStore`], which keeps what
//! the store refuses and retries). Before, the analysis thread wrote itself, so a store locked by
//! another process held it for SQLite's 10 s busy wait on every attempt: frames were dropped and
//! plates passing meanwhile were never read. Now only storing waits.
//!
//! Whatever follows the store (the event bus: live alerts, webhooks, MQTT) gets each outcome from
//! the writer thread right after the store has taken it (or kept it to retry), so a bus event still
//! means the store has the alert when it can take it, as the console's live stream expects.
//!
//! What waits in the hand-over queue counts in the shared backlog like what waits for a retry
//! (health, `/metrics`, `/readyz`, the console banner), and the queue is bounded by the same rule
//! ([`crate::store_retry::MAX_WAITING`]: reads that hit nothing go before hits).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use raqib_events::EventStore;

use crate::error::{Error, Result};
use crate::store_retry::{Backlog, RETRY_EVERY, RetryingStore, Waiting, lightened, make_room};
use crate::stream::{Outcome, Sink, Source};

/// The hand-over queue and the writer's stop request.
#[derive(Default)]
struct Inbox {
    items: VecDeque<Waiting>,
    /// Set by [`StoreWriter::finish`]: store what is left, retrying until then.
    stop_by: Option<Instant>,
}

struct Shared {
    inbox: Mutex<Inbox>,
    wake: Condvar,
    backlog: Backlog,
    /// Outcomes the store refused, waiting in the writer for a retry (and of those, hits).
    held: AtomicUsize,
    held_hits: AtomicUsize,
}

impl Shared {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes the backlog: what waits in the queue plus what waits for a retry.
    fn publish(&self, inbox: &Inbox) {
        let queued_hits = inbox.items.iter().filter(|(_, _, o)| o.is_hit()).count();
        let mut b = self.backlog.lock().unwrap_or_else(PoisonError::into_inner);
        b.waiting = inbox.items.len() + self.held.load(Ordering::Acquire);
        b.waiting_hits = queued_hits + self.held_hits.load(Ordering::Acquire);
        if b.waiting == 0 {
            b.last_error = None;
        }
    }
}

/// An events store sink that never blocks its caller on the store.
pub struct StoreWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl StoreWriter {
    /// Starts the writer thread over `store`; `backlog` shows what waits; `then` (the event
    /// bus) gets every outcome after the store.
    pub fn start(store: EventStore, backlog: Backlog, then: Option<Box<dyn Sink + Send>>) -> Result<Self> {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            wake: Condvar::new(),
            backlog: backlog.clone(),
            held: AtomicUsize::new(0),
            held_hits: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("raqib-store".into())
            .spawn(move || write_loop(&s, RetryingStore::new(store, backlog), then))
            .map_err(|e| Error::source("events store writer", format!("cannot start its thread: {e}")))?;
        Ok(StoreWriter { shared, thread: Some(thread) })
    }

    /// Stores what is left, retrying what the store refuses for at most `give_up`, and stops the
    /// thread. What still waits then stays counted in the backlog (the caller reports it).
    pub fn finish(mut self, give_up: Duration) {
        self.stop(give_up);
    }

    fn stop(&mut self, give_up: Duration) {
        let Some(thread) = self.thread.take() else { return };
        self.shared.inbox().stop_by = Some(Instant::now() + give_up);
        self.shared.wake.notify_all();
        if thread.join().is_err() {
            tracing::error!("the events store writer thread panicked");
        }
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}

impl Sink for StoreWriter {
    /// Queues the outcome for the writer thread; never waits for the store.
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()> {
        let mut inbox = self.shared.inbox();
        make_room(&mut inbox.items, &self.shared.backlog);
        inbox.items.push_back((source.clone(), at, lightened(outcome)));
        self.shared.publish(&inbox);
        drop(inbox);
        self.shared.wake.notify_one();
        Ok(())
    }
}

fn write_loop(shared: &Shared, mut store: RetryingStore, mut then: Option<Box<dyn Sink + Send>>) {
    loop {
        let (items, stop_by) = {
            let mut inbox = shared.inbox();
            if inbox.items.is_empty() && inbox.stop_by.is_none() {
                inbox = shared.wake.wait_timeout(inbox, RETRY_EVERY).unwrap_or_else(PoisonError::into_inner).0;
            }
            (std::mem::take(&mut inbox.items), inbox.stop_by)
        };
        // In the backlog while they are tried (settled below, once the store has answered).
        shared.held.store(store.waiting() + items.len(), Ordering::Release);
        let hits = items.iter().filter(|(_, _, o)| o.is_hit()).count();
        shared.held_hits.store(store.waiting_hits() + hits, Ordering::Release);
        for (source, at, outcome) in &items {
            // Never fails: what the store refuses waits inside `store`.
            let _ = Sink::emit(&mut store, source, *at, outcome);
            if let Some(next) = then.as_mut()
                && let Err(e) = next.emit(source, *at, outcome)
            {
                tracing::error!(source = %source.id, error = %e, "the sink after the events store failed");
            }
        }
        store.retry(false);
        let settle = |store: &RetryingStore| {
            shared.held.store(store.waiting(), Ordering::Release);
            shared.held_hits.store(store.waiting_hits(), Ordering::Release);
            shared.publish(&shared.inbox());
        };
        settle(&store);
        if let Some(deadline) = stop_by
            && shared.inbox().items.is_empty()
        {
            while store.retry(true) > 0 && Instant::now() < deadline {
                settle(&store);
                std::thread::sleep(Duration::from_millis(500));
            }
            settle(&store);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plate_outcome as plate;

    #[test]
    fn a_locked_store_never_holds_up_the_caller_and_everything_is_stored_once_it_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let store = EventStore::open(&path).unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE;").unwrap(); // another process holds the write lock
        let backlog = Backlog::default();
        let mut writer = StoreWriter::start(store, backlog.clone(), None).unwrap();
        let src = Source { id: "gate".into(), location: None };
        let t0 = Instant::now();
        for (plate_text, hit) in [("11111-أ-1", false), ("12345-ب-6", true), ("22222-ب-2", false)] {
            writer.emit(&src, Utc::now(), &plate(plate_text, hit)).unwrap();
        }
        // SQLite's busy wait is 10 s: the caller did not take part in it.
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        let b = backlog.lock().unwrap().clone();
        assert_eq!((b.waiting, b.waiting_hits), (3, 1), "{b:?}");
        other.execute_batch("COMMIT;").unwrap();
        writer.finish(Duration::from_secs(20));
        let plates: Vec<String> = {
            let mut stmt = other.prepare("SELECT plate FROM plate_reads ORDER BY id").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        assert_eq!(plates, ["11111-أ-1", "12345-ب-6", "22222-ب-2"], "each once, in order");
        assert_eq!(backlog.lock().unwrap().waiting, 0);
    }
}
