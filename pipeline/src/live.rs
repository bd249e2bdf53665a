//! Live cameras: one ingest thread per camera that keeps its stream open (reconnecting with
//! exponential backoff and jitter when it fails), takes frames at the camera's analysis rate and
//! hands the newest one to the analysis side through a one-frame leaky slot: when analysis is
//! behind, the older frame is dropped and counted, never queued. A dead camera only ever stalls
//! its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

pub use raqib_events::health::{CameraHealth, CameraState};

use crate::camera::{CameraConfig, CameraSource};
use crate::ingest::{Frame, FrameSource};

/// Reconnection timing: `initial` doubled per failure up to `max`, each wait scaled by a
/// random factor in [1 − jitter, 1 + jitter] so many cameras do not retry in lockstep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Relative jitter (0–1).
    pub jitter: f64,
    /// A camera silent this long is treated as failed.
    pub stall: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            jitter: 0.2,
            stall: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The wait before attempt `failures` (1 = after the first failure), with `noise` in [0, 1).
    pub fn delay(&self, failures: u32, noise: f64) -> Duration {
        let base = self.initial.as_secs_f64() * 2f64.powi(failures.saturating_sub(1).min(20) as i32);
        let capped = base.min(self.max.as_secs_f64());
        Duration::from_secs_f64(capped * (1.0 + self.jitter * (2.0 * noise - 1.0)))
    }
}

/// The newest sampled frame of a camera, waiting for analysis.
struct Slot {
    frame: Mutex<Option<Frame>>,
}

/// What the ingest threads share with the analysis side.
pub struct LiveShared {
    slots: Vec<Slot>,
    health: Vec<Mutex<CameraHealth>>,
    ready: (Mutex<u64>, Condvar),
    stop: AtomicBool,
}

impl LiveShared {
    /// Takes the waiting frame of every camera that has one (camera index, frame), waiting up
    /// to `timeout` for the first.
    pub fn take_ready(&self, timeout: Duration) -> Vec<(usize, Frame)> {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &self.ready;
        // Slots are checked with `ready` held and producers notify under it, so a frame put
        // in a slot after the check wakes the wait below: no wake-up is lost.
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let frames: Vec<(usize, Frame)> = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.frame.lock().unwrap_or_else(|p| p.into_inner()).take().map(|f| (i, f)))
                .collect();
            let now = Instant::now();
            if !frames.is_empty() || now >= deadline {
                return frames;
            }
            guard = cvar.wait_timeout(guard, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Counts an analysed frame of camera `index`.
    pub fn analysed(&self, index: usize) {
        if let Some(h) = self.health.get(index) {
            h.lock().unwrap_or_else(|p| p.into_inner()).frames_analysed += 1;
        }
    }

    /// A snapshot of every camera's health.
    pub fn health(&self) -> Vec<CameraHealth> {
        self.health.iter().map(|h| h.lock().unwrap_or_else(|p| p.into_inner()).clone()).collect()
    }

    /// Frames waiting for analysis now (at most one per camera: the newest is kept).
    pub fn waiting(&self) -> usize {
        self.slots.iter().filter(|s| s.frame.lock().unwrap_or_else(|p| p.into_inner()).is_some()).count()
    }

    /// Whether shutdown was asked.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The running ingest threads.
pub struct Live {
    /// Shared with the analysis side.
    pub shared: Arc<LiveShared>,
    threads: Vec<JoinHandle<()>>,
}

impl Live {
    /// Starts one ingest thread per camera.
    pub fn start(cameras: &[CameraConfig], backoff: Backoff) -> Live {
        let shared = Arc::new(LiveShared {
            slots: cameras.iter().map(|_| Slot { frame: Mutex::new(None) }).collect(),
            health: cameras
                .iter()
                .map(|c| {
                    Mutex::new(CameraHealth {
                        id: c.id.clone(),
                        name: c.display_name().to_owned(),
                        state: CameraState::Connecting,
                        frames_in: 0,
                        frames_sampled: 0,
                        frames_analysed: 0,
                        drops: 0,
                        reconnects: 0,
                        last_error: None,
                        last_frame_at: None,
                        fps_in: 0.0,
                    })
                })
                .collect(),
            ready: (Mutex::new(0), Condvar::new()),
            stop: AtomicBool::new(false),
        });
        let threads = cameras
            .iter()
            .enumerate()
            .map(|(i, cam)| {
                let shared = shared.clone();
                let cam = cam.clone();
                #[expect(
                    clippy::expect_used,
                    reason = "no camera can run without its thread: a failed spawn (out of threads) is fatal at start"
                )]
                std::thread::Builder::new()
                    .name(format!("cam-{}", cam.id))
                    .spawn(move || ingest_loop(i, &cam, &shared, backoff))
                    .expect("spawning a camera thread")
            })
            .collect();
        Live { shared, threads }
    }

    /// Asks every camera thread to stop and waits for them.
    pub fn stop(self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn uri_of(cam: &CameraConfig) -> Result<String, String> {
    match cam.source()? {
        CameraSource::Rtsp(u) | CameraSource::Http(u) => Ok(u),
        CameraSource::File(p) => {
            let abs = p.canonicalize().map_err(|e| format!("{}: {e}", p.display()))?;
            gstreamer::glib::filename_to_uri(&abs, None).map(|u| u.to_string()).map_err(|e| e.to_string())
        }
        CameraSource::V4l2(dev) => Ok(format!("v4l2://{}", dev.display())),
    }
}

fn ingest_loop(index: usize, cam: &CameraConfig, shared: &LiveShared, backoff: Backoff) {
    let health = &shared.health[index];
    let set = |f: &dyn Fn(&mut CameraHealth)| f(&mut health.lock().unwrap_or_else(|p| p.into_inner()));
    let mut failures = 0u32;
    let mut ever_streamed = false;
    let mut noise = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while !shared.stopping() {
        set(&|h| h.state = CameraState::Connecting);
        let outcome = uri_of(cam).map_err(|e| e.to_string()).and_then(|uri| {
            let max_rate = cam.analysis_fps.ceil() as u32;
            let mut source = FrameSource::open_live(&uri, &cam.id, max_rate, cam.rtsp()).map_err(|e| e.to_string())?;
            let mut gate = crate::ingest::RateGate::new(f64::from(cam.analysis_fps));
            let mut window = (Instant::now(), 0u64);
            let decoded_before = health.lock().unwrap_or_else(|p| p.into_inner()).frames_in;
            let opened = Instant::now();
            loop {
                if shared.stopping() {
                    return Ok(());
                }
                let mut frame = match source.next_frame_within(Some(backoff.stall)) {
                    Ok(Some(f)) => f,
                    Ok(None) => return Err("end of stream".to_owned()),
                    Err(e) => return Err(e.to_string()),
                };
                if failures > 0 || !ever_streamed {
                    if failures > 0 {
                        tracing::warn!(camera = %cam.id, "reconnected after {failures} failed attempt(s)");
                        set(&|h| h.reconnects += 1);
                    }
                    failures = 0;
                    ever_streamed = true;
                    set(&|h| h.state = CameraState::Streaming);
                }
                let decoded = source.decoded_frames();
                // Frame numbers continue across reconnections (a new stream counts from 0 again,
                // and tracks of the camera span the gap).
                frame.index = decoded_before + decoded.saturating_sub(1);
                let elapsed = window.0.elapsed().as_secs_f64();
                let fps = if elapsed >= 2.0 { Some((decoded - window.1) as f64 / elapsed) } else { None };
                if fps.is_some() {
                    window = (Instant::now(), decoded);
                }
                set(&|h| {
                    h.frames_in = decoded_before + decoded;
                    h.last_frame_at = Some(SystemTime::now());
                    if let Some(f) = fps {
                        h.fps_in = f;
                    }
                });
                // Sample at the analysis rate by media time (wall time when there is none);
                // GStreamer already thinned frames with timestamps on the same grid.
                if !gate.admit(frame.pts.unwrap_or_else(|| opened.elapsed())) {
                    continue;
                }
                let dropped =
                    shared.slots[index].frame.lock().unwrap_or_else(|p| p.into_inner()).replace(frame).is_some();
                set(&|h| {
                    h.frames_sampled += 1;
                    if dropped {
                        h.drops += 1;
                    }
                });
                let (lock, cvar) = &shared.ready;
                *lock.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                cvar.notify_one();
            }
        });
        if shared.stopping() {
            break;
        }
        let message = match outcome {
            Ok(()) => break,
            Err(e) => e,
        };
        failures += 1;
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let wait = backoff.delay(failures, (noise >> 11) as f64 / (1u64 << 53) as f64);
        tracing::warn!(camera = %cam.id, error = %message, "stream failed; retrying in {:.1} s", wait.as_secs_f64());
        set(&|h| {
            h.state = CameraState::Reconnecting;
            h.last_error = Some(message.clone());
        });
        let until = Instant::now() + wait;
        while Instant::now() < until && !shared.stopping() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    set(&|h| h.state = CameraState::Stopped);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(n: usize) -> LiveShared {
        LiveShared {
            slots: (0..n).map(|_| Slot { frame: Mutex::new(None) }).collect(),
            health: vec![],
            ready: (Mutex::new(0), Condvar::new()),
            stop: AtomicBool::new(false),
        }
    }

    fn frame(index: u64) -> Frame {
        Frame { image: raqib_models::RgbImage { width: 1, height: 1, data: vec![0; 3] }, pts: None, index }
    }

    #[test]
    fn waiting_frames_are_taken_at_once_and_a_new_one_wakes_the_wait() {
        let s = Arc::new(shared(2));
        // Already waiting (its notification long gone): no wait at all.
        *s.slots[1].frame.lock().unwrap() = Some(frame(7));
        let t = Instant::now();
        let got = s.take_ready(Duration::from_secs(5));
        assert!(t.elapsed() < Duration::from_millis(500));
        assert_eq!(got.iter().map(|(i, f)| (*i, f.index)).collect::<Vec<_>>(), [(1, 7)]);
        // Nothing waiting: a frame arriving later wakes the wait before its timeout.
        let producer = {
            let s = s.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                *s.slots[0].frame.lock().unwrap() = Some(frame(8));
                let (lock, cvar) = &s.ready;
                *lock.lock().unwrap() += 1;
                cvar.notify_one();
            })
        };
        let t = Instant::now();
        let got = s.take_ready(Duration::from_secs(5));
        assert!(t.elapsed() < Duration::from_secs(2), "woken by the frame, not the timeout");
        assert_eq!(got.len(), 1);
        producer.join().unwrap();
        assert!(s.take_ready(Duration::from_millis(50)).is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.5), Duration::from_millis(500));
        assert_eq!(b.delay(2, 0.5), Duration::from_secs(1));
        assert_eq!(b.delay(4, 0.5), Duration::from_secs(4));
        assert_eq!(b.delay(30, 0.5), Duration::from_secs(30), "capped");
        let low = b.delay(3, 0.0).as_secs_f64();
        let high = b.delay(3, 0.999_999).as_secs_f64();
        assert!((low - 1.6).abs() < 1e-6 && (high - 2.4).abs() < 1e-3, "{low} {high}");
    }
}
