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
    /// CA certificate (PEM) of a `tls://` NATS server signed by a private CA.
    #[arg(long)]
    nats_ca_file: Option<PathBuf>,
    /// JetStream copies of each stream when the hub creates them: 3 on a cluster of three.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    #[command(subcommand)]
    action: HubAction,
}

/// What `raqib hub` does.
#[derive(Debug, Subcommand)]
pub enum HubAction {
    /// Run the hub: store every node's alerts, reads and health in PostgreSQL, record which nodes
    /// applied which watchlist change, and serve the national API and console. Until
    /// SIGINT/SIGTERM.
    Serve {
        /// Address of the national API and console.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// The hub's own folder: `users.db` (`RAQIB_DATA_DIR=<dir> raqib user add …`) and its audit
        /// log (`watchlist.db`).
        #[arg(long, env = "RAQIB_DATA_DIR", default_value = "var/hub")]
        data: PathBuf,
        /// Weighted edit distance of fuzzy searches and retro-hits (the nodes'
        /// `analysis.plate_max_distance`).
        #[arg(long, default_value_t = 1.0)]
        plate_max_distance: f32,
        /// Days of reads searched and checked for retro-hits (the nodes' `retention.reads_days`).
        #[arg(long, default_value_t = 30)]
        reads_days: u32,
        /// Mark the session cookie Secure (the console is served behind TLS).
        #[arg(long)]
        secure_cookies: bool,
    },
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
        nats_ca_file: args.nats_ca_file.clone(),
        replicas: args.replicas,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        if let HubAction::Serve { listen, data, plate_max_distance, reads_days, secure_cookies } = &args.action {
            let http = raqib_hub::http::HttpConfig {
                listen: *listen,
                secure_cookies: *secure_cookies,
                max_distance: *plate_max_distance,
                search_days: *reads_days,
                ..Default::default()
            };
            return serve(&cfg, http, data).await;
        }
        let hub = Hub::connect(&cfg).await?;
        match args.action {
            HubAction::Serve { .. } => {}
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

/// `raqib hub serve`: waits for NATS and PostgreSQL (the hub outlives their restarts, at start
/// too), then stores node messages and serves the national API until SIGINT/SIGTERM.
async fn serve(cfg: &HubConfig, http: raqib_hub::http::HttpConfig, data: &std::path::Path) -> anyhow::Result<()> {
    let stop = crate::load::stop_on_signal()?;
    let mut hub = loop {
        match Hub::connect(cfg).await {
            Ok(hub) => break hub,
            Err(e) if !stop.load(std::sync::atomic::Ordering::Relaxed) => {
                eprintln!("raqib hub: {e}; retrying in 2 s");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    hub.retro = raqib_hub::central::Retro { reads_days: http.search_days, max_distance: http.max_distance };
    let hub = Arc::new(hub);
    let listen = http.listen;
    let state = Arc::new(raqib_hub::http::HubState::open(hub.clone(), http, data)?);
    let purge_state = Arc::clone(&state);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(raqib_hub::http::serve(state, Arc::clone(&stop), Some(tx)));
    match rx.await {
        Ok(addr) => eprintln!("raqib hub: national console on http://{addr}/"),
        Err(_) => {
            return Err(server.await?.err().map_or_else(|| anyhow::anyhow!("cannot listen on {listen}"), Into::into));
        }
    }
    tokio::spawn(purge(hub.clone(), purge_state, Arc::clone(&stop)));
    eprintln!("raqib hub: storing node messages from {} (Ctrl-C stops)", cfg.nats_url);
    hub.ingest(Arc::clone(&stop)).await?;
    server.await??;
    Ok(())
}

/// Every 10 minutes (and at start): the reads older than `--reads-days` (the hub's retro-hit
/// window) leave the hub, with a record in its audit log.
async fn purge(hub: Arc<Hub>, state: Arc<raqib_hub::http::HubState>, stop: Arc<std::sync::atomic::AtomicBool>) {
    use raqib_server::auth::Access;
    let days = hub.retro.reads_days;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        match hub.purge_reads(days).await {
            Ok(0) => {}
            Ok(n) => {
                let detail = format!("{n} read(s) older than {days} days");
                if let Err(e) =
                    state.record_audit(raqib_watchlist::Actor::new("hub", None), "retention.purge", None, Some(&detail))
                {
                    tracing::error!(error = %e, "hub: cannot record the purge in the audit log");
                }
            }
            Err(e) => tracing::warn!(error = %e, "hub: cannot purge old reads; next try in 10 minutes"),
        }
        for _ in 0..600 {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}
