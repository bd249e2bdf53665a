//! Plate-region proposals on real photos (skips with a message without `../shared/data`).

use std::path::PathBuf;

use raqib_models::face::Bbox;
use raqib_models::plate::RegionProposer;
use raqib_models::runtime::{default_library_in, installed_cache_or_skip};
use raqib_models::{Device, RgbImage, Runtime, SessionOptions};

#[test]
fn a_region_covers_the_annotated_plate() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/plates/openalpr-endtoend");
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is absent", data.display());
        return;
    }
    let Some(cache) = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")) else { return };
    let rt = Runtime::shared(&default_library_in(&cache)).unwrap();
    let opts = SessionOptions { device: Device::Cpu, intra_threads: 0 };
    let mut proposer = RegionProposer::load(rt, &cache.join("models"), &opts).unwrap();
    // Annotations from the set's own .txt files: file x y w h TEXT.
    for (set, name, b) in
        [("eu", "eu1.jpg", [396.0, 340.0, 203.0, 46.0]), ("br", "AYO9034.jpg", [528.0, 412.0, 162.0, 52.0])]
    {
        let img = RgbImage::open(&data.join(set).join(name)).unwrap();
        let truth = Bbox { x1: b[0], y1: b[1], x2: b[0] + b[2], y2: b[1] + b[3] };
        let regions = proposer.propose(&img).unwrap();
        let best = regions.iter().map(|r| r.bbox.iou(&truth)).fold(0f32, f32::max);
        assert!(best >= 0.5, "{name}: best IoU {best} over {} regions", regions.len());
        assert!(regions.len() <= 20, "{name}: {} regions", regions.len());
    }
}

#[test]
fn blank_image_has_no_text_region() {
    let Some(cache) = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")) else { return };
    let rt = Runtime::shared(&default_library_in(&cache)).unwrap();
    let opts = SessionOptions { device: Device::Cpu, intra_threads: 0 };
    let mut proposer = RegionProposer::load(rt, &cache.join("models"), &opts).unwrap();
    let img = RgbImage { width: 320, height: 240, data: vec![128; 320 * 240 * 3] };
    assert!(proposer.propose(&img).unwrap().is_empty());
}
