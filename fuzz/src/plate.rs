//! Plate text: `PlateText::parse` with and without a country hint. Invariants: parsing never
//! panics, and a parsed plate's canonical text parses back to the same plate (what the node
//! stores is what a search for it finds).

use raqib_core::PlateText;

/// The target.
pub fn plate_text(data: &[u8]) {
    let (hint, rest) = match data.split_first() {
        Some((b, rest)) => (["MA", "FR", "BR", "US", "", "XX"].get(usize::from(*b % 8)).copied(), rest),
        None => (None, data),
    };
    let input = crate::text(rest);
    let hint = hint.filter(|h| !h.is_empty());
    let Ok(plate) = PlateText::parse(&input, hint) else { return };
    let again = PlateText::parse(plate.canonical(), hint)
        .unwrap_or_else(|e| panic!("{input:?} parsed as {:?}, which does not parse back: {e}", plate.canonical()));
    assert_eq!(again.canonical(), plate.canonical(), "parsing {input:?} is not idempotent");
    assert_eq!(again.key(), plate.key(), "{input:?}: the search key changed on re-parsing");
}
