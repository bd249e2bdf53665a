//! The text of `raqib bench video`: a Markdown table per video and, with several localisers, a
//! comparison row per video.

use std::fmt::Write as _;
use std::path::PathBuf;

use raqib_models::plate::LocaliserKind;

use crate::video::VideoFigures;

/// `writeln!` into a `String`, which cannot fail.
macro_rules! w {
    ($o:expr, $($t:tt)*) => {
        let _ = writeln!($o, $($t)*);
    };
}

/// One row per video: each localiser's fps, exact plates and hits, and the first one's fps over
/// the second's (same run, same machine).
pub fn comparison(all: &[VideoFigures], localisers: &[LocaliserKind]) -> String {
    let mut o = String::new();
    let names: Vec<String> = localisers.iter().map(|k| k.to_string()).collect();
    w!(o, "\n### Plate localisers, same run\n");
    let mut header = "| video | plates/frame |".to_owned();
    for n in &names {
        header += &format!(" {n}: fps | {n}: plates exact | {n}: hits |");
    }
    w!(
        o,
        "{header} ratio {}/{} |",
        names.first().cloned().unwrap_or_default(),
        names.get(1).cloned().unwrap_or_default()
    );
    w!(o, "|---|---|{}---|", "---|---|---|".repeat(names.len()));
    let mut videos: Vec<&PathBuf> = Vec::new();
    for f in all {
        if !videos.contains(&&f.file) {
            videos.push(&f.file);
        }
    }
    for v in videos {
        let rows: Vec<&VideoFigures> =
            names.iter().filter_map(|n| all.iter().find(|f| &f.file == v && &f.localiser == n)).collect();
        let density = rows.first().and_then(|f| f.plates_per_frame).map(|p| format!("{p:.2}")).unwrap_or("—".into());
        let mut line = format!("| {} | {density} |", v.display());
        for f in &rows {
            let (plates, hits) = match &f.accuracy {
                Some(a) => (format!("{}/{}", a.plates_read, a.plates), format!("{}/{}", a.listed_hit, a.listed)),
                None => ("—".into(), "—".into()),
            };
            line += &format!(" {:.2} | {plates} | {hits} |", f.e2e_fps);
        }
        let ratio = match rows.as_slice() {
            [a, b, ..] => format!("{:.2}", a.e2e_fps / b.e2e_fps.max(1e-9)),
            _ => "—".into(),
        };
        w!(o, "{line} {ratio} |");
    }
    o
}

/// The figures of one video as a Markdown table, then its stages.
pub fn markdown(f: &VideoFigures) -> String {
    let mut o = String::new();
    w!(o, "\n### {} ({}×{}, {} frames), {} localiser\n", f.file.display(), f.width, f.height, f.frames, f.localiser);
    w!(o, "| figure | value |\n|---|---|");
    if let Some(p) = f.plates_per_frame {
        w!(o, "| plates in view per frame (truth) | {p:.2} |");
    }
    w!(o, "| decode only (GStreamer → fakesink) | {:.1} fps |", f.decode_only_fps);
    for m in &f.inference {
        w!(o, "| inference only: {} | {:.2} ms/call, {:.3} ms/item |", m.model, m.ms_per_call, m.ms_per_item);
    }
    w!(
        o,
        "| full-frame detection | every {} ms of video: {} of {} frames; detector area {:.0} % of whole frames |",
        f.full_frame_interval_ms,
        f.full_frames,
        f.frames,
        f.detector_area_share * 100.0
    );
    w!(o, "| candidate crops read per frame | {:.2} |", f.crops_per_frame);
    w!(o, "| decode + inference limit | {:.2} fps |", f.limit_fps);
    w!(
        o,
        "| **end to end (every frame analysed)** | **{:.2} fps** ({:.0} % of the limit) |",
        f.e2e_fps,
        f.share_of_limit * 100.0
    );
    if let (Some(b), Some(r)) = (f.baseline_fps, f.ratio_vs_baseline) {
        w!(o, "| Python baseline, same video and models | {b:.2} fps → **ratio {r:.2}** |");
    }
    w!(
        o,
        "| live streams at {:.0} analysed fps (estimate from per-frame costs) | {:.1} |",
        f.rate,
        f.live_streams_estimate
    );
    w!(o, "| CPU during end to end | {:.0} % of one core |", f.cpu_percent);
    w!(o, "| peak RSS | {:.0} MiB |", f.peak_rss_mib);
    if let Some(a) = &f.accuracy {
        w!(
            o,
            "| plates read exactly (per track) | {}/{} = {:.1} % |",
            a.plates_read,
            a.plates,
            a.exact_read_rate * 100.0
        );
        w!(o, "| events that are no plate of the scene | {} of {} |", a.wrong_events, a.events);
        w!(
            o,
            "| hits: precision / recall | {:.2} ({}/{}) / {:.2} ({}/{}) |",
            a.hit_precision,
            a.right_hit_events,
            a.hit_events,
            a.hit_recall,
            a.listed_hit,
            a.listed
        );
        if !a.missed.is_empty() {
            w!(o, "| missed | {} |", a.missed.join(", "));
        }
        if !a.wrong.is_empty() {
            w!(o, "| wrong events | {} |", a.wrong.join(", "));
        }
        if let Some(fa) = &a.faces {
            w!(
                o,
                "| listed faces identified (per pedestrian) | {}/{} = {:.1} % |",
                fa.identified,
                fa.listed,
                fa.identification_rate * 100.0
            );
            w!(
                o,
                "| face sightings of someone else (false identifications) | {} of {} |",
                fa.false_identifications,
                fa.sightings
            );
        }
    }
    if let Some(c) = &f.face_counts {
        w!(
            o,
            "\n| faces (counted, nothing kept) | embedded {} · gated: {} too small, {} blurred, {} turned away · tracks unmatched {}, unconfirmed {} |",
            c.embedded,
            c.too_small,
            c.blurred,
            c.turned_away,
            c.unmatched_tracks,
            c.unconfirmed_tracks
        );
    }
    w!(o, "\n| stage (per frame) | n | mean ms | p50 ms | p99 ms |\n|---|---|---|---|---|");
    for s in &f.stages {
        w!(o, "| {} | {} | {:.2} | {:.2} | {:.2} |", s.stage, s.n, s.mean_ms, s.p50_ms, s.p99_ms);
    }
    o
}
