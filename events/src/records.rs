//! What the analysis hands on and the stores keep: a vehicle's voted plate read
//! ([`PlateEvent`]) and a listed person's sighting ([`FaceSighting`]), with the JPEG helpers for
//! their crops and frames.

use std::sync::Arc;

use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use serde::Serialize;

/// A plate track's result: one per vehicle passing.
#[derive(Debug, Clone, Serialize)]
pub struct PlateEvent {
    /// Track id within its source.
    pub track: u64,
    /// The voted plate (canonical text, Latin spelling, match key, format); shown in JSON as the
    /// flat fields `text`, `latin`, `key`, `format`.
    #[serde(flatten, serialize_with = "raqib_core::plate::read_fields")]
    pub plate: raqib_core::PlateText,
    /// Vote confidence (0–1).
    pub confidence: f32,
    /// Frames whose read took part in the vote / frames the plate was seen in.
    pub reads: usize,
    /// Frames the track was seen in.
    pub frames: usize,
    /// First and last media time seen, seconds.
    pub first_seen_s: Option<f64>,
    /// Last media time seen, seconds.
    pub last_seen_s: Option<f64>,
    /// Best shot: frame index, media time, box.
    pub best_frame: u64,
    /// Media time of the best shot, seconds.
    pub best_time_s: Option<f64>,
    /// Box of the best shot, frame pixels.
    #[serde(rename = "box")]
    pub bbox: Bbox,
    /// JPEG of the best shot's plate crop.
    #[serde(skip)]
    pub crop_jpeg: Vec<u8>,
    /// Per key position: candidates and vote shares, best first (for fuzzy matching).
    #[serde(skip)]
    pub positions: Vec<Vec<(char, f32)>>,
    /// The whole frame of the best shot, for hit evidence (encode it only if the read hits).
    #[serde(skip)]
    pub frame_image: Option<Arc<RgbImage>>,
}

impl PlateEvent {
    /// A read of `plate` and nothing else: no crop, no frame, no per-position alternatives,
    /// voted from `reads` frames at confidence 0.9 (reads handed over by another system, tests).
    pub fn bare(plate: raqib_core::PlateText, track: u64, reads: usize) -> Self {
        PlateEvent {
            track,
            plate,
            confidence: 0.9,
            reads,
            frames: reads,
            first_seen_s: None,
            last_seen_s: None,
            best_frame: 0,
            best_time_s: None,
            bbox: Bbox { x1: 0.0, y1: 0.0, x2: 0.0, y2: 0.0 },
            crop_jpeg: Vec::new(),
            positions: Vec::new(),
            frame_image: None,
        }
    }
}

/// A listed person seen by a camera: one per face track that matched.
#[derive(Debug, Clone, Serialize)]
pub struct FaceSighting {
    /// Track id within its source.
    pub track: u64,
    /// Watchlist person id.
    pub person_id: i64,
    /// Person's name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Alert level.
    pub priority: raqib_watchlist::Priority,
    /// Best cosine similarity over the track.
    pub similarity: f32,
    /// Embeddings of the track that matched this person / taken.
    pub votes: usize,
    /// Embeddings taken.
    pub embeddings: usize,
    /// First media time seen, seconds.
    pub first_seen_s: Option<f64>,
    /// Last media time seen, seconds.
    pub last_seen_s: Option<f64>,
    /// Frame of the best match.
    pub best_frame: u64,
    /// Media time of the best match, seconds.
    pub best_time_s: Option<f64>,
    /// Face box at the best match.
    #[serde(rename = "box")]
    pub bbox: Bbox,
    /// JPEG of the face at the best match.
    #[serde(skip)]
    pub crop_jpeg: Vec<u8>,
    /// Calibrated: the chance that a stranger's face matches the gallery (of the size it had
    /// then) as well as this one did, from the face model's calibration; `None` without one.
    /// What the console shows operators instead of a raw cosine.
    pub stranger_rate: Option<f64>,
    /// The person's scope (where and when they alert, and their covert list): the hit policy
    /// drops a sighting outside it, the store keeps its covert list with the hit.
    #[serde(default, skip_serializing_if = "raqib_watchlist::Scope::is_empty")]
    pub scope: raqib_watchlist::Scope,
}

/// JPEG (quality 85) of a hit's whole frame; empty when there is none.
pub fn frame_jpeg(event: &PlateEvent) -> Vec<u8> {
    event.frame_image.as_deref().map(jpeg).unwrap_or_default()
}

/// `bbox` in `image` with a margin of a quarter of the box height, clamped; `None` if empty.
pub fn crop(image: &RgbImage, bbox: &Bbox) -> Option<RgbImage> {
    let m = bbox.height() * 0.25;
    let x0 = (bbox.x1 - m).max(0.0) as u32;
    let y0 = (bbox.y1 - m).max(0.0) as u32;
    let x1 = ((bbox.x2 + m).ceil() as u32).min(image.width);
    let y1 = ((bbox.y2 + m).ceil() as u32).min(image.height);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in y0..y1 {
        let start = ((y * image.width + x0) * 3) as usize;
        data.extend_from_slice(&image.data[start..start + (w * 3) as usize]);
    }
    Some(RgbImage { width: w, height: h, data })
}

/// JPEG (quality 90) of an image; empty if encoding fails.
pub fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    match image::ImageEncoder::write_image(
        encoder,
        &image.data,
        image.width,
        image.height,
        image::ExtendedColorType::Rgb8,
    ) {
        Ok(()) => out,
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode a plate crop");
            Vec::new()
        }
    }
}

/// JPEG of `bbox` in `image` with a margin (see [`crop`]); empty if the box is outside.
pub fn crop_jpeg(image: &RgbImage, bbox: &Bbox) -> Vec<u8> {
    crop(image, bbox).as_ref().map(jpeg).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_are_clamped_jpegs() {
        let img = RgbImage { width: 20, height: 10, data: vec![128; 20 * 10 * 3] };
        let jpeg = crop_jpeg(&img, &Bbox { x1: 15.0, y1: 2.0, x2: 30.0, y2: 8.0 });
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
        let decoded = RgbImage::decode(&jpeg).unwrap();
        assert_eq!((decoded.width, decoded.height), (7, 10)); // x 13.5→13 .. 20, y 0.5→0 .. 10
        assert!(crop_jpeg(&img, &Bbox { x1: 50.0, y1: 50.0, x2: 60.0, y2: 60.0 }).is_empty());
    }
}
