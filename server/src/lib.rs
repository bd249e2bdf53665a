//! # raqib-server
//!
//! The operator and analyst side of a node, in the same process as the pipeline:
//!
//! - a JSON REST API ([`api`], described by `openapi.yaml`): cameras and their health, alerts
//!   (paged, filtered, acknowledge/escalate with a comment), search of past reads (exact, fuzzy,
//!   wildcard) and of sightings by face photo, watchlist management and enrolment by photo, the
//!   audit log, snapshots;
//! - live alerts over Server-Sent Events with a resume token ([`live`]);
//! - `/metrics` (Prometheus), `/healthz`, `/readyz` ([`metrics`]);
//! - the web console: static HTML/JS/CSS compiled into the binary ([`console`]);
//! - users with roles, argon2 password hashes, sessions and API tokens ([`users`], [`auth`]);
//!   every request that reads personal data is audited;
//! - sinks that forward alerts: signed webhooks and MQTT, each from a persisted cursor over the
//!   alerts table, so nothing is lost across a receiver outage or a restart ([`sinks`]).
//!
//! ## Dependency choices
//! - `axum` + `tokio`: the mainstream Rust HTTP stack (hyper underneath), with extractors that
//!   turn malformed input into 4xx answers, SSE and multipart built in.
//! - `argon2` (RustCrypto): the password hash OWASP recommends, PHC strings with per-user salt.
//! - `prometheus-client`: the Prometheus project's Rust client (OpenMetrics text, collectors).
//! - `reqwest` (rustls, no OpenSSL to link) for webhooks; `hmac` + `sha2` for their signatures.
//! - `rumqttc`: the maintained pure-Rust MQTT client (QoS 1, reconnection through its event loop).
//! - The console is plain HTML and JavaScript with no build step, so the binary serves it with
//!   no toolchain at run time.

pub mod api;
pub mod auth;
pub mod config;
mod connections;
pub mod console;
pub mod error;
pub mod live;
pub mod metrics;
mod overdue;
pub mod security;
mod serve;
pub mod sinks;
pub mod state;
pub mod throttle;
pub mod users;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use raqib_events::bus::{Event, EventBus};

pub use config::{MqttConfig, ServerConfig, WebhookConfig};
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use state::{AppState, Node, Rules};
pub use users::{Role, UserStore};

/// A running server: its own tokio runtime on background threads.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    bus_thread: Option<std::thread::JoinHandle<()>>,
    stop_bus: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    /// Opens the stores under `data_dir`, binds `config.bind`, starts serving, follows `bus`
    /// for new alerts (to wake live streams and sinks at once), starts the sinks and the
    /// overdue-alert watch. Searches and retro-hits use `rules` (`[analysis]`, `[alerts]`,
    /// `[retention]`), the same ones the analysis runs under.
    pub fn start(
        config: ServerConfig,
        rules: Rules,
        data_dir: &Path,
        node_name: &str,
        node: Arc<dyn Node>,
        metrics: Arc<Metrics>,
        bus: &EventBus,
    ) -> Result<Server> {
        config.validate()?;
        rules.analysis.validate().map_err(|e| Error::InvalidConfig { key: e.key, message: e.message })?;
        rules.alerts.validate().map_err(|e| Error::InvalidConfig { key: "alerts", message: e.to_string() })?;
        metrics.attach(node.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("raqib-server")
            .enable_all()
            .build()
            .map_err(|e| Error::Serve { addr: config.bind.to_string(), source: e })?;
        let bind = config.bind;
        let state = Arc::new(AppState::open(config, rules, data_dir, node_name, node, metrics)?);
        // Bound with std and handed to tokio, so starting works from any thread (also one that
        // already runs a tokio runtime, as tests do).
        let serve_err = |e| Error::Serve { addr: bind.to_string(), source: e };
        let std_listener = std::net::TcpListener::bind(bind).map_err(serve_err)?;
        std_listener.set_nonblocking(true).map_err(serve_err)?;
        let addr = std_listener.local_addr().map_err(serve_err)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(serve_err)?
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = api::router(state.clone());
        let max_connections =
            raqib_core::open_files::connection_budget(state.config.max_connections, raqib_core::open_files::current());
        if max_connections < state.config.max_connections {
            tracing::warn!(
                wanted = state.config.max_connections,
                allowed = max_connections,
                "server.max_connections lowered to stay well below the open-file limit (ulimit -n)"
            );
        }
        let limits = connections::Limits {
            header_timeout: Duration::from_secs(state.config.header_timeout_s),
            max_connections,
            max_per_address: state.config.max_connections_per_address.min(max_connections),
        };
        runtime.spawn(serve::serve(listener, app, limits, state.metrics.clone(), async {
            let _ = rx.await;
        }));
        {
            let _entered = runtime.enter();
            sinks::start(&runtime, &state)?;
        }
        runtime.spawn(overdue::watch(state.clone()));
        // Alerts are stored before they are published: a bus event means the store has them.
        let sub = bus.subscribe(1000);
        let stop_bus = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop_bus.clone();
        let st = state.clone();
        let bus_thread = std::thread::Builder::new()
            .name("raqib-server-bus".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    let Some(event) = sub.recv(Duration::from_millis(200)) else { continue };
                    match &*event {
                        Event::PlateRead { hits, .. } => {
                            st.metrics.count_read();
                            for h in hits {
                                st.metrics.count_alert("plate", &h.entry.category);
                            }
                        }
                        Event::FaceSighting { sighting, .. } => st.metrics.count_alert("face", &sighting.category),
                    }
                    if event.is_hit() {
                        st.alerts_changed();
                    }
                }
            })
            .map_err(|e| Error::Serve { addr: addr.to_string(), source: e })?;
        Ok(Server { addr, state, shutdown: Some(tx), runtime: Some(runtime), bus_thread: Some(bus_thread), stop_bus })
    }

    /// The address actually bound (a configured port 0 picks a free one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether no user exists yet (nobody can log in).
    pub fn has_no_users(&self) -> bool {
        self.state.users().is_empty().unwrap_or(false)
    }

    /// Stops serving (open streams end), gives sinks a moment to finish a delivery in flight.
    pub fn stop(mut self) {
        self.stop_bus.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.bus_thread.take() {
            let _ = t.join();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background(); // stopped from async code: cannot block here
            } else {
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}
