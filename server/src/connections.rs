//! The table of open console/API connections, and what happens when a limit is reached.
//!
//! One address may hold at most `server.max_connections_per_address` connections and the node at
//! most `server.max_connections`. When a new connection would pass a limit, the **oldest idle**
//! connection under that limit (one with no request in progress: it sent nothing yet, is
//! half-way through its headers, or waits between keep-alive requests) is closed to make room,
//! connections that never completed a request first (a client that has been served, such as an
//! operator's browser between two requests, is the last to go); only when every connection under
//! the limit is busy is the new one refused. So a client that
//! opens a thousand idle sockets neither exhausts the descriptors the cameras need (the totals
//! stay bounded) nor keeps anyone out, its own later requests included: a health check or an
//! operator's request sends its headers at once and is served, while the idle sockets make room
//! for it. A request in progress (also a live-alert stream) is never closed for room.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

/// The connection limits (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// A connection that has not sent a request's headers in this time is cut off.
    pub header_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections from one address at most.
    pub max_per_address: usize,
}

/// One open connection: requests in progress, and the signal that closes it.
#[derive(Debug, Default)]
pub(crate) struct Conn {
    busy: AtomicUsize,
    served: AtomicBool,
    close: Notify,
}

impl Conn {
    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }

    fn served(&self) -> bool {
        self.served.load(Ordering::Acquire)
    }

    /// Marks a request in progress until the returned guard is dropped (hold it until the
    /// response body has been sent).
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.served.store(true, Ordering::Release);
        Busy(self.clone())
    }

    /// Resolves when the connection was closed to make room for a newer one.
    pub(crate) async fn closed_for_room(&self) {
        self.close.notified().await;
    }
}

/// A request in progress on a connection (see [`Conn::busy`]).
#[derive(Debug)]
pub(crate) struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug)]
struct Entry {
    addr: IpAddr,
    conn: Arc<Conn>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    /// By id, so the oldest connection comes first.
    open: BTreeMap<u64, Entry>,
    per_address: HashMap<IpAddr, usize>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&entry.addr) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_address.remove(&entry.addr);
            }
        }
        Some(entry)
    }

    /// Closes the oldest idle connection that `matches`, one that was never served first; false
    /// when every one is busy.
    fn close_oldest_idle(&mut self, matches: impl Fn(&Entry) -> bool) -> bool {
        let oldest = |served: bool| {
            self.open.iter().find(|(_, e)| matches(e) && e.conn.idle() && e.conn.served() == served).map(|(id, _)| *id)
        };
        let Some(id) = oldest(false).or_else(|| oldest(true)) else {
            return false;
        };
        if let Some(entry) = self.remove(id) {
            entry.conn.close.notify_one();
        }
        true
    }
}

/// The open connections of one server.
#[derive(Debug)]
pub(crate) struct Connections {
    table: Mutex<Table>,
    limits: Limits,
}

/// What [`Connections::admit`] decided.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Admitted; `closed` older idle connections were closed to make room.
    Admitted { slot: Slot, closed: usize },
    /// Refused: every connection under the limit is busy.
    Refused,
}

/// An admitted connection's place in the table, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    table: Arc<Connections>,
    id: u64,
    /// The connection's state.
    pub conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.table.lock().remove(self.id);
    }
}

impl Connections {
    /// An empty table with these limits.
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Connections { table: Mutex::new(Table::default()), limits })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a new connection from `addr`, closing older idle ones where a limit needs room.
    pub(crate) fn admit(self: &Arc<Self>, addr: IpAddr) -> Admission {
        let mut t = self.lock();
        let mut closed = 0;
        if t.per_address.get(&addr).copied().unwrap_or(0) >= self.limits.max_per_address {
            if !t.close_oldest_idle(|e| e.addr == addr) {
                return Admission::Refused;
            }
            closed += 1;
        }
        if t.open.len() >= self.limits.max_connections {
            if !t.close_oldest_idle(|_| true) {
                return Admission::Refused;
            }
            closed += 1;
        }
        let id = t.next_id;
        t.next_id += 1;
        let conn = Arc::new(Conn::default());
        t.open.insert(id, Entry { addr, conn: conn.clone() });
        *t.per_address.entry(addr).or_insert(0) += 1;
        Admission::Admitted { slot: Slot { table: self.clone(), id, conn }, closed }
    }

    /// Open connections in all.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> (Slot, usize) {
        match a {
            Admission::Admitted { slot, closed } => (slot, closed),
            Admission::Refused => panic!("refused"),
        }
    }

    fn limits(max_connections: usize, max_per_address: usize) -> Limits {
        Limits { header_timeout: Duration::from_secs(1), max_connections, max_per_address }
    }

    #[tokio::test]
    async fn an_address_at_its_limit_makes_room_by_closing_its_oldest_idle_connection() {
        let table = Connections::new(limits(10, 2));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let (first, _) = admitted(table.admit(a));
        let (second, _) = admitted(table.admit(a));
        let (_other, closed) = admitted(table.admit(b));
        assert_eq!(closed, 0, "another address has room of its own");
        let (_third, closed) = admitted(table.admit(a));
        assert_eq!(closed, 1);
        // The oldest was told to close; the second was not.
        tokio::time::timeout(Duration::from_millis(100), first.conn.closed_for_room()).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(50), second.conn.closed_for_room()).await.is_err());
        assert_eq!(table.open(), 3);
        drop(first); // its task ends: the slot was already given back, not twice
        assert_eq!(table.open(), 3);
    }

    #[tokio::test]
    async fn busy_connections_are_never_closed_for_room_and_a_full_busy_table_refuses() {
        let table = Connections::new(limits(2, 2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        let (s1, _) = admitted(table.admit(a));
        let (s2, _) = admitted(table.admit(a));
        let _b1 = s1.conn.busy();
        let b2 = s2.conn.busy();
        assert!(matches!(table.admit(a), Admission::Refused), "both busy: per address");
        assert!(matches!(table.admit(c), Admission::Refused), "both busy: in all");
        drop(b2); // the second's response is sent: idle again
        let (_s3, closed) = admitted(table.admit(c));
        assert_eq!(closed, 1, "the idle one makes room in all");
        tokio::time::timeout(Duration::from_millis(100), s2.conn.closed_for_room()).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(50), s1.conn.closed_for_room()).await.is_err());
    }

    #[tokio::test]
    async fn a_client_that_was_served_is_closed_for_room_after_those_never_served() {
        let table = Connections::new(limits(3, 3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let (operator, _) = admitted(table.admit(a));
        drop(operator.conn.busy()); // one request served: now idle between requests
        let (never1, _) = admitted(table.admit(a));
        let (never2, _) = admitted(table.admit(a));
        let (_new, closed) = admitted(table.admit(a));
        assert_eq!(closed, 1);
        tokio::time::timeout(Duration::from_millis(100), never1.conn.closed_for_room()).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(50), operator.conn.closed_for_room()).await.is_err());
        drop(never2);
    }

    #[test]
    fn a_closed_connection_gives_its_slot_back() {
        let table = Connections::new(limits(1, 1));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let (s, _) = admitted(table.admit(a));
        let _busy = s.conn.busy();
        assert!(matches!(table.admit(a), Admission::Refused));
        drop(_busy);
        drop(s);
        assert_eq!(table.open(), 0);
        let (_s, closed) = admitted(table.admit(a));
        assert_eq!(closed, 0);
    }
}
