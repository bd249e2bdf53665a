//! National search: reads and hits stored at the hub, by plate under the node's rules (any
//! spelling of a plate finds it; `?` and `*` wildcards; fuzzy within the weighted edit distance
//! where OCR look-alikes cost less), and the retro-hit check of a new national entry, which is
//! the fuzzy search over the reads of the retention window.
//!
//! The plate rules are the node's own (`raqib_core::PlateText` keys, `raqib_watchlist`'s
//! [`Pattern`] and [`PlateIndex`]); this module only chooses the keys, in PostgreSQL, that a
//! query matches.

use chrono::{DateTime, Utc};
use raqib_events::read_search::SearchMode;
use raqib_watchlist::plate_index::PlateIndex;
use raqib_watchlist::{FuzzyQuery, Pattern};
use tokio_postgres::Client;

use crate::error::{Error, Result};

/// Distinct keys a fuzzy search compares, the most recent first (the node's bound, too).
pub const FUZZY_KEY_LIMIT: i64 = raqib_events::read_search::FUZZY_KEY_LIMIT as i64;

/// A plate query, parsed once.
#[derive(Debug, Clone)]
pub enum PlateQuery {
    /// Every spelling of one plate: its key.
    Exact(String),
    /// `?` one character, `*` any run.
    Wildcard(Pattern),
    /// Within this weighted edit distance.
    Fuzzy(FuzzyQuery, f32),
}

impl PlateQuery {
    /// `plate` under `mode` (`exact`, `wildcard`, `fuzzy`; none: wildcard when it holds `*` or
    /// `?`, else exact), fuzzy within `max_distance`.
    pub fn parse(plate: &str, mode: Option<&str>, max_distance: f32) -> Result<PlateQuery> {
        let bad = |m: String| Error::Query(m);
        let mode = SearchMode::parse(mode, plate).map_err(|e| bad(e.to_string()))?;
        Ok(match mode {
            SearchMode::Wildcard => PlateQuery::Wildcard(Pattern::parse(plate).map_err(bad)?),
            SearchMode::Exact | SearchMode::Fuzzy => {
                let text = raqib_core::PlateText::parse(plate, None).map_err(|e| bad(e.to_string()))?;
                if mode == SearchMode::Exact {
                    PlateQuery::Exact(text.key().to_owned())
                } else {
                    PlateQuery::Fuzzy(FuzzyQuery::from_plate(&text), max_distance)
                }
            }
        })
    }

    /// The mode's name.
    pub fn mode(&self) -> &'static str {
        match self {
            PlateQuery::Exact(_) => "exact",
            PlateQuery::Wildcard(_) => "wildcard",
            PlateQuery::Fuzzy(..) => "fuzzy",
        }
    }

    /// The keys of `table` (`reads` or `hits`) stored since `since` that match, each with its
    /// distance (0 unless fuzzy), closest first.
    pub async fn keys(&self, db: &Client, table: Table, since: DateTime<Utc>) -> Result<Vec<(String, f32)>> {
        let (t, at) = table.sql();
        match self {
            PlateQuery::Exact(key) => Ok(vec![(key.clone(), 0.0)]),
            PlateQuery::Wildcard(p) => {
                let sql = format!(
                    "SELECT DISTINCT plate_key FROM {t} WHERE plate_key LIKE $1 AND {at} >= $2 AND plate_key IS NOT NULL"
                );
                let rows = db.query(&sql, &[&p.sql_like(), &since]).await?;
                Ok(rows.iter().map(|r| r.get::<_, String>(0)).filter(|k| p.matches(k)).map(|k| (k, 0.0)).collect())
            }
            PlateQuery::Fuzzy(q, max) => {
                let sql = format!(
                    "SELECT plate_key FROM {t} WHERE {at} >= $1 AND plate_key IS NOT NULL
                     GROUP BY plate_key ORDER BY max({at}) DESC LIMIT $2"
                );
                let keys: Vec<String> =
                    db.query(&sql, &[&since, &FUZZY_KEY_LIMIT]).await?.iter().map(|r| r.get(0)).collect();
                let index = PlateIndex::build(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)));
                Ok(index.fuzzy(q, *max).into_iter().map(|(slot, cost)| (keys[slot as usize].clone(), cost)).collect())
            }
        }
    }
}

/// What a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Plate reads the nodes forwarded.
    Reads,
    /// Alerts (hits) of every node.
    Hits,
}

impl Table {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            Table::Reads => ("reads", "seen_at"),
            Table::Hits => ("hits", "raised_at"),
        }
    }
}

/// One result: where it was stored and how far its plate is from the query.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    /// The node.
    pub node: String,
    /// The read or the alert, as the node sent it.
    pub body: serde_json::Value,
    /// Weighted edit distance (0 unless fuzzy).
    pub distance: f32,
}

/// Reads (or hits) whose key matches `query`, since `since`, closest first then newest, at
/// most `limit`.
pub async fn search(
    db: &Client,
    table: Table,
    query: &PlateQuery,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Found>> {
    let keys = query.keys(db, table, since).await?;
    let (t, at) = table.sql();
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let sql = format!(
        "SELECT node, plate_key, jsonb_build_object('node', node) || body FROM {t}
         WHERE plate_key = ANY($1) AND {at} >= $2 ORDER BY {at} DESC LIMIT $3"
    );
    let rows = db.query(&sql, &[&names, &since, &limit]).await?;
    let distance = |key: &str| keys.iter().find(|(k, _)| k == key).map_or(0.0, |(_, d)| *d);
    let mut out: Vec<Found> = rows
        .iter()
        .map(|r| Found { node: r.get(0), distance: distance(r.get::<_, &str>(1)), body: r.get(2) })
        .collect();
    // Stable: within one distance the newest stay first.
    out.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_follows_the_node_rule() {
        assert_eq!(PlateQuery::parse("12345-B-6", None, 1.0).unwrap().mode(), "exact");
        assert_eq!(PlateQuery::parse("12345-?-6", None, 1.0).unwrap().mode(), "wildcard");
        assert_eq!(PlateQuery::parse("12345-B-6", Some("fuzzy"), 1.0).unwrap().mode(), "fuzzy");
        // Any spelling of a Moroccan plate is one key.
        let (PlateQuery::Exact(a), PlateQuery::Exact(b)) =
            (PlateQuery::parse("12345-B-6", None, 1.0).unwrap(), PlateQuery::parse("12345 ب 6", None, 1.0).unwrap())
        else {
            panic!("exact expected")
        };
        assert_eq!(a, b);
        let e = PlateQuery::parse("1*", Some("exact"), 1.0).unwrap_err();
        assert!(e.to_string().contains("wildcard"), "{e}");
        assert!(PlateQuery::parse("12345-B-6", Some("soundex"), 1.0).is_err());
    }
}
