//! Ground truth of a generated scene: which plates and faces are where in every frame, and
//! which of them the sample watchlist lists.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::plates::PlateKind;
use crate::scene::SceneSpec;

/// Everything known about a scene, written next to its video as `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Format version of this file.
    pub version: u32,
    /// The settings the scene was made with (same settings → same truth).
    pub spec: SceneSpec,
    /// Frames in the video.
    pub frames: u64,
    /// Every vehicle's plate.
    pub plates: Vec<PlateTruth>,
    /// Every pedestrian's face.
    pub faces: Vec<FaceTruth>,
    /// Per frame, the boxes of what is visible.
    pub per_frame: Vec<FrameTruth>,
}

/// One vehicle's plate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateTruth {
    /// Object id (unique among plates).
    pub id: u32,
    /// Canonical text.
    pub text: String,
    /// Latin spelling (what an operator may type).
    pub latin: String,
    /// Country code.
    pub country: String,
    /// Plate family.
    pub kind: PlateKind,
    /// First frame with the plate in view.
    pub first_frame: u64,
    /// Last frame with the plate in view.
    pub last_frame: u64,
    /// Watchlist category when the sample watchlist lists this plate.
    pub watchlist: Option<String>,
}

/// One pedestrian's face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceTruth {
    /// Object id (unique among faces).
    pub id: u32,
    /// Identity name (`samples/faces`).
    pub identity: String,
    /// First frame with the face in view.
    pub first_frame: u64,
    /// Last frame with the face in view.
    pub last_frame: u64,
    /// Whether the sample persons file lists this identity.
    pub watchlist: bool,
}

/// What is visible in one frame.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrameTruth {
    /// Frame index from 0.
    pub index: u64,
    /// Plates in view.
    pub plates: Vec<ObjectBox>,
    /// Faces in view.
    pub faces: Vec<ObjectBox>,
}

/// An object's box in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ObjectBox {
    /// The object's id.
    pub id: u32,
    /// Box in frame pixels `[x1, y1, x2, y2]`, clipped to the frame.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// Share of the unclipped box inside the frame (1 = fully visible).
    pub visible: f32,
}

impl Truth {
    /// Reads a `truth.json`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(Error::io("reading", path))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Truth { path: path.to_owned(), message: e.to_string() })
    }

    /// Writes a `truth.json`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Truth { path: path.to_owned(), message: e.to_string() })?;
        std::fs::write(path, json).map_err(Error::io("writing", path))
    }

    /// Media time of frame `index`, seconds.
    pub fn time_of(&self, index: u64) -> f64 {
        index as f64 / f64::from(self.spec.fps)
    }
}
