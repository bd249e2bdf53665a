//! Faces: detection (RFB-320), 68 landmarks, alignment to 112 × 112 and a 512-d embedding.
//!
//! Pre-processing follows the models' reference implementation (npm
//! `faceplugin-face-recognition-js`): detector input is the whole image resized to 320 × 240 RGB,
//! `(x − 127) / 128`, and its boxes come out already decoded ([`boxes`]); landmarks run on the face box resized to 64 × 64 grey, `/ 256`, and come
//! back relative to the box; the embedder sees the face warped by a similarity transform of five
//! points onto the ArcFace template, RGB `(x − 127) / 128`.

pub mod align;
pub mod boxes;
pub mod quality;

use std::path::Path;

use ort::value::TensorRef;
use raqib_core::Embedding;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::image_ops::{Channels, RgbImage, resize_tensor, sample_tensor};
use crate::manifest::Manifest;
use crate::runtime::{LoadedModel, Runtime, SessionOptions};
pub use boxes::Bbox;

/// Default detection score threshold (the reference uses 0.65).
pub const DEFAULT_DETECT_THRESHOLD: f32 = 0.65;
/// The manifest id of the embedder, recorded with every stored embedding.
pub const EMBEDDER_ID: &str = "face-embed-512";
/// Values in one of its embeddings.
pub const EMBEDDING_DIM: usize = 512;

/// A face found in an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    /// Box in image pixels.
    pub bbox: Bbox,
    /// Detector confidence in [0, 1].
    pub score: f32,
    /// Eye centres, nose tip, mouth corners, in image pixels.
    pub landmarks: [[f32; 2]; 5],
}

/// The three face models, loaded once and reused.
pub struct FacePipeline {
    detector: LoadedModel,
    landmarker: LoadedModel,
    embedder: LoadedModel,
}

impl FacePipeline {
    /// Verifies and loads the face models from `models_dir`.
    pub fn load(rt: &Runtime, models_dir: &Path, opts: &SessionOptions) -> Result<Self> {
        let manifest = Manifest::builtin()?;
        let load = |id: &str| -> Result<LoadedModel> { rt.session(&manifest.get(id)?.verify_in(models_dir)?, opts) };
        Ok(FacePipeline {
            detector: load("face-detect-rfb320")?,
            landmarker: load("face-landmark-68")?,
            embedder: load(EMBEDDER_ID)?,
        })
    }

    /// Face boxes with scores ≥ `threshold`, best first.
    pub fn detect(&mut self, img: &RgbImage, threshold: f32) -> Result<Vec<(Bbox, f32)>> {
        let (w, h) = (img.width as f32, img.height as f32);
        let input = resize_tensor(img, (0.0, 0.0, w, h), boxes::INPUT_W, boxes::INPUT_H, Channels::Rgb, 127.0, 128.0);
        let outputs = self.detector.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (_, scores) = outputs["scores"].try_extract_tensor::<f32>()?;
        let (_, corners) = outputs["boxes"].try_extract_tensor::<f32>()?;
        if scores.len() != boxes::ANCHORS * 2 || corners.len() != boxes::ANCHORS * 4 {
            return Err(Error::BadOutput { model: "face-detect-rfb320", what: format!("{} scores", scores.len()) });
        }
        Ok(boxes::decode(scores, corners, w, h, threshold, 0.4))
    }

    /// The 68 landmarks of the face in `bbox`, in image pixels.
    pub fn landmarks68(&mut self, img: &RgbImage, bbox: &Bbox) -> Result<Vec<[f32; 2]>> {
        let (bw, bh) = (bbox.width().max(1.0), bbox.height().max(1.0));
        let input = resize_tensor(img, (bbox.x1, bbox.y1, bw, bh), 64, 64, Channels::Grey, 0.0, 256.0);
        let outputs = self.landmarker.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (_, v) = outputs[0].try_extract_tensor::<f32>()?;
        if v.len() != 136 {
            return Err(Error::BadOutput { model: "face-landmark-68", what: format!("{} values", v.len()) });
        }
        Ok(v.chunks_exact(2).map(|p| [bbox.x1 + p[0] * bw, bbox.y1 + p[1] * bh]).collect())
    }

    /// The embedding of the face whose five points are `five`.
    pub fn embed(&mut self, img: &RgbImage, five: &[[f32; 2]; 5]) -> Result<Embedding> {
        let to_template = align::Similarity::estimate(five, &align::TEMPLATE_112);
        let back = to_template.inverse();
        let map = move |x: f32, y: f32| {
            let p = back.apply([x, y]);
            (p[0], p[1])
        };
        let input = sample_tensor(img, 112, 112, Channels::Rgb, 127.0, 128.0, &map);
        let outputs = self.embedder.session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
        let (_, v) = outputs[0].try_extract_tensor::<f32>()?;
        Embedding::new(v.to_vec()).map_err(|e| Error::BadOutput { model: EMBEDDER_ID, what: e.to_string() })
    }

    /// For photos of one person (enrolment photos, mugshot crops): the most confident face, or,
    /// when the detector finds none because the face fills the frame, the whole image taken as
    /// the face box (reported with score 0). `None` only for an empty image.
    pub fn single_subject(&mut self, img: &RgbImage, threshold: f32) -> Result<Option<(Face, Embedding)>> {
        if let Some(best) = self.analyse(img, threshold)?.into_iter().next() {
            return Ok(Some(best));
        }
        if img.width < 16 || img.height < 16 {
            return Ok(None);
        }
        let bbox = Bbox { x1: 0.0, y1: 0.0, x2: img.width as f32, y2: img.height as f32 };
        let landmarks = align::five_points(&self.landmarks68(img, &bbox)?);
        let embedding = self.embed(img, &landmarks)?;
        Ok(Some((Face { bbox, score: 0.0, landmarks }, embedding)))
    }

    /// The face to enrol (or to search with) in a photo of one person: the most confident face
    /// the detector finds at `threshold`, also in a tight crop, which is looked at again with a
    /// grey border around it (the detector wants some context); a photo in which no face is
    /// detected is refused ([`Error::NoFace`]) instead of being taken whole, so a grey square
    /// or a photo of a car is never enrolled. The face box is in the photo's pixels.
    pub fn enrolment_subject(&mut self, img: &RgbImage, threshold: f32) -> Result<(Face, Embedding)> {
        if let Some(best) = self.analyse(img, threshold)?.into_iter().next() {
            return Ok(best);
        }
        let pad = img.width.max(img.height) / 2;
        let framed = img.padded(pad, 127);
        let (mut face, embedding) = self
            .analyse(&framed, threshold)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoFace { path: "photo".into() })?;
        let p = pad as f32;
        face.bbox = Bbox { x1: face.bbox.x1 - p, y1: face.bbox.y1 - p, x2: face.bbox.x2 - p, y2: face.bbox.y2 - p };
        for l in &mut face.landmarks {
            (l[0], l[1]) = (l[0] - p, l[1] - p);
        }
        Ok((face, embedding))
    }

    /// [`Self::enrolment_subject`] of a photo file at the default detection threshold.
    pub fn enrolment_subject_of(&mut self, path: &Path) -> Result<(Face, Embedding)> {
        let img = RgbImage::open(path)?;
        self.enrolment_subject(&img, DEFAULT_DETECT_THRESHOLD).map_err(|e| match e {
            Error::NoFace { .. } => Error::NoFace { path: path.to_owned() },
            e => e,
        })
    }

    /// [`Self::single_subject`] of a photo file at the default detection threshold;
    /// [`Error::NoFace`] when it shows none.
    pub fn subject_of_photo(&mut self, path: &Path) -> Result<(Face, Embedding)> {
        let img = RgbImage::open(path)?;
        self.single_subject(&img, DEFAULT_DETECT_THRESHOLD)?.ok_or_else(|| Error::NoFace { path: path.to_owned() })
    }

    /// Every face in the image with its embedding, best detection first.
    pub fn analyse(&mut self, img: &RgbImage, threshold: f32) -> Result<Vec<(Face, Embedding)>> {
        let mut out = Vec::new();
        for (bbox, score) in self.detect(img, threshold)? {
            let l68 = self.landmarks68(img, &bbox)?;
            let landmarks = align::five_points(&l68);
            let embedding = self.embed(img, &landmarks)?;
            out.push((Face { bbox, score, landmarks }, embedding));
        }
        Ok(out)
    }
}
