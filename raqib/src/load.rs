//! Loading the plate models as configured.

use raqib_models::Runtime;
use raqib_models::plate::{LocaliserKind, PlateFinder, Views};

use crate::config::{Config, Paths};

/// Loads ONNX Runtime, the plate localiser for still photos and the recogniser as configured.
pub fn load_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    load_finder_with(config, paths, config.runtime.still_localiser)
}

/// [`load_finder`] with the localiser of `kind` (benchmarks and evaluation compare both).
pub fn load_finder_with(config: &Config, paths: &Paths, kind: LocaliserKind) -> anyhow::Result<PlateFinder> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    Ok(PlateFinder::load_with(kind, rt, &paths.models_dir, &opts)?)
}

/// The finder for video, with the video localiser: plates are re-read only along the text line
/// of tilted plates (voting over a track's frames does what the other views would).
pub fn load_video_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    load_video_finder_with(config, paths, config.runtime.plate_localiser)
}

/// [`load_video_finder`] with the localiser of `kind`.
pub fn load_video_finder_with(config: &Config, paths: &Paths, kind: LocaliserKind) -> anyhow::Result<PlateFinder> {
    let mut finder = load_finder_with(config, paths, kind)?;
    finder.views = Views::Tilted;
    Ok(finder)
}
