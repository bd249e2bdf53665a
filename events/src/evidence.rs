//! Evidence packages: one alert, everything an analyst hands on, in one ZIP file.
//!
//! A package holds `alert.json` (the alert as the console shows it, every operator action on it,
//! the read or the face sighting in full — time, place, box, confidence, frames voted — and the
//! watchlist entry as it stood when the hit was raised), `crop.jpg`, `frame.jpg` (plate hits
//! whose best shot was kept, as stored: with redaction on, other plates and faces are already
//! pixelated), `manifest.json` (who exported it, when, why, from which node; each file's size
//! and SHA-256) and `SHA256SUMS` (`sha256sum -c SHA256SUMS` checks the unpacked files).
//! The caller records the SHA-256 of the whole package in the hash-chained audit log, so a
//! package can later be shown to be the one exported.
//!
//! `zip` (already used by `raqib-models` to read model archives) writes the archive: a
//! well-kept crate, stored (not deflated) entries, since JPEGs do not compress.

use std::io::Write;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::alerts::{AlertId, AlertKind};
use crate::error::{Error, Result};
use crate::store::{EventStore, db_err, utc};

/// Who exports a package, and why (written into its manifest).
#[derive(Debug, Clone)]
pub struct ExportInfo {
    /// The node's name.
    pub node: String,
    /// The user exporting it.
    pub exported_by: String,
    /// Case reference or purpose (the one rule of [`raqib_core::Reason`]).
    pub reason: raqib_core::Reason,
    /// When.
    pub at: DateTime<Utc>,
}

/// A finished package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The ZIP file.
    pub zip: Vec<u8>,
    /// SHA-256 of `zip`, hex (for the audit log).
    pub sha256: String,
    /// Names of the files in it.
    pub files: Vec<String>,
}

impl Package {
    /// Writes the package to `out`, which must not exist (an export never overwrites a file):
    /// under a temporary name first, then renamed, so no half-written package has the real name.
    pub fn write_new(&self, out: &std::path::Path) -> Result<()> {
        let fail = |what: String| Error::Evidence(format!("{}: {what}", out.display()));
        if out.exists() {
            return Err(fail("exists already: choose another --out (an export never overwrites a file)".into()));
        }
        let partial = out.with_extension("zip.partial");
        std::fs::write(&partial, &self.zip).map_err(|e| fail(format!("writing {}: {e}", partial.display())))?;
        std::fs::rename(&partial, out).map_err(|e| fail(format!("moving {} into place: {e}", partial.display())))
    }
}

#[derive(Serialize)]
struct FileEntry<'a> {
    name: &'a str,
    bytes: usize,
    sha256: String,
}

/// The package's file name: `raqib-evidence-<node>-<alert>.zip`, the node's name reduced to
/// ASCII letters, digits, `-` and `_` (the rest become `_`).
pub fn file_name(node: &str, id: AlertId) -> String {
    let node: String =
        node.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("raqib-evidence-{node}-{id}.zip")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Exports alert `id`'s evidence package with its audit record, the one way the CLI and the API
/// do it: the package is built, then `alert.export` is written to the audit log (`audit`, the
/// watchlist database) with the package's SHA-256, its files and `destination`; when the audit
/// record cannot be written the package is not returned (no export without its record).
pub fn export_audited(
    events: &EventStore,
    audit: &raqib_watchlist::Store,
    id: AlertId,
    info: &ExportInfo,
    destination: Option<&str>,
) -> Result<Package> {
    let package = events.evidence_package(id, info)?;
    let mut detail = format!("sha256 {}; {}", package.sha256, package.files.join(", "));
    if let Some(to) = destination {
        detail.push_str(&format!("; to {to}"));
    }
    let actor = raqib_watchlist::Actor::new(&info.exported_by, Some(info.reason.as_str()));
    audit.audit(actor, "alert.export", Some(&id.to_string()), Some(&detail))?;
    Ok(package)
}

impl EventStore {
    /// The evidence package of alert `id`; `Err(NoAlert)` when there is no such alert.
    pub fn evidence_package(&self, id: AlertId, info: &ExportInfo) -> Result<Package> {
        let alert = self.alert(id)?.ok_or_else(|| Error::NoAlert(id.to_string()))?;
        let details = match id.kind {
            AlertKind::Plate => self.plate_hit_details(id.row)?,
            AlertKind::Face => self.face_hit_details(id.row)?,
        };
        let doc = json!({
            "alert": alert,
            "actions": self.alert_actions(id)?,
            "details": details,
        });
        let mut files: Vec<(&str, Vec<u8>)> = vec![("alert.json", pretty(&doc))];
        if let Some(crop) = self.alert_crop(id)? {
            files.push(("crop.jpg", crop));
        }
        if let Some(frame) = self.alert_frame(id)? {
            files.push(("frame.jpg", frame));
        }
        let entries: Vec<FileEntry<'_>> =
            files.iter().map(|(name, b)| FileEntry { name, bytes: b.len(), sha256: sha256_hex(b) }).collect();
        let sums: String = entries.iter().map(|f| format!("{}  {}\n", f.sha256, f.name)).collect();
        let manifest = json!({
            "format": "raqib-evidence/1",
            "node": info.node,
            "alert": id,
            "exported_at": info.at,
            "exported_by": info.exported_by,
            "reason": info.reason,
            "files": entries,
            "note": "frame.jpg is the whole frame as stored by the node (with snapshot redaction on, plates \
                     other than the hit's and every face are pixelated). Check the files with \
                     `sha256sum -c SHA256SUMS`; the SHA-256 of this ZIP is recorded in the node's audit log \
                     (action alert.export).",
        });
        files.push(("manifest.json", pretty(&manifest)));
        files.push(("SHA256SUMS", sums.into_bytes()));
        let zip = write_zip(&files, info.at).map_err(|e| Error::Evidence(format!("{id}: {e}")))?;
        Ok(Package { sha256: sha256_hex(&zip), files: files.iter().map(|(n, _)| (*n).to_owned()).collect(), zip })
    }

    /// The plate read behind hit `row` and the watchlist entry as it was when the hit was raised.
    fn plate_hit_details(&self, row: i64) -> Result<Value> {
        self.conn
            .query_row(
                "SELECT r.id, r.source, r.track, r.seen_at, r.media_time, r.plate, r.latin, r.key, r.format,
                        r.confidence, r.reads, r.x1, r.y1, r.x2, r.y2, r.lat, r.lon,
                        h.raised_at, h.kind, h.score, h.entry_json
                 FROM hits h JOIN plate_reads r ON r.id = h.read_id WHERE h.id = ?1",
                params![row],
                |r| {
                    let entry: String = r.get(20)?;
                    Ok(json!({
                        "read": {
                            "id": r.get::<_, i64>(0)?,
                            "camera": r.get::<_, String>(1)?,
                            "track": r.get::<_, i64>(2)?,
                            "seen_at": utc(&r.get::<_, String>(3)?),
                            "media_time_s": r.get::<_, Option<f64>>(4)?,
                            "plate": r.get::<_, String>(5)?,
                            "latin": r.get::<_, String>(6)?,
                            "key": r.get::<_, String>(7)?,
                            "format": r.get::<_, String>(8)?,
                            "confidence": r.get::<_, f64>(9)?,
                            "frames_voted": r.get::<_, i64>(10)?,
                            "box": {"x1": r.get::<_, f64>(11)?, "y1": r.get::<_, f64>(12)?,
                                    "x2": r.get::<_, f64>(13)?, "y2": r.get::<_, f64>(14)?},
                            "lat": r.get::<_, Option<f64>>(15)?,
                            "lon": r.get::<_, Option<f64>>(16)?,
                        },
                        "hit": {
                            "raised_at": utc(&r.get::<_, String>(17)?),
                            "match": r.get::<_, String>(18)?,
                            "score": r.get::<_, f64>(19)?,
                        },
                        "watchlist_entry": serde_json::from_str::<Value>(&entry).unwrap_or(Value::String(entry)),
                    }))
                },
            )
            .optional()
            .map_err(db_err(&self.path))?
            .ok_or_else(|| Error::NoAlert(format!("p{row}")))
    }

    /// The face sighting of face hit `row`.
    fn face_hit_details(&self, row: i64) -> Result<Value> {
        self.conn
            .query_row(
                "SELECT source, track, raised_at, media_time, person_id, name, category, priority, similarity,
                        x1, y1, x2, y2
                 FROM face_hits WHERE id = ?1",
                params![row],
                |r| {
                    Ok(json!({
                        "sighting": {
                            "camera": r.get::<_, String>(0)?,
                            "track": r.get::<_, i64>(1)?,
                            "raised_at": utc(&r.get::<_, String>(2)?),
                            "media_time_s": r.get::<_, Option<f64>>(3)?,
                            "similarity": r.get::<_, f64>(8)?,
                            "box": {"x1": r.get::<_, f64>(9)?, "y1": r.get::<_, f64>(10)?,
                                    "x2": r.get::<_, f64>(11)?, "y2": r.get::<_, f64>(12)?},
                        },
                        "person": {
                            "id": r.get::<_, i64>(4)?,
                            "name": r.get::<_, String>(5)?,
                            "category": r.get::<_, String>(6)?,
                            "priority": r.get::<_, String>(7)?,
                        },
                    }))
                },
            )
            .optional()
            .map_err(db_err(&self.path))?
            .ok_or_else(|| Error::NoAlert(format!("f{row}")))
    }
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A ZIP of `files`, stored uncompressed, dated `at` (UTC; ZIP times have no zone).
fn write_zip(files: &[(&str, Vec<u8>)], at: DateTime<Utc>) -> zip::result::ZipResult<Vec<u8>> {
    use chrono::{Datelike, Timelike};
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let date = u16::try_from(at.year()).ok().and_then(|year| {
        let small = |v: u32| u8::try_from(v).unwrap_or(0);
        zip::DateTime::from_date_and_time(
            year,
            small(at.month()),
            small(at.day()),
            small(at.hour()),
            small(at.minute()),
            small(at.second()),
        )
        .ok()
    });
    if let Some(date) = date {
        options = options.last_modified_time(date);
    }
    for (name, bytes) in files {
        w.start_file(*name, options)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::store::tests_support::{face_sighting, hit_for, plate_event};

    fn info() -> ExportInfo {
        ExportInfo {
            node: "gate".into(),
            exported_by: "amina".into(),
            reason: raqib_core::Reason::new("CASE-7").unwrap(),
            at: Utc::now(),
        }
    }

    fn unzip(zip: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        (0..a.len())
            .map(|i| {
                let mut f = a.by_index(i).unwrap();
                let mut b = Vec::new();
                f.read_to_end(&mut b).unwrap();
                (f.name().to_owned(), b)
            })
            .collect()
    }

    #[test]
    fn an_audited_export_records_who_why_the_hash_and_where() {
        let mut s = EventStore::open_in_memory().unwrap();
        s.record("gate", Utc::now(), &plate_event("12345-ب-6"), &[hit_for("12345-ب-6", "stolen_vehicle")]).unwrap();
        let id = s.alerts(&crate::alerts::AlertFilter { limit: 1, ..Default::default() }).unwrap()[0].id;
        let audit = raqib_watchlist::Store::open_in_memory().unwrap();
        let p = export_audited(&s, &audit, id, &info(), Some("case7.zip")).unwrap();
        let log = audit.audit_log(5).unwrap();
        let r = log.iter().find(|r| r.action == "alert.export").expect("the export is audited");
        assert_eq!((r.actor.as_str(), r.reason.as_deref()), ("amina", Some("CASE-7")));
        let detail = r.detail.as_deref().unwrap_or_default();
        assert!(detail.contains(&p.sha256) && detail.ends_with("; to case7.zip"), "{detail}");
        let missing = crate::alerts::AlertId { row: 99, ..id };
        assert!(matches!(export_audited(&s, &audit, missing, &info(), None), Err(Error::NoAlert(_))));
        assert_eq!(audit.audit_log(5).unwrap().iter().filter(|r| r.action == "alert.export").count(), 1);
    }

    #[test]
    fn a_plate_hit_package_holds_the_read_the_entry_the_images_and_their_hashes() {
        let mut s = EventStore::open_in_memory().unwrap();
        let event = plate_event("12345-ب-6");
        s.record_at("gate", Utc::now(), &event, &[hit_for("12345-ب-6", "stolen_vehicle")], Some((33.5, -7.6))).unwrap();
        let id = s.alerts_after(Default::default(), 10).unwrap()[0].id;
        s.act_on_alert(id, crate::alerts::AlertAction::Acknowledge, "omar", "patrol sent", None).unwrap();

        let p = s.evidence_package(id, &info()).unwrap();
        assert_eq!(p.sha256, sha256_hex(&p.zip));
        let files = unzip(&p.zip);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(names, ["SHA256SUMS", "alert.json", "crop.jpg", "frame.jpg", "manifest.json"]);

        let alert: Value = serde_json::from_slice(&files["alert.json"]).unwrap();
        assert_eq!(alert["alert"]["subject"], "12345-ب-6");
        assert_eq!(alert["details"]["read"]["camera"], "gate");
        assert_eq!(alert["details"]["read"]["lat"], 33.5);
        assert_eq!(alert["details"]["watchlist_entry"]["category"], "stolen_vehicle");
        assert_eq!(alert["actions"][0]["comment"], "patrol sent");
        assert_eq!(files["crop.jpg"], event.crop_jpeg);
        assert!(files["frame.jpg"].starts_with(&[0xff, 0xd8]), "frame.jpg is a JPEG");

        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        assert_eq!((manifest["reason"].as_str(), manifest["exported_by"].as_str()), (Some("CASE-7"), Some("amina")));
        // Every listed hash is the file's, in the manifest and in SHA256SUMS alike.
        let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
        for f in manifest["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            let hash = sha256_hex(&files[name]);
            assert_eq!(f["sha256"].as_str(), Some(hash.as_str()), "{name}");
            assert!(sums.contains(&format!("{hash}  {name}\n")), "{sums}");
        }
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        let id = AlertId { kind: AlertKind::Face, row: 3 };
        assert_eq!(file_name("gate-1_north", id), "raqib-evidence-gate-1_north-f3.zip");
        assert_eq!(file_name("../مدخل \"x\"", id), "raqib-evidence-_________x_-f3.zip");
    }

    #[test]
    fn a_face_hit_package_has_no_frame_and_an_unknown_alert_is_named() {
        let mut s = EventStore::open_in_memory().unwrap();
        s.record_face("door", Utc::now(), &face_sighting("Karim")).unwrap();
        let id = s.alerts_after(Default::default(), 10).unwrap()[0].id;
        let package = s.evidence_package(id, &info()).unwrap();
        let files = unzip(&package.zip);
        assert!(!files.contains_key("frame.jpg"));
        // Files are dated when exported, not 1980.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&package.zip)).unwrap();
        let year = archive.by_name("alert.json").unwrap().last_modified().map(|d| d.year());
        assert_eq!(year, u16::try_from(chrono::Datelike::year(&info().at)).ok());
        let alert: Value = serde_json::from_slice(&files["alert.json"]).unwrap();
        assert_eq!(alert["details"]["person"]["name"], "Karim");

        let missing = AlertId { kind: AlertKind::Plate, row: 99 };
        let err = s.evidence_package(missing, &info()).unwrap_err();
        assert!(matches!(err, Error::NoAlert(ref a) if a == "p99"), "{err}");
    }
}
