//! Which characters plate OCR confuses, and how cheap a substitution between them is.
//!
//! Costs are in edit units: a substitution between unrelated characters, an insertion or a
//! deletion costs 1.0; a substitution between look-alikes costs less. The pairs cover Latin and
//! digit look-alikes on plates (0/O/D/Q, 1/I/7, 8/B, 5/S, 2/Z, 6/G …) and Arabic letters that
//! differ only by dots or a stroke (ب/ت/ث/ن, ج/ح/خ, د/ذ, ر/ز, س/ش, ص/ض, ط/ظ, ع/غ, ف/ق), plus the
//! cross-script pairs seen on Moroccan plates (أ/1, ه/0, و/9).

/// Look-alike pairs and their substitution cost (symmetric).
pub const CONFUSABLE: &[(char, char, f32)] = &[
    ('0', 'O', 0.2),
    ('0', 'D', 0.4),
    ('0', 'Q', 0.4),
    ('O', 'D', 0.3),
    ('O', 'Q', 0.3),
    ('D', 'Q', 0.5),
    ('0', 'U', 0.6),
    ('1', 'I', 0.2),
    ('1', '7', 0.3),
    ('1', 'L', 0.4),
    ('1', 'T', 0.5),
    ('I', 'L', 0.4),
    ('I', 'T', 0.5),
    ('7', 'T', 0.5),
    ('8', 'B', 0.2),
    ('8', '3', 0.5),
    ('8', '6', 0.5),
    ('8', '0', 0.5),
    ('3', 'B', 0.5),
    ('5', 'S', 0.2),
    ('2', 'Z', 0.25),
    ('6', 'G', 0.3),
    ('4', 'A', 0.5),
    ('9', 'G', 0.5),
    ('C', 'G', 0.4),
    ('E', 'F', 0.4),
    ('P', 'R', 0.4),
    ('M', 'N', 0.4),
    ('N', 'H', 0.5),
    ('V', 'Y', 0.5),
    ('U', 'V', 0.5),
    ('K', 'X', 0.5),
    ('W', 'V', 0.5),
    ('ب', 'ت', 0.3),
    ('ب', 'ث', 0.3),
    ('ت', 'ث', 0.3),
    ('ب', 'ن', 0.4),
    ('ج', 'ح', 0.3),
    ('ج', 'خ', 0.3),
    ('ح', 'خ', 0.3),
    ('د', 'ذ', 0.3),
    ('ر', 'ز', 0.3),
    ('د', 'ر', 0.5),
    ('س', 'ش', 0.3),
    ('ص', 'ض', 0.3),
    ('ط', 'ظ', 0.3),
    ('ع', 'غ', 0.3),
    ('ف', 'ق', 0.3),
    ('أ', '1', 0.3),
    ('ه', '0', 0.5),
    ('و', '9', 0.5),
];

/// Cost of reading `a` where the plate says `b` (or the reverse): 0 when equal, the pair's cost
/// for look-alikes, 1 otherwise.
pub fn substitution_cost(a: char, b: char) -> f32 {
    if a == b {
        return 0.0;
    }
    CONFUSABLE.iter().find(|(x, y, _)| (*x == a && *y == b) || (*x == b && *y == a)).map(|(_, _, c)| *c).unwrap_or(1.0)
}

/// The characters a plate index knows, numbered densely so per-query cost rows are arrays.
#[derive(Debug, Clone)]
pub(crate) struct Alphabet {
    symbols: Vec<char>,
}

impl Alphabet {
    /// Every character in `symbols`, deduplicated, order kept.
    pub(crate) fn new(symbols: impl IntoIterator<Item = char>) -> Self {
        let mut syms: Vec<char> = Vec::new();
        for c in symbols {
            if !syms.contains(&c) {
                syms.push(c);
            }
        }
        Alphabet { symbols: syms }
    }

    /// Index of `c`, if it is in the alphabet.
    pub(crate) fn index(&self, c: char) -> Option<u16> {
        self.symbols.iter().position(|s| *s == c).map(|i| i as u16)
    }

    /// Symbol at `i`.
    pub(crate) fn symbol(&self, i: u16) -> char {
        self.symbols[i as usize]
    }

    /// Number of symbols.
    pub(crate) fn len(&self) -> usize {
        self.symbols.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_bounded() {
        for (a, b, c) in CONFUSABLE {
            assert!(*c > 0.0 && *c < 1.0, "{a}/{b}");
            assert_eq!(substitution_cost(*a, *b), substitution_cost(*b, *a));
        }
        assert_eq!(substitution_cost('8', 'B'), 0.2);
        assert_eq!(substitution_cost('A', 'Z'), 1.0);
        assert_eq!(substitution_cost('ب', 'ب'), 0.0);
    }

    #[test]
    fn alphabet_deduplicates() {
        let t = Alphabet::new("08B0ب8".chars());
        assert_eq!(t.len(), 4);
        assert_eq!(t.symbol(t.index('ب').unwrap()), 'ب');
        assert_eq!(t.index('X'), None);
    }
}
