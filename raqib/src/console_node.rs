//! What the console server sees of the running node: camera health from the ingest threads,
//! and the face models for enrolment and face search (loaded on first use, so a node without
//! face uploads never loads them twice).

use std::sync::{Arc, Mutex};

use raqib_core::Embedding;
use raqib_models::{FacePipeline, RgbImage};
use raqib_pipeline::live::{CameraHealth, LiveShared};

use crate::config::{Config, Paths};

/// The `raqib_server::Node` of `raqib run`.
pub struct ConsoleNode {
    shared: Arc<LiveShared>,
    backlog: raqib_pipeline::store_retry::Backlog,
    config: Config,
    paths: Paths,
    faces: Mutex<Option<FacePipeline>>,
}

impl ConsoleNode {
    /// A node view over the live cameras.
    pub fn new(
        shared: Arc<LiveShared>,
        backlog: raqib_pipeline::store_retry::Backlog,
        config: &Config,
        paths: &Paths,
    ) -> Self {
        ConsoleNode { shared, backlog, config: config.clone(), paths: paths.clone(), faces: Mutex::new(None) }
    }
}

impl raqib_server::Node for ConsoleNode {
    fn cameras(&self) -> Vec<CameraHealth> {
        self.shared.health()
    }

    fn events_backlog(&self) -> raqib_events::health::StoreBacklog {
        raqib_pipeline::store_retry::snapshot(&self.backlog)
    }

    fn embed_face(&self, photo: &[u8]) -> Result<Embedding, String> {
        let img = RgbImage::decode(photo).map_err(|e| format!("the upload is not a readable image: {e}"))?;
        let mut guard = self.faces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            let p = crate::load::faces(&self.config, &self.paths).map_err(|e| {
                tracing::error!(error = %e, "cannot load the face models");
                "face models unavailable on this node (see its log)".to_string()
            })?;
            *guard = Some(p);
        }
        let pipeline = guard.as_mut().ok_or("face models unavailable")?;
        // Enrolment and face search both need a face the detector finds (tight crops included).
        match pipeline.enrolment_subject(&img, raqib_models::face::DEFAULT_DETECT_THRESHOLD) {
            Ok((_, e)) => Ok(e),
            Err(raqib_models::Error::NoFace { .. }) => Err("no face found in the photo".into()),
            Err(e) => Err(format!("cannot process the photo: {e}")),
        }
    }

    fn face_model(&self) -> String {
        crate::watchlist_cmd::FACE_MODEL.to_owned()
    }

    fn face_calibration(&self) -> Option<raqib_core::FaceCalibration> {
        raqib_models::manifest::face_calibration()
    }
}
