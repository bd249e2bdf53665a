//! Where and when a plate entry raises alerts, and who sees them: active days and hours, a set
//! of cameras or a circle on the map, and a covert list.
//!
//! A scoped entry still matches everywhere (a search of past reads finds its plate); only the
//! hit policy ([`Scope::applies`], applied by `raqib_pipeline::stream::plate_hits`) turns a
//! match outside the scope into no alert. Days and hours are in the node's local time
//! (`[analysis] local_utc_offset_minutes`). A covert entry's alerts are shown only to users
//! given its list (`raqib user lists NAME LIST…`), to no other operator, admins included; every
//! view of one is audited like any alert view.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A plate entry's scope, as stored (every field canonical; empty: no restriction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scope {
    /// Days it alerts on, `mon,tue,…` (none: every day).
    pub days: Option<String>,
    /// Local hours it alerts in, `HH:MM-HH:MM`; a range past midnight (`22:00-06:00`) wraps.
    pub hours: Option<String>,
    /// Cameras (ids) it alerts on (empty: all).
    pub cameras: Vec<String>,
    /// A circle it alerts in: `lat,lon,radius_m` (a camera with no known place is outside it).
    pub area: Option<String>,
    /// The covert list it belongs to: its alerts are shown only to users given this list.
    pub covert_list: Option<String>,
}

/// Where and when a read was made, for [`Scope::applies`].
#[derive(Debug, Clone, Copy)]
pub struct Sighting<'a> {
    /// Camera id.
    pub camera: &'a str,
    /// Camera position, when known.
    pub location: Option<(f64, f64)>,
    /// Local time of the node.
    pub local: DateTime<FixedOffset>,
}

fn bad(field: &'static str, message: impl Into<String>) -> Error {
    Error::invalid(field, message.into())
}

fn parse_days(s: &str) -> Result<u8> {
    let mut mask = 0u8;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let day = |d: &str| {
            DAYS.iter()
                .position(|x| d.eq_ignore_ascii_case(x))
                .ok_or_else(|| bad("days", format!("`{d}` is not a day (mon … sun)")))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a.trim())?, day(b.trim())?);
                let mut d = a;
                loop {
                    mask |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => mask |= 1 << day(part)?,
        }
    }
    if mask == 0 {
        return Err(bad("days", "name at least one day (mon-fri, sat,sun)"));
    }
    Ok(mask)
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_hours(s: &str) -> Result<(u16, u16)> {
    let err = || bad("hours", format!("`{s}` is not HH:MM-HH:MM"));
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    let (a, b) = (parse_clock(a).ok_or_else(err)?, parse_clock(b).ok_or_else(err)?);
    if a == b {
        return Err(bad("hours", "the range is empty"));
    }
    Ok((a, b))
}

fn parse_area(s: &str) -> Result<(f64, f64, f64)> {
    let err = || bad("area", format!("`{s}` is not lat,lon,radius_m"));
    let parts: Vec<f64> =
        s.split(',').map(|p| p.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|_| err())?;
    let [lat, lon, r] = parts[..] else { return Err(err()) };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || !(1.0..=1_000_000.0).contains(&r) {
        return Err(bad("area", "latitude −90…90, longitude −180…180, radius 1 m … 1000 km"));
    }
    Ok((lat, lon, r))
}

/// Metres between two points on the Earth (haversine, mean radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

fn clean(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Scope {
    /// Checks and canonicalises what a user typed: `days` (`mon-fri`, `sat,sun`), `hours`
    /// (`07:00-19:00`), `cameras` (comma-separated ids), `area` (`lat,lon,radius_m`),
    /// `covert_list` (a list name). Errors name the field.
    pub fn parse(
        days: Option<&str>,
        hours: Option<&str>,
        cameras: Option<&str>,
        area: Option<&str>,
        covert_list: Option<&str>,
    ) -> Result<Scope> {
        let days = clean(days)
            .map(|d| {
                parse_days(d).map(|mask| {
                    DAYS.iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0)
                        .map(|(_, d)| *d)
                        .collect::<Vec<_>>()
                        .join(",")
                })
            })
            .transpose()?;
        let hours = clean(hours)
            .map(|h| parse_hours(h).map(|(a, b)| format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60)))
            .transpose()?;
        let cameras: Vec<String> = clean(cameras)
            .map(|c| c.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if let Some(c) =
            cameras.iter().find(|c| !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
        {
            return Err(bad("cameras", format!("`{c}` is not a camera id (letters, digits, - and _)")));
        }
        let area = clean(area).map(|a| parse_area(a).map(|(la, lo, r)| format!("{la},{lo},{r}"))).transpose()?;
        let covert_list = clean(covert_list).map(str::to_owned);
        if let Some(l) = &covert_list {
            crate::entry::validate_list_name(l)?;
        }
        Ok(Scope { days, hours, cameras, area, covert_list })
    }

    /// Whether nothing restricts the entry.
    pub fn is_empty(&self) -> bool {
        *self == Scope::default()
    }

    /// Whether a match of the entry at `s` raises an alert: the day, the hour, the camera and
    /// the place all inside the scope (a covert list restricts who sees the alert, not whether
    /// it is raised). A stored value that no longer parses restricts nothing rather than
    /// silencing the entry.
    pub fn applies(&self, s: &Sighting<'_>) -> bool {
        if let Some(mask) = self.days.as_deref().and_then(|d| parse_days(d).ok()) {
            let today = s.local.weekday().num_days_from_monday();
            // A range past midnight belongs to the day it started on.
            let started = match self.hours.as_deref().and_then(|h| parse_hours(h).ok()) {
                Some((a, b)) if a > b && minutes(s) < b => (today + 6) % 7,
                _ => today,
            };
            if mask & (1 << started) == 0 {
                return false;
            }
        }
        if let Some((a, b)) = self.hours.as_deref().and_then(|h| parse_hours(h).ok()) {
            let m = minutes(s);
            let inside = if a < b { a <= m && m < b } else { m >= a || m < b };
            if !inside {
                return false;
            }
        }
        if !self.cameras.is_empty() && !self.cameras.iter().any(|c| c == s.camera) {
            return false;
        }
        if let Some((lat, lon, r)) = self.area.as_deref().and_then(|a| parse_area(a).ok()) {
            match s.location {
                Some(at) if distance_m(at, (lat, lon)) <= r => {}
                _ => return false,
            }
        }
        true
    }
}

fn minutes(s: &Sighting<'_>) -> u16 {
    (s.local.hour() * 60 + s.local.minute()) as u16
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(camera: &str, location: Option<(f64, f64)>, ymd_hm: (i32, u32, u32, u32, u32)) -> Sighting<'_> {
        let tz = FixedOffset::east_opt(3600).unwrap();
        let (y, mo, d, h, mi) = ymd_hm;
        Sighting { camera, location, local: tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap() }
    }

    #[test]
    fn days_hours_cameras_and_areas_parse_canonically_and_bad_values_name_the_field() {
        let s = Scope::parse(Some("Mon-Fri"), Some("7:00-19:30"), Some("gate, road"), Some("33.57,-7.59,500"), None)
            .unwrap();
        assert_eq!(s.days.as_deref(), Some("mon,tue,wed,thu,fri"));
        assert_eq!(s.hours.as_deref(), Some("07:00-19:30"));
        assert_eq!(s.cameras, ["gate", "road"]);
        assert_eq!(
            Scope::parse(Some("fri-mon"), None, None, None, None).unwrap().days.as_deref(),
            Some("mon,fri,sat,sun")
        );
        for (args, field) in [
            ((Some("funday"), None, None, None, None), "days"),
            ((None, Some("7-19"), None, None, None), "hours"),
            ((None, None, Some("gate 1"), None, None), "cameras"),
            ((None, None, None, Some("33.5,-7.6"), None), "area"),
            ((None, None, None, Some("95,0,10"), None), "area"),
            ((None, None, None, None, Some("Covert List")), "covert_list"),
        ] {
            let e = Scope::parse(args.0, args.1, args.2, args.3, args.4).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        assert!(Scope::parse(None, Some(" "), None, None, None).unwrap().is_empty());
    }

    #[test]
    fn a_scope_applies_on_its_days_hours_cameras_and_area_only() {
        // 2026-12-07 is a Monday.
        let office = Scope::parse(Some("mon-fri"), Some("08:00-18:00"), None, None, None).unwrap();
        assert!(office.applies(&at("gate", None, (2026, 12, 7, 9, 0))));
        assert!(!office.applies(&at("gate", None, (2026, 12, 7, 19, 0))));
        assert!(!office.applies(&at("gate", None, (2026, 12, 6, 9, 0))), "Sunday");
        // A night range past midnight belongs to the evening it started on.
        let nights = Scope::parse(Some("fri"), Some("22:00-06:00"), None, None, None).unwrap();
        assert!(nights.applies(&at("gate", None, (2026, 12, 11, 23, 0))), "Friday 23:00");
        assert!(nights.applies(&at("gate", None, (2026, 12, 12, 5, 0))), "Saturday 05:00, Friday's night");
        assert!(!nights.applies(&at("gate", None, (2026, 12, 12, 23, 0))), "Saturday night");
        let cams = Scope::parse(None, None, Some("gate"), None, None).unwrap();
        assert!(cams.applies(&at("gate", None, (2026, 12, 7, 9, 0))));
        assert!(!cams.applies(&at("road", None, (2026, 12, 7, 9, 0))));
        let casa = Scope::parse(None, None, None, Some("33.5731,-7.5898,2000"), None).unwrap();
        assert!(casa.applies(&at("car-1", Some((33.58, -7.59)), (2026, 12, 7, 9, 0))));
        assert!(!casa.applies(&at("car-1", Some((34.02, -6.84)), (2026, 12, 7, 9, 0))), "Rabat");
        assert!(!casa.applies(&at("car-1", None, (2026, 12, 7, 9, 0))), "no known place");
        assert!(Scope::default().applies(&at("x", None, (2026, 12, 7, 9, 0))));
        assert!((distance_m((33.5731, -7.5898), (34.0209, -6.8416)) - 86_500.0).abs() < 2_000.0);
    }
}
