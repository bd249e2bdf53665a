//! Import and export of plate entries as CSV or JSON.
//!
//! Both formats carry the fields of [`NewPlateEntry`] (CSV: one column each, header required),
//! so an export imports back unchanged. Every row is checked before anything is written; in
//! [`ImportMode::Atomic`] one bad row rejects the file and the database is untouched, in
//! [`ImportMode::SkipInvalid`] the good rows are written and each rejected row is reported by
//! number. Either way the write is one transaction: a crash mid-import leaves nothing half-done.

use std::io::{Read, Write};

use serde::Serialize;

use crate::audit::record;
use crate::entry::{NewPlateEntry, PlateEntry};
use crate::error::{Error, Result, RowError};
use crate::store::{Actor, PreparedPlate, Store};

/// File format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, header row with field names.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// Guesses from a file name's extension.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// What to do with invalid rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Any invalid row: write nothing.
    Atomic,
    /// Write valid rows, report the others.
    SkipInvalid,
}

/// Outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows that created an entry.
    pub added: usize,
    /// Rows that updated an existing entry (same plate, same category).
    pub updated: usize,
    /// Rows rejected, with why.
    pub rejected: Vec<RowError>,
}

/// Column names, in export order.
pub const COLUMNS: &[&str] = &[
    "plate",
    "country",
    "category",
    "priority",
    "case_ref",
    "issuing_unit",
    "vehicle_make",
    "vehicle_colour",
    "valid_from",
    "expires_at",
    "notes",
    "days",
    "hours",
    "cameras",
    "area",
    "covert_list",
];

/// Reads rows: each with its row number, parsed or the reason it could not be.
fn read_rows(input: impl Read, format: Format) -> Result<Vec<(usize, std::result::Result<NewPlateEntry, String>)>> {
    match format {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(input);
            let headers =
                rdr.headers().map_err(|e| Error::ImportRejected(vec![RowError { row: 1, message: e.to_string() }]))?;
            let unknown: Vec<&str> = headers.iter().filter(|h| !COLUMNS.contains(h)).collect();
            let missing: Vec<&&str> =
                ["plate", "category"].iter().filter(|c| !headers.iter().any(|h| h == **c)).collect();
            if !unknown.is_empty() || !missing.is_empty() {
                let message = format!(
                    "header: unknown column(s) {unknown:?}, missing required {missing:?}; columns are {}",
                    COLUMNS.join(",")
                );
                return Err(Error::ImportRejected(vec![RowError { row: 1, message }]));
            }
            let headers = headers.clone();
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let row = i + 2;
                match rec {
                    Ok(rec) => {
                        let row = rec.position().map(|p| p.line() as usize).unwrap_or(row);
                        rows.push((row, rec.deserialize::<NewPlateEntry>(Some(&headers)).map_err(|e| e.to_string())));
                    }
                    Err(e) => rows.push((row, Err(e.to_string()))),
                }
            }
            Ok(rows)
        }
        Format::Json => {
            let values: Vec<serde_json::Value> = serde_json::from_reader(input).map_err(|e| {
                Error::ImportRejected(vec![RowError { row: 0, message: format!("not a JSON array: {e}") }])
            })?;
            Ok(values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, serde_json::from_value::<NewPlateEntry>(v).map_err(|e| e.to_string())))
                .collect())
        }
    }
}

impl Store {
    /// Imports plate entries from `input`; `source` names the file in the audit log.
    pub fn import_plates(
        &mut self,
        input: impl Read,
        format: Format,
        mode: ImportMode,
        source: &str,
        actor: Actor,
    ) -> Result<ImportReport> {
        let rows = read_rows(input, format)?;
        let tx = self.conn.transaction()?;
        let mut prepared = Vec::with_capacity(rows.len());
        let mut report = ImportReport::default();
        for (row, parsed) in rows {
            match parsed.and_then(|new| PreparedPlate::prepare(&tx, &new).map_err(|e| e.to_string())) {
                Ok(p) => prepared.push(p),
                Err(message) => report.rejected.push(RowError { row, message }),
            }
        }
        if mode == ImportMode::Atomic && !report.rejected.is_empty() {
            return Err(Error::ImportRejected(report.rejected));
        }
        for p in &prepared {
            let (_, created) = crate::store::upsert_plate(&tx, p)?;
            if created {
                report.added += 1;
            } else {
                report.updated += 1;
            }
        }
        let detail = format!("added {}, updated {}, rejected {}", report.added, report.updated, report.rejected.len());
        record(&tx, actor, "import", Some(source), Some(&detail))?;
        tx.commit()?;
        Ok(report)
    }

    /// Writes every plate entry to `out`; the export is audited with `target` (file name).
    pub fn export_plates(&self, out: impl Write, format: Format, target: &str, actor: Actor) -> Result<usize> {
        require_reason(&actor, "an export (--reason)")?;
        let plates = self.plates()?;
        let rows: Vec<NewPlateEntry> = plates.iter().map(to_row).collect();
        let io = |e: std::io::Error| Error::Io { action: "writing", path: target.into(), source: e };
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                for r in &rows {
                    w.serialize(spreadsheet_safe_row(r)).map_err(|e| io(std::io::Error::other(e)))?;
                }
                w.flush().map_err(io)?;
            }
            Format::Json => {
                let mut out = out;
                serde_json::to_writer_pretty(&mut out, &rows).map_err(|e| io(std::io::Error::other(e)))?;
                out.write_all(b"\n").map_err(io)?;
            }
        }
        record(&self.conn, actor, "export", Some(target), Some(&format!("{} plate entries", rows.len())))?;
        Ok(rows.len())
    }
}

/// The row with every text cell made safe to open in a spreadsheet (a formula becomes text).
fn spreadsheet_safe_row(r: &NewPlateEntry) -> NewPlateEntry {
    let s = |v: &str| raqib_core::spreadsheet::spreadsheet_safe(v).into_owned();
    let o = |v: &Option<String>| v.as_deref().map(s);
    NewPlateEntry {
        plate: s(&r.plate),
        country: o(&r.country),
        category: s(&r.category),
        priority: o(&r.priority),
        case_ref: o(&r.case_ref),
        issuing_unit: o(&r.issuing_unit),
        vehicle_make: o(&r.vehicle_make),
        vehicle_colour: o(&r.vehicle_colour),
        valid_from: o(&r.valid_from),
        expires_at: o(&r.expires_at),
        notes: o(&r.notes),
        days: o(&r.days),
        hours: o(&r.hours),
        cameras: o(&r.cameras),
        area: o(&r.area),
        covert_list: o(&r.covert_list),
    }
}

fn to_row(e: &PlateEntry) -> NewPlateEntry {
    let t = |v: Option<chrono::DateTime<chrono::Utc>>| v.map(|t| t.to_rfc3339());
    NewPlateEntry {
        plate: e.plate.canonical().to_owned(),
        country: e.country.clone(),
        category: e.category.clone(),
        priority: Some(e.priority.as_str().to_owned()),
        case_ref: e.case_ref.clone(),
        issuing_unit: e.issuing_unit.clone(),
        vehicle_make: e.vehicle_make.clone(),
        vehicle_colour: e.vehicle_colour.clone(),
        valid_from: t(e.valid_from),
        expires_at: t(e.expires_at),
        notes: e.notes.clone(),
        days: e.scope.days.clone(),
        hours: e.scope.hours.clone(),
        cameras: (!e.scope.cameras.is_empty()).then(|| e.scope.cameras.join(",")),
        area: e.scope.area.clone(),
        covert_list: e.scope.covert_list.clone(),
    }
}

/// Exports and removals copy or delete personal data: they need a reason (case reference) for
/// the audit, under the one rule of [`raqib_core::Reason`].
pub(crate) fn require_reason(actor: &Actor, what: &'static str) -> Result<()> {
    raqib_core::Reason::required(actor.reason).map(|_| ()).map_err(|_| Error::ReasonRequired(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "plate,category,priority,case_ref,expires_at\n\
        12345-B-6,stolen_vehicle,high,C-1,2099-01-01\n\
        AB-123-CD,wanted_owner,,C-2,\n";

    #[test]
    fn a_csv_export_carries_no_spreadsheet_formula() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", Some("bulk load"));
        let evil =
            "plate,category,notes,case_ref\nAB-123-CD,bolo,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",@SUM(A1)\n";
        s.import_plates(evil.as_bytes(), Format::Csv, ImportMode::Atomic, "evil.csv", a).unwrap();
        let mut out = Vec::new();
        s.export_plates(&mut out, Format::Csv, "out.csv", a).unwrap();
        let mut rdr = csv::Reader::from_reader(&out[..]);
        for row in rdr.records() {
            for cell in row.unwrap().iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "formula cell `{cell}` exported");
            }
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=HYPERLINK") && text.contains("'@SUM(A1)"), "{text}");
        // JSON keeps the text as entered (no spreadsheet opens it).
        let mut json = Vec::new();
        s.export_plates(&mut json, Format::Json, "out.json", a).unwrap();
        assert!(String::from_utf8(json).unwrap().contains("\"@SUM(A1)\""));
    }

    #[test]
    fn csv_import_then_export_round_trips() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(matches!(
            Store::open_in_memory().unwrap().export_plates(Vec::new(), Format::Csv, "x", Actor::new("t", None)),
            Err(Error::ReasonRequired(_))
        ));
        let a = Actor::new("t", Some("bulk load"));
        let r = s.import_plates(GOOD.as_bytes(), Format::Csv, ImportMode::Atomic, "good.csv", a).unwrap();
        assert_eq!((r.added, r.updated, r.rejected.len()), (2, 0, 0));
        let mut csv_out = Vec::new();
        assert_eq!(s.export_plates(&mut csv_out, Format::Csv, "out.csv", a).unwrap(), 2);
        let mut json_out = Vec::new();
        s.export_plates(&mut json_out, Format::Json, "out.json", a).unwrap();

        let mut s2 = Store::open_in_memory().unwrap();
        let r2 = s2.import_plates(&csv_out[..], Format::Csv, ImportMode::Atomic, "out.csv", a).unwrap();
        assert_eq!(r2.added, 2);
        let mut s3 = Store::open_in_memory().unwrap();
        s3.import_plates(&json_out[..], Format::Json, ImportMode::Atomic, "out.json", a).unwrap();
        for other in [&s2, &s3] {
            let (x, y) = (s.plates().unwrap(), other.plates().unwrap());
            assert_eq!(x.len(), y.len());
            for (p, q) in x.iter().zip(&y) {
                assert_eq!(
                    (&p.plate, &p.category, p.priority, &p.expires_at),
                    (&q.plate, &q.category, q.priority, &q.expires_at)
                );
            }
        }
        assert_eq!(s.audit_log(5).unwrap()[0].action, "export");
    }

    #[test]
    fn malformed_rows_leave_the_database_unchanged() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", None);
        s.import_plates(GOOD.as_bytes(), Format::Csv, ImportMode::Atomic, "good.csv", a).unwrap();
        let before = (s.plates().unwrap(), s.revision().unwrap());
        let bad = "plate,category,priority\nXY-999-ZZ,bolo,low\n,bolo,low\n77-ب-1,stolen,high\nAA-111-AA,bolo,urgent\n";
        let err = s.import_plates(bad.as_bytes(), Format::Csv, ImportMode::Atomic, "bad.csv", a).unwrap_err();
        let Error::ImportRejected(rows) = err else { panic!("{err}") };
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [3, 4, 5]);
        assert!(rows[0].message.starts_with("plate:"), "{}", rows[0]);
        assert!(rows[1].message.starts_with("category:"), "{}", rows[1]);
        assert!(rows[2].message.starts_with("priority:"), "{}", rows[2]);
        assert_eq!((s.plates().unwrap(), s.revision().unwrap()), before);

        let r = s.import_plates(bad.as_bytes(), Format::Csv, ImportMode::SkipInvalid, "bad.csv", a).unwrap();
        assert_eq!((r.added, r.rejected.len()), (1, 3));
        assert_eq!(s.plates().unwrap().len(), 3);
    }

    #[test]
    fn bad_header_and_bad_json_are_rejected_whole() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", None);
        let e =
            s.import_plates("plate,categry\nAB,bolo\n".as_bytes(), Format::Csv, ImportMode::SkipInvalid, "h.csv", a);
        assert!(e.unwrap_err().to_string().contains("categry"));
        let e = s.import_plates("{\"plate\": 1".as_bytes(), Format::Json, ImportMode::SkipInvalid, "x.json", a);
        assert!(e.unwrap_err().to_string().contains("not a JSON array"));
        let e = s.import_plates(
            "[{\"plate\":\"AB1\",\"category\":\"bolo\",\"colour\":\"red\"}]".as_bytes(),
            Format::Json,
            ImportMode::Atomic,
            "x.json",
            a,
        );
        assert!(e.unwrap_err().to_string().contains("row 1: unknown field `colour`"));
        assert_eq!(s.revision().unwrap(), 0);
    }
}
