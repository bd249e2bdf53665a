//! `raqib audit`: read the audit log (who changed, searched or viewed what, when, why) and
//! verify its hash chain.

use clap::Subcommand;
use raqib_watchlist::{Actor, Store};

use crate::config::Paths;

/// What `raqib audit` does.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Records, newest first, optionally only one actor's or one action's.
    List {
        /// How many records (after filtering).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only this actor.
        #[arg(long)]
        actor: Option<String>,
        /// Only actions starting with this (`search`, `alert.`, `login`).
        #[arg(long)]
        action: Option<String>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check every row's hash and link; prints the head hash to keep elsewhere. Exit 1 when broken.
    Verify,
}

/// Runs `raqib audit …`; returns whether the log is intact (always true for `list`).
pub fn run(paths: &Paths, db: Option<&std::path::Path>, action: AuditAction) -> anyhow::Result<bool> {
    let path = db.map(std::path::Path::to_path_buf).unwrap_or_else(|| paths.data_dir.join("watchlist.db"));
    let store = Store::open(&path)?;
    match action {
        AuditAction::List { limit, actor, action, json } => {
            let who = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let records = store.audit_log_where(limit, actor.as_deref(), action.as_deref())?;
            store.audit(Actor::new(&who, None), "audit.view", None, Some(&format!("{} record(s)", records.len())))?;
            for r in records {
                println!("{}", if json { serde_json::to_string(&r)? } else { r.tsv() });
            }
            Ok(true)
        }
        AuditAction::Verify => {
            let v = store.verify_audit()?;
            match v.broken {
                None => {
                    println!("audit log intact: {} record(s), head {}", v.rows, v.head);
                    Ok(true)
                }
                Some((id, why)) => {
                    println!("audit log BROKEN at record {id}: {why} ({} record(s) checked)", v.rows);
                    Ok(false)
                }
            }
        }
    }
}
