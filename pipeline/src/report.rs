//! The replay report: JSON, CSV (formula-safe) or a self-contained HTML page with the plate and
//! face snapshots, from the files [`crate::replay`] went through.

use std::path::Path;

use base64::Engine;
use chrono::Utc;

use crate::replay::ReplayedFile;
use crate::{Error, Result};

/// Report formats, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `.json`: every field, snapshots as base64.
    Json,
    /// `.csv`: one row per read and hit, safe to open in a spreadsheet.
    Csv,
    /// `.html`, `.htm`: a self-contained page with the snapshots.
    Html,
}

impl ReportFormat {
    /// The format named by `path`'s extension; an error says which are accepted.
    pub fn of(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "json" => Ok(ReportFormat::Json),
            "csv" => Ok(ReportFormat::Csv),
            "html" | "htm" => Ok(ReportFormat::Html),
            _ => Err(Error::Report {
                path: path.to_owned(),
                message: "report format from the extension: .json, .csv or .html".into(),
            }),
        }
    }
}

/// [`write`], audited first in `audit` (a report copies reads and sightings out of the node,
/// as a search shows them): `report.write` with the file and the counts, by `actor`.
pub fn write_audited(path: &Path, files: &[ReplayedFile], audit: &raqib_watchlist::Store, actor: &str) -> Result<()> {
    let reads: usize = files.iter().map(|v| v.reads.len() + v.faces.len()).sum();
    let detail = format!("{} file(s), {reads} read(s) and sighting(s)", files.len());
    let who = raqib_watchlist::Actor::new(actor, None);
    audit.audit(who, "report.write", Some(&path.display().to_string()), Some(&detail)).map_err(|e| Error::Report {
        path: path.to_owned(),
        message: format!("not written: the audit log cannot be written ({e})"),
    })?;
    write(path, files)
}

/// Writes the report of `files` to `path`, in the format of its extension, creating its folder.
pub fn write(path: &Path, files: &[ReplayedFile]) -> Result<()> {
    let fail = |message: String| Error::Report { path: path.to_owned(), message };
    let text = match ReportFormat::of(path)? {
        ReportFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({ "videos": files })).map_err(|e| fail(e.to_string()))?
        }
        ReportFormat::Csv => csv(files),
        ReportFormat::Html => html(files),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(|e| fail(e.to_string()))
}

/// One CSV cell: quoted when needed, and safe to open in a spreadsheet (no formula runs).
fn csv_field(s: &str) -> String {
    let s = raqib_core::spreadsheet::spreadsheet_safe(s);
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
}

fn csv(videos: &[ReplayedFile]) -> String {
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
                csv_field(e.plate.canonical()),
                csv_field(&e.plate.latin_alias()),
                e.plate.format(),
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

fn html(videos: &[ReplayedFile]) -> String {
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
        let c = &v.face_counts;
        if !v.faces.is_empty() || c.unmatched_tracks + c.unconfirmed_tracks > 0 {
            out.push_str(&format!(
                "<h3>Watchlist faces</h3><p>{} other face track(s) matched nobody, {} without enough consistent \
                 good faces; neither was kept. Faces not matched: {} too small, {} blurred, {} turned away.</p>",
                c.unmatched_tracks, c.unconfirmed_tracks, c.too_small, c.blurred, c.turned_away
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
                esc(e.plate.canonical()),
                esc(&e.plate.latin_alias()),
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
