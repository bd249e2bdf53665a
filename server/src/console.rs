//! The web console: one HTML page with plain JavaScript and CSS, compiled into the binary
//! (no build toolchain, no files to deploy). It talks only to the JSON API and the SSE stream.
//! `i18n.js` holds every string in Arabic (right to left), French and English.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../console/index.html");
const APP_JS: &str = include_str!("../console/app.js");
/// Every string of the consoles (the node's and the national hub's) in Arabic, French, English.
pub const I18N_JS: &str = include_str!("../console/i18n.js");
/// Building elements, plates in their written order, JSON calls: both consoles'.
pub const DOM_JS: &str = include_str!("../console/dom.js");
/// The consoles' style sheet.
pub const STYLE: &str = include_str!("../console/style.css");

/// Headers every console file carries: no framing by other sites, a strict content policy
/// (scripts and styles only from the node itself).
pub fn secure(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
pub(crate) async fn index() -> Response {
    secure("text/html; charset=utf-8", INDEX)
}

/// `GET /console/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => secure("text/javascript; charset=utf-8", APP_JS),
        "i18n.js" => secure("text/javascript; charset=utf-8", I18N_JS),
        "dom.js" => secure("text/javascript; charset=utf-8", DOM_JS),
        "style.css" => secure("text/css; charset=utf-8", STYLE),
        _ => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
