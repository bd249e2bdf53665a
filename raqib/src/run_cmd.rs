//! `raqib run`: the live node. Every configured camera is ingested on its own thread (reconnecting
//! on failure); one analysis thread reads plates and faces on the newest frame of each camera,
//! tracks and votes per camera, checks the live watchlist (changes apply within a second) and
//! records reads and hits. SIGINT/SIGTERM stop it cleanly: the cameras stop, frames already
//! taken are analysed, open tracks are closed into events, and the events store is flushed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use raqib_pipeline::CameraConfig;
use raqib_pipeline::analyse::{AnalysisParams, PlateAnalyser};
use raqib_pipeline::bus::{Event, EventBus, Subscription};
use raqib_pipeline::events::EventStore;
use raqib_pipeline::faces::{FaceAnalyser, FaceParams};
use raqib_pipeline::ingest::Frame;
use raqib_pipeline::live::{Backoff, CameraHealth, Live};
use raqib_pipeline::plates::PlateEvent;
use raqib_watchlist::{FuzzyQuery, LiveWatchlist};

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
    /// Longest time between full-frame plate detections per camera.
    pub full_frame_interval: Duration,
    /// Append every event (reads, hits, face sightings) as a JSON line to this file.
    pub jsonl: Option<PathBuf>,
    /// Console/API address instead of `server.bind`.
    pub listen: Option<std::net::SocketAddr>,
    /// Start the console/API server (needs the events store).
    pub server: bool,
}

/// Runs the node until stopped.
pub fn run(config: &Config, paths: &Paths, opts: &RunOptions) -> anyhow::Result<()> {
    let cameras = cameras(config, &opts.cameras)?;
    std::fs::create_dir_all(&paths.data_dir).with_context(|| format!("creating {}", paths.data_dir.display()))?;
    let mut finder = crate::plates_cmd::load_video_finder(config, paths)?;
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
            Some(crate::faces_cmd::load_pipeline(config, paths)?)
        }
        _ => None,
    };
    let mut store = if opts.store { Some(EventStore::open(&paths.data_dir.join("events.db"))?) } else { None };
    if let Some(store) = store.as_mut() {
        store.set_keep_non_hits(config.retention.reads_days > 0);
        if config.privacy.redact_snapshots {
            store.set_redactor(Some(Box::new(crate::redactor::ModelRedactor::loaded(config, paths)?)));
        }
    }
    // The purge has its own connection: the analysis closure holds the recording one.
    let mut purge_store = if opts.store { Some(EventStore::open(&paths.data_dir.join("events.db"))?) } else { None };

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("installing the SIGINT/SIGTERM handler")?;
    }
    eprintln!("raqib run: {} camera(s); Ctrl-C or SIGTERM stops cleanly", cameras.len());
    // One gpsd follower per address; a camera's place is its recent fix, else its static one.
    let mut gps: std::collections::HashMap<String, raqib_pipeline::gps::GpsWatcher> = std::collections::HashMap::new();
    for cam in &cameras {
        if let Some(addr) = &cam.gpsd {
            gps.entry(addr.clone()).or_insert_with(|| raqib_pipeline::gps::GpsWatcher::start(addr));
        }
    }
    let place = |cam: &CameraConfig| -> Option<(f64, f64)> {
        cam.gpsd
            .as_ref()
            .and_then(|a| gps.get(a))
            .and_then(|g| g.position(Duration::from_secs(10)))
            .or(cam.lat.zip(cam.lon))
    };
    // Every event goes on the bus; sinks subscribe (here: the JSON-lines file, if asked).
    let bus = EventBus::new();
    let jsonl = match &opts.jsonl {
        Some(path) => Some(jsonl_sink(path, bus.subscribe(10_000))?),
        None => None,
    };
    let live = Live::start(&cameras, Backoff::default());
    let shared = live.shared.clone();
    let waiting = shared.clone();
    let metrics = raqib_server::Metrics::new(Arc::new(move || waiting.waiting()));
    let server = start_server(config, paths, opts, &live, metrics.clone(), &bus)?;
    let params = AnalysisParams { full_frame_interval: opts.full_frame_interval, ..AnalysisParams::default() };
    let mut plates: Vec<PlateAnalyser> = cameras.iter().map(|_| PlateAnalyser::new(params)).collect();
    let mut face_tracks: Vec<FaceAnalyser> = cameras.iter().map(|_| FaceAnalyser::new(FaceParams::default())).collect();
    let started = Instant::now();
    let mut last_health = Instant::now();
    let purge_every = Duration::from_secs(u64::from(config.retention.purge_every_minutes) * 60);
    let mut last_purge: Option<Instant> = None;
    let mut n_events = 0usize;
    let mut n_hits = 0usize;
    let mut busy = (0u64, Duration::ZERO, 0u64); // frames, time analysing, whole-frame detections
    let mut analyse = |i: usize, frame: &Frame, finder: &mut raqib_models::plate::PlateFinder| -> anyhow::Result<()> {
        let cam = &cameras[i];
        let t0 = Instant::now();
        let snap = watchlist.as_ref().map(|w| w.snapshot());
        let events = plates[i].push(finder, frame)?;
        metrics.observe_stage("plates", t0.elapsed().as_secs_f64());
        busy.2 += u64::from(plates[i].last_was_full);
        for e in events {
            n_hits += usize::from(report(cam, place(cam), e, snap.as_deref(), store.as_mut(), &bus));
            n_events += 1;
        }
        if let (Some(pipeline), Some(snap)) = (faces.as_mut(), snap.as_deref())
            && snap.embedding_count() > 0
        {
            let t1 = Instant::now();
            for s in face_tracks[i].push(pipeline, snap, frame)? {
                report_face(cam, place(cam), s, store.as_mut(), &bus);
                n_hits += 1;
            }
            metrics.observe_stage("faces", t1.elapsed().as_secs_f64());
        }
        metrics.observe_stage("frame", t0.elapsed().as_secs_f64());
        shared.analysed(i);
        busy.0 += 1;
        busy.1 += t0.elapsed();
        Ok(())
    };
    while !stop.load(Ordering::Relaxed) && opts.duration.is_none_or(|d| started.elapsed() < d) {
        for (i, frame) in shared.take_ready(Duration::from_millis(200)) {
            if let Err(e) = analyse(i, &frame, &mut finder) {
                tracing::error!(camera = %cameras[i].id, error = %e, "analysis failed on a frame");
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
            print_health(&shared.health());
            write_health(paths, &shared.health());
        }
    }
    eprintln!("stopping: closing cameras, finishing frames in flight, flushing events");
    live.stop();
    for (i, frame) in shared.take_ready(Duration::ZERO) {
        if let Err(e) = analyse(i, &frame, &mut finder) {
            tracing::error!(camera = %cameras[i].id, error = %e, "analysis failed on a frame");
        }
    }
    let snap = watchlist.as_ref().map(|w| w.snapshot());
    for (i, cam) in cameras.iter().enumerate() {
        for e in plates[i].finish() {
            n_hits += usize::from(report(cam, place(cam), e, snap.as_deref(), store.as_mut(), &bus));
            n_events += 1;
        }
        for s in face_tracks[i].finish() {
            report_face(cam, place(cam), s, store.as_mut(), &bus);
            n_hits += 1;
        }
    }
    if let Some(server) = server {
        server.stop();
    }
    if let Some((thread, stop)) = jsonl {
        stop.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }
    let health = shared.health();
    print_health(&health);
    write_health(paths, &health);
    eprintln!(
        "stopped after {:.1} s: {n_events} plate read(s), {n_hits} hit(s); {} frame(s) analysed, {:.1} ms each on average, {} with whole-frame detection",
        started.elapsed().as_secs_f64(),
        busy.0,
        busy.1.as_secs_f64() * 1000.0 / busy.0.max(1) as f64,
        busy.2
    );
    Ok(())
}

/// One retention purge (logged, counted in the metrics); a failure is logged, the node goes on.
fn purge(config: &Config, paths: &Paths, store: &mut EventStore, metrics: &raqib_server::Metrics) {
    match crate::purge_cmd::purge_once(config, paths, store) {
        Ok(r) => {
            metrics.count_purged("reads", r.events.reads);
            metrics.count_purged("hit_reads", r.events.hit_reads);
            metrics.count_purged("face_hits", r.events.face_hits);
            metrics.count_purged("audit", r.audit);
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
    let node = Arc::new(crate::console_node::ConsoleNode::new(live.shared.clone(), config, paths));
    let server = raqib_server::Server::start(cfg, &paths.data_dir, &config.node.name, node, metrics, bus)?;
    eprintln!("console: http://{}/", server.addr());
    if server.has_no_users() {
        eprintln!("no console users yet: add one with `raqib user add NAME --role admin` (password on stdin)");
    }
    Ok(Some(server))
}

/// Configured cameras plus the command line's (`URL` or `ID=URL`), validated.
fn cameras(config: &Config, extra: &[String]) -> anyhow::Result<Vec<CameraConfig>> {
    let mut all = config.cameras.clone();
    for arg in extra {
        let (id, url) = match arg.split_once('=') {
            Some((id, url)) if !id.contains("://") => (id.to_owned(), url.to_owned()),
            _ => (format!("cam{}", all.len() + 1), arg.clone()),
        };
        all.push(CameraConfig::with_url(id, url));
    }
    if all.is_empty() {
        bail!("no cameras: add [[cameras]] blocks to the configuration or pass --camera URL");
    }
    raqib_pipeline::camera::validate_cameras(&all)?;
    Ok(all)
}

/// Prints a read (and its hits), records it; returns whether it hit.
fn report(
    cam: &CameraConfig,
    location: Option<(f64, f64)>,
    e: PlateEvent,
    snap: Option<&raqib_watchlist::Snapshot>,
    store: Option<&mut EventStore>,
    bus: &EventBus,
) -> bool {
    let hits = snap
        .map(|s| s.match_plate(&FuzzyQuery::with_alternatives(e.positions.clone()), 1.0, Utc::now()))
        .unwrap_or_default();
    let alias = if e.latin != e.text { format!(" ({})", e.latin) } else { String::new() };
    let mut line = format!(
        "[{}] {} {}{alias} conf {:.2} ({}/{} frames)",
        cam.id,
        Utc::now().format("%H:%M:%S"),
        e.text,
        e.confidence,
        e.reads,
        e.frames
    );
    if let Some((lat, lon)) = location {
        line.push_str(&format!(" at {lat:.5},{lon:.5}"));
    }
    for h in &hits {
        line.push_str(&crate::replay_cmd::hit_text(h));
    }
    println!("{line}");
    if let Some(store) = store
        && let Err(err) = store.record_at(&cam.id, Utc::now(), &e, &hits, location)
    {
        eprintln!("cannot record the read: {err}");
    }
    let hit = !hits.is_empty();
    bus.publish(Event::PlateRead { source: cam.id.clone(), at: Utc::now(), location, read: Box::new(e), hits });
    hit
}

fn report_face(
    cam: &CameraConfig,
    location: Option<(f64, f64)>,
    s: raqib_pipeline::faces::FaceSighting,
    store: Option<&mut EventStore>,
    bus: &EventBus,
) {
    println!(
        "[{}] {} FACE HIT {:?} [{}] {} (similarity {:.2})",
        cam.id,
        Utc::now().format("%H:%M:%S"),
        s.priority,
        s.category,
        s.name,
        s.similarity
    );
    if let Some(store) = store
        && let Err(err) = store.record_face(&cam.id, Utc::now(), &s)
    {
        eprintln!("cannot record the face hit: {err}");
    }
    bus.publish(Event::FaceSighting { source: cam.id.clone(), at: Utc::now(), location, sighting: Box::new(s) });
}

/// A bus subscriber appending each event as one JSON line to `path`; returns its thread and
/// stop flag.
fn jsonl_sink(
    path: &std::path::Path,
    sub: Subscription,
) -> anyhow::Result<(std::thread::JoinHandle<()>, Arc<AtomicBool>)> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        loop {
            match sub.recv(Duration::from_millis(200)) {
                Some(event) => {
                    let line = serde_json::to_string(&*event).unwrap_or_default();
                    if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                        tracing::error!(error = %e, "cannot write the events file");
                    }
                }
                None if flag.load(Ordering::Relaxed) => break,
                None => {}
            }
        }
    });
    Ok((thread, stop))
}

fn print_health(health: &[CameraHealth]) {
    for h in health {
        eprintln!(
            "health {}: {:?}, in {} ({:.1} fps), sampled {}, analysed {}, dropped {}, reconnects {}{}",
            h.id,
            h.state,
            h.frames_in,
            h.fps_in,
            h.frames_sampled,
            h.frames_analysed,
            h.drops,
            h.reconnects,
            h.last_error.as_deref().map(|e| format!(", last error: {e}")).unwrap_or_default()
        );
    }
}

/// `<data_dir>/health.json`, replaced atomically, for monitoring until the server exposes it.
fn write_health(paths: &Paths, health: &[CameraHealth]) {
    let path: PathBuf = paths.data_dir.join("health.json");
    let tmp = path.with_extension("json.tmp");
    let doc = serde_json::json!({ "at": Utc::now().to_rfc3339(), "cameras": health });
    let written = serde_json::to_vec_pretty(&doc)
        .map_err(std::io::Error::other)
        .and_then(|b| std::fs::write(&tmp, b))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::warn!(error = %e, path = %path.display(), "cannot write camera health");
    }
}
