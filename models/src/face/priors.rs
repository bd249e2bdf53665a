//! Decoding the RFB-320 (Ultra-Light-Fast-Generic-Face-Detector) outputs: prior boxes, offset
//! decoding with variances 0.1/0.2, score threshold and non-maximum suppression.

use serde::Serialize;

/// Detector input width and height.
pub const INPUT_W: usize = 320;
/// Detector input height.
pub const INPUT_H: usize = 240;
const MIN_SIZES: [&[f32]; 4] = [&[10.0, 16.0, 24.0], &[32.0, 48.0], &[64.0, 96.0], &[128.0, 192.0, 256.0]];
const STEPS: [f32; 4] = [8.0, 16.0, 32.0, 64.0];

/// An axis-aligned box in pixels: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bbox {
    /// Left.
    pub x1: f32,
    /// Top.
    pub y1: f32,
    /// Right.
    pub x2: f32,
    /// Bottom.
    pub y2: f32,
}

impl Bbox {
    /// Width.
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }
    /// Height.
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }
    /// Intersection over union.
    pub fn iou(&self, o: &Bbox) -> f32 {
        let iw = (self.x2.min(o.x2) - self.x1.max(o.x1)).max(0.0);
        let ih = (self.y2.min(o.y2) - self.y1.max(o.y1)).max(0.0);
        let inter = iw * ih;
        let union = self.width() * self.height() + o.width() * o.height() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// Prior boxes (cx, cy, w, h), normalised to the input size: rows outer, columns inner, sizes
/// innermost, per feature map. 4420 for 320 × 240.
pub fn priors() -> Vec<[f32; 4]> {
    let mut out = Vec::with_capacity(4420);
    for (k, step) in STEPS.iter().enumerate() {
        let rows = (INPUT_H as f32 / step).ceil() as usize;
        let cols = (INPUT_W as f32 / step).ceil() as usize;
        for i in 0..rows {
            for j in 0..cols {
                for m in MIN_SIZES[k] {
                    out.push([
                        (j as f32 + 0.5) * step / INPUT_W as f32,
                        (i as f32 + 0.5) * step / INPUT_H as f32,
                        m / INPUT_W as f32,
                        m / INPUT_H as f32,
                    ]);
                }
            }
        }
    }
    out
}

/// Decodes raw offsets and face scores into boxes in image pixels (image `w` × `h`), keeping
/// scores ≥ `threshold`, after NMS at `iou`. Best first.
pub fn decode(
    priors: &[[f32; 4]],
    scores: &[f32],
    offsets: &[f32],
    w: f32,
    h: f32,
    threshold: f32,
    iou: f32,
) -> Vec<(Bbox, f32)> {
    let mut cands: Vec<(Bbox, f32)> = Vec::new();
    for (i, p) in priors.iter().enumerate() {
        let score = scores[i * 2 + 1];
        if score < threshold {
            continue;
        }
        let o = &offsets[i * 4..i * 4 + 4];
        let cx = p[0] + o[0] * 0.1 * p[2];
        let cy = p[1] + o[1] * 0.1 * p[3];
        let bw = p[2] * (o[2] * 0.2).exp();
        let bh = p[3] * (o[3] * 0.2).exp();
        let b = Bbox {
            x1: ((cx - bw / 2.0) * w).clamp(0.0, w),
            y1: ((cy - bh / 2.0) * h).clamp(0.0, h),
            x2: ((cx + bw / 2.0) * w).clamp(0.0, w),
            y2: ((cy + bh / 2.0) * h).clamp(0.0, h),
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
    fn prior_count_and_layout() {
        let p = priors();
        assert_eq!(p.len(), 4420);
        // First cell, three sizes, then the next column.
        assert_eq!(p[0][0], 4.0 / 320.0);
        assert_eq!(p[2][2], 24.0 / 320.0);
        assert_eq!(p[3][0], 12.0 / 320.0);
        // Second row of the first map starts after 40 columns × 3 sizes.
        assert_eq!(p[120][1], 12.0 / 240.0);
    }

    #[test]
    fn zero_offsets_give_the_prior_box() {
        let p = priors();
        let mut scores = vec![0.0; p.len() * 2];
        scores[2 * 100 + 1] = 0.9;
        let offsets = vec![0.0; p.len() * 4];
        let d = decode(&p, &scores, &offsets, 320.0, 240.0, 0.5, 0.4);
        assert_eq!(d.len(), 1);
        let (b, s) = d[0];
        assert_eq!(s, 0.9);
        let [cx, cy, w, h] = p[100];
        assert!((b.x1 - (cx - w / 2.0) * 320.0).abs() < 1e-3 && (b.y2 - (cy + h / 2.0) * 240.0).abs() < 1e-3);
    }

    #[test]
    fn nms_drops_overlaps() {
        let a = Bbox { x1: 0.0, y1: 0.0, x2: 10.0, y2: 10.0 };
        let b = Bbox { x1: 1.0, y1: 1.0, x2: 11.0, y2: 11.0 };
        let c = Bbox { x1: 50.0, y1: 50.0, x2: 60.0, y2: 60.0 };
        let kept = nms(vec![(a, 0.8), (b, 0.9), (c, 0.7)], 0.4);
        assert_eq!(kept.iter().map(|k| k.1).collect::<Vec<_>>(), [0.9, 0.7]);
    }
}
