//! The annotated plates of `raqib eval plates`, read from the folders' own annotation styles:
//! - OpenALPR end-to-end (`file x y w h TEXT` per `.txt`): whole scenes, one annotated plate each;
//! - UM6P close-ups (`plates.tsv` + `labels_yolo_chars/`, moroccan-um6p-dev and -train): per-character
//!   boxes; the plate box is the union of the character boxes;
//! - whole-car scenes (`plates.tsv` + `labels_yolo/`, moroccan-scenes): one YOLO plate box per
//!   photo and the plate text; rows checked `unreadable` are not scored;
//! - plate crops (`groundtruth.csv` of `file,state,TEXT`, openalpr-us-crops): the whole image is
//!   the plate.
//!
//! Each item is marked *held out* or not with the one split rule of the training scripts
//! (`training/plate_ocr/real.py`): SHA-256 of the plate text's characters for every Moroccan and
//! US folder (so a plate string is never on both sides, whatever folder it is in), of
//! `region/file` for OpenALPR scenes; first 8 hex digits mod 100 < 40 is held out.

use std::path::{Path, PathBuf};

use raqib_core::plate::normalise_char;
use raqib_core::{Bbox, PlateText};
use raqib_models::plate::Layout;
use sha2::{Digest, Sha256};

use super::fixes::{self, Fix, Labels};
use crate::{Error, Result};

/// Share of items (percent) the training split holds out.
const HELD_OUT_PERCENT: u32 = 40;

/// One annotated plate.
pub struct Item {
    /// The photo.
    pub image: PathBuf,
    /// The plate's box in it, pixels.
    pub bbox: Bbox,
    /// The plate text's separator-free match key.
    pub key: String,
    /// One row or two.
    pub layout: Layout,
    /// Never trained on (the split rule of the training scripts).
    pub held_out: bool,
    /// Counts for exact-match scoring (its text is completely annotated and readable).
    pub scored: bool,
    /// Moroccan `digits|letter|digits` plate.
    pub standard: bool,
    /// The plate's letter group (`أ`, `WW`, …), Moroccan plates only.
    pub letter: Option<String>,
    /// `standard`, `WW`, `two-row` or `other` (Moroccan plates), else none.
    pub format: Option<&'static str>,
    /// Its label was corrected by eye (`eval/plate-label-fixes.tsv`, [`fixes`]).
    pub relabelled: bool,
}

/// Whether the split rule holds `split_key` out of training.
pub fn held_out(split_key: &str) -> bool {
    let digest = Sha256::digest(split_key.as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    first % 100 < HELD_OUT_PERCENT
}

/// Separator-free match key of an annotation; `None` when it is no plate text at all.
pub fn key_of(text: &str) -> Option<String> {
    PlateText::parse(&text.replace(['|', '/'], " "), None).ok().map(|p| p.key().to_owned())
}

/// [`key_of`], or an annotation error naming `file` and the text.
fn key_in(file: &Path, text: &str) -> Result<String> {
    key_of(text).ok_or_else(|| Error::annotation(file, format!("`{text}` is no plate text")))
}

/// Files of `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn dimensions(image: &Path) -> Result<(u32, u32)> {
    image::image_dimensions(image).map_err(|e| Error::annotation(image, format!("unreadable image: {e}")))
}

/// The split key of a plate text: its characters without separators, as the training scripts
/// write them (`alphabet.tokens_of`).
fn split_key(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '|' | '/')).filter_map(normalise_char).collect()
}

/// The letter group of a Moroccan `a|b|c` text: its first group that is not all digits.
fn letter_of(text: &str) -> Option<String> {
    text.split(['|', '/']).find(|g| !g.is_empty() && !g.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned)
}

fn is_standard(text: &str) -> bool {
    let parts: Vec<&str> = text.split('|').collect();
    parts.len() == 3
        && parts[0].bytes().all(|b| b.is_ascii_digit())
        && parts[2].bytes().all(|b| b.is_ascii_digit())
        && parts[1].chars().count() == 1
}

/// Items of an OpenALPR end-to-end folder (`region` names it in the split key).
pub fn openalpr(dir: &Path, region: &str) -> Result<Vec<Item>> {
    let files = entries(dir)?.into_iter().filter(|p| p.extension().is_some_and(|e| e == "txt"));
    let mut out = Vec::new();
    for f in files {
        let line = read(&f)?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, x, y, w, h, text, ..] = fields[..] else {
            return Err(Error::annotation(&f, "expected `file x y w h TEXT`"));
        };
        let n = |s: &str| s.parse::<f32>().map_err(|_| Error::annotation(&f, format!("`{s}` is not a number")));
        let (x, y) = (n(x)?.max(0.0), n(y)?.max(0.0));
        out.push(Item {
            image: dir.join(name),
            bbox: Bbox { x1: x, y1: y, x2: x + n(w)?, y2: y + n(h)? },
            key: key_in(&f, text)?,
            layout: Layout::OneRow,
            held_out: held_out(&format!("{region}/{name}")),
            scored: true,
            standard: false,
            letter: None,
            format: None,
            relabelled: false,
        });
    }
    Ok(out)
}

/// Pixel box of a normalised YOLO line `class cx cy w h` in a `w × h` image.
fn yolo_box(line: &str, w: f32, h: f32) -> Option<Bbox> {
    let v: Vec<f32> = line.split_whitespace().skip(1).filter_map(|s| s.parse().ok()).collect();
    let [cx, cy, bw, bh] = v[..] else { return None };
    Some(Bbox { x1: (cx - bw / 2.0) * w, y1: (cy - bh / 2.0) * h, x2: (cx + bw / 2.0) * w, y2: (cy + bh / 2.0) * h })
}

/// Items of a Moroccan folder with `plates.tsv`: UM6P close-ups (character boxes) or whole-car
/// scenes (one plate box), with the corrections of `fixes` that apply to this folder's photos.
/// A corrected item is held out only when both its given and its corrected text are (the split
/// is by plate text, and the model may have been trained under either).
pub fn moroccan(dir: &Path, fixes: &[Fix]) -> Result<Vec<Item>> {
    let folder = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let scenes = dir.join("labels_yolo").is_dir();
    let tsv_path = dir.join("plates.tsv");
    let tsv = read(&tsv_path)?;
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(c_file), Some(c_text)) = (col("file"), col("plate_text").or(col("plate_text_derived"))) else {
        return Err(Error::annotation(&tsv_path, "needs the columns file and plate_text (or plate_text_derived)"));
    };
    let (c_flags, c_check) = (col("flags"), col("check"));
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let get = |c: Option<usize>| c.and_then(|c| cols.get(c).copied()).unwrap_or("");
        let (file, given) = (get(Some(c_file)), get(Some(c_text)));
        if file.is_empty() || given.is_empty() {
            return Err(Error::annotation(&tsv_path, format!("line {}: no file or text", i + 2)));
        }
        let image = dir.join("images").join(file);
        let fix = fixes::find(fixes, &folder, file, given, &image);
        let text = fix.map_or(Some(given), |f| f.corrected.as_deref());
        let readable = text.is_some();
        let text = text.unwrap_or(given);
        let flags = get(c_flags);
        let (w, h) = dimensions(&image)?;
        let (w, h) = (w as f32, h as f32);
        let stem = Path::new(file).with_extension("txt");
        let labels_dir = if scenes { "labels_yolo" } else { "labels_yolo_chars" };
        let labels = read(&dir.join(labels_dir).join(&stem))?;
        let mut boxes = labels.lines().filter_map(|l| yolo_box(l, w, h));
        let bbox = if scenes {
            boxes.next()
        } else {
            boxes.reduce(|a, b| Bbox { x1: a.x1.min(b.x1), y1: a.y1.min(b.y1), x2: a.x2.max(b.x2), y2: a.y2.max(b.y2) })
        };
        let Some(bbox) = bbox else { continue };
        let two_rows = if fix.is_some() { text.contains('/') } else { flags.contains("two_row") };
        let standard = flags.is_empty() && is_standard(text);
        let letter = letter_of(text);
        let format = Some(if two_rows {
            "two-row"
        } else if letter.as_deref() == Some("WW") || text.contains("WW") {
            "WW"
        } else if standard {
            "standard"
        } else {
            "other"
        });
        out.push(Item {
            image,
            bbox,
            key: key_in(&tsv_path, text)?,
            layout: if two_rows { Layout::TwoRows } else { Layout::OneRow },
            held_out: held_out(&split_key(text)) && held_out(&split_key(given)),
            scored: readable && !flags.contains("no_arabic_letter_labeled") && get(c_check) != "unreadable",
            standard,
            letter,
            format,
            relabelled: fix.is_some(),
        });
    }
    Ok(out)
}

/// Items of a plate-crop folder with `groundtruth.csv` (`file,state,TEXT`, no header).
pub fn crops(dir: &Path) -> Result<Vec<Item>> {
    let csv_path = dir.join("groundtruth.csv");
    let csv = read(&csv_path)?;
    let mut out = Vec::new();
    for (i, line) in csv.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [file, _state, text, ..] = fields[..] else {
            return Err(Error::annotation(&csv_path, format!("line {}: expected file,state,TEXT", i + 1)));
        };
        let image = dir.join("images").join(file);
        let (w, h) = dimensions(&image)?;
        out.push(Item {
            image,
            bbox: Bbox { x1: 0.0, y1: 0.0, x2: w as f32, y2: h as f32 },
            key: key_in(&csv_path, text)?,
            layout: Layout::OneRow,
            held_out: held_out(&split_key(text)),
            scored: true,
            standard: false,
            letter: None,
            format: None,
            relabelled: false,
        });
    }
    Ok(out)
}

/// The annotated sets under `data`: `data` itself or its subfolders, in any of the styles, with
/// their labels as `labels` says.
pub fn sets(data: &Path, labels: Labels) -> Result<Vec<(String, Vec<Item>)>> {
    let name_of = |p: &Path| p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let fixes = if labels == Labels::Corrected { fixes::all() } else { Vec::new() };
    let load = |dir: &Path| -> Result<Option<Vec<Item>>> {
        if dir.join("plates.tsv").is_file() {
            return Ok(Some(moroccan(dir, &fixes)?));
        }
        if dir.join("groundtruth.csv").is_file() {
            return Ok(Some(crops(dir)?));
        }
        let items = openalpr(dir, &name_of(dir))?;
        Ok((!items.is_empty()).then_some(items))
    };
    if let Some(items) = load(data)? {
        return Ok(vec![(name_of(data), items)]);
    }
    let mut out = Vec::new();
    for d in entries(data)?.into_iter().filter(|p| p.is_dir()) {
        if let Some(items) = load(&d)? {
            out.push((name_of(&d), items));
        }
    }
    if out.is_empty() {
        return Err(Error::annotation(
            data,
            "no plates.tsv, groundtruth.csv or `file x y w h TEXT` annotations here or in its subfolders",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_the_training_script() {
        // Values computed with training/plate_ocr/real.py::split_of.
        assert!(!held_out("558أ1"));
        assert!(held_out("br/AYO9034.jpg"));
        assert_eq!(split_key("94687|أ|40"), "94687أ40");
    }

    #[test]
    fn keys_of_annotations() {
        assert_eq!(key_of("15741|ب|15").unwrap(), "15741ب15");
        assert_eq!(key_of("599625|WW").unwrap(), key_of("WW 599625").unwrap());
        assert_eq!(key_of("AYO9034").unwrap(), "AYO9034");
    }

    #[test]
    fn letter_groups_and_formats() {
        assert_eq!(letter_of("94687|أ|40").as_deref(), Some("أ"));
        assert_eq!(letter_of("599625|WW").as_deref(), Some("WW"));
        assert_eq!(letter_of("12|ب/3456").as_deref(), Some("ب"));
        assert!(is_standard("94687|أ|40"));
        assert!(!is_standard("599625|WW"));
    }

    #[test]
    fn every_annotation_style_loads_from_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Whole-car scene: one plate box and a text, an unreadable row not scored.
        let scenes = d.join("scenes");
        std::fs::create_dir_all(scenes.join("images")).unwrap();
        std::fs::create_dir_all(scenes.join("labels_yolo")).unwrap();
        for name in ["a", "b"] {
            image::RgbImage::new(100, 50).save(scenes.join("images").join(format!("{name}.jpg"))).unwrap();
            std::fs::write(scenes.join("labels_yolo").join(format!("{name}.txt")), "0 0.5 0.5 0.4 0.2\n").unwrap();
        }
        std::fs::write(
            scenes.join("plates.tsv"),
            "file\tplate_text\tcheck\na.jpg\t94687|أ|40\tok\nb.jpg\t12|ب|3\tunreadable\n",
        )
        .unwrap();
        let items = moroccan(&scenes, &[]).unwrap();
        assert_eq!(items.len(), 2);
        let b = items[0].bbox;
        assert!(b.iou(&Bbox { x1: 30.0, y1: 20.0, x2: 70.0, y2: 30.0 }) > 0.999, "{b:?}");
        assert_eq!(items[0].key, key_of("94687|أ|40").unwrap());
        assert_eq!((items[0].format, items[0].letter.as_deref()), (Some("standard"), Some("أ")));
        assert!(items[0].scored && !items[1].scored);
        // Plate crops: the whole image is the plate.
        let us = d.join("us");
        std::fs::create_dir_all(us.join("images")).unwrap();
        image::RgbImage::new(320, 160).save(us.join("images/ak1.jpg")).unwrap();
        std::fs::write(us.join("groundtruth.csv"), "ak1.jpg,ak,FUW999\n").unwrap();
        let items = crops(&us).unwrap();
        assert_eq!(items[0].bbox, Bbox { x1: 0.0, y1: 0.0, x2: 320.0, y2: 160.0 });
        assert_eq!(items[0].key, "FUW999");
        let found = sets(d, Labels::Corrected).unwrap();
        assert_eq!(found.iter().map(|(n, i)| (n.as_str(), i.len())).collect::<Vec<_>>(), [("scenes", 2), ("us", 1)]);
        // A malformed line is an error naming the file and the line.
        std::fs::write(us.join("groundtruth.csv"), "ak1.jpg\n").unwrap();
        let e = crops(&us).err().unwrap().to_string();
        assert!(e.contains("groundtruth.csv: line 1"), "{e}");
    }

    #[test]
    fn corrected_labels_replace_the_given_ones_and_keep_the_split_honest() {
        let dir = tempfile::tempdir().unwrap();
        let um6p = dir.path().join("um6p");
        std::fs::create_dir_all(um6p.join("images")).unwrap();
        std::fs::create_dir_all(um6p.join("labels_yolo_chars")).unwrap();
        let mut fixes = Vec::new();
        // Texts whose split is known (training/plate_ocr/real.py::split_of): 6|ه|4626 and
        // 6264|ه|6 are both held back; 6|و|78953 is held back, 35987|و|6 is not.
        let rows = [("a", "6|ه|4626", Some("6264|ه|6")), ("b", "6|و|78953", Some("35987|و|6")), ("c", "ب", None)];
        let mut tsv = String::from("file\tplate_text_derived\torig_split\tn_chars\tflags\n");
        for (name, given, corrected) in rows {
            let image = um6p.join("images").join(format!("{name}.jpg"));
            image::RgbImage::new(100, 50).save(&image).unwrap();
            std::fs::write(um6p.join("labels_yolo_chars").join(format!("{name}.txt")), "1 0.5 0.5 0.2 0.4\n").unwrap();
            tsv.push_str(&format!("{name}.jpg\t{given}\ttrain\t6\t\n"));
            let digest = raqib_models::checksum::sha256_file(&image).unwrap();
            fixes.push(Fix {
                folder: "um6p".into(),
                file: format!("{name}.jpg"),
                sha256: digest[..16].to_owned(),
                given: given.into(),
                corrected: corrected.map(str::to_owned),
            });
        }
        std::fs::write(um6p.join("plates.tsv"), tsv).unwrap();
        let as_given = moroccan(&um6p, &[]).unwrap();
        assert!(as_given.iter().all(|i| !i.relabelled && i.scored));
        assert!(as_given[0].held_out && as_given[1].held_out);
        let items = moroccan(&um6p, &fixes).unwrap();
        assert_eq!(items[0].key, key_of("6264|ه|6").unwrap());
        assert!(items[0].relabelled && items[0].held_out && items[0].scored);
        assert_eq!(items[1].key, key_of("35987|و|6").unwrap());
        assert!(!items[1].held_out, "its true plate is on the training side: no longer held back");
        assert!(!items[2].scored, "no complete plate text");
    }
}
