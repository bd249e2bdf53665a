//! Faces in a frame sequence: detect → track → identify against the watchlist gallery → one
//! sighting per track.
//!
//! Privacy by design: a face is embedded only while a gallery is loaded, a track's embeddings
//! and crop live in memory only while the track does, and a track that matched nobody leaves
//! nothing but a count — no embedding, no crop, no box is handed on to be stored. A track is
//! embedded at most [`FaceParams::max_embeddings`] times, [`FaceParams::embed_every`] frames
//! apart, and keeps its best match per person.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use raqib_models::RgbImage;
use raqib_models::face::{Bbox, FacePipeline};
use raqib_watchlist::Snapshot;

pub use raqib_events::records::FaceSighting;

use crate::error::Result;
use crate::ingest::Frame;
use crate::track::{Detection, Tracker, TrackerParams};
use raqib_events::records::{crop, jpeg};

/// Settings of face analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceParams {
    /// Detector score threshold.
    pub detect_threshold: f32,
    /// Faces smaller than this (box height, pixels) are not identified: too few pixels.
    pub min_height: f32,
    /// Frames between two embeddings of one track.
    pub embed_every: u64,
    /// Embeddings per track at most.
    pub max_embeddings: usize,
    /// `[analysis]`: `face_match_threshold`, or `face_fpir_target` which with the face model's
    /// calibration makes the threshold follow the gallery's size ([`FaceParams::threshold`]).
    pub policy: raqib_core::AnalysisPolicy,
    /// The shipped face embedder's calibration (`[model.calibration]` in the manifest).
    pub calibration: Option<raqib_core::FaceCalibration>,
    /// A person already reported by this stream within this much media time is not reported
    /// again (a walker whose face track breaks into pieces at a low analysis rate would
    /// otherwise raise one alert per piece).
    pub repeat_after: Duration,
}

impl Default for FaceParams {
    fn default() -> Self {
        FaceParams::from(&raqib_core::AnalysisPolicy::default())
    }
}

impl From<&raqib_core::AnalysisPolicy> for FaceParams {
    fn from(p: &raqib_core::AnalysisPolicy) -> Self {
        FaceParams {
            detect_threshold: raqib_models::face::DEFAULT_DETECT_THRESHOLD,
            min_height: 40.0,
            embed_every: 5,
            max_embeddings: 8,
            repeat_after: p.face_repeat(),
            policy: *p,
            calibration: raqib_models::manifest::face_calibration(),
        }
    }
}

impl FaceParams {
    /// The threshold against a gallery of `faces` enrolled embeddings (the one rule:
    /// [`raqib_core::AnalysisPolicy::face_threshold`]).
    pub fn threshold(&self, faces: usize) -> f32 {
        self.policy.face_threshold(self.calibration, faces)
    }
}

#[derive(Debug, Clone, Copy)]
struct FaceObs {
    pts: Option<Duration>,
}

/// A track's best match with one person so far.
struct Best {
    person: raqib_watchlist::Person,
    similarity: f32,
    votes: usize,
    frame: u64,
    pts: Option<Duration>,
    bbox: Bbox,
    crop: Option<RgbImage>,
    /// Enrolled faces in the gallery when it matched (for the calibrated stranger rate).
    gallery_faces: usize,
}

#[derive(Default)]
struct TrackState {
    embeddings: usize,
    last_embed: Option<u64>,
    /// Per person id.
    best: HashMap<i64, Best>,
}

/// Face analysis of one stream.
pub struct FaceAnalyser {
    tracker: Tracker<FaceObs>,
    params: FaceParams,
    state: HashMap<u64, TrackState>,
    /// Face tracks that ended without matching anyone (counted, nothing kept).
    pub unmatched_tracks: u64,
    /// Embeddings computed so far.
    pub embeddings: u64,
    /// Sightings not reported because the same person was reported shortly before.
    pub repeats: u64,
    /// Media time of the last report of each person.
    reported: HashMap<i64, Duration>,
}

impl FaceAnalyser {
    /// A fresh analyser.
    pub fn new(params: FaceParams) -> Self {
        FaceAnalyser {
            tracker: Tracker::new(TrackerParams { min_iou: 0.2, ..TrackerParams::default() }),
            params,
            state: HashMap::new(),
            unmatched_tracks: 0,
            embeddings: 0,
            repeats: 0,
            reported: HashMap::new(),
        }
    }

    /// Analyses one frame against `gallery`; returns sightings of tracks that ended.
    pub fn push(&mut self, faces: &mut FacePipeline, gallery: &Snapshot, frame: &Frame) -> Result<Vec<FaceSighting>> {
        let img = &frame.image;
        let found = faces.detect(img, self.params.detect_threshold)?;
        let detections = found
            .into_iter()
            .map(|(bbox, _)| Detection { bbox, key: None, payload: FaceObs { pts: frame.pts } })
            .collect();
        let ended = self.tracker.update(frame.index, frame.pts, detections, |_| None);
        let mut out = Vec::new();
        for t in ended {
            out.extend(self.sighting(t));
        }
        let now = Utc::now();
        let due: Vec<(u64, Bbox)> = self
            .tracker
            .live()
            .iter()
            .filter(|t| t.observations.last().is_some_and(|(f, _)| *f == frame.index))
            .filter(|t| t.bbox.height() >= self.params.min_height)
            .filter(|t| {
                let s = self.state.get(&t.id);
                let taken = s.map_or(0, |s| s.embeddings);
                let last = s.and_then(|s| s.last_embed);
                taken < self.params.max_embeddings
                    && last.is_none_or(|l| frame.index.saturating_sub(l) >= self.params.embed_every)
            })
            .map(|t| (t.id, t.bbox))
            .collect();
        for (id, bbox) in due {
            let five = raqib_models::face::align::five_points(&faces.landmarks68(img, &bbox)?);
            let embedding = faces.embed(img, &five)?;
            self.embeddings += 1;
            let gallery_faces = gallery.embedding_count();
            let threshold = self.params.threshold(gallery_faces);
            let matches = gallery.match_face(&embedding, 1, threshold, now).unwrap_or_default();
            let state = self.state.entry(id).or_default();
            state.embeddings += 1;
            state.last_embed = Some(frame.index);
            for m in matches {
                let best = state.best.entry(m.person.id).or_insert_with(|| Best {
                    person: m.person.clone(),
                    similarity: f32::MIN,
                    votes: 0,
                    frame: frame.index,
                    pts: frame.pts,
                    bbox,
                    crop: None,
                    gallery_faces,
                });
                best.votes += 1;
                if m.similarity > best.similarity {
                    best.similarity = m.similarity;
                    best.frame = frame.index;
                    best.pts = frame.pts;
                    best.bbox = bbox;
                    best.crop = crop(img, &bbox);
                }
            }
        }
        Ok(out)
    }

    /// Ends every track (end of stream); returns their sightings.
    pub fn finish(&mut self) -> Vec<FaceSighting> {
        let ended = self.tracker.finish();
        ended.into_iter().filter_map(|t| self.sighting(t)).collect()
    }

    /// The sighting of an ended track: the person most of its embeddings matched (then the
    /// most similar); `None`, counted, when it matched nobody.
    fn sighting(&mut self, track: crate::track::Track<FaceObs>) -> Option<FaceSighting> {
        let state = self.state.remove(&track.id).unwrap_or_default();
        let Some(best) = state.best.into_values().max_by(|a, b| {
            (a.votes, a.similarity).partial_cmp(&(b.votes, b.similarity)).unwrap_or(std::cmp::Ordering::Equal)
        }) else {
            self.unmatched_tracks += 1;
            return None;
        };
        if let Some(at) = best.pts {
            if self.reported.get(&best.person.id).is_some_and(|prev| at.abs_diff(*prev) < self.params.repeat_after) {
                self.repeats += 1;
                return None;
            }
            self.reported.insert(best.person.id, at);
        }
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        Some(FaceSighting {
            track: track.id,
            person_id: best.person.id,
            name: best.person.name,
            category: best.person.category,
            priority: best.person.priority,
            similarity: best.similarity,
            votes: best.votes,
            embeddings: state.embeddings,
            first_seen_s: secs(track.observations.first().and_then(|(_, o)| o.pts)),
            last_seen_s: secs(track.observations.last().and_then(|(_, o)| o.pts)),
            best_frame: best.frame,
            best_time_s: secs(best.pts),
            bbox: best.bbox,
            crop_jpeg: best.crop.as_ref().map(jpeg).unwrap_or_default(),
            stranger_rate: self.params.calibration.map(|c| c.fpir(best.similarity, best.gallery_faces)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_face_threshold_follows_the_gallery_only_with_a_fpir_target() {
        let raw = FaceParams::default();
        assert!(raw.calibration.is_some(), "the shipped face embedder has a calibration");
        assert_eq!((raw.threshold(1), raw.threshold(100_000)), (0.40, 0.40));
        let policy = raqib_core::AnalysisPolicy { face_fpir_target: Some(0.003), ..Default::default() };
        let calibrated = FaceParams::from(&policy);
        let (one, many) = (calibrated.threshold(1), calibrated.threshold(100_000));
        assert!(one < many, "{one} {many}");
        let cal = calibrated.calibration.unwrap();
        assert!((cal.fpir(many, 100_000) - 0.003).abs() < 1e-4);
    }
}
