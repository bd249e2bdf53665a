//! Who is calling, what they may do, and the audit of what they did.
//!
//! A caller presents a console session (cookie `raqib_session`, set by `POST /api/login`) or a
//! token (`Authorization: Bearer …`, a session token or an integration's API token). Requests
//! that change something and come with the cookie must also carry `X-Raqib-Csrf: 1`, which a
//! cross-site form cannot add. Every refusal for lack of role is answered 403 and audited.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use raqib_watchlist::Actor;

use crate::throttle::LoginThrottle;
use crate::users::{Principal, Role, UserStore};

/// What signing in, checking a role and auditing need of a server's state. The node's
/// [`crate::AppState`] and the national hub's state both provide it, so a node and the hub
/// serve the same roles, sessions, login throttle and audit rule.
pub trait Access: Send + Sync + 'static {
    /// The users store.
    fn users(&self) -> std::sync::MutexGuard<'_, UserStore>;
    /// Appends one record to the audit log.
    fn record_audit(
        &self,
        actor: Actor<'_>,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), String>;
    /// Failed logins per address and user.
    fn logins(&self) -> &LoginThrottle;
    /// Password checks allowed at once.
    fn hashing(&self) -> &Arc<tokio::sync::Semaphore>;
    /// How long a console session lasts, in hours, and whether its cookie is `Secure`.
    fn session_cookie(&self) -> (u64, bool);
}

/// Runs blocking work (SQLite queries, password checks) on tokio's blocking pool, so the async
/// workers keep serving other requests meanwhile.
pub async fn off_workers<S: Access, T: Send + 'static>(
    state: &Arc<S>,
    f: impl FnOnce(&S) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state)).await.map_err(ApiError::internal)?
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "raqib_session";

/// An error answered as JSON `{"error": "..."}` with a status.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the person reading it.
    pub message: String,
}

impl ApiError {
    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }
    /// 500; the detail goes to the log, not to the caller.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message: "internal error (see the node's log)".into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::InvalidUser(m) => ApiError::bad_request(m),
            crate::Error::Watchlist(w) => w.into(),
            crate::Error::Events(e) => e.into(),
            e => ApiError::internal(e),
        }
    }
}

impl From<raqib_watchlist::Error> for ApiError {
    fn from(e: raqib_watchlist::Error) -> Self {
        use raqib_watchlist::Error as W;
        match e {
            W::Db(_) | W::Open(_) | W::Io { .. } => ApiError::internal(e),
            W::NotFound { .. } => ApiError::not_found(e.to_string()),
            e => ApiError::bad_request(e.to_string()),
        }
    }
}

impl From<raqib_events::Error> for ApiError {
    fn from(e: raqib_events::Error) -> Self {
        match e {
            raqib_events::Error::Search(m) | raqib_events::Error::InvalidId(m) | raqib_events::Error::Invalid(m) => {
                ApiError::bad_request(m)
            }
            raqib_events::Error::Decision(m) => ApiError { status: StatusCode::CONFLICT, message: m },
            raqib_events::Error::NoAlert(_) => ApiError::not_found(e.to_string()),
            raqib_events::Error::Audit(e) => {
                tracing::error!(error = %e, "cannot write the audit log: request refused");
                ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: AUDIT_DOWN.into() }
            }
            e => ApiError::internal(e),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The token a request presents, and how.
pub(crate) enum Presented<'a> {
    /// `Authorization: Bearer <token>` (an API token or a session token).
    Bearer(&'a str),
    /// The console's session cookie.
    Cookie(&'a str),
}

/// The bearer token when there is one, else the session cookie: the one rule for which
/// credential a request uses (authentication and logout both follow it).
pub(crate) fn presented(headers: &HeaderMap) -> Option<Presented<'_>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer {
        return Some(Presented::Bearer(token));
    }
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == SESSION_COOKIE).then_some(Presented::Cookie(v))
    })
}

impl<S: Access> FromRequestParts<Arc<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<S>) -> Result<Self, Self::Rejection> {
        let unauthorised = |m: &str| ApiError { status: StatusCode::UNAUTHORIZED, message: m.into() };
        let (token, bearer) = match presented(&parts.headers) {
            Some(Presented::Bearer(token)) => (token.to_owned(), true),
            Some(Presented::Cookie(token)) => (token.to_owned(), false),
            None => return Err(unauthorised("log in first (or send Authorization: Bearer <token>)")),
        };
        let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !bearer && changes && parts.headers.get("x-raqib-csrf").is_none() {
            return Err(ApiError { status: StatusCode::FORBIDDEN, message: "missing X-Raqib-Csrf header".into() });
        }
        // The users database is looked up off the async workers, like every other store access.
        let who = off_workers(state, move |state| {
            let users = state.users();
            // A bearer is an integration's API token or a session token; a cookie a session.
            if bearer && let Some(p) = users.token(&token).map_err(ApiError::from)? {
                return Ok(Some(p));
            }
            users.session(&token).map_err(ApiError::from)
        })
        .await?;
        let expired = if bearer { "invalid or expired token" } else { "session expired: log in again" };
        who.map(Caller).ok_or_else(|| unauthorised(expired))
    }
}

impl Caller {
    /// Passes when the caller has at least `role`; otherwise records the refusal in the audit
    /// log and answers 403.
    pub async fn require<S: Access>(&self, role: Role, state: &Arc<S>, what: &str) -> Result<(), ApiError> {
        if self.0.role >= role {
            return Ok(());
        }
        let detail = format!("needs {}, has {}", role.as_str(), self.0.role.as_str());
        // The refusal is written off the async workers, before the answer.
        let (caller, what_owned) = (self.clone(), what.to_owned());
        off_workers(state, move |state| {
            audit(state, &caller, "access.denied", Some(&what_owned), None, Some(&detail))?;
            Ok(())
        })
        .await?;
        Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: format!("{what} needs the {} role (you are {})", role.as_str(), self.0.role.as_str()),
        })
    }
}

const AUDIT_DOWN: &str = "the audit log cannot be written: request refused";

/// Appends to the audit log. A record that cannot be written refuses the request (503): the
/// node does not show personal data, or take an action, that its log does not know about.
pub fn audit<S: Access + ?Sized>(
    state: &S,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    let actor = Actor::new(&caller.0.name, reason);
    state.record_audit(actor, action, target, detail).map_err(|e| {
        tracing::error!(error = %e, action, "cannot write the audit log: request refused");
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: AUDIT_DOWN.into() }
    })
}

/// A reason is required for searches, exports and removals, under the one rule of
/// [`raqib_core::Reason`] (the CLI applies the same).
pub fn require_reason(reason: Option<&str>) -> Result<raqib_core::Reason, ApiError> {
    raqib_core::Reason::required(reason).map_err(|e| ApiError::bad_request(format!("{e} for this request")))
}
