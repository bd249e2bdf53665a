//! Text-region proposals for plates, from the PP-OCRv4 text detector (DB probability map).
//!
//! The detector marks every line of text, so its regions are plate *candidates*: a region becomes
//! a plate when the recogniser reads a valid plate format in it. Steps, as in RapidOCR's
//! post-processing simplified to axis-aligned boxes: probability > `threshold`, a short
//! horizontal dilation that joins the characters of one line, 4-connected components, and the DB
//! "unclip" margin (area × 1.6 / perimeter) since the map covers a shrunk text kernel.

use serde::Serialize;

use crate::face::Bbox;

/// A candidate region in image pixels with the mean probability of its text pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Region {
    /// The box.
    pub bbox: Bbox,
    /// Mean probability inside the component (for the plate detector's checked regions: the
    /// checker's probability of a plate).
    pub score: f32,
}

/// Post-processing settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionParams {
    /// Probability threshold for a text pixel.
    pub threshold: f32,
    /// Pixels of horizontal dilation on the map.
    pub dilate_x: usize,
    /// Smallest component kept, in map pixels.
    pub min_area: usize,
    /// Smallest mean probability of the component's text pixels.
    pub min_score: f32,
    /// DB unclip ratio.
    pub unclip: f32,
    /// The box is that of the component's cells at or above this probability (its core), when
    /// it has any; 0: of all its cells.
    pub core: f32,
}

impl Default for RegionParams {
    fn default() -> Self {
        RegionParams { threshold: 0.3, dilate_x: 2, min_area: 12, min_score: 0.5, unclip: 1.6, core: 0.0 }
    }
}

/// A detector probability map, row-major.
#[derive(Debug, Clone, Copy)]
pub struct ProbMap<'a> {
    /// `width * height` probabilities.
    pub prob: &'a [f32],
    /// Map width.
    pub width: usize,
    /// Map height.
    pub height: usize,
}

/// Regions of `map`, in the pixels of the `img_w × img_h` image the map was computed from.
/// Highest score first.
pub fn regions(map: &ProbMap, img_w: f32, img_h: f32, p: &RegionParams) -> Vec<Region> {
    let (prob, w, h) = (map.prob, map.width, map.height);
    let (sx, sy) = (img_w / w as f32, img_h / h as f32);
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            if prob[y * w + x] > p.threshold {
                let (lo, hi) = (x.saturating_sub(p.dilate_x), (x + p.dilate_x).min(w - 1));
                for m in &mut mask[y * w + lo..=y * w + hi] {
                    *m = true;
                }
            }
        }
    }
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        let (mut cx0, mut cy0, mut cx1, mut cy1) = (w, h, 0, 0);
        let (mut area, mut sum, mut text_px) = (0usize, 0f32, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            area += 1;
            if prob[i] >= p.core {
                (cx0, cy0, cx1, cy1) = (cx0.min(x), cy0.min(y), cx1.max(x), cy1.max(y));
            }
            if prob[i] > p.threshold {
                sum += prob[i];
                text_px += 1;
            }
            let mut visit = |j: usize| {
                if mask[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        // Mean over the text pixels themselves (dilation only fills gaps between characters).
        let score = sum / text_px.max(1) as f32;
        if area < p.min_area || score < p.min_score {
            continue;
        }
        if p.core > 0.0 && cx0 <= cx1 {
            (x0, y0, x1, y1) = (cx0, cy0, cx1, cy1);
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        let d = bw * bh * p.unclip / (2.0 * (bw + bh));
        let bbox = Bbox {
            x1: ((x0 as f32 - d) * sx).clamp(0.0, img_w),
            y1: ((y0 as f32 - d) * sy).clamp(0.0, img_h),
            x2: ((x1 as f32 + 1.0 + d) * sx).clamp(0.0, img_w),
            y2: ((y1 as f32 + 1.0 + d) * sy).clamp(0.0, img_h),
        };
        out.push(Region { bbox, score });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_of_characters_is_one_region() {
        // Three "characters" 2 px apart on a 20 × 8 map, plus a lone weak pixel.
        let (w, h) = (20, 8);
        let mut prob = vec![0.0; w * h];
        for y in 3..6 {
            for x in [2, 3, 6, 7, 10, 11] {
                prob[y * w + x] = 0.9;
            }
        }
        prob[7 * w + 18] = 0.35;
        let r = regions(&ProbMap { prob: &prob, width: w, height: h }, 40.0, 16.0, &RegionParams::default());
        assert_eq!(r.len(), 1, "{r:?}");
        let b = r[0].bbox;
        // Component spans x 0..=13, y 3..=5 after dilation; unclip adds d = 14·3·1.6/34 ≈ 1.98.
        assert!(b.x1 == 0.0 && (b.x2 - (14.0 + 1.976) * 2.0).abs() < 0.1, "{b:?}");
        assert!((b.y1 - (3.0 - 1.976) * 2.0).abs() < 0.1);
    }
}
