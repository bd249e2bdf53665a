//! Camera configuration: what to read, how often to analyse it, where the camera is.

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ingest::{RtspSettings, RtspTransport};

/// One `[[cameras]]` entry of `raqib.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Unique, stable id used in events and the API (letters, digits, `-`, `_`).
    pub id: String,
    /// Human name shown to operators; defaults to the id.
    #[serde(default)]
    pub name: Option<String>,
    /// Source: `rtsp://…`, `rtsps://…`, `http(s)://…` (MJPEG), `file:///…` or a path, `v4l2:///dev/videoN`.
    pub url: String,
    /// Frames analysed per second (live mode); the rest are dropped before inference.
    #[serde(default = "default_analysis_fps")]
    pub analysis_fps: f32,
    /// Static latitude in degrees, for fixed cameras.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Static longitude in degrees, for fixed cameras.
    #[serde(default)]
    pub lon: Option<f64>,
    /// `host:port` of a gpsd serving this camera's live position (patrol and body cameras).
    #[serde(default)]
    pub gpsd: Option<String>,
    /// RTSP only: how media travels (`tcp`, the default: passes NAT and firewalls and loses no
    /// packets; `udp`: less delay on a clean LAN; `auto`: UDP, falling back to TCP).
    #[serde(default)]
    pub rtsp_transport: RtspTransport,
    /// RTSP only: jitter buffer in milliseconds (200); more smooths a lossy mobile link at the
    /// cost of alert delay.
    #[serde(default = "default_rtsp_latency_ms")]
    pub rtsp_latency_ms: u32,
    /// Allow-list mode (a gate): the watchlist category whose plates may pass; every other plate
    /// this camera reads raises a `not_on_allow_list` alert. Unset: an ordinary camera.
    #[serde(default)]
    pub allow_list: Option<String>,
    /// Priority of those alerts (`medium`).
    #[serde(default = "default_allow_list_priority")]
    pub allow_list_priority: raqib_watchlist::Priority,
}

fn default_allow_list_priority() -> raqib_watchlist::Priority {
    raqib_watchlist::Priority::Medium
}

fn default_analysis_fps() -> f32 {
    5.0
}

fn default_rtsp_latency_ms() -> u32 {
    RtspSettings::default().latency_ms
}

/// Longest RTSP jitter buffer accepted: beyond this an alert comes too late to act on.
pub const MAX_RTSP_LATENCY_MS: u32 = 10_000;

/// Where a camera's frames come from, parsed from [`CameraConfig::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSource {
    /// A recorded file.
    File(PathBuf),
    /// An RTSP stream (URL kept as given, credentials included).
    Rtsp(String),
    /// An HTTP(S) MJPEG stream.
    Http(String),
    /// A local V4L2 device.
    V4l2(PathBuf),
}

impl CameraConfig {
    /// A camera with every setting at its default (`--camera ID=URL` on the command line).
    pub fn with_url(id: impl Into<String>, url: impl Into<String>) -> Self {
        CameraConfig {
            id: id.into(),
            name: None,
            url: url.into(),
            analysis_fps: default_analysis_fps(),
            lat: None,
            lon: None,
            gpsd: None,
            rtsp_transport: RtspTransport::default(),
            rtsp_latency_ms: default_rtsp_latency_ms(),
            allow_list: None,
            allow_list_priority: default_allow_list_priority(),
        }
    }

    /// The hit policy's view of this camera ([`crate::stream::Place`]), at `location`.
    pub fn place(&self, location: Option<(f64, f64)>) -> crate::stream::Place {
        crate::stream::Place {
            camera: self.id.clone(),
            location,
            allow_list: self
                .allow_list
                .clone()
                .map(|category| crate::stream::AllowList { category, priority: self.allow_list_priority }),
        }
    }

    /// The name to show: `name`, or the id when unset.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Parses the source URL.
    pub fn source(&self) -> Result<CameraSource, String> {
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("rtsp://") || lower.starts_with("rtsps://") {
            Ok(CameraSource::Rtsp(url.to_owned()))
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            Ok(CameraSource::Http(url.to_owned()))
        } else if let Some(dev) = url.strip_prefix("v4l2://") {
            Ok(CameraSource::V4l2(PathBuf::from(dev)))
        } else if let Some(path) = url.strip_prefix("file://") {
            Ok(CameraSource::File(PathBuf::from(path)))
        } else if url.contains("://") {
            Err("unsupported scheme (use rtsp://, rtsps://, http(s)://, file:// or v4l2://)".into())
        } else if url.is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(CameraSource::File(PathBuf::from(url)))
        }
    }

    /// Checks this entry; `index` is its position, used to name the bad key.
    pub fn validate(&self, index: usize) -> Result<()> {
        let bad =
            |field: &str, message: String| Error::InvalidCamera { key: format!("cameras[{index}].{field}"), message };
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad("id", format!("`{}` must be non-empty letters, digits, `-` or `_`", self.id)));
        }
        self.source().map_err(|m| bad("url", m))?;
        if !(self.analysis_fps.is_finite() && self.analysis_fps > 0.0 && self.analysis_fps <= 120.0) {
            return Err(bad("analysis_fps", format!("{} must be in (0, 120]", self.analysis_fps)));
        }
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(bad("lat", format!("{lat} must be in [-90, 90]")));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(bad("lon", format!("{lon} must be in [-180, 180]")));
                }
            }
            (None, None) => {}
            (Some(_), None) => return Err(bad("lon", "must be set together with lat".into())),
            (None, Some(_)) => return Err(bad("lat", "must be set together with lon".into())),
        }
        if let Some(c) = &self.allow_list {
            raqib_watchlist::entry::validate_category_name(c).map_err(|e| bad("allow_list", e.to_string()))?;
        }
        if let Some(g) = &self.gpsd
            && g.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_none()
        {
            return Err(bad("gpsd", format!("`{g}` must be host:port")));
        }
        if self.rtsp_latency_ms > MAX_RTSP_LATENCY_MS {
            return Err(bad(
                "rtsp_latency_ms",
                format!("{} must be at most {MAX_RTSP_LATENCY_MS}", self.rtsp_latency_ms),
            ));
        }
        Ok(())
    }

    /// How an RTSP source of this camera is opened.
    pub fn rtsp(&self) -> RtspSettings {
        RtspSettings { transport: self.rtsp_transport, latency_ms: self.rtsp_latency_ms }
    }
}

/// The configured cameras plus the command line's (`URL` or `ID=URL`; a bare URL is named
/// `camN`), validated together; none at all is an error.
pub fn with_command_line(configured: &[CameraConfig], extra: &[String]) -> Result<Vec<CameraConfig>> {
    let mut all = configured.to_vec();
    for arg in extra {
        let (id, url) = match arg.split_once('=') {
            Some((id, url)) if !id.contains("://") => (id.to_owned(), url.to_owned()),
            _ => (format!("cam{}", all.len() + 1), arg.clone()),
        };
        all.push(CameraConfig::with_url(id, url));
    }
    if all.is_empty() {
        return Err(Error::InvalidCamera {
            key: "cameras".into(),
            message: "no cameras: add [[cameras]] blocks to the configuration or pass --camera URL".into(),
        });
    }
    validate_cameras(&all)?;
    Ok(all)
}

/// Validates every camera and that ids are unique.
pub fn validate_cameras(cameras: &[CameraConfig]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for (i, cam) in cameras.iter().enumerate() {
        cam.validate(i)?;
        if let Some(first) = seen.insert(cam.id.as_str(), i) {
            return Err(Error::InvalidCamera {
                key: format!("cameras[{i}].id"),
                message: format!("`{}` is already used by cameras[{first}]", cam.id),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(id: &str, url: &str) -> CameraConfig {
        CameraConfig::with_url(id, url)
    }

    #[test]
    fn parses_sources() {
        assert_eq!(cam("a", "rtsp://u:p@10.0.0.2/s").source(), Ok(CameraSource::Rtsp("rtsp://u:p@10.0.0.2/s".into())));
        assert_eq!(cam("a", "file:///v/a.mp4").source(), Ok(CameraSource::File("/v/a.mp4".into())));
        assert_eq!(cam("a", "samples/a.mp4").source(), Ok(CameraSource::File("samples/a.mp4".into())));
        assert_eq!(cam("a", "v4l2:///dev/video0").source(), Ok(CameraSource::V4l2("/dev/video0".into())));
        assert!(cam("a", "ftp://x").source().is_err());
    }

    #[test]
    fn errors_name_the_key() {
        let mut c = cam("gate-1", "rtsp://x");
        c.analysis_fps = 0.0;
        assert!(c.validate(3).unwrap_err().to_string().starts_with("cameras[3].analysis_fps"));
        let mut c = cam("gate-1", "rtsp://x");
        c.lat = Some(95.0);
        c.lon = Some(0.0);
        assert!(c.validate(0).unwrap_err().to_string().starts_with("cameras[0].lat"));
        let err = validate_cameras(&[cam("a", "x.mp4"), cam("a", "y.mp4")]).unwrap_err().to_string();
        assert!(err.starts_with("cameras[1].id") && err.contains("cameras[0]"), "{err}");
        assert!(cam("bad id", "x.mp4").validate(0).unwrap_err().to_string().starts_with("cameras[0].id"));
        let mut c = cam("gate-1", "rtsp://x");
        c.rtsp_latency_ms = 60_000;
        assert!(c.validate(2).unwrap_err().to_string().starts_with("cameras[2].rtsp_latency_ms"));
    }
}
