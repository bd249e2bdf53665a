//! # raqib-watchlist
//!
//! Watchlists of plates (stolen vehicles, owners under warrant, missing-child alerts) and persons
//! (wanted persons, missing children), stored in SQLite and matched against reads: exact and
//! OCR-confusion-aware fuzzy plate matching, wildcard patterns, face-embedding search, expiry,
//! import/export and an audit trail. Knows nothing of video.
//!
//! The store and matchers are not written yet (tracked by the Watchlist issue); the crate is in
//! the workspace now so the dependency arrows (`pipeline` → `watchlist`) are fixed from the start.

/// Errors of the watchlist crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {}
