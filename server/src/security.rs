//! What every response and request passes through: the `Host` check against DNS rebinding, and
//! the headers that keep personal data out of caches, frames and MIME sniffing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Refuses a request whose `Host` names a host this node was not told it is (421), then sets
/// the protective [`headers`].
pub(crate) async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    if !host_allowed(host.as_deref(), &state.config.allowed_hosts) {
        let shown: String = host.unwrap_or_default().chars().take(64).filter(|c| !c.is_control()).collect();
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!("this node does not answer to host `{shown}`: add it to server.allowed_hosts"),
        )
            .into_response();
    }
    headers(req, next).await
}

/// Sets `nosniff`, `frame-ancestors 'none'` / `DENY`, `no-referrer` on every response and
/// `Cache-Control: no-store` on every API response (alerts, reads, crops, persons, audit): the
/// node's and the national hub's middleware alike.
pub async fn headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    }
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Whether `host` (a `Host` header, maybe with a port) may be served: IP literals and
/// `localhost` always (rebinding needs a name), other names only when listed.
pub(crate) fn host_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    let Some(host) = host else { return false };
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next().is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok()),
        None => host.rsplit_once(':').map_or(host, |(n, port)| if port.parse::<u16>().is_ok() { n } else { host }),
    };
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn ip_literals_and_localhost_pass_names_only_when_listed() {
        let listed = vec!["raqib.police.example".to_owned()];
        for ok in
            ["127.0.0.1:8080", "10.1.2.3", "[::1]:8080", "localhost:8080", "LOCALHOST", "raqib.police.example:443"]
        {
            assert!(host_allowed(Some(ok), &listed), "{ok}");
        }
        for bad in
            ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[not-ip]:80", "raqib.police.example.evil"]
        {
            assert!(!host_allowed(Some(bad), &listed), "{bad}");
        }
        assert!(!host_allowed(None, &listed), "HTTP/1.1 needs a Host");
    }
}
