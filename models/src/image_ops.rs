//! Image loading and the pixel operations the models need: bilinear sampling, resizing and
//! affine warping straight into normalised NCHW tensors (one pass, no intermediate images).

use std::path::Path;

use ndarray::Array4;

use crate::error::{Error, Result};

/// An 8-bit RGB image, row-major.
#[derive(Debug, Clone)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes, RGB.
    pub data: Vec<u8>,
}

/// Largest image accepted, in pixels (guards against decompression bombs in uploads).
pub const MAX_PIXELS: u64 = 64_000_000;

impl RgbImage {
    /// Decodes a JPEG or PNG file.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(Error::io("reading", path))?;
        Self::decode(&bytes).map_err(|e| match e {
            Error::Image(msg) => Error::Image(format!("{}: {msg}", path.display())),
            other => other,
        })
    }

    /// Decodes JPEG or PNG bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::Image(e.to_string()))?;
        let (w, h) =
            reader.into_dimensions().map_err(|e| Error::Image(format!("not a JPEG, PNG or WebP image ({e})")))?;
        if u64::from(w) * u64::from(h) > MAX_PIXELS {
            return Err(Error::Image(format!("{w}×{h} is larger than {MAX_PIXELS} pixels")));
        }
        let img = image::load_from_memory(bytes).map_err(|e| Error::Image(e.to_string()))?.to_rgb8();
        Ok(RgbImage { width: img.width(), height: img.height(), data: img.into_raw() })
    }

    /// This image in the middle of a `pad`-pixel border of grey level `grey` on every side.
    pub fn padded(&self, pad: u32, grey: u8) -> RgbImage {
        let (w, h) = (self.width + 2 * pad, self.height + 2 * pad);
        let mut data = vec![grey; (w as usize) * (h as usize) * 3];
        let row = self.width as usize * 3;
        for y in 0..self.height as usize {
            let at = ((y + pad as usize) * w as usize + pad as usize) * 3;
            data[at..at + row].copy_from_slice(&self.data[y * row..(y + 1) * row]);
        }
        RgbImage { width: w, height: h, data }
    }

    /// Bilinear sample of channel `c` at (x, y) in pixel-centre coordinates; outside is clamped.
    #[inline]
    pub fn sample(&self, x: f32, y: f32, c: usize) -> f32 {
        let (w, h) = (self.width as i32, self.height as i32);
        let x = x.clamp(0.0, (w - 1) as f32);
        let y = y.clamp(0.0, (h - 1) as f32);
        let (x0, y0) = (x.floor() as i32, y.floor() as i32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let px = |xx: i32, yy: i32| f32::from(self.data[((yy * w + xx) * 3) as usize + c]);
        let top = px(x0, y0) * (1.0 - fx) + px(x1, y0) * fx;
        let bottom = px(x0, y1) * (1.0 - fx) + px(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// Bilinear grey (BT.601 luma: 0.299 R + 0.587 G + 0.114 B) at (x, y), pixel-centre
    /// coordinates, clamped like [`RgbImage::sample`].
    #[inline]
    pub fn luma(&self, x: f32, y: f32) -> f32 {
        0.299 * self.sample(x, y, 0) + 0.587 * self.sample(x, y, 1) + 0.114 * self.sample(x, y, 2)
    }
}

/// Maps output pixel (x, y) to a source position.
pub type SourceOf<'a> = &'a dyn Fn(f32, f32) -> (f32, f32);

/// Channel layout of a model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    /// Red, green, blue planes.
    Rgb,
    /// Blue, green, red planes (models trained on OpenCV-loaded images).
    Bgr,
    /// One luma plane (BT.601).
    Grey,
}

/// Fills a `[1, c, h, w]` tensor by sampling `img` at `source(x, y)` for each output pixel,
/// normalised as `(v - mean) / std`.
pub fn sample_tensor(
    img: &RgbImage,
    w: usize,
    h: usize,
    channels: Channels,
    mean: f32,
    std: f32,
    source: SourceOf,
) -> Array4<f32> {
    let planes = if channels == Channels::Grey { 1 } else { 3 };
    let mut t = Array4::<f32>::zeros((1, planes, h, w));
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = source(x as f32, y as f32);
            match channels {
                Channels::Grey => {
                    let v = img.luma(sx, sy);
                    t[[0, 0, y, x]] = (v - mean) / std;
                }
                Channels::Rgb | Channels::Bgr => {
                    for c in 0..3 {
                        let src = if channels == Channels::Bgr { 2 - c } else { c };
                        t[[0, c, y, x]] = (img.sample(sx, sy, src) - mean) / std;
                    }
                }
            }
        }
    }
    t
}

/// Resizes the rectangle (x0, y0, rw, rh) of `img` to a `[1, c, h, w]` tensor, bilinear with
/// pixel centres aligned (as OpenCV's `INTER_LINEAR`; the same values as [`sample_tensor`] with
/// the matching source map), normalised as `(v - mean) / std`. Separable: column and row weights
/// are computed once and the tensor is written in one pass, so it costs a few ms at 960 × 960
/// instead of tens.
pub fn resize_tensor(
    img: &RgbImage,
    (x0, y0, rw, rh): (f32, f32, f32, f32),
    w: usize,
    h: usize,
    channels: Channels,
    mean: f32,
    std: f32,
) -> Array4<f32> {
    let taps = |start: f32, len: f32, n: usize, max: i32| -> Vec<(usize, usize, f32)> {
        let scale = len / n as f32;
        (0..n)
            .map(|i| {
                let s = (start + (i as f32 + 0.5) * scale - 0.5).clamp(0.0, max as f32);
                let a = s.floor() as i32;
                (a as usize, (a + 1).min(max) as usize, s - a as f32)
            })
            .collect()
    };
    let cols = taps(x0, rw, w, img.width as i32 - 1);
    let rows = taps(y0, rh, h, img.height as i32 - 1);
    let planes = if channels == Channels::Grey { 1 } else { 3 };
    let mut out = vec![0f32; planes * h * w];
    let stride = img.width as usize * 3;
    let inv = 1.0 / std;
    let mut row_px = vec![0f32; w * 3];
    for (y, &(ya, yb, fy)) in rows.iter().enumerate() {
        let (ra, rb) = (&img.data[ya * stride..][..stride], &img.data[yb * stride..][..stride]);
        for (x, &(xa, xb, fx)) in cols.iter().enumerate() {
            for c in 0..3 {
                let p = |r: &[u8], xx: usize| f32::from(r[xx * 3 + c]);
                let top = p(ra, xa) + (p(ra, xb) - p(ra, xa)) * fx;
                let bottom = p(rb, xa) + (p(rb, xb) - p(rb, xa)) * fx;
                row_px[x * 3 + c] = top + (bottom - top) * fy;
            }
        }
        match channels {
            Channels::Grey => {
                let dst = &mut out[y * w..][..w];
                for (x, d) in dst.iter_mut().enumerate() {
                    let v = 0.299 * row_px[x * 3] + 0.587 * row_px[x * 3 + 1] + 0.114 * row_px[x * 3 + 2];
                    *d = (v - mean) * inv;
                }
            }
            Channels::Rgb | Channels::Bgr => {
                for c in 0..3 {
                    let src = if channels == Channels::Bgr { 2 - c } else { c };
                    let dst = &mut out[(c * h + y) * w..][..w];
                    for (x, d) in dst.iter_mut().enumerate() {
                        *d = (row_px[x * 3 + src] - mean) * inv;
                    }
                }
            }
        }
    }
    Array4::from_shape_vec((1, planes, h, w), out).unwrap_or_else(|_| Array4::zeros((1, planes, h, w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source mapping for resizing the rectangle (x0, y0, rw, rh) of the image to w × h (pixel
    /// centres aligned, as OpenCV's `INTER_LINEAR`).
    fn resize_map(x0: f32, y0: f32, rw: f32, rh: f32, w: usize, h: usize) -> impl Fn(f32, f32) -> (f32, f32) {
        let (sx, sy) = (rw / w as f32, rh / h as f32);
        move |x, y| (x0 + (x + 0.5) * sx - 0.5, y0 + (y + 0.5) * sy - 0.5)
    }

    fn gradient(w: u32, h: u32) -> RgbImage {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 10) as u8, (y * 10) as u8, 128]);
            }
        }
        RgbImage { width: w, height: h, data }
    }

    #[test]
    fn bilinear_interpolates_and_clamps() {
        let img = gradient(5, 5);
        assert_eq!(img.sample(1.5, 0.0, 0), 15.0);
        assert_eq!(img.sample(0.0, 2.25, 1), 22.5);
        assert_eq!(img.sample(-3.0, 99.0, 1), 40.0);
    }

    #[test]
    fn resize_to_same_size_is_identity() {
        let img = gradient(8, 6);
        let map = resize_map(0.0, 0.0, 8.0, 6.0, 8, 6);
        let t = sample_tensor(&img, 8, 6, Channels::Rgb, 0.0, 1.0, &map);
        assert_eq!(t[[0, 0, 3, 7]], 70.0);
        assert_eq!(t[[0, 1, 5, 2]], 50.0);
        let bgr = sample_tensor(&img, 8, 6, Channels::Bgr, 0.0, 1.0, &map);
        assert_eq!((bgr[[0, 0, 3, 7]], bgr[[0, 2, 3, 7]]), (128.0, 70.0));
        let grey = sample_tensor(&img, 8, 6, Channels::Grey, 0.0, 256.0, &map);
        assert!((grey[[0, 0, 0, 0]] - 0.114 * 128.0 / 256.0).abs() < 1e-5);
    }

    #[test]
    fn separable_resize_equals_sampled_resize() {
        let mut img = gradient(37, 23);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = (i * 31 % 251) as u8; // not separable, so both code paths are really exercised
        }
        for (rect, w, h) in
            [((0.0, 0.0, 37.0, 23.0), 16, 12), ((3.5, 2.0, 20.0, 11.0), 40, 30), ((0.0, 0.0, 37.0, 23.0), 37, 23)]
        {
            for ch in [Channels::Rgb, Channels::Bgr, Channels::Grey] {
                let fast = resize_tensor(&img, rect, w, h, ch, 127.0, 128.0);
                let map = resize_map(rect.0, rect.1, rect.2, rect.3, w, h);
                let slow = sample_tensor(&img, w, h, ch, 127.0, 128.0, &map);
                let max = fast.iter().zip(slow.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                assert!(max < 1e-4, "{ch:?} {rect:?} {w}x{h}: max diff {max}");
            }
        }
    }

    #[test]
    fn rejects_non_images() {
        assert!(matches!(RgbImage::decode(b"definitely not a jpeg"), Err(Error::Image(_))));
    }
}
