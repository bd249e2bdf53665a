//! A real headless Chromium for the console tests (Debian `chromium` + `chromium-driver`),
//! driven over WebDriver with `fantoccini`, each with a profile of its own so the browser is
//! ended even when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use super::{Killed, free_port};

/// The binary's path on `PATH`.
pub fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(bin)).find(|p| p.is_file()))
}

/// Whether chromium and chromedriver are installed (`make setup` installs them); says why not.
pub fn available() -> bool {
    if which("chromedriver").is_some() && which("chromium").is_some() {
        return true;
    }
    eprintln!("SKIPPED: chromium / chromedriver are not installed (make setup installs them)");
    false
}

/// Waits until `GET path` on `url` answers 200.
pub async fn wait_http(url: &str, path: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(url.trim_start_matches("http://")) {
            use std::io::{Read, Write};
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let mut b = [0u8; 64];
            let n = s.read(&mut b).unwrap_or(0);
            if String::from_utf8_lossy(&b[..n]).contains(" 200 ") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not come up");
}

/// Ends every browser process started with this profile directory when dropped.
pub struct EndBrowser(String);

impl Drop for EndBrowser {
    fn drop(&mut self) {
        let _ = Command::new("pkill").args(["-f", "--", &format!("--user-data-dir={}", self.0)]).status();
    }
}

/// A browser session: keep the whole value alive for the test (dropping it ends the driver and
/// the browser).
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _end: EndBrowser,
    _driver: Killed,
}

/// Starts chromedriver and a headless Chromium (1280×1000) whose profile lives in `dir` and
/// which saves downloads to `downloads`.
pub async fn start(dir: &Path, downloads: &Path) -> Browser {
    let driver_port = free_port();
    let driver = Killed(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    wait_http(&format!("http://127.0.0.1:{driver_port}"), "/status", Duration::from_secs(20)).await;
    let profile = dir.join("chromium-profile");
    std::fs::create_dir_all(downloads).expect("downloads folder");
    let end = EndBrowser(profile.display().to_string());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--lang=en-GB", format!("--user-data-dir={}", profile.display())],
            "prefs": { "download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false },
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromedriver session");
    Browser { client, _end: end, _driver: driver }
}
