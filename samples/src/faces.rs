//! Faces for scenes: head-and-shoulders photos shipped in `samples/faces/` (cut from the
//! scikit-image wheel's sample images, public domain / CC0; see `samples/README.md`).

use std::path::Path;

use crate::canvas::Sprite;
use crate::error::{Error, Result};

/// The photos, their identity names and the face box in each (pixels, x1 y1 x2 y2).
pub const PHOTOS: &[(&str, &str, [f32; 4])] = &[
    ("astronaut", "astronaut.jpg", [50.0, 45.0, 142.0, 152.0]),
    ("cameraman", "cameraman.jpg", [48.0, 55.0, 112.0, 133.0]),
];

/// One person's picture.
#[derive(Debug, Clone)]
pub struct FacePhoto {
    /// Identity name (the ground truth's `identity`).
    pub identity: String,
    /// The photo with feathered edges (so no hard rectangle is pasted into the scene).
    pub sprite: Sprite,
    /// Face box in sprite pixels.
    pub face: [f32; 4],
}

/// Loads every photo of [`PHOTOS`] from `dir`.
pub fn load(dir: &Path) -> Result<Vec<FacePhoto>> {
    PHOTOS
        .iter()
        .map(|(identity, file, face)| {
            let path = dir.join(file);
            let img =
                image::open(&path).map_err(|e| Error::Photo { path: path.clone(), message: e.to_string() })?.to_rgb8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            let mut sprite = Sprite::from_rgb(w, h, img.as_raw());
            feather(&mut sprite, 0.12);
            Ok(FacePhoto { identity: (*identity).to_owned(), sprite, face: *face })
        })
        .collect()
}

/// Fades alpha to 0 over `share` of the width/height at each edge.
fn feather(s: &mut Sprite, share: f32) {
    let (w, h) = (s.width as f32, s.height as f32);
    for y in 0..s.height {
        for x in 0..s.width {
            let d = [x as f32 / w, (w - 1.0 - x as f32) / w, y as f32 / h, (h - 1.0 - y as f32) / h]
                .into_iter()
                .fold(f32::MAX, f32::min);
            let a = (d / share).clamp(0.0, 1.0);
            s.data[(y * s.width + x) * 4 + 3] = 255.0 * a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_load_with_faces_inside_and_soft_edges() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("faces");
        let photos = load(&dir).unwrap();
        assert_eq!(photos.len(), PHOTOS.len());
        for p in &photos {
            let [x1, y1, x2, y2] = p.face;
            assert!(x2 <= p.sprite.width as f32 && y2 <= p.sprite.height as f32 && x1 < x2 && y1 < y2);
            assert_eq!(p.sprite.data[3], 0.0, "corner transparent");
            let centre = (p.sprite.height / 2 * p.sprite.width + p.sprite.width / 2) * 4 + 3;
            assert_eq!(p.sprite.data[centre], 255.0);
        }
        assert!(load(Path::new("/nonexistent")).is_err());
    }
}
