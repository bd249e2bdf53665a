//! Loading the models as configured (ONNX Runtime library, models folder, session options).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::bail;
use raqib_models::plate::{LocaliserKind, PlateFinder, Views};
use raqib_models::{FacePipeline, Runtime};

use crate::config::{Config, Paths};

/// Loads ONNX Runtime, the plate localiser for still photos and the recogniser as configured.
pub fn finder(config: &Config, paths: &Paths) -> raqib_models::Result<PlateFinder> {
    finder_with(config, paths, config.runtime.still_localiser)
}

/// [`finder`] with the localiser of `kind` (benchmarks and evaluation compare both).
pub fn finder_with(config: &Config, paths: &Paths, kind: LocaliserKind) -> raqib_models::Result<PlateFinder> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    PlateFinder::load_with(kind, rt, &paths.models_dir, &opts)
}

/// The finder for video, with the video localiser: plates are re-read only along the text line
/// of tilted plates (voting over a track's frames does what the other views would).
pub fn video_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    Ok(video_finder_with(config, paths, config.runtime.plate_localiser)?)
}

/// [`video_finder`] with the localiser of `kind`.
pub fn video_finder_with(config: &Config, paths: &Paths, kind: LocaliserKind) -> raqib_models::Result<PlateFinder> {
    let mut finder = finder_with(config, paths, kind)?;
    finder.views = Views::Tilted;
    Ok(finder)
}

/// Loads ONNX Runtime and the face models as configured.
pub fn faces(config: &Config, paths: &Paths) -> raqib_models::Result<FacePipeline> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    FacePipeline::load(rt, &paths.models_dir, &opts)
}

/// What snapshot redaction loads (still-photo plate finder and faces), when it first needs them.
pub fn redaction(config: &Config, paths: &Paths) -> raqib_pipeline::redactor::ModelLoader {
    let (config, paths) = (config.clone(), paths.clone());
    Box::new(move || Ok((finder(&config, &paths)?, faces(&config, &paths)?)))
}

/// Photos given on the command line, checked to exist before any model is loaded.
pub fn existing(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if !p.is_file() {
            bail!("{}: no such file", p.display());
        }
    }
    Ok(())
}

/// A flag that SIGINT and SIGTERM set: `raqib run` and `raqib replay` stop cleanly on it.
pub fn stop_on_signal() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .map_err(|e| anyhow::anyhow!("installing the SIGINT/SIGTERM handler: {e}"))?;
    Ok(stop)
}

/// `<data_dir>/events.db` set up as `[retention]` and `[privacy]` say; with `load_redactor_now`
/// the redaction models load at once (the live node), else on the first hit (a replay).
pub fn events_store(
    config: &Config,
    paths: &Paths,
    load_redactor_now: bool,
) -> anyhow::Result<raqib_events::EventStore> {
    let mut events = raqib_events::EventStore::open(&paths.data_dir.join("events.db"))?;
    events.set_keep_non_hits(config.retention.keeps_non_hits());
    events.set_handling(config.alerts.clone());
    if config.privacy.redact_snapshots {
        let loader = redaction(config, paths);
        let redactor = if load_redactor_now {
            raqib_pipeline::redactor::ModelRedactor::loaded(loader)?
        } else {
            raqib_pipeline::redactor::ModelRedactor::new(loader)
        };
        events.set_redactor(Some(Box::new(redactor)));
    }
    Ok(events)
}
