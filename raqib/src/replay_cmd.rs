//! `raqib replay VIDEO…`: analyst replay of recorded files, as fast as the machine allows.
//!
//! Every frame is decoded (none dropped; `--every N` analyses one frame in N), plates are read,
//! tracked and voted into one read per vehicle, checked against the watchlist, and written to a
//! report: JSON, CSV or a self-contained HTML page with the plate snapshots. A file that cannot
//! be decoded (missing, corrupt, truncated) is reported and the other files are still replayed.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use raqib_events::EventStore;
use raqib_events::records::FaceSighting;
use raqib_events::records::PlateEvent;
use raqib_pipeline::ingest::FrameSource;
use raqib_pipeline::stream::{Models, Outcome, Sink, Source, StreamAnalysis, deliver};
use raqib_watchlist::{PlateMatch, Snapshot, Store};
use serde::Serialize;

use crate::config::{Config, Paths};
use crate::print_sink::{PrintSink, Style};

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

/// One read in the report, with its watchlist matches.
#[derive(Debug, Serialize)]
struct ReportRead {
    #[serde(flatten)]
    event: PlateEvent,
    hits: Vec<PlateMatch>,
}

/// One file in the report.
#[derive(Debug, Serialize)]
struct ReportVideo {
    file: PathBuf,
    error: Option<String>,
    /// Something looks wrong but every frame there was got analysed (e.g. the stream ended well
    /// before the duration its container states: a truncated copy).
    warning: Option<String>,
    frames: u64,
    analysed: u64,
    seconds: f64,
    fps: f64,
    reads: Vec<ReportRead>,
    /// Watchlist persons seen (one per face track that matched).
    faces: Vec<FaceSighting>,
    /// Face tracks that matched nobody: counted only, nothing about them is kept.
    unmatched_face_tracks: u64,
}

/// Runs the replay; fails (after replaying the rest) if any file failed.
pub fn replay(config: &Config, paths: &Paths, opts: &ReplayOptions) -> anyhow::Result<()> {
    // A bad report name fails now, not after the whole replay.
    if let Some(report) = &opts.report {
        report_format(report)?;
    }
    let mut finder = crate::plates_cmd::load_video_finder(config, paths)?;
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
            Some(crate::faces_cmd::load_pipeline(config, paths)?)
        }
        _ => None,
    };
    let mut events = if opts.store { Some(EventStore::open(&paths.data_dir.join("events.db"))?) } else { None };
    if let Some(events) = events.as_mut() {
        events.set_keep_non_hits(config.retention.reads_days > 0);
        if config.privacy.redact_snapshots {
            events.set_redactor(Some(Box::new(crate::redactor::ModelRedactor::new(config, paths))));
        }
    }
    let mut videos = Vec::new();
    let mut printer = PrintSink(Style::Replay);
    for path in &opts.videos {
        let mut video = ReportVideo {
            file: path.clone(),
            error: None,
            warning: None,
            frames: 0,
            analysed: 0,
            seconds: 0.0,
            fps: 0.0,
            reads: vec![],
            faces: vec![],
            unmatched_face_tracks: 0,
        };
        let start = Instant::now();
        let source = Source { id: path.display().to_string(), location: None };
        // Every outcome is printed, recorded (unless --no-store) and kept for the report.
        let mut take = |outcome: Outcome, video: &mut ReportVideo| {
            let mut sinks: Vec<&mut dyn Sink> = vec![&mut printer];
            if let Some(store) = events.as_mut() {
                sinks.push(store);
            }
            deliver(&mut sinks, &source, Utc::now(), &outcome);
            match outcome {
                Outcome::Plate { read, hits } => video.reads.push(ReportRead { event: read, hits }),
                Outcome::Face(f) => video.faces.push(f),
            }
        };
        let models = Models { plates: &mut finder, faces: faces.as_mut() };
        let result = replay_one(models, snapshot.as_ref(), config, path, opts, &mut video, &mut take);
        video.seconds = start.elapsed().as_secs_f64();
        video.fps = video.frames as f64 / video.seconds.max(1e-9);
        if let Err(e) = result {
            eprintln!("{}: {e:#}", path.display());
            video.error = Some(format!("{e:#}"));
        }
        eprintln!(
            "{}: {} frames ({} analysed) in {:.1} s = {:.1} fps; {} plate read(s), {} hit(s){}",
            path.display(),
            video.frames,
            video.analysed,
            video.seconds,
            video.fps,
            video.reads.len(),
            video.reads.iter().filter(|r| !r.hits.is_empty()).count(),
            if faces.is_some() {
                format!(
                    "; {} watchlist face sighting(s), {} other face track(s) not kept",
                    video.faces.len(),
                    video.unmatched_face_tracks
                )
            } else {
                String::new()
            }
        );
        videos.push(video);
    }
    if let Some(report) = &opts.report {
        write_report(report, &videos)?;
        eprintln!("report written to {}", report.display());
    }
    let failed = videos.iter().filter(|v| v.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} of {} file(s) could not be replayed completely", videos.len());
    }
    Ok(())
}

/// Replays one file through the shared analysis path ([`StreamAnalysis`]), handing each
/// outcome to `take`.
fn replay_one(
    mut models: Models<'_>,
    gallery: Option<&Snapshot>,
    config: &Config,
    path: &Path,
    opts: &ReplayOptions,
    video: &mut ReportVideo,
    take: &mut impl FnMut(Outcome, &mut ReportVideo),
) -> anyhow::Result<()> {
    let mut source = FrameSource::open_file(path)?;
    let mut analysis = StreamAnalysis::new(&config.analysis);
    let mut last_progress = Instant::now();
    let started = Instant::now();
    let every = opts.every.max(1);
    let mut last_pts = None;
    let outcome = loop {
        let frame = match source.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => {
                video.warning = ended_early(last_pts, source.duration());
                if let Some(w) = &video.warning {
                    eprintln!("{}{}: warning: {w}", clear_line(), path.display());
                }
                break Ok(());
            }
            Err(e) => break Err(anyhow::Error::from(e)),
        };
        last_pts = frame.pts.or(last_pts);
        video.frames += 1;
        if frame.index % every != 0 {
            continue;
        }
        video.analysed += 1;
        let (outcomes, _) = match analysis.push(&mut models, &frame, gallery, Utc::now()) {
            Ok(r) => r,
            Err(e) => break Err(anyhow::Error::from(e)),
        };
        for o in outcomes {
            take(o, video);
        }
        if !opts.quiet && std::io::stderr().is_terminal() && last_progress.elapsed() > Duration::from_secs(1) {
            last_progress = Instant::now();
            progress(path, frame.pts, source.duration(), video.frames, started.elapsed());
        }
    };
    // Tracks still open at the end (or at a decoding error) are reported too: nothing seen is lost.
    for o in analysis.finish(gallery, Utc::now()) {
        take(o, video);
    }
    video.unmatched_face_tracks = analysis.unmatched_face_tracks();
    if !opts.quiet {
        eprint!("{}", clear_line());
    }
    outcome
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

/// Erases the progress line on a terminal; nothing when stderr is a file or a pipe.
fn clear_line() -> &'static str {
    if std::io::stderr().is_terminal() { "\r\x1b[K" } else { "" }
}

fn progress(path: &Path, pts: Option<Duration>, duration: Option<Duration>, frames: u64, elapsed: Duration) {
    let fps = frames as f64 / elapsed.as_secs_f64().max(1e-9);
    let (pct, eta) = match (pts, duration) {
        (Some(p), Some(d)) if d.as_secs_f64() > 0.0 && p.as_secs_f64() > 0.0 => {
            let done = (p.as_secs_f64() / d.as_secs_f64()).min(1.0);
            let eta = elapsed.as_secs_f64() * (1.0 - done) / done.max(1e-6);
            (format!("{:.0}%", done * 100.0), format!("ETA {eta:.0} s"))
        }
        _ => ("?".into(), "ETA ?".into()),
    };
    eprint!("{}{}: {pct} {frames} frames {fps:.1} fps {eta}", clear_line(), path.display());
    let _ = std::io::stderr().flush();
}

/// Report formats, from the file extension.
#[derive(Debug, Clone, Copy)]
enum ReportFormat {
    Json,
    Csv,
    Html,
}

fn report_format(path: &Path) -> anyhow::Result<ReportFormat> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Ok(match ext.as_str() {
        "json" => ReportFormat::Json,
        "csv" => ReportFormat::Csv,
        "html" | "htm" => ReportFormat::Html,
        _ => bail!("{}: report format from the extension: .json, .csv or .html", path.display()),
    })
}

fn write_report(path: &Path, videos: &[ReportVideo]) -> anyhow::Result<()> {
    let text = match report_format(path)? {
        ReportFormat::Json => serde_json::to_string_pretty(&serde_json::json!({ "videos": videos }))?,
        ReportFormat::Csv => csv(videos),
        ReportFormat::Html => html(videos),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One CSV cell: quoted when needed, and safe to open in a spreadsheet (no formula runs).
fn csv_field(s: &str) -> String {
    let s = raqib_core::spreadsheet::spreadsheet_safe(s);
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
}

fn csv(videos: &[ReportVideo]) -> String {
    let mut out = String::from(
        "file,track,first_seen_s,last_seen_s,plate,latin,format,confidence,reads,frames,hit_plate,hit_category,hit_priority,hit_kind,hit_score\n",
    );
    for v in videos {
        for r in &v.reads {
            let e = &r.event;
            let s = |t: Option<f64>| t.map(|t| format!("{t:.3}")).unwrap_or_default();
            let base = format!(
                "{},{},{},{},{},{},{:?},{:.3},{},{}",
                csv_field(&v.file.display().to_string()),
                e.track,
                s(e.first_seen_s),
                s(e.last_seen_s),
                csv_field(&e.text),
                csv_field(&e.latin),
                e.format,
                e.confidence,
                e.reads,
                e.frames
            );
            if r.hits.is_empty() {
                out.push_str(&format!("{base},,,,,\n"));
            }
            for h in &r.hits {
                out.push_str(&format!(
                    "{base},{},{},{:?},{:?},{:.3}\n",
                    csv_field(h.entry.plate.canonical()),
                    csv_field(&h.entry.category),
                    h.entry.priority,
                    h.kind,
                    h.score
                ));
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An inline `<img>` of a JPEG for the self-contained report; nothing when there is no image.
fn img_tag(jpeg: &[u8]) -> String {
    if jpeg.is_empty() {
        String::new()
    } else {
        format!("<img src=\"data:image/jpeg;base64,{}\">", base64::engine::general_purpose::STANDARD.encode(jpeg))
    }
}

fn html(videos: &[ReportVideo]) -> String {
    let mut out = String::from(
        "<!doctype html><meta charset=utf-8><title>raqib replay report</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;\
         padding:4px 8px}tr.hit{background:#fdd}img{max-height:60px}</style><h1>raqib replay report</h1>",
    );
    out.push_str(&format!("<p>Generated {}</p>", Utc::now().to_rfc3339()));
    for v in videos {
        out.push_str(&format!(
            "<h2>{}</h2><p>{} frames, {} analysed, {:.1} s ({:.1} fps){}</p>",
            esc(&v.file.display().to_string()),
            v.frames,
            v.analysed,
            v.seconds,
            v.fps,
            v.error.as_deref().map(|e| format!("; <b>error:</b> {}", esc(e))).unwrap_or_default()
        ));
        if let Some(w) = &v.warning {
            out.push_str(&format!("<p><b>warning:</b> {}</p>", esc(w)));
        }
        if !v.faces.is_empty() || v.unmatched_face_tracks > 0 {
            out.push_str(&format!(
                "<h3>Watchlist faces</h3><p>{} other face track(s) matched nobody and were not kept.</p>",
                v.unmatched_face_tracks
            ));
            out.push_str("<table><tr><th>time</th><th>snapshot</th><th>person</th><th>similarity</th></tr>");
            for f in &v.faces {
                let img = img_tag(&f.crop_jpeg);
                out.push_str(&format!(
                    "<tr class=\"hit\"><td>{}</td><td>{img}</td><td><b>{}</b><br>{} {:?}</td><td>{:.2}</td></tr>",
                    f.best_time_s.map(|s| format!("{s:.2} s")).unwrap_or_default(),
                    esc(&f.name),
                    esc(&f.category),
                    f.priority,
                    f.similarity
                ));
            }
            out.push_str("</table><h3>Plates</h3>");
        }
        out.push_str("<table><tr><th>time</th><th>snapshot</th><th>plate</th><th>confidence</th><th>frames</th><th>watchlist</th></tr>");
        for r in &v.reads {
            let e = &r.event;
            let img = img_tag(&e.crop_jpeg);
            let hits: Vec<String> = r
                .hits
                .iter()
                .map(|h| {
                    format!(
                        "{} [{}] {:?} {:?} {:.2}",
                        esc(h.entry.plate.canonical()),
                        esc(&h.entry.category),
                        h.entry.priority,
                        h.kind,
                        h.score
                    )
                })
                .collect();
            out.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td>{img}</td><td><b>{}</b><br>{}</td><td>{:.2}</td><td>{}/{}</td><td>{}</td></tr>",
                if hits.is_empty() { "" } else { "hit" },
                e.first_seen_s.map(|s| format!("{s:.2} s")).unwrap_or_default(),
                esc(&e.text),
                esc(&e.latin),
                e.confidence,
                e.reads,
                e.frames,
                hits.join("<br>")
            ));
        }
        out.push_str("</table>");
    }
    out
}
