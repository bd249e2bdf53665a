//! The recogniser's input is computed exactly as in training: Rust preprocessing of a committed
//! sample plate against `training/plate_ocr/preprocess.py` (fixture written by its `fixture.py`).
//! Tolerance 2e-3 per value (float32 vs float64 bilinear arithmetic), 0.5 on the sum of 5120.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;

use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use raqib_models::plate::ocr::{Crop, Layout, crop_input};

#[test]
fn preprocessing_matches_training() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!("fixtures/ocr_input.json")).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let img = RgbImage::open(&root.join(fixture["image"].as_str().unwrap())).unwrap();
    let b: Vec<f32> = fixture["box"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    let bbox = Bbox { x1: b[0], y1: b[1], x2: b[2], y2: b[3] };
    for (name, layout) in [("one_row", Layout::OneRow), ("two_rows", Layout::TwoRows)] {
        let t = crop_input(&img, &[Crop { bbox, layout }], (32, 160), (0.6, 0.4));
        let want = &fixture[name];
        let sum: f64 = t.iter().map(|v| f64::from(*v)).sum();
        assert!((sum - want["sum"].as_f64().unwrap()).abs() < 0.5, "{name}: sum {sum} vs {}", want["sum"]);
        for (i, w) in want["row_16"].as_array().unwrap().iter().enumerate() {
            let got = t[[0, 0, 16, i * 10]];
            assert!((f64::from(got) - w.as_f64().unwrap()).abs() < 2e-3, "{name}: [16, {}] {got} vs {w}", i * 10);
        }
    }
}
