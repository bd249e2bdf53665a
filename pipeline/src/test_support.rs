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

/// A voted read of `text` as the analysis hands it on, hitting a `stolen_vehicle` entry of that
/// plate when `hit`.
pub fn plate_outcome(text: &str, hit: bool) -> crate::stream::Outcome {
    use raqib_watchlist::{Actor, MatchKind, NewPlateEntry, PlateMatch, Store};
    let plate = PlateText::parse(text, None).unwrap();
    let read = raqib_events::records::PlateEvent {
        track: 1,
        plate: plate.clone(),
        confidence: 0.9,
        reads: 5,
        frames: 6,
        first_seen_s: Some(1.0),
        last_seen_s: Some(2.0),
        best_frame: 10,
        best_time_s: Some(1.5),
        bbox: Bbox { x1: 0.0, y1: 0.0, x2: 10.0, y2: 5.0 },
        crop_jpeg: vec![0xFF, 0xD8],
        positions: vec![],
        frame_image: None,
    };
    let hits = if hit {
        let mut store = Store::open_in_memory().unwrap();
        let new = NewPlateEntry { plate: text.into(), category: "stolen_vehicle".into(), ..NewPlateEntry::default() };
        let entry = store.add_plate(&new, Actor::new("test", Some("unit test"))).unwrap();
        vec![PlateMatch { entry, kind: MatchKind::Exact, distance: 0.0, score: 1.0, edits: vec![] }]
    } else {
        vec![]
    };
    crate::stream::Outcome::Plate { read, hits }
}
