//! GStreamer ingest: any file or URI GStreamer can decode → RGB frames with media timestamps.
//!
//! `uridecodebin ! videoconvert ! video/x-raw,format=RGB ! appsink`. `uridecodebin` picks the
//! demuxer and decoder by rank, so hardware decoders (NVDEC, VA-API) are used when their plugins
//! are installed. For replay the sink is not synchronised to the clock and never drops: frames
//! come as fast as they decode, none lost.

use std::path::Path;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use raqib_models::RgbImage;

use crate::error::{Error, Result};

/// One decoded frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Pixels.
    pub image: RgbImage,
    /// Presentation time from the start of the media, when the stream has one.
    pub pts: Option<Duration>,
    /// Index of this frame in decode order, from 0.
    pub index: u64,
}

/// How RTSP media travels ([`RtspSettings::transport`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtspTransport {
    /// Interleaved in the RTSP TCP connection: passes NAT and firewalls, loses no packets.
    #[default]
    Tcp,
    /// RTP over UDP: least delay on a clean network; lost packets smear frames.
    Udp,
    /// UDP (unicast, then multicast), falling back to TCP when nothing arrives.
    Auto,
}

impl RtspTransport {
    /// The `rtspsrc` `protocols` value.
    pub fn protocols(self) -> &'static str {
        match self {
            RtspTransport::Tcp => "tcp",
            RtspTransport::Udp => "udp",
            RtspTransport::Auto => "udp+udp-mcast+tcp",
        }
    }
}

/// How a live RTSP source is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtspSettings {
    /// Media transport.
    pub transport: RtspTransport,
    /// Jitter buffer, milliseconds.
    pub latency_ms: u32,
}

impl Default for RtspSettings {
    fn default() -> Self {
        RtspSettings { transport: RtspTransport::default(), latency_ms: 200 }
    }
}

/// A decoding pipeline that hands out frames in order.
pub struct FrameSource {
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    bus: gst::Bus,
    next_index: u64,
    name: String,
    decoded: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Set once the decoder has found every stream of the input (`no-more-pads`).
    streams_known: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The sink pad the video stream links to (unlinked: no video stream).
    video_in: Option<gst::Pad>,
}

/// How long a file may deliver nothing (no frame, no end, no error) before it is given up as
/// damaged: decoding a local frame takes milliseconds, so this is a stuck demuxer, not a slow one.
pub const FILE_STALL: Duration = Duration::from_secs(30);

impl FrameSource {
    /// Opens a local file for decoding.
    pub fn open_file(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::Source { source_name: path.display().to_string(), message: "no such file".into() });
        }
        let abs = path
            .canonicalize()
            .map_err(|e| Error::Source { source_name: path.display().to_string(), message: e.to_string() })?;
        let uri = gst::glib::filename_to_uri(&abs, None)
            .map_err(|e| Error::Source { source_name: path.display().to_string(), message: e.to_string() })?;
        Self::open_uri(&uri, &path.display().to_string())
    }

    /// Opens any URI `uridecodebin` understands (`file://`, `rtsp://`, `http://`…) for replay
    /// (as fast as it decodes); `name` is used in errors and logs.
    pub fn open_uri(uri: &str, name: &str) -> Result<Self> {
        Self::open_uri_with(uri, name, None, None)
    }

    /// Opens a URI for live analysis: frames are delivered at their media time (a file plays at
    /// its own speed, like a camera), RTSP is opened as `rtsp` says (by default over TCP with
    /// 200 ms of jitter buffer), and only up to `max_rate` frames per second leave GStreamer
    /// (dropping only): every frame is decoded, as H.264 needs, but only those are converted to
    /// RGB and copied.
    pub fn open_live(uri: &str, name: &str, max_rate: u32, rtsp: RtspSettings) -> Result<Self> {
        Self::open_uri_with(uri, name, Some(rtsp), Some(max_rate.max(1)))
    }

    /// Frames decoded so far (before any rate limiting).
    pub fn decoded_frames(&self) -> u64 {
        self.decoded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `live`: the RTSP settings of a live source, `None` for replay.
    fn open_uri_with(uri: &str, name: &str, live: Option<RtspSettings>, max_rate: Option<u32>) -> Result<Self> {
        gst::init().map_err(|e| Error::GstInit(e.to_string()))?;
        let bad = |message: String| Error::Source { source_name: name.to_owned(), message };
        let make = |factory: &str| {
            gst::ElementFactory::make(factory)
                .build()
                .map_err(|_| bad(format!("GStreamer element `{factory}` is missing; run `raqib doctor`")))
        };
        let pipeline = gst::Pipeline::new();
        let decode = make("uridecodebin")?;
        decode.set_property("uri", uri);
        let convert = make("videoconvert")?;
        let sink = gst_app::AppSink::builder()
            .caps(&gst::Caps::builder("video/x-raw").field("format", "RGB").build())
            // Files play at their own speed in live mode; network streams are paced by the sender.
            .sync(live.is_some() && !uri.starts_with("rtsp"))
            .max_buffers(4)
            .drop(false)
            .build();
        if let Some(rtsp) = live {
            decode.connect("source-setup", false, move |args| {
                let source = args.get(1).and_then(|v| v.get::<gst::Element>().ok())?;
                let is_rtsp = source.factory().is_some_and(|f| f.name() == "rtspsrc");
                if is_rtsp {
                    source.set_property("latency", rtsp.latency_ms);
                    source.set_property_from_str("protocols", rtsp.transport.protocols());
                    // Give up on a silent server after 5 s instead of waiting forever.
                    source.set_property("tcp-timeout", 5_000_000u64);
                }
                None
            });
        }
        pipeline
            .add_many([&decode, &convert, sink.upcast_ref()])
            .map_err(|e| bad(format!("building the pipeline: {e}")))?;
        convert.link(&sink).map_err(|e| bad(format!("linking videoconvert to appsink: {e}")))?;
        // Every decoded frame passes this probe: it is counted and, in live mode, only frames
        // at the analysis rate go on to the colour conversion and the copy (a pad probe rather
        // than `videorate`, which stalled after an RTSP reconnection in testing).
        let decoded = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        if let Some(pad) = convert.static_pad("sink") {
            let counter = decoded.clone();
            let gate = max_rate.map(|r| std::sync::Mutex::new(RateGate::new(f64::from(r))));
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (Some(gate), Some(pts)) = (gate.as_ref(), info.buffer().and_then(|b| b.pts())) else {
                    return gst::PadProbeReturn::Ok;
                };
                let admit = gate.lock().unwrap_or_else(|p| p.into_inner()).admit(Duration::from_nanos(pts.nseconds()));
                if admit {
                    gst::PadProbeReturn::Ok
                } else {
                    // Taken and handled rather than `Drop`: gstreamer-rs 0.25 leaves GStreamer
                    // 1.22 a null buffer to unref on `Drop`, one GStreamer-CRITICAL line per
                    // frame skipped (thousands a minute in `make demo`).
                    drop(info.take_buffer());
                    gst::PadProbeReturn::Handled
                }
            });
        }
        let head = convert.clone();
        let convert_weak = head.downgrade();
        decode.connect_pad_added(move |_, pad| {
            let Some(convert) = convert_weak.upgrade() else { return };
            let is_video = pad
                .current_caps()
                .and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/")))
                .unwrap_or(false);
            let Some(sink_pad) = convert.static_pad("sink") else { return };
            if is_video
                && !sink_pad.is_linked()
                && let Err(e) = pad.link(&sink_pad)
            {
                tracing::warn!(error = ?e, "cannot link the decoded video pad");
            }
        });
        let streams_known = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let known = streams_known.clone();
        decode.connect_no_more_pads(move |_| known.store(true, std::sync::atomic::Ordering::Relaxed));
        let video_in = head.static_pad("sink");
        let bus = pipeline.bus().ok_or_else(|| bad("pipeline has no bus".into()))?;
        pipeline.set_state(gst::State::Playing).map_err(|_| {
            let detail = first_error(&bus).unwrap_or_else(|| "the pipeline refused to start".into());
            bad(detail)
        })?;
        Ok(FrameSource { pipeline, sink, bus, next_index: 0, name: name.to_owned(), decoded, streams_known, video_in })
    }

    /// Total duration, when the container says.
    pub fn duration(&self) -> Option<Duration> {
        self.pipeline.query_duration::<gst::ClockTime>().map(|d| Duration::from_nanos(d.nseconds()))
    }

    /// The next frame; `Ok(None)` at the end of the stream. A decoding error (corrupt or
    /// truncated data, unreachable source) is returned once, with GStreamer's message; a source
    /// that delivers nothing for [`FILE_STALL`] is an error too (a stuck demuxer on a damaged
    /// file must not hang a replay).
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        self.next_frame_within(Some(FILE_STALL))
    }

    /// As [`FrameSource::next_frame`], but a source that delivers nothing for `timeout` is an
    /// error (a camera that went silent without closing the connection).
    pub fn next_frame_within(&mut self, timeout: Option<std::time::Duration>) -> Result<Option<Frame>> {
        let started = std::time::Instant::now();
        loop {
            if let Some(t) = timeout
                && started.elapsed() > t
            {
                return Err(Error::Source {
                    source_name: self.name.clone(),
                    message: format!("no frame for {:.0} s (damaged, or a source gone silent)", t.as_secs_f64()),
                });
            }
            if let Some(sample) = self.sink.try_pull_sample(gst::ClockTime::from_mseconds(200)) {
                let frame = self.to_frame(&sample)?;
                self.next_index += 1;
                return Ok(Some(frame));
            }
            if let Some(err) = first_error(&self.bus) {
                return Err(Error::Source { source_name: self.name.clone(), message: err });
            }
            if self.sink.is_eos() {
                return Ok(None);
            }
            // Every stream found and none of them video: nothing will ever come (a damaged or
            // audio-only file), and GStreamer does not always say so.
            let streams_known = self.streams_known.load(std::sync::atomic::Ordering::Relaxed);
            if streams_known && self.video_in.as_ref().is_some_and(|p| !p.is_linked()) {
                return Err(Error::Source { source_name: self.name.clone(), message: "no video stream in it".into() });
            }
        }
    }

    fn to_frame(&self, sample: &gst::Sample) -> Result<Frame> {
        let bad = |message: String| Error::Source { source_name: self.name.clone(), message };
        let caps = sample.caps().ok_or_else(|| bad("frame without caps".into()))?;
        let s = caps.structure(0).ok_or_else(|| bad("empty caps".into()))?;
        let width = s.get::<i32>("width").map_err(|e| bad(e.to_string()))? as usize;
        let height = s.get::<i32>("height").map_err(|e| bad(e.to_string()))? as usize;
        let buffer = sample.buffer().ok_or_else(|| bad("frame without data".into()))?;
        let map = buffer.map_readable().map_err(|e| bad(e.to_string()))?;
        // GStreamer pads RGB rows to a multiple of 4 bytes.
        let row = width * 3;
        let stride = row.div_ceil(4) * 4;
        if map.len() < stride * height.saturating_sub(1) + row {
            return Err(bad(format!("frame of {} bytes for {width}×{height} RGB", map.len())));
        }
        let mut data = Vec::with_capacity(row * height);
        for y in 0..height {
            data.extend_from_slice(&map[y * stride..y * stride + row]);
        }
        Ok(Frame {
            image: RgbImage { width: width as u32, height: height as u32, data },
            pts: buffer.pts().map(|t| Duration::from_nanos(t.nseconds())),
            index: self.next_index,
        })
    }
}

impl Drop for FrameSource {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The first error message waiting on `bus`, with GStreamer's debug detail.
fn first_error(bus: &gst::Bus) -> Option<String> {
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        if let gst::MessageView::Error(e) = msg.view() {
            let debug = e.debug().map(|d| format!(" ({d})")).unwrap_or_default();
            return Some(format!("{}{debug}", e.error()));
        }
    }
    None
}

/// Lets frames through at a given rate by media time, on a fixed grid (25 fps thinned to 5 fps
/// keeps exactly every fifth frame; 30 fps to 5 fps every sixth). A timeline that jumps back
/// (a restarted stream) or far ahead starts a new grid.
#[derive(Debug, Clone)]
pub struct RateGate {
    interval: Duration,
    next: Option<Duration>,
}

impl RateGate {
    /// A gate for `rate` frames per second.
    pub fn new(rate: f64) -> Self {
        RateGate { interval: Duration::from_secs_f64(1.0 / rate.max(1e-3)), next: None }
    }

    /// Whether the frame at media time `t` goes through.
    pub fn admit(&mut self, t: Duration) -> bool {
        // A millisecond of tolerance for timestamps rounded to the stream's clock.
        let slack = Duration::from_millis(1);
        match self.next {
            Some(due) if t + slack < due && due - t <= self.interval * 4 => false,
            Some(due) if t + slack >= due && t < due + self.interval * 4 => {
                let mut next = due + self.interval;
                if next <= t {
                    next = t + self.interval;
                }
                self.next = Some(next);
                true
            }
            _ => {
                self.next = Some(t + self.interval);
                true
            }
        }
    }
}

/// Frames decoded and the time it took, with nothing done to them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeStats {
    /// Frames that came out of the decoder.
    pub frames: u64,
    /// Wall time from start to end of stream.
    pub seconds: f64,
}

/// Decodes `path` to a `fakesink` as fast as possible (no colour conversion, no copy): the
/// physical limit of decoding on this machine, for benchmarks.
pub fn decode_only(path: &Path) -> Result<DecodeStats> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let name = path.display().to_string();
    let bad = |message: String| Error::Source { source_name: name.clone(), message };
    gst::init().map_err(|e| Error::GstInit(e.to_string()))?;
    let abs = path.canonicalize().map_err(|e| bad(e.to_string()))?;
    let uri = gst::glib::filename_to_uri(&abs, None).map_err(|e| bad(e.to_string()))?;
    let decode = gst::ElementFactory::make("uridecodebin")
        .property("uri", uri.as_str())
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let sink = gst::ElementFactory::make("fakesink").property("sync", false).build().map_err(|e| bad(e.to_string()))?;
    let pipeline = gst::Pipeline::new();
    pipeline.add_many([&decode, &sink]).map_err(|e| bad(e.to_string()))?;
    let frames = Arc::new(AtomicU64::new(0));
    let sink_pad = sink.static_pad("sink").ok_or_else(|| bad("fakesink without a pad".into()))?;
    let counter = frames.clone();
    sink_pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        counter.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    let sink_weak = sink.downgrade();
    decode.connect_pad_added(move |_, pad| {
        let Some(sink) = sink_weak.upgrade() else { return };
        let is_video =
            pad.current_caps().and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/"))).unwrap_or(false);
        if let Some(sink_pad) = sink.static_pad("sink")
            && is_video
            && !sink_pad.is_linked()
        {
            let _ = pad.link(&sink_pad);
        }
    });
    let bus = pipeline.bus().ok_or_else(|| bad("pipeline has no bus".into()))?;
    let started = std::time::Instant::now();
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| bad(first_error(&bus).unwrap_or_else(|| "refused to start".into())))?;
    let result = match bus.timed_pop_filtered(gst::ClockTime::NONE, &[gst::MessageType::Eos, gst::MessageType::Error]) {
        Some(msg) => match msg.view() {
            gst::MessageView::Error(e) => Err(bad(e.error().to_string())),
            _ => Ok(DecodeStats { frames: frames.load(Ordering::Relaxed), seconds: started.elapsed().as_secs_f64() }),
        },
        None => Err(bad("no end of stream".into())),
    };
    let _ = pipeline.set_state(gst::State::Null);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(rate: f64, fps: f64, frames: u32) -> Vec<u32> {
        let mut g = RateGate::new(rate);
        (0..frames).filter(|&i| g.admit(Duration::from_secs_f64(f64::from(i) / fps))).collect()
    }

    #[test]
    fn the_rate_gate_keeps_frames_on_a_fixed_grid() {
        assert_eq!(admitted(5.0, 25.0, 26), [0, 5, 10, 15, 20, 25]);
        assert_eq!(admitted(5.0, 30.0, 31), [0, 6, 12, 18, 24, 30]);
        assert_eq!(admitted(5.0, 12.5, 25).len(), 10, "12.5 fps to 5: two frames in five, 5 per second");
        assert_eq!(admitted(30.0, 25.0, 25).len(), 25, "a rate above the stream's keeps everything");
        // A restarted stream (timestamps from 0 again) starts a new grid at once.
        let mut g = RateGate::new(5.0);
        assert!(g.admit(Duration::from_secs(100)));
        assert!(g.admit(Duration::from_millis(0)));
        assert!(!g.admit(Duration::from_millis(40)));
    }
}
