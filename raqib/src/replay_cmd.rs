//! `raqib replay VIDEO…`: analyst replay of recorded files, as fast as the machine allows.
//!
//! Every frame is decoded (none dropped; `--every N` analyses one frame in N), plates are read,
//! tracked and voted into one read per vehicle, checked against the watchlist, and written to a
//! report: JSON, CSV or a self-contained HTML page with the plate snapshots. A file that cannot
//! be decoded (missing, corrupt, truncated) is reported and the other files are still replayed.
//! Recording is idempotent (`raqib_pipeline::recording`): replaying a file again stores only
//! what an earlier, interrupted run had not. SIGINT/SIGTERM stop the replay cleanly: open tracks
//! are finished, stored and reported, the report is written, and the exit status is non-zero.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use anyhow::{Context, bail};
use chrono::Utc;
use raqib_pipeline::recording::FileRecorder;
use raqib_pipeline::replay::{Progress, replay_file};
use raqib_pipeline::report::{self, ReportFormat};
use raqib_pipeline::stream::{Models, Sink, Source, deliver};
use raqib_watchlist::{Snapshot, Store};

use crate::config::{Config, Paths};
use raqib_pipeline::print_sink::{PrintSink, Style};

/// Options of one replay.
pub struct ReplayOptions {
    /// Files to replay.
    pub videos: Vec<PathBuf>,
    /// Watchlist database to check reads against (default: `<data_dir>/watchlist.db` if present).
    pub watchlist: Option<PathBuf>,
    /// Report file; format from the extension (`.json`, `.csv`, `.html`).
    pub report: Option<PathBuf>,
    /// Analyse one frame in N.
    pub every: u64,
    /// No progress line.
    pub quiet: bool,
    /// Record reads and hits in `<data_dir>/events.db` (for `raqib search`).
    pub store: bool,
}

/// Runs the replay; fails (after replaying the rest) if any file failed.
pub fn replay(config: &Config, paths: &Paths, opts: &ReplayOptions) -> anyhow::Result<()> {
    // A bad report name fails now, not after the whole replay.
    if let Some(report) = &opts.report {
        ReportFormat::of(report)?;
    }
    let mut finder = crate::load::video_finder(config, paths)?;
    let default_db = paths.data_dir.join("watchlist.db");
    let watchlist = opts.watchlist.clone().or_else(|| default_db.is_file().then_some(default_db));
    let snapshot = match &watchlist {
        Some(db) => {
            if !db.is_file() {
                bail!("watchlist {} does not exist", db.display());
            }
            let store = Store::open(db).with_context(|| format!("opening watchlist {}", db.display()))?;
            let snap = Snapshot::load(&store, crate::watchlist_cmd::FACE_MODEL)?;
            eprintln!("checking reads against {} ({} plate entries)", db.display(), snap.plate_count());
            Some(snap)
        }
        None => None,
    };
    // Faces are analysed only against a gallery: with no enrolled person there is no one to
    // look for, and no reason to process anyone's face.
    let mut faces = match &snapshot {
        Some(snap) if snap.embedding_count() > 0 => {
            eprintln!("looking for {} enrolled face embedding(s)", snap.embedding_count());
            Some(crate::load::faces(config, paths)?)
        }
        _ => None,
    };
    let mut events = if opts.store {
        std::fs::create_dir_all(&paths.data_dir)?;
        config.disk.require(&paths.data_dir).map_err(anyhow::Error::msg)?;
        Some(crate::load::events_store(config, paths, false)?)
    } else {
        None
    };
    let stop = crate::load::stop_on_signal()?;
    let mut videos = Vec::new();
    let mut printer = PrintSink(Style::Replay);
    let mut not_started = 0;
    for path in &opts.videos {
        if stop.load(Ordering::Relaxed) {
            not_started += 1;
            continue;
        }
        let source = Source { id: path.display().to_string(), location: None };
        // Every outcome is printed and recorded (unless --no-store) as found, once per file
        // (re-runs add nothing twice), and kept for the report; one that cannot be recorded is
        // counted, and fails the file. A file that cannot be read has no fingerprint (and no
        // outcome): the replay below says why.
        let mut recorder = events.as_mut().and_then(|store| FileRecorder::new(store, path).ok());
        let mut on_outcome = |outcome: &raqib_pipeline::stream::Outcome| {
            deliver(&mut [&mut printer as &mut dyn Sink], &source, Utc::now(), outcome);
            if let Some(r) = recorder.as_mut() {
                r.record(&source, Utc::now(), outcome);
            }
        };
        let show = !opts.quiet && std::io::stderr().is_terminal();
        let mut on_progress = |p: Progress| {
            if show {
                // On a terminal only: `\r\x1b[K` rewrites the line.
                eprint!("\r\x1b[K{}: {}", path.display(), p.text());
                let _ = std::io::stderr().flush();
            }
        };
        let models = Models { plates: &mut finder, faces: faces.as_mut() };
        let mut video = replay_file(
            models,
            snapshot.as_ref(),
            &config.analysis,
            path,
            opts.every,
            &stop,
            &mut on_outcome,
            &mut on_progress,
        );
        if show {
            eprint!("\r\x1b[K");
        }
        let tally = recorder.map(|r| r.tally).unwrap_or_default();
        if let Some(lost) = tally.lost(&paths.data_dir.join("events.db")) {
            video.error = Some(match video.error.take() {
                Some(e) => format!("{e}; {lost}"),
                None => lost,
            });
        }
        if let Some(again) = tally.again() {
            eprintln!("{}: {again}", path.display());
        }
        if let Some(w) = &video.warning {
            eprintln!("{}: warning: {w}", path.display());
        }
        if let Some(e) = &video.error {
            eprintln!("{}: {e}", path.display());
        }
        eprintln!("{}: {}", path.display(), video.summary(faces.is_some()));
        videos.push(video);
    }
    // The report is written whatever happened: it holds what was found.
    if let Some(report) = &opts.report {
        write_report(paths, report, &videos)?;
    }
    let failed = videos.iter().filter(|v| v.error.is_some()).count();
    if failed + not_started > 0 {
        let stopped =
            if not_started > 0 { format!(" (stopped by a signal: {not_started} not started)") } else { "".into() };
        bail!("{} of {} file(s) could not be replayed completely{stopped}", failed + not_started, opts.videos.len());
    }
    Ok(())
}

/// Writes the report; it copies reads (and any face sighting) out of the node, so it is
/// audited first, as a search is.
fn write_report(paths: &Paths, report: &Path, videos: &[raqib_pipeline::replay::ReplayedFile]) -> anyhow::Result<()> {
    let db = paths.data_dir.join("watchlist.db");
    let audit = Store::open(&db).with_context(|| format!("opening {} for the audit log", db.display()))?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    report::write_audited(report, videos, &audit, &user)?;
    eprintln!("report written to {}", report.display());
    Ok(())
}
