//! `raqib search PLATE --reason R`: every stored sighting of a plate (any spelling, `?`/`*`
//! wildcards), newest first. A reason is required and the search is written to the audit log.

use anyhow::{Context, bail};
use raqib_events::EventStore;
use raqib_events::read_search::{SearchAudit, SearchMode, search_audited};
use raqib_watchlist::Store;

use crate::config::{Config, Paths};

/// Runs the audited search ([`search_audited`], as the console's) and prints a table or JSON;
/// `fuzzy`: also reads within `analysis.plate_max_distance` (OCR look-alikes).
pub fn search(
    config: &Config,
    paths: &Paths,
    pattern: &str,
    reason: Option<&str>,
    limit: usize,
    fuzzy: bool,
    json: bool,
) -> anyhow::Result<()> {
    let reason = raqib_core::Reason::required(reason)
        .map_err(|e| anyhow::anyhow!("searching past sightings needs --reason: {e}"))?;
    let events_db = paths.data_dir.join("events.db");
    if !events_db.is_file() {
        bail!("no events store at {} yet: run `raqib replay` or `raqib run` first", events_db.display());
    }
    let db = paths.data_dir.join("watchlist.db");
    let audit = Store::open(&db).with_context(|| format!("opening {} for the audit log", db.display()))?;
    let store = EventStore::open(&events_db)?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let who = SearchAudit { actor: &user, reason: &reason, action: "search.sightings" };
    let mode = SearchMode::parse(fuzzy.then_some("fuzzy"), pattern)?;
    let found = search_audited(&store, &audit, who, pattern, mode, config.analysis.plate_max_distance, limit)?;
    let found: Vec<_> = found.into_iter().map(|f| f.read).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    println!("{} sighting(s) of {pattern}", found.len());
    for r in &found {
        // A hit names its alerts: `raqib evidence ID` exports one.
        let ids: Vec<String> =
            if r.hit { store.alerts_of_read(r.id)?.iter().map(ToString::to_string).collect() } else { vec![] };
        let hit = if r.hit { format!("  HIT {}", ids.join(" ")) } else { String::new() };
        println!("  {}{hit}", r.summary());
    }
    Ok(())
}
