//! Micro-benches of the pre- and post-processing around the models (no inference):
//! `cargo bench -p raqib-models --bench kernels`. Figures in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use raqib_models::face::boxes;
use raqib_models::image_ops::{Channels, resize_tensor};
use raqib_models::plate::ctc::{Grammar, Slot, decode, decode_constrained};
use raqib_models::plate::regions::{ProbMap, RegionParams, regions};

/// A 1280×720 frame with some structure (gradients and stripes).
fn frame() -> RgbImage {
    let (w, h) = (1280u32, 720u32);
    let data = (0..w * h * 3).map(|i| ((i % 251) ^ (i / 3839 % 256)) as u8).collect();
    RgbImage { width: w, height: h, data }
}

/// CTC log-probabilities for 40 steps × 46 classes spelling a plate-like read, with noise.
fn lattice(classes: usize) -> Vec<f32> {
    let steps = 40;
    let mut lp = vec![(0.001f32).ln(); steps * classes];
    for t in 0..steps {
        let best = if t % 3 == 0 { 1 + (t * 7) % (classes - 1) } else { 0 };
        lp[t * classes + best] = (0.9f32).ln();
        lp[t * classes + (best + 5) % classes] = (0.05f32).ln();
    }
    lp
}

fn benches(c: &mut Criterion) {
    let img = frame();
    c.bench_function("resize 1280x720 frame into the 960x544 detector tensor", |b| {
        b.iter(|| resize_tensor(&img, (0.0, 0.0, 1280.0, 720.0), 960, 544, Channels::Bgr, 127.5, 127.5))
    });
    c.bench_function("resize a 200x60 plate crop into the 160x32 grey recogniser tensor", |b| {
        b.iter(|| resize_tensor(&img, (500.0, 400.0, 200.0, 60.0), 160, 32, Channels::Grey, 127.5, 127.5))
    });
    c.bench_function("skew of a 200x60 plate crop", |b| {
        b.iter(|| raqib_models::plate::deskew::estimate(&img, &Bbox { x1: 500.0, y1: 400.0, x2: 700.0, y2: 460.0 }))
    });

    // Detector probability map with 12 text-like blobs.
    let (mw, mh) = (960usize, 544usize);
    let mut prob = vec![0.0f32; mw * mh];
    for k in 0..12 {
        let (x0, y0) = (40 + k * 70, 40 + (k * 37) % 440);
        for y in y0..y0 + 14 {
            for x in x0..x0 + 60 {
                prob[y * mw + x] = 0.9;
            }
        }
    }
    c.bench_function("text regions from a 960x544 probability map", |b| {
        b.iter(|| regions(&ProbMap { prob: &prob, width: mw, height: mh }, 1280.0, 720.0, &RegionParams::default()))
    });

    // Face detector output: 4420 anchors, 30 above threshold in 3 clusters (NMS work).
    let mut scores = vec![0.0f32; boxes::ANCHORS * 2];
    let mut corners = vec![0.0f32; boxes::ANCHORS * 4];
    for a in 0..boxes::ANCHORS {
        let s = if a % 147 == 0 { 0.9 } else { 0.01 };
        scores[a * 2 + 1] = s;
        let cx = 0.2 + 0.3 * ((a / 147) % 3) as f32 + 0.001 * (a % 7) as f32;
        corners[a * 4..a * 4 + 4].copy_from_slice(&[cx - 0.05, 0.3, cx + 0.05, 0.45]);
    }
    c.bench_function("face boxes: threshold + NMS over 4420 anchors", |b| {
        b.iter(|| boxes::decode(&scores, &corners, 1280.0, 720.0, 0.65, 0.4))
    });

    let classes: Vec<String> = std::iter::once("<blank>".to_owned())
        .chain(('0'..='9').map(String::from))
        .chain(('A'..='Z').map(String::from))
        .chain(["أ", "ب", "د", "ه", "و", "ط", "ج", "ش", "المغرب"].iter().map(|s| s.to_string()))
        .collect();
    let lp = lattice(classes.len());
    c.bench_function("CTC best path with top-3 alternatives (40x46)", |b| {
        b.iter(|| decode(&lp, 40, &classes, 3, 0.05))
    });
    let digit: Vec<bool> =
        classes.iter().enumerate().map(|(i, s)| i > 0 && s.len() == 1 && s.as_bytes()[0].is_ascii_digit()).collect();
    let letter: Vec<bool> =
        classes.iter().map(|s| ["أ", "ب", "د", "ه", "و", "ط", "ج", "ش"].contains(&s.as_str())).collect();
    let grammar = Grammar {
        name: "moroccan",
        slots: vec![
            Slot { allowed: digit.clone(), min: 1, max: 5 },
            Slot { allowed: letter, min: 1, max: 1 },
            Slot { allowed: digit, min: 1, max: 2 },
        ],
    };
    c.bench_function("grammar Viterbi, pruned at margin 6 (40x46)", |b| {
        b.iter(|| decode_constrained(&lp, 40, &classes, &grammar, 3, 0.05, 6.0))
    });
    c.bench_function("grammar Viterbi, full search (40x46)", |b| {
        b.iter(|| decode_constrained(&lp, 40, &classes, &grammar, 3, 0.05, f32::INFINITY))
    });
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
