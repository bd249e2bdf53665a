//! Log in, log out, who am I.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{ApiError, Caller, SESSION_COOKIE, audit};
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct Login {
    name: String,
    password: String,
}

/// `POST /api/login {name, password}` → session cookie (and the token, for scripts).
pub(crate) async fn login(State(state): State<Arc<AppState>>, body: Json<Login>) -> Result<Response, ApiError> {
    let hours = state.config.session_hours;
    let st = state.clone();
    let name = body.name.clone();
    // argon2 is deliberately slow: keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || {
        st.users().login(&body.name, &body.password, Duration::from_secs(hours * 3600))
    })
    .await
    .map_err(ApiError::internal)??;
    let Some((token, who)) = result else {
        let actor = Caller(crate::users::Principal { name: name.clone(), role: crate::users::Role::Operator });
        audit(&state, &actor, "login.failed", Some(&name), None, None);
        return Err(ApiError { status: StatusCode::UNAUTHORIZED, message: "wrong user name or password".into() });
    };
    let caller = Caller(who.clone());
    audit(&state, &caller, "login", Some(&who.name), None, None);
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", hours * 3600);
    let body = serde_json::json!({ "name": who.name, "role": who.role, "token": token });
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `POST /api/logout`.
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use crate::auth::Presented;
    if let Some(Presented::Bearer(token) | Presented::Cookie(token)) = crate::auth::presented(&headers) {
        state.users().logout(token)?;
    }
    audit(&state, &caller, "logout", Some(&caller.0.name), None, None);
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/me`.
pub(crate) async fn me(State(state): State<Arc<AppState>>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "name": caller.0.name, "role": caller.0.role, "node": state.node_name }))
}
