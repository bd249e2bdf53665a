//! `raqib replay VIDEO…`: analyst replay of recorded files, as fast as the machine allows.
//!
//! Every frame is decoded (none dropped; `--every N` analyses one frame in N), plates are read,
//! tracked and voted into one read per vehicle, checked against the watchlist, and written to a
//! report: JSON, CSV or a self-contained HTML page with the plate snapshots. A file that cannot
//! be decoded (missing, corrupt, truncated) is reported and the other files are still replayed.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use raqib_events::EventStore;
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
    let mut events = if opts.store { Some(EventStore::open(&paths.data_dir.join("events.db"))?) } else { None };
    if let Some(events) = events.as_mut() {
        events.set_keep_non_hits(config.retention.keeps_non_hits());
        if config.privacy.redact_snapshots {
            events.set_redactor(Some(Box::new(raqib_pipeline::redactor::ModelRedactor::new(crate::load::redaction(
                config, paths,
            )))));
        }
    }
    let mut videos = Vec::new();
    let mut printer = PrintSink(Style::Replay);
    for path in &opts.videos {
        let source = Source { id: path.display().to_string(), location: None };
        // Every outcome is printed and recorded (unless --no-store) as found, and kept for the report;
        // one that cannot be recorded is counted, and fails the file.
        let (mut lost_reads, mut lost_faces, mut lost_hits) = (0usize, 0usize, 0usize);
        let mut on_outcome = |outcome: &raqib_pipeline::stream::Outcome| {
            deliver(&mut [&mut printer as &mut dyn Sink], &source, Utc::now(), outcome);
            if let Some(store) = events.as_mut()
                && deliver(&mut [store as &mut dyn Sink], &source, Utc::now(), outcome) > 0
            {
                let plate = matches!(outcome, raqib_pipeline::stream::Outcome::Plate { .. });
                (lost_reads, lost_faces) = (lost_reads + usize::from(plate), lost_faces + usize::from(!plate));
                lost_hits += usize::from(outcome.is_hit());
            }
        };
        let show = !opts.quiet && std::io::stderr().is_terminal();
        let mut on_progress = |p: Progress| {
            if show {
                progress(path, p);
            }
        };
        let models = Models { plates: &mut finder, faces: faces.as_mut() };
        let mut video = replay_file(
            models,
            snapshot.as_ref(),
            &config.analysis,
            path,
            opts.every,
            &mut on_outcome,
            &mut on_progress,
        );
        if show {
            eprint!("{}", clear_line());
        }
        if lost_reads + lost_faces > 0 {
            let lost = format!(
                "NOT STORED in {}: {lost_reads} plate read(s) and {lost_faces} face sighting(s), {lost_hits} of them hit(s)",
                paths.data_dir.join("events.db").display()
            );
            video.error = Some(match video.error.take() {
                Some(e) => format!("{e}; {lost}"),
                None => lost,
            });
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
    if let Some(report) = &opts.report {
        write_report(paths, report, &videos)?;
    }
    let failed = videos.iter().filter(|v| v.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} of {} file(s) could not be replayed completely", videos.len());
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

/// Erases the progress line on a terminal; nothing when stderr is a file or a pipe.
fn clear_line() -> &'static str {
    if std::io::stderr().is_terminal() { "\r\x1b[K" } else { "" }
}

fn progress(path: &Path, p: Progress) {
    eprint!("{}{}: {}", clear_line(), path.display(), p.text());
    let _ = std::io::stderr().flush();
}
