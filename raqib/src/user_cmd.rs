//! `raqib user`: console users and integration API tokens in `<data_dir>/users.db`.
//!
//! Passwords are read from `RAQIB_PASSWORD` or from the first line of standard input (never
//! from the command line, where `ps` and shell history would show them).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use raqib_server::{Role, UserStore};

use crate::config::Paths;

/// What `raqib user` does.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user (password from RAQIB_PASSWORD or the first line of stdin).
    Add {
        /// User name.
        name: String,
        /// operator, analyst or admin.
        #[arg(long)]
        role: String,
        /// Replace the password and role of an existing user.
        #[arg(long)]
        replace: bool,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable {
        /// User name.
        name: String,
    },
    /// Give a user exactly these covert lists (none: take them all away); audited. Alerts of a
    /// covert watchlist entry are shown only to users given its list.
    Lists {
        /// User name.
        name: String,
        /// List names (lowercase letters, digits, `_`, `-`).
        lists: Vec<String>,
        /// Why (case reference); required.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Create an API token for an integration (printed once).
    Token {
        /// Integration name.
        name: String,
        /// operator, analyst or admin.
        #[arg(long)]
        role: String,
    },
    /// Revoke an API token.
    Revoke {
        /// Integration name.
        name: String,
    },
}

fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("RAQIB_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    if p.is_empty() {
        bail!("no password: set RAQIB_PASSWORD or pipe it on stdin");
    }
    Ok(p)
}

/// Runs `raqib user …`.
pub fn run(paths: &Paths, action: UserAction) -> anyhow::Result<()> {
    let mut users = UserStore::open(&paths.data_dir.join("users.db"))?;
    match action {
        UserAction::Add { name, role, replace } => {
            let role = Role::parse(&role)?;
            users.add_user(&name, role, &password()?, replace)?;
            println!("user {name} ({}) saved", role.as_str());
        }
        UserAction::List => {
            for (name, role, disabled) in users.users()? {
                println!("{name}\t{}{}", role.as_str(), if disabled { "\tdisabled" } else { "" });
            }
        }
        UserAction::Lists { name, lists, reason } => {
            let reason = raqib_core::Reason::required(reason.as_deref())?;
            if !users.users()?.iter().any(|(n, _, _)| *n == name) {
                bail!("no user `{name}`");
            }
            for l in &lists {
                raqib_watchlist::entry::validate_list_name(l)?;
            }
            // Audited first: no covert access changes without its record.
            let audit = raqib_watchlist::Store::open(&paths.data_dir.join("watchlist.db"))?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let detail = if lists.is_empty() { "no covert list".to_owned() } else { lists.join(",") };
            audit.audit(
                raqib_watchlist::Actor::new(&actor, Some(reason.as_str())),
                "user.lists",
                Some(&name),
                Some(&detail),
            )?;
            users.set_lists(&name, &lists)?;
            println!("user {name}: covert lists {detail}");
        }
        UserAction::Disable { name } => {
            users.disable_user(&name)?;
            println!("user {name} disabled");
        }
        UserAction::Token { name, role } => {
            let token = users.add_token(&name, Role::parse(&role)?)?;
            println!("{token}");
            eprintln!("API token for {name}: shown once, send it as `Authorization: Bearer <token>`");
        }
        UserAction::Revoke { name } => {
            users.revoke_token(&name)?;
            println!("token {name} revoked");
        }
    }
    Ok(())
}
