//! Face search: cosine similarity of a probe against every enrolled embedding.
//!
//! Embeddings are unit length, so cosine is a dot product. A full scan of 100k × 512 `f32` is
//! ~200 MB of memory traffic per probe, which memory bandwidth makes slow on a small node, so
//! the scan runs over int8 copies (each vector scaled to ±127, 4× less data), split across
//! cores, keeping the best candidates; those are then re-scored exactly in `f32`. Every
//! embedding is scored, so nothing is missed that the exact scan would rank in the top
//! candidates (int8 error is ~0.01 in cosine, far below the gaps the threshold separates).
//! Measured figures are in BENCHMARKS.md. Past ~1M identities, or many probes per second, an
//! approximate index (IVF/HNSW) would be needed; exact search keeps results auditable until then.

use raqib_core::Embedding;
use serde::Serialize;

use crate::error::{Error, Result};

/// A gallery of embeddings of one model and dimension.
#[derive(Debug, Clone, Default)]
pub struct FaceGallery {
    dim: usize,
    data: Vec<f32>,
    quantised: Vec<i8>,
    scales: Vec<f32>,
    owners: Vec<i64>,
}

/// One person found by a face search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceMatch {
    /// Person id.
    pub person_id: i64,
    /// Best cosine similarity over that person's embeddings.
    pub similarity: f32,
}

impl FaceGallery {
    /// An empty gallery for `dim`-dimensional embeddings.
    pub fn new(dim: usize) -> Self {
        FaceGallery { dim, data: Vec::new(), quantised: Vec::new(), scales: Vec::new(), owners: Vec::new() }
    }

    /// Adds an embedding of `person_id`.
    pub fn push(&mut self, person_id: i64, e: &Embedding) -> Result<()> {
        if e.dim() != self.dim {
            return Err(Error::invalid("embedding", format!("has {} values, gallery uses {}", e.dim(), self.dim)));
        }
        self.data.extend_from_slice(e.as_slice());
        let scale = quantise_into(e.as_slice(), &mut self.quantised);
        self.scales.push(scale);
        self.owners.push(person_id);
        Ok(())
    }

    /// Number of embeddings.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn check_dim(&self, probe: &Embedding) -> Result<()> {
        if probe.dim() != self.dim {
            return Err(Error::invalid("probe", format!("has {} values, gallery uses {}", probe.dim(), self.dim)));
        }
        Ok(())
    }

    /// Exact similarity of `probe` to every embedding, in insertion order (f32 scan).
    pub fn similarities(&self, probe: &Embedding) -> Result<Vec<f32>> {
        self.check_dim(probe)?;
        Ok(self.data.chunks_exact(self.dim).map(|row| dot(probe.as_slice(), row)).collect())
    }

    /// The `m` embeddings with the highest approximate (int8) similarity: `(index, approx)`.
    fn candidates(&self, probe: &Embedding, m: usize) -> Vec<(u32, f32)> {
        let mut q = Vec::with_capacity(self.dim);
        let q_scale = quantise_into(probe.as_slice(), &mut q);
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let per = self.len().div_ceil(threads).max(8192);
        let q = &q;
        let parts: Vec<Vec<(u32, f32)>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .quantised
                .chunks(per * self.dim)
                .zip(self.scales.chunks(per))
                .enumerate()
                .map(|(part, (rows, scales))| {
                    s.spawn(move || {
                        let mut best = TopM::new(m);
                        for (i, (row, scale)) in rows.chunks_exact(self.dim).zip(scales).enumerate() {
                            let approx = dot_i8(q, row) as f32 / (q_scale * scale);
                            best.offer((part * per + i) as u32, approx);
                        }
                        best.into_vec()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
        });
        let mut all = TopM::new(m);
        for (i, s) in parts.into_iter().flatten() {
            all.offer(i, s);
        }
        all.into_vec()
    }

    /// The `k` most similar persons with similarity ≥ `threshold`, best first (one result per
    /// person, with their best embedding's exact similarity).
    pub fn top_k(&self, probe: &Embedding, k: usize, threshold: f32) -> Result<Vec<FaceMatch>> {
        self.check_dim(probe)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        // Persons may have several embeddings: widen the candidate set until it holds k persons.
        let mut m = (k * 8).max(64);
        loop {
            let cands = self.candidates(probe, m.min(self.len()));
            let mut out: Vec<FaceMatch> = Vec::new();
            let mut exact: Vec<(u32, f32)> = cands
                .iter()
                .map(|(i, _)| (*i, dot(probe.as_slice(), &self.data[*i as usize * self.dim..][..self.dim])))
                .collect();
            exact.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (i, sim) in exact {
                let person_id = self.owners[i as usize];
                if sim >= threshold && !out.iter().any(|m| m.person_id == person_id) {
                    out.push(FaceMatch { person_id, similarity: sim });
                }
            }
            if out.len() >= k || m >= self.len() {
                out.truncate(k);
                return Ok(out);
            }
            m *= 4;
        }
    }
}

/// Keeps the `m` highest-scored items seen.
struct TopM {
    m: usize,
    items: Vec<(u32, f32)>,
    floor: f32,
}

impl TopM {
    fn new(m: usize) -> Self {
        TopM { m, items: Vec::with_capacity(2 * m + 1), floor: f32::NEG_INFINITY }
    }

    #[inline]
    fn offer(&mut self, i: u32, score: f32) {
        if score <= self.floor {
            return;
        }
        self.items.push((i, score));
        if self.items.len() >= 2 * self.m {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        if self.items.len() > self.m {
            self.items.select_nth_unstable_by(self.m - 1, |a, b| b.1.total_cmp(&a.1));
            self.items.truncate(self.m);
            self.floor = self.items.iter().map(|x| x.1).fold(f32::INFINITY, f32::min);
        }
    }

    fn into_vec(mut self) -> Vec<(u32, f32)> {
        self.shrink();
        self.items
    }
}

/// Appends `v` scaled to ±127 as `i8`; returns the scale (127 / max |v|).
fn quantise_into(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs())).max(f32::MIN_POSITIVE);
    let scale = 127.0 / max;
    out.extend(v.iter().map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8));
    scale
}

/// Integer dot product with 16 independent accumulators (vectorises without `unsafe`).
#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: i32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| i32::from(*x) * i32::from(*y)).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    acc.iter().sum::<i32>() + tail
}

/// Dot product with 8 independent accumulators (vectorises without `unsafe`).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &[f32]) -> Embedding {
        Embedding::new(v.to_vec()).unwrap()
    }

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.1).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.05).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    #[test]
    fn int8_ranking_agrees_with_exact_on_random_gallery() {
        let mut g = FaceGallery::new(64);
        let mut seed = 7u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 2001) as f32 / 1000.0 - 1.0
        };
        for p in 0..3000 {
            g.push(p, &e(&(0..64).map(|_| rnd()).collect::<Vec<_>>())).unwrap();
        }
        let probe = e(&(0..64).map(|_| rnd()).collect::<Vec<_>>());
        let exact = g.similarities(&probe).unwrap();
        let mut order: Vec<usize> = (0..exact.len()).collect();
        order.sort_by(|a, b| exact[*b].total_cmp(&exact[*a]));
        let top = g.top_k(&probe, 5, -1.0).unwrap();
        let want: Vec<i64> = order[..5].iter().map(|i| *i as i64).collect();
        assert_eq!(top.iter().map(|m| m.person_id).collect::<Vec<_>>(), want);
        assert!((top[0].similarity - exact[order[0]]).abs() < 1e-6, "reported similarity is exact");
    }

    #[test]
    fn top_k_one_result_per_person_above_threshold() {
        let mut g = FaceGallery::new(3);
        g.push(1, &e(&[1.0, 0.0, 0.0])).unwrap();
        g.push(1, &e(&[0.9, 0.1, 0.0])).unwrap();
        g.push(2, &e(&[0.0, 1.0, 0.0])).unwrap();
        g.push(3, &e(&[0.7, 0.7, 0.0])).unwrap();
        let r = g.top_k(&e(&[1.0, 0.05, 0.0]), 5, 0.5).unwrap();
        assert_eq!(r.iter().map(|m| m.person_id).collect::<Vec<_>>(), [1, 3]);
        assert!(r[0].similarity > 0.99);
        assert!(g.push(4, &e(&[1.0, 0.0])).is_err());
        assert!(g.top_k(&e(&[1.0]), 1, 0.0).is_err());
    }
}
