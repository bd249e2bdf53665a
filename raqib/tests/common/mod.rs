//! Helpers shared by the end-to-end tests: running the `raqib` binary in a scratch data
//! directory, reading its output, free ports, child processes that die with the test.

#![allow(dead_code)]

pub mod browser;

use std::path::Path;
use std::process::{Child, Command, Output};

/// `raqib ARGS` in `dir` (also its data directory), with models from `cache`, no config file
/// from the environment.
pub fn raqib(dir: &Path, cache: &Path, args: &[&str]) -> Output {
    command(dir, cache).args(args).output().expect("raqib runs")
}

/// The `raqib` command set up as in [`raqib`], to add arguments or environment to.
pub fn command(dir: &Path, cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_raqib"));
    c.current_dir(dir).env("RAQIB_CACHE_DIR", cache).env("RAQIB_DATA_DIR", dir).env_remove("RAQIB_CONFIG");
    c
}

/// Standard output then standard error, as text.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Asserts success (showing the output otherwise) and returns the output as text.
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
