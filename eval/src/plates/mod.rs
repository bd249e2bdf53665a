//! `raqib eval plates`: localisation, detection and exact-read rates on annotated plate sets.
//!
//! The folders' annotation styles and the held-out split are in [`items`]. Only held-out items
//! were never trained on (by the recogniser or the plate detector); the figures on all items are
//! given too, marked as such. Per set: the localiser's own boxes (recall and precision at IoU 0.5:
//! a box that matches no annotated plate counts against precision, also when it is a real plate
//! the set does not annotate, such as a car in the background; `--mistakes` lists them), the
//! accepted plate reads' boxes, exact reads end to end (whole image in) and of the annotated crop,
//! character accuracy, and for Moroccan plates exact reads per letter and per format.

pub mod fixes;
pub mod items;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

pub use fixes::Labels;
use items::{Item, sets};
use raqib_core::edit::levenshtein;
use raqib_core::{Bbox, PlateText};
use raqib_models::RgbImage;
use raqib_models::plate::{Crop, LocaliserKind, PlateFinder, Region};
use serde::Serialize;

use crate::Result;

/// Exact-read counts for one subset.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Rate {
    /// Items scored.
    pub n: usize,
    /// Of those, read exactly.
    pub exact: usize,
}

impl Rate {
    fn add(&mut self, ok: bool) {
        self.n += 1;
        self.exact += usize::from(ok);
    }
    /// Exact reads, percent (NaN when nothing was scored).
    pub fn pct(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.exact as f64 * 100.0 / self.n as f64 }
    }
}

/// Boxes against the annotated plates at IoU ≥ 0.5.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Detection {
    /// Annotated plates.
    pub plates: usize,
    /// Annotated plates some box matches.
    pub found: usize,
    /// Boxes given.
    pub boxes: usize,
    /// Boxes that match an annotated plate.
    pub right: usize,
}

impl Detection {
    fn add(&mut self, truth: &Bbox, boxes: &[Bbox]) {
        let matches = |b: &Bbox| b.iou(truth) >= 0.5;
        self.plates += 1;
        self.found += usize::from(boxes.iter().any(matches));
        self.boxes += boxes.len();
        self.right += boxes.iter().filter(|b| matches(b)).count();
    }
    /// Annotated plates found, percent.
    pub fn recall(&self) -> f64 {
        self.found as f64 * 100.0 / self.plates.max(1) as f64
    }
    /// Boxes that are annotated plates, percent (NaN when no box was given).
    pub fn precision(&self) -> f64 {
        if self.boxes == 0 { f64::NAN } else { self.right as f64 * 100.0 / self.boxes as f64 }
    }
}

/// Exact reads of one group of plates (a letter, a format).
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct GroupRates {
    /// The annotated crop read by the recogniser alone.
    pub crop: Rate,
    /// Whole image in.
    pub end_to_end: Rate,
}

/// Figures for one set.
#[derive(Debug, Default, Serialize)]
pub struct SetReport {
    /// The set's folder name.
    pub set: String,
    /// The localiser used.
    pub localiser: String,
    /// Images read.
    pub images: usize,
    /// Localiser boxes overlapping the annotated plate at IoU ≥ 0.3 (all items).
    pub region_recall_30: f64,
    /// Localiser boxes per image, mean.
    pub regions_per_image: f64,
    /// The localiser's boxes, all items.
    pub localiser_boxes: Detection,
    /// The localiser's boxes, held-out items.
    pub localiser_boxes_held_out: Detection,
    /// The accepted plate reads' boxes (localiser + recogniser), all items.
    pub plate_reads: Detection,
    /// The accepted plate reads' boxes, held-out items.
    pub plate_reads_held_out: Detection,
    /// Exact read, whole image in (localiser + recogniser): the read at the plate's place.
    pub end_to_end: Rate,
    /// [`Self::end_to_end`], held-out items.
    pub end_to_end_held_out: Rate,
    /// Exact read of the annotated box (recogniser alone).
    pub crop: Rate,
    /// [`Self::crop`], held-out items.
    pub crop_held_out: Rate,
    /// Moroccan `digits|letter|digits` plates only, end to end, held out.
    pub standard_end_to_end_held_out: Rate,
    /// Moroccan `digits|letter|digits` plates only, crop, held out.
    pub standard_crop_held_out: Rate,
    /// Held-out Moroccan plates by letter group.
    pub by_letter_held_out: BTreeMap<String, GroupRates>,
    /// Held-out Moroccan plates by format.
    pub by_format_held_out: BTreeMap<String, GroupRates>,
    /// Characters right in the annotated-box reads (1 − edit distance / length), all scored items.
    pub char_accuracy: f64,
    /// [`Self::char_accuracy`], held-out items.
    pub char_accuracy_held_out: f64,
    /// Whole image in to reads out, ms per image.
    pub ms_per_image: f64,
    /// Of that, the localiser, ms per image.
    pub localiser_ms_per_image: f64,
    /// Items whose label was corrected by eye (`eval/plate-label-fixes.tsv`) or, showing no
    /// complete plate text, left unscored for that reason.
    pub relabelled: usize,
    /// Images that could not be read (file and error), skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// With `mistakes`: every missed or extra box and every misread, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mistakes: Vec<String>,
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
}

#[expect(clippy::too_many_lines, reason = "one pass over every item, scored several ways; split when it grows")]
fn evaluate(finder: &mut PlateFinder, name: &str, items: &[Item], mistakes: bool) -> Result<SetReport> {
    let mut r =
        SetReport { set: name.to_owned(), localiser: finder.localiser.kind().to_string(), ..Default::default() };
    let (mut loc30, mut regions_total) = (0usize, 0usize);
    let (mut chars, mut chars_ok, mut chars_h, mut chars_ok_h) = (0usize, 0usize, 0usize, 0usize);
    let (mut ms, mut loc_ms) = (0f64, 0f64);
    for it in items {
        let img = match RgbImage::open(&it.image) {
            Ok(img) => img,
            Err(e) => {
                r.skipped.push(e.to_string());
                continue;
            }
        };
        r.images += 1;
        r.relabelled += usize::from(it.relabelled);
        let start = Instant::now();
        let (regions, plates) = finder.find_with_regions(&img)?;
        ms += start.elapsed().as_secs_f64() * 1000.0;
        loc_ms += finder.last_timing.propose.as_secs_f64() * 1000.0;
        let best = regions.iter().map(|g| g.bbox.iou(&it.bbox)).fold(0f32, f32::max);
        (loc30, regions_total) = (loc30 + usize::from(best >= 0.3), regions_total + regions.len());
        let region_boxes: Vec<Bbox> = regions.iter().map(|g: &Region| g.bbox).collect();
        let plate_boxes: Vec<Bbox> = plates.iter().map(|p| p.bbox).collect();
        r.localiser_boxes.add(&it.bbox, &region_boxes);
        r.plate_reads.add(&it.bbox, &plate_boxes);
        if it.held_out {
            r.localiser_boxes_held_out.add(&it.bbox, &region_boxes);
            r.plate_reads_held_out.add(&it.bbox, &plate_boxes);
        }
        if mistakes && finder.localiser.kind() == LocaliserKind::Detector {
            let missed = !region_boxes.iter().any(|b| b.iou(&it.bbox) >= 0.5);
            let extra = region_boxes.iter().filter(|b| b.iou(&it.bbox) < 0.5).count();
            if missed || extra > 0 {
                r.mistakes.push(format!(
                    "  {name}{} {}: plate {} box {:?}, {extra} other box(es) {:?}",
                    if it.held_out { " (held out)" } else { "" },
                    file_name(&it.image),
                    if missed { "missed" } else { "found" },
                    it.bbox,
                    region_boxes.iter().filter(|b| b.iou(&it.bbox) < 0.5).collect::<Vec<_>>()
                ));
            }
        }
        // The read at the plate's place: most overlap with the annotated box.
        let at_plate = plates
            .iter()
            .map(|p| (p.bbox.iou(&it.bbox), p))
            .filter(|(iou, _)| *iou > 0.1)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p.plate.key().to_owned());
        let pad = 0.15 * it.bbox.height();
        let crop = Crop {
            bbox: Bbox { x1: it.bbox.x1 - pad, y1: it.bbox.y1 - pad, x2: it.bbox.x2 + pad, y2: it.bbox.y2 + pad },
            layout: it.layout,
        };
        let read = finder.reader.read_views(&img, &[crop], finder.views)?.pop();
        let crop_key: String = read
            .map(|r| PlateText::parse(&r.text, None).map(|p| p.key().to_owned()).unwrap_or_default())
            .unwrap_or_default();
        if !it.scored {
            continue;
        }
        let e2e_ok = at_plate.as_deref() == Some(it.key.as_str());
        let crop_ok = crop_key == it.key;
        if mistakes && (!e2e_ok || !crop_ok) {
            r.mistakes.push(format!(
                "  {name}{} {}: truth {}  crop {}  end-to-end {}",
                if it.held_out { " (held out)" } else { "" },
                file_name(&it.image),
                it.key,
                if crop_ok { "ok".to_owned() } else { crop_key.clone() },
                if e2e_ok { "ok".to_owned() } else { at_plate.clone().unwrap_or_else(|| "(none)".into()) }
            ));
        }
        r.end_to_end.add(e2e_ok);
        r.crop.add(crop_ok);
        let len = it.key.chars().count();
        let right = len.saturating_sub(levenshtein(&crop_key, &it.key));
        (chars, chars_ok) = (chars + len, chars_ok + right);
        if it.held_out {
            r.end_to_end_held_out.add(e2e_ok);
            r.crop_held_out.add(crop_ok);
            (chars_h, chars_ok_h) = (chars_h + len, chars_ok_h + right);
            if it.standard {
                r.standard_end_to_end_held_out.add(e2e_ok);
                r.standard_crop_held_out.add(crop_ok);
            }
            for (group, map) in
                [(&it.letter, &mut r.by_letter_held_out), (&it.format.map(str::to_owned), &mut r.by_format_held_out)]
            {
                if let Some(g) = group {
                    let e = map.entry(g.clone()).or_default();
                    e.crop.add(crop_ok);
                    e.end_to_end.add(e2e_ok);
                }
            }
        }
    }
    let n = r.images.max(1) as f64;
    r.region_recall_30 = loc30 as f64 * 100.0 / n;
    r.regions_per_image = regions_total as f64 / n;
    r.char_accuracy = chars_ok as f64 * 100.0 / chars.max(1) as f64;
    r.char_accuracy_held_out = chars_ok_h as f64 * 100.0 / chars_h.max(1) as f64;
    r.ms_per_image = ms / n;
    r.localiser_ms_per_image = loc_ms / n;
    Ok(r)
}

/// Evaluates `finder` (its localiser and its `views` setting as given) on every annotated set
/// found in `data` (each folder itself or its subfolders, [`items::sets`]); `mistakes`: also list
/// every missed or extra box and every misread in each report; `labels`: with the corrections
/// of `eval/plate-label-fixes.tsv` or as the folders give them.
pub fn evaluate_sets(
    finder: &mut PlateFinder,
    data: &[PathBuf],
    mistakes: bool,
    labels: Labels,
) -> Result<Vec<SetReport>> {
    let mut reports = Vec::new();
    for d in data {
        for (name, items) in sets(d, labels)? {
            reports.push(evaluate(finder, &name, &items, mistakes)?);
        }
    }
    Ok(reports)
}

/// The reports as a text table, one block per set.
pub fn table(reports: &[SetReport], kind: LocaliserKind) -> String {
    let p = |r: &Rate| if r.n == 0 { "—".to_owned() } else { format!("{:.1}% ({}/{})", r.pct(), r.exact, r.n) };
    let d = |x: &Detection| {
        format!(
            "recall {:.1}% ({}/{})  precision {:.1}% ({}/{})",
            x.recall(),
            x.found,
            x.plates,
            x.precision(),
            x.right,
            x.boxes
        )
    };
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(format!(
        "plates: end-to-end = whole image → {kind} localiser → recogniser; crop = annotated box → recogniser"
    ));
    line("held out = never trained on (hash split of training/plate_ocr/real.py)".into());
    for r in reports {
        line(format!(
            "\n{} ({} images, {:.0} ms/image end to end, localiser {:.1} ms)",
            r.set, r.images, r.ms_per_image, r.localiser_ms_per_image
        ));
        if r.relabelled > 0 {
            line(format!(
                "  {} labels corrected by eye (eval/plate-label-fixes.tsv; --labels-as-given for the folder's own)",
                r.relabelled
            ));
        }
        line(format!("  localiser boxes@IoU0.5   held out {}", d(&r.localiser_boxes_held_out)));
        line(format!("                           all      {}", d(&r.localiser_boxes)));
        line(format!("  plate reads@IoU0.5       held out {}", d(&r.plate_reads_held_out)));
        line(format!("                           all      {}", d(&r.plate_reads)));
        line(format!("  localiser recall@0.3 {:.1}%  {:.1} boxes/image", r.region_recall_30, r.regions_per_image));
        line(format!("  exact end-to-end  held out {:<18} all {}", p(&r.end_to_end_held_out), p(&r.end_to_end)));
        line(format!("  exact crop        held out {:<18} all {}", p(&r.crop_held_out), p(&r.crop)));
        if r.standard_crop_held_out.n > 0 {
            line(format!(
                "  standard digits|letter|digits, held out: crop {}  end-to-end {}",
                p(&r.standard_crop_held_out),
                p(&r.standard_end_to_end_held_out)
            ));
        }
        for (title, map) in [("letter", &r.by_letter_held_out), ("format", &r.by_format_held_out)] {
            for (g, rates) in map {
                line(format!(
                    "  held out, {title} {g:<9} crop {:<18} end-to-end {}",
                    p(&rates.crop),
                    p(&rates.end_to_end)
                ));
            }
        }
        line(format!(
            "  character accuracy (crop)  held out {:.2}%  all {:.2}%",
            r.char_accuracy_held_out, r.char_accuracy
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_counts_boxes_against_the_annotated_plate() {
        let truth = Bbox { x1: 0.0, y1: 0.0, x2: 100.0, y2: 30.0 };
        let mut d = Detection::default();
        d.add(
            &truth,
            &[Bbox { x1: 5.0, y1: 0.0, x2: 100.0, y2: 30.0 }, Bbox { x1: 300.0, y1: 0.0, x2: 400.0, y2: 30.0 }],
        );
        d.add(&truth, &[]);
        assert_eq!((d.plates, d.found, d.boxes, d.right), (2, 1, 2, 1));
        assert_eq!((d.recall(), d.precision()), (50.0, 50.0));
        assert!(Detection::default().precision().is_nan(), "no boxes: no precision, not 0 %");
    }
}
