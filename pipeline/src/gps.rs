//! Live camera position from `gpsd` (portable and patrol cameras): a thread per gpsd address
//! speaks gpsd's JSON protocol (`?WATCH={"enable":true,"json":true}`), keeps the latest
//! position fix (`TPV` with mode ≥ 2), and reconnects with backoff when gpsd goes away. Reads
//! are stamped with the fix when it is recent, else with the camera's static place, else none.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A position fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// When it arrived.
    pub at: Instant,
}

/// Follows one gpsd.
pub struct GpsWatcher {
    latest: Arc<Mutex<Option<Fix>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GpsWatcher {
    /// Starts following gpsd at `addr` (`host:port`).
    pub fn start(addr: &str) -> GpsWatcher {
        let latest = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (latest, stop, addr) = (latest.clone(), stop.clone(), addr.to_owned());
            std::thread::Builder::new().name(format!("gpsd-{addr}")).spawn(move || follow(&addr, &latest, &stop)).ok()
        };
        GpsWatcher { latest, stop, thread }
    }

    /// The latest fix if it is at most `max_age` old.
    pub fn position(&self, max_age: Duration) -> Option<(f64, f64)> {
        let fix = (*self.latest.lock().unwrap_or_else(|p| p.into_inner()))?;
        (fix.at.elapsed() <= max_age).then_some((fix.lat, fix.lon))
    }
}

impl Drop for GpsWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(addr: &str, latest: &Mutex<Option<Fix>>, stop: &AtomicBool) {
    let mut wait = Duration::from_millis(500);
    while !stop.load(Ordering::Relaxed) {
        match session(addr, latest, stop) {
            Ok(()) => wait = Duration::from_millis(500),
            Err(e) => {
                tracing::warn!(gpsd = addr, error = %e, "gpsd unavailable; retrying in {:.1} s", wait.as_secs_f64())
            }
        }
        let until = Instant::now() + wait;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

fn session(addr: &str, latest: &Mutex<Option<Fix>>, stop: &AtomicBool) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"?WATCH={\"enable\":true,\"json\":true};\n")?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "gpsd closed the connection")),
            Ok(_) => {
                if let Some((lat, lon)) = parse_tpv(&line) {
                    *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fix { lat, lon, at: Instant::now() });
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Latitude and longitude of a gpsd `TPV` report with a 2D or 3D fix.
pub fn parse_tpv(line: &str) -> Option<(f64, f64)> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    if v["class"] != "TPV" || v["mode"].as_i64().unwrap_or(0) < 2 {
        return None;
    }
    let (lat, lon) = (v["lat"].as_f64()?, v["lon"].as_f64()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Where each camera is: one gpsd follower per address (cameras on the same vehicle share one),
/// a camera's place being its recent fix (10 s at most), else its configured `lat`/`lon`.
pub struct CameraPlaces {
    watchers: std::collections::HashMap<String, GpsWatcher>,
}

impl CameraPlaces {
    /// Starts a follower for each distinct `gpsd` address of `cameras`.
    pub fn start(cameras: &[crate::CameraConfig]) -> Self {
        let mut watchers = std::collections::HashMap::new();
        for addr in cameras.iter().filter_map(|c| c.gpsd.as_ref()) {
            watchers.entry(addr.clone()).or_insert_with(|| GpsWatcher::start(addr));
        }
        CameraPlaces { watchers }
    }

    /// `cam`'s place now, `(lat, lon)`.
    pub fn place(&self, cam: &crate::CameraConfig) -> Option<(f64, f64)> {
        cam.gpsd
            .as_ref()
            .and_then(|a| self.watchers.get(a))
            .and_then(|g| g.position(Duration::from_secs(10)))
            .or(cam.lat.zip(cam.lon))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpv_reports_with_a_fix_give_a_position() {
        assert_eq!(parse_tpv(r#"{"class":"TPV","mode":3,"lat":33.5731,"lon":-7.5898}"#), Some((33.5731, -7.5898)));
        assert_eq!(parse_tpv(r#"{"class":"TPV","mode":1,"lat":1.0,"lon":2.0}"#), None, "no fix");
        assert_eq!(parse_tpv(r#"{"class":"SKY","satellites":[]}"#), None);
        assert_eq!(parse_tpv("not json"), None);
    }

    /// Against a real gpsd: `gpsfake` (Debian `gpsd-clients` + `gpsd`) replays an NMEA log of a
    /// car in Casablanca.
    #[test]
    fn follows_a_real_gpsd_fed_by_gpsfake() {
        if std::process::Command::new("gpsfake").arg("-h").output().is_err() {
            eprintln!("SKIP: gpsfake not installed (apt install gpsd gpsd-clients; make setup does)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("casablanca.nmea");
        let cs = |s: &str| s.bytes().fold(0u8, |c, b| c ^ b);
        let mut nmea = String::new();
        for i in 0..30 {
            let rmc = format!("GPRMC,1200{i:02}.00,A,3334.386,N,00735.388,W,022.4,084.4,231126,003.1,W");
            let gga = format!("GPGGA,1200{i:02}.00,3334.386,N,00735.388,W,1,08,0.9,50.0,M,46.9,M,,");
            nmea.push_str(&format!("${rmc}*{:02X}\n${gga}*{:02X}\n", cs(&rmc), cs(&gga)));
        }
        std::fs::write(&log, nmea).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut fake = std::process::Command::new("gpsfake")
            .args(["-P", &port.to_string(), "-c", "0.2", "-q"])
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let watcher = GpsWatcher::start(&format!("127.0.0.1:{port}"));
        // gpsfake (Python) and its gpsd start slowly on a loaded two-core machine; the loop ends
        // at the first fix.
        let until = Instant::now() + Duration::from_secs(60);
        let mut got = None;
        while Instant::now() < until && got.is_none() {
            got = watcher.position(Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = fake.kill();
        let _ = fake.wait();
        let (lat, lon) = got.expect("a fix from gpsd within 60 s");
        assert!((lat - 33.5731).abs() < 1e-3 && (lon + 7.5898).abs() < 1e-3, "{lat} {lon}");
    }
}
