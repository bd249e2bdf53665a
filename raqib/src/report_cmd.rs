//! `raqib report hits`: alerts per camera with the operators' decisions and the rejection
//! reasons ([`raqib_events::EventStore::hit_report`]), as CSV or JSON, so a camera that raises
//! false hits shows up. Counts only: no plate, name or image is in the report.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use raqib_events::EventStore;

use crate::config::{Config, Paths};

/// `--since` / `--until`: RFC 3339, a date (`2026-12-01`, midnight UTC), or a span back from now
/// (`7d`, `12h`).
pub fn parse_time(flag: &str, s: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now));
    }
    let span = |n: &str, unit: i64| {
        n.parse::<i64>().ok().filter(|n| *n >= 0).map(|n| now - chrono::Duration::seconds(n * unit))
    };
    let back = match s.char_indices().last() {
        Some((i, 'd')) => span(&s[..i], 86_400),
        Some((i, 'h')) => span(&s[..i], 3_600),
        Some((i, 'm')) => span(&s[..i], 60),
        _ => None,
    };
    back.with_context(|| format!("{flag}: `{s}` is not an RFC 3339 time, a date (YYYY-MM-DD) or a span (7d, 12h, 30m)"))
}

/// `raqib report hits`.
pub fn hits(config: &Config, paths: &Paths, since: &str, until: Option<&str>, format: &str) -> anyhow::Result<()> {
    let now = Utc::now();
    let since = parse_time("--since", since, now)?;
    let until = until.map(|u| parse_time("--until", u, now)).transpose()?.unwrap_or(now + chrono::Duration::seconds(1));
    if until <= since {
        bail!("--until must be after --since");
    }
    let db = paths.data_dir.join("events.db");
    if !db.is_file() {
        bail!("{}: no events store (has the node run?)", db.display());
    }
    let mut events = EventStore::open(&db)?;
    events.set_handling(config.alerts.clone());
    let rows = events.hit_report(since, until)?;
    match format {
        "json" => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "since": since, "until": until, "cameras": rows,
            }))?
        ),
        "csv" => print!("{}", csv(&rows, &config.alerts.reject_reasons)?),
        other => bail!("--format: `{other}` is not csv or json"),
    }
    Ok(())
}

/// One row per camera; one `rejected_<reason>` column per configured reason (and per reason
/// found in the store that is no longer configured).
fn csv(rows: &[raqib_events::decisions::CameraReport], reasons: &[String]) -> anyhow::Result<String> {
    let mut columns: Vec<String> = reasons.to_vec();
    for r in rows {
        for reason in r.rejected_by_reason.keys() {
            if !columns.contains(reason) {
                columns.push(reason.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head =
        ["camera", "alerts", "confirmed", "rejected", "open", "overdue", "false_hit_share"].map(String::from).to_vec();
    head.extend(columns.iter().map(|c| format!("rejected_{c}")));
    w.write_record(&head)?;
    for r in rows {
        let mut line = vec![
            r.camera.clone(),
            r.alerts.to_string(),
            r.confirmed.to_string(),
            r.rejected.to_string(),
            r.open.to_string(),
            r.overdue.to_string(),
            format!("{:.3}", r.false_hit_share),
        ];
        line.extend(columns.iter().map(|c| r.rejected_by_reason.get(c).copied().unwrap_or(0).to_string()));
        w.write_record(&line)?;
    }
    Ok(String::from_utf8(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_dates_or_spans_back_from_now() {
        let now = Utc::now();
        assert_eq!(parse_time("--since", "7d", now).unwrap(), now - chrono::Duration::days(7));
        assert_eq!(parse_time("--since", "12h", now).unwrap(), now - chrono::Duration::hours(12));
        assert_eq!(parse_time("--since", "2026-12-01", now).unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(parse_time("--since", "2026-12-01T10:00:00Z", now).is_ok());
        let err = parse_time("--since", "last week", now).unwrap_err().to_string();
        assert!(err.contains("--since") && err.contains("last week"), "{err}");
        assert!(parse_time("--since", "-3d", now).is_err());
    }
}
