//! Real servers for tests (feature `test-servers`), started by the tests on 127.0.0.1 in
//! temporary folders:
//! `nats-server` with JetStream (restartable on the same port and store) and a PostgreSQL
//! cluster of its own (run as the `postgres` user when the tests run as root: PostgreSQL refuses
//! root). Both skip the test with a message when the Debian packages are absent.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, reason = "test helpers: a failure panics")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nats_config::{User, server_config};

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
        if Command::new("nats-server").arg("--version").output().is_err() {
            eprintln!("SKIPPED: nats-server is not installed (make setup installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("nats.conf");
        let text =
            server_config(&format!("127.0.0.1:{port}"), &dir.path().join("js").display().to_string(), hub, nodes);
        std::fs::write(&config, text).unwrap();
        let mut n = Nats { port, config, child: None, _dir: dir };
        n.up();
        Some(n)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
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
}

fn pg_bin(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path()).collect();
    versions.sort();
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.is_file())
}

impl Postgres {
    /// `None` (and a message) when PostgreSQL is not installed.
    pub fn start() -> Option<Postgres> {
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
        let mut pg = Postgres { port: free_port(), dir, child: None, as_postgres };
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
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
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
