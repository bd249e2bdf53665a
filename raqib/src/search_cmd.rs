//! `raqib search PLATE --reason R`: every stored sighting of a plate (any spelling, `?`/`*`
//! wildcards), newest first. A reason is required and the search is written to the audit log.

use std::path::Path;

use anyhow::{Context, bail};
use raqib_events::EventStore;
use raqib_watchlist::{Actor, Store};

use crate::config::Paths;

/// Runs the search and prints a table or JSON.
pub fn search(paths: &Paths, pattern: &str, reason: Option<&str>, limit: usize, json: bool) -> anyhow::Result<()> {
    let reason = raqib_core::Reason::required(reason)
        .map_err(|e| anyhow::anyhow!("searching past sightings needs --reason: {e}"))?;
    let reason = reason.as_str();
    let events_db = paths.data_dir.join("events.db");
    if !events_db.is_file() {
        bail!("no events store at {} yet: run `raqib replay` or `raqib run` first", events_db.display());
    }
    audit(&paths.data_dir.join("watchlist.db"), pattern, reason)?;
    let store = EventStore::open(&events_db)?;
    let found = store.search(pattern, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    println!("{} sighting(s) of {pattern}", found.len());
    for r in &found {
        let media = r.media_time.map(|t| format!(" at {t:.2} s")).unwrap_or_default();
        // A hit names its alerts: `raqib evidence ID` exports one.
        let hit = if r.hit {
            let ids: Vec<String> = store.alerts_of_read(r.id)?.iter().map(ToString::to_string).collect();
            format!("  HIT {}", ids.join(" "))
        } else {
            String::new()
        };
        println!(
            "  #{:<6} {}  {}{media}  {} ({})  conf {:.2}{hit}",
            r.id,
            r.seen_at.format("%Y-%m-%d %H:%M:%S"),
            r.source,
            r.plate,
            r.latin,
            r.confidence,
        );
    }
    Ok(())
}

/// Records the search (who, what, why) in the node's audit log, kept in the watchlist database.
fn audit(db: &Path, pattern: &str, reason: &str) -> anyhow::Result<()> {
    let store = Store::open(db).with_context(|| format!("opening {} for the audit log", db.display()))?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    store.audit(Actor::new(&user, Some(reason)), "search.sightings", Some(pattern), None)?;
    Ok(())
}
