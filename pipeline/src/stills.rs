//! What raqib sees in one still image (`raqib read`): the plates (text, format, confidence,
//! alternatives per position) and the faces (box, score, five landmarks). No watchlist, nothing
//! stored.

use std::path::{Path, PathBuf};

use raqib_models::face::DEFAULT_DETECT_THRESHOLD;
use raqib_models::plate::{PlateFinder, PlateRead};
use raqib_models::{Face, FacePipeline, RgbImage};
use serde::Serialize;

/// One image read.
#[derive(Debug, Serialize)]
pub struct StillRead {
    /// The file.
    pub image: PathBuf,
    /// Its size.
    pub width: u32,
    /// Its size.
    pub height: u32,
    /// Plates found and read.
    pub plates: Vec<PlateRead>,
    /// Faces found.
    pub faces: Vec<Face>,
}

/// Reads `path` with the still-photo plate finder and the face pipeline.
pub fn read_still(path: &Path, plates: &mut PlateFinder, faces: &mut FacePipeline) -> crate::Result<StillRead> {
    let img = RgbImage::open(path)?;
    let found = faces.analyse(&img, DEFAULT_DETECT_THRESHOLD)?;
    Ok(StillRead {
        image: path.to_owned(),
        width: img.width,
        height: img.height,
        plates: plates.find(&img)?,
        faces: found.into_iter().map(|(f, _)| f).collect(),
    })
}

impl StillRead {
    /// A header line, then one line per plate and per face.
    pub fn text(&self) -> String {
        let mut out = format!(
            "{} ({}×{}): {} plate(s), {} face(s)\n",
            self.image.display(),
            self.width,
            self.height,
            self.plates.len(),
            self.faces.len()
        );
        for p in &self.plates {
            let b = p.bbox;
            let alias = if p.plate.latin_alias() != p.plate.canonical() {
                format!(" ({})", p.plate.latin_alias())
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  plate  {}{alias} {:?} conf {:.2} box ({:.0},{:.0})-({:.0},{:.0})\n",
                p.plate.canonical(),
                p.plate.format(),
                p.confidence,
                b.x1,
                b.y1,
                b.x2,
                b.y2
            ));
        }
        for f in &self.faces {
            let b = f.bbox;
            out.push_str(&format!(
                "  face   score {:.2} box ({:.0},{:.0})-({:.0},{:.0})\n",
                f.score, b.x1, b.y1, b.x2, b.y2
            ));
        }
        out
    }
}
