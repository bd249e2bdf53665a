//! Brazil's two plate designs, told apart by the plate itself.
//!
//! An old grey Brazilian plate reads `ABC1234`; a Mercosul plate (issued since 2018) reads
//! `ABC1D23`, whose fifth character is a letter. Both are valid formats, so when the recogniser
//! half-sees a Mercosul plate's `O`, `D` or `B` as `0` or `8` the read still parses as an old
//! plate and no grammar can catch it (the sample scene's `EWV3O37` was voted `EWV-3037`). The
//! design says which it is: a Mercosul plate carries a solid blue band across its top (`BRASIL`),
//! the old plates none. [`has_top_band`] looks for that band on and just above a plate's box (the
//! detector's box holds the whole plate, a text region only its characters), and
//! [`as_mercosur`] turns an old-format read of such a plate into the Mercosul read its fifth
//! position allows: the likeliest Latin letter among that position's alternatives, else the
//! letter the digit is drawn like.
//!
//! Other plates are left alone: a European band is a vertical strip at one side (the rows across
//! the plate are not blue), a US state name in blue is letters on white (far less than most of
//! a row), and a plate blue all over (Delaware) is blue where its characters are too.

use raqib_core::{PlateFormat, PlateText};

use super::ctc::CharRead;
use crate::face::Bbox;
use crate::image_ops::RgbImage;

/// A row belongs to the band when at least this share of its pixels (across the middle 80 % of
/// the box's width) is blue.
const BLUE_ROW_SHARE: f32 = 0.6;
/// Rows searched: from this many box heights above the box's top …
const ABOVE: f32 = 0.6;
/// … to this share of the box's height below its top.
const INTO: f32 = 0.35;
/// The band is at least this share of the box's height tall (and two rows) …
const MIN_BAND: f32 = 0.05;
/// … and at most this share (a plate blue all over has no band).
const MAX_BAND: f32 = 0.45;
/// A blue row whose blue differs from the run above it by more than this share starts a new run.
const BLUE_STEP: f32 = 0.2;
/// Rows of the character area sampled to make sure the plate is not blue all over.
const BODY: (f32, f32) = (0.55, 0.85);

/// Digits and the letter each is drawn like, for a fifth position whose alternatives hold no
/// letter (the same look-alikes the watchlist's fuzzy match forgives).
const LOOKALIKE: [(char, char); 8] =
    [('0', 'O'), ('1', 'I'), ('2', 'Z'), ('4', 'A'), ('5', 'S'), ('6', 'G'), ('7', 'T'), ('8', 'B')];

/// Whether pixel (x, y) of `img` is plate-band blue: a saturated blue, red well under it and
/// green clearly under it (a bluish white balance makes a silver car or a grey plate blue-ish,
/// not saturated).
fn blue(img: &RgbImage, x: u32, y: u32) -> bool {
    let at = ((y * img.width + x) * 3) as usize;
    let (r, g, b) = (u32::from(img.data[at]), u32::from(img.data[at + 1]), u32::from(img.data[at + 2]));
    b >= 60 && 20 * r <= 9 * b && 4 * g <= 3 * b
}

/// Share of blue pixels in image row `y` between `x1` and `x2`, and their mean blue value.
fn blue_row(img: &RgbImage, y: u32, x1: u32, x2: u32) -> (f32, f32) {
    let n = x2.saturating_sub(x1);
    if n == 0 {
        return (0.0, 0.0);
    }
    let (count, sum) = (x1..x2)
        .filter(|&x| blue(img, x, y))
        .fold((0u32, 0u32), |(c, s), x| (c + 1, s + u32::from(img.data[((y * img.width + x) * 3 + 2) as usize])));
    (count as f32 / n as f32, if count == 0 { 0.0 } else { sum as f32 / count as f32 })
}

/// Share of blue pixels in image row `y` between `x1` and `x2`.
fn blue_share(img: &RgbImage, y: u32, x1: u32, x2: u32) -> f32 {
    blue_row(img, y, x1, x2).0
}

/// Whether a solid blue band runs across the top of the plate in `bbox` of `img` (on the box's
/// upper part or just above it), with the plate's character rows not blue.
pub fn has_top_band(img: &RgbImage, bbox: &Bbox) -> bool {
    let (w, h) = (img.width as f32, img.height as f32);
    let bh = bbox.height();
    if bh < 4.0 || bbox.width() < 8.0 || w < 1.0 || h < 1.0 {
        return false;
    }
    let margin = 0.1 * bbox.width();
    let x1 = (bbox.x1 + margin).clamp(0.0, w - 1.0) as u32;
    let x2 = (bbox.x2 - margin).clamp(0.0, w) as u32;
    let row = |y: f32| -> Option<u32> { (y >= 0.0 && y < h).then_some(y as u32) };
    let body_blue = (0..4)
        .filter_map(|i| row(bbox.y1 + bh * (BODY.0 + (BODY.1 - BODY.0) * i as f32 / 3.0)))
        .any(|y| blue_share(img, y, x1, x2) >= BLUE_ROW_SHARE);
    if body_blue {
        return false;
    }
    let top = (bbox.y1 - ABOVE * bh).max(0.0) as u32;
    let bottom = ((bbox.y1 + INTO * bh).min(h)) as u32;
    // The band is the run of blue rows nearest the characters (the last one above them); a run
    // is cut where its blue changes brightness by a step, so that on a blue car the band's blue
    // is told from the body's right above the plate.
    let (mut run, mut last, mut level) = (0u32, 0u32, 0.0f32);
    for y in top..bottom {
        let (share, b) = blue_row(img, y, x1, x2);
        if share < BLUE_ROW_SHARE {
            run = 0;
            continue;
        }
        if run > 0 && (b - level).abs() > BLUE_STEP * level.max(1.0) {
            run = 0;
        }
        level = if run == 0 { b } else { level + (b - level) / (run + 1) as f32 };
        run += 1;
        // A lone row is the blend of the band's edge with the plate, not a band of its own.
        if run >= 2 {
            last = run;
        }
    }
    let band = last as f32;
    band >= 2.0 && band >= MIN_BAND * bh && band <= MAX_BAND * bh
}

/// The Mercosul read of an old-format Brazilian read `chars` (`ABC1234`): its fifth character
/// replaced by the likeliest Latin letter among that position's alternatives, or by the letter
/// the digit is drawn like; `None` when the read is not an old Brazilian plate of seven
/// characters or the fifth position has no letter to offer.
pub fn as_mercosur(plate: &PlateText, chars: &[CharRead]) -> Option<(PlateText, Vec<CharRead>)> {
    // The characters of the plate, not a separator the recogniser may have read between groups.
    let places: Vec<usize> =
        (0..chars.len()).filter(|&i| chars[i].text.chars().all(|c| c.is_ascii_alphanumeric())).collect();
    if plate.format() != PlateFormat::BrazilOld || places.len() != 7 {
        return None;
    }
    let fifth = &chars[places[4]];
    let letter = fifth
        .alternatives
        .iter()
        .find(|a| a.text.len() == 1 && a.text.as_bytes()[0].is_ascii_uppercase())
        .map(|a| (a.text.clone(), a.p))
        .or_else(|| {
            let digit = fifth.text.chars().next()?;
            LOOKALIKE.iter().find(|(d, _)| *d == digit).map(|(_, l)| (l.to_string(), fifth.confidence))
        })?;
    let mut chars = chars.to_vec();
    let step = chars[places[4]].step;
    chars[places[4]] = CharRead { text: letter.0, confidence: letter.1, alternatives: Vec::new(), step };
    let text: String = chars.iter().map(|c| c.text.as_str()).collect();
    let read = PlateText::parse(&text, None).ok()?;
    (read.format() == PlateFormat::BrazilMercosur).then_some((read, chars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate::ctc::Alternative;

    fn image(w: u32, h: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&paint(x, y));
            }
        }
        RgbImage { width: w, height: h, data }
    }

    const WHITE: [u8; 3] = [235, 235, 230];
    const BAND: [u8; 3] = [10, 60, 160];

    #[test]
    fn a_blue_band_across_the_top_is_found_on_the_box_or_above_it() {
        // A 200 × 60 plate at (50, 40): band on its top fifth, black characters below.
        let plate = image(300, 140, |x, y| match (x, y) {
            (50..250, 40..52) => BAND,
            (60..240, 60..95) if x % 20 < 8 => [20, 20, 20],
            _ => WHITE,
        });
        let whole = Bbox { x1: 50.0, y1: 40.0, x2: 250.0, y2: 100.0 };
        assert!(has_top_band(&plate, &whole));
        // A text region on the characters only: the band is above it.
        let text = Bbox { x1: 58.0, y1: 58.0, x2: 242.0, y2: 97.0 };
        assert!(has_top_band(&plate, &text));
    }

    #[test]
    fn a_band_on_a_blue_car_is_found_and_a_blue_car_over_a_plain_plate_is_not() {
        const CAR: [u8; 3] = [17, 47, 111];
        let whole = Bbox { x1: 50.0, y1: 40.0, x2: 250.0, y2: 100.0 };
        let mercosul = image(300, 140, |x, y| match (x, y) {
            (50..250, 40..52) => BAND,
            (60..240, 60..95) if x % 20 < 8 => [20, 20, 20],
            (50..250, 52..100) => WHITE,
            _ => CAR,
        });
        assert!(has_top_band(&mercosul, &whole));
        let old = image(300, 140, |x, y| match (x, y) {
            (60..240, 56..95) if x % 20 < 8 => [20, 20, 20],
            (50..250, 40..100) => [190, 190, 185],
            _ => CAR,
        });
        assert!(!has_top_band(&old, &whole));
    }

    #[test]
    fn side_bands_blue_text_and_blue_plates_are_not_a_top_band() {
        let whole = Bbox { x1: 50.0, y1: 40.0, x2: 250.0, y2: 100.0 };
        let eu = image(300, 140, |x, y| if (50..70).contains(&x) && (40..100).contains(&y) { BAND } else { WHITE });
        assert!(!has_top_band(&eu, &whole));
        let state_name = image(300, 140, |x, y| match (x, y) {
            (100..200, 42..52) if x % 9 < 3 => BAND,
            _ => WHITE,
        });
        assert!(!has_top_band(&state_name, &whole));
        let all_blue = image(300, 140, |x, y| match (x, y) {
            (50..250, 40..100) if !((60..240).contains(&x) && (60..95).contains(&y) && x % 20 < 8) => BAND,
            _ => WHITE,
        });
        assert!(!has_top_band(&all_blue, &whole));
        assert!(!has_top_band(&image(300, 140, |_, _| WHITE), &whole));
    }

    fn chars(text: &str, fifth_alternatives: &[(&str, f32)]) -> Vec<CharRead> {
        text.chars()
            .enumerate()
            .map(|(i, c)| CharRead {
                text: c.to_string(),
                confidence: 0.9,
                alternatives: if i == 4 {
                    fifth_alternatives.iter().map(|(t, p)| Alternative { text: (*t).to_owned(), p: *p }).collect()
                } else {
                    Vec::new()
                },
                step: i * 4,
            })
            .collect()
    }

    #[test]
    fn an_old_format_read_becomes_mercosul_by_its_fifth_position() {
        let old = PlateText::parse("EWV3037", None).unwrap();
        assert_eq!(old.format(), PlateFormat::BrazilOld);
        // The alternatives offer a letter: the likeliest one is taken.
        let (m, c) = as_mercosur(&old, &chars("EWV3037", &[("8", 0.2), ("D", 0.05), ("O", 0.03)])).unwrap();
        assert_eq!((m.key(), m.format()), ("EWV3D37", PlateFormat::BrazilMercosur));
        assert_eq!(c[4].text, "D");
        // None does: the letter a zero is drawn like.
        let (m, _) = as_mercosur(&old, &chars("EWV3037", &[])).unwrap();
        assert_eq!(m.key(), "EWV3O37");
        // A digit with no look-alike letter and no letter among its alternatives: no change.
        let old9 = PlateText::parse("EWV3937", None).unwrap();
        assert!(as_mercosur(&old9, &chars("EWV3937", &[("8", 0.1)])).is_none());
        // A separator read between the groups is not a character of the plate.
        let mut dashed = chars("EWV3037", &[]);
        dashed.insert(3, CharRead { text: "-".into(), confidence: 0.8, alternatives: Vec::new(), step: 13 });
        let (m, c) = as_mercosur(&old, &dashed).unwrap();
        assert_eq!((m.key(), c[5].text.as_str()), ("EWV3O37", "O"));
        // Not an old Brazilian read: no change.
        let fr = PlateText::parse("AB-123-CD", None).unwrap();
        assert!(as_mercosur(&fr, &chars("AB123CD", &[])).is_none());
    }
}
