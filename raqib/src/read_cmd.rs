//! `raqib read IMAGE…`: what raqib sees in still images: plates (text, format, confidence,
//! alternatives per position) and faces (box, score, landmarks).

use std::path::PathBuf;

use anyhow::bail;
use raqib_models::RgbImage;
use raqib_models::face::DEFAULT_DETECT_THRESHOLD;

use crate::config::{Config, Paths};

/// Prints plates and faces (box, score, five landmarks) per image. A file that
/// cannot be read gets its own error; the others are still read; exit non-zero if any failed.
pub fn read(config: &Config, paths: &Paths, images: &[PathBuf], json: bool) -> anyhow::Result<()> {
    crate::faces_cmd::existing(images)?;
    let mut faces_model = crate::faces_cmd::load_pipeline(config, paths)?;
    let mut plates_model = crate::plates_cmd::load_finder(config, paths)?;
    let mut failed = 0;
    for path in images {
        let result = RgbImage::open(path).map_err(anyhow::Error::from).and_then(|img| {
            let faces = faces_model.analyse(&img, DEFAULT_DETECT_THRESHOLD)?;
            let plates = plates_model.find(&img)?;
            Ok((img.width, img.height, faces, plates))
        });
        match result {
            Ok((w, h, faces, plates)) if json => {
                let faces: Vec<_> = faces.iter().map(|(f, _)| f).collect();
                println!(
                    "{}",
                    serde_json::json!({ "image": path, "width": w, "height": h, "plates": plates, "faces": faces })
                );
            }
            Ok((w, h, faces, plates)) => {
                println!("{} ({w}×{h}): {} plate(s), {} face(s)", path.display(), plates.len(), faces.len());
                for p in &plates {
                    let b = p.bbox;
                    let alias = if p.latin != p.text { format!(" ({})", p.latin) } else { String::new() };
                    println!(
                        "  plate  {}{alias} {:?} conf {:.2} box ({:.0},{:.0})-({:.0},{:.0})",
                        p.text, p.format, p.confidence, b.x1, b.y1, b.x2, b.y2
                    );
                }
                for (f, _) in &faces {
                    let b = f.bbox;
                    println!("  face   score {:.2} box ({:.0},{:.0})-({:.0},{:.0})", f.score, b.x1, b.y1, b.x2, b.y2);
                }
            }
            Err(e) => {
                failed += 1;
                if json {
                    println!("{}", serde_json::json!({ "image": path, "error": format!("{e:#}") }));
                } else {
                    eprintln!("{}: {e:#}", path.display());
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} image(s) could not be read", images.len());
    }
    Ok(())
}
