//! `raqib eval plates`: plate localisation on sets annotated as `file x y w h TEXT` per image.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use raqib_models::face::Bbox;
use raqib_models::plate::RegionProposer;
use raqib_models::{RgbImage, Runtime};

use crate::config::{Config, Paths};

/// Loads ONNX Runtime and the plate-region proposer as configured.
pub fn load_proposer(config: &Config, paths: &Paths) -> anyhow::Result<RegionProposer> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let opts = config.runtime.session_options();
    Ok(RegionProposer::load(rt, &paths.models_dir, &opts)?)
}

/// One annotation: image file and plate box.
struct Truth {
    image: PathBuf,
    bbox: Bbox,
}

fn read_truth(dir: &Path) -> anyhow::Result<Vec<Truth>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let line = std::fs::read_to_string(&f)?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, x, y, w, h, ..] = fields[..] else { bail!("{}: expected `file x y w h TEXT`", f.display()) };
        let n = |s: &str| s.parse::<f32>().with_context(|| format!("{}: `{s}` is not a number", f.display()));
        let (x, y) = (n(x)?.max(0.0), n(y)?.max(0.0));
        out.push(Truth { image: dir.join(name), bbox: Bbox { x1: x, y1: y, x2: x + n(w)?, y2: y + n(h)? } });
    }
    Ok(out)
}

/// Evaluates every subfolder of `data` that holds annotations (or `data` itself).
pub fn eval(config: &Config, paths: &Paths, data: &Path) -> anyhow::Result<()> {
    let mut sets: Vec<PathBuf> = std::fs::read_dir(data)
        .with_context(|| format!("reading {}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    if sets.is_empty() {
        sets.push(data.to_path_buf());
    }
    let mut proposer = load_proposer(config, paths)?;
    println!("plate localisation (PP-OCRv4 text regions as plate candidates), max side {} px", proposer.max_side);
    println!(
        "{:10} {:>6} {:>12} {:>12} {:>14} {:>10}",
        "set", "images", "recall@0.3", "recall@0.5", "regions/image", "ms/image"
    );
    let (mut all_n, mut all_30, mut all_50) = (0usize, 0usize, 0usize);
    for set in sets {
        let truth = read_truth(&set)?;
        if truth.is_empty() {
            continue;
        }
        let (mut hit30, mut hit50, mut regions, mut ms) = (0usize, 0usize, 0usize, 0f64);
        for t in &truth {
            let img = match RgbImage::open(&t.image) {
                Ok(img) => img,
                Err(e) => {
                    eprintln!("  {e}");
                    continue;
                }
            };
            let start = Instant::now();
            let found = proposer.propose(&img)?;
            ms += start.elapsed().as_secs_f64() * 1000.0;
            regions += found.len();
            let best = found.iter().map(|r| r.bbox.iou(&t.bbox)).fold(0f32, f32::max);
            hit30 += usize::from(best >= 0.3);
            hit50 += usize::from(best >= 0.5);
        }
        let n = truth.len();
        let name = set.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        println!(
            "{name:10} {n:>6} {:>11.1}% {:>11.1}% {:>14.1} {:>10.0}",
            hit30 as f64 * 100.0 / n as f64,
            hit50 as f64 * 100.0 / n as f64,
            regions as f64 / n as f64,
            ms / n as f64
        );
        (all_n, all_30, all_50) = (all_n + n, all_30 + hit30, all_50 + hit50);
    }
    if all_n > 0 {
        println!(
            "{:10} {all_n:>6} {:>11.1}% {:>11.1}%",
            "all",
            all_30 as f64 * 100.0 / all_n as f64,
            all_50 as f64 * 100.0 / all_n as f64
        );
    }
    println!(
        "recall = plates whose box some region overlaps at that IoU; precision needs the recogniser (other text is not annotated)"
    );
    Ok(())
}
