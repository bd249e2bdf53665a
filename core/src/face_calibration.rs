//! Calibrated face decisions. A face model's similarity scores between photos of *different*
//! people (impostor pairs) follow, to a good approximation, a normal distribution; its mean and
//! spread, measured once per model on a stated set (`[model.calibration]` in the models
//! manifest), turn a raw cosine into what an operator and a policy need: how likely a stranger
//! is to score this high against one enrolled face (FAR), and against the whole gallery of `n`
//! enrolled faces (FPIR = 1 − (1 − FAR)ⁿ, the rate NIST reports for 1:N identification).
//!
//! The inverse gives the threshold for a target FPIR at the gallery's current size: a gallery
//! ten times larger needs a higher threshold for the same rate of false alarms, which a fixed
//! cosine threshold ignores. The normal tail is an extrapolation beyond the pairs measured (a
//! few thousand): the figures it gives far into the tail are estimates, and say so.

use serde::{Deserialize, Serialize};

/// The impostor score distribution of one face model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceCalibration {
    /// Mean cosine similarity of two different people's faces.
    pub impostor_mean: f32,
    /// Its standard deviation.
    pub impostor_sd: f32,
}

impl FaceCalibration {
    /// The chance that a stranger's face scores above `score` against one enrolled face.
    pub fn far(&self, score: f32) -> f64 {
        let z = (f64::from(score) - f64::from(self.impostor_mean)) / f64::from(self.impostor_sd.max(1e-6));
        0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
    }

    /// The chance that a stranger scores above `score` against any of `faces` enrolled faces.
    pub fn fpir(&self, score: f32, faces: usize) -> f64 {
        let far = self.far(score);
        // 1 − (1 − far)^n, exact for tiny far.
        -((faces.max(1) as f64) * (-far).ln_1p()).exp_m1()
    }

    /// The least threshold whose FPIR against `faces` enrolled faces is at most `fpir`.
    pub fn threshold(&self, fpir: f64, faces: usize) -> f32 {
        let (mut lo, mut hi) = (-1.0f32, 1.0f32);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if self.fpir(mid, faces) > fpir {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAL: FaceCalibration = FaceCalibration { impostor_mean: 0.05, impostor_sd: 0.1 };

    #[test]
    fn far_is_the_normal_tail_and_fpir_grows_with_the_gallery() {
        assert!((CAL.far(0.05) - 0.5).abs() < 1e-9);
        assert!((CAL.far(0.25) - 0.022_75).abs() < 1e-4, "two sd: {}", CAL.far(0.25));
        let one = CAL.fpir(0.45, 1);
        assert!((one - CAL.far(0.45)).abs() < 1e-12);
        assert!(CAL.fpir(0.45, 1000) > 100.0 * one * 0.99, "about n times the FAR while small");
        assert!(CAL.fpir(0.45, 1000) < 1000.0 * one);
    }

    #[test]
    fn the_threshold_gives_the_target_rate_and_rises_with_the_gallery() {
        for faces in [1, 100, 10_000] {
            let t = CAL.threshold(0.003, faces);
            assert!((CAL.fpir(t, faces) - 0.003).abs() < 1e-5, "{faces}: {}", CAL.fpir(t, faces));
        }
        assert!(CAL.threshold(0.003, 10_000) > CAL.threshold(0.003, 100));
        assert!(CAL.threshold(0.001, 100) > CAL.threshold(0.003, 100));
    }
}
