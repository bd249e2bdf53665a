//! Snapshot redaction: the whole frame kept as evidence of a hit shows other vehicles and
//! passers-by who are not the hit. With redaction on (the default), their plates and every face
//! are pixelated before the frame is stored or exported: coarse blocks of the box's mean colour,
//! which, unlike a light blur, cannot be sharpened back into readable characters.

use raqib_models::RgbImage;
use raqib_models::face::Bbox;

/// Finds what to hide in a hit's frame; implemented with the models by the binary.
pub trait Redactor: Send {
    /// The frame with everything hidden except the plate in `keep`; `None` when the frame cannot
    /// be checked (then no frame is stored: the plate crop stays the only evidence).
    fn redact(&mut self, frame: &RgbImage, keep: &Bbox) -> Option<RgbImage>;
}

/// Pixelates `bbox` (grown by `grow` × its size on each side) into about `rows` blocks over its
/// height (blocks of at least 4 pixels).
pub fn pixelate(img: &mut RgbImage, bbox: &Bbox, grow: f32, rows: u32) {
    let (gw, gh) = ((bbox.x2 - bbox.x1) * grow, (bbox.y2 - bbox.y1) * grow);
    let x0 = (bbox.x1 - gw).max(0.0) as u32;
    let y0 = (bbox.y1 - gh).max(0.0) as u32;
    let x1 = ((bbox.x2 + gw).ceil().max(0.0) as u32).min(img.width);
    let y1 = ((bbox.y2 + gh).ceil().max(0.0) as u32).min(img.height);
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let block = ((y1 - y0) / rows.max(1)).max(4);
    let w = img.width as usize;
    for by in (y0..y1).step_by(block as usize) {
        for bx in (x0..x1).step_by(block as usize) {
            let (ex, ey) = ((bx + block).min(x1), (by + block).min(y1));
            let mut sum = [0u64; 3];
            for y in by..ey {
                for x in bx..ex {
                    let i = (y as usize * w + x as usize) * 3;
                    for (s, &v) in sum.iter_mut().zip(&img.data[i..i + 3]) {
                        *s += u64::from(v);
                    }
                }
            }
            let n = u64::from((ex - bx) * (ey - by)).max(1);
            let mean = sum.map(|s| (s / n) as u8);
            for y in by..ey {
                for x in bx..ex {
                    let i = (y as usize * w + x as usize) * 3;
                    img.data[i..i + 3].copy_from_slice(&mean);
                }
            }
        }
    }
}

/// Hides every box in `plates` that is not the kept plate (IoU < 0.3) and every box in `faces`.
pub fn hide_all_but(frame: &RgbImage, keep: &Bbox, plates: &[Bbox], faces: &[Bbox]) -> RgbImage {
    let mut out = frame.clone();
    for p in plates.iter().filter(|p| p.iou(keep) < 0.3) {
        pixelate(&mut out, p, 0.15, 3); // a character spans less than a block: unreadable
    }
    for f in faces {
        pixelate(&mut out, f, 0.2, 5); // eyes, nose, mouth fall into one or two blocks
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn striped(w: u32, h: u32) -> RgbImage {
        let data = (0..w * h).flat_map(|i| if (i % w).is_multiple_of(2) { [255u8; 3] } else { [0u8; 3] }).collect();
        RgbImage { width: w, height: h, data }
    }

    #[test]
    fn pixelation_flattens_the_box_and_leaves_the_rest() {
        let img = striped(100, 60);
        let keep = Bbox { x1: 5.0, y1: 5.0, x2: 35.0, y2: 15.0 };
        let other = Bbox { x1: 50.0, y1: 30.0, x2: 90.0, y2: 50.0 };
        let out = hide_all_but(&img, &keep, &[keep, other], &[]);
        let px = |im: &RgbImage, x: u32, y: u32| im.data[((y * im.width + x) * 3) as usize];
        // The kept plate keeps its stripes; the other one is flat grey blocks.
        assert_eq!((px(&out, 10, 10), px(&out, 11, 10)), (255, 0));
        let a = px(&out, 60, 40);
        assert!((100..=160).contains(&a), "{a}");
        assert_eq!(px(&out, 60, 40), px(&out, 61, 40));
        // Outside every box nothing changed.
        assert_eq!((px(&out, 2, 58), px(&out, 3, 58)), (255, 0));
        // Boxes outside the image are ignored.
        let mut img = striped(10, 10);
        pixelate(&mut img, &Bbox { x1: 50.0, y1: 50.0, x2: 60.0, y2: 60.0 }, 0.1, 4);
        assert_eq!(img.data, striped(10, 10).data);
    }
}
