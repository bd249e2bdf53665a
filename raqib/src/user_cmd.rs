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
