//! CTC decoding with per-character confidence and the top alternatives per position.
//!
//! Best-path decoding: each time step's most likely class; consecutive repeats collapse into one
//! *position*, blanks separate positions. For a position spanning several time steps, the class
//! probabilities are taken from the step where the chosen class peaks, so a character's
//! confidence is the model's strongest belief in it and its alternatives are the other classes
//! the model considered *at that place*. Watchlist fuzzy matching uses those alternatives (an
//! `8` read with `B` as runner-up).

use serde::Serialize;

/// Another class the model considered for a position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// The class text.
    pub text: String,
    /// Its probability at the position.
    pub p: f32,
}

/// One decoded character (or symbol such as `المغرب`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CharRead {
    /// The chosen class text.
    pub text: String,
    /// Probability of the chosen class at its peak time step.
    pub confidence: f32,
    /// Up to `k` runner-up classes at that time step (blank excluded), most likely first.
    pub alternatives: Vec<Alternative>,
    /// Time step of the peak; tells where in the input the character is.
    #[serde(skip)]
    pub step: usize,
}

/// The character of class `cls` read at `step`, whose log-probability row is `row`: its
/// probability and the `k` likeliest other non-blank classes at or above `min_alt_p`.
fn char_read(row: &[f32], cls: usize, step: usize, classes: &[String], k: usize, min_alt_p: f32) -> CharRead {
    let mut alts: Vec<(usize, f32)> =
        (1..row.len()).filter(|&i| i != cls).map(|i| (i, row[i].exp())).filter(|&(_, q)| q >= min_alt_p).collect();
    alts.sort_by(|a, b| b.1.total_cmp(&a.1));
    alts.truncate(k);
    CharRead {
        text: classes[cls].clone(),
        confidence: row[cls].exp(),
        alternatives: alts.into_iter().map(|(i, p)| Alternative { text: classes[i].clone(), p }).collect(),
        step,
    }
}

/// Decodes one `[T, C]` row-major matrix of log-probabilities (class 0 = blank).
///
/// `classes[i]` is the text of class `i`; alternatives below `min_alt_p` are dropped.
pub fn decode(log_probs: &[f32], steps: usize, classes: &[String], k: usize, min_alt_p: f32) -> Vec<CharRead> {
    let c = classes.len();
    let mut out: Vec<CharRead> = Vec::new();
    let mut prev = 0usize;
    let mut peak: Option<(usize, usize, f32)> = None; // (class, step, p)
    let flush = |peak: Option<(usize, usize, f32)>, out: &mut Vec<CharRead>| {
        let Some((cls, step, _)) = peak else { return };
        out.push(char_read(&log_probs[step * c..(step + 1) * c], cls, step, classes, k, min_alt_p));
    };
    for t in 0..steps.min(log_probs.len() / c.max(1)) {
        let row = &log_probs[t * c..(t + 1) * c];
        let (best, lp) =
            row.iter().enumerate().fold((0, f32::NEG_INFINITY), |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc });
        let p = lp.exp();
        if best != prev {
            flush(peak.take(), &mut out);
        }
        if best != 0 {
            match peak {
                Some((cls, _, q)) if cls == best && q >= p => {}
                _ => peak = Some((best, t, p)),
            }
        }
        prev = best;
    }
    flush(peak, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["<blank>", "8", "B", "ب"].iter().map(|s| s.to_string()).collect()
    }

    /// Builds log-probabilities from per-step probability rows.
    fn lp(rows: &[[f32; 4]]) -> Vec<f32> {
        rows.iter().flat_map(|r| r.iter().map(|p| p.max(1e-9).ln())).collect()
    }

    #[test]
    fn collapses_repeats_and_splits_on_blanks() {
        let m = lp(&[
            [0.1, 0.8, 0.1, 0.0],
            [0.1, 0.9, 0.0, 0.0], // repeat of 8: same position, higher peak
            [0.9, 0.1, 0.0, 0.0], // blank
            [0.1, 0.7, 0.2, 0.0], // a second 8
            [0.2, 0.0, 0.0, 0.8],
        ]);
        let r = decode(&m, 5, &classes(), 2, 0.05);
        let text: Vec<&str> = r.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(text, ["8", "8", "ب"]);
        assert!((r[0].confidence - 0.9).abs() < 1e-5 && r[0].step == 1);
        assert_eq!(r[1].alternatives, vec![Alternative { text: "B".into(), p: r[1].alternatives[0].p }]);
        assert!((r[1].alternatives[0].p - 0.2).abs() < 1e-5);
        assert!(r[2].alternatives.is_empty(), "below min_alt_p");
    }

    #[test]
    fn all_blank_is_empty_and_short_input_is_safe() {
        let m = lp(&[[0.9, 0.05, 0.05, 0.0]; 3]);
        assert!(decode(&m, 3, &classes(), 3, 0.0).is_empty());
        assert!(decode(&m[..5], 3, &classes(), 3, 0.0).len() <= 1, "truncated rows are ignored");
    }
}

/// A plate grammar for constrained decoding: a sequence of slots, each a set of classes repeated
/// `min..=max` times (e.g. Moroccan `digit{1,5} letter digit{1,2}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Grammar {
    /// Name shown with reads decoded under it.
    pub name: &'static str,
    /// The slots in reading order.
    pub slots: Vec<Slot>,
}

/// One slot of a [`Grammar`].
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// `allowed[class]`: whether the class may fill this slot.
    pub allowed: Vec<bool>,
    /// Fewest characters.
    pub min: u8,
    /// Most characters.
    pub max: u8,
}

/// The most likely CTC path whose collapsed labels the grammar accepts (Viterbi over frames ×
/// grammar states × previous frame label). Returns the characters (as [`decode`] does) and the
/// path's log-probability; `None` when no path fits.
///
/// `prune`: a frame's class whose log-probability is more than `prune` below that frame's best
/// is never taken. A path taking one is more than `prune` less likely than the best free path,
/// so with `prune` = the acceptance margin the outcome is the same and the search is ~15×
/// cheaper; `f32::INFINITY` searches everything.
pub fn decode_constrained(
    log_probs: &[f32],
    steps: usize,
    classes: &[String],
    grammar: &Grammar,
    k: usize,
    min_alt_p: f32,
    prune: f32,
) -> Option<(Vec<CharRead>, f32)> {
    let c = classes.len();
    let steps = steps.min(log_probs.len() / c.max(1));
    // Grammar states: 0 = nothing emitted; then (slot, count) flattened.
    let mut offsets = Vec::with_capacity(grammar.slots.len());
    let mut n_states = 1usize;
    for s in &grammar.slots {
        offsets.push(n_states);
        n_states += s.max as usize;
    }
    let state_of = |slot: usize, count: u8| offsets[slot] + count as usize - 1;
    // Successor grammar state when emitting class `cls` from `state`.
    let next = |state: usize, cls: usize| -> Option<usize> {
        let (slot, count) = if state == 0 {
            (None, 0u8)
        } else {
            let slot = offsets.iter().rposition(|&o| o <= state)?;
            (Some(slot), (state - offsets[slot] + 1) as u8)
        };
        match slot {
            None => grammar.slots.first().filter(|s| s.allowed[cls]).map(|_| state_of(0, 1)),
            Some(i) => {
                let s = &grammar.slots[i];
                if s.allowed[cls] && count < s.max {
                    return Some(state_of(i, count + 1));
                }
                let n = grammar.slots.get(i + 1)?;
                (count >= s.min && n.allowed[cls]).then(|| state_of(i + 1, 1))
            }
        }
    };
    let accepting = |state: usize| {
        let last = grammar.slots.len().checked_sub(1);
        last.is_some_and(|i| state >= offsets[i] && (state - offsets[i] + 1) as u8 >= grammar.slots[i].min)
    };
    // score[state * c + prev_label]; back-pointers per step.
    const NEG: f32 = f32::NEG_INFINITY;
    let mut score = vec![NEG; n_states * c];
    let mut back: Vec<Vec<(u32, bool)>> = Vec::with_capacity(steps); // (previous index, emitted?)
    score[0] = 0.0; // state 0, previous label blank
    for t in 0..steps {
        let row = &log_probs[t * c..(t + 1) * c];
        let floor = row.iter().copied().fold(NEG, f32::max) - prune;
        let candidates: Vec<usize> = (1..c).filter(|&cls| row[cls] >= floor).collect();
        let mut new = vec![NEG; n_states * c];
        let mut bp = vec![(u32::MAX, false); n_states * c];
        for state in 0..n_states {
            for prev in 0..c {
                let s = score[state * c + prev];
                if s == NEG {
                    continue;
                }
                let from = (state * c + prev) as u32;
                let mut relax = |idx: usize, v: f32, emitted: bool| {
                    if v > new[idx] {
                        new[idx] = v;
                        bp[idx] = (from, emitted);
                    }
                };
                if row[0] >= floor {
                    relax(state * c, s + row[0], false); // blank
                }
                if prev != 0 && row[prev] >= floor {
                    relax(state * c + prev, s + row[prev], false); // the same label continues
                }
                for &cls in &candidates {
                    if cls == prev {
                        continue;
                    }
                    if let Some(ns) = next(state, cls) {
                        relax(ns * c + cls, s + row[cls], true);
                    }
                }
            }
        }
        score = new;
        back.push(bp);
    }
    let (best, best_score) = (0..n_states * c)
        .filter(|i| accepting(i / c))
        .map(|i| (i, score[i]))
        .filter(|(_, s)| *s > NEG)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Walk back, collecting emissions.
    let mut emitted = Vec::new();
    let mut idx = best;
    for t in (0..steps).rev() {
        let (from, em) = back[t][idx];
        if em {
            emitted.push((idx % c, t));
        }
        idx = from as usize;
    }
    emitted.reverse();
    let chars = emitted
        .into_iter()
        .map(|(cls, step)| char_read(&log_probs[step * c..(step + 1) * c], cls, step, classes, k, min_alt_p))
        .collect();
    Some((chars, best_score))
}

/// Log-probability of the best unconstrained path (each frame's most likely class).
pub fn best_path_score(log_probs: &[f32], steps: usize, classes: usize) -> f32 {
    (0..steps.min(log_probs.len() / classes.max(1)))
        .map(|t| log_probs[t * classes..(t + 1) * classes].iter().copied().fold(f32::NEG_INFINITY, f32::max))
        .sum()
}

#[cfg(test)]
mod constrained_tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["<blank>", "1", "2", "أ"].iter().map(|s| s.to_string()).collect()
    }

    fn lp(rows: &[[f32; 4]]) -> Vec<f32> {
        rows.iter().flat_map(|r| r.iter().map(|p| p.max(1e-9).ln())).collect()
    }

    fn grammar() -> Grammar {
        let digit = vec![false, true, true, false];
        let letter = vec![false, false, false, true];
        Grammar {
            name: "digits letter digits",
            slots: vec![
                Slot { allowed: digit.clone(), min: 1, max: 2 },
                Slot { allowed: letter, min: 1, max: 1 },
                Slot { allowed: digit, min: 1, max: 1 },
            ],
        }
    }

    #[test]
    fn the_grammar_turns_a_look_alike_into_the_letter_it_needs() {
        // Best path reads "2 1 2" (the letter slot misread as 1, its runner-up being أ).
        let m = lp(&[
            [0.1, 0.0, 0.9, 0.0],
            [0.9, 0.05, 0.05, 0.0],
            [0.1, 0.6, 0.0, 0.3],
            [0.9, 0.05, 0.05, 0.0],
            [0.1, 0.0, 0.9, 0.0],
        ]);
        let free: String = decode(&m, 5, &classes(), 2, 0.0).iter().map(|c| c.text.clone()).collect();
        assert_eq!(free, "212");
        let (chars, score) = decode_constrained(&m, 5, &classes(), &grammar(), 2, 0.0, f32::INFINITY).unwrap();
        let text: String = chars.iter().map(|c| c.text.clone()).collect();
        assert_eq!(text, "2أ2");
        assert!((chars[1].confidence - 0.3).abs() < 1e-5 && chars[1].step == 2);
        let best = best_path_score(&m, 5, 4);
        assert!(score < best && best - score < 1.0, "costs ln(0.6/0.3): {best} vs {score}");
        // Pruning at a margin wider than the cost finds the same path; narrower, none.
        let (pruned, pruned_score) = decode_constrained(&m, 5, &classes(), &grammar(), 2, 0.0, 1.0).unwrap();
        assert_eq!(pruned.iter().map(|c| c.text.clone()).collect::<String>(), "2أ2");
        assert_eq!(pruned_score, score);
        assert!(decode_constrained(&m, 5, &classes(), &grammar(), 2, 0.0, 0.5).is_none());
    }

    #[test]
    fn repeated_characters_need_a_blank_and_impossible_reads_give_none() {
        // "11أ2": the two 1s are separated by a blank frame.
        let m = lp(&[
            [0.0, 1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0],
        ]);
        let (chars, _) = decode_constrained(&m, 5, &classes(), &grammar(), 2, 0.0, f32::INFINITY).unwrap();
        assert_eq!(chars.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["1", "1", "أ", "2"]);
        // Two frames cannot hold three characters.
        assert!(decode_constrained(&m[..8], 2, &classes(), &grammar(), 2, 0.0, f32::INFINITY).is_none());
    }
}
