//! Skew of a plate crop, so a tilted plate can be read along its own axis.
//!
//! A plate seen at an angle (a camera mounted beside the road, a car on a slope) lies diagonally
//! across its axis-aligned box: the characters then fill only part of the recogniser's 32-pixel
//! rows and the box is mostly background. The skew is found the classic way for text lines:
//! character strokes are vertical edges, and projected along the right angle their energy piles
//! up in a narrow band (the text line), so the angle whose projection profile is the peakiest
//! (largest sum of squares) wins. The band's extent along that angle gives the oriented crop.
//! Pure arithmetic on a 48-row copy of the crop (figures in BENCHMARKS.md).

use crate::face::Bbox;
use crate::image_ops::RgbImage;

/// Skews smaller than this (degrees) are left alone: the recogniser reads them as they are.
pub const MIN_SKEW_DEG: i32 = 3;
/// Largest skew searched (degrees, each way), to the nearest degree: a plate seen from the
/// kerb or by a body camera can lean 20–25°.
pub const MAX_SKEW_DEG: i32 = 27;
/// Rows of the working copy of the crop.
const ROWS: usize = 48;
/// The coarse search's step (degrees); the fine search tries the degrees between.
const COARSE_STEP_DEG: i32 = 3;
/// The text band extends while the smoothed profile stays above this share of its peak.
const BAND_FRACTION: f32 = 0.3;
/// Margin added to the band above and below, as a share of its height.
const BAND_MARGIN: f32 = 0.15;

/// A rectangle rotated about its centre, image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Oriented {
    /// Centre.
    pub cx: f32,
    /// Centre.
    pub cy: f32,
    /// Extent along the text direction.
    pub width: f32,
    /// Extent across it.
    pub height: f32,
    /// Angle of the text direction, radians; positive turns it down to the right (image y down).
    pub angle: f32,
}

impl Oriented {
    /// The image position of `(u, v)`, offsets from the centre along and across the text.
    #[inline]
    pub fn source(&self, u: f32, v: f32) -> (f32, f32) {
        let (s, c) = self.angle.sin_cos();
        (self.cx + u * c - v * s, self.cy + u * s + v * c)
    }
}

/// The oriented crop of the text line in `bbox`, when its text is skewed by at least
/// [`MIN_SKEW_DEG`]; `None` when it is level (or the crop is too small to tell).
pub fn estimate(img: &RgbImage, bbox: &Bbox) -> Option<Oriented> {
    let (w, h) = (bbox.width(), bbox.height());
    if h < 6.0 || w < 12.0 {
        return None;
    }
    let scale = ROWS as f32 / h;
    let (oh, ow) = (ROWS, ((w * scale).round() as usize).clamp(8, 10 * ROWS));
    let edges = vertical_edges(img, bbox, ow, oh);
    // Every third degree, then the neighbours of the best: the profile's peakiness changes
    // smoothly with the angle. On a tie the smaller skew wins.
    let peakiest = |degs: &mut dyn Iterator<Item = i32>, best: &mut Option<(f32, i32, Vec<f32>)>| {
        for deg in degs {
            let profile = project(&edges, ow, oh, (deg as f32).to_radians());
            let peakiness: f32 = profile.iter().map(|v| v * v).sum();
            let better =
                best.as_ref().is_none_or(|(b, d, _)| peakiness > *b || (peakiness == *b && deg.abs() < d.abs()));
            if better {
                *best = Some((peakiness, deg, profile));
            }
        }
    };
    let mut best = None;
    peakiest(&mut (-MAX_SKEW_DEG..=MAX_SKEW_DEG).step_by(COARSE_STEP_DEG as usize), &mut best);
    let coarse = best.as_ref().map_or(0, |(_, d, _)| *d);
    peakiest(
        &mut (coarse - COARSE_STEP_DEG + 1..coarse + COARSE_STEP_DEG)
            .filter(|d| d.abs() <= MAX_SKEW_DEG && d != &coarse),
        &mut best,
    );
    let (_, deg, profile) = best?;
    if deg.abs() < MIN_SKEW_DEG {
        return None;
    }
    let (lo, hi) = band(&profile)?;
    let angle = (deg as f32).to_radians();
    // Profile bin i holds offsets [i − oh, i − oh + 1) across the text, working-copy pixels.
    let centre = ((lo + hi + 1) as f32 / 2.0 - oh as f32) / scale;
    let thickness = (hi + 1 - lo) as f32 / scale;
    let (s, c) = angle.sin_cos();
    let (bx, by) = ((bbox.x1 + bbox.x2) / 2.0, (bbox.y1 + bbox.y2) / 2.0);
    Some(Oriented {
        cx: bx - s * centre,
        cy: by + c * centre,
        // The box's width less what the band's own thickness adds to it at this angle.
        width: ((w - thickness * s.abs()) / c).max(0.6 * w),
        height: (thickness * (1.0 + 2.0 * BAND_MARGIN)).min(h),
        angle,
    })
}

/// `|∂/∂x|` of the crop's grey values on an `ow × oh` copy (row-major).
fn vertical_edges(img: &RgbImage, bbox: &Bbox, ow: usize, oh: usize) -> Vec<f32> {
    let (w, h) = (bbox.width(), bbox.height());
    let mut grey = vec![0f32; ow * oh];
    for y in 0..oh {
        let sy = bbox.y1 + (y as f32 + 0.5) * h / oh as f32 - 0.5;
        for x in 0..ow {
            let sx = bbox.x1 + (x as f32 + 0.5) * w / ow as f32 - 0.5;
            grey[y * ow + x] = img.luma(sx, sy);
        }
    }
    let mut edges = vec![0f32; ow * oh];
    for y in 0..oh {
        for x in 1..ow - 1 {
            edges[y * ow + x] = (grey[y * ow + x + 1] - grey[y * ow + x - 1]).abs();
        }
    }
    edges
}

/// Edge energy by offset across a text direction at `angle`: `3·oh + 1` one-pixel bins, bin
/// `oh` at the centre.
fn project(edges: &[f32], ow: usize, oh: usize, angle: f32) -> Vec<f32> {
    let (s, c) = angle.sin_cos();
    let last = 3 * oh;
    let mut profile = vec![0f32; last + 1];
    let dx0 = -(ow as f32) / 2.0 + 0.5;
    for (y, row) in edges.chunks_exact(ow).enumerate() {
        let dy = y as f32 - oh as f32 / 2.0 + 0.5;
        // Offset across the text of this row's first pixel; each step right adds −sin.
        let start = -dx0 * s + dy * c + oh as f32;
        for (x, &e) in row.iter().enumerate() {
            // Float-to-integer casts saturate: offsets left of 0 land in bin 0.
            let bin = ((start - x as f32 * s) as usize).min(last);
            profile[bin] += e;
        }
    }
    profile
}

/// The bins `[lo, hi]` around the profile's peak (3-bin smoothing) above [`BAND_FRACTION`] of it.
fn band(profile: &[f32]) -> Option<(usize, usize)> {
    let n = profile.len();
    let smooth: Vec<f32> = (0..n)
        .map(|i| {
            let prev = if i > 0 { profile[i - 1] } else { 0.0 };
            (prev + profile[i] + profile.get(i + 1).copied().unwrap_or(0.0)) / 3.0
        })
        .collect();
    let (peak, top) = smooth.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1))?;
    if top <= 0.0 {
        return None;
    }
    let floor = BAND_FRACTION * top;
    let mut lo = peak;
    while lo > 0 && smooth[lo - 1] > floor {
        lo -= 1;
    }
    let mut hi = peak;
    while hi + 1 < n && smooth[hi + 1] > floor {
        hi += 1;
    }
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white image with dark vertical strokes ("characters") along a line through the centre
    /// at `deg` degrees.
    fn tilted_text(deg: f32) -> RgbImage {
        let (w, h) = (300usize, 120usize);
        let mut data = vec![255u8; w * h * 3];
        let (s, c) = deg.to_radians().sin_cos();
        for k in 0..10 {
            let u = -110.0 + 24.0 * k as f32;
            for v in -12..=12 {
                for du in 0..4 {
                    let (x, y) =
                        (150.0 + (u + du as f32) * c - v as f32 * s, 60.0 + (u + du as f32) * s + v as f32 * c);
                    let (x, y) = (x.round() as usize, y.round() as usize);
                    if x < w && y < h {
                        data[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(0);
                    }
                }
            }
        }
        RgbImage { width: w as u32, height: h as u32, data }
    }

    fn whole(img: &RgbImage) -> Bbox {
        Bbox { x1: 0.0, y1: 0.0, x2: img.width as f32, y2: img.height as f32 }
    }

    #[test]
    fn finds_the_angle_and_band_of_tilted_text() {
        for deg in [-10.0f32, 8.0, -22.0] {
            let img = tilted_text(deg);
            let o = estimate(&img, &whole(&img)).expect("skew found");
            assert!((o.angle.to_degrees() - deg).abs() <= 1.0, "{deg}: {o:?}");
            assert!((o.cx - 150.0).abs() < 6.0 && (o.cy - 60.0).abs() < 6.0, "{o:?}");
            // Strokes are 25 px tall: the band with its margins, not the whole box.
            assert!(o.height > 20.0 && o.height < 50.0, "{o:?}");
            assert!(o.width > 200.0, "{o:?}");
        }
    }

    #[test]
    fn level_text_and_tiny_crops_are_left_alone() {
        let img = tilted_text(1.0);
        assert_eq!(estimate(&img, &whole(&img)), None);
        assert_eq!(estimate(&img, &Bbox { x1: 0.0, y1: 0.0, x2: 10.0, y2: 4.0 }), None);
        let blank = RgbImage { width: 50, height: 20, data: vec![200; 50 * 20 * 3] };
        assert_eq!(estimate(&blank, &whole(&blank)), None);
    }
}
