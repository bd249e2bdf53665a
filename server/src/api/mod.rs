//! The HTTP routes: JSON API under `/api`, the live alert stream, metrics and probes, and the
//! console's static files. `openapi.yaml` at the crate root documents the API (served at
//! `/api/openapi.yaml`).

mod alerts;
mod misc;
pub mod openapi_check;
mod search;
pub mod session;
mod watchlist;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/login", post(session::login::<AppState>))
        .route("/api/logout", post(session::logout::<AppState>))
        .route("/api/me", get(session::me))
        .route("/api/me/language", post(session::language::<AppState>))
        .route("/api/cameras", get(misc::cameras))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/stream", get(crate::live::stream))
        .route("/api/alerts/policy", get(alerts::policy))
        .route("/api/alerts/{id}", get(alerts::one).delete(alerts::delete))
        .route("/api/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route("/api/alerts/{id}/escalate", post(alerts::escalate))
        .route("/api/alerts/{id}/confirm", post(alerts::confirm))
        .route("/api/alerts/{id}/reject", post(alerts::reject))
        .route("/api/alerts/{id}/enrol", post(alerts::enrol))
        .route("/api/alerts/{id}/crop.jpg", get(alerts::crop))
        .route("/api/alerts/{id}/frame.jpg", get(alerts::frame))
        .route("/api/alerts/{id}/evidence.zip", get(alerts::evidence))
        .route("/api/reads", get(search::reads))
        .route("/api/reads/{id}/crop.jpg", get(search::read_crop))
        .route("/api/search/face", post(search::face))
        .route("/api/watchlist/plates", get(watchlist::plates).post(watchlist::add_plate))
        .route("/api/watchlist/plates/{id}", axum::routing::delete(watchlist::remove_plate))
        .route("/api/watchlist/persons", get(watchlist::persons).post(watchlist::enrol_person))
        .route("/api/watchlist/persons/{id}", axum::routing::delete(watchlist::remove_person))
        .route("/api/audit", get(misc::audit_log))
        .route("/api/openapi.yaml", get(misc::openapi))
        .route("/metrics", get(misc::metrics))
        .route("/healthz", get(misc::healthz))
        .route("/readyz", get(misc::readyz))
        .route("/", get(crate::console::index))
        .route("/console/{file}", get(crate::console::asset))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::security::guard))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Every API route is described in `openapi.yaml` (and the description names no route that
    /// does not exist).
    #[test]
    fn openapi_describes_exactly_the_routes() {
        let routes = super::openapi_check::routed_paths(include_str!("mod.rs"));
        assert!(routes.len() >= 20, "{routes:?}");
        assert_eq!(routes, super::openapi_check::described_paths(include_str!("../../openapi.yaml")));
    }
}
