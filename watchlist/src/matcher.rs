//! Matching reads against the watchlist, and keeping a running node's copy current.
//!
//! A [`Snapshot`] is an immutable, indexed copy of the store (plates in a trie, faces in a
//! gallery). [`LiveWatchlist`] holds the current snapshot and a background thread that polls the
//! store's revision counter (bumped by triggers on every change, from any process) and swaps in
//! a fresh snapshot when it moves; changes reach matching within the poll interval.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use raqib_core::{Embedding, PlateText};
use serde::Serialize;

use crate::entry::{Person, PlateEntry, Priority};
use crate::error::Result;
use crate::face_gallery::{FaceGallery, FaceMatch};
use crate::plate_index::{Edit, FuzzyQuery, Pattern, PlateIndex, explain};
use crate::store::Store;

/// How a plate matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Same canonical key.
    Exact,
    /// Within the allowed weighted edit distance.
    Fuzzy,
    /// Matched a wildcard pattern.
    Wildcard,
    /// Read by an allow-list camera and on none of its list's entries (the entry is made up
    /// for the alert: id 0, the read's own plate).
    NotOnAllowList,
}

impl MatchKind {
    /// The stable name stored with a hit (`exact`, `fuzzy`, `wildcard`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Fuzzy => "fuzzy",
            MatchKind::Wildcard => "wildcard",
            MatchKind::NotOnAllowList => "not_on_allow_list",
        }
    }
}

/// A watchlist plate that matched a read, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateMatch {
    /// The entry.
    pub entry: PlateEntry,
    /// How it matched.
    pub kind: MatchKind,
    /// Weighted edit distance (0 for exact).
    pub distance: f32,
    /// 1 − distance / key length, clamped to [0, 1].
    pub score: f32,
    /// The differences between read and entry (empty for exact).
    pub edits: Vec<Edit>,
}

/// A watchlist person whose face matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonMatch {
    /// The person.
    pub person: Person,
    /// Cosine similarity.
    pub similarity: f32,
}

impl PersonMatch {
    /// `#3 Name (category, priority) similarity 0.612`.
    pub fn summary(&self) -> String {
        let p = &self.person;
        format!("#{} {} ({}, {}) similarity {:.3}", p.id, p.name, p.category, p.priority.as_str(), self.similarity)
    }
}

impl PlateMatch {
    /// `Fuzzy score 0.80 distance 0.40  <entry summary>`, then one line per edit (JSON).
    pub fn summary(&self, now: DateTime<Utc>) -> String {
        let mut s = format!(
            "{:?} score {:.2} distance {:.2}  {}",
            self.kind,
            self.score,
            self.distance,
            self.entry.summary(now)
        );
        for e in &self.edits {
            s.push_str(&format!("\n    {}", serde_json::to_string(e).unwrap_or_default()));
        }
        s
    }
}

/// What `raqib watchlist check` prints: `READ: no match`, or the matches with the alert level
/// and one [`PlateMatch::summary`] each.
pub fn describe_matches(read: &PlateText, matches: &[PlateMatch], now: DateTime<Utc>) -> String {
    if matches.is_empty() {
        return format!("{read}: no match");
    }
    let level = Snapshot::alert_level(matches).map(|p| p.as_str()).unwrap_or("-");
    let mut out = format!("{read}: {} match(es), alert level {level}", matches.len());
    for m in matches {
        out.push_str(&format!("\n  {}", m.summary(now).replace('\n', "\n  ")));
    }
    out
}

/// An indexed, immutable copy of the watchlist.
#[derive(Debug, Clone)]
pub struct Snapshot {
    revision: i64,
    plates: Vec<PlateEntry>,
    index: PlateIndex,
    persons: HashMap<i64, Person>,
    /// One template per person with embeddings ([`crate::face_template`]).
    gallery: FaceGallery,
    /// Enrolled embeddings of the face model, and of those the outliers left out of templates.
    embeddings: (usize, usize),
    face_model: String,
}

impl Snapshot {
    /// Loads everything from `store`; faces are taken from embeddings of `face_model` only.
    pub fn load(store: &Store, face_model: &str) -> Result<Self> {
        let revision = store.revision()?;
        let plates = store.plates()?;
        Ok(Self::from_parts(revision, plates, store.persons()?, store.embeddings(face_model)?, face_model))
    }

    fn from_parts(
        revision: i64,
        plates: Vec<PlateEntry>,
        persons: Vec<Person>,
        embeddings: Vec<crate::store::StoredEmbedding>,
        face_model: &str,
    ) -> Self {
        let index = PlateIndex::build(plates.iter().enumerate().map(|(i, p)| (p.plate.key(), i as u32)));
        let dim = embeddings.first().map(|e| e.embedding.dim()).unwrap_or(0);
        let mut gallery = FaceGallery::new(dim);
        let mut by_person: std::collections::BTreeMap<i64, Vec<&Embedding>> = std::collections::BTreeMap::new();
        for e in embeddings.iter().filter(|e| e.embedding.dim() == dim) {
            by_person.entry(e.person_id).or_default().push(&e.embedding);
        }
        let mut dropped = 0;
        for (person_id, items) in &by_person {
            let Some(t) = crate::face_template::robust_template(items) else { continue };
            if !t.dropped.is_empty() {
                tracing::info!(
                    person = person_id,
                    left_out = t.dropped.len(),
                    of = items.len(),
                    "enrolled faces unlike the person's others left out of the template"
                );
            }
            dropped += t.dropped.len();
            if let Err(err) = gallery.push(*person_id, &t.embedding) {
                tracing::warn!(person = person_id, error = %err, "person left out of the face gallery");
            }
        }
        let persons = persons.into_iter().map(|p| (p.id, p)).collect();
        let embeddings = (embeddings.len(), dropped);
        Snapshot { revision, plates, index, persons, gallery, embeddings, face_model: face_model.to_owned() }
    }

    /// Store revision this snapshot reflects.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Number of plate entries (expired ones included).
    pub fn plate_count(&self) -> usize {
        self.plates.len()
    }

    /// Number of enrolled face embeddings (of the snapshot's face model).
    pub fn embedding_count(&self) -> usize {
        self.embeddings.0
    }

    /// Enrolled embeddings left out of their person's template as outliers.
    pub fn outlier_count(&self) -> usize {
        self.embeddings.1
    }

    /// Number of face templates searched: one per person with embeddings. A probe is compared
    /// with this many templates, which is what a calibrated threshold depends on.
    pub fn template_count(&self) -> usize {
        self.gallery.len()
    }

    /// Entries active at `now` matching `read`: exact key matches, plus (when `max_distance` > 0)
    /// fuzzy ones within that weighted distance. Sorted by priority, then distance.
    pub fn match_plate(&self, read: &FuzzyQuery, max_distance: f32, now: DateTime<Utc>) -> Vec<PlateMatch> {
        let key = read.best();
        let mut out: Vec<PlateMatch> = Vec::new();
        for &slot in self.index.exact(&key) {
            let entry = &self.plates[slot as usize];
            if entry.is_active(now) {
                out.push(PlateMatch {
                    entry: entry.clone(),
                    kind: MatchKind::Exact,
                    distance: 0.0,
                    score: 1.0,
                    edits: vec![],
                });
            }
        }
        if max_distance > 0.0 {
            for (slot, distance) in self.index.fuzzy(read, max_distance) {
                let entry = &self.plates[slot as usize];
                if distance == 0.0 || !entry.is_active(now) {
                    continue;
                }
                let (_, edits) = explain(read, entry.plate.key());
                let len = entry.plate.key().chars().count().max(1) as f32;
                out.push(PlateMatch {
                    entry: entry.clone(),
                    kind: MatchKind::Fuzzy,
                    distance,
                    score: (1.0 - distance / len).clamp(0.0, 1.0),
                    edits,
                });
            }
        }
        out.sort_by(|a, b| a.entry.priority.cmp(&b.entry.priority).then(a.distance.total_cmp(&b.distance)));
        out
    }

    /// Shortcut: exact match of a canonical plate.
    pub fn match_exact(&self, plate: &PlateText, now: DateTime<Utc>) -> Vec<PlateMatch> {
        self.match_plate(&FuzzyQuery::from_plate(plate), 0.0, now)
    }

    /// Entries matching a wildcard pattern (witness reports); `include_inactive` also returns
    /// expired and not-yet-valid entries (for analysts reviewing the list, never for alerts).
    pub fn search_pattern(&self, pattern: &Pattern, now: DateTime<Utc>, include_inactive: bool) -> Vec<PlateMatch> {
        self.index
            .wildcard(pattern)
            .into_iter()
            .map(|slot| &self.plates[slot as usize])
            .filter(|e| include_inactive || e.is_active(now))
            .map(|e| PlateMatch {
                entry: e.clone(),
                kind: MatchKind::Wildcard,
                distance: 0.0,
                score: 1.0,
                edits: vec![],
            })
            .collect()
    }

    /// Active persons whose enrolled faces are at least `threshold` similar to `probe`, best first.
    pub fn match_face(
        &self,
        probe: &Embedding,
        k: usize,
        threshold: f32,
        now: DateTime<Utc>,
    ) -> Result<Vec<PersonMatch>> {
        if self.gallery.is_empty() {
            return Ok(Vec::new());
        }
        // Inactive persons may take places in the top k: ask for that many more, not for everyone
        // (which would turn the int8 shortlist into a full exact re-score of the gallery).
        let inactive = self.persons.values().filter(|p| !p.is_active(now)).count();
        let hits: Vec<FaceMatch> = self.gallery.top_k(probe, k + inactive, threshold)?;
        Ok(hits
            .into_iter()
            .filter_map(|h| self.persons.get(&h.person_id).map(|p| (p, h.similarity)))
            .filter(|(p, _)| p.is_active(now))
            .map(|(p, similarity)| PersonMatch { person: p.clone(), similarity })
            .take(k)
            .collect())
    }

    /// The face model this snapshot's gallery belongs to.
    pub fn face_model(&self) -> &str {
        &self.face_model
    }

    /// Highest priority among matches, for the alert level.
    pub fn alert_level(matches: &[PlateMatch]) -> Option<Priority> {
        matches.iter().map(|m| m.entry.priority).min()
    }
}

/// A watchlist that follows its database: changes by any process appear within `poll`.
pub struct LiveWatchlist {
    current: Arc<RwLock<Arc<Snapshot>>>,
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
}

impl LiveWatchlist {
    /// Opens `path`, loads a first snapshot and starts watching for changes every `poll`.
    pub fn open(path: &Path, face_model: &str, poll: Duration) -> Result<Self> {
        let store = Store::open(path)?;
        let current = Arc::new(RwLock::new(Arc::new(Snapshot::load(&store, face_model)?)));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (current, stop, model, db) = (current.clone(), stop.clone(), face_model.to_owned(), path.to_path_buf());
            std::thread::Builder::new()
                .name("watchlist-reload".into())
                .spawn(move || watch(store, db, model, poll, current, stop))
                .map_err(|source| crate::Error::Io {
                    action: "starting reload thread for",
                    path: path.to_path_buf(),
                    source,
                })?
        };
        Ok(LiveWatchlist { current, stop, watcher: Some(watcher) })
    }

    /// The snapshot to match against now (cheap: an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

fn watch(
    store: Store,
    path: PathBuf,
    model: String,
    poll: Duration,
    current: Arc<RwLock<Arc<Snapshot>>>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(poll);
        let seen = match current.read() {
            Ok(g) => g.revision(),
            Err(p) => p.into_inner().revision(),
        };
        match store.revision() {
            Ok(rev) if rev != seen => match Snapshot::load(&store, &model) {
                Ok(snap) => {
                    tracing::info!(revision = snap.revision(), plates = snap.plate_count(), faces = snap.embedding_count(), db = %path.display(), "watchlist reloaded");
                    match current.write() {
                        Ok(mut g) => *g = Arc::new(snap),
                        Err(p) => *p.into_inner() = Arc::new(snap),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, db = %path.display(), "watchlist reload failed; keeping the previous one")
                }
            },
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, db = %path.display(), "cannot read watchlist revision"),
        }
    }
}

impl Drop for LiveWatchlist {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.watcher.take() {
            let _ = h.join();
        }
    }
}
