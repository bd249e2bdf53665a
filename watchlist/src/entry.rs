//! Watchlist entries: plates and persons, their categories and priorities.

use chrono::{DateTime, NaiveDate, Utc};
use raqib_core::PlateText;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How urgently a hit must be handled; decides the alert level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Life at risk (missing child): alert everyone at once.
    Critical = 1,
    /// Act now (stolen vehicle, wanted person).
    High = 2,
    /// Act when possible (owner under warrant).
    Medium = 3,
    /// For information (be-on-the-lookout).
    Low = 4,
}

impl Priority {
    /// From the stored integer.
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            1 => Some(Priority::Critical),
            2 => Some(Priority::High),
            3 => Some(Priority::Medium),
            4 => Some(Priority::Low),
            _ => None,
        }
    }

    /// Parses `critical|high|medium|low` or `1`–`4`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "1" => Ok(Priority::Critical),
            "high" | "2" => Ok(Priority::High),
            "medium" | "3" => Ok(Priority::Medium),
            "low" | "4" => Ok(Priority::Low),
            other => Err(Error::invalid("priority", format!("`{other}` is not critical, high, medium or low"))),
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// Categories every store starts with, and their default priority. More can be added.
pub const BUILTIN_CATEGORIES: &[(&str, Priority, &str)] = &[
    ("stolen_vehicle", Priority::High, "vehicle reported stolen"),
    ("wanted_owner", Priority::Medium, "vehicle whose owner is under a search warrant"),
    ("missing_child", Priority::Critical, "vehicle or person linked to a missing-child alert"),
    ("wanted_person", Priority::High, "person under an arrest or search warrant"),
    ("bolo", Priority::Low, "be on the lookout"),
];

/// Checks a category name's spelling (lowercase letters, digits, `_`).
pub fn validate_category_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(Error::invalid("category", format!("`{name}` must be lowercase letters, digits or `_`")));
    }
    Ok(())
}

/// Checks a covert list's name (lowercase letters, digits, `_`, `-`; at most 40).
pub fn validate_list_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 40
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(Error::invalid(
            "covert_list",
            format!("`{name}` must be 1–40 lowercase letters, digits, `_` or `-`"),
        ));
    }
    Ok(())
}

/// A plate on a watchlist, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateEntry {
    /// Row id.
    pub id: i64,
    /// Canonical plate.
    pub plate: PlateText,
    /// Text as it was entered.
    pub original: String,
    /// ISO country code given or implied.
    pub country: Option<String>,
    /// Category name.
    pub category: String,
    /// Alert level.
    pub priority: Priority,
    /// Case reference.
    pub case_ref: Option<String>,
    /// Unit that issued the entry.
    pub issuing_unit: Option<String>,
    /// Vehicle make/model.
    pub vehicle_make: Option<String>,
    /// Vehicle colour.
    pub vehicle_colour: Option<String>,
    /// Active from (None: immediately).
    pub valid_from: Option<DateTime<Utc>>,
    /// Never matches from this instant on (None: until removed).
    pub expires_at: Option<DateTime<Utc>>,
    /// Free text for the operator.
    pub notes: Option<String>,
    /// Person linked to this plate (missing-child alert, wanted owner).
    pub person_id: Option<i64>,
    /// Days, hours, cameras, area it alerts in, and its covert list ([`crate::scope`]).
    #[serde(default, skip_serializing_if = "crate::scope::Scope::is_empty")]
    pub scope: crate::scope::Scope,
}

impl PlateEntry {
    /// Whether the entry may match at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        is_active(self.valid_from, self.expires_at, now)
    }

    /// One line for a listing: `#7 12345-ب-6 [12345-B-6] stolen_vehicle high case C-1 expires
    /// 2027-01-31`, with ` (inactive)` when it cannot match at `now`.
    pub fn summary(&self, now: DateTime<Utc>) -> String {
        let mut s = format!(
            "#{} {} [{}] {} {}",
            self.id,
            self.plate,
            self.plate.latin_alias(),
            self.category,
            self.priority.as_str()
        );
        if let Some(c) = &self.case_ref {
            s.push_str(&format!(" case {c}"));
        }
        if let Some(t) = self.expires_at {
            s.push_str(&format!(" expires {}", t.format("%Y-%m-%d")));
        }
        if !self.is_active(now) {
            s.push_str(" (inactive)");
        }
        s
    }
}

pub(crate) fn is_active(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
}

/// What is needed to add a plate entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlateEntry {
    /// Plate as written (any spelling; canonicalised on insert).
    pub plate: String,
    /// ISO country hint.
    #[serde(default)]
    pub country: Option<String>,
    /// Category name.
    pub category: String,
    /// Alert level; the category's default when absent.
    #[serde(default)]
    pub priority: Option<String>,
    /// Case reference.
    #[serde(default)]
    pub case_ref: Option<String>,
    /// Issuing unit.
    #[serde(default)]
    pub issuing_unit: Option<String>,
    /// Vehicle make/model.
    #[serde(default)]
    pub vehicle_make: Option<String>,
    /// Vehicle colour.
    #[serde(default)]
    pub vehicle_colour: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD` (start of that day, UTC) or RFC 3339.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
    /// Days it alerts on: `mon-fri`, `sat,sun` (empty: every day).
    #[serde(default)]
    pub days: Option<String>,
    /// Local hours it alerts in: `07:00-19:00`, `22:00-06:00` (empty: all day).
    #[serde(default)]
    pub hours: Option<String>,
    /// Camera ids it alerts on, comma-separated (empty: every camera).
    #[serde(default)]
    pub cameras: Option<String>,
    /// A circle it alerts in: `lat,lon,radius_m`.
    #[serde(default)]
    pub area: Option<String>,
    /// Covert list: its alerts are shown only to users given this list.
    #[serde(default)]
    pub covert_list: Option<String>,
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp; empty is `None`.
pub fn parse_time(field: &'static str, s: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    Err(Error::invalid(field, format!("`{s}` is not YYYY-MM-DD or an RFC 3339 time")))
}

/// A person on a watchlist, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Row id.
    pub id: i64,
    /// Name or identifier shown to operators.
    pub name: String,
    /// Category name (`wanted_person`, `missing_child`, …).
    pub category: String,
    /// Alert level.
    pub priority: Priority,
    /// Case reference.
    pub case_ref: Option<String>,
    /// Active from.
    pub valid_from: Option<DateTime<Utc>>,
    /// Never matches from this instant on.
    pub expires_at: Option<DateTime<Utc>>,
    /// Free text.
    pub notes: Option<String>,
    /// Days, hours, cameras, area it alerts in, and its covert list ([`crate::scope`]), as for
    /// plate entries.
    #[serde(default, skip_serializing_if = "crate::scope::Scope::is_empty")]
    pub scope: crate::scope::Scope,
}

impl Person {
    /// Whether the person may match at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        is_active(self.valid_from, self.expires_at, now)
    }

    /// `#3 Name category priority`.
    pub fn summary(&self) -> String {
        format!("#{} {} {} {}", self.id, self.name, self.category, self.priority.as_str())
    }
}

/// What is needed to add a person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Name or identifier.
    pub name: String,
    /// Category name.
    pub category: String,
    /// Alert level; the category's default when absent.
    #[serde(default)]
    pub priority: Option<String>,
    /// Case reference.
    #[serde(default)]
    pub case_ref: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
    /// Days it alerts on: `mon-fri`, `sat,sun` (empty: every day).
    #[serde(default)]
    pub days: Option<String>,
    /// Local hours it alerts in: `07:00-19:00` (empty: all day).
    #[serde(default)]
    pub hours: Option<String>,
    /// Camera ids it alerts on, comma-separated (empty: every camera).
    #[serde(default)]
    pub cameras: Option<String>,
    /// A circle it alerts in: `lat,lon,radius_m`.
    #[serde(default)]
    pub area: Option<String>,
    /// Covert list: its alerts are shown only to users given this list.
    #[serde(default)]
    pub covert_list: Option<String>,
}

impl NewPerson {
    /// The scope its fields give (checked; errors name the field).
    pub fn scope(&self) -> Result<crate::scope::Scope> {
        scope_of(&self.days, &self.hours, &self.cameras, &self.area, &self.covert_list)
    }
}

impl NewPlateEntry {
    /// The scope its fields give (checked; errors name the field).
    pub fn scope(&self) -> Result<crate::scope::Scope> {
        scope_of(&self.days, &self.hours, &self.cameras, &self.area, &self.covert_list)
    }
}

/// The scope fields of [`NewPlateEntry`] and [`NewPerson`] (each struct declares them itself:
/// serde's `flatten` cannot be combined with the `deny_unknown_fields` that makes an import name
/// a misspelt key), checked by [`crate::scope::Scope::parse`].
fn scope_of(
    days: &Option<String>,
    hours: &Option<String>,
    cameras: &Option<String>,
    area: &Option<String>,
    covert_list: &Option<String>,
) -> Result<crate::scope::Scope> {
    crate::scope::Scope::parse(
        days.as_deref(),
        hours.as_deref(),
        cameras.as_deref(),
        area.as_deref(),
        covert_list.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_and_order() {
        assert_eq!(Priority::parse("HIGH").unwrap(), Priority::High);
        assert_eq!(Priority::parse("1").unwrap(), Priority::Critical);
        assert!(Priority::Critical < Priority::Low);
        assert!(Priority::parse("urgent").unwrap_err().to_string().starts_with("priority:"));
    }

    #[test]
    fn times_parse() {
        let t = parse_time("expires_at", Some("2026-12-31")).unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-31T00:00:00+00:00");
        assert!(parse_time("expires_at", Some("")).unwrap().is_none());
        assert!(parse_time("expires_at", Some("31/12/2026")).unwrap_err().to_string().starts_with("expires_at:"));
    }
}
