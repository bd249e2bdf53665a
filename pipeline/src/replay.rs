//! Analyst replay of one recorded file through the shared analysis path ([`StreamAnalysis`]):
//! every frame decoded (none dropped; `every` analyses one in N), each outcome handed to the
//! caller as it happens, and what was found gathered into a [`ReplayedFile`] for the report
//! ([`crate::report`]). `raqib replay` drives it; `raqib run` and `raqib bench video` push
//! frames into the same [`StreamAnalysis`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use raqib_core::AnalysisPolicy;
use raqib_events::records::{FaceSighting, PlateEvent};
use raqib_watchlist::{PlateMatch, Snapshot};
use serde::Serialize;

use crate::ingest::FrameSource;
use crate::stream::{Models, Outcome, StreamAnalysis};

/// One read in the report, with its watchlist matches.
#[derive(Debug, Serialize)]
pub struct ReportRead {
    /// The voted read.
    #[serde(flatten)]
    pub event: PlateEvent,
    /// Its watchlist matches (empty: no hit).
    pub hits: Vec<PlateMatch>,
}

/// One replayed file.
#[derive(Debug, Serialize)]
pub struct ReplayedFile {
    /// The file.
    pub file: PathBuf,
    /// Why it could not be replayed to its end (missing, corrupt, truncated); what was found
    /// before is kept.
    pub error: Option<String>,
    /// Something looks wrong but every frame there was got analysed (e.g. the stream ended well
    /// before the duration its container states: a truncated copy).
    pub warning: Option<String>,
    /// Frames decoded.
    pub frames: u64,
    /// Frames analysed.
    pub analysed: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Decoded frames per second of wall time.
    pub fps: f64,
    /// One read per vehicle.
    pub reads: Vec<ReportRead>,
    /// Watchlist persons seen (one per face track that matched).
    pub faces: Vec<FaceSighting>,
    /// Faces gated, embedded, and tracks that matched nobody or not consistently: counted
    /// only, nothing about them is kept.
    pub face_counts: crate::faces::FaceCounts,
}

impl ReplayedFile {
    /// Plate reads that hit the watchlist.
    pub fn hits(&self) -> usize {
        self.reads.iter().filter(|r| !r.hits.is_empty()).count()
    }

    /// `N frames (N analysed) in S s = F fps; N plate read(s), N hit(s)`, and with `faces` the
    /// watchlist face sightings and the face tracks not kept.
    pub fn summary(&self, faces: bool) -> String {
        let mut s = format!(
            "{} frames ({} analysed) in {:.1} s = {:.1} fps; {} plate read(s), {} hit(s)",
            self.frames,
            self.analysed,
            self.seconds,
            self.fps,
            self.reads.len(),
            self.hits()
        );
        if faces {
            let c = &self.face_counts;
            s.push_str(&format!(
                "; {} watchlist face sighting(s), {} other face track(s) not kept ({} unconfirmed); \
                 face looks gated: {} too small, {} blurred, {} turned away",
                self.faces.len(),
                c.unmatched_tracks + c.unconfirmed_tracks,
                c.unconfirmed_tracks,
                c.too_small,
                c.blurred,
                c.turned_away
            ));
        }
        s
    }
}

impl Progress {
    /// `42% 1200 frames 73.5 fps ETA 12 s` (`?` when the duration is not known).
    pub fn text(&self) -> String {
        let fps = self.frames as f64 / self.elapsed.as_secs_f64().max(1e-9);
        let (pct, eta) = match (self.pts, self.duration) {
            (Some(p), Some(d)) if d.as_secs_f64() > 0.0 && p.as_secs_f64() > 0.0 => {
                let done = (p.as_secs_f64() / d.as_secs_f64()).min(1.0);
                let eta = self.elapsed.as_secs_f64() * (1.0 - done) / done.max(1e-6);
                (format!("{:.0}%", done * 100.0), format!("ETA {eta:.0} s"))
            }
            _ => ("?".into(), "ETA ?".into()),
        };
        format!("{pct} {} frames {fps:.1} fps {eta}", self.frames)
    }
}

/// Where a replay is, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Media time of the last frame.
    pub pts: Option<Duration>,
    /// The container's duration.
    pub duration: Option<Duration>,
    /// Frames decoded so far.
    pub frames: u64,
    /// Since the file was opened.
    pub elapsed: Duration,
}

/// Replays `path`: `on_outcome` gets every outcome as it is found (print, record…) before it
/// is kept in the returned file; `on_progress` about once a second. A decoding error ends the
/// file with [`ReplayedFile::error`] set; tracks still open are reported first, so nothing seen
/// is lost. When `stop` becomes true (SIGINT/SIGTERM) the replay stops at the next frame the
/// same way: open tracks are finished and reported, and the error says where it stopped.
#[allow(clippy::too_many_arguments)]
pub fn replay_file(
    mut models: Models<'_>,
    gallery: Option<&Snapshot>,
    policy: &AnalysisPolicy,
    path: &Path,
    every: u64,
    stop: &AtomicBool,
    on_outcome: &mut dyn FnMut(&Outcome),
    on_progress: &mut dyn FnMut(Progress),
) -> ReplayedFile {
    let started = Instant::now();
    let mut file = ReplayedFile {
        file: path.to_owned(),
        error: None,
        warning: None,
        frames: 0,
        analysed: 0,
        seconds: 0.0,
        fps: 0.0,
        reads: vec![],
        faces: vec![],
        face_counts: Default::default(),
    };
    let mut keep = |o: Outcome, file: &mut ReplayedFile| {
        on_outcome(&o);
        match o {
            Outcome::Plate { read, hits } => file.reads.push(ReportRead { event: read, hits }),
            Outcome::Face(f) => file.faces.push(f),
        }
    };
    // The file is its own camera: entries scoped to cameras or an area do not alert in a replay
    // unless they name it.
    let mut analysis = StreamAnalysis::new(policy)
        .at(crate::stream::Place { camera: path.display().to_string(), ..Default::default() });
    let result = (|| -> crate::Result<()> {
        let mut source = FrameSource::open_file(path)?;
        let mut last_progress = Instant::now();
        let mut last_pts = None;
        let every = every.max(1);
        while let Some(frame) = source.next_frame()? {
            if stop.load(Ordering::Relaxed) {
                return Err(crate::Error::source(path.display().to_string(), stopped_at(last_pts, file.frames)));
            }
            last_pts = frame.pts.or(last_pts);
            file.frames += 1;
            if frame.index % every != 0 {
                continue;
            }
            file.analysed += 1;
            let (outcomes, _) = analysis.push(&mut models, &frame, gallery, Utc::now())?;
            for o in outcomes {
                keep(o, &mut file);
            }
            if last_progress.elapsed() > Duration::from_secs(1) {
                last_progress = Instant::now();
                let p = Progress {
                    pts: frame.pts,
                    duration: source.duration(),
                    frames: file.frames,
                    elapsed: started.elapsed(),
                };
                on_progress(p);
            }
        }
        file.warning = ended_early(last_pts, source.duration());
        Ok(())
    })();
    for o in analysis.finish(gallery, Utc::now()) {
        keep(o, &mut file);
    }
    file.face_counts = analysis.face_counts();
    file.error = result.err().map(|e| e.to_string());
    file.seconds = started.elapsed().as_secs_f64();
    file.fps = file.frames as f64 / file.seconds.max(1e-9);
    file
}

/// Why a stopped replay is incomplete, and what to do about it.
fn stopped_at(pts: Option<Duration>, frames: u64) -> String {
    let at = pts.map(|p| format!(" at {:.1} s", p.as_secs_f64())).unwrap_or_default();
    format!(
        "stopped by a signal{at} after {frames} frame(s): the rest of the file was not replayed \
         (replay it again to finish: what was stored already is not stored twice)"
    )
}

/// A stream that ends well before the duration its container states may be a truncated copy
/// (or a container with a wrong duration): worth a warning, not a failure.
fn ended_early(last: Option<Duration>, duration: Option<Duration>) -> Option<String> {
    match (last, duration) {
        (Some(l), Some(d)) if l.as_secs_f64() + 1.0 < d.as_secs_f64() * 0.98 => Some(format!(
            "the video ended at {:.1} s but the container says {:.1} s: truncated file or wrong duration (all frames present were analysed)",
            l.as_secs_f64(),
            d.as_secs_f64()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_early_end_is_a_warning_only_when_well_short_of_the_stated_duration() {
        let s = Duration::from_secs_f64;
        assert!(ended_early(Some(s(5.0)), Some(s(20.0))).is_some_and(|w| w.contains("5.0 s") && w.contains("20.0 s")));
        assert_eq!(ended_early(Some(s(19.8)), Some(s(20.0))), None);
        assert_eq!(ended_early(None, Some(s(20.0))), None);
        assert_eq!(ended_early(Some(s(5.0)), None), None);
    }
}
