//! Real servers for tests (feature `test-servers`), started by the tests on 127.0.0.1 in
//! temporary folders:
//! `nats-server` with JetStream (restartable on the same port and store) and a PostgreSQL
//! cluster of its own (run as the `postgres` user when the tests run as root: PostgreSQL refuses
//! root). Both skip the test with a message when the Debian packages are absent.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, reason = "test helpers: a failure panics")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use raqib_watchlist::{Actor, NewPlateEntry, Snapshot, Store};

use crate::nats_config::{User, server_config};

/// A node's data directory: a watchlist listing `plates` (category `stolen_vehicle`) and an
/// events store.
pub fn node_dir(plates: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("watchlist.db")).unwrap();
    for p in plates {
        let new = NewPlateEntry { plate: (*p).into(), category: "stolen_vehicle".into(), ..Default::default() };
        store.add_plate(&new, Actor::new("test", Some("setup"))).unwrap();
    }
    raqib_events::EventStore::open(&dir.path().join("events.db")).unwrap();
    dir
}

/// Stores a hit of `plate` (listed in the node's watchlist) by `camera` in the node's events
/// store, as `raqib run` does; returns its read id.
pub fn raise(events: &mut raqib_events::EventStore, watchlist: &Store, plate: &str, camera: &str) -> i64 {
    let text = raqib_core::PlateText::parse(plate, None).unwrap();
    let hits = Snapshot::load(watchlist, "m").unwrap().match_exact(&text, Utc::now());
    assert!(!hits.is_empty(), "{plate} listed");
    let event = raqib_events::records::PlateEvent::bare(text, 1, 4);
    events.set_handling(raqib_events::handling::HandlingPolicy { repeat_window_s: 0, ..Default::default() });
    events.record_at(camera, Utc::now(), &event, &hits, None).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_port(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A nats-server with JetStream and the deployment's users.
pub struct Nats {
    pub port: u16,
    config: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Nats {
    /// `None` (and a message) when nats-server is not installed.
    pub fn start(hub: &User, nodes: &[User]) -> Option<Nats> {
        Self::start_with(hub, nodes, None)
    }

    /// As [`Nats::start`], serving TLS only with this certificate and key (PEM files).
    pub fn start_tls(hub: &User, nodes: &[User], cert: &Path, key: &Path) -> Option<Nats> {
        Self::start_with(hub, nodes, Some((cert, key)))
    }

    fn start_with(hub: &User, nodes: &[User], tls: Option<(&Path, &Path)>) -> Option<Nats> {
        if Command::new("nats-server").arg("--version").output().is_err() {
            eprintln!("SKIPPED: nats-server is not installed (make setup installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("nats.conf");
        let mut text =
            server_config(&format!("127.0.0.1:{port}"), &dir.path().join("js").display().to_string(), hub, nodes);
        if let Some((cert, key)) = tls {
            text.push_str(&format!("tls {{ cert_file: {:?}, key_file: {:?} }}\n", cert.display(), key.display()));
        }
        std::fs::write(&config, text).unwrap();
        let mut n = Nats { port, config, child: None, _dir: dir };
        n.up();
        Some(n)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The `tls://` URL (a server started with [`Nats::start_tls`]).
    pub fn tls_url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// Starts the server again (same port, same JetStream store).
    pub fn up(&mut self) {
        let child = Command::new("nats-server")
            .args(["-c", &self.config.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_port(self.port, Duration::from_secs(10));
    }

    /// Kills the server (as a crash would).
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.down();
    }
}

/// A PostgreSQL cluster of the test's own.
pub struct Postgres {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    as_postgres: bool,
    durable: bool,
}

fn pg_bin(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path()).collect();
    versions.sort();
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.is_file())
}

impl Postgres {
    /// `None` (and a message) when PostgreSQL is not installed. Tests run it with `fsync=off`.
    pub fn start() -> Option<Postgres> {
        Self::start_with(false)
    }

    /// As [`Postgres::start`], with every commit flushed to disk as in production (the bench).
    pub fn start_durable() -> Option<Postgres> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Option<Postgres> {
        let (Some(initdb), Some(_)) = (pg_bin("initdb"), pg_bin("postgres")) else {
            eprintln!("SKIPPED: PostgreSQL is not installed (make setup installs it)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres", &dir.path().display().to_string()])
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = dir.path().join("data");
        let out = Self::cmd(as_postgres, &initdb)
            .args(["-D", &data.display().to_string(), "-A", "trust", "-U", "raqib", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let mut pg = Postgres { port: free_port(), dir, child: None, as_postgres, durable };
        pg.up();
        Some(pg)
    }

    fn cmd(as_postgres: bool, bin: &Path) -> Command {
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        }
    }

    pub fn conninfo(&self) -> String {
        format!("host=127.0.0.1 port={} user=raqib dbname=postgres", self.port)
    }

    pub fn up(&mut self) {
        let data = self.dir.path().join("data");
        let child = Self::cmd(self.as_postgres, &pg_bin("postgres").unwrap())
            .args([
                "-D",
                &data.display().to_string(),
                "-p",
                &self.port.to_string(),
                "-k",
                &self.dir.path().display().to_string(),
            ])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", if self.durable { "fsync=on" } else { "fsync=off" }])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_port(self.port, Duration::from_secs(30));
    }

    /// Stops the server (`pg_ctl stop -m fast`: connections are cut at once).
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let data = self.dir.path().join("data");
            let _ = Self::cmd(self.as_postgres, &pg_bin("pg_ctl").unwrap())
                .args(["-D", &data.display().to_string(), "-m", "fast", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.down();
    }
}

/// A private CA and a certificate for `127.0.0.1` signed by it, made with the `openssl` command
/// in `dir`: (ca.pem, server.pem, server.key). `None` (and a message) without `openssl`.
pub fn private_ca(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl is not installed (make setup installs it)");
        return None;
    }
    let p = |name: &str| dir.join(name).display().to_string();
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=raqib test CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("server.key"),
        "-out",
        &p("server.csr"),
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &p("server.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("server.pem"),
    ]);
    Some((dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key")))
}

/// Waits for `check` to hold, polling every 100 ms; panics naming `what` at `timeout`.
pub async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Follows a national live stream (`GET /api/alerts/stream`'s answer): each `event: alert` is
/// sent on as (alert, when its bytes arrived) until the stream or the receiver ends.
pub fn live_alerts(
    resp: reqwest::Response,
) -> (tokio::sync::mpsc::UnboundedReceiver<(serde_json::Value, Instant)>, tokio::task::JoinHandle<()>) {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            let at = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(str::to_owned));
                if field("event: ").as_deref() != Some("alert") {
                    continue;
                }
                let Some(alert) = field("data: ").and_then(|d| serde_json::from_str(&d).ok()) else { continue };
                if tx.send((alert, at)).is_err() {
                    return;
                }
            }
        }
    });
    (rx, task)
}

/// Starts the hub link of the node whose data directory is `dir`, as `node` with `password`
/// (written to `dir/nats.password`), to `url`.
pub fn link(
    url: &str,
    node: &str,
    password: &str,
    dir: &Path,
    forward_reads: bool,
    ca_file: Option<PathBuf>,
) -> crate::node::HubLink {
    let password_file = dir.join("nats.password");
    std::fs::write(&password_file, password).unwrap();
    let cfg = crate::node::HubLinkConfig {
        nats_url: url.to_owned(),
        node_id: node.into(),
        password_file,
        forward_reads,
        ca_file,
    };
    crate::node::start(cfg, dir.to_path_buf()).unwrap()
}

/// A node's events store and watchlist, opened (to raise hits and read its replica).
pub fn stores(dir: &Path) -> (raqib_events::EventStore, Store) {
    (raqib_events::EventStore::open(&dir.join("events.db")).unwrap(), Store::open(&dir.join("watchlist.db")).unwrap())
}
