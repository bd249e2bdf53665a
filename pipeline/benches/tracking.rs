//! Micro-bench of the tracker update: `cargo bench -p raqib-pipeline --bench tracking`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use raqib_models::face::Bbox;
use raqib_pipeline::track::{Detection, Tracker, TrackerParams};

fn benches(c: &mut Criterion) {
    // 20 objects drifting right by 3 px per frame: each update associates 20 detections with
    // 20 live tracks (400 candidate pairs).
    c.bench_function("tracker update: 20 detections, 20 live tracks", |b| {
        let mut tracker: Tracker<u32> = Tracker::new(TrackerParams::default());
        let mut frame = 0u64;
        b.iter(|| {
            let dets = (0..20)
                .map(|i| {
                    let x = (i * 60) as f32 + (frame % 100) as f32 * 3.0;
                    let y = (i % 5) as f32 * 100.0;
                    Detection { bbox: Bbox { x1: x, y1: y, x2: x + 50.0, y2: y + 20.0 }, key: None, payload: i }
                })
                .collect();
            let ended = tracker.update(frame, None, dets, |_| None);
            frame += 1;
            ended.len()
        })
    });
}

criterion_group!(tracking, benches);
criterion_main!(tracking);
