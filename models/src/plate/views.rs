//! Test-time views: a plate crop read several ways and the reads voted on.
//!
//! One crop of a real plate is a noisy measurement: a margin a few pixels tighter or looser, or
//! the plate read along its own axis instead of its axis-aligned box, often flips one
//! look-alike character. [`PlateReader::read_views`] reads each crop as given, a little tighter
//! and a little looser vertically, and — when the text is skewed ([`super::deskew`]) — along the
//! text line (counted twice: it is the cleanest view of a tilted plate), then keeps the text
//! most views agree on. It costs 3–4 recogniser crops per plate, so the finder spends it only on
//! the plates it keeps, not on every candidate region; video uses [`Views::Tilted`] only (one
//! more crop, for tilted plates alone), since voting over a track's frames does the rest.

use super::deskew::{self, Oriented};
use super::ocr::{Crop, Layout, OcrRead, PlateReader, fill, fits_a_format};
use crate::error::Result;
use crate::face::Bbox;
use crate::image_ops::RgbImage;

/// Which views [`PlateReader::read_views`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Views {
    /// The crop as cut only (no re-reading).
    One,
    /// As cut, plus the view along the text line when the text is tilted. For video: voting
    /// over a track's frames already averages out what the tighter and looser views would, but
    /// not the error every frame of a tilted plate makes alike.
    Tilted,
    /// As cut, tighter, looser, and along the text line when tilted (still images).
    #[default]
    All,
}

/// Tighter and looser views move the top and bottom edges by this share of the crop's height.
pub const MARGIN_STEP: f32 = 0.08;
/// Votes of the view along a skewed plate's own axis.
const SKEW_WEIGHT: u32 = 2;

/// Where one view's pixels come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// An axis-aligned crop.
    Box(Crop),
    /// An oriented rectangle (one row).
    Tilted(Oriented),
}

/// One view of crop `of`, with its votes.
struct View {
    of: usize,
    source: Source,
    votes: u32,
}

impl PlateReader {
    /// Reads each crop from the views `which` asks for and returns, per crop, the voted read
    /// (a read fitting a plate format first, then votes, then confidence; see the module
    /// documentation).
    pub fn read_views(&mut self, img: &RgbImage, crops: &[Crop], which: Views) -> Result<Vec<OcrRead>> {
        let tilts = if which == Views::One { vec![None; crops.len()] } else { tilts(img, crops) };
        Ok(self.read_views_tilted(img, crops, &tilts, which)?.0)
    }

    /// [`PlateReader::read_views`] with each crop's tilt already known (from [`tilts`]); also
    /// returns how many inputs the recogniser read.
    pub fn read_views_tilted(
        &mut self,
        img: &RgbImage,
        crops: &[Crop],
        tilts: &[Option<Oriented>],
        which: Views,
    ) -> Result<(Vec<OcrRead>, usize)> {
        let views = views_of(crops, tilts, which);
        let ((h, w), (top_end, bottom_start)) = (self.input_size(), self.two_row_split());
        let reads = self.read_each(
            views.len(),
            |i| layout_of(&views[i].source),
            |i, plane| match views[i].source {
                Source::Box(crop) => fill(img, &crop, plane, w, h, top_end, bottom_start),
                Source::Tilted(o) => fill_oriented(img, &o, plane, w, h),
            },
        )?;
        Ok((vote(crops.len(), &views, reads), views.len()))
    }
}

/// Per crop, the oriented crop along its text line when it is a one-row crop whose text is
/// tilted ([`deskew::estimate`]), else `None`.
pub fn tilts(img: &RgbImage, crops: &[Crop]) -> Vec<Option<Oriented>> {
    crops.iter().map(|c| if c.layout == Layout::OneRow { deskew::estimate(img, &c.bbox) } else { None }).collect()
}

/// The views of every crop, in crop order; `tilts` from [`tilts`].
fn views_of(crops: &[Crop], tilts: &[Option<Oriented>], which: Views) -> Vec<View> {
    let mut views = Vec::with_capacity(crops.len() * 4);
    for (of, (crop, tilt)) in crops.iter().zip(tilts).enumerate() {
        let b = crop.bbox;
        let pad = MARGIN_STEP * b.height();
        let tighter = Bbox { y1: b.y1 + pad, y2: b.y2 - pad, ..b };
        let looser = Bbox { y1: b.y1 - pad, y2: b.y2 + pad, ..b };
        let boxes = if which == Views::All { vec![b, tighter, looser] } else { vec![b] };
        for bbox in boxes {
            views.push(View { of, source: Source::Box(Crop { bbox, ..*crop }), votes: 1 });
        }
        if which != Views::One
            && let Some(o) = tilt
        {
            views.push(View { of, source: Source::Tilted(*o), votes: SKEW_WEIGHT });
        }
    }
    views
}

fn layout_of(source: &Source) -> Layout {
    match source {
        Source::Box(c) => c.layout,
        Source::Tilted(_) => Layout::OneRow,
    }
}

/// Per crop: a text that fits a known plate format before one that fits none (a view that reads
/// a plate beats views that read noise), then the text with the most votes, then the most
/// confident; among the reads of that text, the most confident.
fn vote(crops: usize, views: &[View], reads: Vec<OcrRead>) -> Vec<OcrRead> {
    let mut best: Vec<Vec<(OcrRead, u32)>> = (0..crops).map(|_| Vec::new()).collect();
    for (view, read) in views.iter().zip(reads) {
        let tally = &mut best[view.of];
        match tally.iter_mut().find(|(r, _)| r.text == read.text) {
            Some((kept, votes)) => {
                *votes += view.votes;
                if read.confidence > kept.confidence {
                    *kept = read;
                }
            }
            None => tally.push((read, view.votes)),
        }
    }
    best.into_iter()
        .map(|tally| {
            tally
                .into_iter()
                .map(|(read, votes)| ((fits_a_format(&read.text), votes), read))
                .max_by(|a, b| a.0.cmp(&b.0).then(a.1.confidence.total_cmp(&b.1.confidence)))
                .map(|(_, read)| read)
                .unwrap_or_else(|| OcrRead {
                    text: String::new(),
                    format_decoded: None,
                    confidence: 0.0,
                    chars: Vec::new(),
                    layout: Layout::OneRow,
                })
        })
        .collect()
}

/// Writes the oriented rectangle `o` into an `h × w` plane with the arithmetic of
/// [`fill`] (grey BT.601, bilinear, `(v / 255 − 0.5) / 0.5`), sampled along its own axes.
fn fill_oriented(img: &RgbImage, o: &Oriented, plane: &mut [f32], w: usize, h: usize) {
    for y in 0..h {
        let v = ((y as f32 + 0.5) / h as f32 - 0.5) * o.height;
        for x in 0..w {
            let u = ((x as f32 + 0.5) / w as f32 - 0.5) * o.width;
            // Rectangle coordinates are pixel edges; `sample` takes pixel centres.
            let (sx, sy) = o.source(u, v);
            let (sx, sy) = (sx - 0.5, sy - 0.5);
            plane[y * w + x] = (img.luma(sx, sy) / 255.0 - 0.5) / 0.5;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, confidence: f32) -> OcrRead {
        OcrRead { text: text.into(), format_decoded: None, confidence, chars: Vec::new(), layout: Layout::OneRow }
    }

    fn view(of: usize, votes: u32) -> View {
        let bbox = Bbox { x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0 };
        View { of, source: Source::Box(Crop { bbox, layout: Layout::OneRow }), votes }
    }

    #[test]
    fn the_text_most_views_agree_on_wins_then_confidence() {
        let views = [view(0, 1), view(0, 1), view(0, 1), view(1, 1), view(1, 2), view(2, 1), view(2, 1)];
        let reads = vec![
            read("12345ب6", 0.7),
            read("12845ب6", 0.95),
            read("12345ب6", 0.8),
            read("AB123", 0.9),
            read("AB128", 0.6),
            read("X2", 0.6),
            read("X1", 0.5),
        ];
        let out = vote(3, &views, reads);
        assert_eq!((out[0].text.as_str(), out[0].confidence), ("12345ب6", 0.8));
        assert_eq!(out[1].text, "AB128", "the deskewed view's two votes beat one");
        assert_eq!(out[2].text, "X2", "a tie goes to the more confident read");
    }

    #[test]
    fn a_read_that_fits_a_plate_format_beats_more_votes_for_one_that_does_not() {
        let views = [view(0, 1), view(0, 1), view(0, 2)];
        let reads = vec![read("3966359", 0.9), read("3966359", 0.9), read("39669أ59", 0.7)];
        assert_eq!(vote(1, &views, reads)[0].text, "39669أ59");
    }

    #[test]
    fn a_skewed_crop_gets_a_view_along_its_axis_and_a_level_one_does_not() {
        let (w, h) = (200usize, 80usize);
        let mut data = vec![255u8; w * h * 3];
        for k in 0..8 {
            for v in 0..20 {
                for du in 0..3 {
                    // Strokes along a line falling 10° to the right.
                    let u = 20.0 + 20.0 * k as f32 + du as f32;
                    let (x, y) = (u, 20.0 + u * 10f32.to_radians().tan() + v as f32);
                    let i = (y as usize * w + x as usize) * 3;
                    data[i..i + 3].fill(0);
                }
            }
        }
        let img = RgbImage { width: w as u32, height: h as u32, data };
        let whole = Bbox { x1: 0.0, y1: 0.0, x2: w as f32, y2: h as f32 };
        let one_row = [Crop { bbox: whole, layout: Layout::OneRow }];
        let tilted_one = tilts(&img, &one_row);
        let all = views_of(&one_row, &tilted_one, Views::All);
        assert_eq!(all.len(), 4);
        assert!(matches!(all[3].source, Source::Tilted(_)) && all[3].votes == SKEW_WEIGHT);
        let tilted = views_of(&one_row, &tilted_one, Views::Tilted);
        assert_eq!(tilted.len(), 2);
        assert!(matches!(tilted[1].source, Source::Tilted(_)));
        assert_eq!(views_of(&one_row, &tilted_one, Views::One).len(), 1);
        let two_rows = [Crop { bbox: whole, layout: Layout::TwoRows }];
        let two = views_of(&two_rows, &tilts(&img, &two_rows), Views::All);
        assert_eq!(two.len(), 3, "two-row crops are not deskewed");
    }

    #[test]
    fn a_level_oriented_rectangle_fills_like_its_box() {
        let data: Vec<u8> = (0..8 * 4 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let img = RgbImage { width: 8, height: 4, data };
        let (mut a, mut b) = (vec![0f32; 4 * 2], vec![0f32; 4 * 2]);
        let crop = Crop { bbox: Bbox { x1: 0.0, y1: 0.0, x2: 8.0, y2: 4.0 }, layout: Layout::OneRow };
        fill(&img, &crop, &mut a, 4, 2, 0.6, 0.4);
        fill_oriented(&img, &Oriented { cx: 4.0, cy: 2.0, width: 8.0, height: 4.0, angle: 0.0 }, &mut b, 4, 2);
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }
}
