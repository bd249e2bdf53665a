//! Plates: text-region proposals ([`RegionProposer`]), the recogniser ([`ocr::PlateReader`], CTC
//! with per-position alternatives) and both together ([`finder::PlateFinder`]).

pub mod ctc;
pub mod finder;
pub mod ocr;
pub mod regions;

use std::path::Path;

use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::image_ops::{Channels, RgbImage, resize_tensor};
use crate::manifest::Manifest;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};
pub use finder::{PlateFinder, PlateRead};
pub use ocr::{Crop, Layout, OcrRead, PlateReader};
pub use regions::{Region, RegionParams};

/// The PP-OCRv4 text detector used as a plate-region proposer.
pub struct RegionProposer {
    model: LoadedModel,
    /// Longest side the image is scaled to (multiple of 32).
    pub max_side: u32,
    /// Post-processing settings.
    pub params: RegionParams,
}

impl RegionProposer {
    /// Verifies and loads the detector from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let spec = manifest.get("text-detect-ppocrv4")?;
        let model = rt.session(&spec.verify_in(models_dir)?, opts)?;
        Ok(RegionProposer { model, max_side: spec.input.width, params: RegionParams::default() })
    }

    /// Candidate plate regions in image pixels, best first.
    pub fn propose(&mut self, img: &RgbImage) -> Result<Vec<Region>> {
        let (w, h) = (img.width as f32, img.height as f32);
        let scale = (self.max_side as f32 / w.max(h)).min(1.0);
        let round32 = |v: f32| (((v * scale) / 32.0).round().max(1.0) * 32.0) as usize;
        let (tw, th) = (round32(w), round32(h));
        // RapidOCR feeds OpenCV's BGR image, (x / 255 − 0.5) / 0.5.
        let input = resize_tensor(img, (0.0, 0.0, w, h), tw, th, Channels::Bgr, 127.5, 127.5);
        let outputs = self.model.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (_, prob) = outputs[0].try_extract_tensor::<f32>()?;
        if prob.len() != tw * th {
            return Err(Error::BadOutput {
                model: "text-detect-ppocrv4",
                what: format!("{} values for {tw}×{th}", prob.len()),
            });
        }
        Ok(regions::regions(&regions::ProbMap { prob, width: tw, height: th }, w, h, &self.params))
    }
}
