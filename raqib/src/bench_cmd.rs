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

/// `raqib bench hub`: prints the national hub's figures (see `raqib_hub::bench`).
pub fn hub(nodes: usize, alerts: usize, live_hits: usize, json: Option<&Path>) -> anyhow::Result<()> {
    if nodes == 0 || live_hits == 0 {
        anyhow::bail!("--nodes and --live-hits: at least 1");
    }
    let cfg = raqib_hub::bench::BenchConfig { nodes, alerts, live_hits };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let r =
        rt.block_on(raqib_hub::bench::run(cfg, |line| eprintln!("bench hub: {line}"))).map_err(anyhow::Error::msg)?;
    println!(
        "national hub, {} simulated nodes (real node links) → nats-server + PostgreSQL (fsync on), this machine",
        r.nodes
    );
    println!(
        "  ingest:                  {:>8.0} alerts/s ({} alerts in {:.2} s)",
        r.ingest_per_s, r.ingest_alerts, r.ingest_s
    );
    println!(
        "  hit → national console:  p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        r.live_ms[0], r.live_ms[1], r.live_ms[2]
    );
    println!(
        "  entry → every node:      p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (a 60 s poll: 30,000 ms on average, {:.0}× slower than p50)",
        r.propagation_ms[0],
        r.propagation_ms[1],
        r.propagation_ms[2],
        30_000.0 / r.propagation_ms[0].max(1.0)
    );
    println!("  PostgreSQL per alert:    {:.0} bytes with indexes", r.bytes_per_alert);
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_vec_pretty(&r)?)?;
    }
    Ok(())
}
