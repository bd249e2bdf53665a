//! Multi-frame OCR voting: one plate text per track from the reads of all its frames.
//!
//! Reads vote per position, weighted by character confidence (and the recogniser's runner-up
//! alternatives with their probabilities), among the reads of the most supported key length. A
//! plate read in ten frames with one frame's `8` mistaken for `B` comes out right, and the
//! per-position scores it leaves are the alternatives the watchlist's fuzzy matcher uses.

use std::collections::BTreeMap;

use raqib_core::PlateText;
use raqib_models::plate::PlateRead;

/// The voted text of a track.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// The plate, canonical.
    pub plate: PlateText,
    /// Mean over positions of the winner's share of the vote weighted by confidence (0–1).
    pub confidence: f32,
    /// Reads that took part (those of the winning key length).
    pub reads: usize,
    /// Per key position: candidates and their share of the vote, best first.
    pub positions: Vec<Vec<(char, f32)>>,
}

/// Per key position: (character, weight) candidates of one read.
fn weights(read: &PlateRead) -> Vec<Vec<(char, f32)>> {
    let key: Vec<char> = read.plate.key().chars().collect();
    let aligned = read.chars.len() == key.len()
        && read.chars.iter().zip(&key).all(|(c, k)| c.text.starts_with(*k) && c.text.chars().count() == 1);
    if !aligned {
        // Two-row reads (rows reordered into the key) or words: the read's confidence for all.
        return key.iter().map(|&k| vec![(k, read.confidence)]).collect();
    }
    read.chars
        .iter()
        .zip(&key)
        .map(|(c, &k)| {
            let mut v = vec![(k, c.confidence)];
            for alt in &c.alternatives {
                let mut chars = alt.text.chars();
                if let (Some(a), None) = (chars.next(), chars.next()) {
                    v.push((a, alt.p));
                }
            }
            v
        })
        .collect()
}

/// Votes over `reads`; `None` when there are none.
pub fn vote(reads: &[&PlateRead]) -> Option<Vote> {
    // The key length with the most confidence behind it.
    let mut by_len: BTreeMap<usize, f32> = BTreeMap::new();
    for r in reads {
        *by_len.entry(r.plate.key().chars().count()).or_default() += r.confidence;
    }
    let len = by_len.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(l, _)| *l)?;
    let voters: Vec<&&PlateRead> = reads.iter().filter(|r| r.plate.key().chars().count() == len).collect();
    let mut tallies: Vec<BTreeMap<char, f32>> = vec![BTreeMap::new(); len];
    for r in &voters {
        for (i, cands) in weights(r).into_iter().enumerate().take(len) {
            for (c, w) in cands {
                *tallies[i].entry(c).or_default() += w;
            }
        }
    }
    let mut key = String::new();
    let mut positions = Vec::with_capacity(len);
    let mut share_sum = 0.0;
    for tally in tallies {
        let total: f32 = tally.values().sum::<f32>().max(f32::EPSILON);
        let mut cands: Vec<(char, f32)> = tally.into_iter().map(|(c, w)| (c, w / total)).collect();
        cands.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, share) = cands.first().copied()?;
        key.push(best);
        share_sum += share;
        positions.push(cands);
    }
    // Canonical form: the best voter's plate when it has the voted key (keeps its separators),
    // else the voted key parsed afresh.
    let plate = voters
        .iter()
        .filter(|r| r.plate.key() == key)
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
        .map(|r| r.plate.clone())
        .or_else(|| PlateText::parse(&key, None).ok())?;
    Some(Vote { plate, confidence: share_sum / len.max(1) as f32, reads: voters.len(), positions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plate_read as read;

    #[test]
    fn one_misread_frame_is_outvoted() {
        let good = read("12345-ب-68", &[0.9; 8], None);
        let bad = read("12345-ب-6B", &[0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5], Some((7, "8", 0.4)));
        let v = vote(&[&good, &bad, &good]).unwrap();
        assert_eq!(v.plate.canonical(), "12345-ب-68");
        assert_eq!(v.reads, 3);
        let last = &v.positions[7];
        assert_eq!(last[0].0, '8');
        assert!(last[1] == ('B', last[1].1) && last[1].1 > 0.0, "the runner-up is kept for fuzzy matching");
        assert!(v.confidence > 0.9 && v.confidence <= 1.0);
    }

    #[test]
    fn the_best_supported_length_wins_and_empty_input_has_no_vote() {
        let short = read("2345-ب-6", &[0.6; 6], None);
        let full = read("12345-ب-6", &[0.9; 7], None);
        let v = vote(&[&short, &full, &full]).unwrap();
        assert_eq!(v.plate.key(), "12345ب6");
        assert_eq!(v.reads, 2);
        assert!(vote(&[]).is_none());
    }
}
