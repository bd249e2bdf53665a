//! The accept loop: HTTP/1.1 over hyper with the limits `axum::serve` does not set. A client
//! that holds a connection without finishing its request headers is cut off after
//! `server.header_timeout_s`; the connection limits and what happens when one is reached (the
//! oldest idle connection makes room) are in [`crate::connections`]. Idle or slow clients can
//! neither exhaust the process's file descriptors (the cameras need theirs) nor keep other
//! clients out.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::Service;

use crate::connections::{Admission, Connections, Limits};

/// Serves `app` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    metrics: Arc<crate::Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let connections = Connections::new(limits);
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
        let slot = match connections.admit(peer.ip()) {
            Admission::Admitted { slot, closed } => {
                metrics.connections_closed_for_room(closed);
                slot
            }
            Admission::Refused => {
                metrics.connection_refused();
                drop(socket); // closed at once: every connection under the limit is busy
                continue;
            }
        };
        let tower_service = match make_service.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        tokio::spawn(async move {
            let conn = slot.conn.clone();
            let hyper_service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let mut s = tower_service.clone();
                // Busy from the request's headers until its response body is sent (a live-alert
                // stream stays busy while it is open).
                let busy = conn.busy();
                async move {
                    let response = s.call(request).await.unwrap_or_else(|never| match never {});
                    Ok::<_, Infallible>(response.map(|body| {
                        Body::new(body.map_frame(move |frame| {
                            let _busy = &busy;
                            frame
                        }))
                    }))
                }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(socket), hyper_service);
            tokio::select! {
                ended = served => if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended");
                },
                () = slot.conn.closed_for_room() => tracing::debug!("idle connection closed to make room"),
            }
            drop(slot);
        });
    }
}
