//! Per-frame plate analysis with keyframes: the plate localiser runs on the whole frame only every
//! `full_frame_interval` of media time; in between it runs only in windows around the plates
//! being tracked (predicted from their motion), and the recogniser reads every analysed frame
//! for the vote. On 720p this cuts the detector's work per frame several-fold; a new plate is
//! picked up at the next full frame, within `full_frame_interval`.

use std::time::Duration;

use raqib_core::AnalysisPolicy;
use raqib_models::face::Bbox;
use raqib_models::plate::{PlateFinder, PlateRead};

use crate::error::Result;
use crate::ingest::Frame;
use crate::plates::{EventParams, PlateEvent, PlateTracker};

/// Settings of the analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisParams {
    /// Longest media time between two full-frame detections (zero: every frame is a full one).
    pub full_frame_interval: Duration,
    /// Turning tracks into events.
    pub events: EventParams,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        AnalysisParams::from(&AnalysisPolicy::default())
    }
}

impl From<&AnalysisPolicy> for AnalysisParams {
    fn from(p: &AnalysisPolicy) -> Self {
        AnalysisParams { full_frame_interval: p.full_frame_interval(), events: EventParams::from(p) }
    }
}

/// What the plate localiser looks at in one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// The whole frame (a key frame).
    Full,
    /// Only these windows around tracked plates.
    Windows(Vec<Bbox>),
    /// Nothing: no plate is tracked and it is not time for a key frame.
    Nothing,
}

/// Plate analysis of one stream: finder (borrowed, shared between streams in turn) + tracker.
pub struct PlateAnalyser {
    tracker: PlateTracker,
    params: AnalysisParams,
    last_full: Option<Duration>,
    frames_since_full: u64,
    /// Whether the last analysed frame was a full-frame detection.
    pub last_was_full: bool,
}

impl PlateAnalyser {
    /// A fresh analyser for one stream.
    pub fn new(params: AnalysisParams) -> Self {
        PlateAnalyser {
            tracker: PlateTracker::new(params.events),
            params,
            last_full: None,
            frames_since_full: 0,
            last_was_full: false,
        }
    }

    /// Analyses one frame; returns the events of tracks that ended.
    pub fn push(&mut self, finder: &mut PlateFinder, frame: &Frame) -> Result<Vec<PlateEvent>> {
        let plates = match self.plan(frame) {
            Work::Full => finder.find(&frame.image)?,
            Work::Windows(windows) => finder.find_in(&frame.image, &windows)?,
            Work::Nothing => {
                finder.last_timing = Default::default();
                Vec::new()
            }
        };
        Ok(self.record(frame, plates))
    }

    /// What the localiser must look at in this frame: the whole of it (a key frame), windows
    /// around the tracked plates, or nothing (no plate tracked between key frames).
    pub fn plan(&mut self, frame: &Frame) -> Work {
        let full = match (frame.pts, self.last_full) {
            _ if self.params.full_frame_interval.is_zero() => true,
            (Some(now), Some(last)) => now < last || now - last >= self.params.full_frame_interval,
            // No timestamps: count frames, assuming 25 fps.
            (None, Some(_)) => self.frames_since_full as f64 / 25.0 >= self.params.full_frame_interval.as_secs_f64(),
            (_, None) => true,
        };
        self.last_was_full = full;
        if full {
            self.last_full = Some(frame.pts.unwrap_or_default());
            self.frames_since_full = 0;
            return Work::Full;
        }
        self.frames_since_full += 1;
        let windows = self.tracker.windows(frame.index);
        if windows.is_empty() { Work::Nothing } else { Work::Windows(windows) }
    }

    /// Adds the plates found in `frame` (as [`plan`](Self::plan) asked); returns the events of
    /// tracks that ended.
    pub fn record(&mut self, frame: &Frame, plates: Vec<PlateRead>) -> Vec<PlateEvent> {
        self.tracker.push(frame.index, frame.pts, &frame.image, plates)
    }

    /// Ends every track (end of stream).
    pub fn finish(&mut self) -> Vec<PlateEvent> {
        self.tracker.finish()
    }
}
