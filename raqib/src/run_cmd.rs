//! `raqib run`: the live node. Every configured camera is ingested on its own thread (reconnecting
//! on failure); one analysis thread reads plates and faces on the newest frame of each camera,
//! tracks and votes per camera, checks the live watchlist (changes apply within a second) and
//! records reads and hits. SIGINT/SIGTERM stop it cleanly: the cameras stop, frames already
//! taken are analysed, open tracks are closed into events, and the events store is flushed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use raqib_events::EventStore;
use raqib_events::bus::EventBus;
use raqib_models::plate::PlateFinder;
use raqib_pipeline::ingest::Frame;
use raqib_pipeline::live::{Backoff, CameraHealth, Live};
use raqib_pipeline::print_sink::{PrintSink, Style};
use raqib_pipeline::store_retry::Backlog;
use raqib_pipeline::store_writer::StoreWriter;
use raqib_pipeline::stream::{Models, Outcome, Sink, Source, StreamAnalysis, Tally, deliver};
use raqib_watchlist::LiveWatchlist;

use crate::config::{Config, Paths};

/// Options of `raqib run`.
pub struct RunOptions {
    /// Extra cameras given on the command line (`URL` or `ID=URL`), added to the configured ones.
    pub cameras: Vec<String>,
    /// Stop after this long (tests, soak runs); none: until SIGINT/SIGTERM.
    pub duration: Option<Duration>,
    /// Seconds between health lines.
    pub health_every: Duration,
    /// Record events in `<data_dir>/events.db`.
    pub store: bool,
    /// Append every event (reads, hits, face sightings) as a JSON line to this file.
    pub jsonl: Option<PathBuf>,
    /// Console/API address instead of `server.bind`.
    pub listen: Option<std::net::SocketAddr>,
    /// Start the console/API server (needs the events store).
    pub server: bool,
}

/// Runs the node until stopped.
#[expect(
    clippy::too_many_lines,
    reason = "the live node's wiring (stores, cameras, sinks, server, loop, shutdown) in order; to be split with the hub work (#23)"
)]
pub fn run(config: &Config, paths: &Paths, opts: &RunOptions) -> anyhow::Result<()> {
    let cameras = raqib_pipeline::camera::with_command_line(&config.cameras, &opts.cameras)?;
    // Cameras, databases and console connections all need descriptors: take what the system allows.
    if let Some(limit) = raqib_core::open_files::raise() {
        tracing::info!(limit, "open-file limit");
    }
    std::fs::create_dir_all(&paths.data_dir).with_context(|| format!("creating {}", paths.data_dir.display()))?;
    if opts.store {
        config.disk.require(&paths.data_dir).map_err(anyhow::Error::msg)?;
    }
    let mut finder = crate::load::video_finder(config, paths)?;
    let db = paths.data_dir.join("watchlist.db");
    if opts.server && opts.store && !db.is_file() {
        // The console can add entries and persons while the node runs: watch the file from the start.
        raqib_watchlist::Store::open(&db)?;
    }
    let watchlist = if db.is_file() {
        Some(LiveWatchlist::open(&db, crate::watchlist_cmd::FACE_MODEL, Duration::from_millis(500))?)
    } else {
        eprintln!("no watchlist at {} (reads are recorded, nothing can hit)", db.display());
        None
    };
    // Face models are loaded when someone is enrolled, or when the console could enrol someone;
    // faces are only analysed while the watchlist holds at least one embedding.
    let mut faces = match &watchlist {
        Some(w) if w.snapshot().embedding_count() > 0 || (opts.server && opts.store) => {
            Some(crate::load::faces(config, paths)?)
        }
        _ => None,
    };
    // Outcomes are stored by a thread of their own (the analysis never waits for the store);
    // what the store cannot take waits in memory and is retried (health, metrics, console show it).
    let backlog = Backlog::default();
    // Every event goes on the bus.
    let bus = EventBus::new();
    let mut store = if opts.store {
        // The redaction models load now: the first hit must not wait for them.
        // The bus follows the store on the writer thread: a bus event means the store has it.
        Some(StoreWriter::start(
            crate::load::events_store(config, paths, true)?,
            backlog.clone(),
            Some(Box::new(bus.clone())),
        )?)
    } else {
        None
    };
    // The purge has its own connection: the analysis closure holds the recording one.
    let mut purge_store = if opts.store { Some(EventStore::open(&paths.data_dir.join("events.db"))?) } else { None };

    let stop = crate::load::stop_on_signal()?;
    eprintln!("raqib run: {} camera(s); Ctrl-C or SIGTERM stops cleanly", cameras.len());
    let places = raqib_pipeline::gps::CameraPlaces::start(&cameras);
    // Sinks subscribe to the bus (here: the JSON-lines file, if asked).
    let jsonl = match &opts.jsonl {
        Some(path) => Some(
            raqib_events::bus::append_jsonl(path, bus.subscribe(10_000))
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => None,
    };
    let live = Live::start(&cameras, Backoff::default());
    let shared = live.shared.clone();
    let waiting = shared.clone();
    let metrics = raqib_server::Metrics::new(Arc::new(move || waiting.waiting()));
    let server = start_server(config, paths, opts, &live, metrics.clone(), &bus, backlog.clone())?;
    // The national hub: alerts out from the events store's outbox, the national watchlist in.
    let _hub_link = match (&config.hub, opts.store) {
        (Some(h), true) => {
            eprintln!("hub: node `{}` publishing to {}", h.node_id, h.nats_url);
            Some(raqib_hub::node::start(h.clone(), paths.data_dir.clone())?)
        }
        (Some(_), false) => {
            eprintln!("hub: not linked: it publishes from the events store, and --no-store was given");
            None
        }
        (None, _) => None,
    };
    let policy = config.analysis;
    let mut streams: Vec<StreamAnalysis> =
        cameras.iter().map(|c| StreamAnalysis::new(&policy).at(c.place(places.place(c)))).collect();
    let started = Instant::now();
    let mut last_health = Instant::now();
    let purge_every = config.retention.purge_every();
    let mut last_purge: Option<Instant> = None;
    let mut tally = Tally::default();
    let mut bus_sink = bus.clone();
    let mut printer = PrintSink(Style::Live);
    // Every outcome goes to stdout, then the events store and after it the bus (on the store's
    // writer thread), or the bus alone with --no-store.
    let mut deliver_all = |i: usize, outcomes: Vec<Outcome>, store: &mut Option<StoreWriter>, tally: &mut Tally| {
        let source = Source { id: cameras[i].id.clone(), location: places.place(&cameras[i]) };
        for o in outcomes {
            tally.count(&o);
            let mut sinks: Vec<&mut dyn Sink> = vec![&mut printer];
            match store.as_mut() {
                Some(s) => sinks.push(s),
                None => sinks.push(&mut bus_sink),
            }
            deliver(&mut sinks, &source, Utc::now(), &o);
        }
    };
    let mut analyse = |i: usize, frame: &Frame, finder: &mut PlateFinder, tally: &mut Tally| {
        let t0 = Instant::now();
        let snap = watchlist.as_ref().map(|w| w.snapshot());
        let mut models = Models { plates: finder, faces: faces.as_mut() };
        // A patrol camera's place moves: scoped entries are checked where it is now.
        streams[i].set_location(places.place(&cameras[i]));
        let (outcomes, stats) = streams[i].push(&mut models, frame, snap.as_deref(), Utc::now())?;
        metrics.observe_stage("plates", stats.plates.as_secs_f64());
        if let Some(f) = stats.faces {
            metrics.observe_stage("faces", f.as_secs_f64());
            let c = &stats.face_counts;
            let gated = c.gated().map(|(why, n)| (why.as_str(), n));
            metrics.count_faces(&gated, &[("unmatched", c.unmatched_tracks), ("unconfirmed", c.unconfirmed_tracks)]);
        }
        metrics.observe_stage("frame", t0.elapsed().as_secs_f64());
        shared.analysed(i);
        tally.frame(&stats, t0.elapsed());
        anyhow::Ok(outcomes)
    };
    while !stop.load(Ordering::Relaxed) && opts.duration.is_none_or(|d| started.elapsed() < d) {
        for (i, frame) in shared.take_ready(Duration::from_millis(200)) {
            match analyse(i, &frame, &mut finder, &mut tally) {
                Ok(outcomes) => deliver_all(i, outcomes, &mut store, &mut tally),
                Err(e) => tracing::error!(camera = %cameras[i].id, error = %e, "analysis failed on a frame"),
            }
        }
        if let Some(store) = purge_store.as_mut()
            && last_purge.is_none_or(|t| t.elapsed() >= purge_every)
        {
            last_purge = Some(Instant::now());
            purge(config, paths, store, &metrics);
        }
        if last_health.elapsed() >= opts.health_every {
            last_health = Instant::now();
            let disk = config.disk.check(&paths.data_dir).ok();
            print_health(&shared.health(), &backlog, disk);
            write_health(paths, &shared.health(), &backlog, disk);
        }
    }
    eprintln!("stopping: closing cameras, finishing frames in flight, flushing events");
    live.stop();
    for (i, frame) in shared.take_ready(Duration::ZERO) {
        match analyse(i, &frame, &mut finder, &mut tally) {
            Ok(outcomes) => deliver_all(i, outcomes, &mut store, &mut tally),
            Err(e) => tracing::error!(camera = %cameras[i].id, error = %e, "analysis failed on a frame"),
        }
    }
    let snap = watchlist.as_ref().map(|w| w.snapshot());
    for (i, stream) in streams.iter_mut().enumerate() {
        let outcomes = stream.finish(snap.as_deref(), Utc::now());
        deliver_all(i, outcomes, &mut store, &mut tally);
    }
    if let Some(server) = server {
        server.stop();
    }
    if let Some((thread, stop)) = jsonl {
        stop.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }
    // What still waits gets a last few tries; what cannot be stored fails the run, counted.
    if let Some(writer) = store.take() {
        writer.finish(Duration::from_secs(10));
    }
    let health = shared.health();
    let disk = config.disk.check(&paths.data_dir).ok();
    print_health(&health, &backlog, disk);
    write_health(paths, &health, &backlog, disk);
    eprintln!("stopped after {:.1} s: {}", started.elapsed().as_secs_f64(), tally.summary());
    let left = raqib_pipeline::store_retry::snapshot(&backlog);
    if left.waiting > 0 || left.dropped_hits > 0 {
        bail!("NOT STORED in {}: {}", paths.data_dir.join("events.db").display(), left.summary());
    }
    Ok(())
}

/// One retention purge (logged, counted in the metrics); a failure is logged, the node goes on.
fn purge(config: &Config, paths: &Paths, store: &mut EventStore, metrics: &raqib_server::Metrics) {
    match crate::purge_cmd::purge_once(config, paths, store) {
        Ok(r) => {
            metrics.count_purge(&r);
            if r.events.reads + r.events.hit_reads + r.events.face_hits + r.audit > 0 {
                tracing::info!(?r, "retention purge");
            }
        }
        Err(e) => tracing::error!(error = %e, "retention purge failed"),
    }
}

/// Starts the console/API server unless disabled; it needs the events store.
fn start_server(
    config: &Config,
    paths: &Paths,
    opts: &RunOptions,
    live: &Live,
    metrics: Arc<raqib_server::Metrics>,
    bus: &EventBus,
    backlog: Backlog,
) -> anyhow::Result<Option<raqib_server::Server>> {
    if !opts.server {
        return Ok(None);
    }
    if !opts.store {
        eprintln!("console not started: it serves the events store, and --no-store was given");
        return Ok(None);
    }
    let mut cfg = config.server.clone();
    if let Some(addr) = opts.listen {
        cfg.bind = addr;
    }
    let node = Arc::new(crate::console_node::ConsoleNode::new(live.shared.clone(), backlog, config, paths));
    let rules = raqib_server::Rules {
        analysis: config.analysis,
        alerts: config.alerts.clone(),
        retention: config.retention.clone(),
    };
    let server = raqib_server::Server::start(cfg, rules, &paths.data_dir, &config.node.name, node, metrics, bus)?;
    eprintln!("console: http://{}/", server.addr());
    if server.has_no_users() {
        eprintln!("no console users yet: add one with `raqib user add NAME --role admin` (password on stdin)");
    }
    Ok(Some(server))
}

fn print_health(health: &[CameraHealth], backlog: &Backlog, disk: Option<raqib_core::disk::DiskState>) {
    for h in health {
        eprintln!("{}", h.summary());
    }
    let b = raqib_pipeline::store_retry::snapshot(backlog);
    if b.is_faulty() {
        eprintln!("{}", b.summary());
    }
    if let Some(disk) = disk.filter(raqib_core::disk::DiskState::is_low) {
        eprintln!("warning: {}", disk.summary());
    }
}

/// `<data_dir>/health.json`, replaced atomically, for monitoring.
fn write_health(paths: &Paths, health: &[CameraHealth], backlog: &Backlog, disk: Option<raqib_core::disk::DiskState>) {
    let path = paths.data_dir.join("health.json");
    let b = raqib_pipeline::store_retry::snapshot(backlog);
    if let Err(e) = raqib_events::health::write_json(&path, health, &b, disk.map(|d| d.summary())) {
        tracing::warn!(error = %e, path = %path.display(), "cannot write camera health");
    }
}
