//! `raqib eval plates`: localisation, detection and exact-read rates on annotated plate sets.
//!
//! Two annotation styles are understood, per folder:
//! - OpenALPR end-to-end (`file x y w h TEXT` per `.txt`): whole scenes, one annotated plate each;
//! - `plates.tsv` + `labels_yolo_chars/` (moroccan-um6p-dev): plate close-ups with per-character
//!   boxes; the plate box is the union of the character boxes.
//!
//! Each item is also marked *held out* or not with the same hash split the recogniser's training
//! uses (`training/plate_ocr/real.py`: SHA-256 of the plate key for the Moroccan set, of
//! `region/file` for OpenALPR; first 8 hex digits mod 100 < 40 is held out). Only held-out items
//! were never trained on; the figures on all items are given too, marked as such.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use raqib_core::PlateText;
use raqib_core::plate::normalise_char;
use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use raqib_models::plate::{Crop, Layout, PlateFinder, Views};
use raqib_watchlist::plate_index::levenshtein;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{Config, Paths};

/// Share of items (percent) the training split holds out.
const HELD_OUT_PERCENT: u32 = 40;

/// One annotated plate.
struct Item {
    image: PathBuf,
    bbox: Bbox,
    key: String,
    layout: Layout,
    held_out: bool,
    /// Counts for exact-match scoring (its text is completely annotated).
    scored: bool,
    /// Moroccan `digits|letter|digits` plate.
    standard: bool,
}

fn held_out(split_key: &str) -> bool {
    let digest = Sha256::digest(split_key.as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    first % 100 < HELD_OUT_PERCENT
}

fn key_of(text: &str) -> anyhow::Result<String> {
    Ok(PlateText::parse(&text.replace(['|', '/'], " "), None).map_err(|e| anyhow::anyhow!("{e}"))?.key().to_owned())
}

fn openalpr_items(dir: &Path, region: &str) -> anyhow::Result<Vec<Item>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let line = std::fs::read_to_string(&f)?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, x, y, w, h, text, ..] = fields[..] else { bail!("{}: expected `file x y w h TEXT`", f.display()) };
        let n = |s: &str| s.parse::<f32>().with_context(|| format!("{}: `{s}` is not a number", f.display()));
        let (x, y) = (n(x)?.max(0.0), n(y)?.max(0.0));
        out.push(Item {
            image: dir.join(name),
            bbox: Bbox { x1: x, y1: y, x2: x + n(w)?, y2: y + n(h)? },
            key: key_of(text)?,
            layout: Layout::OneRow,
            held_out: held_out(&format!("{region}/{name}")),
            scored: true,
            standard: false,
        });
    }
    Ok(out)
}

fn moroccan_items(dir: &Path) -> anyhow::Result<Vec<Item>> {
    let tsv = std::fs::read_to_string(dir.join("plates.tsv")).context("reading plates.tsv")?;
    let mut out = Vec::new();
    for (i, line) in tsv.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, text, _split, _n, ref rest @ ..] = cols[..] else {
            bail!("plates.tsv line {}: too few columns", i + 1)
        };
        let flags = rest.first().copied().unwrap_or("");
        let image = dir.join("images").join(file);
        let img = image::image_dimensions(&image).with_context(|| format!("reading {}", image.display()))?;
        let (w, h) = (img.0 as f32, img.1 as f32);
        let stem = Path::new(file).with_extension("txt");
        let labels = std::fs::read_to_string(dir.join("labels_yolo_chars").join(stem))?;
        let mut bbox: Option<Bbox> = None;
        for l in labels.lines() {
            let v: Vec<f32> = l.split_whitespace().skip(1).filter_map(|s| s.parse().ok()).collect();
            let [cx, cy, bw, bh] = v[..] else { continue };
            let b = Bbox {
                x1: (cx - bw / 2.0) * w,
                y1: (cy - bh / 2.0) * h,
                x2: (cx + bw / 2.0) * w,
                y2: (cy + bh / 2.0) * h,
            };
            bbox = Some(match bbox {
                None => b,
                Some(a) => Bbox { x1: a.x1.min(b.x1), y1: a.y1.min(b.y1), x2: a.x2.max(b.x2), y2: a.y2.max(b.y2) },
            });
        }
        let Some(bbox) = bbox else { continue };
        let split_key: String = text.chars().filter(|c| !matches!(c, '|' | '/')).filter_map(normalise_char).collect();
        let parts: Vec<&str> = text.split('|').collect();
        let standard = flags.is_empty()
            && parts.len() == 3
            && parts[0].bytes().all(|b| b.is_ascii_digit())
            && parts[2].bytes().all(|b| b.is_ascii_digit())
            && parts[1].chars().count() == 1;
        out.push(Item {
            image,
            bbox,
            key: key_of(text)?,
            layout: if flags.contains("two_row") { Layout::TwoRows } else { Layout::OneRow },
            held_out: held_out(&split_key),
            scored: !flags.contains("no_arabic_letter_labeled"),
            standard,
        });
    }
    Ok(out)
}

/// Exact-read counts for one subset.
#[derive(Debug, Default, Clone, Copy, Serialize)]
struct Rate {
    n: usize,
    exact: usize,
}

impl Rate {
    fn add(&mut self, ok: bool) {
        self.n += 1;
        self.exact += usize::from(ok);
    }
    fn pct(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.exact as f64 * 100.0 / self.n as f64 }
    }
}

/// Figures for one set.
#[derive(Debug, Default, Serialize)]
struct SetReport {
    set: String,
    images: usize,
    /// Plates whose box some proposer region overlaps at IoU ≥ 0.3 / 0.5 (localisation alone).
    region_recall_30: f64,
    region_recall_50: f64,
    regions_per_image: f64,
    /// Plates whose box some accepted plate read overlaps at IoU ≥ 0.5.
    detection_recall_50: f64,
    /// Accepted plate reads at IoU ≥ 0.5 with the annotated plate, over all accepted reads
    /// (unannotated plates in a scene count against it).
    detection_precision_50: f64,
    /// Exact read, whole image in (proposer + recogniser): the read at the plate's place.
    end_to_end: Rate,
    end_to_end_held_out: Rate,
    /// Exact read of the annotated box (recogniser alone).
    crop: Rate,
    crop_held_out: Rate,
    /// Moroccan `digits|letter|digits` plates only.
    standard_end_to_end_held_out: Rate,
    standard_crop_held_out: Rate,
    /// Characters right in the annotated-box reads (1 − edit distance / length), all scored items.
    char_accuracy: f64,
    char_accuracy_held_out: f64,
    ms_per_image: f64,
}

fn evaluate(finder: &mut PlateFinder, name: &str, items: &[Item], mistakes: bool) -> anyhow::Result<SetReport> {
    let mut r = SetReport { set: name.to_owned(), ..Default::default() };
    let (mut det_hit, mut reads_total, mut reads_on_plate) = (0usize, 0usize, 0usize);
    let (mut loc30, mut loc50, mut regions_total) = (0usize, 0usize, 0usize);
    let (mut chars, mut chars_ok, mut chars_h, mut chars_ok_h) = (0usize, 0usize, 0usize, 0usize);
    let mut ms = 0f64;
    for it in items {
        let img = match RgbImage::open(&it.image) {
            Ok(img) => img,
            Err(e) => {
                eprintln!("  {e}");
                continue;
            }
        };
        r.images += 1;
        let start = Instant::now();
        let (regions, plates) = finder.find_with_regions(&img)?;
        ms += start.elapsed().as_secs_f64() * 1000.0;
        let best = regions.iter().map(|g| g.bbox.iou(&it.bbox)).fold(0f32, f32::max);
        (loc30, loc50, regions_total) =
            (loc30 + usize::from(best >= 0.3), loc50 + usize::from(best >= 0.5), regions_total + regions.len());
        reads_total += plates.len();
        reads_on_plate += plates.iter().filter(|p| p.bbox.iou(&it.bbox) >= 0.5).count();
        det_hit += usize::from(plates.iter().any(|p| p.bbox.iou(&it.bbox) >= 0.5));
        // The read at the plate's place: most overlap with the annotated box.
        let at_plate = plates
            .iter()
            .map(|p| (p.bbox.iou(&it.bbox), p))
            .filter(|(iou, _)| *iou > 0.1)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p.key.clone());
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
            eprintln!(
                "  {name}{} {}: truth {}  crop {}  end-to-end {}",
                if it.held_out { " (held out)" } else { "" },
                it.image.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                it.key,
                if crop_ok { "ok".to_owned() } else { crop_key.clone() },
                if e2e_ok { "ok".to_owned() } else { at_plate.clone().unwrap_or_else(|| "(none)".into()) }
            );
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
        }
    }
    let n = r.images.max(1) as f64;
    r.region_recall_30 = loc30 as f64 * 100.0 / n;
    r.region_recall_50 = loc50 as f64 * 100.0 / n;
    r.regions_per_image = regions_total as f64 / n;
    r.detection_recall_50 = det_hit as f64 * 100.0 / n;
    r.detection_precision_50 = reads_on_plate as f64 * 100.0 / reads_total.max(1) as f64;
    r.char_accuracy = chars_ok as f64 * 100.0 / chars.max(1) as f64;
    r.char_accuracy_held_out = chars_ok_h as f64 * 100.0 / chars_h.max(1) as f64;
    r.ms_per_image = ms / n;
    Ok(r)
}

/// The annotated sets under `data`: `data` itself or its subfolders, in either style.
fn sets(data: &Path) -> anyhow::Result<Vec<(String, Vec<Item>)>> {
    let name_of = |p: &Path| p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let load = |dir: &Path| -> anyhow::Result<Option<Vec<Item>>> {
        if dir.join("plates.tsv").is_file() {
            return Ok(Some(moroccan_items(dir)?));
        }
        let items = openalpr_items(dir, &name_of(dir))?;
        Ok((!items.is_empty()).then_some(items))
    };
    if let Some(items) = load(data)? {
        return Ok(vec![(name_of(data), items)]);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(data)
        .with_context(|| format!("reading {}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        if let Some(items) = load(&d)? {
            out.push((name_of(&d), items));
        }
    }
    if out.is_empty() {
        bail!("{}: no plates.tsv or `file x y w h TEXT` annotations here or in its subfolders", data.display());
    }
    Ok(out)
}

/// Runs the evaluation and prints a table (or JSON with `json`); `views`: plates are re-read
/// from several views and voted (as `raqib run` does), else from their one crop.
pub fn eval(
    config: &Config,
    paths: &Paths,
    data: &[PathBuf],
    json: bool,
    mistakes: bool,
    views: bool,
) -> anyhow::Result<()> {
    let mut finder = crate::plates_cmd::load_finder(config, paths)?;
    finder.views = if views { Views::All } else { Views::One };
    let mut reports = Vec::new();
    for d in data {
        for (name, items) in sets(d)? {
            reports.push(evaluate(&mut finder, &name, &items, mistakes)?);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "plates": reports }))?);
        return Ok(());
    }
    let p = |r: &Rate| if r.n == 0 { "—".to_owned() } else { format!("{:.1}% ({}/{})", r.pct(), r.exact, r.n) };
    println!("plates: end-to-end = whole image → proposer → recogniser; crop = annotated box → recogniser");
    println!("held out = never trained on (hash split of training/plate_ocr/real.py)");
    for r in &reports {
        println!("\n{} ({} images, {:.0} ms/image end to end)", r.set, r.images, r.ms_per_image);
        println!(
            "  text regions      recall@0.3 {:.1}%  recall@0.5 {:.1}%  {:.1} regions/image",
            r.region_recall_30, r.region_recall_50, r.regions_per_image
        );
        println!(
            "  plates@IoU0.5     recall {:.1}%  precision {:.1}%",
            r.detection_recall_50, r.detection_precision_50
        );
        println!("  exact end-to-end  held out {:<18} all {}", p(&r.end_to_end_held_out), p(&r.end_to_end));
        println!("  exact crop        held out {:<18} all {}", p(&r.crop_held_out), p(&r.crop));
        if r.standard_crop_held_out.n > 0 {
            println!(
                "  standard digits|letter|digits, held out: crop {}  end-to-end {}",
                p(&r.standard_crop_held_out),
                p(&r.standard_end_to_end_held_out)
            );
        }
        println!("  character accuracy (crop)  held out {:.2}%  all {:.2}%", r.char_accuracy_held_out, r.char_accuracy);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_the_training_script() {
        // Values computed with training/plate_ocr/real.py::split_of.
        assert!(!held_out("558أ1"));
        assert!(held_out("br/AYO9034.jpg"));
    }

    #[test]
    fn keys_of_annotations() {
        assert_eq!(key_of("15741|ب|15").unwrap(), "15741ب15");
        assert_eq!(key_of("599625|WW").unwrap(), key_of("WW 599625").unwrap());
        assert_eq!(key_of("AYO9034").unwrap(), "AYO9034");
    }
}
