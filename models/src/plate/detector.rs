//! The project's own plate detector (`plate-detect`, `training/plate_det`): a small fully
//! convolutional network that marks plate pixels at a quarter of its input resolution.
//!
//! The frame is scaled so its longest side is the model's `max_side` (512) and padded with black
//! to multiples of 32; the map's cells above 0.4 form plates as 4-connected components (the same
//! component code as the text proposer's map, [`super::regions`], with no dilation and no unclip
//! margin, since the detector marks the whole plate) of at least 6 cells and mean probability
//! 0.8, each boxed by its cells of probability 0.8 or more (the mask spills a little around a
//! plate). One component is one plate, so
//! there are no anchors and no overlapping boxes to suppress; two components that still overlap
//! (a two-row plate split by a weak row gap) are merged by [`merge_overlapping`], the NMS step.
//! The components are candidates: the second stage, [`PlateChecker`], looks at each again and
//! keeps the plates (its probability becomes the region's score). Frames of several cameras can
//! be detected in one batch ([`PlateDetector::detect_batch`]), their candidates checked in one
//! call too.

use std::path::Path;

use ndarray::{Array4, Axis, s};
use ort::value::TensorRef;

use super::check::PlateChecker;
use super::regions::{self, ProbMap, Region, RegionParams};
use crate::error::{Error, Result};
use crate::face::Bbox;
use crate::image_ops::RgbImage;
use crate::manifest::Manifest;
use crate::resample::resize_rgb_antialiased;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};

/// Manifest id of the detector.
pub const MODEL_ID: &str = "plate-detect";
/// Output cells per input pixel, each way.
const STRIDE: usize = 4;
/// Input sides are multiples of this.
const MULTIPLE: usize = 32;
/// Longest side a still photo is also scaled to, so that a plate filling most of a close-up
/// looks as large as the plates the detector learnt ([`PlateDetector::detect_still`]). Chosen on
/// the training photos only (UM6P close-ups found at IoU 0.5: 48 % at the scene scale, 74 % at
/// 192, 77 % at 160, 62 % at 256; the scene photos are found at the scene scale).
pub const CLOSE_UP_SIDE: u32 = 192;

/// Decoding settings of the detector's map, chosen on the training scenes only
/// (`training/plate_det/tune.py`; with the checker after it, looser settings found no more
/// plates on the training scenes: `check_tune.py`).
pub fn default_params() -> RegionParams {
    RegionParams { threshold: 0.4, dilate_x: 0, min_area: 6, min_score: 0.8, unclip: 0.0, core: 0.8 }
}

/// The plate detector: the mask network's candidates, then (when loaded) the checker's second
/// look at each ([`PlateChecker`]).
pub struct PlateDetector {
    model: LoadedModel,
    /// Longest side a frame is scaled to.
    pub max_side: u32,
    /// Map decoding settings.
    pub params: RegionParams,
    /// Detector input pixels processed so far (benchmarks: work done).
    pub pixels_in: u64,
    /// The second stage; `None`: the mask's candidates are the plates (`raqib eval plates
    /// --no-check` measures the difference).
    pub checker: Option<PlateChecker>,
}

/// How one image is laid into the detector's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Image pixels → input pixels.
    pub scale: f32,
    /// The scaled image's size inside the input.
    pub content: (usize, usize),
    /// The input's size (multiples of 32).
    pub input: (usize, usize),
}

impl Letterbox {
    /// The layout of a `w × h` image (or window) for a detector of longest side `max_side`.
    pub fn of(w: f32, h: f32, max_side: u32) -> Self {
        let scale = max_side as f32 / w.max(h).max(1.0);
        let content = (((w * scale).round() as usize).max(1), ((h * scale).round() as usize).max(1));
        let up = |v: usize| v.div_ceil(MULTIPLE) * MULTIPLE;
        Letterbox { scale, content, input: (up(content.0), up(content.1)) }
    }
}

impl PlateDetector {
    /// Verifies and loads the detector from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let spec = manifest.get(MODEL_ID)?;
        let model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        let checker = Some(PlateChecker::load(rt, models_dir, opts)?);
        Ok(PlateDetector { model, max_side: spec.input.width, params: default_params(), pixels_in: 0, checker })
    }

    /// The provider the session runs on.
    pub fn provider(&self) -> &'static str {
        self.model.provider
    }

    /// Input tensor size `(width, height)` for a `w × h` frame.
    pub fn input_size(&self, w: u32, h: u32) -> (usize, usize) {
        Letterbox::of(w as f32, h as f32, self.max_side).input
    }

    /// Runs the model alone on a prepared `[n, 3, h, w]` input (benchmarks).
    pub fn infer(&mut self, input: &Array4<f32>) -> Result<()> {
        self.model.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
        Ok(())
    }

    /// Plates in `img`, image pixels, best first.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<Region>> {
        Ok(self.detect_batch(&[img])?.pop().unwrap_or_default())
    }

    /// Plates in each image, detected in one batch (frames of several cameras): every image is
    /// scaled by its own longest side and padded to the largest input of the batch.
    pub fn detect_batch(&mut self, imgs: &[&RgbImage]) -> Result<Vec<Vec<Region>>> {
        let candidates = self.candidates_at(imgs, self.max_side)?;
        self.second_look(imgs, candidates)
    }

    /// Plates in a still photo: the candidates of the scene scale ([`PlateDetector::max_side`])
    /// and of the close-up scale ([`CLOSE_UP_SIDE`]), each looked at by the checker once.
    ///
    /// The detector learnt plates from scenes, where a plate is a few dozen to a couple of
    /// hundred input pixels wide; in a close-up (a handheld photo of one car, a plate crop) the
    /// plate fills most of the picture and the scene scale finds it in about half the photos.
    /// The same photo scaled to a [`CLOSE_UP_SIDE`]-pixel side shows such a plate at a size the
    /// detector knows (about a tenth of the scene scale's cost). Candidates found at both scales
    /// stay apart unless they are the same box (IoU > 0.7): the finder reads each and keeps
    /// the best read at a place.
    pub fn detect_still(&mut self, img: &RgbImage) -> Result<Vec<Region>> {
        let mut found = self.candidates_at(&[img], self.max_side)?.pop().unwrap_or_default();
        for r in self.candidates_at(&[img], CLOSE_UP_SIDE)?.pop().unwrap_or_default() {
            if found.iter().all(|f| f.bbox.iou(&r.bbox) <= 0.7) {
                found.push(r);
            }
        }
        Ok(self.second_look(&[img], vec![found])?.pop().unwrap_or_default())
    }

    /// The mask's candidates in each whole image scaled to a longest side of `side`.
    fn candidates_at(&mut self, imgs: &[&RgbImage], side: u32) -> Result<Vec<Vec<Region>>> {
        let boxes: Vec<Letterbox> = imgs.iter().map(|i| Letterbox::of(i.width as f32, i.height as f32, side)).collect();
        let rects: Vec<(f32, f32, f32, f32)> =
            imgs.iter().map(|i| (0.0, 0.0, i.width as f32, i.height as f32)).collect();
        self.run_batch(imgs, &rects, &boxes)
    }

    /// Plates inside `window` of `img` only, at the scale the whole image is analysed at, so a
    /// plate looks the same to the detector either way; costs in proportion to the window's area
    /// (tracking uses it between full-frame detections).
    pub fn detect_in(&mut self, img: &RgbImage, window: &Bbox) -> Result<Vec<Region>> {
        let (w, h) = (img.width as f32, img.height as f32);
        let scale = Letterbox::of(w, h, self.max_side).scale;
        // The window grown so that at `scale` it spans whole multiples of 32 input pixels.
        let fit = |lo: f32, hi: f32, max: f32| -> (f32, f32) {
            let n = (((hi - lo).max(1.0) * scale) / MULTIPLE as f32).ceil().max(1.0) * MULTIPLE as f32;
            let len = (n / scale).min(max);
            let start = ((lo + hi) / 2.0 - len / 2.0).clamp(0.0, max - len);
            (start, len)
        };
        let (x0, rw) = fit(window.x1, window.x2, w);
        let (y0, rh) = fit(window.y1, window.y2, h);
        let content = (((rw * scale).round() as usize).max(1), ((rh * scale).round() as usize).max(1));
        let up = |v: usize| v.div_ceil(MULTIPLE) * MULTIPLE;
        let lb = Letterbox { scale, content, input: (up(content.0), up(content.1)) };
        let candidates = self.run_batch(&[img], &[(x0, y0, rw, rh)], &[lb])?;
        Ok(self.second_look(&[img], candidates)?.pop().unwrap_or_default())
    }

    /// The checker's verdict on each image's candidates (all in one batch), or the candidates
    /// as they are without a checker.
    fn second_look(&mut self, imgs: &[&RgbImage], candidates: Vec<Vec<Region>>) -> Result<Vec<Vec<Region>>> {
        match &mut self.checker {
            None => Ok(candidates),
            Some(c) => {
                let items: Vec<(&RgbImage, &[Region])> =
                    imgs.iter().zip(&candidates).map(|(i, r)| (*i, r.as_slice())).collect();
                c.check(&items)
            }
        }
    }

    /// The mask's candidates (before the checker) in `rects` of `imgs`, each laid out by its
    /// letterbox.
    fn run_batch(
        &mut self,
        imgs: &[&RgbImage],
        rects: &[(f32, f32, f32, f32)],
        boxes: &[Letterbox],
    ) -> Result<Vec<Vec<Region>>> {
        if imgs.is_empty() {
            return Ok(Vec::new());
        }
        let iw = boxes.iter().map(|b| b.input.0).max().unwrap_or(MULTIPLE);
        let ih = boxes.iter().map(|b| b.input.1).max().unwrap_or(MULTIPLE);
        // Black padding, as in training: pixel 0 → (0 − 127.5) / 127.5 = −1.
        let mut input = Array4::<f32>::from_elem((imgs.len(), 3, ih, iw), -1.0);
        for (k, ((img, rect), lb)) in imgs.iter().zip(rects).zip(boxes).enumerate() {
            // Antialiased, as the training images were resized (Pillow's bilinear filter).
            let (cw, ch) = lb.content;
            let scaled = resize_rgb_antialiased(img, *rect, cw, ch, 127.5, 127.5);
            input.slice_mut(s![k..=k, .., ..ch, ..cw]).assign(&scaled);
        }
        self.pixels_in += (imgs.len() * iw * ih) as u64;
        let outputs = self.model.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (shape, prob) = outputs[0].try_extract_tensor::<f32>()?;
        let (mw, mh) = (iw / STRIDE, ih / STRIDE);
        if shape.len() != 4 || shape[0] as usize != imgs.len() || shape[2] as usize != mh || shape[3] as usize != mw {
            return Err(Error::BadOutput { model: MODEL_ID, what: format!("output {shape:?} for input {iw}×{ih}") });
        }
        let prob = ndarray::ArrayView4::from_shape((imgs.len(), 1, mh, mw), prob)
            .map_err(|e| Error::BadOutput { model: MODEL_ID, what: e.to_string() })?;
        let mut out = Vec::with_capacity(imgs.len());
        for (k, (rect, lb)) in rects.iter().zip(boxes).enumerate() {
            let map = prob.index_axis(Axis(0), k);
            let map = map.index_axis(Axis(0), 0);
            let cells = map.as_standard_layout();
            let flat = cells.as_slice().unwrap_or(&[]);
            let found = regions::regions(
                &ProbMap { prob: flat, width: mw, height: mh },
                iw as f32 / lb.scale,
                ih as f32 / lb.scale,
                &self.params,
            );
            // Clipped to the rectangle, then moved to image pixels.
            let &(x0, y0, rw, rh) = rect;
            let clipped = found
                .into_iter()
                .map(|r| Region {
                    bbox: Bbox {
                        x1: r.bbox.x1.min(rw) + x0,
                        y1: r.bbox.y1.min(rh) + y0,
                        x2: r.bbox.x2.min(rw) + x0,
                        y2: r.bbox.y2.min(rh) + y0,
                    },
                    score: r.score,
                })
                .filter(|r| r.bbox.width() >= 2.0 && r.bbox.height() >= 2.0)
                .collect();
            out.push(merge_overlapping(clipped));
        }
        Ok(out)
    }
}

/// Merges regions that overlap (IoU > 0.3, or one mostly inside the other) into their union,
/// keeping the higher score; best first.
pub fn merge_overlapping(mut regions: Vec<Region>) -> Vec<Region> {
    regions.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Region> = Vec::new();
    for r in regions {
        let inside = |k: &Region| {
            let iw = (k.bbox.x2.min(r.bbox.x2) - k.bbox.x1.max(r.bbox.x1)).max(0.0);
            let ih = (k.bbox.y2.min(r.bbox.y2) - k.bbox.y1.max(r.bbox.y1)).max(0.0);
            let small = (k.bbox.width() * k.bbox.height()).min(r.bbox.width() * r.bbox.height()).max(1.0);
            k.bbox.iou(&r.bbox) > 0.3 || iw * ih / small > 0.6
        };
        match kept.iter_mut().find(|k| inside(k)) {
            Some(k) => {
                k.bbox = Bbox {
                    x1: k.bbox.x1.min(r.bbox.x1),
                    y1: k.bbox.y1.min(r.bbox.y1),
                    x2: k.bbox.x2.max(r.bbox.x2),
                    y2: k.bbox.y2.max(r.bbox.y2),
                }
            }
            None => kept.push(r),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_720p_frame_is_scaled_to_512_and_padded_to_multiples_of_32() {
        let lb = Letterbox::of(1280.0, 720.0, 512);
        assert_eq!(lb.content, (512, 288));
        assert_eq!(lb.input, (512, 288));
        let lb = Letterbox::of(640.0, 480.0, 512);
        assert_eq!(lb.content, (512, 384));
        let lb = Letterbox::of(1494.0, 720.0, 512);
        assert_eq!(lb.content, (512, 247));
        assert_eq!(lb.input, (512, 256), "padded below to a multiple of 32");
    }

    fn region(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Region {
        Region { bbox: Bbox { x1, y1, x2, y2 }, score }
    }

    #[test]
    fn overlapping_components_merge_and_separate_plates_stay() {
        let top = region(100.0, 100.0, 160.0, 120.0, 0.9);
        let bottom = region(98.0, 105.0, 162.0, 150.0, 0.8); // mostly below, three quarters of `top` inside it
        let other = region(400.0, 100.0, 480.0, 120.0, 0.95);
        let merged = merge_overlapping(vec![top, bottom, other]);
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert_eq!(merged[0], other, "best first");
        assert_eq!(merged[1].bbox, Bbox { x1: 98.0, y1: 100.0, x2: 162.0, y2: 150.0 });
        assert_eq!(merged[1].score, 0.9);
    }

    #[test]
    fn the_map_decodes_to_plate_boxes_in_image_pixels() {
        // A 16 × 8 map of a 64 × 32 input (stride 4) of an image scaled by 0.5: one plate of
        // cells x 2..=5, y 3..=4, with a fringe of less certain cells around it (row 2) that
        // belongs to the component but not to its box.
        let (mw, mh) = (16, 8);
        let mut prob = vec![0.0f32; mw * mh];
        for y in 3..=4 {
            for x in 2..=5 {
                prob[y * mw + x] = 0.95;
            }
        }
        for x in 2..=5 {
            prob[2 * mw + x] = 0.6;
        }
        let found = regions::regions(&ProbMap { prob: &prob, width: mw, height: mh }, 128.0, 64.0, &default_params());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bbox, Bbox { x1: 16.0, y1: 24.0, x2: 48.0, y2: 40.0 });
    }
}
