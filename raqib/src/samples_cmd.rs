//! `raqib samples make`: renders a synthetic scene with exact ground truth (see `raqib-samples`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use raqib_samples::{SampleFiles, SceneSpec};

/// `raqib samples make` options.
#[derive(Debug, clap::Args)]
pub struct MakeArgs {
    /// Output folder.
    #[arg(long, default_value = "var/samples/scene")]
    out: PathBuf,
    /// Frame width.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Frame height.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Frames per second.
    #[arg(long, default_value_t = 25)]
    fps: u32,
    /// Length in seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Vehicles in the scene (default: one every 2.5 s; 0: an empty road). Each is in view
    /// about 3.1 s, so N vehicles in S seconds put about 3.1·N/S plates in a frame.
    #[arg(long)]
    vehicles: Option<u32>,
    /// Pedestrians (0: one every 5 s).
    #[arg(long, default_value_t = 0)]
    pedestrians: u32,
    /// Sensor noise (standard deviation, 0-255 scale).
    #[arg(long, default_value_t = 3.0)]
    noise: f32,
    /// Dark scene.
    #[arg(long)]
    night: bool,
    /// H.264 bitrate in kbit/s (0: about 0.1 bit per pixel).
    #[arg(long, default_value_t = 0)]
    bitrate: u32,
    /// Folder with the face photos (default: the sources' samples/faces).
    #[arg(long)]
    faces: Option<PathBuf>,
    /// No progress line.
    #[arg(long, short)]
    quiet: bool,
}

/// Makes a sample in `args.out`; prints what was written.
pub fn make(args: &MakeArgs) -> anyhow::Result<()> {
    let &MakeArgs { width, height, fps, seconds, seed, vehicles, pedestrians, noise, night, bitrate, quiet, .. } = args;
    let spec =
        &SceneSpec { width, height, fps, seconds, seed, vehicles, pedestrians, noise, night, bitrate_kbps: bitrate };
    let out = args.out.as_path();
    let faces: PathBuf = args.faces.clone().unwrap_or_else(raqib_samples::default_faces_dir);
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let truth = raqib_samples::make(spec, &faces, out, |done, total| {
        if !quiet && tty && (done % 25 == 0 || done == total) {
            eprint!("\r\x1b[Krendering {done}/{total} frames");
            let _ = std::io::stderr().flush();
        }
    })?;
    if !quiet && tty {
        eprint!("\r\x1b[K");
    }
    let files = SampleFiles::in_dir(out);
    let listed = truth.plates.iter().filter(|p| p.watchlist.is_some()).count();
    println!(
        "{}: {}×{} {} fps, {} frames, {} plates ({} on the watchlist), {} pedestrians, made in {:.1} s",
        files.video.display(),
        spec.width,
        spec.height,
        spec.fps,
        truth.frames,
        truth.plates.len(),
        listed,
        truth.faces.len(),
        started.elapsed().as_secs_f64()
    );
    for p in &truth.plates {
        let listed = p.watchlist.as_deref().map(|c| format!("  listed: {c}")).unwrap_or_default();
        println!("  plate {:2} {:12} ({}) frames {}–{}{listed}", p.id, p.text, p.latin, p.first_frame, p.last_frame);
    }
    for f in &truth.faces {
        let listed = if f.watchlist { "  listed" } else { "" };
        println!("  face  {:2} {:12} frames {}–{}{listed}", f.id, f.identity, f.first_frame, f.last_frame);
    }
    println!("truth: {}", files.truth.display());
    println!("watchlist: {} (raqib watchlist import)", files.watchlist.display());
    println!("persons: {} (raqib watchlist import-persons)", files.persons.display());
    Ok(())
}
