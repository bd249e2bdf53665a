//! `raqib bench models` and `raqib bench video`: the models and watchlist as configured,
//! measured by [`raqib_eval`]; this file loads, prints and writes the JSON figures.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use raqib_eval::video::{BenchInputs, VideoBenchOptions};
use raqib_models::Runtime;
use raqib_watchlist::{Snapshot, Store};

use crate::config::{Config, Paths};

/// `raqib bench models`; `python` is the interpreter with `benches/baseline/requirements.txt`
/// installed (none: raqib's figures only).
pub fn models(config: &Config, paths: &Paths, iterations: usize, python: Option<&Path>) -> anyhow::Result<()> {
    let rt = Runtime::shared(&paths.ort_library)?;
    let b =
        raqib_eval::models_bench::run(rt, &config.runtime.session_options(), &paths.models_dir, iterations, python)?;
    print!("{}", raqib_eval::models_bench::table(&b));
    Ok(())
}

/// `raqib bench video`: `watchlist` is matched as part of the measured path; `json` also gets
/// the figures with the date and machine.
pub fn video(
    config: &Config,
    paths: &Paths,
    mut opts: VideoBenchOptions,
    watchlist: Option<&Path>,
    json: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let snapshot = match watchlist {
        Some(db) => {
            let store = Store::open(db).with_context(|| format!("opening watchlist {}", db.display()))?;
            Some(Snapshot::load(&store, crate::watchlist_cmd::FACE_MODEL)?)
        }
        None => None,
    };
    let mut faces = match &snapshot {
        Some(s) if s.embedding_count() > 0 => Some(crate::load::faces(config, paths)?),
        _ => None,
    };
    if opts.localisers.is_empty() {
        opts.localisers.push(config.runtime.plate_localiser);
    }
    let inputs = BenchInputs {
        load_finder: |kind| Ok(crate::load::video_finder_with(config, paths, kind)?),
        faces: faces.as_mut(),
        snapshot: snapshot.as_ref(),
        models_dir: &paths.models_dir,
        policy: &config.analysis,
    };
    let all = raqib_eval::video::run(inputs, &opts, &mut |f| print!("{}", raqib_eval::video::markdown(f)))?;
    if opts.localisers.len() > 1 {
        print!("{}", raqib_eval::video::comparison(&all, &opts.localisers));
    }
    if let Some(path) = json {
        let doc = serde_json::json!({
            "date": Utc::now().to_rfc3339(),
            "machine": raqib_eval::stats::machine_summary(),
            "videos": all,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}
