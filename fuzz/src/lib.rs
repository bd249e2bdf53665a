//! # raqib-fuzz
//!
//! Fuzz targets for everything a node reads from outside: plate text typed by an operator or
//! read by the recogniser ([`plate`]), watchlist imports in CSV and JSON and person imports
//! ([`import`]), `raqib.toml` sections ([`config`]), uploaded and imported images ([`image`]) and
//! the console API's request bodies and queries ([`api`]). Each target takes arbitrary bytes and
//! panics only on a bug: a crash, a broken invariant (a parsed plate that does not parse back to
//! itself), or a server error (5xx) answering bad input, which must get a 4xx.
//!
//! Two drivers run the same targets:
//! - `make test` (stable Rust, `tests/corpus.rs`): every input of `corpus/<target>/` (seeds and
//!   every crash ever found, kept as regression inputs) plus a few seconds of deterministic
//!   mutations of them ([`mutate`]);
//! - `make fuzz` (nightly Rust and `cargo-fuzz`, `libfuzzer/`): coverage-guided libFuzzer runs
//!   of `FUZZ_SECONDS` per target, growing the corpus.
//!
//! No fuzzing engine is hand-written here: coverage-guided search is libFuzzer's (through the
//! `libfuzzer-sys` crate that `cargo-fuzz` uses); the stable driver's mutator only replays and
//! perturbs the corpus so that a regression fails CI without nightly Rust.

pub mod api;
pub mod config;
pub mod image;
pub mod import;
pub mod mutate;
pub mod plate;

/// A fuzz target: arbitrary bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the name is its corpus folder and its libFuzzer binary).
pub const TARGETS: &[(&str, Target)] = &[
    ("plate_text", plate::plate_text),
    ("plate_import", import::plate_import),
    ("person_import", import::person_import),
    ("config", config::config),
    ("image", image::image),
    ("api", api::api),
];

/// The bytes as text, replacing invalid UTF-8 (targets whose input is text).
pub(crate) fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}
