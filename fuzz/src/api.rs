//! The console API: request bodies and query strings of every route that takes input, sent to
//! the real router (real stores in a scratch folder, an administrator's token) without a socket.
//! Invariants: no panic, and bad input gets a 4xx answer, never a server error (5xx).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use raqib_core::Embedding;
use raqib_events::health::CameraHealth;
use raqib_server::{AppState, Metrics, Node, Role, ServerConfig, UserStore};
use tower::ServiceExt;

const PASSWORD: &str = "a long fuzzing password";

/// The routes that read a body or a query, with their method and content type.
const ROUTES: &[(Method, &str, &str)] = &[
    (Method::POST, "/api/login", "application/json"),
    (Method::POST, "/api/watchlist/plates", "application/json"),
    (Method::GET, "/api/watchlist/plates", ""),
    (Method::POST, "/api/watchlist/persons", "multipart/form-data; boundary=XyZ"),
    (Method::POST, "/api/search/face", "multipart/form-data; boundary=XyZ"),
    (Method::GET, "/api/reads", ""),
    (Method::GET, "/api/alerts", ""),
    (Method::POST, "/api/alerts/1/acknowledge", "application/json"),
    (Method::POST, "/api/alerts/1/escalate", "application/json"),
    (Method::DELETE, "/api/alerts/1", ""),
    (Method::DELETE, "/api/watchlist/plates/1", ""),
    (Method::GET, "/api/audit", ""),
];

/// No cameras, no face model: uploads get as far as the embedding step and are refused there.
struct FuzzNode;

impl Node for FuzzNode {
    fn cameras(&self) -> Vec<CameraHealth> {
        Vec::new()
    }
    fn embed_face(&self, _: &[u8]) -> Result<Embedding, String> {
        Err("no face in this photo".into())
    }
    fn face_model(&self) -> String {
        "fuzz-model".into()
    }
}

struct Api {
    _dir: tempfile::TempDir,
    router: Router,
    token: String,
    runtime: tokio::runtime::Runtime,
}

fn setup() -> Api {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a scratch folder: {e}"));
    let mut users = UserStore::open(&dir.path().join("users.db")).unwrap_or_else(|e| panic!("the users store: {e}"));
    users.add_user("boss", Role::Admin, PASSWORD, false).unwrap_or_else(|e| panic!("a user: {e}"));
    let (token, _) = users
        .login("boss", PASSWORD, std::time::Duration::from_secs(3600))
        .unwrap_or_else(|e| panic!("a session: {e}"))
        .unwrap_or_else(|| panic!("the password was refused"));
    raqib_events::EventStore::open(&dir.path().join("events.db")).unwrap_or_else(|e| panic!("events: {e}"));
    let state = AppState::open(
        ServerConfig::default(),
        raqib_server::Rules::default(),
        dir.path(),
        "fuzz",
        Arc::new(FuzzNode),
        Metrics::new(Arc::new(|| 0)),
    )
    .unwrap_or_else(|e| panic!("the server state: {e}"));
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("a runtime: {e}"));
    Api { _dir: dir, router: raqib_server::api::router(Arc::new(state)), token, runtime }
}

thread_local! {
    static API: RefCell<Option<Api>> = const { RefCell::new(None) };
}

/// The target: the first byte picks the route; the rest is `query` NUL `body` (no NUL: all body).
pub fn api(data: &[u8]) {
    let Some((pick, rest)) = data.split_first() else { return };
    let (method, path, content_type) = &ROUTES[usize::from(*pick) % ROUTES.len()];
    let (query, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let query: String = crate::text(query).chars().filter(|c| c.is_ascii_graphic()).collect();
    let uri = if query.is_empty() { (*path).to_owned() } else { format!("{path}?{query}") };
    API.with(|api| {
        let mut api = api.borrow_mut();
        let api = api.get_or_insert_with(setup);
        let mut request = Request::builder().method(method.clone()).uri(&uri).header("host", "127.0.0.1");
        if !content_type.is_empty() {
            request = request.header("content-type", *content_type);
        }
        // The login route is for people without a token; the others act as an administrator.
        if *path != "/api/login" {
            request = request.header("authorization", format!("Bearer {}", api.token));
        }
        let Ok(mut request) = request.body(Body::from(body.to_vec())) else { return };
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let router = api.router.clone();
        let status = api.runtime.block_on(router.oneshot(request)).unwrap_or_else(|never| match never {}).status();
        assert!(!status.is_server_error(), "{method} {uri} with {} body bytes answered {status}", body.len());
    });
}
