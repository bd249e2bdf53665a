//! `raqib bench video VIDEO…`: how fast and how right the node is on a video, next to a plain
//! Python pipeline run on the same video in the same invocation.
//!
//! Figures per video: decode-only fps (GStreamer to `fakesink`), inference-only time per model
//! on preloaded tensors, end-to-end fps of the replay path (decode → propose → read → track and
//! vote → watchlist), per-stage p50/p99, the decode-plus-inference limit and the share of it
//! reached, an estimate of live streams at a given analysis rate, CPU% and peak RSS, accuracy
//! against `truth.json` when there is one, and the baseline's fps with the ratio.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use raqib_core::AnalysisPolicy;
use raqib_models::FacePipeline;
use raqib_models::plate::{LocaliserKind, PlateFinder};
use raqib_models::reference;
use raqib_pipeline::ingest::{FrameSource, decode_only};
use raqib_pipeline::stream::{Models, Outcome, StreamAnalysis};
use raqib_samples::Truth;
use raqib_watchlist::Snapshot;
use serde::Serialize;

use crate::accuracy::{Accuracy, score};
use crate::stats::{StageStat, cpu_seconds, peak_rss_mib};
use crate::{Result, baseline};

pub use crate::video_report::{comparison, markdown};

/// Options of `raqib bench video`.
pub struct VideoBenchOptions {
    /// Videos to measure.
    pub videos: Vec<PathBuf>,
    /// Ground truth (default: `truth.json` beside the video, when present).
    pub truth: Option<PathBuf>,
    /// Analysis rate per live stream for the streams estimate, frames per second.
    pub rate: f64,
    /// Python with `benches/baseline/requirements.txt`, for the baseline.
    pub python: Option<PathBuf>,
    /// Plate localisers to measure, each over every video, in this order (the first one's run
    /// also runs the baseline).
    pub localisers: Vec<LocaliserKind>,
}

/// What the measured path runs with: the node's models, watchlist and `[analysis]` policy.
pub struct BenchInputs<'a, L> {
    /// Loads the video plate finder with the given localiser.
    pub load_finder: L,
    /// The face pipeline, when the watchlist has persons to match.
    pub faces: Option<&'a mut FacePipeline>,
    /// The watchlist the path matches against (hits are part of the measured path).
    pub snapshot: Option<&'a Snapshot>,
    /// The models folder (for the Python baseline).
    pub models_dir: &'a Path,
    /// The `[analysis]` policy.
    pub policy: &'a AnalysisPolicy,
}

/// One model's inference-only time on preloaded tensors.
#[derive(Debug, Clone, Serialize)]
pub struct ModelTime {
    /// Model and input.
    pub model: String,
    /// Mean ms per call.
    pub ms_per_call: f64,
    /// Mean ms per item (crop or frame).
    pub ms_per_item: f64,
}

/// Figures for one video.
#[derive(Debug, Clone, Serialize)]
pub struct VideoFigures {
    /// The file.
    pub file: PathBuf,
    /// The plate localiser used.
    pub localiser: String,
    /// Frame size.
    pub width: u32,
    /// Frame size.
    pub height: u32,
    /// Frames decoded.
    pub frames: u64,
    /// Plates in view per frame, mean, from the ground truth.
    pub plates_per_frame: Option<f64>,
    /// Decode to fakesink, frames per second.
    pub decode_only_fps: f64,
    /// Inference only, per model.
    pub inference: Vec<ModelTime>,
    /// Candidate crops read per frame, mean.
    pub crops_per_frame: f64,
    /// Longest media time between full-frame detections, ms (0: every frame).
    pub full_frame_interval_ms: u64,
    /// Frames whose detection covered the whole frame.
    pub full_frames: u64,
    /// Detector input area processed, as a share of one whole frame per frame.
    pub detector_area_share: f64,
    /// 1 / (decode per frame + detector per whole frame × area share + recogniser per crop ×
    /// crops per frame), all from inference-only timings.
    pub limit_fps: f64,
    /// End-to-end frames per second, every frame analysed.
    pub e2e_fps: f64,
    /// `e2e_fps / limit_fps`.
    pub share_of_limit: f64,
    /// Per-stage time per frame.
    pub stages: Vec<StageStat>,
    /// Estimated simultaneous live streams at `rate` analysed fps (decoding all frames).
    pub live_streams_estimate: f64,
    /// The analysis rate the estimate is for.
    pub rate: f64,
    /// CPU used during the end-to-end run, % of one core.
    pub cpu_percent: f64,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: f64,
    /// Against ground truth, when there is one.
    pub accuracy: Option<Accuracy>,
    /// Face analysis counts (gated looks, tracks not kept), when faces ran.
    pub face_counts: Option<raqib_pipeline::faces::FaceCounts>,
    /// The plain Python pipeline on the same video, frames per second.
    pub baseline_fps: Option<f64>,
    /// `e2e_fps / baseline_fps`.
    pub ratio_vs_baseline: Option<f64>,
}

/// Runs the bench: every localiser of `opts` over every video, in that order; `on_video` is
/// called with each video's figures as soon as they are measured.
pub fn run<L>(
    inputs: BenchInputs<'_, L>,
    opts: &VideoBenchOptions,
    on_video: &mut dyn FnMut(&VideoFigures),
) -> Result<Vec<VideoFigures>>
where
    L: FnMut(LocaliserKind) -> Result<PlateFinder>,
{
    let BenchInputs { mut load_finder, mut faces, snapshot, models_dir, policy } = inputs;
    let mut all = Vec::new();
    for (k, &kind) in opts.localisers.iter().enumerate() {
        let mut finder = load_finder(kind)?;
        for video in &opts.videos {
            let truth_path = opts.truth.clone().or_else(|| {
                let sibling = video.with_file_name("truth.json");
                sibling.is_file().then_some(sibling)
            });
            let truth = truth_path.as_deref().map(Truth::load).transpose()?;
            let ctx = BenchContext { snapshot, faces: faces.as_deref_mut(), models_dir, baseline: k == 0, policy };
            let figures = bench_one(&mut finder, ctx, video, truth.as_ref(), opts)?;
            on_video(&figures);
            all.push(figures);
        }
    }
    Ok(all)
}

/// What a bench run checks against and with.
struct BenchContext<'a> {
    snapshot: Option<&'a Snapshot>,
    faces: Option<&'a mut FacePipeline>,
    models_dir: &'a Path,
    /// Whether this run also runs the Python baseline (once per video).
    baseline: bool,
    /// The `[analysis]` policy.
    policy: &'a AnalysisPolicy,
}

#[expect(
    clippy::too_many_lines,
    reason = "the measured loop and its figures read best in one place; split when it grows"
)]
fn bench_one(
    finder: &mut PlateFinder,
    ctx: BenchContext,
    video: &Path,
    truth: Option<&Truth>,
    opts: &VideoBenchOptions,
) -> Result<VideoFigures> {
    let BenchContext { snapshot, mut faces, models_dir, baseline: run_baseline, policy } = ctx;
    let mut sightings = Vec::new();
    let mut t_faces = Vec::new();
    tracing::info!("{}: decode only…", video.display());
    let decoded = decode_only(video)?;
    let decode_only_fps = decoded.frames as f64 / decoded.seconds.max(1e-9);

    tracing::info!("{}: end to end…", video.display());
    let mut source = FrameSource::open_file(video)?;
    // The replay path itself: the same `StreamAnalysis` as `raqib run` and `raqib replay`.
    let mut analysis = StreamAnalysis::new(policy);
    let mut full_frames = 0u64;
    let mut detector_pixels = 0u64;
    let (mut t_decode, mut t_propose, mut t_read, mut t_track, mut t_match, mut t_frame) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut crops = 0usize;
    let mut events = Vec::new();
    let (mut width, mut height) = (0, 0);
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let take = |outcomes: Vec<Outcome>, events: &mut Vec<_>, sightings: &mut Vec<_>| {
        for o in outcomes {
            match o {
                Outcome::Plate { read, hits } => events.push((read, hits)),
                Outcome::Face(f) => sightings.push(f),
            }
        }
    };
    loop {
        let t0 = Instant::now();
        let Some(frame) = source.next_frame()? else { break };
        let t1 = Instant::now();
        (width, height) = (frame.image.width, frame.image.height);
        let mut models = Models { plates: &mut *finder, faces: faces.as_deref_mut() };
        let (outcomes, stats) = analysis.push(&mut models, &frame, snapshot, Utc::now())?;
        let timing = stats.finder;
        crops += timing.crops;
        detector_pixels += timing.detector_pixels;
        full_frames += u64::from(stats.full_frame);
        take(outcomes, &mut events, &mut sightings);
        t_decode.push(ms(t1 - t0));
        t_propose.push(ms(timing.propose));
        t_read.push(ms(timing.read));
        t_track.push(ms(stats.plates.saturating_sub(timing.propose + timing.read)));
        t_match.push(ms(stats.matching));
        if let Some(f) = stats.faces {
            t_faces.push(ms(f));
        }
        t_frame.push(ms(t0.elapsed()));
    }
    take(analysis.finish(snapshot, Utc::now()), &mut events, &mut sightings);
    let face_counts = analysis.face_counts();
    let wall = started.elapsed().as_secs_f64();
    let cpu_percent = (cpu_seconds() - cpu0) / wall.max(1e-9) * 100.0;
    let frames = t_frame.len() as u64;
    let e2e_fps = frames as f64 / wall.max(1e-9);
    let crops_per_frame = crops as f64 / frames.max(1) as f64;

    tracing::info!("{}: inference only…", video.display());
    let (tw, th) = finder.localiser.input_size(width, height);
    let det_input = reference::pattern([1, 3, th, tw]);
    let det_ms = time_ms(20, || finder.localiser.infer(&det_input).map(drop))?;
    let (oh, ow) = finder.reader.input_size();
    let batch = finder.reader.batch.max(1);
    let ocr_input = reference::pattern([batch, 1, oh, ow]);
    let ocr_ms = time_ms(20, || finder.reader.infer(&ocr_input).map(drop))?;
    let inference = vec![
        ModelTime {
            model: format!("{} [1,3,{th},{tw}]", finder.localiser.model_id()),
            ms_per_call: det_ms,
            ms_per_item: det_ms,
        },
        ModelTime {
            model: format!("plate-ocr [{batch},1,{oh},{ow}]"),
            ms_per_call: ocr_ms,
            ms_per_item: ocr_ms / batch as f64,
        },
    ];
    // The detector's cost scales with its input area: whole frames on key frames, windows
    // around tracked plates in between.
    let det_share = detector_pixels as f64 / (frames.max(1) * (tw * th) as u64) as f64;
    let per_frame_ms =
        1000.0 / decode_only_fps.max(1e-9) + det_ms * det_share + crops_per_frame * ocr_ms / batch as f64;
    let limit_fps = 1000.0 / per_frame_ms;

    let analysis: Vec<f64> = t_frame.iter().zip(&t_decode).map(|(f, d)| f - d).collect();
    let analyse = StageStat::of("analysis (all but decode)", &analysis);
    let native_fps = truth.map(|t| f64::from(t.spec.fps)).unwrap_or(25.0);
    let per_stream_s = native_fps / decode_only_fps.max(1e-9) + opts.rate * analyse.mean_ms / 1000.0;
    let live_streams_estimate = 1.0 / per_stream_s.max(1e-9);

    let accuracy = truth.map(|t| score(t, &events, faces.is_some().then_some(sightings.as_slice())));
    let baseline_fps = match &opts.python {
        Some(py) if run_baseline => {
            tracing::info!("{}: Python baseline…", video.display());
            Some(baseline::pipeline_fps(py, video, models_dir)?)
        }
        _ => None,
    };
    Ok(VideoFigures {
        file: video.to_owned(),
        localiser: finder.localiser.kind().to_string(),
        width,
        height,
        frames,
        plates_per_frame: truth.map(|t| {
            t.per_frame.iter().map(|f| f.plates.len()).sum::<usize>() as f64 / t.per_frame.len().max(1) as f64
        }),
        decode_only_fps,
        inference,
        crops_per_frame,
        full_frame_interval_ms: policy.full_frame_interval_ms,
        full_frames,
        detector_area_share: det_share,
        limit_fps,
        e2e_fps,
        share_of_limit: e2e_fps / limit_fps.max(1e-9),
        stages: vec![
            StageStat::of("decode + RGB (wait)", &t_decode),
            StageStat::of("localise (plate or text detector)", &t_propose),
            StageStat::of("read (recogniser)", &t_read),
            StageStat::of("track + vote", &t_track),
            StageStat::of("watchlist (per event)", &t_match),
            StageStat::of("faces: detect, track, embed, match", &t_faces),
            analyse,
            StageStat::of("frame total", &t_frame),
        ],
        live_streams_estimate,
        rate: opts.rate,
        cpu_percent,
        peak_rss_mib: peak_rss_mib(),
        accuracy,
        face_counts: faces.is_some().then_some(face_counts),
        baseline_fps,
        ratio_vs_baseline: baseline_fps.map(|b| e2e_fps / b.max(1e-9)),
    })
}

/// Mean ms of `runs` calls after 3 warm-up calls.
fn time_ms(runs: usize, mut f: impl FnMut() -> raqib_models::Result<()>) -> Result<f64> {
    for _ in 0..3 {
        f()?;
    }
    let t = Instant::now();
    for _ in 0..runs {
        f()?;
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / runs as f64)
}
