//! Watchlist matching at national scale: exact and fuzzy plate lookup over 1M entries, face
//! top-5 over 100k × 512-d embeddings. `cargo bench -p raqib-watchlist`; figures in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use raqib_core::{Embedding, PlateText};
use raqib_watchlist::face_gallery::FaceGallery;
use raqib_watchlist::plate_index::{FuzzyQuery, Pattern, PlateIndex};

/// Deterministic xorshift so every run indexes the same plates.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn letter(&mut self) -> char {
        (b'A' + self.below(26) as u8) as char
    }
}

/// A realistic mix: 70 % Moroccan, 20 % French-style, 10 % Brazilian Mercosur.
fn plates(n: usize) -> Vec<String> {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let letters = ['أ', 'ب', 'د', 'ه', 'و', 'ط', 'ج', 'ش'];
    (0..n)
        .map(|_| {
            let text = match rng.below(10) {
                0..=6 => format!("{}-{}-{}", 1 + rng.below(99_999), letters[rng.below(8) as usize], 1 + rng.below(89)),
                7 | 8 => {
                    format!("{}{}-{:03}-{}{}", rng.letter(), rng.letter(), rng.below(1000), rng.letter(), rng.letter())
                }
                _ => format!(
                    "{}{}{}{}{}{:02}",
                    rng.letter(),
                    rng.letter(),
                    rng.letter(),
                    rng.below(10),
                    rng.letter(),
                    rng.below(100)
                ),
            };
            PlateText::parse(&text, None).map(|p| p.key().to_owned()).unwrap_or(text)
        })
        .collect()
}

fn plate_benches(c: &mut Criterion) {
    let keys = plates(1_000_000);
    let index = PlateIndex::build(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)));
    let probe_keys: Vec<&String> = keys.iter().step_by(9973).take(64).collect();

    let mut g = c.benchmark_group("plates_1M");
    g.bench_function("exact_hit", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % probe_keys.len();
            std::hint::black_box(index.exact(probe_keys[i]).len())
        })
    });
    // Reads two edits away from a listed plate: one look-alike substitution, one dropped character.
    let reads: Vec<FuzzyQuery> = probe_keys
        .iter()
        .map(|k| {
            let mut chars: Vec<char> = k.chars().collect();
            chars[0] = match chars[0] {
                '1' => 'I',
                '8' => 'B',
                '0' => 'O',
                c => c,
            };
            chars.remove(chars.len() / 2);
            FuzzyQuery::with_alternatives(chars.into_iter().map(|c| vec![(c, 0.9)]).collect())
        })
        .collect();
    for max in [1.0f32, 2.0] {
        g.bench_with_input(BenchmarkId::new("fuzzy", format!("max_distance_{max}")), &max, |b, &max| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % reads.len();
                std::hint::black_box(index.fuzzy(&reads[i], max).len())
            })
        });
    }
    let pattern = Pattern::parse("12?45-ب-*").unwrap();
    g.bench_function("wildcard_12?45-B-*", |b| b.iter(|| std::hint::black_box(index.wildcard(&pattern).len())));
    g.finish();
}

fn face_benches(c: &mut Criterion) {
    let mut rng = Rng(42);
    let mut gaussian = || {
        // Sum of uniforms: close enough to normal for random unit vectors.
        (0..4).map(|_| (rng.below(1 << 20) as f32 / (1 << 20) as f32) - 0.5).sum::<f32>()
    };
    let dim = 512;
    let mut gallery = FaceGallery::new(dim);
    for person in 0..100_000i64 {
        let v: Vec<f32> = (0..dim).map(|_| gaussian()).collect();
        gallery.push(person, &Embedding::new(v).expect("non-zero")).expect("dim");
    }
    let probe = Embedding::new((0..dim).map(|_| gaussian()).collect()).expect("non-zero");
    let mut g = c.benchmark_group("faces_100k_x_512");
    g.sample_size(30);
    g.bench_function("top5", |b| b.iter(|| std::hint::black_box(gallery.top_k(&probe, 5, -1.0).expect("dims match"))));
    g.finish();
}

criterion_group!(benches, plate_benches, face_benches);
criterion_main!(benches);
