//! Builders shared by the crate's unit tests.

use raqib_core::PlateText;
use raqib_models::face::Bbox;
use raqib_models::plate::ctc::{Alternative, CharRead};
use raqib_models::plate::{Layout, PlateRead};

/// A read of `text` (any spelling [`PlateText::parse`] takes) in the box (0, 0)–(10, 5): one
/// character per key position with confidence `confs[i]`, and at position `alt.0` the runner-up
/// `alt.1` with probability `alt.2`. The read's confidence is the mean of `confs`.
pub fn plate_read(text: &str, confs: &[f32], alt: Option<(usize, &str, f32)>) -> PlateRead {
    let plate = PlateText::parse(text, None).unwrap();
    let chars: Vec<CharRead> = plate
        .key()
        .chars()
        .zip(confs)
        .enumerate()
        .map(|(i, (c, &p))| CharRead {
            text: c.to_string(),
            confidence: p,
            alternatives: match alt {
                Some((at, a, q)) if at == i => vec![Alternative { text: a.into(), p: q }],
                _ => vec![],
            },
            step: i,
        })
        .collect();
    PlateRead {
        bbox: Bbox { x1: 0.0, y1: 0.0, x2: 10.0, y2: 5.0 },
        raw: plate.key().into(),
        plate,
        confidence: confs.iter().sum::<f32>() / confs.len() as f32,
        layout: Layout::OneRow,
        chars,
    }
}
