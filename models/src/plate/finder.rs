//! Plates in a whole image: plate regions → candidate crops → recogniser → plates.
//!
//! Regions come from a [`Localiser`]: by default the project's plate detector
//! ([`PlateDetector`], one region per plate), or the general text detector ([`RegionProposer`],
//! one region per line of text, so regions of rows and groups are also joined). Either way a
//! region becomes a plate only when the recogniser reads something plate-shaped in it with
//! enough confidence. Candidate crops per region: the region itself as one row when it is wide,
//! as two rows when it is squarish (both when in between); for text regions also the union of two
//! vertically stacked regions as a two-row plate (the proposer often sees the rows of a square
//! plate as two lines) and groups of one line split at wide gaps. A close-up photo whose shape
//! is a plate's is also read whole. Overlapping plates keep the most confident read.

use std::path::Path;

use raqib_core::{PlateFormat, PlateText};
use serde::Serialize;

use super::detector::PlateDetector;
use super::mercosur;
use super::ocr::{Crop, Layout, OcrRead, PlateReader};
use super::views::{self, Views};
use super::{Region, RegionProposer};
use crate::error::Result;
use crate::face::Bbox;
use crate::image_ops::RgbImage;
use crate::runtime::{Runtime, SessionOptions};

/// Reads with a lower mean character confidence are not plates.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.6;
/// Regions at least this wide for their height are read as one row only.
const ONE_ROW_ASPECT: f32 = 2.4;
/// Regions at most this wide for their height are read as two rows only.
const TWO_ROW_ASPECT: f32 = 1.6;
/// A still's plate is read again from its box grown by this share of its width on each side
/// ([`PlateFinder::complete_cut_plates`]).
const CUT_GROW: f32 = 0.25;
/// The wider read of a cut plate may be this much less confident than the cut read.
const EXTEND_CONFIDENCE_SLACK: f32 = 0.05;
/// Fewest and most characters (match-key length) of a plate.
const KEY_LEN: std::ops::RangeInclusive<usize> = 3..=10;

/// A plate found in an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateRead {
    /// Where, image pixels.
    #[serde(rename = "box")]
    pub bbox: Bbox,
    /// The plate: canonical text (`12345-ب-6`), its Latin spelling, match key, format and the
    /// country the format implies; shown in JSON as the flat fields `text`, `latin`, `key`,
    /// `format`, `country`.
    #[serde(flatten, serialize_with = "raqib_core::plate::read_fields_with_country")]
    pub plate: PlateText,
    /// Mean character confidence.
    pub confidence: f32,
    /// What the recogniser emitted, before canonicalisation.
    pub raw: String,
    /// One or two rows.
    pub layout: Layout,
    /// Per position: character, confidence, alternatives.
    pub chars: Vec<super::ctc::CharRead>,
}

/// Which model finds plate regions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocaliserKind {
    /// The project's plate detector (`plate-detect`).
    #[default]
    Detector,
    /// The general text detector (`text-detect-ppocrv4`): every line of text is a candidate.
    Text,
    /// Both, their candidates read together (still photos: close-ups, where the plate fills the
    /// picture, are found by the text detector, whole scenes by the plate detector).
    Both,
}

impl std::str::FromStr for LocaliserKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "detector" => Ok(LocaliserKind::Detector),
            "text" => Ok(LocaliserKind::Text),
            "both" => Ok(LocaliserKind::Both),
            other => Err(format!("unknown plate localiser `{other}`: expected detector, text or both")),
        }
    }
}

impl std::fmt::Display for LocaliserKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocaliserKind::Detector => "detector",
            LocaliserKind::Text => "text",
            LocaliserKind::Both => "both",
        })
    }
}

/// The model that finds plate regions in a frame.
pub enum Localiser {
    /// The plate detector: one region per plate.
    Detector(PlateDetector),
    /// The text detector: one region per line of text.
    Text(RegionProposer),
    /// Both: the detector's regions first, then the text detector's.
    Both {
        /// The plate detector.
        detector: PlateDetector,
        /// The text detector.
        text: RegionProposer,
    },
}

impl Localiser {
    /// Loads the localiser of `kind` from `models_dir`.
    pub fn load(kind: LocaliserKind, rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        Ok(match kind {
            LocaliserKind::Detector => Localiser::Detector(PlateDetector::load(rt, models_dir, opts)?),
            LocaliserKind::Text => Localiser::Text(RegionProposer::load(rt, models_dir, opts)?),
            LocaliserKind::Both => Localiser::Both {
                detector: PlateDetector::load(rt, models_dir, opts)?,
                text: RegionProposer::load(rt, models_dir, opts)?,
            },
        })
    }

    /// The plate detector's candidates become the plates without the checker's second look
    /// (measurements of what the checker adds); the text detector is unchanged.
    pub fn drop_check(&mut self) {
        if let Localiser::Detector(d) | Localiser::Both { detector: d, .. } = self {
            d.checker = None;
        }
    }

    /// Which one this is.
    pub fn kind(&self) -> LocaliserKind {
        match self {
            Localiser::Detector(_) => LocaliserKind::Detector,
            Localiser::Text(_) => LocaliserKind::Text,
            Localiser::Both { .. } => LocaliserKind::Both,
        }
    }

    /// Manifest id of the model.
    pub fn model_id(&self) -> &'static str {
        match self {
            Localiser::Detector(_) => super::detector::MODEL_ID,
            Localiser::Text(_) | Localiser::Both { .. } => "text-detect-ppocrv4",
        }
    }

    /// Regions in the whole image, best first (with [`Localiser::Both`], the detector's first).
    pub fn propose(&mut self, img: &RgbImage) -> Result<Vec<Region>> {
        Ok(self.propose_split(img)?.0)
    }

    /// [`Localiser::propose`], and how many of the regions (the first ones) are the plate
    /// detector's.
    fn propose_split(&mut self, img: &RgbImage) -> Result<(Vec<Region>, usize)> {
        match self {
            Localiser::Detector(d) => {
                let regions = d.detect(img)?;
                let n = regions.len();
                Ok((regions, n))
            }
            Localiser::Text(p) => Ok((p.propose(img)?, 0)),
            Localiser::Both { detector, text } => {
                let mut regions = detector.detect_still(img)?;
                let n = regions.len();
                regions.extend(text.propose(img)?);
                Ok((regions, n))
            }
        }
    }

    /// Whether [`Localiser::propose_in`]'s regions are the plate detector's.
    fn windows_by_detector(&self) -> bool {
        !matches!(self, Localiser::Text(_))
    }

    /// Regions inside `window` of `img`, at the whole image's scale.
    pub fn propose_in(&mut self, img: &RgbImage, window: &Bbox) -> Result<Vec<Region>> {
        match self {
            Localiser::Detector(d) => d.detect_in(img, window),
            Localiser::Text(p) => p.propose_in(img, window),
            Localiser::Both { detector, .. } => detector.detect_in(img, window),
        }
    }

    /// Model input size `(width, height)` for a whole `w × h` frame.
    pub fn input_size(&self, w: u32, h: u32) -> (usize, usize) {
        match self {
            Localiser::Detector(d) => d.input_size(w, h),
            Localiser::Text(p) | Localiser::Both { text: p, .. } => p.input_size(w, h),
        }
    }

    /// Runs the model alone on a prepared `[1, 3, h, w]` input (benchmarks).
    pub fn infer(&mut self, input: &ndarray::Array4<f32>) -> Result<()> {
        match self {
            Localiser::Detector(d) => d.infer(input),
            Localiser::Text(p) | Localiser::Both { text: p, .. } => p.infer(input),
        }
    }

    /// Model input pixels processed so far.
    pub fn pixels_in(&self) -> u64 {
        match self {
            Localiser::Detector(d) => d.pixels_in,
            Localiser::Text(p) => p.pixels_in,
            Localiser::Both { detector, text, .. } => detector.pixels_in + text.pixels_in,
        }
    }

    /// The crops worth reading for `regions` of a `w × h` image, the first `from_detector` of
    /// them the plate detector's.
    fn crops(&self, regions: &[Region], from_detector: usize, w: f32, h: f32) -> Vec<Crop> {
        match self {
            Localiser::Detector(_) => plate_crops(regions, w, h),
            Localiser::Text(_) => candidate_crops(regions, w, h),
            Localiser::Both { .. } => {
                let n = from_detector.min(regions.len());
                let mut crops = plate_crops(&regions[..n], w, h);
                // Both may add the same crop (a plate-shaped photo read whole): read it once.
                for c in candidate_crops(&regions[n..], w, h) {
                    if !crops.contains(&c) {
                        crops.push(c);
                    }
                }
                crops
            }
        }
    }
}

/// Plate localiser plus recogniser.
pub struct PlateFinder {
    /// Finds plate regions.
    pub localiser: Localiser,
    /// Recogniser.
    pub reader: PlateReader,
    /// Reads below this mean confidence are dropped.
    pub min_confidence: f32,
    /// Which views every plate kept is re-read from ([`PlateReader::read_views`]).
    pub views: Views,
    /// Time spent in the last [`PlateFinder::find`] call, by stage (for benchmarks).
    pub last_timing: FindTiming,
}

/// Where one `find` call spent its time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FindTiming {
    /// Region proposal: resize, detector, post-processing.
    pub propose: std::time::Duration,
    /// Recognition of every candidate crop: crop tensors, recogniser, CTC decoding, selection.
    pub read: std::time::Duration,
    /// Candidate crops read.
    pub crops: usize,
    /// Detector input pixels (whole frame or windows).
    pub detector_pixels: u64,
}

impl PlateFinder {
    /// Loads the default localiser (the plate detector) and the recogniser from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        Self::load_with(LocaliserKind::default(), rt, models_dir, opts)
    }

    /// Loads the localiser of `kind` and the recogniser from `models_dir`.
    pub fn load_with(kind: LocaliserKind, rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        Ok(PlateFinder {
            localiser: Localiser::load(kind, rt, models_dir, opts)?,
            reader: PlateReader::load(rt, models_dir, opts)?,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            views: Views::All,
            last_timing: FindTiming::default(),
        })
    }

    /// Plates in `img`, most confident first.
    pub fn find(&mut self, img: &RgbImage) -> Result<Vec<PlateRead>> {
        Ok(self.find_with_regions(img)?.1)
    }

    /// Plates inside `windows` of `img` only (e.g. around tracked plates between full-frame
    /// detections); the detector runs on each window at the whole image's scale, overlapping
    /// windows' regions are merged.
    pub fn find_in(&mut self, img: &RgbImage, windows: &[Bbox]) -> Result<Vec<PlateRead>> {
        let started = std::time::Instant::now();
        let pixels = self.localiser.pixels_in();
        let mut regions: Vec<Region> = Vec::new();
        for w in windows {
            for r in self.localiser.propose_in(img, w)? {
                if regions.iter().all(|k| k.bbox.iou(&r.bbox) < 0.5) {
                    regions.push(r);
                }
            }
        }
        regions.sort_by(|a, b| b.score.total_cmp(&a.score));
        let from_detector = if self.localiser.windows_by_detector() { regions.len() } else { 0 };
        self.read_regions(img, &regions, from_detector, started, pixels)
    }

    /// The localiser's regions and the plates found in them.
    pub fn find_with_regions(&mut self, img: &RgbImage) -> Result<(Vec<Region>, Vec<PlateRead>)> {
        let started = std::time::Instant::now();
        let pixels = self.localiser.pixels_in();
        let (regions, from_detector) = self.localiser.propose_split(img)?;
        let plates = self.read_regions(img, &regions, from_detector, started, pixels)?;
        Ok((regions, plates))
    }

    fn read_regions(
        &mut self,
        img: &RgbImage,
        regions: &[Region],
        from_detector: usize,
        started: std::time::Instant,
        pixels_before: u64,
    ) -> Result<Vec<PlateRead>> {
        let proposed = std::time::Instant::now();
        let crops = self.localiser.crops(regions, from_detector, img.width as f32, img.height as f32);
        let reads = self.reader.read(img, &crops)?;
        let mut plates = select(crops.iter().zip(reads), self.min_confidence);
        let mut extra = self.complete_bare_numbers(img, &mut plates)?;
        if self.views == Views::All {
            extra += self.complete_cut_plates(img, &mut plates)?;
        }
        extra += self.reread_with_views(img, &mut plates)?;
        mercosur_by_band(img, &mut plates);
        self.last_timing = FindTiming {
            propose: proposed - started,
            read: proposed.elapsed(),
            crops: crops.len() + extra,
            detector_pixels: self.localiser.pixels_in() - pixels_before,
        };
        Ok(plates)
    }
}

impl PlateFinder {
    /// Reads plates' crops again from [`PlateFinder::views`] (with [`Views::Tilted`], only those
    /// of tilted one-row plates) and takes the voted read when it is still a plate. Returns the
    /// crops read.
    fn reread_with_views(&mut self, img: &RgbImage, plates: &mut [PlateRead]) -> Result<usize> {
        if self.views == Views::One || plates.is_empty() {
            return Ok(0);
        }
        let crops: Vec<Crop> = plates.iter().map(|p| Crop { bbox: p.bbox, layout: p.layout }).collect();
        let tilts = views::tilts(img, &crops);
        let chosen: Vec<usize> = (0..crops.len()).filter(|&i| self.views == Views::All || tilts[i].is_some()).collect();
        if chosen.is_empty() {
            return Ok(0);
        }
        let (crops, tilts): (Vec<Crop>, Vec<_>) = chosen.iter().map(|&i| (crops[i], tilts[i])).unzip();
        let (reads, read) = self.reader.read_views_tilted(img, &crops, &tilts, self.views)?;
        for ((crop, voted), &i) in crops.iter().zip(reads).zip(&chosen) {
            if let Some(plate) = to_plate(crop, voted, self.min_confidence) {
                plates[i] = plate;
            }
        }
        Ok(read)
    }

    /// A read that is a bare number (`664521`) is rarely a whole plate: the detector often
    /// misses a group beside it (`WW`, the Arabic letter and prefecture code) or, on a two-row
    /// plate, the row above it (`ب 1` over `52547`: the serial is the bottom row). Reads the row
    /// widened to the left and to the right, and (a number of at most five digits) the row with
    /// as much again above it as two rows, and keeps a widened read that has the number and fits
    /// a known format. Returns the crops read.
    fn complete_bare_numbers(&mut self, img: &RgbImage, plates: &mut [PlateRead]) -> Result<usize> {
        let (w, h) = (img.width as f32, img.height as f32);
        let mut crops = Vec::new();
        let mut owners = Vec::new();
        for (i, p) in plates.iter().enumerate() {
            if p.layout != Layout::OneRow || !p.plate.key().chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let (b, grow) = (p.bbox, 0.8 * p.bbox.width());
            let pad = 0.1 * b.height();
            let (y1, y2) = ((b.y1 - pad).max(0.0), (b.y2 + pad).min(h));
            for (x1, x2) in [((b.x1 - grow).max(0.0), b.x2), (b.x1, (b.x2 + grow).min(w))] {
                if x2 - x1 > b.width() * 1.2 {
                    crops.push(Crop { bbox: Bbox { x1, y1, x2, y2 }, layout: Layout::OneRow });
                    owners.push(i);
                }
            }
            // A two-row plate's bottom row is a Moroccan serial: at most five digits.
            let top = (b.y1 - b.height()).max(0.0);
            if p.plate.key().len() <= 5 && b.y1 - top > 0.5 * b.height() {
                let side = 0.05 * b.width();
                let bbox = Bbox { x1: (b.x1 - side).max(0.0), y1: top, x2: (b.x2 + side).min(w), y2 };
                crops.push(Crop { bbox, layout: Layout::TwoRows });
                owners.push(i);
            }
        }
        if crops.is_empty() {
            return Ok(0);
        }
        let reads = self.reader.read(img, &crops)?;
        for ((crop, read), &i) in crops.iter().zip(reads).zip(&owners) {
            let Some(wider) = to_plate(crop, read, self.min_confidence) else { continue };
            if completes(&plates[i], &wider) {
                plates[i] = wider;
            }
        }
        Ok(crops.len())
    }
}

/// Old-format Brazilian reads of plates that carry the Mercosul band become Mercosul reads
/// ([`mercosur`]).
fn mercosur_by_band(img: &RgbImage, plates: &mut [PlateRead]) {
    for p in plates.iter_mut().filter(|p| p.plate.format() == PlateFormat::BrazilOld) {
        if !mercosur::has_top_band(img, &p.bbox) {
            continue;
        }
        if let Some((plate, chars)) = mercosur::as_mercosur(&p.plate, &p.chars) {
            tracing::debug!(
                old = p.plate.canonical(),
                new = plate.canonical(),
                "Mercosul band: fifth character a letter"
            );
            p.raw = chars.iter().map(|c| c.text.as_str()).collect();
            p.plate = plate;
            p.chars = chars;
        }
    }
}

impl PlateFinder {
    /// A still's plate read from a box that cut part of it off (`5أ37` of `14185أ37`: the
    /// detector's box on a close-up often stops inside the serial or the code). Reads each
    /// one-row plate of a known format again from its box grown by [`CUT_GROW`] of its width on
    /// each side and keeps the wider read when it [`extends`] it. Stills only
    /// ([`Views::All`]): in video a plate cut in one frame is whole in the next, and voting takes
    /// it. Returns the crops read.
    fn complete_cut_plates(&mut self, img: &RgbImage, plates: &mut [PlateRead]) -> Result<usize> {
        let (w, h) = (img.width as f32, img.height as f32);
        let (owners, crops): (Vec<usize>, Vec<Crop>) = plates
            .iter()
            .enumerate()
            .filter(|(_, p)| p.layout == Layout::OneRow && p.plate.format() != PlateFormat::Generic)
            .map(|(i, p)| {
                let b = p.bbox;
                let (gx, gy) = (CUT_GROW * b.width(), 0.1 * b.height());
                let bbox = Bbox {
                    x1: (b.x1 - gx).max(0.0),
                    y1: (b.y1 - gy).max(0.0),
                    x2: (b.x2 + gx).min(w),
                    y2: (b.y2 + gy).min(h),
                };
                (i, Crop { bbox, layout: Layout::OneRow })
            })
            .unzip();
        if crops.is_empty() {
            return Ok(0);
        }
        let reads = self.reader.read(img, &crops)?;
        for ((crop, read), &i) in crops.iter().zip(reads).zip(&owners) {
            let Some(wider) = to_plate(crop, read, self.min_confidence) else { continue };
            if extends(&plates[i], &wider) {
                tracing::debug!(
                    cut = plates[i].plate.canonical(),
                    whole = wider.plate.canonical(),
                    "cut plate completed"
                );
                plates[i] = wider;
            }
        }
        Ok(crops.len())
    }
}

/// Whether `wider`, read from a crop grown around the plate read `narrow`, is more of the same
/// plate: a known format whose key holds `narrow`'s and more, about as confident (a cut plate's
/// read can be as sure of its few characters as the whole plate's of all of them).
fn extends(narrow: &PlateRead, wider: &PlateRead) -> bool {
    wider.plate.format() != PlateFormat::Generic
        && wider.plate.key().len() > narrow.plate.key().len()
        && wider.plate.key().contains(narrow.plate.key())
        && wider.confidence >= narrow.confidence - EXTEND_CONFIDENCE_SLACK
}

/// Whether `wider`, read from a crop grown around the bare number `bare`, is the whole plate:
/// a known format that holds the number, more confident unless `bare` fits no format; read as
/// two rows, the number must be the whole bottom row (not half of a one-row plate read under
/// the state name above it).
fn completes(bare: &PlateRead, wider: &PlateRead) -> bool {
    let better = bare.plate.format() == PlateFormat::Generic || wider.confidence > bare.confidence;
    let rows_fit =
        wider.layout == Layout::OneRow || wider.raw.split_once(' ').is_some_and(|(_, bottom)| bottom == bare.raw);
    wider.plate.format() != PlateFormat::Generic && wider.plate.key().contains(bare.plate.key()) && better && rows_fit
}

/// The crops worth reading for plate regions (the plate detector's) of a `w × h` image: each
/// region as one row, two rows or both by its shape, and a plate-shaped photo whole.
pub fn plate_crops(regions: &[Region], w: f32, h: f32) -> Vec<Crop> {
    let mut crops = Vec::new();
    for r in regions {
        shaped_crops(r.bbox, &mut crops);
    }
    if w / h.max(1.0) >= 2.0 && !crops.iter().any(|c| c.bbox.width() * c.bbox.height() > 0.5 * w * h) {
        crops.push(Crop { bbox: Bbox { x1: 0.0, y1: 0.0, x2: w, y2: h }, layout: Layout::OneRow });
    }
    crops
}

/// One row when wide, two rows when squarish, both in between.
fn shaped_crops(bbox: Bbox, crops: &mut Vec<Crop>) {
    let aspect = bbox.width() / bbox.height().max(1.0);
    if aspect > TWO_ROW_ASPECT {
        crops.push(Crop { bbox, layout: Layout::OneRow });
    }
    if aspect < ONE_ROW_ASPECT {
        crops.push(Crop { bbox, layout: Layout::TwoRows });
    }
}

/// The crops worth reading for these text regions of a `w × h` image.
pub fn candidate_crops(regions: &[Region], w: f32, h: f32) -> Vec<Crop> {
    let mut crops = Vec::new();
    for r in regions {
        shaped_crops(r.bbox, &mut crops);
    }
    for (i, a) in regions.iter().enumerate() {
        for b in &regions[i + 1..] {
            if let Some(u) = stacked(&a.bbox, &b.bbox) {
                crops.push(Crop { bbox: u, layout: Layout::TwoRows });
            }
        }
    }
    // Groups of one line that the proposer split at wide gaps (`PMZ   5969`), read joined.
    let mut by_x: Vec<Bbox> = regions.iter().map(|r| r.bbox).collect();
    by_x.sort_by(|a, b| a.x1.total_cmp(&b.x1));
    for (i, first) in by_x.iter().enumerate() {
        let mut line = *first;
        for next in &by_x[i + 1..] {
            match same_line(&line, next) {
                Some(u) => {
                    line = u;
                    crops.push(Crop { bbox: line, layout: Layout::OneRow });
                }
                None if next.x1 > line.x2 + 3.0 * line.height() => break,
                None => {}
            }
        }
    }
    // A close-up of a plate: the photo itself has a plate's shape.
    if w / h.max(1.0) >= 2.0 {
        crops.push(Crop { bbox: Bbox { x1: 0.0, y1: 0.0, x2: w, y2: h }, layout: Layout::OneRow });
    }
    crops
}

/// The union of two boxes that look like the two rows of one plate: one above the other, mostly
/// overlapping horizontally, close vertically, neither much taller than the other.
fn stacked(a: &Bbox, b: &Bbox) -> Option<Bbox> {
    let (top, bottom) = if a.y1 <= b.y1 { (a, b) } else { (b, a) };
    let overlap = (top.x2.min(bottom.x2) - top.x1.max(bottom.x1)).max(0.0);
    let narrow = top.width().min(bottom.width()).max(1.0);
    let gap = bottom.y1 - top.y2;
    let tall = top.height().max(bottom.height());
    let ratio = top.height().min(bottom.height()) / tall.max(1.0);
    (overlap / narrow > 0.5 && gap > -0.3 * tall && gap < 0.6 * tall && ratio > 0.4).then(|| Bbox {
        x1: top.x1.min(bottom.x1),
        y1: top.y1,
        x2: top.x2.max(bottom.x2),
        y2: bottom.y2,
    })
}

/// The union of `line` and `next` when `next` continues the same line of text to the right:
/// mostly the same rows, similar height, a gap under twice the height.
fn same_line(line: &Bbox, next: &Bbox) -> Option<Bbox> {
    let overlap = (line.y2.min(next.y2) - line.y1.max(next.y1)).max(0.0);
    let short = line.height().min(next.height()).max(1.0);
    let tall = line.height().max(next.height());
    let gap = next.x1 - line.x2;
    (overlap / short > 0.6 && short / tall > 0.6 && gap < 2.0 * tall && next.x2 > line.x2).then(|| Bbox {
        x1: line.x1,
        y1: line.y1.min(next.y1),
        x2: next.x2,
        y2: line.y2.max(next.y2),
    })
}

/// A plate from a read, if it parses as one with at least `min_confidence`.
fn to_plate(crop: &Crop, read: OcrRead, min_confidence: f32) -> Option<PlateRead> {
    if read.confidence < min_confidence || !read.text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let plate = PlateText::parse(&read.text, None).ok()?;
    if !KEY_LEN.contains(&plate.key().chars().count()) {
        return None;
    }
    Some(PlateRead {
        bbox: crop.bbox,
        plate,
        confidence: read.confidence,
        raw: read.text,
        layout: read.layout,
        chars: read.chars,
    })
}

/// Plate-shaped reads, best first, without two plates on the same place.
fn select<'a>(reads: impl Iterator<Item = (&'a Crop, OcrRead)>, min_confidence: f32) -> Vec<PlateRead> {
    let mut plates: Vec<PlateRead> = reads.filter_map(|(c, r)| to_plate(c, r, min_confidence)).collect();
    // A known format is worth a little confidence over a generic group of characters.
    let score = |p: &PlateRead| p.confidence + if p.plate.format() == PlateFormat::Generic { 0.0 } else { 0.05 };
    plates.sort_by(|a, b| score(b).total_cmp(&score(a)));
    let mut kept: Vec<PlateRead> = Vec::new();
    for p in plates {
        if kept.iter().all(|k| !same_place(&k.bbox, &p.bbox)) {
            kept.push(p);
        }
    }
    let captions: Vec<bool> = kept
        .iter()
        .map(|p| p.plate.format() == PlateFormat::Generic && kept.iter().any(|k| caption_of(&p.bbox, &k.bbox)))
        .collect();
    kept.into_iter().zip(captions).filter(|(_, caption)| !caption).map(|(p, _)| p).collect()
}

/// Whether text in `small` is a caption of the plate read in `plate`: clearly smaller letters
/// right above or below it (Mercosul `BRASIL`, a US state name, a dealer's frame). A generic
/// read there is not a second plate.
fn caption_of(small: &Bbox, plate: &Bbox) -> bool {
    let overlap = (small.x2.min(plate.x2) - small.x1.max(plate.x1)).max(0.0);
    let gap = (small.y1 - plate.y2).max(plate.y1 - small.y2);
    small.height() < 0.7 * plate.height() && overlap >= 0.5 * small.width() && gap < 1.2 * plate.height()
}

/// Boxes overlap enough to be one plate: IoU > 0.3 or one mostly inside the other.
fn same_place(a: &Bbox, b: &Bbox) -> bool {
    let iw = (a.x2.min(b.x2) - a.x1.max(b.x1)).max(0.0);
    let ih = (a.y2.min(b.y2) - a.y1.max(b.y1)).max(0.0);
    let inter = iw * ih;
    let small = (a.width() * a.height()).min(b.width() * b.height()).max(1.0);
    a.iou(b) > 0.3 || inter / small > 0.6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x1: f32, y1: f32, x2: f32, y2: f32) -> Bbox {
        Bbox { x1, y1, x2, y2 }
    }

    fn region(b: Bbox) -> Region {
        Region { bbox: b, score: 0.9 }
    }

    fn plate_read(raw: &str, layout: Layout, confidence: f32) -> PlateRead {
        PlateRead {
            bbox: bx(0.0, 0.0, 100.0, 20.0),
            plate: PlateText::parse(raw, None).unwrap(),
            confidence,
            raw: raw.into(),
            layout,
            chars: Vec::new(),
        }
    }

    #[test]
    fn a_bare_number_is_completed_by_the_row_beside_or_above_it_only_when_the_number_stays_whole() {
        let bare = plate_read("52547", Layout::OneRow, 0.99);
        // The two-row plate `ب 1` over `52547`, its bottom row first found alone.
        assert!(completes(&bare, &plate_read("ب1 52547", Layout::TwoRows, 0.9)));
        // Widened along the row: `52547 | ب | 1`.
        assert!(completes(&bare, &plate_read("52547ب1", Layout::OneRow, 0.9)));
        // A one-row plate read as two rows under a state name: the number is split.
        assert!(!completes(&plate_read("4475", Layout::OneRow, 0.99), &plate_read("4475ب 68", Layout::TwoRows, 0.9)));
        assert!(!completes(&bare, &plate_read("ب1 5254", Layout::TwoRows, 0.9)), "the number must stay whole");
        assert!(!completes(&bare, &plate_read("AB 52547", Layout::TwoRows, 0.9)), "no known format");
    }

    #[test]
    fn a_cut_plate_is_extended_only_by_more_of_itself_in_a_known_format() {
        let cut = plate_read("5أ37", Layout::OneRow, 0.95);
        assert!(extends(&cut, &plate_read("14185أ37", Layout::OneRow, 0.93)), "the serial's missing digits");
        assert!(extends(&plate_read("27069أ1", Layout::OneRow, 0.9), &plate_read("27069أ10", Layout::OneRow, 0.9)));
        assert!(!extends(&cut, &plate_read("14185أ37", Layout::OneRow, 0.8)), "much less sure");
        assert!(!extends(&cut, &plate_read("5أ37", Layout::OneRow, 0.99)), "the same read: the box stays");
        assert!(!extends(&cut, &plate_read("14186أ38", Layout::OneRow, 0.99)), "another plate");
        assert!(!extends(&cut, &plate_read("X5أ37Y", Layout::OneRow, 0.99)), "no known format");
    }

    #[test]
    fn wide_regions_read_as_one_row_square_as_two_and_stacked_rows_join() {
        let wide = region(bx(0.0, 0.0, 100.0, 20.0));
        let crops = candidate_crops(&[wide], 400.0, 400.0);
        assert_eq!(crops, vec![Crop { bbox: wide.bbox, layout: Layout::OneRow }]);

        let square = region(bx(0.0, 0.0, 40.0, 30.0));
        let crops = candidate_crops(&[square], 400.0, 400.0);
        assert_eq!(crops, vec![Crop { bbox: square.bbox, layout: Layout::TwoRows }]);

        // Top row "ب | 6" above bottom row "12345": their union is a two-row candidate.
        let top = region(bx(110.0, 100.0, 170.0, 125.0));
        let bottom = region(bx(100.0, 130.0, 180.0, 160.0));
        let crops = candidate_crops(&[top, bottom], 400.0, 400.0);
        assert!(crops.contains(&Crop { bbox: bx(100.0, 100.0, 180.0, 160.0), layout: Layout::TwoRows }), "{crops:?}");
        // Side by side is not stacked, but is one line.
        assert!(stacked(&bx(0.0, 0.0, 50.0, 20.0), &bx(60.0, 0.0, 110.0, 20.0)).is_none());
        let groups = [region(bx(0.0, 100.0, 60.0, 130.0)), region(bx(90.0, 101.0, 170.0, 131.0))];
        let crops = candidate_crops(&groups, 400.0, 400.0);
        assert!(crops.contains(&Crop { bbox: bx(0.0, 100.0, 170.0, 131.0), layout: Layout::OneRow }), "{crops:?}");
        assert!(same_line(&bx(0.0, 0.0, 50.0, 20.0), &bx(60.0, 40.0, 110.0, 60.0)).is_none(), "another line");
        // A photo shaped like a plate is read whole as well.
        assert_eq!(candidate_crops(&[], 300.0, 100.0).len(), 1);
    }

    #[test]
    fn detector_boxes_become_one_or_two_row_crops_by_shape_and_are_not_joined() {
        let one_row = region(bx(100.0, 100.0, 300.0, 140.0)); // 5:1, a Moroccan one-row plate
        let two_row = region(bx(400.0, 100.0, 480.0, 160.0)); // 4:3, a two-row plate
        let us = region(bx(600.0, 100.0, 700.0, 150.0)); // 2:1, either
        let crops = plate_crops(&[one_row, two_row, us], 1280.0, 720.0);
        assert_eq!(
            crops,
            vec![
                Crop { bbox: one_row.bbox, layout: Layout::OneRow },
                Crop { bbox: two_row.bbox, layout: Layout::TwoRows },
                Crop { bbox: us.bbox, layout: Layout::OneRow },
                Crop { bbox: us.bbox, layout: Layout::TwoRows },
            ]
        );
        // Two plates side by side stay two plates (the text proposer's line joining is not applied).
        let left = region(bx(0.0, 100.0, 200.0, 140.0));
        let right = region(bx(230.0, 100.0, 430.0, 140.0));
        assert_eq!(plate_crops(&[left, right], 1280.0, 720.0).len(), 2);
        // A plate-shaped close-up is read whole, unless a box already covers most of it.
        assert_eq!(plate_crops(&[], 300.0, 100.0).len(), 1);
        assert_eq!(plate_crops(&[region(bx(5.0, 5.0, 295.0, 95.0))], 300.0, 100.0).len(), 1);
    }

    #[test]
    fn localiser_kinds_parse_and_print() {
        assert_eq!("detector".parse::<LocaliserKind>(), Ok(LocaliserKind::Detector));
        assert_eq!("text".parse::<LocaliserKind>(), Ok(LocaliserKind::Text));
        assert_eq!("both".parse::<LocaliserKind>(), Ok(LocaliserKind::Both));
        assert!("yolo".parse::<LocaliserKind>().unwrap_err().contains("detector, text or both"));
        assert_eq!(LocaliserKind::default().to_string(), "detector");
    }

    fn read(text: &str, confidence: f32) -> OcrRead {
        OcrRead { text: text.into(), confidence, chars: vec![], layout: Layout::OneRow, format_decoded: None }
    }

    #[test]
    fn only_confident_plate_shaped_reads_survive_and_overlaps_keep_the_best() {
        let a = Crop { bbox: bx(0.0, 0.0, 100.0, 20.0), layout: Layout::OneRow };
        let inner = Crop { bbox: bx(10.0, 2.0, 90.0, 18.0), layout: Layout::OneRow };
        let far = Crop { bbox: bx(300.0, 300.0, 400.0, 320.0), layout: Layout::OneRow };
        let text_only = Crop { bbox: bx(500.0, 0.0, 600.0, 20.0), layout: Layout::OneRow };
        let reads = vec![
            (&a, read("12345ب6", 0.9)),
            (&inner, read("2345ب6", 0.8)),
            (&far, read("AB123CD", 0.4)),     // not confident enough
            (&text_only, read("STOP", 0.95)), // no digit: a sign, not a plate
        ];
        let plates = select(reads.into_iter(), 0.6);
        assert_eq!(plates.len(), 1, "{plates:?}");
        assert_eq!(plates[0].plate.canonical(), "12345-ب-6");
        assert_eq!(plates[0].plate.latin_alias(), "12345-B-6");
        assert_eq!(plates[0].plate.format(), PlateFormat::MoroccoStandard);
        assert_eq!(plates[0].plate.country(), Some("MA"));
    }

    #[test]
    fn small_generic_text_right_above_a_plate_is_its_caption_not_a_plate() {
        // Mercosul: "BRASIL" (read as a generic BRAS1L) in the band above "ERZ5D05".
        let plate = Crop { bbox: bx(100.0, 130.0, 300.0, 170.0), layout: Layout::OneRow };
        let band = Crop { bbox: bx(170.0, 112.0, 230.0, 124.0), layout: Layout::OneRow };
        let elsewhere = Crop { bbox: bx(500.0, 112.0, 560.0, 124.0), layout: Layout::OneRow };
        let reads =
            vec![(&plate, read("ERZ5D05", 0.9)), (&band, read("BRAS1L", 0.95)), (&elsewhere, read("KA1234", 0.9))];
        let texts: Vec<String> =
            select(reads.into_iter(), 0.6).into_iter().map(|p| p.plate.canonical().to_owned()).collect();
        assert!(texts.contains(&"ERZ5D05".to_owned()), "{texts:?}");
        assert!(!texts.iter().any(|t| t.starts_with("BRAS")), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("1234")), "a small read away from plates stays: {texts:?}");
    }
}
