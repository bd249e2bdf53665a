//! `raqib eval faces`: the face pipeline on photo sets: verification accuracy on a pair list
//! (`pairs_pivot.csv`), 1:N rank-1 identification on a gallery (`gallery/<identity>/<photos>`).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use raqib_core::Embedding;
use raqib_models::FacePipeline;
use serde::Serialize;

use crate::plates::items::entries;
use crate::{Error, Result};

/// Verification figures on a pair list.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The folder.
    pub data: PathBuf,
    /// Pairs scored.
    pub pairs: usize,
    /// Distinct photos.
    pub images: usize,
    /// Photos without a detected face (their pairs count as "different").
    pub images_without_face: usize,
    /// The threshold given (the node's `analysis.face_match_threshold`).
    pub threshold: f32,
    /// Accuracy at `threshold`.
    pub accuracy: f64,
    /// The best threshold on this set (0.01 steps) and its accuracy: chosen on the set itself.
    pub best_threshold_on_this_set: f32,
    /// Accuracy at the best threshold.
    pub best_accuracy: f64,
    /// Genuine pairs scoring above every impostor pair (TAR at FAR 0).
    pub tar_at_far_0: f64,
    /// The highest impostor score.
    pub far_0_threshold: f32,
    /// Impostor pairs.
    pub impostor_pairs: usize,
    /// Detect + landmarks + align + embed, ms per photo.
    pub ms_per_image: f64,
    /// The face quality gate on the set's photos.
    pub quality: crate::face_quality::QualitySurvey,
    /// Every pair of the set's identity clusters (`identity_clusters_derived.csv`) and the
    /// open-set test on them, when the set has the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchlist_scale: Option<WatchlistScale>,
    /// Photos that failed (no face, unreadable), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// Figures at watchlist scale on a set with identities: TAR at FAR over every pair of photos,
/// FNIR at FPIR in a leave-identities-out open-set test, and both rates at the shipped threshold.
#[derive(Debug, Clone, Serialize)]
pub struct WatchlistScale {
    /// Photos with an identity and a face.
    pub photos: usize,
    /// Identities.
    pub identities: usize,
    /// Genuine pairs (same identity).
    pub genuine_pairs: usize,
    /// Impostor pairs.
    pub impostor_pairs: usize,
    /// TAR at FAR 1e-3 and 1e-4 (over every pair).
    pub tar_at_far: Vec<crate::open_set::TarAtFar>,
    /// Accuracy over every pair (genuine accepted, impostor rejected, each pair counted once) at
    /// the shipped threshold, and the best threshold on this set (0.01 steps) with its accuracy.
    pub pair_accuracy: (f64, f32, f64),
    /// Mated searches (a listed person's photo against the gallery).
    pub mated_searches: usize,
    /// Non-mated searches (a stranger's photo against the gallery).
    pub non_mated_searches: usize,
    /// Mated searches whose best match is the person (rank 1, any score).
    pub rank1: f64,
    /// FNIR at FPIR 0.003 and 0.001 (with their thresholds), where measurable.
    pub fnir_at_fpir: Vec<crate::open_set::FnirAtFpir>,
    /// FNIR with no stranger through, and the threshold that gives it.
    pub fnir_at_zero_fpir: (f64, f32),
    /// The shipped threshold (`analysis.face_match_threshold`): FNIR and FPIR there.
    pub at_threshold: (f32, f64, f64),
    /// (threshold, FNIR, FPIR) from 0.30 to 0.60 in steps of 0.05: the trade-off to choose from.
    pub curve: Vec<(f32, f64, f64)>,
    /// Mean and standard deviation of the impostor pairs' scores, and the standard deviation a
    /// normal tail needs to pass through their 99.5th percentile (heavier tails than a normal
    /// give a larger one): this set's own fit, to write into the manifest's
    /// `[model.calibration]` (the larger of the two deviations) when it is the calibration set.
    pub impostor_fit: (f32, f32, f32),
    /// A wrong photo slipped into each person's enrolment: left out by the template rule?
    pub outliers: crate::open_set::OutlierCheck,
    /// With the shipped calibration (measured on another set): target FPIR, the threshold it
    /// gives for this gallery's size (one template per identity), and FNIR, FPIR measured there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibrated: Option<(f64, f32, f64, f64)>,
}

/// The watchlist-scale figures of `(identity, embedding)` photos at `threshold`.
pub fn watchlist_scale(
    faces: &[(String, Embedding)],
    threshold: f32,
    calibration: Option<(raqib_core::FaceCalibration, f64)>,
) -> WatchlistScale {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, (a, ea)) in faces.iter().enumerate() {
        for (b, eb) in &faces[i + 1..] {
            let s = ea.cosine(eb).unwrap_or(-1.0);
            if a == b { genuine.push(s) } else { impostor.push(s) }
        }
    }
    let open = crate::open_set::open_set(faces);
    let rank1 = open.mated.iter().filter(|(_, r)| *r).count() as f64 / open.mated.len().max(1) as f64;
    WatchlistScale {
        photos: faces.len(),
        identities: open.identities,
        genuine_pairs: genuine.len(),
        impostor_pairs: impostor.len(),
        tar_at_far: [1e-3, 1e-4].iter().map(|far| crate::open_set::tar_at_far(&genuine, &impostor, *far)).collect(),
        pair_accuracy: pair_accuracy(&genuine, &impostor, threshold),
        mated_searches: open.mated.len(),
        non_mated_searches: open.non_mated.len(),
        rank1,
        fnir_at_fpir: [0.003, 0.001].iter().map(|f| open.fnir_at_fpir(*f)).collect(),
        fnir_at_zero_fpir: open.fnir_at_zero_fpir(),
        at_threshold: (threshold, open.fnir(threshold), open.fpir(threshold)),
        curve: (6..=12).map(|i| i as f32 * 0.05).map(|t| (t, open.fnir(t), open.fpir(t))).collect(),
        impostor_fit: mean_sd(&impostor),
        outliers: crate::open_set::outlier_check(faces),
        calibrated: calibration.map(|(c, target)| {
            let t = c.threshold(target, open.identities.saturating_sub(1).max(1));
            (target, t, open.fnir(t), open.fpir(t))
        }),
    }
}

/// Accuracy over every pair at `threshold`, and the best threshold (0.01 steps) with its own.
fn pair_accuracy(genuine: &[f32], impostor: &[f32], threshold: f32) -> (f64, f32, f64) {
    let n = (genuine.len() + impostor.len()).max(1) as f64;
    let acc =
        |t: f32| (genuine.iter().filter(|s| **s >= t).count() + impostor.iter().filter(|s| **s < t).count()) as f64 / n;
    let (best_t, best) =
        (0..=100).map(|i| i as f32 / 100.0).map(|t| (t, acc(t))).fold((0.0, 0.0), |b, x| if x.1 > b.1 { x } else { b });
    (acc(threshold), best_t, best)
}

/// (mean, sd, the sd of a normal with this mean through the 99.5th percentile).
fn mean_sd(v: &[f32]) -> (f32, f32, f32) {
    /// The standard normal's 99.5th percentile.
    const Z_995: f64 = 2.575_829;
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|x| f64::from(*x)).sum::<f64>() / n;
    let var = v.iter().map(|x| (f64::from(*x) - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let mut sorted = v.to_vec();
    sorted.sort_by(f32::total_cmp);
    let p995 = sorted.get(((n * 0.995) as usize).min(sorted.len().saturating_sub(1))).map_or(mean, |x| f64::from(*x));
    (mean as f32, var.sqrt() as f32, ((p995 - mean) / Z_995) as f32)
}

/// `identity_clusters_derived.csv` (`cluster_id,file` with a header): file → identity.
fn clusters(data: &Path) -> Result<Option<Vec<(String, String)>>> {
    let path = data.join("identity_clusters_derived.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let Some((id, file)) = line.split_once(',') else {
            return Err(Error::annotation(&path, format!("line {}: expected cluster_id,file", i + 1)));
        };
        out.push((id.trim().to_owned(), file.trim().to_owned()));
    }
    Ok(Some(out))
}

/// Identification figures on a gallery.
#[derive(Debug, Clone, Serialize)]
pub struct Identification {
    /// The gallery folder.
    pub gallery: PathBuf,
    /// Photos.
    pub photos: usize,
    /// Identities (subfolders).
    pub identities: usize,
    /// Photos whose face the detector found (the others were taken whole as tight crops).
    pub detected: usize,
    /// Rank-1 rate, leave-one-out.
    pub rank1: f64,
    /// Probes whose best match is the same identity.
    pub correct: usize,
    /// Probes.
    pub probes: usize,
    /// TAR at FAR and FNIR at FPIR on the gallery's photos.
    pub watchlist_scale: WatchlistScale,
    /// The face quality gate on the gallery's photos.
    pub quality: crate::face_quality::QualitySurvey,
    /// Face detection against our annotation of the set's group photos, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<Vec<crate::face_detection::DetectionAtScale>>,
    /// Photos that failed, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// Either figure, by the folder's layout.
#[derive(Debug, Clone, Serialize)]
pub enum FacesEval {
    /// `pairs_pivot.csv`.
    #[serde(rename = "faces_verification")]
    Verification(Verification),
    /// `gallery/`.
    #[serde(rename = "faces_identification")]
    Identification(Identification),
}

/// The FPIR a calibrated threshold is measured at when `[analysis] face_fpir_target` is unset.
pub const DEFAULT_FPIR_TARGET: f64 = 0.003;

/// The shipped face calibration and the FPIR target to measure it at, if any.
pub type Calibrated = Option<(raqib_core::FaceCalibration, f64)>;

/// Evaluates `pipeline` on `data`: 1:N identification when it holds `gallery/`, else
/// verification on its `pairs_pivot.csv` at `threshold`.
pub fn evaluate(
    pipeline: &mut FacePipeline,
    data: &Path,
    threshold: f32,
    calibration: Calibrated,
) -> Result<FacesEval> {
    if data.join("gallery").is_dir() {
        let mut g = identification(pipeline, &data.join("gallery"), threshold, calibration)?;
        g.detection = crate::face_detection::evaluate(pipeline, data)?;
        return Ok(FacesEval::Identification(g));
    }
    verification(pipeline, data, threshold, calibration).map(FacesEval::Verification)
}

/// Verification on `data/pairs_pivot.csv` (`file_x,file_y,decision` with a header line).
pub fn verification(
    pipeline: &mut FacePipeline,
    data: &Path,
    threshold: f32,
    calibration: Calibrated,
) -> Result<Verification> {
    let gate = raqib_models::face::quality::QualityGate::default();
    let pairs_file = data.join("pairs_pivot.csv");
    let text = std::fs::read_to_string(&pairs_file).map_err(|e| Error::io(&pairs_file, e))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [a, b, d] = f[..] else {
            return Err(Error::annotation(&pairs_file, format!("line {}: expected file_x,file_y,decision", i + 1)));
        };
        pairs.push((a.to_owned(), b.to_owned(), d.eq_ignore_ascii_case("yes")));
    }
    let mut emb: HashMap<String, Option<Embedding>> = HashMap::new();
    let mut samples = Vec::new();
    let mut failed = Vec::new();
    let mut busy = std::time::Duration::ZERO;
    let clustered = clusters(data)?;
    let cluster_files = clustered.iter().flatten().map(|(_, f)| f);
    for name in pairs.iter().flat_map(|(a, b, _)| [a, b]).chain(cluster_files) {
        if !emb.contains_key(name) {
            let e = match crate::face_quality::photo(pipeline, &data.join(name)) {
                Ok((_, e, sample, took)) => {
                    busy += took;
                    samples.push(sample);
                    Some(e)
                }
                Err(err) => {
                    failed.push(err.to_string());
                    None
                }
            };
            emb.insert(name.clone(), e);
        }
    }
    let ms_per_image = busy.as_secs_f64() * 1000.0 / samples.len().max(1) as f64;
    let scored: Vec<(f32, bool)> = pairs
        .iter()
        .map(|(a, b, same)| {
            let s = match (emb.get(a).and_then(Option::as_ref), emb.get(b).and_then(Option::as_ref)) {
                (Some(x), Some(y)) => x.cosine(y).unwrap_or(-1.0),
                _ => -1.0, // no face: counts as "different"
            };
            (s, *same)
        })
        .collect();
    let acc = |t: f32| scored.iter().filter(|(s, same)| (*s >= t) == *same).count() as f64 / scored.len() as f64;
    let (best_t, best_acc) =
        (0..=100).map(|i| i as f32 / 100.0).map(|t| (t, acc(t))).fold((0.0, 0.0), |b, x| if x.1 > b.1 { x } else { b });
    // With N impostor pairs the smallest non-zero FAR is 1/N; report TAR at FAR = 0 (threshold
    // just above the highest impostor score), which bounds TAR at any FAR ≥ 1/N from below.
    let impostors = scored.iter().filter(|(_, same)| !same).count();
    let max_impostor = scored.iter().filter(|(_, same)| !same).map(|(s, _)| *s).fold(f32::MIN, f32::max);
    let genuine = scored.iter().filter(|(_, same)| *same).count().max(1);
    let tar0 = scored.iter().filter(|(s, same)| *same && *s > max_impostor).count() as f64 / genuine as f64;
    let watchlist_scale = clustered.map(|c| {
        let faces: Vec<(String, Embedding)> = c
            .iter()
            .filter_map(|(id, f)| emb.get(f).and_then(Option::as_ref).map(|e| (id.clone(), e.clone())))
            .collect();
        watchlist_scale(&faces, threshold, calibration)
    });
    Ok(Verification {
        data: data.to_owned(),
        pairs: pairs.len(),
        images: emb.len(),
        images_without_face: emb.values().filter(|e| e.is_none()).count(),
        threshold,
        accuracy: acc(threshold),
        best_threshold_on_this_set: best_t,
        best_accuracy: best_acc,
        tar_at_far_0: tar0,
        far_0_threshold: max_impostor,
        impostor_pairs: impostors,
        ms_per_image,
        quality: crate::face_quality::survey(&samples, &gate),
        watchlist_scale,
        failed,
    })
}

/// Leave-one-out rank-1 on `gallery/<identity>/<photos>`: each photo is the probe, every other
/// photo the gallery.
pub fn identification(
    pipeline: &mut FacePipeline,
    gallery: &Path,
    threshold: f32,
    calibration: Calibrated,
) -> Result<Identification> {
    let gate = raqib_models::face::quality::QualityGate::default();
    let mut photos: Vec<(String, PathBuf)> = Vec::new();
    for dir in entries(gallery)?.iter().filter(|d| d.is_dir()) {
        let identity = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        photos.extend(entries(dir)?.into_iter().filter(|f| f.is_file()).map(|f| (identity.clone(), f)));
    }
    let mut embedded: Vec<(String, Embedding, bool)> = Vec::new();
    let mut samples = Vec::new();
    let mut failed = Vec::new();
    for (identity, path) in &photos {
        match crate::face_quality::photo(pipeline, path) {
            Ok((face, e, sample, _)) => {
                samples.push(sample);
                embedded.push((identity.clone(), e, face.score > 0.0));
            }
            Err(err) => failed.push(err.to_string()),
        }
    }
    let mut correct = 0;
    for (i, (who, e, _)) in embedded.iter().enumerate() {
        let best = embedded
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (other, g, _))| (other, e.cosine(g).unwrap_or(-1.0)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if best.is_some_and(|(other, _)| other == who) {
            correct += 1;
        }
    }
    let identities: BTreeSet<&String> = photos.iter().map(|(w, _)| w).collect();
    Ok(Identification {
        gallery: gallery.to_owned(),
        photos: photos.len(),
        identities: identities.len(),
        detected: embedded.iter().filter(|(_, _, d)| *d).count(),
        rank1: correct as f64 / embedded.len().max(1) as f64,
        correct,
        probes: embedded.len(),
        watchlist_scale: watchlist_scale(
            &embedded.iter().map(|(who, e, _)| (who.clone(), e.clone())).collect::<Vec<_>>(),
            threshold,
            calibration,
        ),
        quality: crate::face_quality::survey(&samples, &gate),
        detection: None,
        failed,
    })
}

fn scale_text(o: &mut String, w: &WatchlistScale, what: &str) {
    let _ = writeln!(
        o,
        "  watchlist scale ({what}): {} photos of {} identities; {} genuine / {} impostor pairs",
        w.photos, w.identities, w.genuine_pairs, w.impostor_pairs
    );
    let (at, best_t, best) = w.pair_accuracy;
    let _ = writeln!(
        o,
        "    accuracy over every pair: {:.2} % at the shipped threshold; best {:.2} % at {best_t:.2} (chosen on this set)",
        at * 100.0,
        best * 100.0
    );
    for t in &w.tar_at_far {
        match (t.tar, t.threshold) {
            (Some(tar), Some(th)) => {
                let _ = writeln!(o, "    TAR at FAR {:e}: {:.1} % (threshold > {th:.3})", t.far, tar * 100.0);
            }
            _ => {
                let _ = writeln!(
                    o,
                    "    TAR at FAR {:e}: not measurable ({} impostor pairs, needs {:.0})",
                    t.far,
                    t.impostor_pairs,
                    1.0 / t.far
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "    open set (each identity left out in turn): {} mated, {} non-mated searches; rank-1 {:.1} %",
        w.mated_searches,
        w.non_mated_searches,
        w.rank1 * 100.0
    );
    for f in &w.fnir_at_fpir {
        match (f.fnir, f.threshold) {
            (Some(fnir), Some(th)) => {
                let _ = writeln!(o, "    FNIR at FPIR {}: {:.1} % (threshold > {th:.3})", f.fpir, fnir * 100.0);
            }
            _ => {
                let _ = writeln!(
                    o,
                    "    FNIR at FPIR {}: not measurable ({} non-mated searches, needs {:.0})",
                    f.fpir,
                    f.non_mated,
                    (1.0 / f.fpir).ceil()
                );
            }
        }
    }
    let (fnir0, top) = w.fnir_at_zero_fpir;
    let _ = writeln!(o, "    FNIR with no stranger through: {:.1} % (threshold > {top:.3})", fnir0 * 100.0);
    let (t, fnir, fpir) = w.at_threshold;
    let _ =
        writeln!(o, "    at analysis.face_match_threshold {t}: FNIR {:.1} %, FPIR {:.1} %", fnir * 100.0, fpir * 100.0);
    let curve: Vec<String> =
        w.curve.iter().map(|(t, n, p)| format!("{t:.2}: {:.1}/{:.1}", n * 100.0, p * 100.0)).collect();
    let _ = writeln!(o, "    FNIR/FPIR % by threshold: {}", curve.join(", "));
    let _ = writeln!(
        o,
        "    impostor pair scores: mean {:.4}, sd {:.4}; a normal through their 99.5th percentile: sd {:.4}",
        w.impostor_fit.0, w.impostor_fit.1, w.impostor_fit.2
    );
    let c = &w.outliers;
    let _ = writeln!(
        o,
        "    templates with one wrong photo each ({} persons): {} of {} wrong photos left out, {} of {} own photos wrongly left out; own photos to template: mean cosine {:.3} (plain mean) → {:.3} (template rule)",
        c.persons, c.caught, c.persons, c.own_dropped, c.own_photos, c.own_score.0, c.own_score.1
    );
    if let Some((target, t, fnir, fpir)) = w.calibrated {
        let _ = writeln!(
            o,
            "    calibrated (the manifest's fit): target FPIR {target} for {} enrolled → threshold {t:.3}: FNIR {:.1} %, FPIR {:.1} % measured",
            w.identities.saturating_sub(1),
            fnir * 100.0,
            fpir * 100.0
        );
    }
}

/// The figures as text.
pub fn text(eval: &FacesEval) -> String {
    let mut o = String::new();
    match eval {
        FacesEval::Verification(v) => {
            let _ = writeln!(
                o,
                "faces eval on {}: {} pairs, {} images ({} without a detected face)",
                v.data.display(),
                v.pairs,
                v.images,
                v.images_without_face
            );
            let _ =
                writeln!(o, "  accuracy at analysis.face_match_threshold {}: {:.1} %", v.threshold, v.accuracy * 100.0);
            let _ = writeln!(
                o,
                "  best accuracy {:.1} % at threshold {:.2} (chosen on this set)",
                v.best_accuracy * 100.0,
                v.best_threshold_on_this_set
            );
            let _ = writeln!(
                o,
                "  TAR {:.1} % at FAR 0 (threshold > {:.3}, the highest of {} impostor scores; FAR 1e-3 needs ≥ 1000 impostor pairs)",
                v.tar_at_far_0 * 100.0,
                v.far_0_threshold,
                v.impostor_pairs
            );
            let _ = writeln!(
                o,
                "  {:.1} ms per image (detect + landmarks + align + embed, CPU; decode excluded)",
                v.ms_per_image
            );
            o.push_str(&crate::face_quality::text(&v.quality, &Default::default()));
            if let Some(w) = &v.watchlist_scale {
                scale_text(&mut o, w, "identity clusters");
            }
        }
        FacesEval::Identification(g) => {
            let _ = writeln!(
                o,
                "faces 1:N on {}: {} photos of {} identities ({} detected, {} taken whole as tight crops)",
                g.gallery.display(),
                g.photos,
                g.identities,
                g.detected,
                g.probes - g.detected
            );
            let _ = writeln!(
                o,
                "  rank-1 identification (leave-one-out): {:.1} % ({}/{})",
                g.rank1 * 100.0,
                g.correct,
                g.probes
            );
            o.push_str(&crate::face_quality::text(&g.quality, &Default::default()));
            scale_text(&mut o, &g.watchlist_scale, "gallery identities");
            if let Some(d) = &g.detection {
                o.push_str(&crate::face_detection::text(d));
            }
        }
    }
    o
}
