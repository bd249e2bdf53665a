//! One analysis path for every driver: [`StreamAnalysis`] turns one stream's frames into
//! [`Outcome`]s (a vehicle's voted plate read with its watchlist hits, a listed person seen),
//! and [`Sink`]s take them (events store, event bus; the binary adds stdout, reports and bench
//! timers). `raqib run` (live cameras), `raqib replay` (files) and `raqib bench video` are thin
//! drivers: each feeds frames in and passes outcomes on; none holds analysis logic or policy of
//! its own.
//!
//! The hit policy is [`plate_hits`]: a finished read matches the watchlist snapshot with its
//! per-position alternatives within [`AnalysisPolicy::plate_max_distance`], keeps the entries
//! whose scope (days, hours, cameras, area) covers where and when it was read, and on an
//! allow-list camera becomes a `not_on_allow_list` hit when no entry of its list matched; face hits use
//! [`AnalysisPolicy::face_match_threshold`] and, by [`face_hits`], the same scope rule; tracking and voting use the event parameters of the
//! same policy.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use raqib_core::AnalysisPolicy;
use raqib_events::EventStore;
use raqib_events::bus::{Event, EventBus};
use raqib_models::FacePipeline;
use raqib_models::plate::{FindTiming, PlateFinder, PlateRead};
use raqib_watchlist::{FuzzyQuery, MatchKind, PlateEntry, PlateMatch, Priority, Sighting, Snapshot};

use crate::analyse::{AnalysisParams, PlateAnalyser};
use crate::error::Result;
use crate::faces::{FaceAnalyser, FaceParams, FaceSighting};
use crate::ingest::Frame;
use crate::plates::PlateEvent;

/// The models one analysis thread drives; shared between its streams in turn.
pub struct Models<'a> {
    /// Plate localiser and recogniser.
    pub plates: &'a mut PlateFinder,
    /// Face detection and embedding; none: faces are not analysed.
    pub faces: Option<&'a mut FacePipeline>,
}

/// What the analysis of a stream produces.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// One vehicle's voted read, with its watchlist matches (empty: no hit).
    Plate {
        /// The read.
        read: PlateEvent,
        /// Matches, best first.
        hits: Vec<PlateMatch>,
    },
    /// A watchlist person seen (faces that match nobody are never outcomes).
    Face(FaceSighting),
}

impl Outcome {
    /// Whether this outcome is a watchlist hit.
    pub fn is_hit(&self) -> bool {
        match self {
            Outcome::Plate { hits, .. } => !hits.is_empty(),
            Outcome::Face(_) => true,
        }
    }
}

/// Where an outcome was seen: camera id or file, and the camera's place when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Camera id or file name.
    pub id: String,
    /// Latitude, longitude.
    pub location: Option<(f64, f64)>,
}

/// Where a stream's reads are made, for the hit policy: the camera, where it is (a patrol
/// camera's place changes: [`StreamAnalysis::set_location`]), and its allow-list, if it has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// Camera id (or file name).
    pub camera: String,
    /// Latitude, longitude, when known.
    pub location: Option<(f64, f64)>,
    /// An allow-list camera (a gate) alerts on every plate that is not on this list.
    pub allow_list: Option<AllowList>,
}

/// An allow-list camera's list: the watchlist entries of one category are the plates allowed
/// through; any other plate read raises an alert of this priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    /// The category whose entries are allowed.
    pub category: String,
    /// Priority of a `not_on_allow_list` alert.
    pub priority: Priority,
}

/// The category of the alerts an allow-list camera raises.
pub const NOT_ON_ALLOW_LIST: &str = "not_on_allow_list";

/// What one frame cost, for metrics and the bench.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameStats {
    /// The localiser looked at the whole frame (a key frame).
    pub full_frame: bool,
    /// Plate localiser, recogniser and tracking, wall time.
    pub plates: Duration,
    /// The finder's own split of its time (localiser, recogniser, crops read, pixels).
    pub finder: FindTiming,
    /// Watchlist matching of the reads that ended in this frame.
    pub matching: Duration,
    /// Face analysis, when it ran.
    pub faces: Option<Duration>,
    /// What face analysis counted in this frame (gated looks, tracks not kept).
    pub face_counts: crate::faces::FaceCounts,
}

/// The analysis of one stream: plate tracking and voting, face tracking, and the hit policy.
pub struct StreamAnalysis {
    policy: AnalysisPolicy,
    place: Place,
    plates: PlateAnalyser,
    faces: FaceAnalyser,
}

impl StreamAnalysis {
    /// A fresh analysis under `policy`.
    pub fn new(policy: &AnalysisPolicy) -> Self {
        StreamAnalysis {
            policy: *policy,
            place: Place::default(),
            plates: PlateAnalyser::new(AnalysisParams::from(policy)),
            faces: FaceAnalyser::new(FaceParams::from(policy)),
        }
    }

    /// The same, for reads made at `place` (scoped entries and allow-lists need it).
    pub fn at(mut self, place: Place) -> Self {
        self.place = place;
        self
    }

    /// Where the camera is now (a patrol camera moves).
    pub fn set_location(&mut self, location: Option<(f64, f64)>) {
        self.place.location = location;
    }

    /// The policy it runs under.
    pub fn policy(&self) -> &AnalysisPolicy {
        &self.policy
    }

    /// Analyses one frame: plates always; faces when there is a face pipeline and the gallery
    /// holds at least one embedding (with no one enrolled there is no reason to process anyone's
    /// face). Returns the outcomes that ended in this frame.
    pub fn push(
        &mut self,
        models: &mut Models<'_>,
        frame: &Frame,
        gallery: Option<&Snapshot>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Outcome>, FrameStats)> {
        let t0 = Instant::now();
        // Key frame or windows (the analyser's plan), localiser and recogniser, then tracking.
        let ended = self.plates.push(models.plates, frame)?;
        let mut stats = FrameStats {
            full_frame: self.plates.last_was_full,
            plates: t0.elapsed(),
            finder: models.plates.last_timing,
            ..FrameStats::default()
        };
        let t1 = Instant::now();
        let mut out: Vec<Outcome> = ended.into_iter().map(|read| self.decide(read, gallery, now)).collect();
        stats.matching = t1.elapsed();
        if let (Some(pipeline), Some(g)) = (models.faces.as_deref_mut(), gallery)
            && g.embedding_count() > 0
        {
            let t2 = Instant::now();
            let before = self.faces.counts;
            let seen = self.faces.push(pipeline, g, frame)?;
            out.extend(face_hits(&self.policy, seen, now, &self.place).map(Outcome::Face));
            stats.faces = Some(t2.elapsed());
            stats.face_counts = self.faces.counts.since(&before);
        }
        Ok((out, stats))
    }

    /// As [`push`](Self::push) with the plates of the frame already found (recorded reads, or a
    /// localiser run elsewhere): tracking, voting and the hit policy are the same.
    pub fn push_found(
        &mut self,
        frame: &Frame,
        found: Vec<PlateRead>,
        gallery: Option<&Snapshot>,
        now: DateTime<Utc>,
    ) -> Vec<Outcome> {
        let _ = self.plates.plan(frame);
        let ended = self.plates.record(frame, found);
        ended.into_iter().map(|read| self.decide(read, gallery, now)).collect()
    }

    /// Ends every open track (end of stream, shutdown): nothing seen is lost.
    pub fn finish(&mut self, gallery: Option<&Snapshot>, now: DateTime<Utc>) -> Vec<Outcome> {
        let mut out: Vec<Outcome> =
            self.plates.finish().into_iter().map(|read| self.decide(read, gallery, now)).collect();
        out.extend(face_hits(&self.policy, self.faces.finish(), now, &self.place).map(Outcome::Face));
        out
    }

    /// What face analysis counted so far (gated looks, tracks that matched nobody or not
    /// consistently): counts only, nothing about those faces is kept.
    pub fn face_counts(&self) -> crate::faces::FaceCounts {
        self.faces.counts
    }

    fn decide(&self, read: PlateEvent, gallery: Option<&Snapshot>, now: DateTime<Utc>) -> Outcome {
        let hits = plate_hits(&self.policy, &read, gallery, now, &self.place);
        Outcome::Plate { read, hits }
    }
}

/// The face hit policy: of the sightings of listed persons, those whose person's scope covers
/// `place` at `now` in local time (the same rule as a plate entry's, [`plate_hits`]). A sighting
/// outside it raises nothing and, as faces of people not listed, leaves nothing behind.
pub fn face_hits(
    policy: &AnalysisPolicy,
    sightings: Vec<FaceSighting>,
    now: DateTime<Utc>,
    place: &Place,
) -> impl Iterator<Item = FaceSighting> {
    let local = now.with_timezone(&policy.local_offset());
    let (camera, location) = (place.camera.clone(), place.location);
    sightings.into_iter().filter(move |s| s.scope.applies(&Sighting { camera: &camera, location, local }))
}

/// The plate hit policy: the read, with every per-position alternative the recogniser gave,
/// against the entries active at `now`, exact keys plus fuzzy matches within the policy's
/// distance; of those, the entries whose scope covers `place` at `now` in local time. On an
/// allow-list camera the list's own entries raise nothing, and a read that matched none of them
/// (by the same exact and fuzzy rule) raises a `not_on_allow_list` hit. No gallery: no hits.
pub fn plate_hits(
    policy: &AnalysisPolicy,
    read: &PlateEvent,
    gallery: Option<&Snapshot>,
    now: DateTime<Utc>,
    place: &Place,
) -> Vec<PlateMatch> {
    let Some(g) = gallery else { return Vec::new() };
    let query = if read.positions.is_empty() {
        FuzzyQuery::from_plate(&read.plate)
    } else {
        FuzzyQuery::with_alternatives(read.positions.clone())
    };
    let sighting =
        Sighting { camera: &place.camera, location: place.location, local: now.with_timezone(&policy.local_offset()) };
    let mut hits: Vec<PlateMatch> = g
        .match_plate(&query, policy.plate_max_distance, now)
        .into_iter()
        .filter(|m| m.entry.scope.applies(&sighting))
        .collect();
    if let Some(allow) = &place.allow_list {
        let allowed = hits.iter().any(|m| m.entry.category == allow.category);
        hits.retain(|m| m.entry.category != allow.category);
        if !allowed {
            hits.insert(0, not_on_allow_list(read, allow));
        }
    }
    hits
}

/// The hit an allow-list camera raises for a plate on none of its list's entries.
fn not_on_allow_list(read: &PlateEvent, allow: &AllowList) -> PlateMatch {
    PlateMatch {
        entry: PlateEntry {
            id: 0,
            plate: read.plate.clone(),
            original: read.plate.canonical().to_owned(),
            country: read.plate.country().map(str::to_owned),
            category: NOT_ON_ALLOW_LIST.to_owned(),
            priority: allow.priority,
            case_ref: None,
            issuing_unit: None,
            vehicle_make: None,
            vehicle_colour: None,
            valid_from: None,
            expires_at: None,
            notes: Some(format!("not on the allow-list `{}` of this camera", allow.category)),
            person_id: None,
            scope: Default::default(),
        },
        kind: MatchKind::NotOnAllowList,
        distance: 0.0,
        score: 1.0,
        edits: vec![],
    }
}

/// Takes outcomes: records, publishes, prints or counts them.
pub trait Sink {
    /// Takes one outcome seen by `source` at `at`.
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()>;
}

/// What a run did, for its last line: reads, hits, frames analysed and their cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Plate reads delivered.
    pub reads: usize,
    /// Outcomes that hit the watchlist (plates and faces).
    pub hits: usize,
    /// Frames analysed.
    pub frames: u64,
    /// Time spent analysing them.
    pub busy: Duration,
    /// Of those frames, the ones whose detection covered the whole frame.
    pub full_frames: u64,
    /// Face analysis counts (gated looks, tracks not kept).
    pub faces: crate::faces::FaceCounts,
}

impl Tally {
    /// Counts one outcome.
    pub fn count(&mut self, o: &Outcome) {
        self.hits += usize::from(o.is_hit());
        self.reads += usize::from(matches!(o, Outcome::Plate { .. }));
    }

    /// Counts one analysed frame that took `took`.
    pub fn frame(&mut self, stats: &FrameStats, took: Duration) {
        self.frames += 1;
        self.busy += took;
        self.full_frames += u64::from(stats.full_frame);
        self.faces.add(&stats.face_counts);
    }

    /// `N plate read(s), N hit(s); N frame(s) analysed, X ms each on average, N with whole-frame
    /// detection`, and the face counts when faces were looked at.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} plate read(s), {} hit(s); {} frame(s) analysed, {:.1} ms each on average, {} with whole-frame detection",
            self.reads,
            self.hits,
            self.frames,
            self.busy.as_secs_f64() * 1000.0 / self.frames.max(1) as f64,
            self.full_frames
        );
        let f = &self.faces;
        if f.embedded + f.too_small + f.blurred + f.turned_away > 0 {
            s.push_str(&format!(
                "; faces: {} embedded, gated {} too small, {} blurred, {} turned away; {} track(s) unmatched, {} unconfirmed",
                f.embedded, f.too_small, f.blurred, f.turned_away, f.unmatched_tracks, f.unconfirmed_tracks
            ));
        }
        s
    }
}

/// Passes `outcome` to every sink in turn; a sink that fails is logged and the others still get
/// it. Returns how many failed.
pub fn deliver(sinks: &mut [&mut dyn Sink], source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> usize {
    let mut failed = 0;
    for sink in sinks.iter_mut() {
        if let Err(e) = sink.emit(source, at, outcome) {
            tracing::error!(source = %source.id, error = %e, "an outcome could not be delivered");
            failed += 1;
        }
    }
    failed
}

impl Sink for EventStore {
    /// Records the read (with its hits and, for a hit, its evidence frame) or the sighting.
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()> {
        match outcome {
            Outcome::Plate { read, hits } => {
                Ok(self.record_at(&source.id, at, read, hits, source.location).map(|_| ())?)
            }
            Outcome::Face(s) => Ok(self.record_face(&source.id, at, s).map(|_| ())?),
        }
    }
}

impl Sink for EventBus {
    /// Publishes the outcome to every subscriber (console, webhooks, MQTT, JSON lines).
    fn emit(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) -> Result<()> {
        let event = match outcome {
            Outcome::Plate { read, hits } => Event::PlateRead {
                source: source.id.clone(),
                at,
                location: source.location,
                read: Box::new(read.clone()),
                hits: hits.clone(),
            },
            Outcome::Face(s) => Event::FaceSighting {
                source: source.id.clone(),
                at,
                location: source.location,
                sighting: Box::new(s.clone()),
            },
        };
        self.publish(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use raqib_watchlist::{Actor, NewPlateEntry, Store};

    use super::*;
    use crate::test_support::plate_read;

    fn frame(index: u64) -> Frame {
        Frame {
            image: raqib_models::RgbImage { width: 64, height: 48, data: vec![0; 64 * 48 * 3] },
            pts: Some(Duration::from_millis(index * 40)),
            index,
        }
    }

    fn gallery(plates: &[&str]) -> Snapshot {
        let mut store = Store::open_in_memory().unwrap();
        for p in plates {
            let entry =
                NewPlateEntry { plate: (*p).into(), category: "stolen_vehicle".into(), ..NewPlateEntry::default() };
            store.add_plate(&entry, Actor::new("test", Some("unit test"))).unwrap();
        }
        Snapshot::load(&store, "test-face-model").unwrap()
    }

    /// Feeds `reads[i]` as the plates of frame `i`, then ends the stream.
    fn drive(policy: &AnalysisPolicy, reads: &[Vec<PlateRead>], g: Option<&Snapshot>) -> Vec<Outcome> {
        let mut a = StreamAnalysis::new(policy);
        let now = Utc::now();
        let mut out = Vec::new();
        for (i, r) in reads.iter().enumerate() {
            out.extend(a.push_found(&frame(i as u64), r.clone(), g, now));
        }
        out.extend(a.finish(g, now));
        out
    }

    fn texts(out: &[Outcome]) -> Vec<(String, usize)> {
        out.iter()
            .filter_map(|o| match o {
                Outcome::Plate { read, hits } => Some((read.plate.canonical().to_owned(), hits.len())),
                Outcome::Face(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_vehicle_read_in_several_frames_is_one_outcome_voted_and_matched() {
        let g = gallery(&["12345-ب-6"]);
        let reads: Vec<Vec<PlateRead>> = (0..5)
            .map(|i| {
                // One frame misreads the last digit; the vote keeps the majority.
                let text = if i == 2 { "12345-ب-8" } else { "12345-ب-6" };
                vec![plate_read(text, &[0.95; 7], None)]
            })
            .collect();
        let out = drive(&AnalysisPolicy::default(), &reads, Some(&g));
        assert_eq!(texts(&out), vec![("12345-ب-6".to_owned(), 1)]);
        assert!(out[0].is_hit());
    }

    #[test]
    fn the_fuzzy_distance_comes_from_the_policy() {
        // `12345-ب-8` is one substitution away from the listed `12345-ب-6`.
        let g = gallery(&["12345-ب-6"]);
        let reads: Vec<Vec<PlateRead>> = (0..3).map(|_| vec![plate_read("12345-ب-8", &[0.95; 7], None)]).collect();
        let exact = AnalysisPolicy { plate_max_distance: 0.0, ..AnalysisPolicy::default() };
        assert_eq!(texts(&drive(&exact, &reads, Some(&g))), vec![("12345-ب-8".to_owned(), 0)]);
        let fuzzy = AnalysisPolicy { plate_max_distance: 1.0, ..AnalysisPolicy::default() };
        assert_eq!(texts(&drive(&fuzzy, &reads, Some(&g))), vec![("12345-ب-8".to_owned(), 1)]);
    }

    #[test]
    fn min_reads_comes_from_the_policy_and_no_gallery_means_no_hits() {
        let g = gallery(&["AB-123-CD"]);
        // Read in one frame only, not confident enough for a single-read event.
        let once = vec![vec![plate_read("AB-123-CD", &[0.7; 7], None)]];
        assert!(drive(&AnalysisPolicy::default(), &once, Some(&g)).is_empty());
        let one_is_enough = AnalysisPolicy { min_reads: 1, ..AnalysisPolicy::default() };
        assert_eq!(texts(&drive(&one_is_enough, &once, Some(&g))), vec![("AB-123-CD".to_owned(), 1)]);
        assert_eq!(texts(&drive(&one_is_enough, &once, None)), vec![("AB-123-CD".to_owned(), 0)]);
    }

    /// Hits of `plate` (read in three frames) at `place` at `now`, as (category, match kind).
    fn hits_at(g: &Snapshot, plate: &str, place: &Place, now: DateTime<Utc>) -> Vec<(String, &'static str)> {
        let mut a = StreamAnalysis::new(&AnalysisPolicy { local_utc_offset_minutes: 60, ..AnalysisPolicy::default() })
            .at(place.clone());
        let mut out = Vec::new();
        for i in 0..3 {
            out.extend(a.push_found(&frame(i), vec![plate_read(plate, &[0.95; 9], None)], Some(g), now));
        }
        out.extend(a.finish(Some(g), now));
        out.iter()
            .flat_map(|o| match o {
                Outcome::Plate { hits, .. } => {
                    hits.iter().map(|h| (h.entry.category.clone(), h.kind.as_str())).collect()
                }
                Outcome::Face(_) => vec![],
            })
            .collect()
    }

    #[test]
    fn scoped_entries_alert_on_their_cameras_days_and_hours_and_allow_list_cameras_on_strangers() {
        let mut store = Store::open_in_memory().unwrap();
        let actor = || Actor::new("test", Some("unit test"));
        let add = |store: &mut Store, plate: &str, category: &str, f: &dyn Fn(&mut NewPlateEntry)| {
            let mut e = NewPlateEntry { plate: plate.into(), category: category.into(), ..NewPlateEntry::default() };
            f(&mut e);
            store.add_plate(&e, actor()).unwrap();
        };
        add(&mut store, "12345-ب-6", "stolen_vehicle", &|e| e.cameras = Some("gate".into()));
        add(&mut store, "777-د-1", "bolo", &|e| {
            e.days = Some("mon-fri".into());
            e.hours = Some("08:00-18:00".into());
        });
        store.upsert_category("residents", Priority::Low, "allowed through the gate", actor()).unwrap();
        add(&mut store, "555-أ-2", "residents", &|_| {});
        let g = Snapshot::load(&store, "test-face-model").unwrap();
        let gate = Place { camera: "gate".into(), ..Place::default() };
        let road = Place { camera: "road".into(), ..Place::default() };
        // Monday 2026-12-07 09:30 local (UTC+1) is 08:30 UTC.
        let monday = "2026-12-07T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let sunday = "2026-12-06T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(hits_at(&g, "12345-ب-6", &gate, monday), [("stolen_vehicle".into(), "exact")]);
        assert!(hits_at(&g, "12345-ب-6", &road, monday).is_empty(), "another camera");
        assert_eq!(hits_at(&g, "777-د-1", &road, monday).len(), 1);
        assert!(hits_at(&g, "777-د-1", &road, sunday).is_empty(), "not on Sundays");
        let evening = "2026-12-07T17:30:00Z".parse::<DateTime<Utc>>().unwrap(); // 18:30 local
        assert!(hits_at(&g, "777-د-1", &road, evening).is_empty(), "after hours");

        let allow = Place {
            camera: "gate".into(),
            allow_list: Some(AllowList { category: "residents".into(), priority: Priority::Medium }),
            ..Place::default()
        };
        assert!(hits_at(&g, "555-أ-2", &allow, monday).is_empty(), "a resident");
        assert_eq!(hits_at(&g, "999-و-9", &allow, monday), [(NOT_ON_ALLOW_LIST.into(), "not_on_allow_list")]);
        // A stranger that is also listed raises both.
        let both = hits_at(&g, "12345-ب-6", &allow, monday);
        assert_eq!(both, [(NOT_ON_ALLOW_LIST.into(), "not_on_allow_list"), ("stolen_vehicle".into(), "exact")]);
    }

    #[test]
    fn a_scoped_person_alerts_on_their_cameras_and_days_only_and_keeps_the_covert_list() {
        let mut store = Store::open_in_memory().unwrap();
        let new = raqib_watchlist::NewPerson {
            name: "Suspect H".into(),
            category: "wanted_person".into(),
            cameras: Some("gate".into()),
            days: Some("mon-fri".into()),
            covert_list: Some("op-heron".into()),
            ..Default::default()
        };
        let person = store.add_person(&new, Actor::new("test", Some("unit test"))).unwrap();
        let sighting = FaceSighting {
            track: 1,
            person_id: person.id,
            name: person.name.clone(),
            category: person.category.clone(),
            priority: person.priority,
            similarity: 0.7,
            votes: 3,
            embeddings: 3,
            first_seen_s: None,
            last_seen_s: None,
            best_frame: 2,
            best_time_s: None,
            bbox: raqib_models::face::Bbox { x1: 0.0, y1: 0.0, x2: 50.0, y2: 50.0 },
            crop_jpeg: Vec::new(),
            stranger_rate: None,
            scope: person.scope.clone(),
        };
        let policy = AnalysisPolicy { local_utc_offset_minutes: 60, ..AnalysisPolicy::default() };
        let monday = "2026-12-07T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let sunday = "2026-12-06T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let seen = |camera: &str, at| {
            let place = Place { camera: camera.into(), ..Place::default() };
            face_hits(&policy, vec![sighting.clone()], at, &place).collect::<Vec<_>>()
        };
        let hit = seen("gate", monday);
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].scope.covert_list.as_deref(), Some("op-heron"), "stored with the hit: who may see it");
        assert!(seen("road", monday).is_empty(), "another camera");
        assert!(seen("gate", sunday).is_empty(), "not on Sundays");
        let unscoped = FaceSighting { scope: raqib_watchlist::Scope::default(), ..sighting.clone() };
        let place = Place { camera: "road".into(), ..Place::default() };
        assert_eq!(face_hits(&policy, vec![unscoped], sunday, &place).count(), 1, "no scope: everywhere, always");
    }

    #[test]
    fn sinks_take_every_outcome() {
        let g = gallery(&["12345-ب-6"]);
        let reads: Vec<Vec<PlateRead>> = (0..3).map(|_| vec![plate_read("12345-ب-6", &[0.95; 7], None)]).collect();
        let out = drive(&AnalysisPolicy::default(), &reads, Some(&g));
        let mut store = EventStore::open_in_memory().unwrap();
        let bus = EventBus::new();
        let sub = bus.subscribe(10);
        let mut bus_sink = bus.clone();
        let src = Source { id: "cam1".into(), location: Some((33.57, -7.59)) };
        for o in &out {
            store.emit(&src, Utc::now(), o).unwrap();
            bus_sink.emit(&src, Utc::now(), o).unwrap();
        }
        assert_eq!(store.counts().unwrap().1, 1, "one hit stored");
        let got = sub.recv(Duration::from_millis(100)).expect("published");
        assert!(matches!(&*got, Event::PlateRead { source, hits, .. } if source == "cam1" && hits.len() == 1));
    }
}
