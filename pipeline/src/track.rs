//! IoU tracking of detections across analysed frames (SORT-style, greedy, no motion model).
//!
//! A detection joins the live track it overlaps most (IoU ≥ `min_iou`); for plates a detection
//! whose text key equals a track's also joins it when the box jumped (low analysis rate, fast
//! car), and so does one whose key equals any of the track's recent keys (one misread frame,
//! `FG173L` for `FG173ZW` on a half-seen plate, must not break the track). Tracks that miss
//! `max_missed` analysed frames in a row, and have gone unseen for `min_unseen` of media time,
//! end and are handed back, so one event per track can be emitted.

use std::time::Duration;

use raqib_models::face::Bbox;

/// How many of a track's last observations a detection's key is compared with.
const RECENT_KEYS: usize = 8;

/// Tracker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerParams {
    /// Least IoU for a detection to continue a track.
    pub min_iou: f32,
    /// Analysed frames a track may go unseen before it ends.
    pub max_missed: u32,
    /// Media time a track stays alive after its last sighting, however many frames that is (when
    /// frames carry time stamps). At 30 analysed frames per second, 5 frames are 0.17 s: less
    /// than the 0.2 s between two whole-frame plate detections, so a plate the window search lost
    /// would start a new track (and a second alert) when the next whole frame finds it again.
    pub min_unseen: Duration,
}

impl Default for TrackerParams {
    fn default() -> Self {
        TrackerParams { min_iou: 0.15, max_missed: 5, min_unseen: Duration::from_millis(500) }
    }
}

/// One object followed over frames; `T` is what is observed per frame.
#[derive(Debug, Clone)]
pub struct Track<T> {
    /// Id, unique per tracker.
    pub id: u64,
    /// Box at the last observation.
    pub bbox: Bbox,
    /// Every observation: analysed-frame index and what was seen.
    pub observations: Vec<(u64, T)>,
    missed: u32,
    /// Media time of the last observation.
    last_seen: Option<Duration>,
}

/// A detection to associate: its box, an optional identity key (plate text) and the payload.
#[derive(Debug, Clone)]
pub struct Detection<T> {
    /// Box in frame pixels.
    pub bbox: Bbox,
    /// Text key; equal keys associate even without overlap.
    pub key: Option<String>,
    /// What to keep.
    pub payload: T,
}

/// The tracker.
#[derive(Debug)]
pub struct Tracker<T> {
    params: TrackerParams,
    live: Vec<Track<T>>,
    next_id: u64,
}

impl<T> Tracker<T> {
    /// A tracker with `params`; ids start at 1.
    pub fn new(params: TrackerParams) -> Self {
        Tracker { params, live: Vec::new(), next_id: 1 }
    }

    /// Tracks currently followed.
    pub fn live(&self) -> &[Track<T>] {
        &self.live
    }

    /// Tracks currently followed, to update what they keep.
    pub fn live_mut(&mut self) -> &mut [Track<T>] {
        &mut self.live
    }

    /// Adds the detections of analysed frame `frame`, taken at media time `at` (if known);
    /// returns the tracks that ended.
    pub fn update(
        &mut self,
        frame: u64,
        at: Option<Duration>,
        detections: Vec<Detection<T>>,
        key_of: impl Fn(&T) -> Option<&str>,
    ) -> Vec<Track<T>> {
        // Candidate pairs, best IoU first; equal keys rank as a perfect overlap.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (d, det) in detections.iter().enumerate() {
            for (t, tr) in self.live.iter().enumerate() {
                let same_key = det
                    .key
                    .as_deref()
                    .is_some_and(|k| tr.observations.iter().rev().take(RECENT_KEYS).any(|(_, p)| key_of(p) == Some(k)));
                let iou = tr.bbox.iou(&det.bbox);
                let score = if same_key { 1.0 + iou } else { iou };
                if same_key || iou >= self.params.min_iou {
                    pairs.push((score, d, t));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut det_track: Vec<Option<usize>> = vec![None; detections.len()];
        let mut track_taken = vec![false; self.live.len()];
        for (_, d, t) in pairs {
            if det_track[d].is_none() && !track_taken[t] {
                det_track[d] = Some(t);
                track_taken[t] = true;
            }
        }
        for (d, det) in detections.into_iter().enumerate() {
            match det_track[d] {
                Some(t) => {
                    let tr = &mut self.live[t];
                    tr.bbox = det.bbox;
                    tr.missed = 0;
                    tr.last_seen = at;
                    tr.observations.push((frame, det.payload));
                }
                None => {
                    self.live.push(Track {
                        id: self.next_id,
                        bbox: det.bbox,
                        observations: vec![(frame, det.payload)],
                        missed: 0,
                        last_seen: at,
                    });
                    self.next_id += 1;
                }
            }
        }
        for (t, taken) in track_taken.iter().enumerate() {
            if !taken {
                self.live[t].missed += 1;
            }
        }
        let TrackerParams { max_missed, min_unseen, .. } = self.params;
        let gone = |t: &Track<T>| match (at, t.last_seen) {
            (Some(now), Some(last)) => t.missed > max_missed && now.saturating_sub(last) > min_unseen,
            _ => t.missed > max_missed,
        };
        let (ended, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.live).into_iter().partition(gone);
        self.live = live;
        ended
    }

    /// Ends every live track (end of stream).
    pub fn finish(&mut self) -> Vec<Track<T>> {
        std::mem::take(&mut self.live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, key: Option<&str>) -> Detection<String> {
        Detection {
            bbox: Bbox { x1: x, y1: 10.0, x2: x + 40.0, y2: 20.0 },
            key: key.map(str::to_owned),
            payload: key.unwrap_or("?").to_owned(),
        }
    }

    #[allow(clippy::ptr_arg)] // the tracker hands the payload type, `&String`
    fn key(s: &String) -> Option<&str> {
        Some(s.as_str())
    }

    #[test]
    fn overlapping_detections_continue_a_track_and_gaps_end_it() {
        let mut t = Tracker::new(TrackerParams { min_iou: 0.3, max_missed: 1, ..TrackerParams::default() });
        assert!(t.update(0, None, vec![det(0.0, Some("A1"))], key).is_empty());
        assert!(t.update(1, None, vec![det(5.0, Some("A2"))], key).is_empty()); // moved a little, read differs
        assert_eq!(t.live().len(), 1);
        assert_eq!(t.live()[0].observations.len(), 2);
        assert!(t.update(2, None, vec![], key).is_empty()); // missed once: still live
        let ended = t.update(3, None, vec![], key);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].id, 1);
        assert!(t.live().is_empty());
    }

    #[test]
    fn far_detections_start_new_tracks_unless_the_text_is_the_same() {
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, None, vec![det(0.0, Some("12345ب6")), det(300.0, Some("AB123CD"))], key);
        // The first plate jumped 200 px (low analysis rate) but reads the same: same track.
        t.update(1, None, vec![det(200.0, Some("12345ب6")), det(600.0, Some("XY999ZZ"))], key);
        let ids: Vec<u64> = t.live().iter().map(|tr| tr.id).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        let first = t.live().iter().find(|tr| tr.id == 1).unwrap();
        assert_eq!(first.observations.len(), 2);
        assert_eq!(t.finish().len(), 3);
    }

    /// Analysed frame `i` of a 30 fps stream.
    fn at(i: u64) -> Option<Duration> {
        Some(Duration::from_millis(i * 1000 / 30))
    }

    #[test]
    fn a_track_outlives_a_short_gap_in_time_stamped_frames() {
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, at(0), vec![det(0.0, Some("EJ728LY"))], key);
        // Lost for 6 frames (0.2 s): more than max_missed frames, less than min_unseen.
        for i in 1..=6 {
            assert!(t.update(i, at(i), vec![], key).is_empty(), "ended after {i} missed frames");
        }
        t.update(7, at(7), vec![det(30.0, Some("EJ728LY"))], key);
        assert_eq!(t.live().len(), 1);
        assert_eq!(t.live()[0].observations.len(), 2);
        // Gone for good: ends once both the frames and the time have run out.
        let ended: Vec<_> = (8..=30).flat_map(|i| t.update(i, at(i), vec![], key)).collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].id, 1);
    }

    #[test]
    fn one_misread_frame_does_not_break_a_track() {
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, None, vec![det(0.0, Some("FG173ZW"))], key);
        // A half-seen plate: thin box (no overlap worth the name) and a partial read.
        let thin = Detection {
            bbox: Bbox { x1: 5.0, y1: 12.0, x2: 35.0, y2: 17.0 },
            key: Some("FG173L".into()),
            payload: "FG173L".into(),
        };
        t.update(1, None, vec![thin], key);
        // The next read is whole again, at a box that barely overlaps the thin one.
        t.update(2, None, vec![det(-25.0, Some("FG173ZW"))], key);
        assert_eq!(t.live().len(), 1, "{:?}", t.live().iter().map(|tr| tr.id).collect::<Vec<_>>());
        assert_eq!(t.live()[0].observations.len(), 3);
    }
}
