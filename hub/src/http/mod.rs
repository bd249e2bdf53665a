//! The national API and console (`raqib hub serve --listen`): live alerts of every node, search
//! of reads and hits across nodes (the node's plate rules), node and camera health, the
//! national watchlist with how far each entry has reached, and the audit log.
//!
//! Users, roles, sessions, the login throttle and the audit rule are the node's
//! (`raqib_server::auth`): an operator watches alerts and health, an analyst also searches, an
//! admin also changes the national watchlist and reads the audit log. Every request that shows
//! personal data (alerts, reads, entries) is written to the hub's audit log first, with its
//! reason where one is required; a log that cannot be written refuses the request.
//!
//! The hub's data directory holds `users.db` (managed with `RAQIB_DATA_DIR=<dir> raqib user …`)
//! and `watchlist.db`, whose tamper-evident audit log is the hub's (`raqib audit --db
//! <dir>/watchlist.db verify`); the national watchlist itself is in PostgreSQL.

mod alerts;
mod console;
mod national;
mod search;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::routing::{delete, get, post};
use raqib_server::UserStore;
use raqib_server::auth::{Access, ApiError};
use raqib_server::throttle::LoginThrottle;

use crate::central::Hub;
use crate::error::{Error, Result};

/// `raqib hub serve`'s HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Console session length, hours.
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Fuzzy searches' weighted edit distance (the nodes' `analysis.plate_max_distance`).
    pub max_distance: f32,
    /// Searches look this many days back (the nodes' `retention.reads_days`).
    pub search_days: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            session_hours: 12,
            secure_cookies: false,
            max_distance: 1.0,
            search_days: 30,
        }
    }
}

/// What every request handler of the hub shares.
pub struct HubState {
    hub: Arc<Hub>,
    config: HttpConfig,
    users: Mutex<UserStore>,
    audit: Mutex<raqib_watchlist::Store>,
    logins: LoginThrottle,
    hashing: Arc<tokio::sync::Semaphore>,
    /// Set when the server stops: live streams end.
    closing: std::sync::atomic::AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl HubState {
    /// Opens `users.db` and the audit log under `data_dir`.
    pub fn open(hub: Arc<Hub>, config: HttpConfig, data_dir: &Path) -> Result<HubState> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::Config { key: "data", message: format!("{}: {e}", data_dir.display()) })?;
        let users = UserStore::open(&data_dir.join("users.db")).map_err(|e| Error::Http(e.to_string()))?;
        Ok(HubState {
            hub,
            config,
            users: Mutex::new(users),
            audit: Mutex::new(raqib_watchlist::Store::open(&data_dir.join("watchlist.db"))?),
            logins: LoginThrottle::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(raqib_server::throttle::HASHING_SLOTS)),
            closing: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the server is stopping.
    fn closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The hub's audit log (read by admins).
    fn audit_log(&self) -> MutexGuard<'_, raqib_watchlist::Store> {
        lock(&self.audit)
    }
}

impl Access for HubState {
    fn users(&self) -> MutexGuard<'_, UserStore> {
        lock(&self.users)
    }

    fn record_audit(
        &self,
        actor: raqib_watchlist::Actor<'_>,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> std::result::Result<(), String> {
        lock(&self.audit).audit(actor, action, target, detail).map_err(|e| e.to_string())
    }

    fn logins(&self) -> &LoginThrottle {
        &self.logins
    }

    fn hashing(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.hashing
    }

    fn session_cookie(&self) -> (u64, bool) {
        (self.config.session_hours, self.config.secure_cookies)
    }
}

/// A hub error as an API answer: a bad query is the caller's (400), the rest the hub's (500,
/// detail in the log).
pub(crate) fn api_error(e: Error) -> ApiError {
    match e {
        Error::Query(m) => ApiError::bad_request(m),
        Error::Config { .. } => ApiError::bad_request(e.to_string()),
        e => ApiError::internal(e),
    }
}

/// The hub's routes.
pub fn router(state: Arc<HubState>) -> Router {
    use raqib_server::api::session;
    Router::new()
        .route("/api/login", post(session::login::<HubState>))
        .route("/api/logout", post(session::logout::<HubState>))
        .route("/api/me", get(national::me))
        .route("/api/me/language", post(session::language::<HubState>))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/stream", get(alerts::stream))
        .route("/api/reads", get(search::reads))
        .route("/api/hits", get(search::hits))
        .route("/api/nodes", get(national::nodes))
        .route("/api/entries", get(national::entries).post(national::add_entry))
        .route("/api/entries/{id}", delete(national::remove_entry))
        .route("/api/audit", get(national::audit_log))
        .route("/api/openapi.yaml", get(openapi))
        .route("/healthz", get(national::healthz))
        .route("/", get(console::index))
        .route("/console/{file}", get(console::asset))
        .layer(axum::middleware::from_fn(raqib_server::security::headers))
        .with_state(state)
}

/// `GET /api/openapi.yaml`: the hub's API description (`hub/openapi.yaml`).
async fn openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/yaml")], include_str!("../../openapi.yaml")).into_response()
}

/// Serves the national API and console on `state.config.listen` until `stop` is set; returns
/// the bound address through `bound` as soon as it listens.
pub async fn serve(
    state: Arc<HubState>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| Error::Config { key: "listen", message: format!("{}: {e}", state.config.listen) })?;
    let addr = listener.local_addr().map_err(|e| Error::Http(e.to_string()))?;
    if let Some(tx) = bound {
        let _ = tx.send(addr);
    }
    tracing::info!(%addr, "hub: national console listening");
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            state.closing.store(true, std::sync::atomic::Ordering::Relaxed);
        })
        .await
        .map_err(|e| Error::Http(e.to_string()))
}

#[cfg(test)]
mod tests {
    /// Every hub route is described in `hub/openapi.yaml`, and it names no route that does not
    /// exist.
    #[test]
    fn openapi_describes_exactly_the_routes() {
        use raqib_server::api::openapi_check::{described_paths, routed_paths};
        let routes = routed_paths(include_str!("mod.rs"));
        assert!(routes.len() >= 14, "{routes:?}");
        assert_eq!(routes, described_paths(include_str!("../../openapi.yaml")));
    }
}
