//! The stdout [`Sink`]: one line per outcome, as `raqib run` (camera, wall clock, place) or
//! `raqib replay` (file, media time) print them.

use std::io::IsTerminal;
use std::path::Path;

use crate::stream::{Outcome, Sink, Source};
use chrono::{DateTime, Utc};
use raqib_watchlist::PlateMatch;

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `[cam1] 14:02:11 12345-ب-6 (12345-B-6) conf 0.97 (6/8 frames) at 33.57,-7.59  HIT …`
    Live,
    /// `clip.mp4 @ 3.20s: 12345-ب-6 (12345-B-6) conf 0.97 (6/8 frames)  HIT …`, over the
    /// progress line when both go to a terminal.
    Replay,
}

/// Prints outcomes on stdout.
pub struct PrintSink(pub Style);

impl Sink for PrintSink {
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> crate::Result<()> {
        println!("{}", line(self.0, source, at, outcome));
        Ok(())
    }
}

/// The line for one outcome.
pub fn line(style: Style, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> String {
    let head = match style {
        Style::Live => format!("[{}] {}", source.id, at.format("%H:%M:%S")),
        Style::Replay => {
            let clear =
                if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() { "\r\x1b[K" } else { "" };
            let name = Path::new(&source.id).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let media = match outcome {
                Outcome::Plate { read, .. } => read.first_seen_s,
                Outcome::Face(f) => f.best_time_s,
            };
            let when = media.map(|s| format!("{s:.2}s")).unwrap_or_else(|| "?".into());
            format!("{clear}{name} @ {when}:")
        }
    };
    let mut line = match outcome {
        Outcome::Plate { read: e, hits } => {
            let alias = if e.plate.latin_alias() != e.plate.canonical() {
                format!(" ({})", e.plate.latin_alias())
            } else {
                String::new()
            };
            let mut l = format!(
                "{head} {}{alias} conf {:.2} ({}/{} frames)",
                e.plate.canonical(),
                e.confidence,
                e.reads,
                e.frames
            );
            if let (Style::Live, Some((lat, lon))) = (style, source.location) {
                l.push_str(&format!(" at {lat:.5},{lon:.5}"));
            }
            for h in hits {
                l.push_str(&hit_text(h));
            }
            l
        }
        Outcome::Face(f) => format!(
            "{head} FACE HIT {:?} [{}] {} (similarity {:.2}, {}/{} embeddings)",
            f.priority, f.category, f.name, f.similarity, f.votes, f.embeddings
        ),
    };
    if let (Style::Live, Outcome::Face(_), Some((lat, lon))) = (style, outcome, source.location) {
        line.push_str(&format!(" at {lat:.5},{lon:.5}"));
    }
    line
}

/// `  HIT High [stolen_vehicle] 12345-ب-6 (Exact, score 1.00)`: how a plate hit is printed.
pub fn hit_text(h: &PlateMatch) -> String {
    format!(
        "  HIT {:?} [{}] {} ({:?}, score {:.2})",
        h.entry.priority,
        h.entry.category,
        h.entry.plate.canonical(),
        h.kind,
        h.score
    )
}
