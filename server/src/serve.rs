//! The accept loop: HTTP/1.1 over hyper with the limits `axum::serve` does not set. A client
//! that holds a connection without finishing its request headers is cut off after
//! `server.header_timeout_s`; one address may hold at most `server.max_connections_per_address`
//! connections and the node at most `server.max_connections`, so idle or slow clients can
//! neither exhaust the process's file descriptors (the cameras need theirs) nor keep other
//! clients out.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::Service;

/// The connection limits (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub max_per_address: usize,
}

/// Open connections per address, released when a connection ends.
#[derive(Default)]
struct Open {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

struct Slot {
    open: Arc<Mutex<Open>>,
    addr: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_address.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.per_address.remove(&self.addr);
            }
        }
    }
}

/// A slot for a connection from `addr`, or `None` when a limit is reached.
fn take_slot(open: &Arc<Mutex<Open>>, addr: IpAddr, limits: Limits) -> Option<Slot> {
    let mut o = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mine = o.per_address.get(&addr).copied().unwrap_or(0);
    if o.total >= limits.max_connections || mine >= limits.max_per_address {
        return None;
    }
    o.total += 1;
    o.per_address.insert(addr, mine + 1);
    Some(Slot { open: open.clone(), addr })
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<crate::Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let open = Arc::new(Mutex::new(Open::default()));
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a reset before accept: wait a little, go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(slot) = take_slot(&open, peer.ip(), limits) else {
            metrics.connection_refused();
            drop(socket); // closed at once: the limit, not a hang
            continue;
        };
        let tower_service = match make_service.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        tokio::spawn(async move {
            let _slot = slot;
            let hyper_service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let mut s = tower_service.clone();
                async move { Ok::<_, Infallible>(s.call(request).await.unwrap_or_else(|never| match never {})) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(socket), hyper_service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_per_address_and_in_all_and_given_back() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = Limits { header_timeout: Duration::from_secs(1), max_connections: 3, max_per_address: 2 };
        let (a, b, c): (IpAddr, IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap());
        let s1 = take_slot(&open, a, limits).unwrap();
        let _s2 = take_slot(&open, a, limits).unwrap();
        assert!(take_slot(&open, a, limits).is_none(), "per address");
        let _s3 = take_slot(&open, b, limits).unwrap();
        assert!(take_slot(&open, c, limits).is_none(), "in all");
        drop(s1);
        assert!(take_slot(&open, c, limits).is_some(), "a closed connection gives its slot back");
    }
}
