//! `raqib samples make`: renders a synthetic scene with exact ground truth (see `raqib-samples`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use raqib_samples::{SampleFiles, SceneSpec};

/// Makes a sample in `out`; prints what was written.
pub fn make(spec: &SceneSpec, faces: Option<&Path>, out: &Path, quiet: bool) -> anyhow::Result<()> {
    let faces: PathBuf = faces.map(Path::to_owned).unwrap_or_else(raqib_samples::default_faces_dir);
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
