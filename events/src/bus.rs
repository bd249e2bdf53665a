//! The in-process event bus: the analysis side publishes every plate read, hit and face
//! sighting; sinks (console, webhook, MQTT, …) subscribe. Each subscriber has a bounded queue:
//! a subscriber that falls behind loses its oldest undelivered events (counted), it never slows
//! the analysis or the other subscribers. Sinks that must not lose anything (webhook outbox) keep
//! their own persistent queue, fed from here.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::records::FaceSighting;
use crate::records::PlateEvent;

/// What the node tells the world.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A plate read (one per vehicle), with its watchlist matches (empty: no hit).
    PlateRead {
        /// Camera id or file.
        source: String,
        /// When it was published.
        at: DateTime<Utc>,
        /// Camera place, if known.
        location: Option<(f64, f64)>,
        /// The read.
        read: Box<PlateEvent>,
        /// Watchlist matches, best first.
        hits: Vec<raqib_watchlist::PlateMatch>,
    },
    /// A watchlist person seen.
    FaceSighting {
        /// Camera id or file.
        source: String,
        /// When it was published.
        at: DateTime<Utc>,
        /// Camera place, if known.
        location: Option<(f64, f64)>,
        /// The sighting.
        sighting: Box<FaceSighting>,
    },
}

impl Event {
    /// Whether this event is a watchlist hit.
    pub fn is_hit(&self) -> bool {
        match self {
            Event::PlateRead { hits, .. } => !hits.is_empty(),
            Event::FaceSighting { .. } => true,
        }
    }
}

struct Queue {
    items: Mutex<VecDeque<Arc<Event>>>,
    ready: Condvar,
    capacity: usize,
    lost: AtomicU64,
}

/// The bus; cheap to clone.
#[derive(Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<Weak<Queue>>>>,
}

/// One subscriber's end; dropping it unsubscribes.
pub struct Subscription {
    queue: Arc<Queue>,
}

impl EventBus {
    /// A bus with no subscriber.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribes with room for `capacity` undelivered events.
    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let queue = Arc::new(Queue {
            items: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            lost: AtomicU64::new(0),
        });
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner()).push(Arc::downgrade(&queue));
        Subscription { queue }
    }

    /// Publishes to every subscriber; returns how many received it.
    pub fn publish(&self, event: Event) -> usize {
        let event = Arc::new(event);
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|w| w.strong_count() > 0);
        let mut n = 0;
        for q in subs.iter().filter_map(Weak::upgrade) {
            let mut items = q.items.lock().unwrap_or_else(|p| p.into_inner());
            if items.len() >= q.capacity {
                items.pop_front();
                q.lost.fetch_add(1, Ordering::Relaxed);
            }
            items.push_back(event.clone());
            q.ready.notify_one();
            n += 1;
        }
        n
    }
}

impl Subscription {
    /// The next event, waiting up to `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<Arc<Event>> {
        let mut items = self.queue.items.lock().unwrap_or_else(|p| p.into_inner());
        if items.is_empty() {
            items = self.queue.ready.wait_timeout(items, timeout).unwrap_or_else(|p| p.into_inner()).0;
        }
        items.pop_front()
    }

    /// Events this subscriber lost because its queue was full.
    pub fn lost(&self) -> u64 {
        self.queue.lost.load(Ordering::Relaxed)
    }
}

/// A subscriber thread appending each event as one JSON line to `path` (created if missing,
/// flushed per line); set the returned flag to stop it, then join it. A write that fails is
/// logged and the thread goes on.
pub fn append_jsonl(
    path: &std::path::Path,
    sub: Subscription,
) -> std::io::Result<(std::thread::JoinHandle<()>, Arc<std::sync::atomic::AtomicBool>)> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        loop {
            match sub.recv(Duration::from_millis(200)) {
                Some(event) => {
                    let line = serde_json::to_string(&*event).unwrap_or_default();
                    if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                        tracing::error!(error = %e, "cannot write the events file");
                    }
                }
                None if flag.load(Ordering::Relaxed) => break,
                None => {}
            }
        }
    });
    Ok((thread, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(track: u64) -> Event {
        Event::FaceSighting {
            source: "cam".into(),
            at: Utc::now(),
            location: None,
            sighting: Box::new(FaceSighting {
                track,
                person_id: 1,
                name: "x".into(),
                category: "wanted_person".into(),
                priority: raqib_watchlist::Priority::High,
                similarity: 0.9,
                votes: 1,
                embeddings: 1,
                first_seen_s: None,
                last_seen_s: None,
                best_frame: 0,
                best_time_s: None,
                bbox: raqib_models::face::Bbox { x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0 },
                crop_jpeg: vec![],
                stranger_rate: None,
                scope: raqib_watchlist::Scope::default(),
            }),
        }
    }

    fn track_of(e: &Event) -> u64 {
        match e {
            Event::FaceSighting { sighting, .. } => sighting.track,
            Event::PlateRead { read, .. } => read.track,
        }
    }

    #[test]
    fn every_subscriber_gets_every_event_and_a_slow_one_loses_only_its_oldest() {
        let bus = EventBus::new();
        assert_eq!(bus.publish(sighting(0)), 0, "nobody listening");
        let fast = bus.subscribe(100);
        let slow = bus.subscribe(2);
        for t in 1..=5 {
            assert_eq!(bus.publish(sighting(t)), 2);
        }
        let got: Vec<u64> = std::iter::from_fn(|| fast.recv(Duration::ZERO)).map(|e| track_of(&e)).collect();
        assert_eq!(got, [1, 2, 3, 4, 5]);
        let got: Vec<u64> = std::iter::from_fn(|| slow.recv(Duration::ZERO)).map(|e| track_of(&e)).collect();
        assert_eq!(got, [4, 5]);
        assert_eq!(slow.lost(), 3);
        drop(slow);
        assert_eq!(bus.publish(sighting(6)), 1, "a dropped subscription is forgotten");
        let json = serde_json::to_value(&*fast.recv(Duration::from_millis(10)).unwrap()).unwrap();
        assert_eq!(json["type"], "face_sighting");
        assert!(fast.recv(Duration::from_millis(10)).is_none());
    }
}
