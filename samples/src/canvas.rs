//! Pixel buffers for rendering: an RGB frame and RGBA sprites, with the few operations scenes
//! need (filled rectangles, scaled alpha blits, blur, noise, gain).

// Channel loops index several per-pixel buffers at once; iterator chains would hide that.
#![allow(clippy::needless_range_loop)]

use crate::rng::Rng;

/// An RGBA image with straight (not premultiplied) alpha, 0–255 per channel, as `f32`.
#[derive(Debug, Clone)]
pub struct Sprite {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 4` values.
    pub data: Vec<f32>,
}

impl Sprite {
    /// A sprite filled with one colour and full opacity (`alpha` 0 gives a transparent one).
    pub fn filled(width: usize, height: usize, rgb: [u8; 3], alpha: f32) -> Self {
        let px = [f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2]), alpha];
        Sprite { width, height, data: px.repeat(width * height) }
    }

    /// An opaque sprite from RGB bytes.
    pub fn from_rgb(width: usize, height: usize, rgb: &[u8]) -> Self {
        let mut data = Vec::with_capacity(width * height * 4);
        for p in rgb.chunks_exact(3) {
            data.extend_from_slice(&[f32::from(p[0]), f32::from(p[1]), f32::from(p[2]), 255.0]);
        }
        Sprite { width, height, data }
    }

    /// Fills the rectangle `[x0, x1) × [y0, y1)` (clamped) with a colour, opaque.
    pub fn fill_rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, rgb: [u8; 3]) {
        let (xa, xb) = (clamp(x0, self.width), clamp(x1, self.width));
        let (ya, yb) = (clamp(y0, self.height), clamp(y1, self.height));
        for y in ya..yb {
            for x in xa..xb {
                let i = (y * self.width + x) * 4;
                self.data[i..i + 3].copy_from_slice(&[f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2])]);
                self.data[i + 3] = 255.0;
            }
        }
    }

    /// Composites `mask` (coverage 0–1, `mw × mh`) stretched into the box `(x0, y0)–(x1, y1)` in
    /// colour `rgb` (text and glyph drawing).
    pub fn paint_mask(&mut self, mask: &Mask, x0: f32, y0: f32, x1: f32, y1: f32, rgb: [u8; 3]) {
        let (bw, bh) = (x1 - x0, y1 - y0);
        if bw <= 0.0 || bh <= 0.0 || mask.width == 0 || mask.height == 0 {
            return;
        }
        for y in clamp(y0, self.height)..clamp(y1.ceil(), self.height) {
            for x in clamp(x0, self.width)..clamp(x1.ceil(), self.width) {
                let sx = (x as f32 + 0.5 - x0) / bw * mask.width as f32 - 0.5;
                let sy = (y as f32 + 0.5 - y0) / bh * mask.height as f32 - 0.5;
                let a = mask.sample(sx, sy);
                if a <= 0.0 {
                    continue;
                }
                let i = (y * self.width + x) * 4;
                for c in 0..3 {
                    self.data[i + c] += (f32::from(rgb[c]) - self.data[i + c]) * a;
                }
                self.data[i + 3] = self.data[i + 3].max(255.0 * a);
            }
        }
    }

    /// Draws `other` unscaled at (x, y), alpha-composited.
    pub fn draw(&mut self, other: &Sprite, x: usize, y: usize) {
        for sy in 0..other.height {
            for sx in 0..other.width {
                let (dx, dy) = (x + sx, y + sy);
                if dx >= self.width || dy >= self.height {
                    continue;
                }
                let s = (sy * other.width + sx) * 4;
                let d = (dy * self.width + dx) * 4;
                let a = other.data[s + 3] / 255.0;
                for c in 0..3 {
                    self.data[d + c] += (other.data[s + c] - self.data[d + c]) * a;
                }
                self.data[d + 3] = self.data[d + 3].max(other.data[s + 3]);
            }
        }
    }

    /// Box blur of `radius` pixels along x (`horizontal`) or y: motion blur of a moving object.
    pub fn motion_blur(&mut self, radius: usize, horizontal: bool) {
        if radius == 0 {
            return;
        }
        let src = self.data.clone();
        let (w, h) = (self.width as isize, self.height as isize);
        let r = radius as isize;
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 4];
                let mut n = 0.0;
                for k in -r..=r {
                    let (sx, sy) = if horizontal { (x + k, y) } else { (x, y + k) };
                    if sx < 0 || sy < 0 || sx >= w || sy >= h {
                        continue;
                    }
                    let i = ((sy * w + sx) * 4) as usize;
                    for c in 0..4 {
                        acc[c] += src[i + c];
                    }
                    n += 1.0;
                }
                let i = ((y * w + x) * 4) as usize;
                for c in 0..4 {
                    self.data[i + c] = acc[c] / n;
                }
            }
        }
    }
}

/// A coverage mask (0–1), e.g. rasterised text.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` coverages.
    pub data: Vec<f32>,
}

impl Mask {
    /// Bilinear coverage at (x, y) in pixel-centre coordinates; 0 outside.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xx: f32, yy: f32| {
            if xx < 0.0 || yy < 0.0 || xx >= self.width as f32 || yy >= self.height as f32 {
                0.0
            } else {
                self.data[yy as usize * self.width + xx as usize]
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// An RGB frame being rendered, values 0–255 as `f32` until [`Frame::to_rgb8`].
#[derive(Debug, Clone)]
pub struct Frame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` values.
    pub data: Vec<f32>,
}

impl Frame {
    /// Draws `sprite` scaled to the box `(x0, y0)–(x1, y1)` (frame pixels, may be partly
    /// outside), alpha-composited. Strong reductions average 2×2 bilinear taps against aliasing.
    pub fn blit(&mut self, sprite: &Sprite, x0: f32, y0: f32, x1: f32, y1: f32) {
        let (bw, bh) = (x1 - x0, y1 - y0);
        if bw <= 0.0 || bh <= 0.0 {
            return;
        }
        let (kx, ky) = (sprite.width as f32 / bw, sprite.height as f32 / bh);
        let taps: &[(f32, f32)] = if kx > 1.5 || ky > 1.5 {
            &[(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)]
        } else {
            &[(0.0, 0.0)]
        };
        for y in clamp(y0, self.height)..clamp(y1.ceil(), self.height) {
            for x in clamp(x0, self.width)..clamp(x1.ceil(), self.width) {
                let mut px = [0.0f32; 4];
                for (ox, oy) in taps {
                    let sx = (x as f32 + 0.5 + ox - x0) * kx - 0.5;
                    let sy = (y as f32 + 0.5 + oy - y0) * ky - 0.5;
                    let s = sample4(sprite, sx, sy);
                    for c in 0..4 {
                        px[c] += s[c] / taps.len() as f32;
                    }
                }
                let a = px[3] / 255.0;
                if a <= 0.0 {
                    continue;
                }
                let i = (y * self.width + x) * 3;
                for c in 0..3 {
                    self.data[i + c] += (px[c] - self.data[i + c]) * a;
                }
            }
        }
    }

    /// Multiplies every value by `gain` (lighting) and adds noise of standard deviation about
    /// `sigma` (sensor noise), then rounds to bytes.
    pub fn to_rgb8(&self, gain: f32, sigma: f32, rng: &mut Rng) -> Vec<u8> {
        self.data
            .iter()
            .map(|v| {
                // Sum of three uniforms: cheap, bell-shaped, variance 3/12 → scale to sigma.
                let n = if sigma > 0.0 { (rng.unit() + rng.unit() + rng.unit() - 1.5) * 2.0 * sigma } else { 0.0 };
                (v * gain + n).round().clamp(0.0, 255.0) as u8
            })
            .collect()
    }
}

fn sample4(s: &Sprite, x: f32, y: f32) -> [f32; 4] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    // Clamped at the edges: the box given to `blit` is where the sprite's edge lies.
    let at = |xx: f32, yy: f32| -> [f32; 4] {
        let xi = xx.clamp(0.0, (s.width - 1) as f32) as usize;
        let yi = yy.clamp(0.0, (s.height - 1) as f32) as usize;
        let i = (yi * s.width + xi) * 4;
        [s.data[i], s.data[i + 1], s.data[i + 2], s.data[i + 3]]
    };
    let (a, b, c, d) = (at(x0, y0), at(x0 + 1.0, y0), at(x0, y0 + 1.0), at(x0 + 1.0, y0 + 1.0));
    // Weight colours by alpha so transparent neighbours do not darken edges.
    let w = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
    let mut out = [0.0f32; 4];
    let mut alpha = 0.0;
    for (p, wk) in [a, b, c, d].iter().zip(w) {
        let aw = p[3] * wk;
        alpha += aw;
        for k in 0..3 {
            out[k] += p[k] * aw;
        }
    }
    if alpha > 0.0 {
        for v in out.iter_mut().take(3) {
            *v /= alpha;
        }
    }
    out[3] = alpha;
    out
}

fn clamp(v: f32, max: usize) -> usize {
    (v.max(0.0) as usize).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blit_covers_the_box_and_keeps_transparent_pixels() {
        let mut frame = Frame { width: 20, height: 10, data: vec![0.0; 20 * 10 * 3] };
        let mut sprite = Sprite::filled(4, 4, [200, 100, 50], 255.0);
        sprite.fill_rect(0.0, 0.0, 2.0, 4.0, [10, 10, 10]);
        frame.blit(&sprite, 2.0, 2.0, 10.0, 6.0);
        let px = |f: &Frame, x: usize, y: usize| f.data[(y * 20 + x) * 3..(y * 20 + x) * 3 + 3].to_vec();
        assert_eq!(px(&frame, 1, 3), [0.0, 0.0, 0.0], "outside the box untouched");
        assert!((px(&frame, 9, 4)[0] - 200.0).abs() < 1.0, "right half is the fill colour");
        assert!((px(&frame, 2, 4)[0] - 10.0).abs() < 1.0, "left half the rectangle");
        let clear = Sprite::filled(4, 4, [255, 255, 255], 0.0);
        frame.blit(&clear, 0.0, 0.0, 20.0, 10.0);
        assert_eq!(px(&frame, 1, 3), [0.0, 0.0, 0.0], "a transparent sprite changes nothing");
    }

    #[test]
    fn gain_and_noise_are_applied_and_clamped() {
        let frame = Frame { width: 100, height: 100, data: vec![100.0; 100 * 100 * 3] };
        let out = frame.to_rgb8(2.0, 0.0, &mut Rng::new(1));
        assert!(out.iter().all(|&v| v == 200));
        let noisy = frame.to_rgb8(1.0, 5.0, &mut Rng::new(1));
        let mean = noisy.iter().map(|&v| f64::from(v)).sum::<f64>() / noisy.len() as f64;
        let var = noisy.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / noisy.len() as f64;
        assert!((mean - 100.0).abs() < 0.5 && (var.sqrt() - 5.0).abs() < 0.6, "mean {mean} sd {}", var.sqrt());
    }
}
