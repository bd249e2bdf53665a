//! Camera health as the console, `/metrics` and `health.json` show it (filled by the live
//! ingest in `raqib-pipeline`).

use std::path::Path;
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

impl CameraHealth {
    /// One line for a log or a terminal: state, counters, last error.
    pub fn summary(&self) -> String {
        format!(
            "health {}: {:?}, in {} ({:.1} fps), sampled {}, analysed {}, dropped {}, reconnects {}{}",
            self.id,
            self.state,
            self.frames_in,
            self.fps_in,
            self.frames_sampled,
            self.frames_analysed,
            self.drops,
            self.reconnects,
            self.last_error.as_deref().map(|e| format!(", last error: {e}")).unwrap_or_default()
        )
    }
}

/// The events store's fault, as a live node sees it: outcomes that could not be stored wait in
/// memory and are retried; when the backlog is full, reads (then hits) are dropped and counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreBacklog {
    /// Outcomes waiting to be stored.
    pub waiting: usize,
    /// Of those, hits.
    pub waiting_hits: usize,
    /// Reads that hit nothing dropped from a full backlog.
    pub dropped_reads: u64,
    /// Hits dropped from a full backlog (lost).
    pub dropped_hits: u64,
    /// The store's last error while anything waits.
    pub last_error: Option<String>,
}

impl StoreBacklog {
    /// Whether the store is failing now or has lost anything.
    pub fn is_faulty(&self) -> bool {
        self.waiting > 0 || self.dropped_hits > 0 || self.dropped_reads > 0
    }

    /// `events store: N outcome(s) waiting (H hit(s)), … dropped; last error: …`.
    pub fn summary(&self) -> String {
        format!(
            "events store: {} outcome(s) waiting to be stored ({} hit(s)), {} read(s) and {} hit(s) dropped{}",
            self.waiting,
            self.waiting_hits,
            self.dropped_reads,
            self.dropped_hits,
            self.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
        )
    }
}

/// Writes `health`, the events store's backlog and the disk's state to `path` as JSON (`{"at":
/// …, "cameras": […], "events_store": {…}, "disk": "disk: N MiB free"}`), replaced atomically (a temporary file renamed over it), so a
/// monitor never reads half a file.
pub fn write_json(
    path: &Path,
    health: &[CameraHealth],
    store: &StoreBacklog,
    disk: Option<String>,
) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let at = chrono::Utc::now().to_rfc3339();
    let doc = serde_json::json!({ "at": at, "cameras": health, "events_store": store, "disk": disk });
    let bytes = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_written_whole_and_summarised_in_one_line() {
        let h = CameraHealth {
            id: "cam1".into(),
            name: "Gate".into(),
            state: CameraState::Reconnecting,
            frames_in: 10,
            frames_sampled: 5,
            frames_analysed: 4,
            drops: 1,
            reconnects: 2,
            last_error: Some("connection refused".into()),
            last_frame_at: None,
            fps_in: 2.5,
        };
        assert_eq!(
            h.summary(),
            "health cam1: Reconnecting, in 10 (2.5 fps), sampled 5, analysed 4, dropped 1, reconnects 2, last error: connection refused"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("health.json");
        let backlog = StoreBacklog { waiting: 2, waiting_hits: 1, ..Default::default() };
        write_json(&path, std::slice::from_ref(&h), &backlog, Some("disk: 9 MiB free".into())).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["cameras"][0]["state"], "reconnecting");
        assert_eq!(doc["events_store"]["waiting_hits"], 1);
        assert!(backlog.is_faulty() && !StoreBacklog::default().is_faulty());
        assert!(backlog.summary().starts_with("events store: 2 outcome(s) waiting to be stored (1 hit(s))"));
        assert!(!path.with_extension("json.tmp").exists());
        assert!(write_json(&dir.path().join("no/such/dir/health.json"), &[h], &backlog, None).is_err());
    }
}
