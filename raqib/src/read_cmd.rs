//! `raqib read IMAGE…`: what raqib sees in still images (`raqib_pipeline::stills`).

use std::path::PathBuf;

use anyhow::bail;
use raqib_pipeline::stills::read_still;

use crate::config::{Config, Paths};

/// Prints plates and faces (box, score, five landmarks) per image. A file that
/// cannot be read gets its own error; the others are still read; exit non-zero if any failed.
pub fn read(config: &Config, paths: &Paths, images: &[PathBuf], json: bool) -> anyhow::Result<()> {
    crate::load::existing(images)?;
    let mut faces = crate::load::faces(config, paths)?;
    let mut plates = crate::load::finder(config, paths)?;
    let mut failed = 0;
    for path in images {
        match read_still(path, &mut plates, &mut faces) {
            Ok(r) if json => println!("{}", serde_json::to_string(&r)?),
            Ok(r) => print!("{}", r.text()),
            Err(e) => {
                failed += 1;
                if json {
                    println!("{}", serde_json::json!({ "image": path, "error": e.to_string() }));
                } else {
                    eprintln!("{}: {e}", path.display());
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} image(s) could not be read", images.len());
    }
    Ok(())
}
