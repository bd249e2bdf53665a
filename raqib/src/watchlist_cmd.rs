//! `raqib watchlist …`: manage and query the node's watchlist from the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use raqib_core::{Overrides, PlateText};
use raqib_watchlist::{Actor, Format, FuzzyQuery, ImportMode, NewPerson, NewPlateEntry, Pattern, Snapshot, Store};

/// The face model whose embeddings the watchlist gallery uses.
pub const FACE_MODEL: &str = raqib_models::face::EMBEDDER_ID;
/// The embedding models this node runs, with their sizes: imported embeddings must match.
const KNOWN_MODELS: &[(&str, usize)] = &[(FACE_MODEL, raqib_models::face::EMBEDDING_DIM)];

/// Options shared by every watchlist command.
#[derive(Debug, Args)]
pub struct WatchlistArgs {
    /// Watchlist database (default: <data_dir>/watchlist.db).
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// Who is acting, for the audit log (default: $USER).
    #[arg(long, global = true)]
    actor: Option<String>,
    /// Reason or case reference, for the audit log.
    #[arg(long, global = true)]
    reason: Option<String>,
    #[command(subcommand)]
    command: WatchlistCommand,
}

#[derive(Debug, Subcommand)]
enum WatchlistCommand {
    /// Add a plate (or update the same plate in the same category).
    Add(Box<AddPlate>),
    /// Add a person (enrol their photos once the face pipeline is available).
    AddPerson(Box<AddPerson>),
    /// Remove a plate entry by id.
    Remove {
        /// Entry id (see `list`).
        id: i64,
    },
    /// Remove a person and their embeddings by id.
    RemovePerson {
        /// Person id.
        id: i64,
    },
    /// List entries.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import plate entries from CSV or JSON (all-or-nothing unless --skip-invalid).
    Import {
        /// The file.
        file: PathBuf,
        /// Import the valid rows and report the others instead of rejecting the file.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Export plate entries to CSV or JSON (`-` for CSV on stdout).
    Export {
        /// The file (`.csv` or `.json`), or `-`.
        file: PathBuf,
    },
    /// Import persons from JSON: `[{"name", "category", "priority", "case_ref", "expires_at",
    /// "notes", "photos": [paths relative to the file], "embeddings": [...]}]`; all-or-nothing.
    ImportPersons {
        /// The JSON file.
        file: PathBuf,
    },
    /// Export persons with their embeddings (biometric data: audited) to JSON.
    ExportPersons {
        /// The JSON file.
        file: PathBuf,
    },
    /// Check a plate read against the watchlist: exact, then OCR-confusion-aware fuzzy.
    Check {
        /// The plate as read or typed.
        plate: String,
        /// Largest weighted edit distance for fuzzy matches (0 = exact only; default
        /// `analysis.plate_max_distance`).
        #[arg(long)]
        max_distance: Option<f32>,
        /// Country hint (ISO code).
        #[arg(long)]
        country: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search entries by wildcard pattern (`?` one character, `*` any run); needs --reason.
    Search {
        /// e.g. `12?45-B-*`.
        pattern: String,
        /// Include expired and not-yet-valid entries.
        #[arg(long)]
        all: bool,
    },
    /// Enrol a person's face from photos (one face per photo: the most confident is used).
    Enroll {
        /// Person id (see `list`).
        #[arg(long)]
        person: i64,
        /// Photos (JPEG/PNG).
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
    /// Check the faces in a photo against enrolled persons.
    CheckFace {
        /// Photo (JPEG/PNG/WebP).
        photo: PathBuf,
        /// Cosine similarity threshold (default `analysis.face_match_threshold`).
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Show the audit log, newest first.
    Audit {
        /// How many records.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
struct AddPlate {
    /// Plate in any spelling (`12345-B-6`, `12345 ب 6`, `AB-123-CD`).
    #[arg(long)]
    plate: String,
    /// Category: stolen_vehicle, wanted_owner, missing_child, bolo, …
    #[arg(long)]
    category: String,
    /// ISO country hint.
    #[arg(long)]
    country: Option<String>,
    /// critical, high, medium or low (default: the category's).
    #[arg(long)]
    priority: Option<String>,
    /// Case reference.
    #[arg(long)]
    case_ref: Option<String>,
    /// Issuing unit.
    #[arg(long)]
    unit: Option<String>,
    /// Vehicle make/model.
    #[arg(long)]
    make: Option<String>,
    /// Vehicle colour.
    #[arg(long)]
    colour: Option<String>,
    /// Active from (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    valid_from: Option<String>,
    /// Expires at (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    expires: Option<String>,
    /// Free text.
    #[arg(long)]
    notes: Option<String>,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// Where and when an entry (plate or person) alerts, and its covert list.
#[derive(Debug, Args)]
struct ScopeArgs {
    /// Alerts only on these days: `mon-fri`, `sat,sun` (local time, `analysis.local_utc_offset_minutes`).
    #[arg(long)]
    days: Option<String>,
    /// Alerts only in these local hours: `07:00-19:00`, `22:00-06:00`.
    #[arg(long)]
    hours: Option<String>,
    /// Alerts only on these cameras (comma-separated ids).
    #[arg(long)]
    cameras: Option<String>,
    /// Alerts only within this circle: `lat,lon,radius_m`.
    #[arg(long)]
    area: Option<String>,
    /// Covert: its alerts are shown only to users given this list (`raqib user lists`).
    #[arg(long)]
    covert_list: Option<String>,
}

#[derive(Debug, Args)]
struct AddPerson {
    /// Name or identifier.
    #[arg(long)]
    name: String,
    /// Category: wanted_person, missing_child, …
    #[arg(long)]
    category: String,
    /// critical, high, medium or low.
    #[arg(long)]
    priority: Option<String>,
    /// Case reference.
    #[arg(long)]
    case_ref: Option<String>,
    /// Expires at.
    #[arg(long)]
    expires: Option<String>,
    /// Free text.
    #[arg(long)]
    notes: Option<String>,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// Retro-hits of entries just added or changed ([`raqib_events::EventStore::retro_hits`]):
/// checked against the reads the node's events store holds within `[retention] reads_days`,
/// under `[analysis] plate_max_distance`; the check is audited (`watchlist.retro_check`) and
/// the alerts raised reach the consoles like any other. No events store yet: nothing to check.
fn retro_check(
    store: &mut Store,
    entries: &[raqib_watchlist::PlateEntry],
    user: &str,
    config: &crate::config::Config,
    paths: &crate::config::Paths,
) -> anyhow::Result<()> {
    let db = paths.data_dir.join("events.db");
    if entries.is_empty() || !db.is_file() {
        return Ok(());
    }
    let mut events = raqib_events::EventStore::open(&db)?;
    events.set_handling(config.alerts.clone());
    let raised = raqib_events::decisions::retro_check_audited(
        &mut events,
        store,
        user,
        entries,
        config.analysis.plate_max_distance,
        &config.retention,
    )?;
    if !raised.is_empty() {
        let ids: Vec<String> = raised.iter().map(ToString::to_string).collect();
        println!("retro-hits: {} past read(s) match: {}", raised.len(), ids.join(" "));
    }
    Ok(())
}

/// Runs a watchlist command against the database under the data dir (or `--db`).
#[expect(clippy::too_many_lines, reason = "the dispatch of the watchlist subcommands, one arm each")]
pub fn run(args: WatchlistArgs, config: &crate::config::Config, paths: &crate::config::Paths) -> anyhow::Result<()> {
    let db = args.db.clone().unwrap_or_else(|| paths.data_dir.join("watchlist.db"));
    let mut store = Store::open(&db).with_context(|| format!("opening watchlist {}", db.display()))?;
    let user = args.actor.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "cli".into());
    let actor = Actor::new(&user, args.reason.as_deref());
    match args.command {
        WatchlistCommand::Add(a) => {
            let e = store.add_plate(
                &NewPlateEntry {
                    plate: a.plate,
                    country: a.country,
                    category: a.category,
                    priority: a.priority,
                    case_ref: a.case_ref,
                    issuing_unit: a.unit,
                    vehicle_make: a.make,
                    vehicle_colour: a.colour,
                    valid_from: a.valid_from,
                    expires_at: a.expires,
                    notes: a.notes,
                    days: a.scope.days,
                    hours: a.scope.hours,
                    cameras: a.scope.cameras,
                    area: a.scope.area,
                    covert_list: a.scope.covert_list,
                },
                actor,
            )?;
            println!(
                "plate entry {}: {} ({}) {} priority {}",
                e.id,
                e.plate,
                e.plate.latin_alias(),
                e.category,
                e.priority.as_str()
            );
            retro_check(&mut store, std::slice::from_ref(&e), &user, config, paths)?;
        }
        WatchlistCommand::AddPerson(a) => {
            let p = store.add_person(
                &NewPerson {
                    name: a.name,
                    category: a.category,
                    priority: a.priority,
                    case_ref: a.case_ref,
                    valid_from: None,
                    expires_at: a.expires,
                    notes: a.notes,
                    days: a.scope.days,
                    hours: a.scope.hours,
                    cameras: a.scope.cameras,
                    area: a.scope.area,
                    covert_list: a.scope.covert_list,
                },
                actor,
            )?;
            println!(
                "person {}: {} {} priority {} (no face enrolled yet)",
                p.id,
                p.name,
                p.category,
                p.priority.as_str()
            );
        }
        WatchlistCommand::Remove { id } => {
            let e = store.remove_plate(id, actor)?;
            println!("removed plate entry {id}: {}", e.plate);
        }
        WatchlistCommand::RemovePerson { id } => {
            let p = store.remove_person(id, actor)?;
            println!("removed person {id}: {}", p.name);
        }
        WatchlistCommand::List { json } => list(&store, actor, json)?,
        WatchlistCommand::Import { file, skip_invalid } => {
            let before = store.plates()?;
            let format = file_format(&file)?;
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let mode = if skip_invalid { ImportMode::SkipInvalid } else { ImportMode::Atomic };
            match store.import_plates(std::io::BufReader::new(input), format, mode, &file.display().to_string(), actor)
            {
                Ok(r) => {
                    println!(
                        "imported {}: {} added, {} updated, {} rejected",
                        file.display(),
                        r.added,
                        r.updated,
                        r.rejected.len()
                    );
                    for e in &r.rejected {
                        println!("  rejected {e}");
                    }
                    let changed: Vec<_> = store.plates()?.into_iter().filter(|e| !before.contains(e)).collect();
                    retro_check(&mut store, &changed, &user, config, paths)?;
                }
                Err(raqib_watchlist::Error::ImportRejected(rows)) => {
                    for e in &rows {
                        eprintln!("  {e}");
                    }
                    bail!(
                        "{}: {} invalid row(s); nothing imported (use --skip-invalid to import the rest)",
                        file.display(),
                        rows.len()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        WatchlistCommand::Export { file } => {
            export_reason(args.reason.as_deref())?;
            if file.as_os_str() == "-" {
                let n = store.export_plates(std::io::stdout().lock(), Format::Csv, "stdout", actor)?;
                eprintln!("exported {n} plate entries");
            } else {
                let format = file_format(&file)?;
                let out = std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
                let mut out = std::io::BufWriter::new(out);
                let n = store.export_plates(&mut out, format, &file.display().to_string(), actor)?;
                out.flush()?;
                println!("exported {n} plate entries to {}", file.display());
            }
        }
        WatchlistCommand::ImportPersons { file } => {
            let rows = read_person_rows(&file, &mut store, config, paths)?;
            match store.import_persons(&rows, &file.display().to_string(), actor, KNOWN_MODELS) {
                Ok(ids) => {
                    let faces: usize = rows.iter().map(|(_, r)| r.embeddings.len()).sum();
                    println!("imported {}: {} person(s), {faces} face embedding(s)", file.display(), ids.len());
                }
                Err(raqib_watchlist::Error::ImportRejected(errors)) => {
                    for e in &errors {
                        eprintln!("  {e}");
                    }
                    bail!("{}: {} invalid row(s); nothing imported", file.display(), errors.len());
                }
                Err(e) => return Err(e.into()),
            }
        }
        WatchlistCommand::ExportPersons { file } => {
            export_reason(args.reason.as_deref())?;
            let out = std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
            let mut out = std::io::BufWriter::new(out);
            let n = store.export_persons(&mut out, &file.display().to_string(), actor)?;
            out.flush()?;
            println!("exported {n} person(s) with their embeddings to {}", file.display());
        }
        WatchlistCommand::Check { plate, max_distance, country, json } => {
            let read = PlateText::parse(&plate, country.as_deref())?;
            store.audit(actor, "search.check", Some(read.canonical()), None)?;
            let snap = Snapshot::load(&store, FACE_MODEL)?;
            let o = Overrides { plate_max_distance: max_distance, ..Overrides::default() };
            let policy = config.analysis.with(o).context("--max-distance")?;
            let matches = snap.match_plate(&FuzzyQuery::from_plate(&read), policy.plate_max_distance, Utc::now());
            if json {
                println!("{}", serde_json::to_string_pretty(&matches)?);
            } else {
                println!("{}", raqib_watchlist::matcher::describe_matches(&read, &matches, Utc::now()));
            }
        }
        WatchlistCommand::Search { pattern, all } => {
            if raqib_core::Reason::required(args.reason.as_deref()).is_err() {
                return Err(raqib_watchlist::Error::ReasonRequired("a wildcard search (--reason)").into());
            }
            let pattern = Pattern::parse(&pattern).map_err(anyhow::Error::msg)?;
            store.audit(actor, "search.wildcard", Some(pattern.as_str()), None)?;
            let snap = Snapshot::load(&store, FACE_MODEL)?;
            let found = snap.search_pattern(&pattern, Utc::now(), all);
            println!("{} entr{} match {}", found.len(), if found.len() == 1 { "y" } else { "ies" }, pattern.as_str());
            for m in &found {
                println!("  {}", m.entry.summary(Utc::now()));
            }
        }
        WatchlistCommand::Enroll { person, photos } => {
            crate::load::existing(&photos)?;
            let who = store.person(person)?;
            let mut pipeline = crate::load::faces(config, paths)?;
            let mut enrolled = 0;
            for photo in &photos {
                match pipeline.enrolment_subject_of(photo) {
                    Ok((face, embedding)) => {
                        let source = photo.file_name().map(|n| n.to_string_lossy().into_owned());
                        store.add_embedding(person, FACE_MODEL, &embedding, source.as_deref(), actor)?;
                        enrolled += 1;
                        println!(
                            "  {}: face {:.0}×{:.0} score {:.2} enrolled",
                            photo.display(),
                            face.bbox.width(),
                            face.bbox.height(),
                            face.score
                        );
                    }
                    Err(e) => println!("  {}: skipped: {e:#}", photo.display()),
                }
            }
            if enrolled == 0 {
                bail!("no face enrolled for person {person} ({})", who.name);
            }
            println!(
                "person {person} ({}): {enrolled} of {} photo(s) enrolled with {FACE_MODEL}",
                who.name,
                photos.len()
            );
        }
        WatchlistCommand::CheckFace { photo, threshold } => {
            let given = threshold.is_some();
            let o = Overrides { face_match_threshold: threshold, ..Overrides::default() };
            let policy = config.analysis.with(o).context("--threshold")?;
            crate::load::existing(std::slice::from_ref(&photo))?;
            store.audit(actor, "search.face", Some(&photo.display().to_string()), None)?;
            let snap = Snapshot::load(&store, FACE_MODEL)?;
            // --threshold is taken as given; else the live rule for this gallery.
            let threshold = if given {
                policy.face_match_threshold
            } else {
                policy.face_threshold(raqib_models::manifest::face_calibration(), snap.template_count())
            };
            let mut pipeline = crate::load::faces(config, paths)?;
            let img = raqib_models::RgbImage::open(&photo)?;
            let faces = pipeline.analyse(&img, raqib_models::face::DEFAULT_DETECT_THRESHOLD)?;
            println!(
                "{}: {} face(s); gallery of {} person template(s) from {} embedding(s), threshold {threshold:.3}",
                photo.display(),
                faces.len(),
                snap.template_count(),
                snap.embedding_count()
            );
            for (face, embedding) in &faces {
                let b = face.bbox;
                let hits = snap.match_face(embedding, 3, threshold, Utc::now())?;
                let found: Vec<String> = hits.iter().map(raqib_watchlist::PersonMatch::summary).collect();
                let what = if found.is_empty() { "no match".to_owned() } else { found.join("; ") };
                println!("  face at ({:.0},{:.0})-({:.0},{:.0}): {what}", b.x1, b.y1, b.x2, b.y2);
            }
        }
        WatchlistCommand::Audit { limit } => {
            for r in store.audit_log(limit)? {
                println!("{:>6} {}", r.id, r.line());
            }
        }
    }
    Ok(())
}

/// Reads a persons JSON file; `photos` are enrolled with the face pipeline (loaded only when a
/// row has photos). A row that cannot be read, whose photo shows no face, or whose embeddings do
/// not fit the node's models fails the import, every problem listed.
fn read_person_rows(
    file: &std::path::Path,
    store: &mut Store,
    config: &crate::config::Config,
    paths: &crate::config::Paths,
) -> anyhow::Result<Vec<(usize, raqib_watchlist::PersonImport)>> {
    // The face models load on the first photo; if they cannot, that is the error, not the row's.
    let (mut pipeline, mut unavailable) = (None, None);
    let mut embed = |photo: &std::path::Path| -> Result<raqib_core::Embedding, String> {
        if pipeline.is_none() && unavailable.is_none() {
            match crate::load::faces(config, paths) {
                Ok(p) => pipeline = Some(p),
                Err(e) => unavailable = Some(e),
            }
        }
        let p = pipeline.as_mut().ok_or("face models unavailable")?;
        p.enrolment_subject_of(photo).map(|(_, e)| e).map_err(|e| e.to_string())
    };
    let read = raqib_watchlist::persons_file::read_person_rows(file, FACE_MODEL, &mut embed)
        .with_context(|| format!("{}", file.display()))?;
    if let Some(e) = unavailable {
        return Err(anyhow::Error::from(e).context("the persons file has photos, and the face models do not load"));
    }
    let mut errors = read.errors;
    errors.extend(store.check_persons(&read.rows, KNOWN_MODELS)?);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        for e in &errors {
            eprintln!("  {e}");
        }
        bail!("{}: {} problem(s); nothing imported", file.display(), errors.len());
    }
    Ok(read.rows)
}

fn file_format(file: &std::path::Path) -> anyhow::Result<Format> {
    Format::from_path(file).with_context(|| format!("{}: the file name must end in .csv or .json", file.display()))
}

/// Lists entries and persons; the view is audited, as the console's is.
fn list(store: &Store, actor: Actor, json: bool) -> anyhow::Result<()> {
    let plates = store.plates()?;
    let persons = store.persons()?;
    let detail = format!("{} entries, {} persons", plates.len(), persons.len());
    store.audit(actor, "watchlist.view", Some("plates+persons"), Some(&detail))?;
    if json {
        println!("{}", serde_json::json!({ "plates": plates, "persons": persons }));
        return Ok(());
    }
    println!("{} plate entr{}", plates.len(), if plates.len() == 1 { "y" } else { "ies" });
    for e in &plates {
        println!("  {}", e.summary(Utc::now()));
    }
    let pending = store.persons_needing_enrolment(FACE_MODEL)?;
    println!("{} person(s)", persons.len());
    for p in &persons {
        let enrolled = if pending.iter().any(|q| q.id == p.id) { " (needs face enrolment)" } else { "" };
        println!("  {}{enrolled}", p.summary());
    }
    Ok(())
}

/// Exports copy personal data out of the node: the reason is checked (the library checks it
/// again) before any file is created.
fn export_reason(reason: Option<&str>) -> anyhow::Result<()> {
    raqib_core::Reason::required(reason).map(|_| ()).map_err(|e| anyhow::anyhow!("exporting needs --reason: {e}"))
}
