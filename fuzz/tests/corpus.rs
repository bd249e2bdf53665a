//! The fuzz targets on stable Rust, in `make test`: every corpus input (seeds and every crash
//! found so far), then deterministic mutations of them for `RAQIB_FUZZ_SECONDS` per target
//! (default 3). A failure prints the target, the input's seed and the input, so it can be added
//! to the corpus and fixed.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, reason = "test code: a failure panics by design")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use raqib_fuzz::mutate::{Rng, mutate};
use raqib_fuzz::{TARGETS, Target};

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn run(name: &str, target: Target, input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        panic!("fuzz target {name} failed on {what}: {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn every_target_survives_its_corpus_and_mutations_of_it() {
    let seconds: u64 = std::env::var("RAQIB_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    for (name, target) in TARGETS {
        let inputs = corpus(name);
        assert!(inputs.len() >= 3, "corpus/{name} needs seed inputs");
        for (i, input) in inputs.iter().enumerate() {
            run(name, *target, input, &format!("corpus input {i}"));
        }
        let until = Instant::now() + Duration::from_secs(seconds);
        let mut n = 0u64;
        while Instant::now() < until {
            let seed = n;
            let mut rng = Rng::new(seed);
            let a = &inputs[rng.below(inputs.len())];
            let b = &inputs[rng.below(inputs.len())];
            let input = mutate(&mut rng, a, b, 4096);
            run(name, *target, &input, &format!("mutation seed {seed}"));
            n += 1;
        }
        eprintln!("{name}: {} corpus inputs, {n} mutations", inputs.len());
    }
}
