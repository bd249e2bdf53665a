//! What every request handler shares: the stores, the node's live view, metrics, and the
//! signal that new alerts were stored.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use raqib_core::Embedding;
use raqib_events::EventStore;
use raqib_events::health::CameraHealth;
use raqib_watchlist::Store;
use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::users::UserStore;

/// What the server asks of the running node (implemented by the `raqib` binary, so this crate
/// needs neither the models nor the cameras).
pub trait Node: Send + Sync + 'static {
    /// Health of every camera now.
    fn cameras(&self) -> Vec<CameraHealth>;
    /// Outcomes the events store could not take yet (a failing store); none by default.
    fn events_backlog(&self) -> raqib_events::health::StoreBacklog {
        raqib_events::health::StoreBacklog::default()
    }
    /// The embedding of the one face in a photo (JPEG/PNG bytes), or why there is none.
    fn embed_face(&self, photo: &[u8]) -> std::result::Result<Embedding, String>;
    /// Id of the face model whose embeddings the gallery holds.
    fn face_model(&self) -> String;
    /// That model's calibration (impostor score distribution), for a threshold set by a target
    /// FPIR; `None` when it has none.
    fn face_calibration(&self) -> Option<raqib_core::FaceCalibration> {
        None
    }
}

/// The node's rules the server applies: `[analysis]` (fuzzy distance and face threshold of
/// searches and retro-hits), `[alerts]` (deadlines, rejection reasons) and `[retention]` (how far
/// back a retro-hit check looks). The same values the analysis and the purge run under.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `[analysis]`.
    pub analysis: raqib_core::AnalysisPolicy,
    /// `[alerts]`.
    pub alerts: raqib_events::handling::HandlingPolicy,
    /// `[retention]`.
    pub retention: raqib_events::retention::RetentionPolicy,
}

/// Uploaded photos decoded and embedded at once (with `server.max_upload_pixels`, a memory
/// bound: 2 × 16 Mpx × 4 bytes by default).
pub const UPLOAD_SLOTS: usize = 2;

/// Shared state of the server.
pub struct AppState {
    pub(crate) config: ServerConfig,
    /// `[analysis]`, `[alerts]`, `[retention]`.
    pub(crate) rules: Rules,
    pub(crate) node_name: String,
    pub(crate) node: Arc<dyn Node>,
    events: Mutex<EventStore>,
    watchlist: Mutex<Store>,
    users: Mutex<UserStore>,
    pub(crate) metrics: Arc<Metrics>,
    /// Bumped whenever alerts may have been stored; live streams and sinks wait on it.
    pub(crate) alerts: watch::Sender<u64>,
    /// Failed logins per address and user.
    pub(crate) logins: crate::throttle::LoginThrottle,
    /// Uploaded photos decoded at once.
    pub(crate) uploads: Arc<tokio::sync::Semaphore>,
    /// Password checks allowed at once.
    pub(crate) hashing: Arc<tokio::sync::Semaphore>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked mid-query leaves the connection usable: SQLite rolls back.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppState {
    /// Runs blocking store work (SQLite queries, stored-read search, evidence packaging) on
    /// tokio's blocking pool, so the async workers keep serving other requests meanwhile.
    pub(crate) async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&AppState) -> Result<T, crate::auth::ApiError> + Send + 'static,
    ) -> Result<T, crate::auth::ApiError> {
        crate::auth::off_workers(self, f).await
    }

    /// [`Self::blocking`] for the events store outside a request (live streams, sinks, probes):
    /// the error as text, with its cause, for a log line or a probe's answer.
    pub(crate) async fn events_off_workers<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut EventStore) -> raqib_events::Result<T> + Send + 'static,
    ) -> std::result::Result<T, String> {
        let state = self.clone();
        match tokio::task::spawn_blocking(move || f(&mut state.events())).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(format!("the store task failed: {e}")),
        }
    }

    /// Opens the stores under `data_dir` (`events.db`, `watchlist.db`, `users.db`).
    pub fn open(
        config: ServerConfig,
        rules: Rules,
        data_dir: &Path,
        node_name: &str,
        node: Arc<dyn Node>,
        metrics: Arc<Metrics>,
    ) -> Result<AppState> {
        let mut events = EventStore::open(&data_dir.join("events.db"))?;
        events.set_handling(rules.alerts.clone());
        Ok(AppState {
            config,
            rules,
            node_name: node_name.to_owned(),
            node,
            events: Mutex::new(events),
            watchlist: Mutex::new(Store::open(&data_dir.join("watchlist.db"))?),
            users: Mutex::new(UserStore::open(&data_dir.join("users.db"))?),
            metrics,
            alerts: watch::channel(0).0,
            logins: crate::throttle::LoginThrottle::default(),
            uploads: Arc::new(tokio::sync::Semaphore::new(UPLOAD_SLOTS)),
            hashing: Arc::new(tokio::sync::Semaphore::new(crate::throttle::HASHING_SLOTS)),
        })
    }

    /// The events store (short queries only while holding it).
    pub fn events(&self) -> MutexGuard<'_, EventStore> {
        lock(&self.events)
    }

    /// The watchlist store.
    pub fn watchlist(&self) -> MutexGuard<'_, Store> {
        lock(&self.watchlist)
    }

    /// The users store.
    pub fn users(&self) -> MutexGuard<'_, UserStore> {
        lock(&self.users)
    }

    /// Wakes live streams and sinks: alerts may have been stored.
    pub fn alerts_changed(&self) {
        self.alerts.send_modify(|n| *n += 1);
    }
}

impl crate::auth::Access for AppState {
    fn users(&self) -> MutexGuard<'_, UserStore> {
        AppState::users(self)
    }

    fn record_audit(
        &self,
        actor: raqib_watchlist::Actor<'_>,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> std::result::Result<(), String> {
        self.watchlist().audit(actor, action, target, detail).map_err(|e| e.to_string())
    }

    fn logins(&self) -> &crate::throttle::LoginThrottle {
        &self.logins
    }

    fn hashing(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.hashing
    }

    fn session_cookie(&self) -> (u64, bool) {
        (self.config.session_hours, self.config.secure_cookies)
    }
}
