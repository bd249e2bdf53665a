//! # raqib-samples
//!
//! Deterministic synthetic scenes with exact ground truth, for `make demo`, end-to-end tests
//! and `raqib bench`: vehicles carrying Moroccan (Arabic-letter), French and Brazilian plates
//! drawn with real fonts, pedestrians whose faces come from public-domain / CC0 photos, lighting
//! drift, sensor noise and motion blur; encoded to H.264 MP4 by GStreamer. With the video come
//! `truth.json` (every plate's and face's box in every frame), a sample plate watchlist
//! (`watchlist.csv`, about half the plates plus decoys) and a persons file (`persons.json`, one
//! identity, with its enrolment photo).
//!
//! ## Dependency choices
//! - `ab_glyph` rasterises TrueType outlines (pure Rust, maintained); see [`text`].
//! - GStreamer (`x264enc`, `mp4mux`) encodes, as the node itself decodes with GStreamer.
//! - The random generator is hand-written ([`rng`]) so that truth never changes with a
//!   dependency upgrade.

pub mod canvas;
pub mod encode;
pub mod error;
pub mod faces;
pub mod plates;
pub mod rng;
pub mod scene;
pub mod text;
pub mod truth;

use std::path::{Path, PathBuf};

pub use error::{Error, Result};
pub use scene::{Scene, SceneSpec};
pub use truth::Truth;

/// The folder of face photos shipped with the sources (`samples/faces`).
pub fn default_faces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("faces")
}

/// Files a generated sample consists of.
#[derive(Debug, Clone)]
pub struct SampleFiles {
    /// The H.264 MP4.
    pub video: PathBuf,
    /// Ground truth.
    pub truth: PathBuf,
    /// Plate watchlist in the import format.
    pub watchlist: PathBuf,
    /// Persons to enrol (photos relative to the file).
    pub persons: PathBuf,
}

impl SampleFiles {
    /// The file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        SampleFiles {
            video: dir.join("scene.mp4"),
            truth: dir.join("truth.json"),
            watchlist: dir.join("watchlist.csv"),
            persons: dir.join("persons.json"),
        }
    }
}

/// Renders and encodes a scene into `dir` (created if missing); returns its truth.
/// `progress` is called with (frames done, total).
pub fn make(spec: &SceneSpec, faces_dir: &Path, dir: &Path, mut progress: impl FnMut(u64, u64)) -> Result<Truth> {
    spec.validate()?;
    std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    let fonts = text::Fonts::load()?;
    let photos = faces::load(faces_dir)?;
    let scene = Scene::plan(spec, &fonts, photos)?;
    let truth = scene.truth();
    let files = SampleFiles::in_dir(dir);
    let mut encoder = encode::Encoder::create(&files.video, spec.width, spec.height, spec.fps, spec.bitrate())?;
    let total = spec.frames();
    // Render two frames at a time on two threads (the encoder runs on GStreamer's own thread).
    let mut index = 0;
    while index < total {
        let batch: Vec<u64> = (index..(index + 2).min(total)).collect();
        let rendered: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|&i| {
                    let scene = &scene;
                    s.spawn(move || scene.render(i).0)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
        });
        for rgb in rendered {
            encoder.push(rgb)?;
        }
        index += batch.len() as u64;
        progress(index, total);
    }
    encoder.finish()?;
    truth.save(&files.truth)?;
    write_watchlist(&truth, &files.watchlist)?;
    write_persons(&scene, faces_dir, dir, &files.persons)?;
    Ok(truth)
}

/// Plates the truth marks as listed, in Latin spelling for Moroccan ones (operators type
/// either), plus three decoys that never appear.
fn write_watchlist(truth: &Truth, path: &Path) -> Result<()> {
    let mut out = String::from("plate,country,category,priority,case_ref,notes\n");
    for p in &truth.plates {
        if let Some(category) = &p.watchlist {
            let typed = if p.country == "MA" { &p.latin } else { &p.text };
            out.push_str(&format!(
                "{typed},{},{category},,SAMPLE-{:03},sample scene vehicle {}\n",
                p.country, p.id, p.id
            ));
        }
    }
    out.push_str("99999-ش-88,MA,stolen_vehicle,high,SAMPLE-D1,decoy: never in the scene\n");
    out.push_str("ZZ-999-ZZ,FR,bolo,,SAMPLE-D2,decoy: never in the scene\n");
    out.push_str("QQQ9Q99,BR,wanted_owner,,SAMPLE-D3,decoy: never in the scene\n");
    std::fs::write(path, out).map_err(Error::io("writing", path))
}

/// The listed identities with their photo (copied next to the file).
fn write_persons(scene: &Scene, faces_dir: &Path, dir: &Path, path: &Path) -> Result<()> {
    let photo_dir = dir.join("faces");
    std::fs::create_dir_all(&photo_dir).map_err(Error::io("creating", &photo_dir))?;
    let mut rows = Vec::new();
    for identity in scene.watch_identities() {
        let Some((_, file, _)) = faces::PHOTOS.iter().find(|(id, _, _)| id == identity) else { continue };
        let from = faces_dir.join(file);
        let to = photo_dir.join(file);
        std::fs::copy(&from, &to).map_err(Error::io("copying", &from))?;
        rows.push(serde_json::json!({
            "name": format!("{identity} (sample)"),
            "category": "wanted_person",
            "priority": "high",
            "case_ref": "SAMPLE-P1",
            "notes": "sample scene pedestrian",
            "photos": [format!("faces/{file}")],
        }));
    }
    let json =
        serde_json::to_vec_pretty(&rows).map_err(|e| Error::Truth { path: path.to_owned(), message: e.to_string() })?;
    std::fs::write(path, json).map_err(Error::io("writing", path))
}
