//! Plates: the plate detector ([`detector::PlateDetector`]), text-region proposals
//! ([`RegionProposer`], the fallback localiser), the recogniser ([`ocr::PlateReader`], CTC with
//! per-position alternatives) and a localiser and the recogniser together ([`finder::PlateFinder`]).

pub mod check;
pub mod ctc;
pub mod deskew;
pub mod detector;
pub mod finder;
pub mod mercosur;
pub mod ocr;
pub mod regions;
pub mod views;

use std::path::Path;

use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::face::Bbox;
use crate::image_ops::{Channels, RgbImage, resize_tensor};
use crate::manifest::Manifest;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};
pub use check::PlateChecker;
pub use detector::PlateDetector;
pub use finder::{FindTiming, Localiser, LocaliserKind, PlateFinder, PlateRead};
pub use ocr::{Crop, Layout, OcrRead, PlateReader};
pub use regions::{Region, RegionParams};
pub use views::Views;

/// The PP-OCRv4 text detector used as a plate-region proposer.
pub struct RegionProposer {
    model: LoadedModel,
    /// Longest side the image is scaled to (multiple of 32).
    pub max_side: u32,
    /// Post-processing settings.
    pub params: RegionParams,
    /// Detector input pixels processed so far (benchmarks: work done, whole frames or windows).
    pub pixels_in: u64,
}

impl RegionProposer {
    /// Verifies and loads the detector from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let spec = manifest.get("text-detect-ppocrv4")?;
        let model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        Ok(RegionProposer { model, max_side: spec.input.width, params: RegionParams::default(), pixels_in: 0 })
    }

    /// Detector input size `(width, height)` for an image of `w × h`: scaled so the longest
    /// side is at most `max_side`, rounded to multiples of 32.
    pub fn input_size(&self, w: u32, h: u32) -> (usize, usize) {
        let (w, h) = (w as f32, h as f32);
        let scale = (self.max_side as f32 / w.max(h)).min(1.0);
        let round32 = |v: f32| (((v * scale) / 32.0).round().max(1.0) * 32.0) as usize;
        (round32(w), round32(h))
    }

    /// Runs the detector alone on a prepared `[1, 3, h, w]` input (benchmarks: the compute
    /// limit without pre- and post-processing).
    pub fn infer(&mut self, input: &ndarray::Array4<f32>) -> Result<()> {
        self.model.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
        Ok(())
    }

    /// Candidate regions inside `window` of `img` only (image pixels), at the scale the whole
    /// image would be analysed at, so a plate looks the same to the detector either way. Costs
    /// in proportion to the window's area: tracking uses it to follow known plates between
    /// full-frame detections.
    pub fn propose_in(&mut self, img: &RgbImage, window: &Bbox) -> Result<Vec<Region>> {
        let (w, h) = (img.width as f32, img.height as f32);
        let scale = (self.max_side as f32 / w.max(h)).min(1.0);
        // Grow the window so that at `scale` it is a multiple of 32 pixels each way: the
        // detector then sees the plate undistorted, exactly as on a whole frame.
        let fit = |lo: f32, hi: f32, max: f32| -> (f32, f32, usize) {
            let n = ((((hi - lo).max(1.0) * scale) / 32.0).ceil().max(1.0) * 32.0) as usize;
            let len = (n as f32 / scale).min(max);
            let centre = (lo + hi) / 2.0;
            let start = (centre - len / 2.0).clamp(0.0, max - len);
            (start, len, if len < max { n } else { (((max * scale) / 32.0).round().max(1.0) * 32.0) as usize })
        };
        let (x0, rw, tw) = fit(window.x1, window.x2, w);
        let (y0, rh, th) = fit(window.y1, window.y2, h);
        let input = resize_tensor(img, (x0, y0, rw, rh), tw, th, Channels::Bgr, 127.5, 127.5);
        let mut found = self.regions_of(&input, tw, th, rw, rh)?;
        for r in &mut found {
            r.bbox = Bbox { x1: r.bbox.x1 + x0, y1: r.bbox.y1 + y0, x2: r.bbox.x2 + x0, y2: r.bbox.y2 + y0 };
        }
        Ok(found)
    }

    fn regions_of(
        &mut self,
        input: &ndarray::Array4<f32>,
        tw: usize,
        th: usize,
        w: f32,
        h: f32,
    ) -> Result<Vec<Region>> {
        self.pixels_in += (tw * th) as u64;
        let outputs = self.model.session.run(ort::inputs![TensorRef::from_array_view(input)?])?;
        let (_, prob) = outputs[0].try_extract_tensor::<f32>()?;
        if prob.len() != tw * th {
            return Err(Error::BadOutput {
                model: "text-detect-ppocrv4",
                what: format!("{} values for {tw}×{th}", prob.len()),
            });
        }
        Ok(regions::regions(&regions::ProbMap { prob, width: tw, height: th }, w, h, &self.params))
    }

    /// Candidate plate regions in image pixels, best first.
    pub fn propose(&mut self, img: &RgbImage) -> Result<Vec<Region>> {
        let (w, h) = (img.width as f32, img.height as f32);
        let (tw, th) = self.input_size(img.width, img.height);
        // RapidOCR feeds OpenCV's BGR image, (x / 255 − 0.5) / 0.5.
        let input = resize_tensor(img, (0.0, 0.0, w, h), tw, th, Channels::Bgr, 127.5, 127.5);
        self.regions_of(&input, tw, th, w, h)
    }
}
