//! Plain edit distance between plate keys (unit costs). The OCR-aware weighted distance of
//! watchlist matching is `raqib_watchlist::plate_index`; this one serves tracking (a read one edit
//! from the track's recent keys continues it) and evaluation.

/// Plain (unit-cost) Levenshtein distance between two strings, in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for j in 1..=b.len() {
            row[j] = (prev[j - 1] + usize::from(ca != b[j - 1])).min(prev[j] + 1).min(row[j - 1] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_costs_in_characters() {
        assert_eq!(super::levenshtein("12345ب6", "12345ب6"), 0);
        assert_eq!(super::levenshtein("12345ب6", "12345ت6"), 1);
        assert_eq!(super::levenshtein("AB123CD", "B123CDX"), 2);
        assert_eq!(super::levenshtein("", "abc"), 3);
    }
}
