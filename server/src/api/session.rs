//! Log in, log out, who am I. Login, logout and the console language serve the national hub
//! too (generic over [`Access`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Access, ApiError, Caller, SESSION_COOKIE, audit, off_workers};
use crate::state::AppState;

/// `POST /api/login`'s body.
#[derive(Deserialize)]
pub struct Login {
    name: String,
    password: String,
}

/// `POST /api/login {name, password}` → session cookie (and the token, for scripts).
///
/// Wrong passwords earn the address and the user name a growing wait (429 with `Retry-After`,
/// checked before any hashing); at most `HASHING_SLOTS` argon2 checks run at once, on the
/// blocking pool and outside the users store's lock, so a flood cannot stall other requests.
pub async fn login<S: Access>(
    State(state): State<Arc<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Json<Login>,
) -> Result<Response, ApiError> {
    let Json(Login { name, password }) = body;
    let addr = peer.ip();
    if let Some(wait) = state.logins().wait(addr, &name, Instant::now()) {
        let secs = wait.as_secs().max(1);
        let headers = [(header::RETRY_AFTER, secs.to_string())];
        let message = format!("too many failed logins: try again in {secs} s");
        return Ok((StatusCode::TOO_MANY_REQUESTS, headers, message).into_response());
    }
    let permit = tokio::time::timeout(Duration::from_secs(5), state.hashing().clone().acquire_owned())
        .await
        .map_err(|_| ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: "busy: try again".into() })?
        .map_err(ApiError::internal)?;
    let (hours, secure) = state.session_cookie();
    let st = state.clone();
    // The check, the session and the audit record run on the blocking pool.
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let cred = st.users().credential(&name)?;
        if !crate::users::check_password(cred.as_ref(), &password) {
            let wait = st.logins().failed(addr, &name, Instant::now());
            let actor = Caller(crate::users::Principal::new(name.clone(), crate::users::Role::Operator));
            let detail = format!("from {addr}; next attempt allowed in {} s", wait.as_secs());
            audit(&*st, &actor, "login.failed", Some(&name), None, Some(&detail))?;
            return Ok(None);
        }
        let Some(cred) = cred else { return Ok(None) };
        let (token, who) = st.users().open_session(&cred, Duration::from_secs(hours * 3600))?;
        st.logins().succeeded(addr, &name);
        audit(&*st, &Caller(who.clone()), "login", Some(&who.name), None, Some(&format!("from {addr}")))?;
        Ok::<_, ApiError>(Some((token, who)))
    })
    .await
    .map_err(ApiError::internal)??;
    let Some((token, who)) = result else {
        return Err(ApiError { status: StatusCode::UNAUTHORIZED, message: "wrong user name or password".into() });
    };
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", hours * 3600);
    let body = serde_json::json!({ "name": who.name, "role": who.role, "token": token });
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `POST /api/logout`.
pub async fn logout<S: Access>(
    State(state): State<Arc<S>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use crate::auth::Presented;
    let token = match crate::auth::presented(&headers) {
        Some(Presented::Bearer(token) | Presented::Cookie(token)) => Some(token.to_owned()),
        None => None,
    };
    off_workers(&state, move |state| {
        if let Some(token) = token {
            state.users().logout(&token)?;
        }
        audit(state, &caller, "logout", Some(&caller.0.name), None, None)?;
        Ok(())
    })
    .await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/me`.
pub(crate) async fn me(State(state): State<Arc<AppState>>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": caller.0.name, "role": caller.0.role, "node": state.node_name,
        "lists": caller.0.lists, "language": caller.0.language,
    }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
/// `POST /api/me/language`'s body.
pub struct LanguageBody {
    language: String,
}

/// `POST /api/me/language {language}`: remembers the caller's console language (`ar`, `fr`,
/// `en`).
pub async fn language<S: Access>(
    State(state): State<Arc<S>>,
    caller: Caller,
    body: Result<Json<LanguageBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, crate::auth::ApiError> {
    let Json(body) = body.map_err(|e| crate::auth::ApiError { status: e.status(), message: e.body_text() })?;
    if caller.0.name.starts_with("token:") {
        return Err(crate::auth::ApiError::bad_request("API tokens have no console language"));
    }
    off_workers(&state, move |state| {
        state
            .users()
            .set_language(&caller.0.name, &body.language)
            .map_err(|e| crate::auth::ApiError::bad_request(e.to_string()))?;
        Ok(Json(serde_json::json!({ "language": body.language })))
    })
    .await
}
