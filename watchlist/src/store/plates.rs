//! Plate entries in the store.

use chrono::{DateTime, Utc};
use raqib_core::PlateText;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Actor, Store, category_priority, from_ts, now_ts, to_ts};
use crate::audit::record;
use crate::entry::{NewPlateEntry, PlateEntry, Priority, parse_time};
use crate::error::{Error, Result};

/// A [`NewPlateEntry`] whose every field has been checked and converted.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedPlate {
    pub(crate) plate: PlateText,
    pub(crate) original: String,
    pub(crate) country: Option<String>,
    pub(crate) category: String,
    pub(crate) priority: Priority,
    pub(crate) case_ref: Option<String>,
    pub(crate) issuing_unit: Option<String>,
    pub(crate) vehicle_make: Option<String>,
    pub(crate) vehicle_colour: Option<String>,
    pub(crate) valid_from: Option<DateTime<Utc>>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) notes: Option<String>,
    pub(crate) scope: crate::scope::Scope,
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl PreparedPlate {
    /// Checks every field; errors name the field.
    pub(crate) fn prepare(conn: &Connection, new: &NewPlateEntry) -> Result<Self> {
        let country = clean(&new.country).map(|c| c.to_ascii_uppercase());
        if let Some(c) = &country
            && (c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
        {
            return Err(Error::invalid("country", format!("`{c}` is not a two-letter ISO code")));
        }
        let plate =
            PlateText::parse(&new.plate, country.as_deref()).map_err(|e| Error::invalid("plate", e.to_string()))?;
        let category = new.category.trim().to_owned();
        let default_priority = category_priority(conn, &category)?;
        let priority = match clean(&new.priority) {
            Some(p) => Priority::parse(&p)?,
            None => default_priority,
        };
        let valid_from = parse_time("valid_from", new.valid_from.as_deref())?;
        let expires_at = parse_time("expires_at", new.expires_at.as_deref())?;
        if let (Some(f), Some(u)) = (valid_from, expires_at)
            && u <= f
        {
            return Err(Error::invalid("expires_at", "must be after valid_from"));
        }
        Ok(PreparedPlate {
            country: country.or_else(|| plate.country().map(str::to_owned)),
            plate,
            original: new.plate.trim().to_owned(),
            category,
            priority,
            case_ref: clean(&new.case_ref),
            issuing_unit: clean(&new.issuing_unit),
            vehicle_make: clean(&new.vehicle_make),
            vehicle_colour: clean(&new.vehicle_colour),
            valid_from,
            expires_at,
            notes: clean(&new.notes),
            scope: new.scope()?,
        })
    }
}

/// Inserts or, when the same plate is already in the same category, updates. Returns the id and
/// whether a row was created.
pub(crate) fn upsert(conn: &Connection, p: &PreparedPlate) -> Result<(i64, bool)> {
    let existing: Option<i64> = conn
        .query_row(
            "SELECT id FROM plate_entries WHERE plate_key = ?1 AND category = ?2",
            params![p.plate.key(), p.category],
            |r| r.get(0),
        )
        .optional()?;
    let now = now_ts();
    let fields = params![
        p.plate.key(),
        p.plate.canonical(),
        format!("{:?}", p.plate.format()),
        p.original,
        p.country,
        p.category,
        p.priority as i64,
        p.case_ref,
        p.issuing_unit,
        p.vehicle_make,
        p.vehicle_colour,
        to_ts(p.valid_from),
        to_ts(p.expires_at),
        p.notes,
        now,
        (!p.scope.is_empty()).then(|| serde_json::to_string(&p.scope).unwrap_or_default()),
    ];
    match existing {
        Some(id) => {
            conn.execute(
                "UPDATE plate_entries SET plate_key=?1, plate_canonical=?2, plate_format=?3, original=?4, country=?5,
                 category=?6, priority=?7, case_ref=?8, issuing_unit=?9, vehicle_make=?10, vehicle_colour=?11,
                 valid_from=?12, expires_at=?13, notes=?14, updated_at=?15, scope=?16 WHERE id = ?17",
                rusqlite::params_from_iter(fields.iter().copied().chain([&id as &dyn rusqlite::ToSql])),
            )?;
            Ok((id, false))
        }
        None => {
            conn.execute(
                "INSERT INTO plate_entries (plate_key, plate_canonical, plate_format, original, country, category,
                 priority, case_ref, issuing_unit, vehicle_make, vehicle_colour, valid_from, expires_at, notes,
                 created_at, updated_at, scope) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?15,?16)",
                fields,
            )?;
            Ok((conn.last_insert_rowid(), true))
        }
    }
}

const SELECT: &str = "SELECT id, plate_canonical, original, country, category, priority, case_ref, issuing_unit,
    vehicle_make, vehicle_colour, valid_from, expires_at, notes, person_id, scope FROM plate_entries";

fn from_row(r: &Row) -> rusqlite::Result<PlateEntry> {
    let canonical: String = r.get(1)?;
    let country: Option<String> = r.get(3)?;
    let plate = PlateText::parse(&canonical, country.as_deref())
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
    Ok(PlateEntry {
        id: r.get(0)?,
        plate,
        original: r.get(2)?,
        country,
        category: r.get(4)?,
        priority: Priority::from_i64(r.get(5)?).unwrap_or(Priority::Low),
        case_ref: r.get(6)?,
        issuing_unit: r.get(7)?,
        vehicle_make: r.get(8)?,
        vehicle_colour: r.get(9)?,
        valid_from: from_ts(r.get(10)?),
        expires_at: from_ts(r.get(11)?),
        notes: r.get(12)?,
        person_id: r.get(13)?,
        // A scope that no longer reads restricts nothing (the entry keeps alerting).
        scope: r.get::<_, Option<String>>(14)?.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
    })
}

impl Store {
    /// Adds a plate (or updates the entry for the same plate in the same category).
    pub fn add_plate(&mut self, new: &NewPlateEntry, actor: Actor) -> Result<PlateEntry> {
        let tx = self.conn.transaction()?;
        let prepared = PreparedPlate::prepare(&tx, new)?;
        let (id, created) = upsert(&tx, &prepared)?;
        let action = if created { "plate.add" } else { "plate.update" };
        record(&tx, actor, action, Some(&format!("plate:{id}")), Some(prepared.plate.canonical()))?;
        tx.commit()?;
        self.plate(id)
    }

    /// Removes a plate entry.
    pub fn remove_plate(&mut self, id: i64, actor: Actor) -> Result<PlateEntry> {
        crate::transfer::require_reason(&actor, "removing a plate entry")?;
        let entry = self.plate(id)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM plate_entries WHERE id = ?1", [id])?;
        record(&tx, actor, "plate.remove", Some(&format!("plate:{id}")), Some(entry.plate.canonical()))?;
        tx.commit()?;
        Ok(entry)
    }

    /// One plate entry.
    pub fn plate(&self, id: i64) -> Result<PlateEntry> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
            .optional()?
            .ok_or(Error::NotFound { kind: "plate entry", id })
    }

    /// Every plate entry, expired ones included, by id.
    pub fn plates(&self) -> Result<Vec<PlateEntry>> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Links a plate to a person (a missing-child alert naming both the child and a vehicle).
    pub fn link_plate_to_person(&mut self, plate_id: i64, person_id: Option<i64>, actor: Actor) -> Result<()> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("UPDATE plate_entries SET person_id = ?2 WHERE id = ?1", params![plate_id, person_id])?;
        if n == 0 {
            return Err(Error::NotFound { kind: "plate entry", id: plate_id });
        }
        let detail = person_id.map(|p| format!("person:{p}"));
        record(&tx, actor, "plate.link", Some(&format!("plate:{plate_id}")), detail.as_deref())?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(plate: &str, category: &str) -> NewPlateEntry {
        NewPlateEntry { plate: plate.into(), category: category.into(), ..Default::default() }
    }

    #[test]
    fn add_canonicalises_and_audits() {
        let mut s = Store::open_in_memory().unwrap();
        let actor = Actor::new("officer-7", Some("case 2026/114"));
        let e = s.add_plate(&new("12345 B 6", "stolen_vehicle"), actor).unwrap();
        assert_eq!(e.plate.canonical(), "12345-ب-6");
        assert_eq!(e.country.as_deref(), Some("MA"));
        assert_eq!(e.priority, Priority::High);
        assert_eq!(s.revision().unwrap(), 1);
        // Same plate, same category, other spelling: an update, not a duplicate.
        let again = s.add_plate(&new("12345-ب-6", "stolen_vehicle"), actor).unwrap();
        assert_eq!(again.id, e.id);
        assert_eq!(s.plates().unwrap().len(), 1);
        let log = s.audit_log(10).unwrap();
        assert_eq!(log[0].action, "plate.update");
        assert_eq!(log[1].action, "plate.add");
        assert_eq!(log[1].reason.as_deref(), Some("case 2026/114"));
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", None);
        let err = |n: NewPlateEntry, s: &mut Store| s.add_plate(&n, a).unwrap_err().to_string();
        assert!(err(new("", "bolo"), &mut s).starts_with("plate:"));
        assert!(err(new("AB123CD", "stolen"), &mut s).starts_with("category:"));
        let mut n = new("AB123CD", "bolo");
        n.expires_at = Some("tomorrow".into());
        assert!(err(n, &mut s).starts_with("expires_at:"));
        let mut n = new("AB123CD", "bolo");
        n.country = Some("FRA".into());
        assert!(err(n, &mut s).starts_with("country:"));
        assert_eq!(s.revision().unwrap(), 0, "nothing written");
    }

    #[test]
    fn remove_and_not_found() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Actor::new("t", Some("entry withdrawn"));
        let e = s.add_plate(&new("AB-123-CD", "bolo"), a).unwrap();
        assert!(matches!(s.remove_plate(e.id, Actor::new("t", None)), Err(Error::ReasonRequired(_))));
        s.remove_plate(e.id, a).unwrap();
        assert!(matches!(s.plate(e.id), Err(Error::NotFound { .. })));
        assert!(matches!(s.remove_plate(e.id, a), Err(Error::NotFound { .. })));
    }
}
