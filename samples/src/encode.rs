//! H.264 MP4 writing through GStreamer:
//! `appsrc (RGB) ! videoconvert ! x264enc ! h264parse ! mp4mux ! filesink`.

use std::path::{Path, PathBuf};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use crate::error::{Error, Result};

/// An open encoder; push frames in order, then [`Encoder::finish`].
pub struct Encoder {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    path: PathBuf,
    fps: u32,
    frame_bytes: usize,
    pushed: u64,
}

impl Encoder {
    /// Starts writing `path` (`width`×`height` RGB frames at `fps`, `kbps` kbit/s).
    pub fn create(path: &Path, width: u32, height: u32, fps: u32, kbps: u32) -> Result<Self> {
        let bad = |message: String| Error::Encode { path: path.to_owned(), message };
        gst::init().map_err(|e| bad(format!("GStreamer failed to initialise: {e}")))?;
        let make = |factory: &str| {
            gst::ElementFactory::make(factory).build().map_err(|_| {
                bad(format!(
                    "GStreamer element `{factory}` is missing (gstreamer1.0-plugins-ugly/-good/-bad; `make setup`)"
                ))
            })
        };
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", "RGB")
            .field("width", width as i32)
            .field("height", height as i32)
            .field("framerate", gst::Fraction::new(fps as i32, 1))
            .build();
        let src = gst_app::AppSrc::builder().caps(&caps).format(gst::Format::Time).block(true).build();
        let convert = make("videoconvert")?;
        let encoder = make("x264enc")?;
        encoder.set_property("bitrate", kbps);
        encoder.set_property_from_str("speed-preset", "veryfast");
        encoder.set_property("key-int-max", 2 * fps);
        let parse = make("h264parse")?;
        let mux = make("mp4mux")?;
        let sink = make("filesink")?;
        sink.set_property("location", path.to_string_lossy().as_ref());
        let pipeline = gst::Pipeline::new();
        let elements = [src.upcast_ref(), &convert, &encoder, &parse, &mux, &sink];
        pipeline.add_many(elements).map_err(|e| bad(e.to_string()))?;
        gst::Element::link_many(elements).map_err(|e| bad(format!("linking the encoder: {e}")))?;
        pipeline.set_state(gst::State::Playing).map_err(|e| bad(format!("starting the encoder: {e}")))?;
        Ok(Encoder { pipeline, src, path: path.to_owned(), fps, frame_bytes: (width * height * 3) as usize, pushed: 0 })
    }

    /// Adds the next frame (`width * height * 3` RGB bytes, no row padding).
    pub fn push(&mut self, rgb: Vec<u8>) -> Result<()> {
        if rgb.len() != self.frame_bytes {
            return Err(Error::Encode {
                path: self.path.clone(),
                message: format!("frame of {} bytes, expected {}", rgb.len(), self.frame_bytes),
            });
        }
        // videoconvert expects RGB rows padded to 4 bytes; widths here are even but not always
        // multiples of 4, so pad when needed.
        let row = self.frame_bytes / self.height_rows();
        let stride = row.div_ceil(4) * 4;
        let data = if stride == row {
            rgb
        } else {
            let mut padded = vec![0u8; stride * self.height_rows()];
            for (y, chunk) in rgb.chunks_exact(row).enumerate() {
                padded[y * stride..y * stride + row].copy_from_slice(chunk);
            }
            padded
        };
        let mut buffer = gst::Buffer::from_mut_slice(data);
        {
            let b =
                buffer.get_mut().ok_or_else(|| Error::Encode { path: self.path.clone(), message: "buffer".into() })?;
            let dur = 1_000_000_000 / u64::from(self.fps);
            b.set_pts(gst::ClockTime::from_nseconds(self.pushed * dur));
            b.set_duration(gst::ClockTime::from_nseconds(dur));
        }
        self.src.push_buffer(buffer).map_err(|e| Error::Encode {
            path: self.path.clone(),
            message: format!("encoder refused a frame: {e:?}"),
        })?;
        self.pushed += 1;
        Ok(())
    }

    fn height_rows(&self) -> usize {
        let caps = self.src.caps();
        caps.and_then(|c| c.structure(0).and_then(|s| s.get::<i32>("height").ok())).map(|h| h as usize).unwrap_or(1)
    }

    /// Ends the stream and waits until the file is complete.
    pub fn finish(self) -> Result<()> {
        let bad = |message: String| Error::Encode { path: self.path.clone(), message };
        self.src.end_of_stream().map_err(|e| bad(format!("{e:?}")))?;
        let bus = self.pipeline.bus().ok_or_else(|| bad("no bus".into()))?;
        let result = match bus
            .timed_pop_filtered(gst::ClockTime::from_seconds(300), &[gst::MessageType::Eos, gst::MessageType::Error])
        {
            Some(msg) => match msg.view() {
                gst::MessageView::Error(e) => Err(bad(format!("{} ({:?})", e.error(), e.debug()))),
                _ => Ok(()),
            },
            None => Err(bad("the encoder did not finish within 300 s".into())),
        };
        let _ = self.pipeline.set_state(gst::State::Null);
        result
    }
}
