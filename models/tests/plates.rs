//! Plate-region proposals on real photos (skips with a message without `../shared/data`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use std::path::{Path, PathBuf};

use raqib_models::face::Bbox;
use raqib_models::plate::RegionProposer;
use raqib_models::runtime::{default_library_in, installed_cache_or_skip};
use raqib_models::{Device, RgbImage, Runtime, SessionOptions};

/// A model loaded from the installed cache on the CPU, or `None` (with a message) without one.
fn load<M>(loader: impl FnOnce(&'static Runtime, &Path, &SessionOptions) -> raqib_models::Result<M>) -> Option<M> {
    let cache = installed_cache_or_skip(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))?;
    let rt = Runtime::shared(&default_library_in(&cache)).expect("runtime loads");
    let opts = SessionOptions { device: Device::Cpu, intra_threads: 0 };
    Some(loader(rt, &cache.join("models"), &opts).expect("model loads"))
}

#[test]
fn a_region_covers_the_annotated_plate() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/plates/openalpr-endtoend");
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is absent", data.display());
        return;
    }
    let Some(mut proposer) = load(RegionProposer::load) else { return };
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
    let Some(mut proposer) = load(RegionProposer::load) else { return };
    let img = RgbImage { width: 320, height: 240, data: vec![128; 320 * 240 * 3] };
    assert!(proposer.propose(&img).unwrap().is_empty());
}

/// A rendered Moroccan plate (`samples/plates/ma-standard.png`) turned by `deg` degrees on a
/// grey background, and the axis-aligned box of the turned plate.
fn tilted_sample(deg: f32) -> (RgbImage, Bbox) {
    let plate =
        RgbImage::open(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/plates/ma-standard.png")).unwrap();
    let (pw, ph) = (plate.width as f32, plate.height as f32);
    let (w, h) = (1000u32, 600u32);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = deg.to_radians().sin_cos();
    let mut data = vec![128u8; (w * h * 3) as usize];
    for y in 0..h {
        for x in 0..w {
            // Inverse rotation: where in the plate this scene pixel comes from.
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let (px, py) = (dx * c + dy * s + pw / 2.0, -dx * s + dy * c + ph / 2.0);
            if px >= 0.0 && py >= 0.0 && px < pw && py < ph {
                for k in 0..3usize {
                    data[(y * w + x) as usize * 3 + k] = plate.sample(px - 0.5, py - 0.5, k).round() as u8;
                }
            }
        }
    }
    let (hw, hh) = (pw / 2.0 * c.abs() + ph / 2.0 * s.abs(), pw / 2.0 * s.abs() + ph / 2.0 * c.abs());
    (RgbImage { width: w, height: h, data }, Bbox { x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh })
}

#[test]
fn a_tilted_plate_is_read_along_its_own_axis() {
    use raqib_models::plate::{Crop, Layout, PlateReader, Views, deskew};
    let Some(mut reader) = load(PlateReader::load) else { return };
    for deg in [-12.0f32, 10.0] {
        let (img, bbox) = tilted_sample(deg);
        let o = deskew::estimate(&img, &bbox).expect("the tilt is found");
        assert!((o.angle.to_degrees() - deg).abs() <= 1.5, "{deg}°: {o:?}");
        let read = reader.read_views(&img, &[Crop { bbox, layout: Layout::OneRow }], Views::All).unwrap().remove(0);
        assert_eq!(read.text, "49755ش46", "{deg}°: {read:?}");
    }
}

/// A sample plate photo (`samples/plates/NAME`) scaled by `scale` and pasted at `(x, y)` into a
/// 1280 × 720 street-grey frame, and the box of the plate body (the photo's pixels that differ
/// from its own background, whose colour is its corner pixel).
fn plate_in_frame(name: &str, scale: f32, x: u32, y: u32) -> (RgbImage, Bbox) {
    let plate =
        RgbImage::open(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/plates").join(name)).unwrap();
    let (w, h) = (1280u32, 720u32);
    let mut data = vec![0u8; (w * h * 3) as usize];
    for (i, px) in data.chunks_mut(3).enumerate() {
        let (fx, fy) = (i as u32 % w, i as u32 / w);
        px.copy_from_slice(&[70 + (fx / 40 % 3) as u8 * 10, 75, 80 + (fy / 30 % 2) as u8 * 8]);
    }
    let bg = [plate.data[0], plate.data[1], plate.data[2]];
    let (pw, ph) = ((plate.width as f32 * scale) as u32, (plate.height as f32 * scale) as u32);
    let (mut x1, mut y1, mut x2, mut y2) = (f32::MAX, f32::MAX, 0f32, 0f32);
    for py in 0..ph {
        for px in 0..pw {
            let (sx, sy) = ((px as f32 + 0.5) / scale - 0.5, (py as f32 + 0.5) / scale - 0.5);
            let rgb: Vec<u8> = (0..3).map(|k| plate.sample(sx, sy, k).round() as u8).collect();
            let o = (((y + py) * w + x + px) * 3) as usize;
            data[o..o + 3].copy_from_slice(&rgb);
            if rgb.iter().zip(bg).any(|(a, b)| a.abs_diff(b) > 40) {
                let (fx, fy) = ((x + px) as f32, (y + py) as f32);
                (x1, y1, x2, y2) = (x1.min(fx), y1.min(fy), x2.max(fx + 1.0), y2.max(fy + 1.0));
            }
        }
    }
    (RgbImage { width: w, height: h, data }, Bbox { x1, y1, x2, y2 })
}

#[test]
fn the_plate_detector_finds_each_sample_plate_in_a_frame_and_nothing_else() {
    use raqib_models::plate::PlateDetector;
    let Some(mut detector) = load(PlateDetector::load) else { return };
    for (name, scale, x, y) in [
        ("ma-standard.png", 0.35, 200, 420),
        ("ma-two-row.png", 0.4, 800, 300),
        ("ma-ww.png", 0.3, 600, 500),
        ("fr.png", 0.3, 100, 200),
        ("br-mercosul.png", 0.3, 900, 520),
        ("us.png", 0.35, 500, 150),
    ] {
        let (img, truth) = plate_in_frame(name, scale, x, y);
        let found = detector.detect(&img).unwrap();
        let best = found.iter().map(|r| r.bbox.iou(&truth)).fold(0f32, f32::max);
        assert!(best >= 0.5, "{name}: best IoU {best} with {truth:?} among {found:?}");
        assert_eq!(found.len(), 1, "{name}: one plate in the frame, found {found:?}");
    }
    let blank = RgbImage { width: 1280, height: 720, data: vec![90; 1280 * 720 * 3] };
    assert!(detector.detect(&blank).unwrap().is_empty(), "a blank frame has no plate");
}

#[test]
fn a_plate_that_fills_a_still_photo_is_found_at_the_close_up_scale() {
    use raqib_models::plate::PlateDetector;
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/plates/moroccan-um6p-dev");
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is absent", data.display());
        return;
    }
    let Some(mut detector) = load(PlateDetector::load) else { return };
    // Two close-ups of the training split whose plate fills the photo; the plate box is the
    // union of the set's character boxes (YOLO `class cx cy w h`), as `raqib eval plates` scores.
    for name in ["20200618_105152a", "20200618_105149a"] {
        let img = RgbImage::open(&data.join("images").join(format!("{name}.jpg"))).unwrap();
        let (w, h) = (img.width as f32, img.height as f32);
        let labels = std::fs::read_to_string(data.join("labels_yolo_chars").join(format!("{name}.txt"))).unwrap();
        let truth = labels
            .lines()
            .map(|l| {
                let v: Vec<f32> = l.split_whitespace().skip(1).map(|s| s.parse().unwrap()).collect();
                Bbox {
                    x1: (v[0] - v[2] / 2.0) * w,
                    y1: (v[1] - v[3] / 2.0) * h,
                    x2: (v[0] + v[2] / 2.0) * w,
                    y2: (v[1] + v[3] / 2.0) * h,
                }
            })
            .reduce(|a, b| Bbox { x1: a.x1.min(b.x1), y1: a.y1.min(b.y1), x2: a.x2.max(b.x2), y2: a.y2.max(b.y2) })
            .unwrap();
        let best =
            |found: &[raqib_models::plate::Region]| found.iter().map(|r| r.bbox.iou(&truth)).fold(0f32, f32::max);
        let scene = detector.detect(&img).unwrap();
        assert!(
            best(&scene) < 0.5,
            "{name}: the scene scale finds it already (IoU {}): the test shows nothing",
            best(&scene)
        );
        let still = detector.detect_still(&img).unwrap();
        assert!(best(&still) >= 0.5, "{name}: best IoU {} with {truth:?} among {still:?}", best(&still));
    }
    let blank = RgbImage { width: 1280, height: 720, data: vec![90; 1280 * 720 * 3] };
    assert!(detector.detect_still(&blank).unwrap().is_empty(), "a blank photo has no plate");
}

#[test]
fn frames_of_several_cameras_are_detected_in_one_batch_as_one_by_one() {
    use raqib_models::plate::PlateDetector;
    let Some(mut detector) = load(PlateDetector::load) else { return };
    let (a, _) = plate_in_frame("ma-standard.png", 0.35, 200, 420);
    let (b, _) = plate_in_frame("fr.png", 0.3, 700, 100);
    // 4:3, so the batch is padded below the 16:9 frames (black, as a single frame's padding).
    let small = RgbImage { width: 640, height: 480, data: vec![90; 640 * 480 * 3] };
    let batch = detector.detect_batch(&[&a, &b, &small]).unwrap();
    let single = [detector.detect(&a).unwrap(), detector.detect(&b).unwrap(), detector.detect(&small).unwrap()];
    assert_eq!(batch.len(), 3);
    for (got, want) in batch.iter().zip(&single) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(g.bbox.iou(&w.bbox) > 0.9 && (g.score - w.score).abs() < 0.05, "{g:?} vs {w:?}");
        }
    }
}

#[test]
fn a_recogniser_of_another_input_size_is_read_from_its_metadata_with_no_code_change() {
    use raqib_models::plate::{Crop, Layout, PlateReader, Views};
    // An untrained 48 × 240 model (60 time steps; training/plate_ocr/model.py with 4 channels,
    // exported by train.export with HEIGHT = 48, WIDTH = 240): only its shape matters here.
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plate-ocr-48px-untrained.onnx");
    let Some(mut reader) = load(|rt, _, opts| PlateReader::from_model(rt.session(&fixture, opts)?)) else { return };
    assert_eq!(reader.input_size(), (48, 240));
    let (img, bbox) = tilted_sample(0.0);
    for layout in [Layout::OneRow, Layout::TwoRows] {
        let reads = reader.read_views(&img, &[Crop { bbox, layout }], Views::All).unwrap();
        assert_eq!(reads.len(), 1, "{layout:?}");
    }
}

#[test]
fn the_checker_keeps_plates_and_drops_what_only_looks_like_one() {
    use raqib_models::plate::{PlateChecker, Region};
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/plates/openalpr-endtoend");
    let Some(mut checker) = load(PlateChecker::load) else { return };
    let region = |x1: f32, y1: f32, x2: f32, y2: f32| Region { bbox: Bbox { x1, y1, x2, y2 }, score: 1.0 };
    // Sample plates pasted into frames: each is a plate.
    for (name, scale, x, y) in [("ma-standard.png", 0.35, 200, 420), ("ma-two-row.png", 0.4, 800, 300)] {
        let (img, truth) = plate_in_frame(name, scale, x, y);
        let kept = checker.check(&[(&img, &[region(truth.x1, truth.y1, truth.x2, truth.y2)])]).unwrap();
        assert_eq!(kept[0].len(), 1, "{name}: the plate is kept");
    }
    let blank = RgbImage { width: 640, height: 480, data: vec![90; 640 * 480 * 3] };
    assert!(checker.check(&[(&blank, &[region(100.0, 100.0, 220.0, 140.0)])]).unwrap()[0].is_empty());
    if !data.is_dir() {
        eprintln!("SKIPPED (real photos): {} is absent", data.display());
        return;
    }
    // A held-back OpenALPR photo (never trained on): the plate (the set's own box), the
    // "Berlingo" badge and the "CITROËN" lettering (which the first stage marks) and a window
    // half outside the image score as the Python side scores the same windows
    // (`training/plate_det/window.py`, onnxruntime): the window arithmetic is the training one.
    let img = RgbImage::open(&data.join("eu/test_026.jpg")).unwrap();
    let candidates = [
        region(70.0, 254.0, 183.0, 280.0),
        region(264.1, 201.4, 317.8, 214.9),
        region(67.1, 201.4, 134.3, 214.9),
        region(-20.0, 10.0, 60.0, 40.0),
    ];
    let python = [0.957_54, 0.707_06, 0.688_96, 0.068_77];
    checker.threshold = 0.0;
    let scored = checker.check(&[(&img, &candidates)]).unwrap().pop().unwrap();
    assert_eq!(scored.len(), 4);
    for (c, want) in candidates.iter().zip(python) {
        let got = scored.iter().find(|r| r.bbox == c.bbox).expect("every candidate scored").score;
        assert!((got - want).abs() < 0.02, "{:?}: {got} here, {want} in Python", c.bbox);
    }
    assert_eq!(scored[0].bbox, candidates[0].bbox, "the plate scores highest, with the mask's box");
}
