//! `[analysis]`: every policy knob of the analysis in one place, with one default and documented
//! bounds each. `raqib run`, `raqib replay`, `raqib bench video`, `raqib watchlist check`,
//! `raqib faces compare` and the server's searches all read this one value; nothing else
//! defines these numbers.

use serde::{Deserialize, Serialize};

/// Why an `[analysis]` value is refused: the key (as written in `raqib.toml`) and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("analysis.{key}: {message}")]
pub struct PolicyError {
    /// The key under `[analysis]`.
    pub key: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

/// The analysis policy (`[analysis]` in `raqib.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisPolicy {
    /// Largest weighted edit distance of a fuzzy plate match (OCR look-alikes such as `0`/`O`
    /// cost less than other substitutions); `0` matches exact keys only. Used for live hits,
    /// replay hits, the bench, `watchlist check` and stored-read search. Bounds 0–3, default 1.
    pub plate_max_distance: f32,
    /// Least cosine similarity of two face embeddings of the same person: the verification
    /// threshold of live and replay face hits, photo search and `faces compare`. Bounds
    /// 0.2–0.9, default 0.40.
    pub face_match_threshold: f32,
    /// The share of strangers allowed to raise a face alert (FPIR), instead of a raw threshold:
    /// when set, the threshold is derived from it with the face model's calibration and the
    /// number of faces enrolled now (a larger gallery gets a higher threshold for the same
    /// rate), and `face_match_threshold` is not used for live and replay hits. Bounds 1e-6–0.5,
    /// default unset.
    pub face_fpir_target: Option<f64>,
    /// Longest media time between two full-frame plate detections, in milliseconds; in between
    /// the localiser runs only around tracked plates. `0`: every analysed frame is a full one.
    /// Bounds 0–10 000, default 200.
    pub full_frame_interval_ms: u64,
    /// A plate track read in fewer analysed frames is dropped, unless one read reaches
    /// `single_read_confidence`. Bounds 1–50, default 2.
    pub min_reads: u32,
    /// One read at least this confident still makes an event. Bounds 0.5–1, default 0.9.
    pub single_read_confidence: f32,
    /// Least confidence of a track's vote for it to make an event. Bounds 0–1, default 0.5.
    pub min_vote_confidence: f32,
    /// A watchlist person already reported by a stream within this many seconds of media time
    /// is not reported again by it (a face track broken into pieces raises one alert). Bounds
    /// 0–86 400, default 30.
    pub face_repeat_seconds: u64,
    /// The node's local time, minutes east of UTC, for watchlist entries active on certain days
    /// and hours (Morocco: 60, or 0 during Ramadan). Bounds −720 to 840, default 0.
    pub local_utc_offset_minutes: i32,
}

impl Default for AnalysisPolicy {
    fn default() -> Self {
        AnalysisPolicy {
            plate_max_distance: 1.0,
            face_match_threshold: 0.40,
            face_fpir_target: None,
            full_frame_interval_ms: 200,
            min_reads: 2,
            single_read_confidence: 0.9,
            min_vote_confidence: 0.5,
            face_repeat_seconds: 30,
            local_utc_offset_minutes: 0,
        }
    }
}

/// Command-line overrides of `[analysis]` (`--full-frame-ms`, `--max-distance`, `--threshold`);
/// what is not given stays as configured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Overrides {
    /// `full_frame_interval_ms`.
    pub full_frame_interval_ms: Option<u64>,
    /// `plate_max_distance`.
    pub plate_max_distance: Option<f32>,
    /// `face_match_threshold`.
    pub face_match_threshold: Option<f32>,
}

impl AnalysisPolicy {
    /// This policy with `o` applied, checked against the same bounds as the file.
    pub fn with(self, o: Overrides) -> Result<Self, PolicyError> {
        let p = AnalysisPolicy {
            full_frame_interval_ms: o.full_frame_interval_ms.unwrap_or(self.full_frame_interval_ms),
            plate_max_distance: o.plate_max_distance.unwrap_or(self.plate_max_distance),
            face_match_threshold: o.face_match_threshold.unwrap_or(self.face_match_threshold),
            ..self
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks every value against its bounds; the error names the key.
    pub fn validate(&self) -> Result<(), PolicyError> {
        fn within(key: &'static str, v: f64, lo: f64, hi: f64) -> Result<(), PolicyError> {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(PolicyError { key, message: format!("{v} is outside {lo}–{hi}") })
            }
        }
        within("plate_max_distance", f64::from(self.plate_max_distance), 0.0, 3.0)?;
        within("face_match_threshold", f64::from(self.face_match_threshold), 0.2, 0.9)?;
        if let Some(f) = self.face_fpir_target {
            within("face_fpir_target", f, 1e-6, 0.5)?;
        }
        within("full_frame_interval_ms", self.full_frame_interval_ms as f64, 0.0, 10_000.0)?;
        within("min_reads", f64::from(self.min_reads), 1.0, 50.0)?;
        within("single_read_confidence", f64::from(self.single_read_confidence), 0.5, 1.0)?;
        within("min_vote_confidence", f64::from(self.min_vote_confidence), 0.0, 1.0)?;
        within("face_repeat_seconds", self.face_repeat_seconds as f64, 0.0, 86_400.0)?;
        within("local_utc_offset_minutes", f64::from(self.local_utc_offset_minutes), -720.0, 840.0)?;
        Ok(())
    }

    /// The face threshold of live and replay hits against a gallery of `faces` person templates:
    /// from [`face_fpir_target`](Self::face_fpir_target) with the model's calibration when both
    /// are there (kept within `face_match_threshold`'s bounds, 0.2–0.9), else
    /// [`face_match_threshold`](Self::face_match_threshold).
    pub fn face_threshold(&self, calibration: Option<crate::FaceCalibration>, faces: usize) -> f32 {
        match (self.face_fpir_target, calibration) {
            (Some(fpir), Some(c)) => c.threshold(fpir, faces).clamp(0.2, 0.9),
            _ => self.face_match_threshold,
        }
    }

    /// [`full_frame_interval_ms`](Self::full_frame_interval_ms) as a duration.
    pub fn full_frame_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.full_frame_interval_ms)
    }

    /// The node's local time zone ([`local_utc_offset_minutes`](Self::local_utc_offset_minutes)).
    pub fn local_offset(&self) -> chrono::FixedOffset {
        use chrono::Offset;
        chrono::FixedOffset::east_opt(self.local_utc_offset_minutes * 60).unwrap_or(chrono::Utc.fix())
    }

    /// [`face_repeat_seconds`](Self::face_repeat_seconds) as a duration.
    pub fn face_repeat(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.face_repeat_seconds)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn overrides_replace_only_what_is_given_and_keep_the_bounds() {
        let d = AnalysisPolicy::default();
        let p = d.with(Overrides { plate_max_distance: Some(2.0), ..Overrides::default() }).unwrap();
        assert_eq!((p.plate_max_distance, p.face_match_threshold), (2.0, d.face_match_threshold));
        assert_eq!(d.with(Overrides::default()).unwrap(), d);
        let e = d.with(Overrides { face_match_threshold: Some(0.05), ..Overrides::default() }).unwrap_err();
        assert_eq!(e.key, "face_match_threshold");
    }

    use super::*;

    #[test]
    fn defaults_are_valid_and_each_bound_names_its_key() {
        AnalysisPolicy::default().validate().unwrap();
        let cases: [(&str, AnalysisPolicy); 7] = [
            ("plate_max_distance", AnalysisPolicy { plate_max_distance: 3.5, ..Default::default() }),
            ("face_match_threshold", AnalysisPolicy { face_match_threshold: f32::NAN, ..Default::default() }),
            ("full_frame_interval_ms", AnalysisPolicy { full_frame_interval_ms: u64::MAX, ..Default::default() }),
            ("min_reads", AnalysisPolicy { min_reads: 0, ..Default::default() }),
            ("single_read_confidence", AnalysisPolicy { single_read_confidence: 0.2, ..Default::default() }),
            ("min_vote_confidence", AnalysisPolicy { min_vote_confidence: -0.1, ..Default::default() }),
            ("face_repeat_seconds", AnalysisPolicy { face_repeat_seconds: 100_000, ..Default::default() }),
        ];
        for (key, p) in cases {
            let e = p.validate().unwrap_err();
            assert_eq!(e.key, key);
            assert!(e.to_string().starts_with(&format!("analysis.{key}: ")), "{e}");
        }
    }

    #[test]
    fn a_fpir_target_sets_the_face_threshold_by_gallery_size_and_is_bounded() {
        let cal = crate::FaceCalibration { impostor_mean: 0.05, impostor_sd: 0.1 };
        let raw = AnalysisPolicy::default();
        assert_eq!(raw.face_threshold(Some(cal), 100), 0.40, "no target: the raw threshold");
        let p = AnalysisPolicy { face_fpir_target: Some(0.003), ..raw };
        p.validate().unwrap();
        assert_eq!(p.face_threshold(None, 100), 0.40, "no calibration for the model: the raw threshold");
        let (small, large) = (p.face_threshold(Some(cal), 10), p.face_threshold(Some(cal), 100_000));
        assert!(small < large && large <= 0.9, "{small} {large}");
        assert!((cal.fpir(small, 10) - 0.003).abs() < 1e-4);
        let e = AnalysisPolicy { face_fpir_target: Some(0.9), ..raw }.validate().unwrap_err();
        assert_eq!(e.key, "face_fpir_target");
    }
}
