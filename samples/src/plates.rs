//! Licence plates drawn the way they look on the road: Moroccan (serial | Arabic letter |
//! prefecture code, and `WW` temporary), French (blue EU band) and Brazilian Mercosul, with
//! their ground-truth text in the canonical form of `raqib-core`.

use raqib_core::PlateText;

use crate::canvas::Sprite;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::text::Fonts;

/// Arabic letters in use on Moroccan plates (with their Latin spelling in comments).
pub const MOROCCAN_LETTERS: &[char] = &['أ', 'ب', 'د', 'ه', 'و', 'ط', 'ج', 'ش']; // A B D H W T J SH

/// Plate families a scene draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    /// `12345 | ب | 6`.
    MoroccoStandard,
    /// `123456 WW`.
    MoroccoTemporary,
    /// `AB-123-CD` with the blue EU band.
    France,
    /// `ABC1D23` under the blue `BRASIL` band.
    BrazilMercosul,
}

/// A plate: its text as printed and the picture.
pub struct Plate {
    /// The family.
    pub kind: PlateKind,
    /// Canonical text (`raqib_core::PlateText::canonical`).
    pub text: String,
    /// Country code (`MA`, `FR`, `BR`).
    pub country: &'static str,
    /// The plate picture, opaque.
    pub sprite: Sprite,
}

/// Picks a family: Moroccan plates first (65 %), then French, Brazilian, temporary.
pub fn random_kind(rng: &mut Rng) -> PlateKind {
    let u = rng.unit();
    if u < 0.55 {
        PlateKind::MoroccoStandard
    } else if u < 0.65 {
        PlateKind::MoroccoTemporary
    } else if u < 0.85 {
        PlateKind::France
    } else {
        PlateKind::BrazilMercosul
    }
}

/// Draws a random plate of `kind`.
pub fn draw(fonts: &Fonts, kind: PlateKind, rng: &mut Rng) -> Result<Plate> {
    let letters =
        |rng: &mut Rng, n: usize| -> String { (0..n).map(|_| char::from(b'A' + rng.int(0, 25) as u8)).collect() };
    let ink = [20, 20, 20];
    let (typed, country, sprite) = match kind {
        PlateKind::MoroccoStandard => {
            let serial = rng.int(100, 99_999).to_string();
            let letter = *rng.pick(MOROCCAN_LETTERS);
            let code = rng.int(1, 89).to_string();
            let mut p = plate_base(520, 112, [245, 245, 240], ink);
            // Plates print heh with a tail (initial form + tatweel), not the round isolated form.
            let shown = if letter == 'ه' { "\u{FEEB}\u{0640}".to_owned() } else { letter.to_string() };
            let groups = [
                (serial.clone(), 0.5 * serial.len() as f32, false),
                (shown, 0.9, true),
                (code.clone(), 0.5 * code.len() as f32, false),
            ];
            row(fonts, &mut p, &groups, 18.0, 96.0, 28.0, 492.0, 0.45, Some(ink), ink);
            (format!("{serial}-{letter}-{code}"), "MA", p)
        }
        PlateKind::MoroccoTemporary => {
            let num = rng.int(1, 999_999).to_string();
            let mut p = plate_base(520, 112, [245, 245, 240], ink);
            let groups = [(num.clone(), 0.5 * num.len() as f32, false), ("WW".to_owned(), 1.3, false)];
            row(fonts, &mut p, &groups, 18.0, 96.0, 28.0, 492.0, 0.5, None, ink);
            (format!("WW-{num}"), "MA", p)
        }
        PlateKind::France => {
            let (a, n, b) = (letters(rng, 2), rng.int(100, 999).to_string(), letters(rng, 2));
            let mut p = plate_base(520, 112, [250, 250, 250], ink);
            p.fill_rect(4.0, 4.0, 50.0, 108.0, [0, 50, 150]);
            let f = fonts.render("F", false);
            p.paint_mask(&f, 14.0, 68.0, 40.0, 100.0, [255, 255, 255]);
            p.fill_rect(474.0, 4.0, 516.0, 108.0, [0, 50, 150]);
            let groups = [
                (a.clone(), 1.04, false),
                ("-".to_owned(), 0.3, false),
                (n.clone(), 1.56, false),
                ("-".to_owned(), 0.3, false),
                (b.clone(), 1.04, false),
            ];
            row(fonts, &mut p, &groups, 18.0, 94.0, 62.0, 468.0, 0.35, None, ink);
            (format!("{a}-{n}-{b}"), "FR", p)
        }
        PlateKind::BrazilMercosul => {
            let s = format!("{}{}{}{:02}", letters(rng, 3), rng.int(0, 9), letters(rng, 1), rng.int(0, 99));
            let mut p = plate_base(520, 160, [250, 250, 250], ink);
            p.fill_rect(5.0, 5.0, 515.0, 38.0, [0, 60, 160]);
            let band = fonts.render("BRASIL", false);
            p.paint_mask(&band, 200.0, 10.0, 320.0, 34.0, [255, 255, 255]);
            row(fonts, &mut p, &[(s.clone(), 3.6, false)], 50.0, 150.0, 30.0, 490.0, 0.2, None, ink);
            (s, "BR", p)
        }
    };
    let text = PlateText::parse(&typed, Some(country)).map_err(|e| Error::Invalid {
        key: "plate",
        message: format!("generated plate {typed} does not parse: {e}"),
    })?;
    Ok(Plate { kind, text: text.canonical().to_owned(), country, sprite })
}

/// A plate background with a dark border.
fn plate_base(w: usize, h: usize, bg: [u8; 3], border: [u8; 3]) -> Sprite {
    let mut p = Sprite::filled(w, h, bg, 255.0);
    let t = (h / 28).max(2) as f32;
    let (wf, hf) = (w as f32, h as f32);
    p.fill_rect(0.0, 0.0, wf, t, border);
    p.fill_rect(0.0, hf - t, wf, hf, border);
    p.fill_rect(0.0, 0.0, t, hf, border);
    p.fill_rect(wf - t, 0.0, wf, hf, border);
    p
}

/// Lays out groups `(text, relative width, arabic)` between x0 and x1, each glyph run stretched
/// into its box, separated by `gap` (relative) and optional vertical bars; `-` is a short dash.
#[allow(clippy::too_many_arguments)]
fn row(
    fonts: &Fonts,
    p: &mut Sprite,
    groups: &[(String, f32, bool)],
    y0: f32,
    y1: f32,
    x0: f32,
    x1: f32,
    gap: f32,
    bars: Option<[u8; 3]>,
    ink: [u8; 3],
) {
    let total: f32 = groups.iter().map(|g| g.1).sum::<f32>() + gap * (groups.len().saturating_sub(1)) as f32;
    let unit = (x1 - x0) / total;
    let mut x = x0;
    for (i, (text, rel, arabic)) in groups.iter().enumerate() {
        let w = rel * unit;
        if text == "-" {
            let t = (y1 - y0) * 0.08;
            p.fill_rect(x + w * 0.2, (y0 + y1) / 2.0 - t, x + w * 0.8, (y0 + y1) / 2.0 + t, ink);
        } else {
            let mask = fonts.render(text, *arabic);
            // Digits and Latin letters are stretched to the box like plate fonts; an Arabic
            // letter keeps its shape (at most 1.4× wider), centred.
            let mut gw = w * 0.92;
            if *arabic && mask.height > 0 {
                gw = gw.min(1.4 * (y1 - y0) * mask.width as f32 / mask.height as f32);
            }
            let gx = x + (w - gw) / 2.0;
            p.paint_mask(&mask, gx, y0, gx + gw, y1, ink);
        }
        x += w;
        if i + 1 < groups.len() {
            if let Some(colour) = bars {
                let t = (p.width as f32 / 120.0).max(2.0);
                let mid = x + gap * unit / 2.0;
                let pad = (y1 - y0) * 0.05;
                p.fill_rect(mid - t / 2.0, y0 - pad, mid + t / 2.0, y1 + pad, colour);
            }
            x += gap * unit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_draws_a_plate_whose_text_is_canonical() {
        let Ok(fonts) = Fonts::load() else {
            eprintln!("SKIP: fonts not installed (make setup)");
            return;
        };
        let mut rng = Rng::new(3);
        for kind in
            [PlateKind::MoroccoStandard, PlateKind::MoroccoTemporary, PlateKind::France, PlateKind::BrazilMercosul]
        {
            for _ in 0..20 {
                let p = draw(&fonts, kind, &mut rng).unwrap();
                let again = PlateText::parse(&p.text, Some(p.country)).unwrap();
                assert_eq!(again.canonical(), p.text);
                let dark = p.sprite.data.chunks_exact(4).filter(|px| px[0] < 100.0).count();
                let share = dark as f32 / (p.sprite.width * p.sprite.height) as f32;
                assert!((0.1..0.6).contains(&share), "{kind:?} {}: ink share {share}", p.text);
            }
        }
    }
}
