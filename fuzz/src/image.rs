//! Images: photos uploaded to the console (enrolment, face search), person-import photos and
//! `raqib read` inputs all go through `RgbImage::decode`. Invariants: no panic, a decoded image's
//! buffer matches its size, and nothing larger than the pixel bound is ever decoded.

use raqib_models::RgbImage;
use raqib_models::image_ops::MAX_PIXELS;

/// The target.
pub fn image(data: &[u8]) {
    let Ok(img) = RgbImage::decode(data) else { return };
    let pixels = u64::from(img.width) * u64::from(img.height);
    assert!(pixels <= MAX_PIXELS, "{}×{} decoded past the pixel bound", img.width, img.height);
    assert_eq!(img.data.len() as u64, pixels * 3, "buffer and size disagree");
}
