//! The face quality gate on a photo set: how many good photos it lets through, and how many
//! degraded copies of them (box-blurred by a twentieth of the face's height) it stops — the
//! measurements its limits ([`raqib_models::face::quality::QualityGate`]) were set from.

use std::collections::BTreeMap;
use std::path::Path;

use raqib_core::Embedding;
use raqib_models::face::quality::{self, FaceQuality, Gated, QualityGate};
use raqib_models::face::{DEFAULT_DETECT_THRESHOLD, Face};
use raqib_models::{FacePipeline, RgbImage};
use serde::Serialize;

use crate::Result;

/// One photo's quality, as taken and blurred.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The photo's face.
    pub quality: FaceQuality,
    /// The same face in the box-blurred copy.
    pub blurred: FaceQuality,
}

/// The gate on a set.
#[derive(Debug, Clone, Serialize)]
pub struct QualitySurvey {
    /// Photos assessed.
    pub photos: usize,
    /// Photos the gate lets through.
    pub passed: usize,
    /// Photos stopped, by reason.
    pub gated: BTreeMap<&'static str, usize>,
    /// Blurred copies the gate stops (any reason).
    pub blurred_copies_gated: usize,
    /// Sharpness of the photos: 5th percentile and median; of the blurred copies: median.
    pub sharpness: (f32, f32, f32),
    /// 95th percentile of |yaw| and |pitch| on the photos.
    pub pose_p95: (f32, f32),
}

/// The face of a photo of one person (as [`FacePipeline::subject_of_photo`]) with its quality,
/// and the time the face pipeline took on it (decode excluded, the quality survey too).
pub fn photo(pipeline: &mut FacePipeline, path: &Path) -> Result<(Face, Embedding, Sample, std::time::Duration)> {
    let img = RgbImage::open(path)?;
    let t0 = std::time::Instant::now();
    let (face, e) = pipeline
        .single_subject(&img, DEFAULT_DETECT_THRESHOLD)?
        .ok_or_else(|| raqib_models::Error::NoFace { path: path.to_owned() })?;
    let took = t0.elapsed();
    let radius = (face.bbox.height() / 20.0).round().max(1.0) as usize;
    let blurred = box_blur(&img, radius);
    let sample = Sample {
        quality: quality::assess(&img, &face.bbox, &face.landmarks),
        blurred: quality::assess(&blurred, &face.bbox, &face.landmarks),
    };
    Ok((face, e, sample, took))
}

/// The gate's figures on `samples`.
pub fn survey(samples: &[Sample], gate: &QualityGate) -> QualitySurvey {
    let mut gated: BTreeMap<&'static str, usize> = Gated::ALL.iter().map(|g| (g.as_str(), 0)).collect();
    for s in samples {
        if let Some(g) = gate.check(&s.quality) {
            *gated.entry(g.as_str()).or_default() += 1;
        }
    }
    let pct = |mut v: Vec<f32>, p: f64| {
        v.sort_by(f32::total_cmp);
        v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f32::NAN)
    };
    let sharp: Vec<f32> = samples.iter().map(|s| s.quality.sharpness).collect();
    QualitySurvey {
        photos: samples.len(),
        passed: samples.iter().filter(|s| gate.check(&s.quality).is_none()).count(),
        gated,
        blurred_copies_gated: samples.iter().filter(|s| gate.check(&s.blurred).is_some()).count(),
        sharpness: (
            pct(sharp.clone(), 0.05),
            pct(sharp, 0.5),
            pct(samples.iter().map(|s| s.blurred.sharpness).collect(), 0.5),
        ),
        pose_p95: (
            pct(samples.iter().map(|s| s.quality.yaw.abs()).collect(), 0.95),
            pct(samples.iter().map(|s| s.quality.pitch.abs()).collect(), 0.95),
        ),
    }
}

/// A separable box blur of `radius` pixels (edges clamped).
fn box_blur(img: &RgbImage, radius: usize) -> RgbImage {
    let (w, h) = (img.width as usize, img.height as usize);
    let pass = |src: &[u8], len: usize, lines: usize, at: &dyn Fn(usize, usize) -> usize| {
        let mut out = src.to_vec();
        for line in 0..lines {
            for c in 0..3 {
                for i in 0..len {
                    let (lo, hi) = (i.saturating_sub(radius), (i + radius).min(len - 1));
                    let sum: u32 = (lo..=hi).map(|j| u32::from(src[at(line, j) * 3 + c])).sum();
                    out[at(line, i) * 3 + c] = (sum / (hi - lo + 1) as u32) as u8;
                }
            }
        }
        out
    };
    let rows = pass(&img.data, w, h, &|y, x| y * w + x);
    let data = pass(&rows, h, w, &|x, y| y * w + x);
    RgbImage { width: img.width, height: img.height, data }
}

/// The survey as text lines.
pub fn text(s: &QualitySurvey, gate: &QualityGate) -> String {
    let reasons: Vec<String> = s.gated.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "  quality gate (height ≥ {}, sharpness ≥ {}, |yaw| ≤ {}, |pitch| ≤ {}, |roll| ≤ {}°): {}/{} photos pass ({}); \
         box-blurred copies stopped: {}/{}\n    sharpness p5 {:.3}, median {:.3} (blurred copies: {:.3}); |yaw| p95 {:.2}, |pitch| p95 {:.2}\n",
        gate.min_height,
        gate.min_sharpness,
        gate.max_yaw,
        gate.max_pitch,
        gate.max_roll_deg,
        s.passed,
        s.photos,
        reasons.join(", "),
        s.blurred_copies_gated,
        s.photos,
        s.sharpness.0,
        s.sharpness.1,
        s.sharpness.2,
        s.pose_p95.0,
        s.pose_p95.1
    )
}
