//! Camera health as the console, `/metrics` and `health.json` show it (filled by the live
//! ingest in `raqib-pipeline`).

use std::time::SystemTime;

use serde::Serialize;

/// State of a camera's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    /// Opening the stream.
    Connecting,
    /// Frames are coming.
    Streaming,
    /// The stream failed; waiting before the next attempt.
    Reconnecting,
    /// Stopped (shutdown).
    Stopped,
}

/// A camera's health, as the console and `/metrics` show it.
#[derive(Debug, Clone, Serialize)]
pub struct CameraHealth {
    /// Camera id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Connection state.
    pub state: CameraState,
    /// Frames decoded (all of them, before rate limiting).
    pub frames_in: u64,
    /// Frames taken for analysis (at the analysis rate).
    pub frames_sampled: u64,
    /// Frames analysed.
    pub frames_analysed: u64,
    /// Sampled frames dropped because analysis was still busy with an older one.
    pub drops: u64,
    /// Successful reconnections after a failure.
    pub reconnects: u64,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// Wall time of the last decoded frame.
    pub last_frame_at: Option<SystemTime>,
    /// Decoded frames per second over the last few seconds.
    pub fps_in: f64,
}
