//! Replays are idempotent: every outcome found in a recorded file is stored with an origin made
//! of the file's fingerprint and where in the file it was found ([`origin`]), and the events
//! store keeps one row per origin ([`EventStore::record_once`]). Re-running a replay that
//! crashed, was killed or was stopped half-way therefore adds only what the first run had not
//! stored; running it a third time adds nothing.
//!
//! The analysis is deterministic for a given file, models and `--every`, so the same vehicle
//! gets the same voted plate and best frame each time. The fingerprint reads the file's size,
//! its first and its last MiB (a copy or a rename of the same recording is the same
//! recording; an edited one is not), so it costs milliseconds even on an hour of video.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use chrono::{DateTime, Utc};
use raqib_events::EventStore;
use raqib_events::store::Recorded;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::stream::{Outcome, Source};

/// Bytes read at each end of the file.
const SAMPLE: u64 = 1 << 20;

/// The file's fingerprint: 16 hex digits of the SHA-256 of its size, first and last MiB.
pub fn fingerprint(path: &Path) -> Result<String> {
    let bad = |e: std::io::Error| Error::source(path.display().to_string(), format!("cannot read it: {e}"));
    let mut f = File::open(path).map_err(bad)?;
    let size = f.metadata().map_err(bad)?.len();
    let mut hash = Sha256::new();
    hash.update(size.to_le_bytes());
    let mut buf = Vec::with_capacity(SAMPLE as usize);
    f.by_ref().take(SAMPLE).read_to_end(&mut buf).map_err(bad)?;
    hash.update(&buf);
    if size > SAMPLE {
        buf.clear();
        f.seek(SeekFrom::Start(size.saturating_sub(SAMPLE).max(SAMPLE))).map_err(bad)?;
        f.take(SAMPLE).read_to_end(&mut buf).map_err(bad)?;
        hash.update(&buf);
    }
    let digest = hash.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// `<fingerprint>/plate/<match key>/<best frame>` or `<fingerprint>/face/<person>/<best frame>`:
/// one vehicle or one listed person's passage in that file.
pub fn origin(fingerprint: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Plate { read, .. } => format!("{fingerprint}/plate/{}/{}", read.plate.key(), read.best_frame),
        Outcome::Face(s) => format!("{fingerprint}/face/{}/{}", s.person_id, s.best_frame),
    }
}

/// Stores an outcome found in the file of fingerprint `fingerprint`, once.
pub fn record(
    store: &mut EventStore,
    fingerprint: &str,
    source: &Source,
    at: DateTime<Utc>,
    outcome: &Outcome,
) -> Result<Recorded> {
    let origin = origin(fingerprint, outcome);
    Ok(match outcome {
        Outcome::Plate { read, hits } => store.record_once(&origin, &source.id, at, read, hits, source.location)?,
        Outcome::Face(s) => store.record_face_once(&origin, &source.id, at, s)?,
    })
}

/// Records the outcomes of one replayed file, once each, and counts what could not be stored
/// (a full disk, a store locked too long): the replay fails when anything was lost.
pub struct FileRecorder<'a> {
    store: &'a mut EventStore,
    fingerprint: String,
    /// What recording did so far.
    pub tally: RecordTally,
}

/// What a [`FileRecorder`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordTally {
    /// Plate reads that could not be stored.
    pub lost_reads: usize,
    /// Face sightings that could not be stored.
    pub lost_faces: usize,
    /// Of those, hits.
    pub lost_hits: usize,
    /// Outcomes an earlier replay of the same file had stored already.
    pub already_stored: usize,
}

impl<'a> FileRecorder<'a> {
    /// A recorder of `path`'s outcomes into `store`; fails when the file cannot be read.
    pub fn new(store: &'a mut EventStore, path: &Path) -> Result<Self> {
        Ok(FileRecorder { fingerprint: fingerprint(path)?, store, tally: RecordTally::default() })
    }

    /// Stores `outcome` once; a failure is logged and counted.
    pub fn record(&mut self, source: &Source, at: DateTime<Utc>, outcome: &Outcome) {
        match record(self.store, &self.fingerprint, source, at, outcome) {
            Ok(Recorded::AlreadyStored(_)) => self.tally.already_stored += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(source = %source.id, error = %e, "an outcome could not be stored");
                let plate = matches!(outcome, Outcome::Plate { .. });
                self.tally.lost_reads += usize::from(plate);
                self.tally.lost_faces += usize::from(!plate);
                self.tally.lost_hits += usize::from(outcome.is_hit());
            }
        }
    }
}

impl RecordTally {
    /// `NOT STORED in DB: N plate read(s) and N face sighting(s), N of them hit(s)`, when any was lost.
    pub fn lost(&self, db: &Path) -> Option<String> {
        (self.lost_reads + self.lost_faces > 0).then(|| {
            format!(
                "NOT STORED in {}: {} plate read(s) and {} face sighting(s), {} of them hit(s)",
                db.display(),
                self.lost_reads,
                self.lost_faces,
                self.lost_hits
            )
        })
    }

    /// `N read(s)/sighting(s) were stored by an earlier replay …`, when any was.
    pub fn again(&self) -> Option<String> {
        (self.already_stored > 0).then(|| {
            format!(
                "{} read(s)/sighting(s) were stored by an earlier replay of this file and were not stored again",
                self.already_stored
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_follows_the_content_not_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a.mp4"), dir.path().join("b.mp4"), dir.path().join("c.mp4"));
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, &data).unwrap();
        let mut edited = data.clone();
        *edited.last_mut().unwrap() ^= 1;
        std::fs::write(&c, &edited).unwrap();
        let fa = fingerprint(&a).unwrap();
        assert_eq!(fa.len(), 16);
        assert_eq!(fa, fingerprint(&b).unwrap(), "a copy is the same recording");
        assert_ne!(fa, fingerprint(&c).unwrap(), "a change at the end is another recording");
        let small = dir.path().join("small");
        std::fs::write(&small, b"tiny").unwrap();
        assert_ne!(fingerprint(&small).unwrap(), fa);
        let missing = fingerprint(&dir.path().join("nope.mp4")).unwrap_err().to_string();
        assert!(missing.contains("nope.mp4") && missing.contains("cannot read it"), "{missing}");
    }
}
