//! `raqib faces compare` and `raqib eval faces`: the face pipeline on photos.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use raqib_core::Embedding;
use raqib_models::face::DEFAULT_DETECT_THRESHOLD;
use raqib_models::{FacePipeline, RgbImage, Runtime};

use crate::config::{Config, Paths};

/// Loads ONNX Runtime and the face models as configured.
pub fn load_pipeline(config: &Config, paths: &Paths) -> anyhow::Result<FacePipeline> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    Ok(FacePipeline::load(rt, &paths.models_dir, &opts)?)
}

/// The embedding of the subject of a one-person photo: the most confident face, or the whole
/// image when it is a tight face crop the detector does not fire on (score 0).
pub fn best_face(pipeline: &mut FacePipeline, path: &Path) -> anyhow::Result<(raqib_models::Face, Embedding)> {
    let img = RgbImage::open(path)?;
    match pipeline.single_subject(&img, DEFAULT_DETECT_THRESHOLD)? {
        Some(face) => Ok(face),
        None => bail!("{}: no face found", path.display()),
    }
}

/// `raqib faces compare A B`.
pub fn compare(config: &Config, paths: &Paths, a: &Path, b: &Path, json: bool) -> anyhow::Result<()> {
    let mut p = load_pipeline(config, paths)?;
    let (fa, ea) = best_face(&mut p, a)?;
    let (fb, eb) = best_face(&mut p, b)?;
    let sim = ea.cosine(&eb).unwrap_or(0.0);
    let threshold = config.analysis.face_match_threshold;
    let same = sim >= threshold;
    if json {
        println!(
            "{}",
            serde_json::json!({ "similarity": sim, "same_person": same, "threshold": threshold,
                "face_a": fa, "face_b": fb })
        );
    } else {
        println!(
            "similarity {sim:.3}: {} (threshold {threshold}, analysis.face_match_threshold)",
            if same { "same person" } else { "different persons" }
        );
    }
    Ok(())
}

/// `raqib eval faces --data DIR`: verification accuracy on a folder with `pairs_pivot.csv`, or
/// 1:N rank-1 identification on a folder with `gallery/<identity>/<photos>`.
pub fn eval(config: &Config, paths: &Paths, data: &Path, json: bool) -> anyhow::Result<()> {
    if data.join("gallery").is_dir() {
        return eval_identification(config, paths, &data.join("gallery"), json);
    }
    let pairs_file = data.join("pairs_pivot.csv");
    let text = std::fs::read_to_string(&pairs_file).with_context(|| format!("reading {}", pairs_file.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [a, b, d] = f[..] else {
            bail!("{}: line {}: expected file_x,file_y,decision", pairs_file.display(), i + 1)
        };
        pairs.push((a.to_owned(), b.to_owned(), d.eq_ignore_ascii_case("yes")));
    }
    let mut p = load_pipeline(config, paths)?;
    let threshold = config.analysis.face_match_threshold;
    let mut emb: HashMap<String, Option<Embedding>> = HashMap::new();
    let start = std::time::Instant::now();
    for name in pairs.iter().flat_map(|(a, b, _)| [a, b]) {
        if !emb.contains_key(name) {
            let e = best_face(&mut p, &data.join(name)).map(|(_, e)| e);
            if let Err(err) = &e {
                eprintln!("  {err:#}");
            }
            emb.insert(name.clone(), e.ok());
        }
    }
    let per_image_ms = start.elapsed().as_secs_f64() * 1000.0 / emb.len().max(1) as f64;
    let scored: Vec<(f32, bool)> = pairs
        .iter()
        .map(|(a, b, same)| {
            let s = match (&emb[a], &emb[b]) {
                (Some(x), Some(y)) => x.cosine(y).unwrap_or(-1.0),
                _ => -1.0, // no face: counts as "different"
            };
            (s, *same)
        })
        .collect();
    let acc = |t: f32| scored.iter().filter(|(s, same)| (*s >= t) == *same).count() as f64 / scored.len() as f64;
    let (best_t, best_acc) =
        (0..=100).map(|i| i as f32 / 100.0).map(|t| (t, acc(t))).fold((0.0, 0.0), |b, x| if x.1 > b.1 { x } else { b });
    let no_face = emb.values().filter(|e| e.is_none()).count();
    // With N impostor pairs the smallest non-zero FAR is 1/N; report TAR at FAR = 0 (threshold
    // just above the highest impostor score), which bounds TAR at any FAR ≥ 1/N from below.
    let impostors = scored.iter().filter(|(_, same)| !same).count();
    let max_impostor = scored.iter().filter(|(_, same)| !same).map(|(s, _)| *s).fold(f32::MIN, f32::max);
    let genuine = scored.iter().filter(|(_, same)| *same).count().max(1);
    let tar0 = scored.iter().filter(|(s, same)| *same && *s > max_impostor).count() as f64 / genuine as f64;
    if json {
        let v = serde_json::json!({ "faces_verification": {
            "data": data, "pairs": pairs.len(), "images": emb.len(), "images_without_face": no_face,
            "threshold": threshold, "accuracy": acc(threshold),
            "best_threshold_on_this_set": best_t, "best_accuracy": best_acc,
            "tar_at_far_0": tar0, "far_0_threshold": max_impostor, "impostor_pairs": impostors,
            "ms_per_image": per_image_ms,
        }});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "faces eval on {}: {} pairs, {} images ({no_face} without a detected face)",
        data.display(),
        pairs.len(),
        emb.len()
    );
    println!("  accuracy at analysis.face_match_threshold {threshold}: {:.1} %", acc(threshold) * 100.0);
    println!("  best accuracy {:.1} % at threshold {best_t:.2} (chosen on this set)", best_acc * 100.0);
    println!(
        "  TAR {:.1} % at FAR 0 (threshold > {max_impostor:.3}, the highest of {impostors} impostor scores; FAR 1e-3 needs ≥ 1000 impostor pairs)",
        tar0 * 100.0
    );
    println!("  {per_image_ms:.1} ms per image (detect + landmarks + align + embed, CPU)");
    Ok(())
}

/// Leave-one-out rank-1: each photo is the probe, every other photo the gallery.
fn eval_identification(config: &Config, paths: &Paths, gallery: &Path, json: bool) -> anyhow::Result<()> {
    let mut photos: Vec<(String, PathBuf)> = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(gallery)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let identity = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        photos.extend(files.into_iter().filter(|f| f.is_file()).map(|f| (identity.clone(), f)));
    }
    let mut p = load_pipeline(config, paths)?;
    let mut embedded: Vec<(String, Embedding, bool)> = Vec::new();
    for (identity, path) in &photos {
        match best_face(&mut p, path) {
            Ok((face, e)) => embedded.push((identity.clone(), e, face.score > 0.0)),
            Err(err) => eprintln!("  {err:#}"),
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
    let detected = embedded.iter().filter(|(_, _, d)| *d).count();
    let identities: std::collections::BTreeSet<&String> = photos.iter().map(|(w, _)| w).collect();
    if json {
        let v = serde_json::json!({ "faces_identification": {
            "gallery": gallery, "photos": photos.len(), "identities": identities.len(), "detected": detected,
            "rank1": correct as f64 / embedded.len().max(1) as f64, "correct": correct, "probes": embedded.len(),
        }});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "faces 1:N on {}: {} photos of {} identities ({detected} detected, {} taken whole as tight crops)",
        gallery.display(),
        photos.len(),
        identities.len(),
        embedded.len() - detected
    );
    println!(
        "  rank-1 identification (leave-one-out): {:.1} % ({correct}/{})",
        correct as f64 * 100.0 / embedded.len().max(1) as f64,
        embedded.len()
    );
    Ok(())
}

/// Photos given on the command line, checked to exist.
pub fn existing(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if !p.is_file() {
            bail!("{}: no such file", p.display());
        }
    }
    Ok(())
}
