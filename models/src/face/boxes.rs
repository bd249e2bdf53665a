//! Decoding the RFB-320 (Ultra-Light-Fast-Generic-Face-Detector) outputs.
//!
//! This export already applies the prior boxes and variances inside the graph: `boxes` holds
//! corner coordinates `(x1, y1, x2, y2)` normalised to the input, `scores` the background/face
//! probabilities per anchor (4420 for 320 × 240). What is left is a score threshold, scaling to
//! the image and non-maximum suppression. (Decoding them again against priors, as the package's
//! JavaScript comments and our MODELS.md suggested, yields shifted duplicate boxes, one per
//! anchor that fired.)

/// Detector input width.
pub const INPUT_W: usize = 320;
/// Detector input height.
pub const INPUT_H: usize = 240;
/// Anchors the detector scores.
pub const ANCHORS: usize = 4420;

pub use raqib_core::Bbox;

/// Boxes in image pixels (image `w` × `h`) for anchors whose face score ≥ `threshold`, after
/// NMS at `iou`; best first. `scores` is `[anchors, 2]`, `corners` `[anchors, 4]`.
pub fn decode(scores: &[f32], corners: &[f32], w: f32, h: f32, threshold: f32, iou: f32) -> Vec<(Bbox, f32)> {
    let mut cands: Vec<(Bbox, f32)> = Vec::new();
    for (s, c) in scores.chunks_exact(2).zip(corners.chunks_exact(4)) {
        let score = s[1];
        if score < threshold {
            continue;
        }
        let b = Bbox {
            x1: (c[0] * w).clamp(0.0, w),
            y1: (c[1] * h).clamp(0.0, h),
            x2: (c[2] * w).clamp(0.0, w),
            y2: (c[3] * h).clamp(0.0, h),
        };
        if b.width() >= 2.0 && b.height() >= 2.0 {
            cands.push((b, score));
        }
    }
    nms(cands, iou)
}

/// Greedy non-maximum suppression; best first.
pub fn nms(mut cands: Vec<(Bbox, f32)>, iou: f32) -> Vec<(Bbox, f32)> {
    cands.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut keep: Vec<(Bbox, f32)> = Vec::new();
    for c in cands {
        if keep.iter().all(|k| k.0.iou(&c.0) <= iou) {
            keep.push(c);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_thresholds_and_suppresses() {
        // Three anchors: two overlapping on one face, one below threshold.
        let scores = [0.1, 0.9, 0.2, 0.8, 0.7, 0.3];
        let corners = [0.1, 0.2, 0.3, 0.6, 0.11, 0.21, 0.31, 0.61, 0.5, 0.5, 0.9, 0.9];
        let d = decode(&scores, &corners, 1000.0, 500.0, 0.5, 0.4);
        assert_eq!(d.len(), 1);
        let (b, s) = d[0];
        assert_eq!(s, 0.9);
        assert!((b.x1 - 100.0).abs() < 1e-3 && (b.y2 - 300.0).abs() < 1e-3);
    }

    #[test]
    fn nms_keeps_separate_faces() {
        let a = Bbox { x1: 0.0, y1: 0.0, x2: 10.0, y2: 10.0 };
        let b = Bbox { x1: 1.0, y1: 1.0, x2: 11.0, y2: 11.0 };
        let c = Bbox { x1: 50.0, y1: 50.0, x2: 60.0, y2: 60.0 };
        let kept = nms(vec![(a, 0.8), (b, 0.9), (c, 0.7)], 0.4);
        assert_eq!(kept.iter().map(|k| k.1).collect::<Vec<_>>(), [0.9, 0.7]);
    }
}
