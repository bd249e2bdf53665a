//! Loading the plate models as configured.

use raqib_models::Runtime;
use raqib_models::plate::PlateFinder;

use crate::config::{Config, Paths};

/// Loads ONNX Runtime, the region proposer and the recogniser as configured.
pub fn load_finder(config: &Config, paths: &Paths) -> anyhow::Result<PlateFinder> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    Ok(PlateFinder::load(rt, &paths.models_dir, &opts)?)
}
