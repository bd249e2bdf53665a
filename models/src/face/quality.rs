//! Face quality before matching: size, sharpness and pose, so that a tiny, blurred or turned-away
//! face is not matched like a good one.
//!
//! - **Size**: the detector box's height in image pixels.
//! - **Sharpness**: the variance of the 4-neighbour Laplacian of the face aligned to the
//!   112 × 112 template (grey), over the eyes-nose-mouth region, divided by the variance of the
//!   grey levels there: the usual "variance of the Laplacian" focus measure (Pech-Pacheco et
//!   al., 2000) made free of contrast, because a dim stage face or a compressed CCTV frame has
//!   a fraction of a studio photo's contrast (raw Laplacian variance: 2–20 on the sharp faces
//!   of a 640 × 360 stage video, 200–3000 on portrait photos) while a defocused or
//!   motion-blurred face loses its fine detail relative to its coarse shading whatever its
//!   contrast. Measured on the aligned face, so a small face blown up to 112 pixels scores low.
//! - **Pose** from the five points: roll is the eye line's angle; yaw is the nose tip's
//!   horizontal offset from the eyes' and mouth's mid-line in inter-ocular distances (0 frontal,
//!   about ±0.5 at 45°, growing fast towards profile, where the eyes crowd together); pitch is
//!   where the nose tip sits between the eye line and the mouth line, minus the template's
//!   value (0 frontal, negative looking up, positive looking down).
//!
//! The limits ([`QualityGate`]) were set on the shared face sets and two videos (BENCHMARKS.md,
//! "Face quality gate"): every photo of deepface-pairs and faceapi-bbt passes, and so do the
//! singer's faces in the Hamilton stage clip (sharpness 0.014–0.33, |yaw| up to 0.5), while
//! most box-blurred copies of the photos (blur of a tenth of the face's height: 0.002–0.019),
//! the defocused audience faces of that clip (0.004–0.008) and faces turned further than about
//! 45° do not.

use serde::Serialize;

use super::Bbox;
use super::align::{Similarity, TEMPLATE_112};
use crate::image_ops::RgbImage;

/// What the gate looks at for one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceQuality {
    /// Box height in image pixels.
    pub height: f32,
    /// Variance of the Laplacian of the aligned grey face.
    pub sharpness: f32,
    /// Nose offset from the face's mid-line, in inter-ocular distances (signed).
    pub yaw: f32,
    /// Nose height between eyes and mouth, relative to a frontal face (signed).
    pub pitch: f32,
    /// Eye line angle in degrees (signed).
    pub roll_deg: f32,
}

/// Why a face was not matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gated {
    /// Smaller than [`QualityGate::min_height`].
    TooSmall,
    /// Softer than [`QualityGate::min_sharpness`].
    Blurred,
    /// Yaw, pitch or roll beyond the gate's limits.
    TurnedAway,
}

impl Gated {
    /// Every reason, in report order.
    pub const ALL: [Gated; 3] = [Gated::TooSmall, Gated::Blurred, Gated::TurnedAway];

    /// Its name in reports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Gated::TooSmall => "too_small",
            Gated::Blurred => "blurred",
            Gated::TurnedAway => "turned_away",
        }
    }
}

/// The limits a face must meet to be matched (the one place they are defined).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityGate {
    /// Minimum box height, pixels.
    pub min_height: f32,
    /// Minimum [`FaceQuality::sharpness`].
    pub min_sharpness: f32,
    /// Maximum |yaw|.
    pub max_yaw: f32,
    /// Maximum |pitch|.
    pub max_pitch: f32,
    /// Maximum |roll|, degrees.
    pub max_roll_deg: f32,
}

impl Default for QualityGate {
    fn default() -> Self {
        QualityGate { min_height: 40.0, min_sharpness: 0.012, max_yaw: 0.6, max_pitch: 0.35, max_roll_deg: 40.0 }
    }
}

impl QualityGate {
    /// `None` when the face may be matched, else the first reason it may not (size, then
    /// sharpness, then pose).
    pub fn check(&self, q: &FaceQuality) -> Option<Gated> {
        if q.height < self.min_height {
            Some(Gated::TooSmall)
        } else if q.sharpness.is_nan() || q.sharpness < self.min_sharpness {
            Some(Gated::Blurred)
        } else if [q.yaw, q.pitch, q.roll_deg].iter().any(|v| v.is_nan())
            || q.yaw.abs() > self.max_yaw
            || q.pitch.abs() > self.max_pitch
            || q.roll_deg.abs() > self.max_roll_deg
        {
            Some(Gated::TurnedAway)
        } else {
            None
        }
    }
}

/// Yaw, pitch and roll (degrees) of a face from its five points (eyes, nose tip, mouth corners).
pub fn pose(five: &[[f32; 2]; 5]) -> (f32, f32, f32) {
    let [le, re, nose, lm, rm] = *five;
    let roll = (re[1] - le[1]).atan2(re[0] - le[0]);
    let (c, s) = (roll.cos(), roll.sin());
    let eye_mid = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    // Into a frame where the eye line is horizontal, origin between the eyes.
    let level = |p: [f32; 2]| {
        let (x, y) = (p[0] - eye_mid[0], p[1] - eye_mid[1]);
        [c * x + s * y, -s * x + c * y]
    };
    let iod = ((re[0] - le[0]).powi(2) + (re[1] - le[1]).powi(2)).sqrt().max(1e-3);
    let (n, ml, mr) = (level(nose), level(lm), level(rm));
    let mouth = [(ml[0] + mr[0]) / 2.0, (ml[1] + mr[1]) / 2.0];
    let yaw = (n[0] - mouth[0] / 2.0) / iod;
    let pitch = if mouth[1] > 1e-3 { n[1] / mouth[1] - frontal_nose_height() } else { f32::INFINITY };
    (yaw, pitch, roll.to_degrees())
}

/// Where the nose tip sits between eye line and mouth line on the template.
fn frontal_nose_height() -> f32 {
    let t = TEMPLATE_112;
    let eyes = (t[0][1] + t[1][1]) / 2.0;
    let mouth = (t[3][1] + t[4][1]) / 2.0;
    (t[2][1] - eyes) / (mouth - eyes)
}

/// Variance of the Laplacian of the face aligned to the 112 × 112 template, over the
/// eyes-nose-mouth region (x 24–88, y 36–100).
pub fn sharpness(img: &RgbImage, five: &[[f32; 2]; 5]) -> f32 {
    let back = Similarity::estimate(five, &TEMPLATE_112).inverse();
    const N: usize = 112;
    let mut grey = vec![0f32; N * N];
    for y in 0..N {
        for x in 0..N {
            let p = back.apply([x as f32, y as f32]);
            grey[y * N + x] = img.luma(p[0], p[1]);
        }
    }
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    let (mut isum, mut isum2) = (0f64, 0f64);
    for y in 36..100 {
        for x in 24..88 {
            let i = y * N + x;
            let lap = grey[i - 1] + grey[i + 1] + grey[i - N] + grey[i + N] - 4.0 * grey[i];
            let lap = f64::from(lap);
            sum += lap;
            sum2 += lap * lap;
            isum += f64::from(grey[i]);
            isum2 += f64::from(grey[i]).powi(2);
            n += 1.0;
        }
    }
    let mean = sum / n;
    let contrast = isum2 / n - (isum / n).powi(2);
    // A flat patch (no contrast) has no detail to identify: 0.
    if contrast < 1.0 { 0.0 } else { ((sum2 / n - mean * mean) / contrast) as f32 }
}

/// The quality of the face in `bbox` whose five points are `five`.
pub fn assess(img: &RgbImage, bbox: &Bbox, five: &[[f32; 2]; 5]) -> FaceQuality {
    let (yaw, pitch, roll_deg) = pose(five);
    FaceQuality { height: bbox.height(), sharpness: sharpness(img, five), yaw, pitch, roll_deg }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> FaceQuality {
        FaceQuality { height: 100.0, sharpness: 0.2, yaw: 0.0, pitch: 0.0, roll_deg: 0.0 }
    }

    #[test]
    fn the_template_is_frontal() {
        let (yaw, pitch, roll) = pose(&TEMPLATE_112);
        assert!(yaw.abs() < 0.02 && pitch.abs() < 1e-4 && roll.abs() < 1.0, "{yaw} {pitch} {roll}");
    }

    #[test]
    fn a_turned_face_has_a_large_yaw_whatever_its_roll() {
        // Turned to the side: eyes closer together, nose towards one cheek.
        let mut turned = TEMPLATE_112;
        turned[0][0] += 12.0;
        turned[2][0] += 14.0;
        let (yaw, _, _) = pose(&turned);
        assert!(yaw > 0.45, "{yaw}");
        // The same face rolled by 30°: yaw unchanged.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let rolled = turned.map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1]]);
        let (yaw2, _, roll) = pose(&rolled);
        assert!((yaw - yaw2).abs() < 1e-3 && (roll - 30.0).abs() < 1.0, "{yaw2} {roll}");
    }

    #[test]
    fn the_gate_names_the_first_failure() {
        let gate = QualityGate::default();
        assert_eq!(gate.check(&good()), None);
        assert_eq!(gate.check(&FaceQuality { height: 20.0, sharpness: 0.0, ..good() }), Some(Gated::TooSmall));
        assert_eq!(gate.check(&FaceQuality { sharpness: 0.005, ..good() }), Some(Gated::Blurred));
        assert_eq!(gate.check(&FaceQuality { sharpness: f32::NAN, ..good() }), Some(Gated::Blurred));
        assert_eq!(gate.check(&FaceQuality { yaw: -0.9, ..good() }), Some(Gated::TurnedAway));
        assert_eq!(gate.check(&FaceQuality { pitch: f32::INFINITY, ..good() }), Some(Gated::TurnedAway));
    }

    #[test]
    fn blurring_lowers_the_sharpness() {
        // A "face" of sharp edges (16-pixel checks) and its box-blurred copy.
        let (w, h) = (112u32, 112u32);
        let sharp: Vec<u8> =
            (0..w * h).flat_map(|i| [if ((i % w) / 16 + (i / w) / 16) % 2 == 0 { 40 } else { 200 }; 3]).collect();
        let mut soft = sharp.clone();
        let src = sharp.clone();
        for y in 4..h as usize - 4 {
            for x in 4..w as usize - 4 {
                let mut s = 0u32;
                for dy in 0..9 {
                    for dx in 0..9 {
                        s += u32::from(src[((y + dy - 4) * w as usize + x + dx - 4) * 3]);
                    }
                }
                let v = (s / 81) as u8;
                soft[(y * w as usize + x) * 3..][..3].copy_from_slice(&[v, v, v]);
            }
        }
        let a = sharpness(&RgbImage { width: w, height: h, data: sharp }, &TEMPLATE_112);
        let b = sharpness(&RgbImage { width: w, height: h, data: soft }, &TEMPLATE_112);
        // The measure is contrast-free: the same checks at a quarter of the contrast score the same.
        let faint: Vec<u8> =
            (0..w * h).flat_map(|i| [if ((i % w) / 16 + (i / w) / 16) % 2 == 0 { 100 } else { 140 }; 3]).collect();
        let c = sharpness(&RgbImage { width: w, height: h, data: faint }, &TEMPLATE_112);
        assert!(a > 10.0 * b && a >= QualityGate::default().min_sharpness && (a - c).abs() < 0.05 * a, "{a} {b} {c}");
    }
}
