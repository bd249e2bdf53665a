//! Loading the plate models as configured.

use raqib_models::Runtime;
use raqib_models::plate::{PlateFinder, Views};

use crate::config::{Config, Paths};

/// Loads ONNX Runtime, the region proposer and the recogniser as configured.
pub fn load_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    Ok(PlateFinder::load(rt, &paths.models_dir, &opts)?)
}

/// [`load_finder`] for video: plates are re-read only along the text line of tilted plates
/// (voting over a track's frames does what the other views would).
pub fn load_video_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    let mut finder = load_finder(config, paths)?;
    finder.views = Views::Tilted;
    Ok(finder)
}
