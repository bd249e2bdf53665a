//! Retention purge: `raqib purge`, and the same job inside `raqib run` (at start and every
//! `retention.purge_every_minutes`). Each purge is recorded in the audit log with its counts.

use chrono::Utc;
use raqib_events::EventStore;
use raqib_events::retention::Purged;
use raqib_watchlist::{Actor, Store};

use crate::config::{Config, Paths};

/// What one purge removed.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PurgeReport {
    /// From the events store.
    pub events: Purged,
    /// Audit records.
    pub audit: usize,
}

/// Applies the retention policy to `<data_dir>/events.db` and the audit log once.
pub fn purge_once(config: &Config, paths: &Paths, events: &mut EventStore) -> anyhow::Result<PurgeReport> {
    let now = Utc::now();
    let removed = events.purge(config.retention.cutoffs(now))?;
    let db = paths.data_dir.join("watchlist.db");
    let mut audit = 0;
    if db.is_file() {
        let mut store = Store::open(&db)?;
        let actor = Actor::new("raqib", Some("retention policy"));
        if let Some(before) = config.retention.audit_cutoff(now) {
            audit = store.purge_audit(before, actor)?;
        }
        if removed.reads + removed.hit_reads + removed.face_hits > 0 {
            let detail = format!(
                "{} read(s) without hit, {} read(s) with hits, {} face hit(s)",
                removed.reads, removed.hit_reads, removed.face_hits
            );
            store.audit(actor, "retention.purge", Some("events"), Some(&detail))?;
        }
    }
    Ok(PurgeReport { events: removed, audit })
}

/// `raqib purge`.
pub fn run(config: &Config, paths: &Paths, json: bool) -> anyhow::Result<()> {
    let mut events = EventStore::open(&paths.data_dir.join("events.db"))?;
    let r = purge_once(config, paths, &mut events)?;
    if json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "purged: {} plate read(s) without hit (older than {} days), {} with hits, {} face hit(s), {} audit record(s)",
            r.events.reads, config.retention.reads_days, r.events.hit_reads, r.events.face_hits, r.audit
        );
    }
    Ok(())
}
