//! `raqib evidence ALERT --reason R [--out FILE]`: writes an alert's evidence package (a ZIP:
//! the alert, its read or sighting, the watchlist entry, snapshots, a manifest with SHA-256
//! sums; see `raqib_events::evidence`). The export, with its reason and the package's SHA-256,
//! goes into the audit log, as it does from the console. `raqib alert delete ALERT --reason R`:
//! deletes a hit with its evidence, audited first (`raqib_events::deletion::delete_audited`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use raqib_events::EventStore;
use raqib_events::alerts::AlertId;
use raqib_events::evidence::{self, ExportInfo};
use raqib_watchlist::Store;

use crate::config::{Config, Paths};

/// Deletes alert `id` (audited first: no audit record, no deletion).
pub fn delete(paths: &Paths, id: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let reason =
        raqib_core::Reason::required(reason).map_err(|e| anyhow::anyhow!("deleting an alert needs --reason: {e}"))?;
    let id: AlertId = id.parse()?;
    let (mut events, audit) = stores(paths)?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let actor = raqib_watchlist::Actor::new(&user, Some(reason.as_str()));
    let alert = raqib_events::deletion::delete_audited(&mut events, &audit, id, actor)?;
    println!("{id}: deleted ({} alert from {}, with its evidence)", alert.category, alert.camera);
    Ok(())
}

/// The events store (which must exist) and the watchlist store holding the audit log.
fn stores(paths: &Paths) -> anyhow::Result<(EventStore, Store)> {
    let events_db = paths.data_dir.join("events.db");
    if !events_db.is_file() {
        bail!("no events store at {} yet: run `raqib replay` or `raqib run` first", events_db.display());
    }
    let db = paths.data_dir.join("watchlist.db");
    let audit = Store::open(&db).with_context(|| format!("opening {} for the audit log", db.display()))?;
    Ok((EventStore::open(&events_db)?, audit))
}

/// Exports alert `id` to `out` (default `raqib-evidence-<node>-<id>.zip` here); returns the path.
pub fn export(
    config: &Config,
    paths: &Paths,
    id: &str,
    reason: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let reason =
        raqib_core::Reason::required(reason).map_err(|e| anyhow::anyhow!("exporting evidence needs --reason: {e}"))?;
    let id: AlertId = id.parse()?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let info = ExportInfo { node: config.node.name.clone(), exported_by: user, reason, at: Utc::now() };
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| evidence::file_name(&config.node.name, id).into());
    if out.exists() {
        bail!("{} exists already: choose another --out (an export never overwrites a file)", out.display());
    }
    let (events, audit) = stores(paths)?;
    let package = evidence::export_audited(&events, &audit, id, &info, Some(&out.display().to_string()))
        .context("the export could not be audited, so no package was written")?;
    package.write_new(&out)?;
    println!(
        "{id}: {} ({} bytes, sha256 {}): {}",
        out.display(),
        package.zip.len(),
        package.sha256,
        package.files.join(", ")
    );
    Ok(out)
}
