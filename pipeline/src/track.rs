//! IoU tracking of detections across analysed frames (SORT-style, greedy, constant-velocity
//! prediction).
//!
//! A detection joins the live track it overlaps most (IoU ≥ `min_iou`), with the track's box
//! either where it was last seen or moved on by its last velocity: at 5 analysed frames per
//! second a car's plate moves about its own height between two frames, so the box where it was
//! hardly overlaps the one where it is. For plates, a detection whose text key equals any of the
//! track's recent keys joins it even when the box jumped (one misread frame, `FG173L` for
//! `FG173ZW` on a half-seen plate, must not break the track), and one whose key is a single edit
//! away (`99760أ1` while the plate enters the picture, `EWV3O37` for `EWV3037`) joins it when
//! it is next to where the track is expected. Tracks that miss `max_missed` analysed frames in a
//! row, and have gone unseen for `min_unseen` of media time, end and are handed back, so one
//! event per track can be emitted.

use std::time::Duration;

use raqib_core::edit::levenshtein;
use raqib_models::face::Bbox;

/// How many of a track's last observations a detection's key is compared with.
const RECENT_KEYS: usize = 8;

/// Shortest key that may join a track one edit away from its keys.
const NEAR_KEY_MIN_LEN: usize = 4;

/// Missed frames after which a track ends even if its time stamps say it was seen within
/// `min_unseen` (frames whose time stands still).
const STILL_TIME_FRAMES: u32 = 100;

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
    /// Box of the observation before the last, for the velocity.
    previous: Option<Bbox>,
}

impl<T> Track<T> {
    /// Where the box is expected in `frame`: the last box moved on by the velocity between the
    /// last two observations (the last box when there is only one).
    pub fn predicted(&self, frame: u64) -> Bbox {
        let b = self.bbox;
        let last_frame = self.last_frame();
        let f0 = self.observations.iter().rev().nth(1).map(|(f, _)| *f);
        let (Some(b0), Some(f0)) = (self.previous, f0.filter(|f0| *f0 < last_frame)) else { return b };
        let steps = frame.saturating_sub(last_frame) as f32 / (last_frame - f0) as f32;
        let dx = ((b.x1 + b.x2) - (b0.x1 + b0.x2)) / 2.0 * steps;
        let dy = ((b.y1 + b.y2) - (b0.y1 + b0.y2)) / 2.0 * steps;
        Bbox { x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy }
    }

    /// Analysed frame of the last observation.
    pub fn last_frame(&self) -> u64 {
        self.observations.last().map_or(0, |(f, _)| *f)
    }
}

/// Whether `a`'s centre is within one width and one height of `b`'s.
fn next_to(a: &Bbox, b: &Bbox) -> bool {
    let (w, h) = (a.width().max(b.width()), a.height().max(b.height()));
    ((a.x1 + a.x2) - (b.x1 + b.x2)).abs() / 2.0 <= w && ((a.y1 + a.y2) - (b.y1 + b.y2)).abs() / 2.0 <= h
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
        // Candidate pairs, best first: an equal key, then a key one edit away next to the
        // expected place, then the overlap alone.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        let expected: Vec<Bbox> = self.live.iter().map(|tr| tr.predicted(frame)).collect();
        for (d, det) in detections.iter().enumerate() {
            for (t, (tr, expected)) in self.live.iter().zip(&expected).enumerate() {
                let iou = tr.bbox.iou(&det.bbox).max(expected.iou(&det.bbox));
                let recent = || tr.observations.iter().rev().take(RECENT_KEYS).filter_map(|(_, p)| key_of(p));
                let key = det.key.as_deref();
                let score = match key {
                    Some(k) if recent().any(|r| r == k) => 2.0 + iou,
                    Some(k)
                        if k.chars().count() >= NEAR_KEY_MIN_LEN
                            && next_to(&det.bbox, expected)
                            && recent().any(|r| levenshtein(r, k) <= 1) =>
                    {
                        1.0 + iou
                    }
                    _ if iou >= self.params.min_iou => iou,
                    _ => continue,
                };
                pairs.push((score, d, t));
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
                    tr.previous = Some(tr.bbox);
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
                        previous: None,
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
        // Time that went backwards (a looped file, a camera that reconnected) or stood still
        // for many frames (broken time stamps) cannot keep a track alive: frames decide then.
        let gone = |t: &Track<T>| match (at, t.last_seen) {
            _ if t.missed <= max_missed => false,
            (Some(now), Some(last)) if now >= last && t.missed <= STILL_TIME_FRAMES => now - last > min_unseen,
            _ => true,
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
    fn time_that_goes_back_or_stands_still_does_not_keep_a_track_alive() {
        // A looped file: time restarts at 0 while the track was last seen at 5 s.
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, Some(Duration::from_secs(5)), vec![det(0.0, Some("A1"))], key);
        let ended: Vec<_> = (1..=6).flat_map(|i| t.update(i, at(i), vec![], key)).collect();
        assert_eq!(ended.len(), 1, "ended by frames once time went back");
        // Broken time stamps: every frame at the same time.
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, at(1), vec![det(0.0, Some("A1"))], key);
        let ended: Vec<_> = (1..=STILL_TIME_FRAMES as u64 + 1).flat_map(|i| t.update(i, at(1), vec![], key)).collect();
        assert_eq!(ended.len(), 1, "ended after {STILL_TIME_FRAMES} frames without time passing");
    }

    /// A plate box 30 px high, top-left at (x, y).
    fn plate(x: f32, y: f32, key: &str) -> Detection<String> {
        Detection {
            bbox: Bbox { x1: x, y1: y, x2: x + 120.0, y2: y + 30.0 },
            key: Some(key.into()),
            payload: key.into(),
        }
    }

    #[test]
    fn a_plate_moving_its_own_height_per_frame_stays_one_track() {
        // 5 analysed frames per second: the plate moves 25 px down a frame (IoU with where it
        // was: 0.09), and the reads alternate between two spellings no key links.
        let mut t = Tracker::new(TrackerParams::default());
        let reads = ["EWV3037", "EWV3037", "XXX", "EWV3O37", "EWV3037", "ZZZ", "EWV3O37"];
        for (i, read) in reads.iter().enumerate() {
            t.update(i as u64, None, vec![plate(300.0, 300.0 + 25.0 * i as f32, read)], key);
        }
        assert_eq!(t.live().len(), 1, "{:?}", t.live().iter().map(|tr| tr.id).collect::<Vec<_>>());
        assert_eq!(t.live()[0].observations.len(), reads.len());
    }

    #[test]
    fn a_partial_read_joins_the_whole_plates_track_next_to_it_but_not_one_far_away() {
        let mut t = Tracker::new(TrackerParams::default());
        t.update(0, None, vec![plate(830.0, 350.0, "99760أ11"), plate(100.0, 350.0, "99760أ12")], key);
        // The plate entering the picture reads one character short, 28 px lower (IoU 0.03).
        t.update(1, None, vec![plate(842.0, 378.0, "99760أ1")], key);
        let first = t.live().iter().find(|tr| tr.id == 1).unwrap();
        assert_eq!(first.observations.len(), 2, "joined the track next to it");
        assert_eq!(t.live().iter().find(|tr| tr.id == 2).unwrap().observations.len(), 1);
        // A read one edit away far from any track is another plate.
        t.update(2, None, vec![plate(500.0, 50.0, "99760أ13")], key);
        assert_eq!(t.live().len(), 3);
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
