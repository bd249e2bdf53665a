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
    // The login and its audit record are written there too.
    let result = tokio::task::spawn_blocking(move || {
        let result = st.users().login(&body.name, &body.password, Duration::from_secs(hours * 3600))?;
        match &result {
            Some((_, who)) => audit(&st, &Caller(who.clone()), "login", Some(&who.name), None, None),
            None => {
                let actor = Caller(crate::users::Principal { name: name.clone(), role: crate::users::Role::Operator });
                audit(&st, &actor, "login.failed", Some(&name), None, None);
            }
        }
        Ok::<_, ApiError>(result)
    })
    .await
    .map_err(ApiError::internal)??;
    let Some((token, who)) = result else {
        return Err(ApiError { status: StatusCode::UNAUTHORIZED, message: "wrong user name or password".into() });
    };
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
    let token = match crate::auth::presented(&headers) {
        Some(Presented::Bearer(token) | Presented::Cookie(token)) => Some(token.to_owned()),
        None => None,
    };
    state
        .blocking(move |state| {
            if let Some(token) = token {
                state.users().logout(&token)?;
            }
            audit(state, &caller, "logout", Some(&caller.0.name), None, None);
            Ok(())
        })
        .await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/me`.
pub(crate) async fn me(State(state): State<Arc<AppState>>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "name": caller.0.name, "role": caller.0.role, "node": state.node_name }))
}
