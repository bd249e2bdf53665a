//! The models behind snapshot redaction: before a hit's whole frame is stored, the plate finder
//! and the face detector look at it once, and every other plate and every face is pixelated
//! (`raqib_events::redact`). Replay loads the models on the first hit; the live node at start.

use raqib_core::Bbox;
use raqib_events::redact::{Redactor, hide_all_but};
use raqib_models::face::DEFAULT_DETECT_THRESHOLD;
use raqib_models::plate::{PlateFinder, Views};
use raqib_models::{FacePipeline, RgbImage};

/// Loads the plate finder and the face pipeline, as the node is configured.
pub type ModelLoader = Box<dyn FnMut() -> raqib_models::Result<(PlateFinder, FacePipeline)> + Send>;

/// Redaction with the node's own models.
pub struct ModelRedactor {
    loader: ModelLoader,
    models: Option<(PlateFinder, FacePipeline)>,
}

impl ModelRedactor {
    /// A redactor that loads its models with `loader` when first needed.
    pub fn new(loader: ModelLoader) -> Self {
        ModelRedactor { loader, models: None }
    }

    /// A redactor with its models loaded now (the live node: the first hit must not stall the
    /// analysis thread while models load).
    pub fn loaded(loader: ModelLoader) -> raqib_models::Result<Self> {
        let mut r = Self::new(loader);
        r.load()?;
        Ok(r)
    }

    fn load(&mut self) -> raqib_models::Result<&mut (PlateFinder, FacePipeline)> {
        if self.models.is_none() {
            let (mut finder, faces) = (self.loader)()?;
            // Redaction needs where plates are, not what they say: no re-reading from views.
            finder.views = Views::One;
            self.models = Some((finder, faces));
        }
        match self.models.as_mut() {
            Some(m) => Ok(m),
            None => Err(raqib_models::Error::Image("redaction models not loaded".into())),
        }
    }

    fn boxes(&mut self, frame: &RgbImage) -> raqib_models::Result<(Vec<Bbox>, Vec<Bbox>)> {
        let (finder, faces) = self.load()?;
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
