//! `raqib hub`: the national hub (`serve`: JetStream → PostgreSQL), its watchlist (`add`,
//! `remove`, `entries`: how many nodes applied each), the alerts of every node (`alerts`) and
//! the NATS server configuration of a deployment (`nats-config`). Credentials come from files or
//! the environment, never from the command line or `raqib.toml`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use raqib_hub::central::{Hub, HubConfig};

/// How to reach NATS and PostgreSQL.
#[derive(Debug, Args)]
pub struct HubArgs {
    /// NATS server (`nats://` or `tls://`).
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// File holding the NATS password of user `hub` (or RAQIB_HUB_NATS_PASSWORD_FILE).
    #[arg(long, env = "RAQIB_HUB_NATS_PASSWORD_FILE")]
    nats_password_file: Option<PathBuf>,
    /// File holding the PostgreSQL connection string (or RAQIB_HUB_POSTGRES_FILE):
    /// `host=… port=… user=… password=… dbname=…`.
    #[arg(long, env = "RAQIB_HUB_POSTGRES_FILE")]
    postgres_file: Option<PathBuf>,
    #[command(subcommand)]
    action: HubAction,
}

/// What `raqib hub` does.
#[derive(Debug, Subcommand)]
pub enum HubAction {
    /// Run the hub: store every node's alerts and reads in PostgreSQL, record which nodes applied
    /// which watchlist change. Until SIGINT/SIGTERM.
    Serve,
    /// Add or change a national plate entry; every node applies it (critical ones first).
    Add {
        /// Plate in any spelling.
        #[arg(long)]
        plate: String,
        /// Category.
        #[arg(long)]
        category: String,
        /// critical, high, medium or low.
        #[arg(long)]
        priority: Option<String>,
        /// Case reference.
        #[arg(long)]
        case_ref: Option<String>,
        /// Send it on the critical subject (missing children): nodes apply it before any other.
        #[arg(long)]
        critical: bool,
    },
    /// Remove a national entry from every node.
    Remove {
        /// The hub's entry id (`raqib hub entries`).
        id: i64,
    },
    /// National entries and how many nodes applied each one's current version, and when.
    Entries,
    /// The latest alerts of every node, as JSON lines.
    Alerts {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Write a nats-server configuration for the hub and these nodes (a random password each,
    /// written to SECRETS/<user>.password, 0600) to standard output.
    NatsConfig {
        /// Node ids.
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
        /// Folder for the password files.
        #[arg(long)]
        secrets: PathBuf,
        /// Address the NATS server listens on.
        #[arg(long, default_value = "127.0.0.1:4222")]
        listen: String,
        /// JetStream storage folder.
        #[arg(long, default_value = "/var/lib/nats/raqib")]
        store: String,
    },
}

fn read_secret(what: &str, path: Option<&PathBuf>) -> anyhow::Result<String> {
    let path = path.with_context(|| format!("{what}: give its file (see `raqib hub --help`)"))?;
    Ok(std::fs::read_to_string(path).with_context(|| format!("{what}: {}", path.display()))?.trim().to_owned())
}

fn write_secret(path: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(secret.as_bytes())?;
    Ok(())
}

/// Runs `raqib hub …`.
pub fn run(args: HubArgs) -> anyhow::Result<()> {
    if let HubAction::NatsConfig { nodes, secrets, listen, store } = &args.action {
        std::fs::create_dir_all(secrets)?;
        let user = |name: &str| -> anyhow::Result<raqib_hub::nats_config::User> {
            if !raqib_hub::subjects::valid_node_id(name) {
                bail!("--node `{name}`: letters, digits, - and _");
            }
            let password = raqib_server::users::new_token();
            write_secret(&secrets.join(format!("{name}.password")), &password)?;
            Ok(raqib_hub::nats_config::User { name: name.to_owned(), password })
        };
        let hub = user("hub")?;
        let nodes = nodes.iter().map(|n| user(n)).collect::<anyhow::Result<Vec<_>>>()?;
        print!("{}", raqib_hub::nats_config::server_config(listen, store, &hub, &nodes));
        return Ok(());
    }
    let cfg = HubConfig {
        nats_url: args.nats.clone(),
        nats_user: "hub".into(),
        nats_password: read_secret("the NATS password", args.nats_password_file.as_ref())?,
        postgres: read_secret("the PostgreSQL connection", args.postgres_file.as_ref())?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        if matches!(args.action, HubAction::Serve) {
            // The hub outlives its servers' restarts: it waits for them at start too.
            let stop = crate::load::stop_on_signal()?;
            let hub = loop {
                match Hub::connect(&cfg).await {
                    Ok(hub) => break hub,
                    Err(e) if !stop.load(std::sync::atomic::Ordering::Relaxed) => {
                        eprintln!("raqib hub: {e}; retrying in 2 s");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            eprintln!("raqib hub: storing node messages from {} (Ctrl-C stops)", cfg.nats_url);
            hub.ingest(Arc::clone(&stop)).await?;
            return Ok(());
        }
        let hub = Hub::connect(&cfg).await?;
        match args.action {
            HubAction::Serve => {}
            HubAction::Add { plate, category, priority, case_ref, critical } => {
                let entry =
                    raqib_watchlist::NewPlateEntry { plate, category, priority, case_ref, ..Default::default() };
                let c = hub.put_entry(&entry, critical).await?;
                println!("national entry {} v{}: {} {}", c.entry_id, c.version, c.plate, c.category);
            }
            HubAction::Remove { id } => match hub.remove_entry(id).await? {
                Some(c) => println!("national entry {} removed (v{})", c.entry_id, c.version),
                None => bail!("no national entry {id}"),
            },
            HubAction::Entries => {
                for e in hub.entries().await? {
                    println!("{}", serde_json::to_string(&e)?);
                }
            }
            HubAction::Alerts { limit } => {
                for a in hub.recent_hits(limit).await? {
                    println!("{a}");
                }
            }
            HubAction::NatsConfig { .. } => {}
        }
        Ok(())
    })
}
