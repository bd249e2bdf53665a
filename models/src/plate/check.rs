//! The plate detector's second look (`plate-check`, `training/plate_det/check_*.py`): each
//! candidate box is seen through a window around it at the image's own resolution, and a small
//! network answers whether a plate sits at the window's centre.
//!
//! The first stage (the mask of [`super::detector`]) is fast and finds nearly every plate, but
//! it also marks badges, lamps and signs; the checker drops the candidates that are not plates
//! and keeps the others with their probability as score. The window is centred on the
//! candidate, `1.5 × max(w, 2h)` wide and half as high (any plate shape, and a box a little too
//! small or too large, fits with some context), resized to 128 × 64 with the antialiased filter
//! the checker was trained with ([`crate::resample`]), black where it leaves the image.
//!
//! The network also estimates the plate's own box (outputs 1–4, fractions of the window). The
//! node keeps the mask's box: on the Moroccan scenes, whose plates are boxed with a margin, the
//! estimate (tight on the plate) found fewer plates at IoU 0.5 on the training split (96.0 vs
//! 98.8 %; `training/plate_det/MODEL_CARD.md`).

use std::path::Path;

use ndarray::{Array4, s};
use ort::value::TensorRef;

use super::regions::Region;
use crate::error::{Error, Result};
use crate::face::Bbox;
use crate::image_ops::RgbImage;
use crate::manifest::Manifest;
use crate::resample::resize_rgb_antialiased;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};

/// Manifest id of the checker.
pub const MODEL_ID: &str = "plate-check";
/// Window input size, pixels.
pub const WIN_W: usize = 128;
/// Window input height, pixels.
pub const WIN_H: usize = 64;
/// The window's width over the candidate's `max(w, 2h)`.
const GROW: f32 = 1.5;
/// Smallest probability of a plate kept, chosen on the training scenes only
/// (`training/plate_det/check_tune.py`).
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The window `(x, y, w, h)` through which a candidate box is seen.
pub fn window(b: &Bbox) -> (f32, f32, f32, f32) {
    let (w, h) = (b.width().max(1.0), b.height().max(1.0));
    let ww = GROW * w.max(2.0 * h);
    let wh = ww / 2.0;
    ((b.x1 + b.x2) / 2.0 - ww / 2.0, (b.y1 + b.y2) / 2.0 - wh / 2.0, ww, wh)
}

/// The plate checker.
pub struct PlateChecker {
    model: LoadedModel,
    /// Smallest probability of a plate kept.
    pub threshold: f32,
}

impl PlateChecker {
    /// Verifies and loads the checker from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let spec = manifest.get(MODEL_ID)?;
        let model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        Ok(PlateChecker { model, threshold: DEFAULT_THRESHOLD })
    }

    /// Checks the candidates of each image in one batch: per image, the candidates that are
    /// plates, with the checker's probability as score, best first.
    pub fn check(&mut self, items: &[(&RgbImage, &[Region])]) -> Result<Vec<Vec<Region>>> {
        let n: usize = items.iter().map(|(_, r)| r.len()).sum();
        if n == 0 {
            return Ok(items.iter().map(|_| Vec::new()).collect());
        }
        // Black padding, as in training: pixel 0 → (0 − 127.5) / 127.5 = −1.
        let mut input = Array4::<f32>::from_elem((n, 3, WIN_H, WIN_W), -1.0);
        let mut k = 0;
        for (img, regions) in items {
            for r in regions.iter() {
                fill_window(&mut input, k, img, &window(&r.bbox));
                k += 1;
            }
        }
        let outputs = self.model.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (shape, out) = outputs[0].try_extract_tensor::<f32>()?;
        if shape.len() != 2 || shape[0] as usize != n || shape[1] != 5 {
            return Err(Error::BadOutput { model: MODEL_ID, what: format!("output {shape:?} for {n} windows") });
        }
        let mut found = Vec::with_capacity(items.len());
        let mut k = 0;
        for (_, regions) in items {
            let mut plates = Vec::new();
            for r in regions.iter() {
                let p = out[k * 5];
                k += 1;
                if p >= self.threshold {
                    plates.push(Region { bbox: r.bbox, score: p });
                }
            }
            plates.sort_by(|a, b| b.score.total_cmp(&a.score));
            found.push(plates);
        }
        Ok(found)
    }
}

/// Writes the window `(x, y, w, h)` of `img` into item `k` of `input` (`[n, 3, WIN_H, WIN_W]`,
/// already black): the part inside the image resized to where it falls in the window.
fn fill_window(input: &mut Array4<f32>, k: usize, img: &RgbImage, &(x, y, ww, wh): &(f32, f32, f32, f32)) {
    let (ix0, iy0) = (x.max(0.0), y.max(0.0));
    let (ix1, iy1) = ((x + ww).min(img.width as f32), (y + wh).min(img.height as f32));
    if ix1 <= ix0 || iy1 <= iy0 {
        return;
    }
    let px = |v: f32| (((v - x) * WIN_W as f32 / ww).round().max(0.0) as usize).min(WIN_W);
    let py = |v: f32| (((v - y) * WIN_H as f32 / wh).round().max(0.0) as usize).min(WIN_H);
    let (px0, px1, py0, py1) = (px(ix0), px(ix1), py(iy0), py(iy1));
    if px1 <= px0 || py1 <= py0 {
        return;
    }
    let part = resize_rgb_antialiased(img, (ix0, iy0, ix1 - ix0, iy1 - iy0), px1 - px0, py1 - py0, 127.5, 127.5);
    input.slice_mut(s![k..=k, .., py0..py1, px0..px1]).assign(&part);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_centred_and_wide_enough_for_any_plate_shape() {
        // A 3:1 plate: the width decides.
        let (x, y, w, h) = window(&Bbox { x1: 100.0, y1: 50.0, x2: 160.0, y2: 70.0 });
        assert_eq!((x, y, w, h), (85.0, 37.5, 90.0, 45.0));
        // A two-row plate (1.2:1): twice its height decides, so both rows fit.
        let (_, _, w, h) = window(&Bbox { x1: 0.0, y1: 0.0, x2: 36.0, y2: 30.0 });
        assert_eq!((w, h), (90.0, 45.0));
    }

    #[test]
    fn a_window_past_the_image_edge_is_black_there() {
        let img = RgbImage { width: 40, height: 20, data: vec![255; 40 * 20 * 3] };
        let mut input = Array4::<f32>::from_elem((1, 3, WIN_H, WIN_W), -1.0);
        // The window's left half lies left of the image.
        fill_window(&mut input, 0, &img, &(-40.0, 0.0, 80.0, 40.0));
        assert_eq!(input[[0, 0, 5, 10]], -1.0, "outside: black");
        assert!((input[[0, 0, 5, 100]] - 1.0).abs() < 1e-6, "inside: white");
        assert_eq!(input[[0, 0, 50, 100]], -1.0, "below the image: black");
    }
}
