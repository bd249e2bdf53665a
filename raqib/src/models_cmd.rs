//! `raqib models list|fetch|verify`.

use anyhow::{Context, bail};
use raqib_models::{FetchOutcome, Manifest};

use crate::config::Paths;

/// Prints every model with its source, licence and whether its file is present and intact.
pub fn list(paths: &Paths) -> anyhow::Result<()> {
    let manifest = Manifest::builtin()?;
    println!("models in {}", paths.models_dir.display());
    for m in &manifest.models {
        println!("  {}", m.status_line(&paths.models_dir));
    }
    Ok(())
}

/// Downloads and verifies whatever is missing or corrupt.
pub fn fetch(paths: &Paths) -> anyhow::Result<()> {
    let manifest = Manifest::builtin()?;
    let outcomes =
        raqib_models::fetch_models(&manifest, &paths.models_dir, &paths.downloads_dir).context("fetching models")?;
    for (id, outcome) in outcomes {
        let what = match outcome {
            FetchOutcome::AlreadyPresent => "already present, sha256 ok",
            FetchOutcome::Fetched => "fetched, sha256 ok",
        };
        println!("  {id:22} {what}");
    }
    Ok(())
}

/// Checks every model file against its pinned checksum; fails if any is missing or corrupt.
pub fn verify(paths: &Paths) -> anyhow::Result<()> {
    let manifest = Manifest::builtin()?;
    let mut bad = 0;
    for m in &manifest.models {
        match m.verify_in(&paths.models_dir) {
            Ok(p) => println!("  ok    {:22} {}", m.id, p.display()),
            Err(e) => {
                bad += 1;
                println!("  FAIL  {:22} {e}", m.id);
            }
        }
    }
    if bad > 0 {
        bail!("{bad} model(s) missing or corrupt; run `raqib models fetch`");
    }
    Ok(())
}
