//! Checks that the GStreamer installation has what raqib needs; used by `raqib doctor`.

use raqib_core::check::Check;

use crate::error::{Error, Result};

/// A GStreamer element raqib relies on, why, and how to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredElement {
    /// Factory name, e.g. `rtspsrc`.
    pub name: &'static str,
    /// What raqib uses it for.
    pub purpose: &'static str,
    /// Debian package that provides it.
    pub package: &'static str,
}

/// Elements without which some input or output kind cannot work.
pub const REQUIRED: &[RequiredElement] = &[
    RequiredElement { name: "decodebin", purpose: "decode any container/codec", package: "gstreamer1.0-plugins-base" },
    RequiredElement { name: "uridecodebin", purpose: "open files and URLs", package: "gstreamer1.0-plugins-base" },
    RequiredElement { name: "appsink", purpose: "hand frames to raqib", package: "gstreamer1.0-plugins-base" },
    RequiredElement { name: "videoconvert", purpose: "convert pixel formats", package: "gstreamer1.0-plugins-base" },
    RequiredElement { name: "videoscale", purpose: "scale frames", package: "gstreamer1.0-plugins-base" },
    RequiredElement { name: "rtspsrc", purpose: "RTSP cameras", package: "gstreamer1.0-plugins-good" },
    RequiredElement { name: "v4l2src", purpose: "USB/V4L2 cameras", package: "gstreamer1.0-plugins-good" },
    RequiredElement { name: "souphttpsrc", purpose: "HTTP MJPEG cameras", package: "gstreamer1.0-plugins-good" },
    RequiredElement { name: "jpegenc", purpose: "evidence snapshots", package: "gstreamer1.0-plugins-good" },
    RequiredElement { name: "h264parse", purpose: "H.264 streams", package: "gstreamer1.0-plugins-bad" },
    RequiredElement { name: "avdec_h264", purpose: "software H.264 decode", package: "gstreamer1.0-libav" },
    RequiredElement { name: "x264enc", purpose: "encode sample videos", package: "gstreamer1.0-plugins-ugly" },
    RequiredElement { name: "mp4mux", purpose: "write MP4 samples", package: "gstreamer1.0-plugins-good" },
];

/// Hardware video decoders GStreamer may offer; `decodebin` prefers them by rank.
pub const HW_DECODERS: &[&str] =
    &["nvh264dec", "nvh265dec", "nvv4l2decoder", "vah264dec", "vah265dec", "vaapih264dec", "qsvh264dec"];

/// What [`probe`] found.
#[derive(Debug, Clone)]
pub struct GstReport {
    /// GStreamer version string, e.g. `GStreamer 1.22.0`.
    pub version: String,
    /// Each required element and whether it is installed.
    pub elements: Vec<(RequiredElement, bool)>,
    /// Hardware decoders that are installed.
    pub hw_decoders: Vec<&'static str>,
}

impl GstReport {
    /// Required elements that are missing.
    pub fn missing(&self) -> impl Iterator<Item = &RequiredElement> {
        self.elements.iter().filter(|(_, present)| !present).map(|(e, _)| e)
    }
}

/// Initialises GStreamer and looks up every required element and hardware decoder.
pub fn probe() -> Result<GstReport> {
    gstreamer::init().map_err(|e| Error::GstInit(e.to_string()))?;
    let present = |name: &str| gstreamer::ElementFactory::find(name).is_some();
    Ok(GstReport {
        version: gstreamer::version_string().to_string(),
        elements: REQUIRED.iter().map(|e| (e.clone(), present(e.name))).collect(),
        hw_decoders: HW_DECODERS.iter().copied().filter(|n| present(n)).collect(),
    })
}

/// `raqib doctor`'s GStreamer lines: the version, each required element (a missing one names
/// its Debian package), the hardware decoders found.
pub fn checks() -> Vec<Check> {
    let report = match probe() {
        Ok(r) => r,
        Err(e) => return vec![Check::fail("gstreamer", e.to_string(), "make setup")],
    };
    let mut out = vec![Check::ok("gstreamer", report.version.clone())];
    for (el, present) in &report.elements {
        let what = format!("element {}", el.name);
        if *present {
            out.push(Check::ok(what, el.purpose));
        } else {
            out.push(Check::fail(
                what,
                format!("missing: needed to {}", el.purpose),
                format!("apt-get install {} (or make setup)", el.package),
            ));
        }
    }
    let hw = if report.hw_decoders.is_empty() {
        "none found: software decoding".to_owned()
    } else {
        report.hw_decoders.join(", ")
    };
    out.push(Check::info("hw decoders", hw));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_sees_core_elements() {
        let report = probe().expect("GStreamer initialises");
        assert!(report.version.starts_with("GStreamer 1."), "{}", report.version);
        let decodebin = report.elements.iter().find(|(e, _)| e.name == "decodebin").unwrap();
        assert!(decodebin.1, "decodebin is in plugins-base, which the build needs");
    }

    #[test]
    fn missing_lists_absent_elements_only() {
        let fake = GstReport {
            version: "GStreamer 1.22.0".into(),
            elements: vec![(REQUIRED[0].clone(), true), (REQUIRED[5].clone(), false)],
            hw_decoders: vec![],
        };
        let missing: Vec<_> = fake.missing().map(|e| e.name).collect();
        assert_eq!(missing, ["rtspsrc"]);
    }
}
