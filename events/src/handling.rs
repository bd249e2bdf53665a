//! How hits are handled once raised: `[alerts]` ([`HandlingPolicy`]), the one place these rules
//! are defined. The events store applies them ([`EventStore::set_handling`]) and the server, the
//! `raqib report hits` command and the console read them from here.
//!
//! - **Verification deadline**: police practice is that an operator checks every hit against
//!   the image before anyone acts on it, urgent hits first. An alert is *open* until it is
//!   confirmed or rejected; an open alert older than its priority's deadline is *overdue*:
//!   [`EventStore::mark_overdue`] records that once (action `overdue` by `raqib`), the server
//!   audits it, wakes every console (timer, sound) and counts open overdue alerts in
//!   `raqib_alerts_overdue`.
//! - **Decisions**: `confirm` (the plate matches the image and the entry) or `reject` with one
//!   of the configured reasons (misread, wrong vehicle, …) and a comment. A decision is final: a
//!   decided alert takes no further confirm or reject (acknowledge and escalate stay possible).
//! - **Repeat suppression**: the same watchlist entry hit on the same camera again within
//!   `repeat_window_s` of the alert raises no new alert: the sighting is stored (its read and
//!   evidence, as a repeat row of the first hit) and counted on the first alert.
//! - **Retro-hits** ([`EventStore::retro_hits`]): a new watchlist entry is checked against the
//!   reads stored within `[retention] reads_days`, with the same exact and fuzzy rules as live
//!   reads; each match raises an alert marked `retro`, carrying the original sighting's time and
//!   place.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use raqib_watchlist::Priority;
use serde::Deserialize;

use crate::error::{Error, Result};

/// `[alerts]`: verification deadlines, rejection reasons, repeat suppression.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandlingPolicy {
    /// The same entry on the same camera within this many seconds of an alert is counted on
    /// it, not raised again. `0`: every pass is an alert. Bounds 0–86 400, default 300.
    pub repeat_window_s: u64,
    /// Minutes an operator has to confirm or reject an alert, per priority. Defaults: critical
    /// 10, high 30, medium 60, low 240; each 0.05 (3 s, for drills and tests) to 10 080 (a week).
    pub deadline_minutes: Deadlines,
    /// The reasons a rejection may give (lowercase words and `_`); at least one. Default:
    /// `misread`, `wrong_vehicle`, `entry_out_of_date`, `duplicate`, `test`.
    pub reject_reasons: Vec<String>,
}

/// Verification deadline per priority, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deadlines {
    /// Life at risk.
    pub critical: f64,
    /// Act now.
    pub high: f64,
    /// Act when possible.
    pub medium: f64,
    /// For information.
    pub low: f64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { critical: 10.0, high: 30.0, medium: 60.0, low: 240.0 }
    }
}

impl Default for HandlingPolicy {
    fn default() -> Self {
        HandlingPolicy {
            repeat_window_s: 300,
            deadline_minutes: Deadlines::default(),
            reject_reasons: ["misread", "wrong_vehicle", "entry_out_of_date", "duplicate", "test"]
                .map(String::from)
                .to_vec(),
        }
    }
}

fn refuse<T>(key: &'static str, message: &'static str) -> Result<T> {
    Err(Error::Handling { key, message })
}

impl HandlingPolicy {
    /// Checks the values against their rules; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if self.repeat_window_s > 86_400 {
            return refuse("repeat_window_s", "at most 86400 (a day)");
        }
        let d = self.deadline_minutes;
        for (key, v) in [
            ("deadline_minutes.critical", d.critical),
            ("deadline_minutes.high", d.high),
            ("deadline_minutes.medium", d.medium),
            ("deadline_minutes.low", d.low),
        ] {
            if !(0.05..=10_080.0).contains(&v) {
                return refuse(key, "must be 0.05–10080 minutes");
            }
        }
        if self.reject_reasons.is_empty() {
            return refuse("reject_reasons", "give at least one reason");
        }
        if self.reject_reasons.iter().any(|r| {
            r.is_empty() || r.len() > 40 || !r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        }) {
            return refuse("reject_reasons", "each reason is 1–40 lowercase letters, digits or `_`");
        }
        Ok(())
    }

    /// The verification deadline of an alert of `priority` (as stored: `critical`, …; an
    /// unknown one gets the low priority's).
    pub fn deadline(&self, priority: &str) -> Duration {
        let d = self.deadline_minutes;
        let minutes = match Priority::parse(priority) {
            Ok(Priority::Critical) => d.critical,
            Ok(Priority::High) => d.high,
            Ok(Priority::Medium) => d.medium,
            _ => d.low,
        };
        Duration::milliseconds((minutes * 60_000.0).round() as i64)
    }

    /// When an alert raised at `raised_at` with `priority` is due.
    pub fn due_at(&self, raised_at: DateTime<Utc>, priority: &str) -> DateTime<Utc> {
        raised_at + self.deadline(priority)
    }

    /// The repeat window (`None`: off).
    pub fn repeat_window(&self) -> Option<Duration> {
        (self.repeat_window_s > 0).then(|| Duration::seconds(self.repeat_window_s as i64))
    }

    /// `reason` if it is one of the configured rejection reasons.
    pub fn check_reason(&self, reason: &str) -> Result<()> {
        if self.reject_reasons.iter().any(|r| r == reason) {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "`{reason}` is not a rejection reason; one of: {}",
                self.reject_reasons.join(", ")
            )))
        }
    }

    /// Deadline minutes by priority name, for the API and console.
    pub fn deadlines_by_priority(&self) -> BTreeMap<&'static str, f64> {
        let d = self.deadline_minutes;
        BTreeMap::from([("critical", d.critical), ("high", d.high), ("medium", d.medium), ("low", d.low)])
    }
}

/// Whether an alert in `state` still waits for a decision.
pub fn is_open(state: &str) -> bool {
    !matches!(state, "confirmed" | "rejected")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        let p = HandlingPolicy::default();
        p.validate().unwrap();
        assert_eq!(p.deadline("critical"), Duration::minutes(10));
        assert_eq!(p.deadline("high"), Duration::minutes(30));
        assert_eq!(p.deadline("medium"), Duration::minutes(60));
        assert_eq!(p.deadline("low"), Duration::minutes(240));
        assert_eq!(p.deadline("whatever"), Duration::minutes(240));
        let bad = HandlingPolicy { repeat_window_s: 90_000, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("alerts.repeat_window_s"));
        let bad =
            HandlingPolicy { deadline_minutes: Deadlines { high: 0.0, ..Default::default() }, ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("alerts.deadline_minutes.high"));
        let bad = HandlingPolicy { reject_reasons: vec!["Wrong Car".into()], ..Default::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("alerts.reject_reasons"));
        let bad = HandlingPolicy { reject_reasons: vec![], ..Default::default() };
        assert!(bad.validate().is_err());
        assert!(p.check_reason("misread").is_ok());
        assert!(p.check_reason("bored").unwrap_err().to_string().contains("misread, wrong_vehicle"));
        assert!(HandlingPolicy { repeat_window_s: 0, ..Default::default() }.repeat_window().is_none());
        assert!(is_open("new") && is_open("escalated") && !is_open("rejected") && !is_open("confirmed"));
    }
}
