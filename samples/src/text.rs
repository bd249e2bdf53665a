//! Text rasterisation with real fonts from Debian packages (`fonts-dejavu-core`,
//! `fonts-noto-core`), through `ab_glyph`.
//!
//! `ab_glyph` (pure Rust, maintained, used by `imageproc` and `glyph_brush`) rasterises outlines
//! to coverage; plates need no shaping beyond single isolated Arabic letters, and the one joined
//! form they print (heh with a tail, `هـ`) is written with its presentation-form code point.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};

use crate::canvas::Mask;
use crate::error::{Error, Result};

/// Where Debian installs the fonts used here.
pub const FONT_DIRS: &[&str] = &["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto"];

/// The faces used for plate text.
pub struct Fonts {
    /// Latin letters and digits.
    pub latin: FontVec,
    /// Arabic letters.
    pub arabic: FontVec,
    /// Fallback for code points the others lack (DejaVu covers Arabic presentation forms).
    pub fallback: FontVec,
}

impl Fonts {
    /// Loads DejaVu Sans Condensed Bold, Noto Sans Arabic Bold and DejaVu Sans Bold.
    pub fn load() -> Result<Self> {
        Ok(Fonts {
            latin: load("DejaVuSansCondensed-Bold.ttf")?,
            arabic: load("NotoSansArabic-Bold.ttf")?,
            fallback: load("DejaVuSans-Bold.ttf")?,
        })
    }

    /// Rasterises `text` left to right at 96 px, tightly cropped; glyphs the chosen face lacks
    /// come from the fallback face.
    pub fn render(&self, text: &str, arabic: bool) -> Mask {
        let primary = if arabic { &self.arabic } else { &self.latin };
        let scale = PxScale::from(96.0);
        let mut glyphs = Vec::new();
        let mut x = 0.0f32;
        for ch in text.chars() {
            let font: &FontVec = if primary.glyph_id(ch).0 != 0 { primary } else { &self.fallback };
            let scaled = font.as_scaled(scale);
            let glyph = scaled.scaled_glyph(ch).clone();
            let advance = scaled.h_advance(glyph.id);
            let positioned = ab_glyph::Glyph { position: point(x, scaled.ascent()), ..glyph };
            if let Some(outline) = font.outline_glyph(positioned) {
                glyphs.push(outline);
            }
            x += advance;
        }
        let Some(first) = glyphs.first() else { return Mask::default() };
        let mut b = first.px_bounds();
        for g in &glyphs {
            let gb = g.px_bounds();
            b.min.x = b.min.x.min(gb.min.x);
            b.min.y = b.min.y.min(gb.min.y);
            b.max.x = b.max.x.max(gb.max.x);
            b.max.y = b.max.y.max(gb.max.y);
        }
        let (w, h) = ((b.max.x - b.min.x).ceil() as usize + 1, (b.max.y - b.min.y).ceil() as usize + 1);
        let mut mask = Mask { width: w, height: h, data: vec![0.0; w * h] };
        for g in &glyphs {
            let gb = g.px_bounds();
            let (ox, oy) = ((gb.min.x - b.min.x) as usize, (gb.min.y - b.min.y) as usize);
            g.draw(|gx, gy, c| {
                let (x, y) = (ox + gx as usize, oy + gy as usize);
                if x < w && y < h {
                    let v = &mut mask.data[y * w + x];
                    *v = (*v + c).min(1.0);
                }
            });
        }
        mask
    }
}

fn load(name: &str) -> Result<FontVec> {
    let path = find(name)?;
    let bytes = std::fs::read(&path).map_err(|e| Error::Font { path: path.clone(), message: e.to_string() })?;
    FontVec::try_from_vec(bytes).map_err(|e| Error::Font { path, message: e.to_string() })
}

fn find(name: &str) -> Result<PathBuf> {
    FONT_DIRS.iter().map(|d| Path::new(d).join(name)).find(|p| p.is_file()).ok_or_else(|| Error::Font {
        path: PathBuf::from(name),
        message: format!("not found in {}", FONT_DIRS.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_latin_and_arabic_with_ink() {
        let Ok(fonts) = Fonts::load() else {
            eprintln!("SKIP: fonts not installed (make setup)");
            return;
        };
        let digits = fonts.render("12345", false);
        assert!(digits.width > 3 * digits.height, "five digits are wide: {}×{}", digits.width, digits.height);
        let ink: f32 = digits.data.iter().sum::<f32>() / digits.data.len() as f32;
        assert!((0.15..0.8).contains(&ink), "ink share {ink}");
        let beh = fonts.render("ب", true);
        assert!(beh.width > 20 && beh.height > 20);
        // Heh with a tail comes from the fallback face's presentation form.
        let heh = fonts.render("\u{FEEB}\u{0640}", true);
        assert!(heh.width > 20 && heh.data.iter().sum::<f32>() > 100.0);
    }
}
