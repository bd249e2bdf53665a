//! Plate analysis of a frame sequence: detect and read → track → vote → one event per track.
//!
//! [`PlateTracker`] takes the plates found in each analysed frame (with the frame's timestamp
//! and a JPEG of each plate crop) and, when a track ends, returns a [`PlateEvent`]: the voted
//! text, how many frames read it, when it was first and last seen, and the best shot (highest
//! confidence × √area).

use std::sync::Arc;
use std::time::Duration;

use raqib_models::RgbImage;
use raqib_models::face::Bbox;
use raqib_models::plate::PlateRead;

pub use raqib_events::records::PlateEvent;
use raqib_events::records::{crop, jpeg};

use crate::track::{Detection, Track, Tracker, TrackerParams};
use crate::vote::{Vote, vote};

/// One plate seen in one frame.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The read.
    pub read: PlateRead,
    /// Media time of the frame.
    pub pts: Option<Duration>,
    /// Frame index.
    pub frame: u64,
    /// The plate crop (with a margin), raw; only the best shot's is encoded, at the track's end.
    pub crop: Option<RgbImage>,
    /// The whole frame, kept only while this is its track's best shot (evidence for a hit).
    pub frame_image: Option<Arc<RgbImage>>,
}

/// Settings for turning tracks into events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventParams {
    /// Tracks read in fewer frames are dropped unless one read is very confident.
    pub min_reads: usize,
    /// A single read at least this confident still makes an event.
    pub single_read_confidence: f32,
    /// Least vote confidence.
    pub min_vote_confidence: f32,
}

impl Default for EventParams {
    fn default() -> Self {
        EventParams::from(&raqib_core::AnalysisPolicy::default())
    }
}

impl From<&raqib_core::AnalysisPolicy> for EventParams {
    fn from(p: &raqib_core::AnalysisPolicy) -> Self {
        EventParams {
            min_reads: p.min_reads as usize,
            single_read_confidence: p.single_read_confidence,
            min_vote_confidence: p.min_vote_confidence,
        }
    }
}

/// Tracks plates over frames and emits events.
pub struct PlateTracker {
    tracker: Tracker<Observation>,
    params: EventParams,
}

impl PlateTracker {
    /// A tracker with default tracking settings.
    pub fn new(params: EventParams) -> Self {
        PlateTracker { tracker: Tracker::new(TrackerParams::default()), params }
    }

    /// Adds the plates of analysed frame `frame`; returns events of tracks that ended.
    pub fn push(
        &mut self,
        frame: u64,
        pts: Option<Duration>,
        image: &RgbImage,
        plates: Vec<PlateRead>,
    ) -> Vec<PlateEvent> {
        let detections = plates
            .into_iter()
            .map(|read| Detection {
                bbox: read.bbox,
                key: Some(read.plate.key().to_owned()),
                payload: Observation { crop: crop(image, &read.bbox), read, pts, frame, frame_image: None },
            })
            .collect();
        let ended = self.tracker.update(frame, pts, detections, |o| Some(o.read.plate.key()));
        if tracing::enabled!(tracing::Level::TRACE) {
            for t in self.tracker.live() {
                if let Some((_, o)) = t.observations.last().filter(|(f, _)| *f == frame) {
                    let b = &o.read.bbox;
                    tracing::trace!(frame, track = t.id, key = %o.read.plate.key(),
                        x1 = b.x1, y1 = b.y1, x2 = b.x2, y2 = b.y2, "plate seen");
                }
            }
        }
        // Each track keeps the whole frame of its best shot only, and the frame is copied only
        // when it holds a track's new best shot (a track's best only changes by a new
        // observation; tracks that ended were not seen in this frame).
        let mut whole: Option<Arc<RgbImage>> = None;
        for t in self.tracker.live_mut() {
            let best =
                t.observations.iter().enumerate().max_by(|a, b| shot(&a.1.1).total_cmp(&shot(&b.1.1))).map(|(i, _)| i);
            for (i, (_, o)) in t.observations.iter_mut().enumerate() {
                if Some(i) != best {
                    o.frame_image = None;
                } else if o.frame == frame && o.frame_image.is_none() {
                    o.frame_image = Some(Arc::clone(whole.get_or_insert_with(|| Arc::new(image.clone()))));
                }
            }
        }
        ended.into_iter().filter_map(|t| self.event(t)).collect()
    }

    /// Where to look for the live tracks' plates in frame `frame`: each track's last box moved
    /// by its recent velocity, widened by its width each side (a read may cover part of the
    /// plate only: `664521` of `664521 WW`) and 1.5× its height above
    /// and below (more when it was missed), clamped to nothing outside the frame by the caller.
    pub fn windows(&self, frame: u64) -> Vec<Bbox> {
        self.tracker
            .live()
            .iter()
            .map(|t| {
                let (last, expected) = (t.bbox, t.predicted(frame));
                let ahead = frame.saturating_sub(t.last_frame()) as f32;
                let slack = 1.0 + 0.1 * ahead.min(10.0);
                let (mw, mh) = (last.width() * slack, 1.5 * last.height() * slack);
                Bbox { x1: expected.x1 - mw, y1: expected.y1 - mh, x2: expected.x2 + mw, y2: expected.y2 + mh }
            })
            .collect()
    }

    /// Ends all tracks (end of stream) and returns their events.
    pub fn finish(&mut self) -> Vec<PlateEvent> {
        let ended = self.tracker.finish();
        ended.into_iter().filter_map(|t| self.event(t)).collect()
    }

    fn event(&self, track: Track<Observation>) -> Option<PlateEvent> {
        let reads: Vec<&PlateRead> = track.observations.iter().map(|(_, o)| &o.read).collect();
        let Vote { plate, confidence, reads: voters, positions } = vote(&reads)?;
        let best_conf = reads.iter().map(|r| r.confidence).fold(0.0, f32::max);
        let enough = voters >= self.params.min_reads || best_conf >= self.params.single_read_confidence;
        if !enough || confidence < self.params.min_vote_confidence {
            return None;
        }
        let best = track.observations.iter().map(|(_, o)| o).max_by(|a, b| shot(a).total_cmp(&shot(b)))?;
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        Some(PlateEvent {
            track: track.id,
            plate,
            confidence,
            reads: voters,
            frames: track.observations.len(),
            first_seen_s: secs(track.observations.first().and_then(|(_, o)| o.pts)),
            last_seen_s: secs(track.observations.last().and_then(|(_, o)| o.pts)),
            best_frame: best.frame,
            best_time_s: secs(best.pts),
            bbox: best.read.bbox,
            crop_jpeg: best.crop.as_ref().map(jpeg).unwrap_or_default(),
            positions,
            frame_image: best.frame_image.clone(),
        })
    }
}

/// Best-shot quality of an observation: confidence × √area.
fn shot(o: &Observation) -> f32 {
    o.read.confidence * (o.read.bbox.width() * o.read.bbox.height()).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plate_read;

    #[test]
    fn the_event_keeps_the_whole_frame_of_its_best_shot_and_no_other() {
        let frame = |v: u8| RgbImage { width: 16, height: 8, data: vec![v; 16 * 8 * 3] };
        let mut tracker = PlateTracker::new(EventParams::default());
        let mut kept = Vec::new();
        for (i, conf) in [0.6f32, 0.95, 0.7].into_iter().enumerate() {
            assert!(
                tracker
                    .push(i as u64, None, &frame(10 * i as u8), vec![plate_read("12345-ب-6", &[conf; 7], None)])
                    .is_empty()
            );
            let live = tracker.tracker.live();
            kept.push(live[0].observations.iter().filter(|(_, o)| o.frame_image.is_some()).count());
            assert!(live[0].observations[i].1.frame_image.is_some() == (i < 2), "frame {i}");
        }
        assert_eq!(kept, [1, 1, 1], "one whole frame per track at any time");
        let events = tracker.finish();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].best_frame, events[0].reads), (1, 3));
        assert_eq!(events[0].frame_image.as_ref().map(|f| f.data[0]), Some(10), "the best shot's frame");
    }
}
