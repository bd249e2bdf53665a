//! The national console: one page (`hub/console/hub.html`, `hub.js`), compiled into the binary
//! like the node's, sharing the node console's style sheet and its strings in Arabic, French
//! and English (`i18n.js`).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use raqib_server::console::{DOM_JS, I18N_JS, STYLE, secure};

const INDEX: &str = include_str!("../../console/hub.html");
const HUB_JS: &str = include_str!("../../console/hub.js");

/// `GET /`.
pub(crate) async fn index() -> Response {
    secure("text/html; charset=utf-8", INDEX)
}

/// `GET /console/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "hub.js" => secure("text/javascript; charset=utf-8", HUB_JS),
        "i18n.js" => secure("text/javascript; charset=utf-8", I18N_JS),
        "dom.js" => secure("text/javascript; charset=utf-8", DOM_JS),
        "style.css" => secure("text/css; charset=utf-8", STYLE),
        _ => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
