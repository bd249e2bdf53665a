//! Face detection against annotated boxes: which faces the detector finds and what else it
//! reports, at the shipped detection threshold, on the photos as they are and shrunk inside a
//! grey frame of the photo's own size (the same people further from the camera: faces a half,
//! a third, a quarter, a sixth and an eighth of their size in the same frame). The detector
//! sees the whole frame at 320 × 240, so what limits it is a face's size relative to the
//! frame; this says how small that can be, which decides how far from a camera a wanted person
//! can be found at all.
//!
//! The annotation of `faceapi-bbt/group_photos` is ours, kept in the repository
//! (`eval/data/faceapi-bbt-group-faces.tsv`, which says how it was made). A detection matches
//! a face when their boxes overlap by IoU ≥ 0.4 (box conventions differ between annotators and
//! detectors: forehead or not, ears or not), each face and each detection at most once, best
//! overlap first.

use std::path::Path;

use raqib_models::face::{Bbox, DEFAULT_DETECT_THRESHOLD};
use raqib_models::{FacePipeline, RgbImage};
use serde::Serialize;

use crate::{Error, Result};

/// Our annotation of the faceapi-bbt group photos.
const BBT_GROUP_FACES: &str = include_str!("../data/faceapi-bbt-group-faces.tsv");

/// The smallest overlap for a detection to count as finding a face.
pub const MIN_IOU: f32 = 0.4;

/// Detection figures at one size of the photos.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetectionAtScale {
    /// Photos shrunk to this fraction of their size.
    pub scale: f32,
    /// Median annotated face height at this scale, pixels.
    pub median_face_px: f32,
    /// The same as a share of the frame's height.
    pub median_face_share: f32,
    /// Annotated faces.
    pub faces: usize,
    /// Faces found.
    pub found: usize,
    /// Detections matching no face.
    pub false_alarms: usize,
    /// Mean IoU of the matches.
    pub mean_iou: f32,
}

/// Annotated face boxes, by photo file name.
type Faces = Vec<(String, Vec<Bbox>)>;

/// The annotated faces of `folder` (`group_photos/`) by file, when we have an annotation for it.
fn annotation(set: &Path) -> Result<Option<Faces>> {
    if set.file_name().and_then(|n| n.to_str()) != Some("faceapi-bbt") || !set.join("group_photos").is_dir() {
        return Ok(None);
    }
    let mut out: Faces = Vec::new();
    for (i, line) in BBT_GROUP_FACES.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let n = |k: usize| f.get(k).and_then(|v| v.trim().parse::<f32>().ok());
        let (Some(x1), Some(y1), Some(x2), Some(y2)) = (n(1), n(2), n(3), n(4)) else {
            return Err(Error::annotation(
                Path::new("eval/data/faceapi-bbt-group-faces.tsv"),
                format!("line {}", i + 1),
            ));
        };
        let b = Bbox { x1, y1, x2, y2 };
        match out.iter_mut().find(|(file, _)| file == f[0]) {
            Some((_, boxes)) => boxes.push(b),
            None => out.push((f[0].to_owned(), vec![b])),
        }
    }
    Ok(Some(out))
}

/// Detection on the set's annotated group photos at full size and shrunk; `None` when the set
/// has none.
pub fn evaluate(pipeline: &mut FacePipeline, set: &Path) -> Result<Option<Vec<DetectionAtScale>>> {
    let Some(truth) = annotation(set)? else { return Ok(None) };
    let mut photos = Vec::new();
    for (file, boxes) in &truth {
        photos.push((RgbImage::open(&set.join("group_photos").join(file))?, boxes));
    }
    let mut out = Vec::new();
    for scale in [1.0f32, 0.5, 0.33, 0.25, 0.18, 0.12] {
        let mut fig = DetectionAtScale {
            scale,
            median_face_px: 0.0,
            median_face_share: 0.0,
            faces: 0,
            found: 0,
            false_alarms: 0,
            mean_iou: 0.0,
        };
        let mut heights = Vec::new();
        let mut iou_sum = 0.0;
        for (img, boxes) in &photos {
            let (small, (s, dx, dy)) = farther(img, scale);
            let truth: Vec<Bbox> = boxes
                .iter()
                .map(|b| Bbox { x1: b.x1 * s + dx, y1: b.y1 * s + dy, x2: b.x2 * s + dx, y2: b.y2 * s + dy })
                .collect();
            heights.extend(truth.iter().map(|b| (b.height(), b.height() / img.height as f32)));
            let found: Vec<Bbox> =
                pipeline.detect(&small, DEFAULT_DETECT_THRESHOLD)?.into_iter().map(|(b, _)| b).collect();
            let matches = greedy_matches(&truth, &found);
            fig.faces += truth.len();
            fig.found += matches.len();
            fig.false_alarms += found.len() - matches.len();
            iou_sum += matches.iter().sum::<f32>();
        }
        heights.sort_by(|a, b| a.0.total_cmp(&b.0));
        (fig.median_face_px, fig.median_face_share) = heights.get(heights.len() / 2).copied().unwrap_or_default();
        fig.mean_iou = if fig.found > 0 { iou_sum / fig.found as f32 } else { 0.0 };
        out.push(fig);
    }
    Ok(Some(out))
}

/// IoUs of the one-to-one matches of `truth` and `found` with IoU ≥ [`MIN_IOU`], best first.
fn greedy_matches(truth: &[Bbox], found: &[Bbox]) -> Vec<f32> {
    let mut pairs: Vec<(f32, usize, usize)> = truth
        .iter()
        .enumerate()
        .flat_map(|(i, t)| found.iter().enumerate().map(move |(j, f)| (t.iou(f), i, j)))
        .filter(|(iou, _, _)| *iou >= MIN_IOU)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_t, mut used_f) = (vec![false; truth.len()], vec![false; found.len()]);
    let mut out = Vec::new();
    for (iou, i, j) in pairs {
        if !used_t[i] && !used_f[j] {
            used_t[i] = true;
            used_f[j] = true;
            out.push(iou);
        }
    }
    out
}

/// The photo shrunk to `scale` of its size in the middle of a grey frame of its own size (the
/// scene from further away), and how its pixels moved: `(scale, dx, dy)`.
fn farther(img: &RgbImage, scale: f32) -> (RgbImage, (f32, f32, f32)) {
    let (w, h) =
        (((img.width as f32 * scale).round() as u32).max(1), ((img.height as f32 * scale).round() as u32).max(1));
    let Some(buf) = image::RgbImage::from_raw(img.width, img.height, img.data.clone()) else {
        return (img.clone(), (1.0, 0.0, 0.0));
    };
    if scale >= 1.0 {
        return (img.clone(), (1.0, 0.0, 0.0));
    }
    let small = image::imageops::resize(&buf, w, h, image::imageops::FilterType::Triangle);
    let mut frame = image::RgbImage::from_pixel(img.width, img.height, image::Rgb([127, 127, 127]));
    let (dx, dy) = ((img.width - w) / 2, (img.height - h) / 2);
    image::imageops::replace(&mut frame, &small, i64::from(dx), i64::from(dy));
    let s = w as f32 / img.width as f32;
    (RgbImage { width: img.width, height: img.height, data: frame.into_raw() }, (s, dx as f32, dy as f32))
}

/// The figures as text lines.
pub fn text(figs: &[DetectionAtScale]) -> String {
    let mut o = format!(
        "  face detection on the annotated group photos (threshold {DEFAULT_DETECT_THRESHOLD}, IoU ≥ {MIN_IOU}):\n"
    );
    for f in figs {
        o.push_str(&format!(
            "    at {:.0} % size (median face {:.0} px, {:.1} % of the frame's height): {}/{} faces found ({:.1} %), {} false alarm(s), mean IoU {:.2}\n",
            f.scale * 100.0,
            f.median_face_px,
            f.median_face_share * 100.0,
            f.found,
            f.faces,
            f.found as f64 * 100.0 / f.faces.max(1) as f64,
            f.false_alarms,
            f.mean_iou
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_face_and_detection_matches_once_best_overlap_first() {
        let b = |x: f32| Bbox { x1: x, y1: 0.0, x2: x + 10.0, y2: 10.0 };
        // Two faces side by side; a detection over the first, one half-way (IoU 1/3 with
        // each: too little) and one far away.
        let found = [b(1.0), b(5.0), b(100.0)];
        let m = greedy_matches(&[b(0.0), b(10.0)], &found);
        assert_eq!(m.len(), 1);
        assert!((m[0] - 90.0 / 110.0).abs() < 1e-4);
        assert!(greedy_matches(&[], &found).is_empty());
    }

    #[test]
    fn our_annotation_parses_to_23_faces_in_5_photos() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("faceapi-bbt");
        std::fs::create_dir_all(set.join("group_photos")).unwrap();
        let a = annotation(&set).unwrap().unwrap();
        assert_eq!((a.len(), a.iter().map(|(_, b)| b.len()).sum::<usize>()), (5, 23));
        assert!(annotation(dir.path()).unwrap().is_none(), "only for faceapi-bbt");
    }
}
