//! The plate recogniser: crops to characters with confidences and alternatives.
//!
//! The model (trained by this project, `training/plate_ocr/`) takes `[N, 1, H, W]` grey crops in
//! `[-1, 1]` and returns `[N, T, C]` CTC log-probabilities. Its alphabet and input size travel
//! inside the ONNX file as metadata (`raqib.alphabet`, `raqib.input`), so code and model cannot
//! drift apart. Two-row plates are fed with their top and bottom rows side by side (top first);
//! time steps of the left half belong to the top row, which tells the decoder where a row ends.

use std::path::Path;

use ndarray::Array4;
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};

use super::ctc::{self, CharRead};
use crate::error::{Error, Result};
use crate::face::Bbox;
use crate::image_ops::RgbImage;
use crate::manifest::Manifest;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};

/// Manifest id of the recogniser.
pub const MODEL_ID: &str = "plate-ocr";
/// Crops per inference call.
pub const DEFAULT_BATCH: usize = 16;
/// Runner-up classes kept per position.
pub const ALTERNATIVES: usize = 3;
/// Runner-ups less likely than this are not reported.
pub const MIN_ALTERNATIVE_P: f32 = 0.01;
/// A read that fits no known plate format is replaced by the best read that does when that one
/// is at most this much less likely (natural log; e^6 ≈ 400×). Turning a separator bar read as
/// `1` back into nothing, or `1` into the look-alike `أ` the format needs, costs 0.5–2; forcing
/// a Moroccan shape onto a European plate costs far more.
pub const FORMAT_MARGIN: f32 = 6.0;

/// How the characters of a crop are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One line of characters.
    OneRow,
    /// Two lines (square plates): read top row first.
    TwoRows,
}

/// One crop to read: a box in the image and its layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    /// The region, image pixels.
    pub bbox: Bbox,
    /// One or two rows.
    pub layout: Layout,
}

/// What the recogniser read in one crop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcrRead {
    /// Characters in reading order; a space separates the two rows of a two-row plate.
    pub text: String,
    /// The plate format the read was decoded under, when the free read fit none.
    pub format_decoded: Option<&'static str>,
    /// Mean character confidence (0 for an empty read).
    pub confidence: f32,
    /// Per position: the character, its confidence and alternatives.
    pub chars: Vec<CharRead>,
    /// The layout the crop was read with.
    pub layout: Layout,
}

#[derive(Deserialize)]
struct InputMeta {
    height: usize,
    width: usize,
    two_rows: [f32; 2],
}

/// The loaded recogniser.
pub struct PlateReader {
    model: LoadedModel,
    classes: Vec<String>,
    height: usize,
    width: usize,
    /// Two-row split: the top row is rows `[0, top_end·h)`, the bottom `[bottom_start·h, h)`.
    top_end: f32,
    bottom_start: f32,
    /// Crops per inference call.
    pub batch: usize,
    /// Plate grammars for format-constrained decoding, with the layouts they apply to.
    grammars: Vec<(ctc::Grammar, Option<Layout>)>,
    /// Digits and Latin letters only: for a read that mixes an Arabic plate letter with Latin
    /// letters, which no plate does ([`mixes_scripts`]).
    latin: Option<ctc::Grammar>,
}

impl PlateReader {
    /// Verifies and loads the recogniser from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let spec = manifest.get(MODEL_ID)?;
        let model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        Self::from_model(model)
    }

    /// Wraps a loaded session, reading the alphabet and input size from its metadata.
    pub fn from_model(model: LoadedModel) -> Result<Self> {
        let bad = |what: String| Error::BadMetadata { model: MODEL_ID, what };
        let meta = model.session.metadata()?;
        let alphabet = meta.custom("raqib.alphabet").ok_or_else(|| bad("no raqib.alphabet".into()))?;
        let input = meta.custom("raqib.input").ok_or_else(|| bad("no raqib.input".into()))?;
        drop(meta);
        let classes: Vec<String> = serde_json::from_str(&alphabet).map_err(|e| bad(format!("raqib.alphabet: {e}")))?;
        let input: InputMeta = serde_json::from_str(&input).map_err(|e| bad(format!("raqib.input: {e}")))?;
        if classes.len() < 2 || input.height == 0 || input.width < 2 {
            return Err(bad(format!("{} classes, input {}×{}", classes.len(), input.width, input.height)));
        }
        let grammars = grammars(&classes);
        let latin = latin_grammar(&classes);
        Ok(PlateReader {
            grammars,
            latin,
            model,
            classes,
            height: input.height,
            width: input.width,
            top_end: input.two_rows[0],
            bottom_start: input.two_rows[1],
            batch: DEFAULT_BATCH,
        })
    }

    /// Input height and width the model takes.
    pub fn input_size(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// Two-row split: the top row ends at `.0 · height`, the bottom row starts at `.1 · height`.
    pub fn two_row_split(&self) -> (f32, f32) {
        (self.top_end, self.bottom_start)
    }

    /// The class texts, index 0 being the CTC blank.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Reads every crop of `img`, in batches of [`PlateReader::batch`].
    pub fn read(&mut self, img: &RgbImage, crops: &[Crop]) -> Result<Vec<OcrRead>> {
        let (h, w, (top_end, bottom_start)) = (self.height, self.width, self.two_row_split());
        self.read_each(
            crops.len(),
            |i| crops[i].layout,
            |i, plane| fill(img, &crops[i], plane, w, h, top_end, bottom_start),
        )
    }

    /// Reads `n` inputs in batches of [`PlateReader::batch`]: `fill(i, plane)` writes input `i`
    /// into its `height × width` plane, `layout(i)` says how it is laid out.
    pub(super) fn read_each(
        &mut self,
        n: usize,
        layout: impl Fn(usize) -> Layout,
        fill: impl Fn(usize, &mut [f32]),
    ) -> Result<Vec<OcrRead>> {
        let (h, w) = (self.height, self.width);
        let mut out = Vec::with_capacity(n);
        let indices: Vec<usize> = (0..n).collect();
        for chunk in indices.chunks(self.batch.max(1)) {
            let mut input = Array4::<f32>::zeros((chunk.len(), 1, h, w));
            if let Some(all) = input.as_slice_mut() {
                for (&i, plane) in chunk.iter().zip(all.chunks_mut(h * w)) {
                    fill(i, plane);
                }
            }
            let layouts: Vec<Layout> = chunk.iter().map(|&i| layout(i)).collect();
            out.extend(self.run(&input, &layouts)?);
        }
        Ok(out)
    }

    /// The `[N, 1, H, W]` model input for `crops` of `img`.
    pub fn input(&self, img: &RgbImage, crops: &[Crop]) -> Array4<f32> {
        crop_input(img, crops, (self.height, self.width), (self.top_end, self.bottom_start))
    }

    /// Runs the model alone on a prepared batch (benchmarks: the compute limit).
    pub fn infer(&mut self, input: &Array4<f32>) -> Result<()> {
        self.model.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
        Ok(())
    }

    /// Runs the model on a prepared batch and decodes each row.
    pub fn run(&mut self, input: &Array4<f32>, layouts: &[Layout]) -> Result<Vec<OcrRead>> {
        let (shape, lp) = {
            let outputs = self.model.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
            let (shape, lp) = outputs[0].try_extract_tensor::<f32>()?;
            (shape.to_vec(), lp.to_vec())
        };
        let n = input.shape()[0];
        let c = self.classes.len();
        if shape.len() != 3 || shape[0] as usize != n || shape[2] as usize != c {
            return Err(Error::BadOutput {
                model: MODEL_ID,
                what: format!("shape {shape:?} for {n} crops, {c} classes"),
            });
        }
        let steps = shape[1] as usize;
        Ok((0..n)
            .map(|i| {
                let rows = &lp[i * steps * c..(i + 1) * steps * c];
                let chars = ctc::decode(rows, steps, &self.classes, ALTERNATIVES, MIN_ALTERNATIVE_P);
                let layout = layouts.get(i).copied().unwrap_or(Layout::OneRow);
                let free = assemble(chars, layout, steps);
                if fits_a_format(&free.text) {
                    return free;
                }
                if let Some(read) = self.constrained(rows, steps, layout) {
                    return read;
                }
                if mixes_scripts(&free.text)
                    && let Some(read) = self.latin_only(rows, steps, layout)
                {
                    return read;
                }
                free
            })
            .collect())
    }
}

/// The `[N, 1, h, w]` recogniser input for `crops` of `img`; `split` is the two-row split
/// (top row ends at `split.0 · height`, bottom row starts at `split.1 · height`).
pub fn crop_input(img: &RgbImage, crops: &[Crop], (h, w): (usize, usize), split: (f32, f32)) -> Array4<f32> {
    let mut t = Array4::<f32>::zeros((crops.len(), 1, h, w));
    if let Some(all) = t.as_slice_mut() {
        for (crop, plane) in crops.iter().zip(all.chunks_mut(h * w)) {
            fill(img, crop, plane, w, h, split.0, split.1);
        }
    }
    t
}

impl PlateReader {
    /// The best read under any plate grammar for `layout`, if within [`FORMAT_MARGIN`] of the
    /// free read.
    fn constrained(&self, rows: &[f32], steps: usize, layout: Layout) -> Option<OcrRead> {
        let fitting = self.grammars.iter().filter(|(_, only)| only.is_none_or(|l| l == layout)).map(|(g, _)| g);
        self.best_under(fitting, rows, steps, layout)
    }

    /// The best read of digits and Latin letters only, if within [`FORMAT_MARGIN`] of the free
    /// read (a US `14CV10` whose `1` was read as the look-alike `أ`).
    fn latin_only(&self, rows: &[f32], steps: usize, layout: Layout) -> Option<OcrRead> {
        self.best_under(self.latin.iter(), rows, steps, layout)
    }

    /// The likeliest read that one of `grammars` accepts, named by its grammar, if it is at most
    /// [`FORMAT_MARGIN`] less likely than the free read.
    fn best_under<'a>(
        &self,
        grammars: impl Iterator<Item = &'a ctc::Grammar>,
        rows: &[f32],
        steps: usize,
        layout: Layout,
    ) -> Option<OcrRead> {
        let free = ctc::best_path_score(rows, steps, self.classes.len());
        let (chars, score, name) = grammars
            .filter_map(|g| {
                ctc::decode_constrained(rows, steps, &self.classes, g, ALTERNATIVES, MIN_ALTERNATIVE_P, FORMAT_MARGIN)
                    .map(|(chars, score)| (chars, score, g.name))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        (free - score <= FORMAT_MARGIN)
            .then(|| OcrRead { format_decoded: Some(name), ..assemble(chars, layout, steps) })
    }
}

/// Whether a read holds both an Arabic plate letter (or the word `المغرب`) and a Latin letter:
/// Moroccan plates carry digits with one Arabic letter (or `WW`, or the word), every other
/// plate Latin letters, so such a read has a look-alike wrong.
pub(super) fn mixes_scripts(text: &str) -> bool {
    let arabic = text.chars().any(|c| raqib_core::plate::latin_for_arabic(c).is_some())
        || text.contains(raqib_core::plate::MOROCCO_WORD);
    arabic && text.chars().any(|c| c.is_ascii_uppercase())
}

/// Digits and Latin letters, 1 to 10 of them (any plate but a Moroccan one), over the model's
/// classes; `None` when the alphabet has no digits.
fn latin_grammar(classes: &[String]) -> Option<ctc::Grammar> {
    let allowed = class_set(classes, &|c| is_digit(c) || is_latin(c));
    allowed
        .iter()
        .any(|&b| b)
        .then(|| ctc::Grammar { name: "latin_script", slots: vec![ctc::Slot { allowed, min: 1, max: 10 }] })
}

/// Per class of the model (index 0, the blank, never): whether `f` accepts its text.
fn class_set(classes: &[String], f: &dyn Fn(&str) -> bool) -> Vec<bool> {
    classes.iter().enumerate().map(|(i, c)| i > 0 && f(c)).collect()
}

/// A class that is one digit.
fn is_digit(c: &str) -> bool {
    c.len() == 1 && c.as_bytes()[0].is_ascii_digit()
}

/// A class that is one Latin capital.
fn is_latin(c: &str) -> bool {
    c.len() == 1 && c.as_bytes()[0].is_ascii_uppercase()
}

/// Whether a read already parses as a known (non-generic) plate format.
pub(super) fn fits_a_format(text: &str) -> bool {
    raqib_core::PlateText::parse(text, None).is_ok_and(|p| p.format() != raqib_core::PlateFormat::Generic)
}

/// Plate grammars over the model's classes, with the layout each applies to (`None`: any):
/// Moroccan formats (the free read most often misses them by a separator bar read as `1`, `أ`
/// read as `1`, a letter dropped), Brazil's two fixed formats (`I`/`1`, `O`/`0` at positions
/// whose class the format fixes) and the French/Italian `AB-123-CD`.
fn grammars(classes: &[String]) -> Vec<(ctc::Grammar, Option<Layout>)> {
    let set = |f: &dyn Fn(&str) -> bool| class_set(classes, f);
    let digit = set(&is_digit);
    let letter = set(&|c| {
        c.chars().count() == 1 && raqib_core::plate::MOROCCAN_LETTERS.iter().any(|(a, _, _)| c.starts_with(*a))
    });
    let latin = set(&is_latin);
    let w = set(&|c| c == "W");
    let word = set(&|c| c == raqib_core::plate::MOROCCO_WORD);
    let slot = |allowed: &Vec<bool>, min: u8, max: u8| ctc::Slot { allowed: allowed.clone(), min, max };
    let g = |name: &'static str, slots: Vec<ctc::Slot>| ctc::Grammar { name, slots };
    if !letter.iter().any(|&b| b) || !digit.iter().any(|&b| b) {
        return Vec::new();
    }
    vec![
        (
            g("morocco_standard", vec![slot(&digit, 1, 5), slot(&letter, 1, 1), slot(&digit, 1, 2)]),
            Some(Layout::OneRow),
        ),
        (
            g("morocco_two_rows", vec![slot(&letter, 1, 1), slot(&digit, 1, 2), slot(&digit, 1, 5)]),
            Some(Layout::TwoRows),
        ),
        (
            g("morocco_two_rows", vec![slot(&digit, 1, 2), slot(&letter, 1, 1), slot(&digit, 1, 5)]),
            Some(Layout::TwoRows),
        ),
        (g("morocco_temporary", vec![slot(&digit, 1, 6), slot(&w, 2, 2)]), None),
        (g("morocco_temporary", vec![slot(&w, 2, 2), slot(&digit, 1, 6)]), None),
        (g("morocco_government", vec![slot(&digit, 1, 6), slot(&word, 1, 1)]), None),
        (g("morocco_government", vec![slot(&word, 1, 1), slot(&digit, 1, 6)]), None),
        (g("brazil_old", vec![slot(&latin, 3, 3), slot(&digit, 4, 4)]), Some(Layout::OneRow)),
        // France (SIV) and Italy: `AB-123-CD`; a right-hand blue band is often read as a letter.
        (g("france_italy", vec![slot(&latin, 2, 2), slot(&digit, 3, 3), slot(&latin, 2, 2)]), Some(Layout::OneRow)),
        (
            g("brazil_mercosur", vec![slot(&latin, 3, 3), slot(&digit, 1, 1), slot(&latin, 1, 1), slot(&digit, 2, 2)]),
            Some(Layout::OneRow),
        ),
    ]
}

/// Joins decoded characters into text; for two-row input, a space where the top row ends.
fn assemble(chars: Vec<CharRead>, layout: Layout, steps: usize) -> OcrRead {
    let mut text = String::new();
    let mut in_bottom = false;
    for ch in &chars {
        if layout == Layout::TwoRows && !in_bottom && ch.step >= steps / 2 {
            in_bottom = true;
            if !text.is_empty() {
                text.push(' ');
            }
        }
        text.push_str(&ch.text);
    }
    let confidence =
        if chars.is_empty() { 0.0 } else { chars.iter().map(|c| c.confidence).sum::<f32>() / chars.len() as f32 };
    OcrRead { text, confidence, chars, layout, format_decoded: None }
}

/// Writes one crop into an `h × w` plane: grey (BT.601), bilinear with half-pixel centres clamped
/// to the crop, `(v / 255 − 0.5) / 0.5`. The same arithmetic as `training/plate_ocr/preprocess.py`.
pub(super) fn fill(
    img: &RgbImage,
    crop: &Crop,
    plane: &mut [f32],
    w: usize,
    h: usize,
    top_end: f32,
    bottom_start: f32,
) {
    let (iw, ih) = (img.width as f32, img.height as f32);
    let x0 = crop.bbox.x1.clamp(0.0, iw - 1.0).floor();
    let y0 = crop.bbox.y1.clamp(0.0, ih - 1.0).floor();
    let x1 = crop.bbox.x2.clamp(x0 + 1.0, iw).ceil();
    let y1 = crop.bbox.y2.clamp(y0 + 1.0, ih).ceil();
    let (cw, ch) = (x1 - x0, y1 - y0);
    match crop.layout {
        Layout::OneRow => resize_grey(img, (x0, y0, cw, ch), plane, w, (0, w), h),
        Layout::TwoRows => {
            let top = (ch * top_end).round().max(1.0);
            let bottom = (ch * bottom_start).round().min(ch - 1.0);
            resize_grey(img, (x0, y0, cw, top), plane, w, (0, w / 2), h);
            resize_grey(img, (x0, y0 + bottom, cw, ch - bottom), plane, w, (w / 2, w - w / 2), h);
        }
    }
}

/// Resizes the source rectangle into columns `[ox, ox + ow)` of a plane with row stride `stride`.
fn resize_grey(
    img: &RgbImage,
    (sx0, sy0, sw, sh): (f32, f32, f32, f32),
    plane: &mut [f32],
    stride: usize,
    (ox, ow): (usize, usize),
    oh: usize,
) {
    for y in 0..oh {
        let sy = sy0 + ((y as f32 + 0.5) * sh / oh as f32 - 0.5).clamp(0.0, sh - 1.0);
        for x in 0..ow {
            let sx = sx0 + ((x as f32 + 0.5) * sw / ow as f32 - 0.5).clamp(0.0, sw - 1.0);
            plane[y * stride + ox + x] = (img.luma(sx, sy) / 255.0 - 0.5) / 0.5;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(text: &str, step: usize) -> CharRead {
        CharRead { text: text.into(), confidence: 0.5, alternatives: vec![], step }
    }

    #[test]
    fn arabic_letters_beside_latin_ones_are_a_misread() {
        assert!(mixes_scripts("أ4CV10"));
        assert!(mixes_scripts("TADأ856"));
        assert!(!mixes_scripts("12345ب6"));
        assert!(!mixes_scripts("WW599626"));
        assert!(!mixes_scripts("123456المغرب"));
        assert!(!mixes_scripts("14CV10"));
        let classes: Vec<String> = ["<blank>", "1", "A", "أ"].iter().map(|s| s.to_string()).collect();
        let g = latin_grammar(&classes).unwrap();
        assert_eq!(g.slots[0].allowed, vec![false, true, true, false]);
    }

    #[test]
    fn two_row_reads_get_a_space_where_the_top_row_ends() {
        let r = assemble(vec![ch("ب", 3), ch("6", 8), ch("1", 22), ch("2", 25)], Layout::TwoRows, 40);
        assert_eq!(r.text, "ب6 12");
        let one = assemble(vec![ch("1", 3), ch("2", 30)], Layout::OneRow, 40);
        assert_eq!(one.text, "12");
        assert!((one.confidence - 0.5).abs() < 1e-6);
        assert_eq!(assemble(vec![], Layout::OneRow, 40).confidence, 0.0);
    }

    #[test]
    fn fill_matches_the_training_arithmetic() {
        // A 4×2 image: left half black, right half white; one row resized to 4×2 keeps it.
        let mut data = vec![0u8; 4 * 2 * 3];
        for y in 0..2 {
            for x in 2..4 {
                for c in 0..3 {
                    data[(y * 4 + x) * 3 + c] = 255;
                }
            }
        }
        let img = RgbImage { width: 4, height: 2, data };
        let crop = Crop { bbox: Bbox { x1: 0.0, y1: 0.0, x2: 4.0, y2: 2.0 }, layout: Layout::OneRow };
        let mut plane = vec![0.0; 8];
        fill(&img, &crop, &mut plane, 4, 2, 0.6, 0.4);
        assert_eq!(plane, vec![-1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0]);
        // Two rows: each half of the output sees the whole width squeezed into 2 columns.
        fill(&img, &Crop { layout: Layout::TwoRows, ..crop }, &mut plane, 4, 2, 0.6, 0.4);
        assert_eq!(&plane[..4], &[-1.0, 1.0, -1.0, 1.0]);
    }
}
