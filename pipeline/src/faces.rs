//! Faces in a frame sequence: detect → track → identify against the watchlist gallery → one
//! sighting per track.
//!
//! Privacy by design: a face is embedded only while a gallery is loaded, a track's embeddings
//! and crop live in memory only while the track does, and a track that matched nobody leaves
//! nothing but a count — no embedding, no crop, no box is handed on to be stored. A track is
//! looked at every [`FaceParams::embed_every`] frames; each look is first put through the
//! quality gate ([`QualityGate`]: size, sharpness, pose from the landmarks), and only a face
//! that passes is embedded (at most [`FaceParams::max_embeddings`] per track) and matched.
//!
//! A track identifies a person only after enough consistent good attempts: at least
//! [`FaceParams::min_attempts`] of its embedded faces matched that person, and those faces hold
//! at least [`FaceParams::min_share`] of the face area of all its embedded faces (a large,
//! close face counts for more than a small one). One frame, good or bad, cannot raise an
//! alert. At a low analysis rate the tracker can lose a walking face between two analysed
//! frames and cut one walk into pieces; a piece that matched a listed person without enough
//! attempts of its own is held in memory for [`FaceParams::piece_window`] of media time, and
//! the next piece matching the same person counts with it. What was gated, and the tracks
//! that matched someone without enough consistent attempts, are counted ([`FaceCounts`]) and
//! nothing else is kept of them.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use raqib_models::RgbImage;
use raqib_models::face::quality::{self, Gated, QualityGate};
use raqib_models::face::{Bbox, FacePipeline};
use raqib_watchlist::Snapshot;
use serde::Serialize;

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
    /// What a face must meet to be embedded and matched.
    pub gate: QualityGate,
    /// Frames between two looks at one track.
    pub embed_every: u64,
    /// Embeddings per track at most.
    pub max_embeddings: usize,
    /// Embedded faces of a track that must match a person before it identifies them.
    pub min_attempts: usize,
    /// The share of a track's embedded face area that the faces matching a person must hold.
    pub min_share: f32,
    /// A track that matched a listed person without enough attempts of its own is held (in
    /// memory) this much media time, so that the next piece of the same walk, when the tracker
    /// loses a face between two analysed frames at a low analysis rate, can confirm it.
    pub piece_window: Duration,
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
            gate: QualityGate::default(),
            embed_every: 5,
            max_embeddings: 8,
            min_attempts: 2,
            min_share: 0.5,
            piece_window: Duration::from_secs(3),
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

/// Counts of face analysis: nothing else is kept of the faces they count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FaceCounts {
    /// Looks at a face too small to identify.
    pub too_small: u64,
    /// Looks at a blurred face.
    pub blurred: u64,
    /// Looks at a face turned away (yaw, pitch or roll).
    pub turned_away: u64,
    /// Faces embedded and matched.
    pub embedded: u64,
    /// Tracks that ended without matching anyone.
    pub unmatched_tracks: u64,
    /// Tracks that matched someone without enough consistent good attempts (no alert).
    pub unconfirmed_tracks: u64,
}

impl FaceCounts {
    /// Looks stopped by the gate, by reason.
    pub fn gated(&self) -> [(Gated, u64); 3] {
        [(Gated::TooSmall, self.too_small), (Gated::Blurred, self.blurred), (Gated::TurnedAway, self.turned_away)]
    }

    /// What was counted between `earlier` and `self`.
    pub fn since(&self, earlier: &FaceCounts) -> FaceCounts {
        FaceCounts {
            too_small: self.too_small - earlier.too_small,
            blurred: self.blurred - earlier.blurred,
            turned_away: self.turned_away - earlier.turned_away,
            embedded: self.embedded - earlier.embedded,
            unmatched_tracks: self.unmatched_tracks - earlier.unmatched_tracks,
            unconfirmed_tracks: self.unconfirmed_tracks - earlier.unconfirmed_tracks,
        }
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &FaceCounts) {
        self.too_small += other.too_small;
        self.blurred += other.blurred;
        self.turned_away += other.turned_away;
        self.embedded += other.embedded;
        self.unmatched_tracks += other.unmatched_tracks;
        self.unconfirmed_tracks += other.unconfirmed_tracks;
    }

    fn gate(&mut self, why: Gated) {
        match why {
            Gated::TooSmall => self.too_small += 1,
            Gated::Blurred => self.blurred += 1,
            Gated::TurnedAway => self.turned_away += 1,
        }
    }
}

/// A track's best match with one person so far.
struct Best {
    person: raqib_watchlist::Person,
    similarity: f32,
    votes: usize,
    /// Face area (pixels²) of the embedded faces that matched this person.
    area: f32,
    frame: u64,
    pts: Option<Duration>,
    bbox: Bbox,
    crop: Option<RgbImage>,
    /// Templates in the gallery when it matched (for the calibrated stranger rate).
    gallery_faces: usize,
}

#[derive(Default)]
struct TrackState {
    embeddings: usize,
    /// Face area of all its embedded faces.
    area: f32,
    last_look: Option<u64>,
    /// Per person id.
    best: HashMap<i64, Best>,
}

/// Face analysis of one stream.
pub struct FaceAnalyser {
    tracker: Tracker<FaceObs>,
    params: FaceParams,
    state: HashMap<u64, TrackState>,
    /// What was gated, embedded, unmatched and unconfirmed so far (counted, nothing kept).
    pub counts: FaceCounts,
    /// Sightings not reported because the same person was reported shortly before.
    pub repeats: u64,
    /// Media time of the last report of each person.
    reported: HashMap<i64, Duration>,
    /// Unconfirmed track pieces that matched a listed person, by person (memory only).
    pieces: HashMap<i64, Piece>,
}

/// A track that matched a listed person without enough consistent attempts of its own.
struct Piece {
    best: Best,
    /// Face area of all the piece's embedded faces.
    area: f32,
    embeddings: usize,
}

impl FaceAnalyser {
    /// A fresh analyser.
    pub fn new(params: FaceParams) -> Self {
        FaceAnalyser {
            tracker: Tracker::new(TrackerParams { min_iou: 0.2, ..TrackerParams::default() }),
            params,
            state: HashMap::new(),
            counts: FaceCounts::default(),
            repeats: 0,
            reported: HashMap::new(),
            pieces: HashMap::new(),
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
        // Held pieces no live or later track can confirm any more are let go now, not only
        // when the next face track ends (which may be never on a quiet camera).
        let oldest_live =
            self.tracker.live().iter().filter_map(|t| t.observations.first().and_then(|(_, o)| o.pts)).min();
        let oldest = frame.pts.map(|now| oldest_live.map_or(now, |o| o.min(now)));
        prune_pieces(&mut self.pieces, self.params.piece_window, oldest);
        let now = Utc::now();
        let due: Vec<(u64, Bbox)> = self
            .tracker
            .live()
            .iter()
            .filter(|t| t.observations.last().is_some_and(|(f, _)| *f == frame.index))
            .filter(|t| {
                let s = self.state.get(&t.id);
                let taken = s.map_or(0, |s| s.embeddings);
                let last = s.and_then(|s| s.last_look);
                taken < self.params.max_embeddings
                    && last.is_none_or(|l| frame.index.saturating_sub(l) >= self.params.embed_every)
            })
            .map(|t| (t.id, t.bbox))
            .collect();
        for (id, bbox) in due {
            self.state.entry(id).or_default().last_look = Some(frame.index);
            let Some(five) = self.good_face(faces, img, &bbox)? else { continue };
            let embedding = faces.embed(img, &five)?;
            self.counts.embedded += 1;
            let gallery_faces = gallery.template_count();
            let threshold = self.params.threshold(gallery_faces);
            let matches = gallery.match_face(&embedding, 1, threshold, now).unwrap_or_default();
            let area = bbox.width().max(0.0) * bbox.height().max(0.0);
            let state = self.state.entry(id).or_default();
            state.embeddings += 1;
            state.area += area;
            for m in matches {
                let best = state.best.entry(m.person.id).or_insert_with(|| Best {
                    person: m.person.clone(),
                    similarity: f32::MIN,
                    votes: 0,
                    area: 0.0,
                    frame: frame.index,
                    pts: frame.pts,
                    bbox,
                    crop: None,
                    gallery_faces,
                });
                best.votes += 1;
                best.area += area;
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

    /// The five points of the face in `bbox` when it passes the quality gate; counts it when not.
    fn good_face(&mut self, faces: &mut FacePipeline, img: &RgbImage, bbox: &Bbox) -> Result<Option<[[f32; 2]; 5]>> {
        let gate = &self.params.gate;
        if bbox.height() < gate.min_height {
            self.counts.gate(Gated::TooSmall);
            return Ok(None);
        }
        let five = raqib_models::face::align::five_points(&faces.landmarks68(img, bbox)?);
        let q = quality::assess(img, bbox, &five);
        let gated = gate.check(&q);
        tracing::trace!(gated = gated.map(Gated::as_str), ?q, "face look");
        if let Some(why) = gated {
            self.counts.gate(why);
            return Ok(None);
        }
        Ok(Some(five))
    }

    /// Ends every track (end of stream); returns their sightings.
    pub fn finish(&mut self) -> Vec<FaceSighting> {
        let ended = self.tracker.finish();
        ended.into_iter().filter_map(|t| self.sighting(t)).collect()
    }

    /// The sighting of an ended track: the person whose matching faces hold the most face
    /// area (then the most similar), when they are enough consistent attempts
    /// ([`FaceParams::min_attempts`], [`FaceParams::min_share`]); `None`, counted, when it
    /// matched nobody or not consistently.
    fn sighting(&mut self, track: crate::track::Track<FaceObs>) -> Option<FaceSighting> {
        let mut state = self.state.remove(&track.id).unwrap_or_default();
        let best = match identified(&mut state, &self.params, &mut self.pieces) {
            Ok(best) => best,
            Err(NotKept::Unmatched) => {
                self.counts.unmatched_tracks += 1;
                return None;
            }
            Err(NotKept::Unconfirmed) => {
                self.counts.unconfirmed_tracks += 1;
                return None;
            }
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
            scope: best.person.scope,
        })
    }
}

/// Why an ended track raises nothing.
#[derive(Debug, PartialEq, Eq)]
enum NotKept {
    /// None of its faces matched anyone.
    Unmatched,
    /// Someone matched, but not in enough consistent good attempts.
    Unconfirmed,
}

/// Drops the held pieces that no track can confirm any more: a track confirms a piece when
/// its best look is within `window` of the piece's, and every live or later track's best look
/// is at or after `oldest` (the earliest first look of a live track, or now). `None`: media
/// time unknown, nothing dropped.
fn prune_pieces(pieces: &mut HashMap<i64, Piece>, window: Duration, oldest: Option<Duration>) {
    let Some(oldest) = oldest else { return };
    pieces.retain(|_, p| p.best.pts.is_some_and(|at| at + window >= oldest));
}

/// The person an ended track identifies (the one rule): of the persons its embedded faces
/// matched, the one whose matching faces hold the most face area (then the most similar),
/// when at least [`FaceParams::min_attempts`] faces matched them and those hold at least
/// [`FaceParams::min_share`] of the area of all the track's embedded faces. A piece of the same
/// person's walk that ended unconfirmed within [`FaceParams::piece_window`] before counts with
/// it (its attempts and its area); an unconfirmed track is held in `pieces` for the next one.
fn identified(
    state: &mut TrackState,
    params: &FaceParams,
    pieces: &mut HashMap<i64, Piece>,
) -> std::result::Result<Best, NotKept> {
    let mut best = std::mem::take(&mut state.best)
        .into_values()
        .max_by(|a, b| (a.area, a.similarity).partial_cmp(&(b.area, b.similarity)).unwrap_or(std::cmp::Ordering::Equal))
        .ok_or(NotKept::Unmatched)?;
    let near = |at: Option<Duration>, other: Option<Duration>| matches!((at, other), (Some(a), Some(b)) if a.abs_diff(b) <= params.piece_window);
    pieces.retain(|_, p| near(p.best.pts, best.pts));
    let mut area = state.area;
    if let Some(p) = pieces.remove(&best.person.id) {
        best.votes += p.best.votes;
        best.area += p.best.area;
        area += p.area;
        state.embeddings += p.embeddings;
        if p.best.similarity > best.similarity {
            let votes = best.votes;
            let matched = best.area;
            best = Best { votes, area: matched, ..p.best };
        }
    }
    if best.votes < params.min_attempts || best.area < params.min_share * area {
        pieces.insert(best.person.id, Piece { best, area, embeddings: state.embeddings });
        return Err(NotKept::Unconfirmed);
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64) -> raqib_watchlist::Person {
        raqib_watchlist::Person {
            id,
            name: format!("p{id}"),
            category: "wanted_person".into(),
            priority: raqib_watchlist::Priority::High,
            case_ref: None,
            valid_from: None,
            expires_at: None,
            notes: None,
            scope: raqib_watchlist::Scope::default(),
        }
    }

    /// A track whose embedded faces were `(person matched, face side in pixels)`.
    fn track(attempts: &[(Option<i64>, f32)]) -> TrackState {
        let mut s = TrackState::default();
        for (i, (who, side)) in attempts.iter().enumerate() {
            let area = side * side;
            s.embeddings += 1;
            s.area += area;
            if let Some(id) = who {
                let b = s.best.entry(*id).or_insert_with(|| Best {
                    person: person(*id),
                    similarity: 0.0,
                    votes: 0,
                    area: 0.0,
                    frame: i as u64,
                    pts: None,
                    bbox: Bbox { x1: 0.0, y1: 0.0, x2: *side, y2: *side },
                    crop: None,
                    gallery_faces: 1,
                });
                b.votes += 1;
                b.area += area;
                b.similarity = b.similarity.max(0.5);
            }
        }
        s
    }

    #[test]
    fn a_held_piece_is_let_go_once_no_track_can_confirm_it() {
        let p = FaceParams::default();
        let secs = Duration::from_secs;
        let mut piece = track(&[(Some(1), 80.0)]);
        piece.best.values_mut().for_each(|b| b.pts = Some(secs(10)));
        let mut pieces = HashMap::new();
        assert!(identified(&mut piece, &p, &mut pieces).is_err());
        assert_eq!(pieces.len(), 1, "held");
        // A live track that began within the window could still confirm it.
        prune_pieces(&mut pieces, p.piece_window, Some(secs(10) + p.piece_window));
        assert_eq!(pieces.len(), 1);
        prune_pieces(&mut pieces, p.piece_window, None);
        assert_eq!(pieces.len(), 1, "no media time: nothing dropped");
        // Past the window and no older live track: nothing can confirm it any more.
        prune_pieces(&mut pieces, p.piece_window, Some(secs(10) + p.piece_window + secs(1)));
        assert!(pieces.is_empty());
    }

    #[test]
    fn one_matching_face_is_not_an_identification() {
        let p = FaceParams::default();
        let id = |t: &[(Option<i64>, f32)]| identified(&mut track(t), &p, &mut HashMap::new()).map(|b| b.person.id);
        assert_eq!(id(&[]).err(), Some(NotKept::Unmatched));
        assert_eq!(id(&[(None, 80.0), (None, 80.0)]).err(), Some(NotKept::Unmatched));
        // One good frame that matched, however close, raises nothing.
        assert_eq!(id(&[(Some(1), 200.0)]).err(), Some(NotKept::Unconfirmed));
        assert_eq!(id(&[(Some(1), 200.0), (None, 60.0)]).err(), Some(NotKept::Unconfirmed));
        // Two consistent attempts do.
        assert_eq!(id(&[(Some(1), 80.0), (None, 60.0), (Some(1), 80.0)]), Ok(1));
    }

    #[test]
    fn consistency_is_weighted_by_face_area() {
        let p = FaceParams::default();
        let id = |t: &[(Option<i64>, f32)]| identified(&mut track(t), &p, &mut HashMap::new()).map(|b| b.person.id);
        // Two small faces matched person 1; three large ones matched nobody: most of what the
        // track showed was not person 1.
        let mostly_other = [(Some(1), 45.0), (Some(1), 45.0), (None, 120.0), (None, 120.0), (None, 120.0)];
        assert_eq!(id(&mostly_other).err(), Some(NotKept::Unconfirmed));
        // Two large faces of person 2 outweigh three small ones of person 1.
        let larger = [(Some(1), 45.0), (Some(1), 45.0), (Some(1), 45.0), (Some(2), 120.0), (Some(2), 120.0)];
        assert_eq!(id(&larger), Ok(2));
    }

    #[test]
    fn pieces_of_one_walk_confirm_each_other_within_the_window_only() {
        let p = FaceParams::default();
        let at = |t: &[(Option<i64>, f32)], secs: u64| {
            let mut s = track(t);
            for b in s.best.values_mut() {
                b.pts = Some(Duration::from_secs(secs));
            }
            s
        };
        // A walk broken into two one-attempt pieces 1 s apart: the second confirms the first.
        let mut pieces = HashMap::new();
        assert_eq!(identified(&mut at(&[(Some(1), 80.0)], 10), &p, &mut pieces).err(), Some(NotKept::Unconfirmed));
        let both = identified(&mut at(&[(Some(1), 80.0), (None, 50.0)], 11), &p, &mut pieces).unwrap();
        assert_eq!((both.person.id, both.votes), (1, 2));
        assert!(pieces.is_empty());
        // Pieces further apart than the window, or of another person, do not.
        assert!(identified(&mut at(&[(Some(1), 80.0)], 20), &p, &mut pieces).is_err());
        assert!(identified(&mut at(&[(Some(2), 80.0)], 21), &p, &mut pieces).is_err());
        assert!(identified(&mut at(&[(Some(1), 80.0)], 25), &p, &mut pieces).is_err());
        assert_eq!(pieces.len(), 1, "only the last piece is still held");
    }

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
