//! `raqib eval plates` and `raqib eval faces`: the models as configured, measured by
//! [`raqib_eval`] on annotated sets; this file loads and prints.

use std::path::{Path, PathBuf};

use raqib_eval::plates::Labels;
use raqib_models::plate::{LocaliserKind, Views};

use crate::config::{Config, Paths};

/// `raqib eval plates`: `views`: plates are re-read from several views and voted (as `raqib run`
/// does), else from their one crop; `localiser`: which localiser finds the plates (default: the
/// one configured for still photos); `check`: the plate detector takes its second look
/// (`plate-check`); `labels`: the folders' labels with the corrections made by eye or as given.
/// A table, or JSON with `json`; `mistakes` go to stderr.
#[expect(clippy::too_many_arguments, reason = "one per command-line option")]
pub fn plates(
    config: &Config,
    paths: &Paths,
    data: &[PathBuf],
    json: bool,
    mistakes: bool,
    views: bool,
    localiser: Option<LocaliserKind>,
    check: bool,
    labels: Labels,
) -> anyhow::Result<()> {
    let kind = localiser.unwrap_or(config.runtime.still_localiser);
    let mut finder = crate::load::finder_with(config, paths, kind)?;
    if !check {
        finder.localiser.drop_check();
    }
    finder.views = if views { Views::All } else { Views::One };
    let reports = raqib_eval::plates::evaluate_sets(&mut finder, data, mistakes, labels)?;
    for r in &reports {
        for line in r.skipped.iter().chain(&r.mistakes) {
            eprintln!("  {}: {line}", r.set);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "plates": reports }))?);
    } else {
        print!("{}", raqib_eval::plates::table(&reports, kind));
    }
    Ok(())
}

/// `raqib eval faces --data DIR`: verification on `pairs_pivot.csv` at the configured threshold,
/// or 1:N identification on `gallery/`.
pub fn faces(config: &Config, paths: &Paths, data: &Path, json: bool) -> anyhow::Result<()> {
    let mut pipeline = crate::load::faces(config, paths)?;
    let calibration = raqib_models::manifest::face_calibration()
        .map(|c| (c, config.analysis.face_fpir_target.unwrap_or(raqib_eval::faces::DEFAULT_FPIR_TARGET)));
    let eval = raqib_eval::faces::evaluate(&mut pipeline, data, config.analysis.face_match_threshold, calibration)?;
    let failed = match &eval {
        raqib_eval::faces::FacesEval::Verification(v) => &v.failed,
        raqib_eval::faces::FacesEval::Identification(g) => &g.failed,
    };
    for line in failed {
        eprintln!("  {line}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
    } else {
        print!("{}", raqib_eval::faces::text(&eval));
    }
    Ok(())
}

/// `raqib faces compare A B`: one similarity against the configured threshold.
pub fn compare(config: &Config, paths: &Paths, a: &Path, b: &Path, json: bool) -> anyhow::Result<()> {
    crate::load::existing(&[a.to_owned(), b.to_owned()])?;
    let mut p = crate::load::faces(config, paths)?;
    let (fa, ea) = p.subject_of_photo(a)?;
    let (fb, eb) = p.subject_of_photo(b)?;
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
