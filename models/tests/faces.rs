//! The face pipeline on real photos.
//!
//! Needs `make setup` (runtime and models; skipped with a message otherwise unless
//! `RAQIB_REQUIRE_RUNTIME=1`). The identity checks also need `../shared/data/faces` and skip with
//! a message when it is absent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::PathBuf;

use raqib_models::runtime::{default_library_in, installed_cache_or_skip};
use raqib_models::{Device, FacePipeline, RgbImage, Runtime, SessionOptions};

fn pipeline() -> Option<FacePipeline> {
    let cache = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))?;
    let rt = Runtime::shared(&default_library_in(&cache)).expect("runtime loads");
    let opts = SessionOptions { device: Device::Cpu, intra_threads: 1 };
    Some(FacePipeline::load(rt, &cache.join("models"), &opts).expect("face models load"))
}

#[test]
fn blank_image_has_no_face() {
    let Some(mut p) = pipeline() else { return };
    let img = RgbImage { width: 640, height: 480, data: vec![90; 640 * 480 * 3] };
    assert!(p.detect(&img, 0.65).unwrap().is_empty());
}

#[test]
fn same_person_scores_higher_than_different_persons() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/faces/deepface-pairs");
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is absent", data.display());
        return;
    }
    let Some(mut p) = pipeline() else { return };
    let mut embed = |name: &str| {
        let img = RgbImage::open(&data.join(name)).unwrap();
        let faces = p.analyse(&img, 0.65).unwrap();
        assert!(!faces.is_empty(), "{name}: no face");
        let (face, e) = faces.into_iter().next().unwrap();
        // Landmarks fall inside the box they were found in.
        for [x, y] in face.landmarks {
            assert!(
                x >= face.bbox.x1 - 1.0
                    && x <= face.bbox.x2 + 1.0
                    && y >= face.bbox.y1 - 1.0
                    && y <= face.bbox.y2 + 1.0
            );
        }
        e
    };
    // pairs_pivot.csv lists img38/img39 as the same person and img38/img29 as different.
    let (a, b, c) = (embed("img38.jpg"), embed("img39.jpg"), embed("img29.jpg"));
    let same = a.cosine(&b).unwrap();
    let different = a.cosine(&c).unwrap();
    assert!(same > 0.4, "same-person similarity {same}");
    assert!(different < same - 0.2, "different {different} vs same {same}");
}
