//! `raqib watchlist …`: manage and query the node's watchlist from the command line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use raqib_core::PlateText;
use raqib_watchlist::{
    Actor, Format, FuzzyQuery, ImportMode, NewPerson, NewPlateEntry, Pattern, PlateMatch, Snapshot, Store,
};

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
    Add(AddPlate),
    /// Add a person (enrol their photos once the face pipeline is available).
    AddPerson(AddPerson),
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
        WatchlistCommand::List { json } => list(&store, json)?,
        WatchlistCommand::Import { file, skip_invalid } => {
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
            let policy = raqib_core::AnalysisPolicy {
                plate_max_distance: max_distance.unwrap_or(config.analysis.plate_max_distance),
                ..config.analysis
            };
            policy.validate().context("--max-distance")?;
            let matches = snap.match_plate(&FuzzyQuery::from_plate(&read), policy.plate_max_distance, Utc::now());
            if json {
                println!("{}", serde_json::to_string_pretty(&matches)?);
            } else {
                print_matches(&read, &matches);
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
                println!("  {}", describe(&m.entry));
            }
        }
        WatchlistCommand::Enroll { person, photos } => {
            crate::faces_cmd::existing(&photos)?;
            let who = store.person(person)?;
            let mut pipeline = crate::faces_cmd::load_pipeline(config, paths)?;
            let mut enrolled = 0;
            for photo in &photos {
                match crate::faces_cmd::best_face(&mut pipeline, photo) {
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
            let policy = raqib_core::AnalysisPolicy {
                face_match_threshold: threshold.unwrap_or(config.analysis.face_match_threshold),
                ..config.analysis
            };
            policy.validate().context("--threshold")?;
            let threshold = policy.face_match_threshold;
            crate::faces_cmd::existing(std::slice::from_ref(&photo))?;
            store.audit(actor, "search.face", Some(&photo.display().to_string()), None)?;
            let snap = Snapshot::load(&store, FACE_MODEL)?;
            let mut pipeline = crate::faces_cmd::load_pipeline(config, paths)?;
            let img = raqib_models::RgbImage::open(&photo)?;
            let faces = pipeline.analyse(&img, raqib_models::face::DEFAULT_DETECT_THRESHOLD)?;
            println!(
                "{}: {} face(s); gallery of {} embedding(s)",
                photo.display(),
                faces.len(),
                snap.embedding_count()
            );
            for (face, embedding) in &faces {
                let b = face.bbox;
                let hits = snap.match_face(embedding, 3, threshold, Utc::now())?;
                let found: Vec<String> = hits
                    .iter()
                    .map(|m| {
                        format!(
                            "#{} {} ({}, {}) similarity {:.3}",
                            m.person.id,
                            m.person.name,
                            m.person.category,
                            m.person.priority.as_str(),
                            m.similarity
                        )
                    })
                    .collect();
                let what = if found.is_empty() { "no match".to_owned() } else { found.join("; ") };
                println!("  face at ({:.0},{:.0})-({:.0},{:.0}): {what}", b.x1, b.y1, b.x2, b.y2);
            }
        }
        WatchlistCommand::Audit { limit } => {
            for r in store.audit_log(limit)? {
                let at = r.at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!(
                    "{:>6} {at} {:12} {:16} {} reason={} {}",
                    r.id,
                    r.actor,
                    r.action,
                    r.target.unwrap_or_default(),
                    r.reason.unwrap_or_else(|| "-".into()),
                    r.detail.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// Reads a persons JSON file; `photos` are enrolled with the face pipeline (loaded only when a
/// row has photos). A row that cannot be read, or whose photo shows no face, fails the import.
fn read_person_rows(
    file: &std::path::Path,
    store: &mut Store,
    config: &crate::config::Config,
    paths: &crate::config::Paths,
) -> anyhow::Result<Vec<(usize, raqib_watchlist::PersonImport)>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let values: Vec<serde_json::Value> =
        serde_json::from_str(&text).with_context(|| format!("{}: not a JSON array of persons", file.display()))?;
    let base = file.parent().unwrap_or(std::path::Path::new("."));
    let mut pipeline = None;
    let mut rows = Vec::new();
    let mut errors: Vec<(usize, String)> = Vec::new();
    for (i, mut v) in values.into_iter().enumerate() {
        let row = i + 1;
        let photos: Vec<String> = match v.as_object_mut().and_then(|o| o.remove("photos")) {
            Some(p) => match serde_json::from_value(p) {
                Ok(p) => p,
                Err(e) => {
                    errors.push((row, format!("photos: {e}")));
                    continue;
                }
            },
            None => Vec::new(),
        };
        let mut person: raqib_watchlist::PersonImport = match serde_json::from_value(v) {
            Ok(p) => p,
            Err(e) => {
                errors.push((row, e.to_string()));
                continue;
            }
        };
        for photo in photos {
            let path = base.join(&photo);
            if pipeline.is_none() {
                pipeline = Some(crate::faces_cmd::load_pipeline(config, paths)?);
            }
            let Some(p) = pipeline.as_mut() else { continue };
            match crate::faces_cmd::best_face(p, &path) {
                Ok((_, embedding)) => person.embeddings.push(raqib_watchlist::ExportedEmbedding {
                    model_id: FACE_MODEL.to_owned(),
                    vector: embedding,
                    source: Some(photo),
                }),
                Err(e) => errors.push((row, e.to_string())),
            }
        }
        rows.push((row, person));
    }
    errors.extend(store.check_persons(&rows, KNOWN_MODELS)?.into_iter().map(|e| (e.row, e.message)));
    if !errors.is_empty() {
        errors.sort();
        for (row, message) in &errors {
            eprintln!("  row {row}: {message}");
        }
        bail!("{}: {} problem(s); nothing imported", file.display(), errors.len());
    }
    Ok(rows)
}

fn file_format(file: &std::path::Path) -> anyhow::Result<Format> {
    Format::from_path(file).with_context(|| format!("{}: the file name must end in .csv or .json", file.display()))
}

fn describe(e: &raqib_watchlist::PlateEntry) -> String {
    let mut s = format!("#{} {} [{}] {} {}", e.id, e.plate, e.plate.latin_alias(), e.category, e.priority.as_str());
    if let Some(c) = &e.case_ref {
        s.push_str(&format!(" case {c}"));
    }
    if let Some(t) = e.expires_at {
        s.push_str(&format!(" expires {}", t.format("%Y-%m-%d")));
    }
    if !e.is_active(Utc::now()) {
        s.push_str(" (inactive)");
    }
    s
}

fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let plates = store.plates()?;
    let persons = store.persons()?;
    if json {
        println!("{}", serde_json::json!({ "plates": plates, "persons": persons }));
        return Ok(());
    }
    println!("{} plate entr{}", plates.len(), if plates.len() == 1 { "y" } else { "ies" });
    for e in &plates {
        println!("  {}", describe(e));
    }
    let pending = store.persons_needing_enrolment(FACE_MODEL)?;
    println!("{} person(s)", persons.len());
    for p in &persons {
        let enrolled = if pending.iter().any(|q| q.id == p.id) { " (needs face enrolment)" } else { "" };
        println!("  #{} {} {} {}{enrolled}", p.id, p.name, p.category, p.priority.as_str());
    }
    Ok(())
}

fn print_matches(read: &PlateText, matches: &[PlateMatch]) {
    if matches.is_empty() {
        println!("{read}: no match");
        return;
    }
    let level = Snapshot::alert_level(matches).map(|p| p.as_str()).unwrap_or("-");
    println!("{read}: {} match(es), alert level {level}", matches.len());
    for m in matches {
        println!("  {:?} score {:.2} distance {:.2}  {}", m.kind, m.score, m.distance, describe(&m.entry));
        for e in &m.edits {
            println!("      {}", serde_json::to_string(e).unwrap_or_default());
        }
    }
}

/// Exports copy personal data out of the node: the reason is checked (the library checks it
/// again) before any file is created.
fn export_reason(reason: Option<&str>) -> anyhow::Result<()> {
    raqib_core::Reason::required(reason).map(|_| ()).map_err(|e| anyhow::anyhow!("exporting needs --reason: {e}"))
}
