//! Scoring plate events against a generated scene's ground truth (`truth.json`).
//!
//! A ground-truth plate counts as read when an event has exactly its canonical text and
//! overlaps its time in view (±0.5 s). Hits are scored per event: a hit event is right when its
//! text is a listed plate's and the matched entry is that plate.

use raqib_events::records::FaceSighting;
use raqib_events::records::PlateEvent;
use raqib_samples::Truth;
use raqib_watchlist::PlateMatch;
use serde::Serialize;

/// Accuracy of one run against ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// Plates in the scene.
    pub plates: usize,
    /// Plates read exactly (one track's event with the right text).
    pub plates_read: usize,
    /// `plates_read / plates`.
    pub exact_read_rate: f64,
    /// Events whose text is no plate of the scene (misreads and non-plates).
    pub wrong_events: usize,
    /// Events in all.
    pub events: usize,
    /// Listed plates in the scene.
    pub listed: usize,
    /// Listed plates that raised a correct hit.
    pub listed_hit: usize,
    /// Hit events in all.
    pub hit_events: usize,
    /// Hit events that were right.
    pub right_hit_events: usize,
    /// `right_hit_events / hit_events` (1 when there was no hit).
    pub hit_precision: f64,
    /// `listed_hit / listed` (1 when nothing is listed).
    pub hit_recall: f64,
    /// Texts of the plates missed.
    pub missed: Vec<String>,
    /// Texts of the wrong events.
    pub wrong: Vec<String>,
    /// Faces, when a gallery was searched.
    pub faces: Option<FaceAccuracy>,
}

/// Face identification against ground truth. A listed pedestrian counts as identified when a
/// sighting of a person whose name starts with its identity overlaps its time in view (±0.5 s);
/// a sighting overlapping no listed pedestrian of that identity is a false identification.
#[derive(Debug, Clone, Serialize)]
pub struct FaceAccuracy {
    /// Pedestrians whose identity is on the persons list.
    pub listed: usize,
    /// Of those, identified.
    pub identified: usize,
    /// `identified / listed` (1 when none is listed).
    pub identification_rate: f64,
    /// Sightings in all.
    pub sightings: usize,
    /// Sightings that were nobody listed, or another person.
    pub false_identifications: usize,
}

/// Scores `events` (with their watchlist matches) of one video against `truth`.
pub fn score(truth: &Truth, events: &[(PlateEvent, Vec<PlateMatch>)], faces: Option<&[FaceSighting]>) -> Accuracy {
    let span = |first: u64, last: u64| (truth.time_of(first) - 0.5, truth.time_of(last) + 0.5);
    let overlaps = |e: &PlateEvent, (a, b): (f64, f64)| {
        let (s, t) = (e.first_seen_s.unwrap_or(0.0), e.last_seen_s.unwrap_or(f64::MAX));
        s <= b && t >= a
    };
    let mut plates_read = 0;
    let mut missed = Vec::new();
    let mut listed_hit = 0;
    for p in &truth.plates {
        let when = span(p.first_frame, p.last_frame);
        let read =
            events.iter().filter(|(e, _)| e.plate.canonical() == p.text && overlaps(e, when)).collect::<Vec<_>>();
        if read.is_empty() {
            missed.push(p.text.clone());
        } else {
            plates_read += 1;
        }
        if p.watchlist.is_some()
            && read.iter().any(|(_, hits)| hits.iter().any(|h| h.entry.plate.canonical() == p.text))
        {
            listed_hit += 1;
        }
    }
    let known = |text: &str| truth.plates.iter().any(|p| p.text == text);
    let wrong: Vec<String> = events
        .iter()
        .filter(|(e, _)| !known(e.plate.canonical()))
        .map(|(e, _)| e.plate.canonical().to_owned())
        .collect();
    let hit_events: Vec<_> = events.iter().filter(|(_, h)| !h.is_empty()).collect();
    let right_hit_events = hit_events
        .iter()
        .filter(|(e, hits)| {
            truth.plates.iter().any(|p| {
                p.watchlist.is_some()
                    && p.text == e.plate.canonical()
                    && hits.iter().any(|h| h.entry.plate.canonical() == p.text)
            })
        })
        .count();
    let listed = truth.plates.iter().filter(|p| p.watchlist.is_some()).count();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Accuracy {
        plates: truth.plates.len(),
        plates_read,
        exact_read_rate: ratio(plates_read, truth.plates.len()),
        wrong_events: wrong.len(),
        events: events.len(),
        listed,
        listed_hit,
        hit_events: hit_events.len(),
        right_hit_events,
        hit_precision: ratio(right_hit_events, hit_events.len()),
        hit_recall: ratio(listed_hit, listed),
        missed,
        wrong,
        faces: faces.map(|f| score_faces(truth, f)),
    }
}

fn score_faces(truth: &Truth, sightings: &[FaceSighting]) -> FaceAccuracy {
    let span = |first: u64, last: u64| (truth.time_of(first) - 0.5, truth.time_of(last) + 0.5);
    let during = |s: &FaceSighting, (a, b): (f64, f64)| {
        let (x, y) = (s.first_seen_s.unwrap_or(0.0), s.last_seen_s.unwrap_or(f64::MAX));
        x <= b && y >= a
    };
    let is = |s: &FaceSighting, identity: &str| s.name.starts_with(identity);
    let listed: Vec<_> = truth.faces.iter().filter(|f| f.watchlist).collect();
    let identified = listed
        .iter()
        .filter(|f| sightings.iter().any(|s| is(s, &f.identity) && during(s, span(f.first_frame, f.last_frame))))
        .count();
    let false_identifications = sightings
        .iter()
        .filter(|s| !listed.iter().any(|f| is(s, &f.identity) && during(s, span(f.first_frame, f.last_frame))))
        .count();
    FaceAccuracy {
        listed: listed.len(),
        identified,
        identification_rate: if listed.is_empty() { 1.0 } else { identified as f64 / listed.len() as f64 },
        sightings: sightings.len(),
        false_identifications,
    }
}
