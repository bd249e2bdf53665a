//! In-memory index of watchlist plate keys: exact lookup, OCR-confusion-aware fuzzy search and
//! wildcard patterns, all answered by walking one trie.
//!
//! Fuzzy search runs a weighted edit-distance DP down the trie (one DP row per trie node) and
//! abandons a branch as soon as every cell of its row exceeds the allowed cost, so it touches
//! only plates that share a close prefix with the read instead of every entry: at 1M entries a
//! distance-2 query visits a few thousand nodes (see `benches/matching.rs` and BENCHMARKS.md).

use raqib_core::PlateText;
use raqib_core::plate::{arabic_for_latin, latin_for_arabic, normalise_char};
use serde::Serialize;

use crate::confusion::{Alphabet, CONFUSABLE};

/// Longest key indexed (matches `raqib_core::plate::MAX_KEY_LEN`).
const MAX_LEN: usize = raqib_core::plate::MAX_KEY_LEN;

#[derive(Debug, Clone, Copy)]
struct Node {
    sym: u16,
    /// Shortest and longest key length in this node's subtree (for the search bound).
    min_len: u8,
    max_len: u8,
    first_child: u32,
    n_children: u16,
    entries_start: u32,
    entries_len: u32,
}

/// What the OCR saw at each position of a plate: candidates with probabilities, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyQuery {
    positions: Vec<Vec<(char, f32)>>,
}

impl FuzzyQuery {
    /// A query from a plate with no alternatives (typed by a person, or a confident read).
    pub fn from_plate(plate: &PlateText) -> Self {
        FuzzyQuery { positions: plate.key().chars().map(|c| vec![(c, 1.0)]).collect() }
    }

    /// A query from OCR output aligned with the plate's key: per position, candidates and their
    /// probabilities, best first. Empty positions are dropped.
    pub fn with_alternatives(positions: Vec<Vec<(char, f32)>>) -> Self {
        let positions = positions
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.into_iter().filter_map(|(c, prob)| normalise_char(c).map(|c| (c, prob.clamp(0.0, 1.0)))).collect()
            })
            .filter(|p: &Vec<(char, f32)>| !p.is_empty())
            .take(MAX_LEN)
            .collect();
        FuzzyQuery { positions }
    }

    /// The best reading, as a key string.
    pub fn best(&self) -> String {
        self.positions.iter().map(|p| p[0].0).collect()
    }

    fn len(&self) -> usize {
        self.positions.len()
    }

    /// Cost of the plate having `c` where this query read position `i`.
    fn cost_at(&self, i: usize, c: char) -> f32 {
        let cands = &self.positions[i];
        let mut best = crate::confusion::substitution_cost(cands[0].0, c);
        for (alt, p) in cands.iter().skip(1) {
            if *alt == c {
                best = best.min(1.0 - p);
            }
        }
        best
    }
}

/// One step of the cheapest alignment between a read and a watchlist plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// The read has `read` where the plate has `plate`.
    Substitute {
        /// Position in the plate key (0-based).
        position: usize,
        /// What was read.
        read: char,
        /// What the plate has.
        plate: char,
        /// Cost of this step.
        cost: f32,
        /// Why it is cheap (`ocr_confusion`, `ocr_alternative`) or `different`.
        why: &'static str,
    },
    /// The read has an extra character.
    ExtraInRead {
        /// The character.
        read: char,
    },
    /// The read misses a character of the plate.
    MissingInRead {
        /// Position in the plate key.
        position: usize,
        /// The character.
        plate: char,
    },
}

/// A wildcard pattern over plate keys: `?` one character, `*` any run, separators ignored,
/// Moroccan Latin transliterations match the Arabic letter too (`12?45-B-*`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    elems: Vec<PatElem>,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum PatElem {
    Chars(Vec<char>),
    One,
    Star,
}

impl Pattern {
    /// Parses a pattern; fails when it has no literal character or is too long.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut elems = Vec::new();
        for raw in text.chars() {
            match raw {
                '?' => elems.push(PatElem::One),
                '*' => {
                    if elems.last() != Some(&PatElem::Star) {
                        elems.push(PatElem::Star)
                    }
                }
                _ => {
                    let Some(c) = normalise_char(raw) else { continue };
                    let mut set = vec![c];
                    if let Some(a) = arabic_for_latin(&c.to_string()) {
                        set.push(a);
                    }
                    if let Some(l) = latin_for_arabic(c).filter(|l| l.len() == 1).and_then(|l| l.chars().next()) {
                        set.push(l);
                    }
                    elems.push(PatElem::Chars(set));
                }
            }
        }
        if !elems.iter().any(|e| matches!(e, PatElem::Chars(_))) {
            return Err(format!("pattern `{text}` has no letter or digit"));
        }
        if elems.len() > 48 {
            return Err(format!("pattern `{text}` is too long"));
        }
        Ok(Pattern { elems, text: text.to_owned() })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a match key fits the pattern.
    pub fn matches(&self, key: &str) -> bool {
        let key: Vec<char> = key.chars().collect();
        fn go(elems: &[PatElem], key: &[char]) -> bool {
            match elems.split_first() {
                None => key.is_empty(),
                Some((PatElem::Star, rest)) => (0..=key.len()).any(|i| go(rest, &key[i..])),
                Some((PatElem::One, rest)) => !key.is_empty() && go(rest, &key[1..]),
                Some((PatElem::Chars(set), rest)) => {
                    key.first().is_some_and(|c| set.contains(c)) && go(rest, &key[1..])
                }
            }
        }
        go(&self.elems, &key)
    }

    /// A SQL `LIKE` pattern (escape `\\`) that every matching key fits: characters with one
    /// spelling stay, the others become `_`, `?` is `_` and `*` is `%`. Filter its rows with
    /// [`Pattern::matches`].
    pub fn sql_like(&self) -> String {
        let mut out = String::new();
        for e in &self.elems {
            match e {
                PatElem::Star => out.push('%'),
                PatElem::One => out.push('_'),
                PatElem::Chars(set) if set.len() == 1 => {
                    if matches!(set[0], '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(set[0]);
                }
                PatElem::Chars(_) => out.push('_'),
            }
        }
        out
    }
}

/// The trie of keys; each key carries the caller's slot numbers (entries with that key).
#[derive(Debug, Clone)]
pub struct PlateIndex {
    table: Alphabet,
    nodes: Vec<Node>,
    slots: Vec<u32>,
    keys: usize,
}

impl PlateIndex {
    /// Builds the index from `(key, slot)` pairs; several slots may share a key.
    pub fn build<'a>(items: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let items: Vec<(&str, u32)> = items.into_iter().collect();
        let table = Alphabet::new(
            items.iter().flat_map(|(k, _)| k.chars()).chain(CONFUSABLE.iter().flat_map(|(a, b, _)| [*a, *b])),
        );
        let mut seqs: Vec<(Vec<u16>, u32)> = items
            .iter()
            .map(|(k, slot)| (k.chars().take(MAX_LEN).filter_map(|c| table.index(c)).collect(), *slot))
            .collect();
        seqs.sort_unstable();
        let blank = |sym| Node {
            sym,
            min_len: u8::MAX,
            max_len: 0,
            first_child: 0,
            n_children: 0,
            entries_start: 0,
            entries_len: 0,
        };
        let mut nodes = vec![blank(u16::MAX)];
        let mut depths = vec![0u8];
        let mut slots = Vec::with_capacity(seqs.len());
        let mut queue = std::collections::VecDeque::from([(0usize, 0usize, seqs.len(), 0usize)]);
        while let Some((node, start, end, depth)) = queue.pop_front() {
            let mut i = start;
            nodes[node].entries_start = slots.len() as u32;
            while i < end && seqs[i].0.len() == depth {
                slots.push(seqs[i].1);
                i += 1;
            }
            nodes[node].entries_len = slots.len() as u32 - nodes[node].entries_start;
            nodes[node].first_child = nodes.len() as u32;
            let mut children = 0u16;
            while i < end {
                let sym = seqs[i].0[depth];
                let mut j = i;
                while j < end && seqs[j].0[depth] == sym {
                    j += 1;
                }
                nodes.push(blank(sym));
                depths.push(depth as u8 + 1);
                queue.push_back((nodes.len() - 1, i, j, depth + 1));
                children += 1;
                i = j;
            }
            nodes[node].n_children = children;
        }
        // Children always come after their parent, so one backward pass fills subtree lengths.
        for i in (0..nodes.len()).rev() {
            if nodes[i].entries_len > 0 {
                nodes[i].min_len = nodes[i].min_len.min(depths[i]);
                nodes[i].max_len = nodes[i].max_len.max(depths[i]);
            }
            let (first, count) = (nodes[i].first_child as usize, nodes[i].n_children as usize);
            for c in first..first + count {
                nodes[i].min_len = nodes[i].min_len.min(nodes[c].min_len);
                nodes[i].max_len = nodes[i].max_len.max(nodes[c].max_len);
            }
        }
        let keys = nodes.iter().filter(|n| n.entries_len > 0).count();
        PlateIndex { table, nodes, slots, keys }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.keys
    }

    /// Whether no key is indexed.
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }

    fn children(&self, node: usize) -> &[Node] {
        let n = &self.nodes[node];
        &self.nodes[n.first_child as usize..n.first_child as usize + n.n_children as usize]
    }

    fn entries(&self, node: &Node) -> &[u32] {
        &self.slots[node.entries_start as usize..(node.entries_start + node.entries_len) as usize]
    }

    /// Slots whose key is exactly `key`.
    pub fn exact(&self, key: &str) -> &[u32] {
        let mut node = 0usize;
        for c in key.chars() {
            let Some(sym) = self.table.index(c) else { return &[] };
            let first = self.nodes[node].first_child as usize;
            match self.children(node).binary_search_by_key(&sym, |n| n.sym) {
                Ok(i) => node = first + i,
                Err(_) => return &[],
            }
        }
        self.entries(&self.nodes[node])
    }

    /// Slots whose key is within weighted edit distance `max_cost` of the query, with that
    /// distance, cheapest first.
    pub fn fuzzy(&self, query: &FuzzyQuery, max_cost: f32) -> Vec<(u32, f32)> {
        let n = query.len();
        if n == 0 {
            return Vec::new();
        }
        // Cost of each query position against each symbol, computed once per query.
        // cost[s * n + i]: the plate having symbol s where the read has position i.
        let syms = self.table.len();
        let mut cost = vec![1.0f32; n * syms];
        for s in 0..syms {
            for i in 0..n {
                cost[s * n + i] = query.cost_at(i, self.table.symbol(s as u16));
            }
        }
        let mut root = [0f32; MAX_LEN + 1];
        for (i, cell) in root.iter_mut().enumerate().take(n + 1) {
            *cell = i as f32;
        }
        let mut out = Vec::new();
        let band = (max_cost.max(0.0).floor() as usize).min(MAX_LEN);
        let walk = Walk { index: self, cost: &cost, n, max_cost, band, sentinel: max_cost + 1.0 };
        walk.descend(0, 0, &root, &mut out);
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Slots whose key matches the wildcard pattern.
    pub fn wildcard(&self, pattern: &Pattern) -> Vec<u32> {
        let elems: Vec<Option<Vec<u16>>> = pattern
            .elems
            .iter()
            .map(|e| match e {
                PatElem::Chars(cs) => Some(cs.iter().filter_map(|c| self.table.index(*c)).collect()),
                PatElem::One => Some(Vec::new()),
                PatElem::Star => None,
            })
            .collect();
        let kinds: Vec<&PatElem> = pattern.elems.iter().collect();
        let m = elems.len();
        let closure = |mut set: u64| {
            // A star may match nothing: from state k (at a star) also be in k + 1.
            for (k, kind) in kinds.iter().enumerate() {
                if set & (1 << k) != 0 && matches!(kind, PatElem::Star) {
                    set |= 1 << (k + 1);
                }
            }
            set
        };
        let step = |set: u64, sym: u16| {
            let mut next = 0u64;
            for k in 0..m {
                if set & (1 << k) == 0 {
                    continue;
                }
                match (&elems[k], kinds[k]) {
                    (_, PatElem::Star) => next |= 1 << k,
                    (_, PatElem::One) => next |= 1 << (k + 1),
                    (Some(syms), _) if syms.contains(&sym) => next |= 1 << (k + 1),
                    _ => {}
                }
            }
            closure(next)
        };
        let mut out = Vec::new();
        let mut stack = vec![(0usize, closure(1))];
        while let Some((node, set)) = stack.pop() {
            if set & (1 << m) != 0 {
                out.extend_from_slice(self.entries(&self.nodes[node]));
            }
            let first = self.nodes[node].first_child as usize;
            for (i, child) in self.children(node).iter().enumerate() {
                let next = step(set, child.sym);
                if next != 0 {
                    stack.push((first + i, next));
                }
            }
        }
        out.sort_unstable();
        out
    }
}

struct Walk<'a> {
    index: &'a PlateIndex,
    cost: &'a [f32],
    n: usize,
    max_cost: f32,
    /// How far from the diagonal a cell can be and still cost ≤ max_cost.
    band: usize,
    /// Value for cells outside the band: above max_cost.
    sentinel: f32,
}

impl Walk<'_> {
    /// Visits the children of `node` (at trie depth `depth`) given the DP row of `node`.
    ///
    /// A branch is abandoned when no key below it can end within `max_cost`: each cell's cost so
    /// far plus the characters that must still be inserted or deleted, given the shortest and
    /// longest key in the branch.
    fn descend(&self, node: usize, depth: usize, prev: &[f32; MAX_LEN + 1], out: &mut Vec<(u32, f32)>) {
        let first = self.index.nodes[node].first_child as usize;
        let d = depth + 1;
        let n = self.n;
        for (ci, child) in self.index.children(node).iter().enumerate() {
            let (lo, hi) = (child.min_len as i32 - d as i32, child.max_len as i32 - d as i32);
            let gap = |i: usize| {
                let rest = (n - i) as i32;
                (lo - rest).max(rest - hi).max(0) as f32
            };
            let costs = &self.cost[child.sym as usize * n..][..n];
            // Only cells within `band` of the diagonal can be ≤ max_cost (each step off it is an
            // insertion or deletion costing 1); the others hold a sentinel above max_cost.
            let mut row = [self.sentinel; MAX_LEN + 1];
            let (from, to) = (d.saturating_sub(self.band), (d + self.band).min(n));
            let mut bound = f32::INFINITY;
            if from == 0 {
                row[0] = prev[0] + 1.0;
                bound = row[0] + gap(0);
            }
            for i in from.max(1)..=to {
                let v = (prev[i - 1] + costs[i - 1]).min(prev[i] + 1.0).min(row[i - 1] + 1.0);
                row[i] = v;
                bound = bound.min(v + gap(i));
            }
            if bound > self.max_cost {
                continue;
            }
            if child.entries_len > 0 && row[n] <= self.max_cost {
                out.extend(self.index.entries(child).iter().map(|s| (*s, row[n])));
            }
            if child.n_children > 0 {
                self.descend(first + ci, depth + 1, &row, out);
            }
        }
    }
}

/// The cheapest alignment of `query` with `key` and its steps.
pub fn explain(query: &FuzzyQuery, key: &str) -> (f32, Vec<Edit>) {
    let plate: Vec<char> = key.chars().collect();
    let (n, m) = (query.len(), plate.len());
    let mut d = vec![vec![0f32; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as f32;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as f32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + query.cost_at(i - 1, plate[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1.0).min(d[i][j - 1] + 1.0);
        }
    }
    let mut edits = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 {
            let c = query.cost_at(i - 1, plate[j - 1]);
            if (d[i][j] - (d[i - 1][j - 1] + c)).abs() < 1e-6 {
                if c > 0.0 {
                    let read = query.positions[i - 1][0].0;
                    let why = if (crate::confusion::substitution_cost(read, plate[j - 1]) - c).abs() < 1e-6 {
                        if c < 1.0 { "ocr_confusion" } else { "different" }
                    } else {
                        "ocr_alternative"
                    };
                    edits.push(Edit::Substitute { position: j - 1, read, plate: plate[j - 1], cost: c, why });
                }
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && (j == 0 || (d[i][j] - (d[i - 1][j] + 1.0)).abs() < 1e-6) {
            edits.push(Edit::ExtraInRead { read: query.positions[i - 1][0].0 });
            i -= 1;
        } else {
            edits.push(Edit::MissingInRead { position: j - 1, plate: plate[j - 1] });
            j -= 1;
        }
    }
    edits.reverse();
    (d[n][m], edits)
}

pub use raqib_core::edit::levenshtein;

#[cfg(test)]
mod tests {

    #[test]
    fn patterns_match_keys_and_give_a_covering_like() {
        let p = Pattern::parse("12?45-B-*").unwrap();
        assert!(p.matches("12345ب6") && p.matches("12945B66"));
        assert!(!p.matches("1234ب6") && !p.matches("12345د6"));
        assert_eq!(p.sql_like(), "12_45_%");
        assert_eq!(Pattern::parse("x7*").unwrap().sql_like(), "X7%");
    }

    use super::*;

    fn key(s: &str) -> String {
        PlateText::parse(s, None).unwrap().key().to_owned()
    }

    fn index(plates: &[&str]) -> (PlateIndex, Vec<String>) {
        let keys: Vec<String> = plates.iter().map(|p| key(p)).collect();
        (PlateIndex::build(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32))), keys)
    }

    #[test]
    fn exact_lookup_ignores_spelling() {
        let (idx, _) = index(&["12345-ب-6", "AB-123-CD", "1234-ب-6", "12345-ب-6"]);
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.exact(&key("12345 B 6")), &[0, 3]);
        assert_eq!(idx.exact(&key("ab123cd")), &[1]);
        assert!(idx.exact(&key("12345-ب-7")).is_empty());
        assert!(idx.exact("XYZ").is_empty());
    }

    #[test]
    fn confusions_found_where_plain_edit_distance_misses() {
        // Three look-alike substitutions: plain edit distance 3, weighted 0.6.
        let (idx, keys) = index(&["AB-880-CD", "XY-123-ZZ"]);
        let read = PlateText::parse("A8-BB0-CD", Some("FR")).unwrap();
        assert_eq!(levenshtein(read.key(), &keys[0]), 3);
        let hits = idx.fuzzy(&FuzzyQuery::from_plate(&read), 2.0);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 0);
        assert!((hits[0].1 - 0.6).abs() < 1e-5, "{}", hits[0].1);
        // Unrelated substitutions cost full price.
        let far = PlateText::parse("AX-KK0-CD", Some("FR")).unwrap();
        assert!(idx.fuzzy(&FuzzyQuery::from_plate(&far), 2.0).is_empty());
    }

    #[test]
    fn arabic_letter_confusions_and_indels() {
        let (idx, _) = index(&["12345-ب-6"]);
        let read = PlateText::parse("12345-ت-6", None).unwrap();
        let hits = idx.fuzzy(&FuzzyQuery::from_plate(&read), 1.0);
        assert_eq!(hits.len(), 1);
        assert!((hits[0].1 - 0.3).abs() < 1e-5);
        // One digit dropped by the OCR.
        let short = PlateText::parse("1245-ب-6", None).unwrap();
        assert_eq!(idx.fuzzy(&FuzzyQuery::from_plate(&short), 1.0)[0].1, 1.0);
    }

    #[test]
    fn ocr_alternatives_lower_the_cost() {
        let (idx, _) = index(&["AB-123-CD"]);
        // OCR read K (unrelated to B) but gave B 40 %.
        let mut positions: Vec<Vec<(char, f32)>> = "AK123CD".chars().map(|c| vec![(c, 0.99)]).collect();
        positions[1] = vec![('K', 0.55), ('B', 0.40)];
        let q = FuzzyQuery::with_alternatives(positions);
        let hits = idx.fuzzy(&q, 1.0);
        assert!((hits[0].1 - 0.6).abs() < 1e-5, "{hits:?}");
        let (_, edits) = explain(&q, "AB123CD");
        assert!(matches!(edits[0], Edit::Substitute { why: "ocr_alternative", plate: 'B', .. }), "{edits:?}");
    }

    #[test]
    fn explain_lists_the_edits() {
        let q = FuzzyQuery::from_plate(&PlateText::parse("A8-123-CDX", Some("FR")).unwrap());
        let (cost, edits) = explain(&q, "AB123CD");
        assert!((cost - 1.2).abs() < 1e-5);
        assert_eq!(edits.len(), 2);
        assert!(matches!(edits[0], Edit::Substitute { position: 1, read: '8', plate: 'B', why: "ocr_confusion", .. }));
        assert!(matches!(edits[1], Edit::ExtraInRead { read: 'X' }));
    }

    #[test]
    fn fuzzy_finds_exactly_what_brute_force_finds() {
        let plates: Vec<String> = (0..400)
            .map(|i| match i % 3 {
                0 => format!("{}-ب-{}", 100 + i * 7, 1 + i % 89),
                1 => format!("A{}-{:03}-C{}", (b'A' + (i % 26) as u8) as char, i, (b'A' + (i % 7) as u8) as char),
                _ => format!("{}-د-{}", 1 + i, 1 + i % 9),
            })
            .collect();
        let refs: Vec<&str> = plates.iter().map(String::as_str).collect();
        let (idx, keys) = index(&refs);
        for read in ["107-ب-2", "AB-003-CB", "8-د-8", "1O7-ب-2", "AB003", "12-د-3"] {
            let q = FuzzyQuery::from_plate(&PlateText::parse(read, None).unwrap());
            for max in [0.5f32, 1.0, 2.0] {
                let mut got: Vec<u32> = idx.fuzzy(&q, max).into_iter().map(|(s, _)| s).collect();
                got.sort_unstable();
                let want: Vec<u32> =
                    (0..keys.len() as u32).filter(|i| explain(&q, &keys[*i as usize]).0 <= max + 1e-6).collect();
                assert_eq!(got, want, "read {read} max {max}");
            }
        }
    }

    #[test]
    fn wildcards() {
        let (idx, _) = index(&["12345-ب-6", "12845-ب-6", "12345-د-6", "12345-ب-61", "AB-123-CD"]);
        let m = |p: &str| idx.wildcard(&Pattern::parse(p).unwrap());
        assert_eq!(m("12?45-ب-*"), vec![0, 1, 3]);
        assert_eq!(m("12?45-B-?"), vec![0, 1]);
        assert_eq!(m("*-D-6"), vec![2]);
        assert_eq!(m("AB*"), vec![4]);
        assert!(Pattern::parse("*").is_err());
        assert!(Pattern::parse("*?*").is_err());
    }
}
