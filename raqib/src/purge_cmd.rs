//! Retention purge: `raqib purge`, and the same job inside `raqib run` (at start and every
//! `retention.purge_every_minutes`). Each purge is recorded in the audit log with its counts.

use chrono::Utc;
use raqib_events::EventStore;
use raqib_events::retention::{PurgeReport, purge_audited};
use raqib_watchlist::Store;

use crate::config::{Config, Paths};

/// Applies the retention policy to `<data_dir>/events.db` and the audit log once
/// ([`raqib_events::retention::purge_audited`]).
pub fn purge_once(config: &Config, paths: &Paths, events: &mut EventStore) -> anyhow::Result<PurgeReport> {
    let now = Utc::now();
    let db = paths.data_dir.join("watchlist.db");
    let mut audit = if db.is_file() { Some(Store::open(&db)?) } else { None };
    let cut = config.retention.cutoffs(now);
    Ok(purge_audited(events, audit.as_mut(), cut, config.retention.audit_cutoff(now))?)
}

/// `raqib purge`.
pub fn run(config: &Config, paths: &Paths, json: bool) -> anyhow::Result<()> {
    let mut events = EventStore::open(&paths.data_dir.join("events.db"))?;
    let r = purge_once(config, paths, &mut events)?;
    println!("{}", if json { serde_json::to_string(&r)? } else { r.summary(&config.retention) });
    Ok(())
}
