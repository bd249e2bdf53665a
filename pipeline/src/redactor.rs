//! The models behind snapshot redaction: before a hit's whole frame is stored, the plate finder
//! and the face detector look at it once, and every other plate and every face is pixelated
//! (`raqib_events::redact`). Replay loads the models on the first hit; the live node at start.

use raqib_events::redact::{Redactor, hide_all_but};
use raqib_models::face::{Bbox, DEFAULT_DETECT_THRESHOLD};
use raqib_models::plate::PlateFinder;
use raqib_models::{FacePipeline, RgbImage};

use crate::config::{Config, Paths};

/// Redaction with the node's own models.
pub struct ModelRedactor {
    config: Config,
    paths: Paths,
    models: Option<(PlateFinder, FacePipeline)>,
}

impl ModelRedactor {
    /// A redactor that loads its models when first needed.
    pub fn new(config: &Config, paths: &Paths) -> Self {
        ModelRedactor { config: config.clone(), paths: paths.clone(), models: None }
    }

    /// A redactor with its models loaded now (the live node: the first hit must not stall the
    /// analysis thread while models load).
    pub fn loaded(config: &Config, paths: &Paths) -> anyhow::Result<Self> {
        let mut r = Self::new(config, paths);
        r.load()?;
        Ok(r)
    }

    fn load(&mut self) -> anyhow::Result<()> {
        if self.models.is_none() {
            let mut finder = crate::plates_cmd::load_finder(&self.config, &self.paths)?;
            // Redaction needs where plates are, not what they say: no re-reading from views.
            finder.views = raqib_models::plate::Views::One;
            let faces = crate::faces_cmd::load_pipeline(&self.config, &self.paths)?;
            self.models = Some((finder, faces));
        }
        Ok(())
    }

    fn boxes(&mut self, frame: &RgbImage) -> anyhow::Result<(Vec<Bbox>, Vec<Bbox>)> {
        self.load()?;
        let Some((finder, faces)) = self.models.as_mut() else { anyhow::bail!("models not loaded") };
        let plates = finder.find(frame)?.into_iter().map(|p| p.bbox).collect();
        // A lower threshold than for identification: hiding a non-face costs nothing.
        let faces = faces.detect(frame, DEFAULT_DETECT_THRESHOLD * 0.7)?.into_iter().map(|(b, _)| b).collect();
        Ok((plates, faces))
    }
}

impl Redactor for ModelRedactor {
    fn redact(&mut self, frame: &RgbImage, keep: &Bbox) -> Option<RgbImage> {
        match self.boxes(frame) {
            Ok((plates, faces)) => Some(hide_all_but(frame, keep, &plates, &faces)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot redact the hit's frame: keeping the plate crop only");
                None
            }
        }
    }
}
