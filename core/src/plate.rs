//! Canonical plate text.
//!
//! One plate can be written many ways: `12345 | ب | 6`, `12345-B-6`, `12345ب6`, a two-row plate
//! read top row first (`ب 6 / 12345`), Arabic-Indic digits. [`PlateText::parse`] turns all of
//! them into one canonical display form (`12345-ب-6`) and one **match key** (`12345ب6`: the
//! characters without separators, in canonical order) that watchlists compare.
//!
//! Moroccan conventions: serial 1–99999, one Arabic letter, prefecture code 1–89. Operators may
//! type the Latin transliteration of the letter (أ=A, ب=B, د=D, ه=H/E, و=W/O, ط=T, ج=J, ش=SH/CH);
//! it is mapped to the Arabic letter, so both spellings give the same key.

use serde::{Deserialize, Serialize};

/// Moroccan plate letters: Arabic letter, Latin transliteration shown as alias, other accepted spellings.
pub const MOROCCAN_LETTERS: &[(char, &str, &[&str])] = &[
    ('أ', "A", &[]),
    ('ب', "B", &[]),
    ('د', "D", &[]),
    ('ه', "H", &["E"]),
    ('و', "W", &["O"]),
    ('ط', "T", &[]),
    ('ج', "J", &[]),
    ('ش', "SH", &["CH"]),
];

/// The word on Moroccan government plates.
pub const MOROCCO_WORD: &str = "المغرب";

/// Which plate format a text was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateFormat {
    /// `serial-letter-code`, one or two rows.
    MoroccoStandard,
    /// `WW-digits` temporary registration.
    MoroccoTemporary,
    /// Digits with `المغرب` / `M`.
    MoroccoGovernment,
    /// Contains a `CD` (corps diplomatique) group.
    Diplomatic,
    /// Brazil, old grey plates: `ABC-1234`.
    BrazilOld,
    /// Brazil, Mercosur plates: `ABC1D23`.
    BrazilMercosur,
    /// `AB-123-CD`: France (SIV, since 2009) or Italy (since 1994); the text alone cannot tell
    /// which (the blue band's `F` or `I` is not part of it).
    FranceItaly,
    /// Spain since 2000: `1234-BCD` (four digits, three consonants).
    Spain,
    /// Belgium since 2010: `1-ABC-123`.
    Belgium,
    /// Anything else: groups joined by `-`.
    Generic,
}

impl PlateFormat {
    /// Every format, in declaration order.
    pub const ALL: [PlateFormat; 10] = [
        PlateFormat::MoroccoStandard,
        PlateFormat::MoroccoTemporary,
        PlateFormat::MoroccoGovernment,
        PlateFormat::Diplomatic,
        PlateFormat::BrazilOld,
        PlateFormat::BrazilMercosur,
        PlateFormat::FranceItaly,
        PlateFormat::Spain,
        PlateFormat::Belgium,
        PlateFormat::Generic,
    ];

    /// The stable name: what databases store and JSON shows (`morocco_standard`, …); never
    /// changes when a variant is renamed in code.
    pub fn as_str(self) -> &'static str {
        match self {
            PlateFormat::MoroccoStandard => "morocco_standard",
            PlateFormat::MoroccoTemporary => "morocco_temporary",
            PlateFormat::MoroccoGovernment => "morocco_government",
            PlateFormat::Diplomatic => "diplomatic",
            PlateFormat::BrazilOld => "brazil_old",
            PlateFormat::BrazilMercosur => "brazil_mercosur",
            PlateFormat::FranceItaly => "france_italy",
            PlateFormat::Spain => "spain",
            PlateFormat::Belgium => "belgium",
            PlateFormat::Generic => "generic",
        }
    }
}

/// Why text is not a plate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlateError {
    /// No letters or digits at all.
    #[error("`{0}` has no letters or digits")]
    Empty(String),
    /// Longer than any plate.
    #[error("`{0}` is too long for a plate ({1} characters, at most {MAX_KEY_LEN})")]
    TooLong(String, usize),
}

/// Longest match key accepted.
pub const MAX_KEY_LEN: usize = 16;

/// A plate in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlateText {
    canonical: String,
    key: String,
    format: PlateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit,
    Latin,
    Arabic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    class: Class,
    text: String,
}

/// Maps look-alike spellings to one character: Arabic-Indic digits to ASCII, alef and heh
/// variants to the plate letters, Latin to upper case. Tatweel and other marks become `None`.
pub fn normalise_char(c: char) -> Option<char> {
    match c {
        '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10),
        '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10),
        'ا' | 'إ' | 'آ' | 'ٱ' => Some('أ'),
        'ة' | 'ھ' | 'ہ' => Some('ه'),
        'ؤ' => Some('و'),
        'ـ' => None,
        c if c.is_ascii_alphanumeric() => Some(c.to_ascii_uppercase()),
        c if is_arabic_letter(c) => Some(c),
        _ => None,
    }
}

fn is_arabic_letter(c: char) -> bool {
    ('\u{0621}'..='\u{064A}').contains(&c) && c != 'ـ'
}

fn class_of(c: char) -> Option<Class> {
    if c.is_ascii_digit() {
        Some(Class::Digit)
    } else if c.is_ascii_uppercase() {
        Some(Class::Latin)
    } else if is_arabic_letter(c) {
        Some(Class::Arabic)
    } else {
        None
    }
}

fn tokenise(input: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut split = true;
    for raw in input.chars() {
        if raw == 'ـ' {
            continue; // tatweel stretches a word, it does not split it
        }
        let Some(c) = normalise_char(raw) else {
            split = true;
            continue;
        };
        let Some(class) = class_of(c) else {
            split = true;
            continue;
        };
        match tokens.last_mut() {
            Some(t) if !split && t.class == class => t.text.push(c),
            _ => tokens.push(Token { class, text: c.to_string() }),
        }
        split = false;
    }
    tokens
}

/// The Arabic plate letter a Latin spelling stands for, if any.
pub fn arabic_for_latin(latin: &str) -> Option<char> {
    MOROCCAN_LETTERS
        .iter()
        .find(|(_, primary, others)| *primary == latin || others.contains(&latin))
        .map(|(a, _, _)| *a)
}

/// The Latin transliteration of a Moroccan plate letter.
pub fn latin_for_arabic(c: char) -> Option<&'static str> {
    MOROCCAN_LETTERS.iter().find(|(a, _, _)| *a == c).map(|(_, l, _)| *l)
}

fn plate_letter(t: &Token) -> Option<char> {
    match t.class {
        Class::Arabic => {
            let mut chars = t.text.chars();
            let c = chars.next()?;
            (chars.next().is_none() && latin_for_arabic(c).is_some()).then_some(c)
        }
        Class::Latin => arabic_for_latin(&t.text),
        Class::Digit => None,
    }
}

fn digits(t: &Token, max_len: usize) -> Option<u32> {
    (t.class == Class::Digit && t.text.len() <= max_len).then(|| t.text.parse().ok()).flatten()
}

fn is_code(t: &Token) -> bool {
    digits(t, 2).is_some_and(|v| (1..=89).contains(&v))
}

fn is_serial(t: &Token) -> bool {
    digits(t, 5).is_some_and(|v| v >= 1)
}

/// Recognises Moroccan standard plates in one-row or two-row reading order.
fn moroccan_standard(tokens: &[Token]) -> Option<(String, char, String)> {
    let [a, b, c] = tokens else { return None };
    // One row: serial | letter | code.
    if let Some(l) = plate_letter(b)
        && is_serial(a)
        && is_code(c)
    {
        return Some((a.text.clone(), l, c.text.clone()));
    }
    // Two rows read top first: letter code / serial.
    if let Some(l) = plate_letter(a)
        && is_code(b)
        && is_serial(c)
    {
        return Some((c.text.clone(), l, b.text.clone()));
    }
    // Two rows read top first: code letter / serial (the serial is too large to be a code).
    if let Some(l) = plate_letter(b)
        && is_code(a)
        && is_serial(c)
        && c.text.len() >= 3
    {
        return Some((c.text.clone(), l, a.text.clone()));
    }
    None
}

impl PlateText {
    /// Parses what an operator typed or an OCR read.
    ///
    /// `country` is an ISO 3166 alpha-2 hint (`MA`, `FR`, `BR`…); with a hint other than `MA`,
    /// Latin letters are never taken as Moroccan transliterations.
    pub fn parse(input: &str, country: Option<&str>) -> Result<Self, PlateError> {
        let tokens = tokenise(input);
        if tokens.is_empty() {
            return Err(PlateError::Empty(input.to_owned()));
        }
        let maybe_ma = country.is_none_or(|c| c.eq_ignore_ascii_case("MA"));
        let maybe_br = country.is_none_or(|c| c.eq_ignore_ascii_case("BR"));
        let maybe = |codes: &[&str]| country.is_none_or(|c| codes.iter().any(|k| c.eq_ignore_ascii_case(k)));
        let joined: String = tokens.iter().map(|t| t.text.as_str()).collect();
        let (canonical, format) = if let Some((serial, letter, code)) =
            moroccan_standard(&tokens).filter(|(_, l, _)| maybe_ma || tokens.iter().any(|t| t.text.starts_with(*l)))
        {
            (format!("{serial}-{letter}-{code}"), PlateFormat::MoroccoStandard)
        } else if let Some(d) = temporary_number(&tokens) {
            (format!("WW-{d}"), PlateFormat::MoroccoTemporary)
        } else if let Some(number) = government_number(&tokens, maybe_ma) {
            (format!("{number}-{MOROCCO_WORD}"), PlateFormat::MoroccoGovernment)
        } else if maybe(&["FR", "IT"]) && is_shape(&joined, "LLDDDLL") {
            // Before the `CD` rule: `AB-123-CD` is an ordinary French plate.
            (format!("{}-{}-{}", &joined[..2], &joined[2..5], &joined[5..]), PlateFormat::FranceItaly)
        } else if tokens.iter().any(|t| t.text == "CD") {
            (join(&tokens), PlateFormat::Diplomatic)
        } else if maybe_br && is_shape(&joined, "LLLDDDD") {
            (format!("{}-{}", &joined[..3], &joined[3..]), PlateFormat::BrazilOld)
        } else if maybe_br && is_shape(&joined, "LLLDLDD") {
            (joined.clone(), PlateFormat::BrazilMercosur)
        } else if maybe(&["ES"]) && is_shape(&joined, "DDDDLLL") && joined[4..].chars().all(|c| !"AEIOUQ".contains(c)) {
            (format!("{}-{}", &joined[..4], &joined[4..]), PlateFormat::Spain)
        } else if maybe(&["BE"]) && is_shape(&joined, "DLLLDDD") {
            (format!("{}-{}-{}", &joined[..1], &joined[1..4], &joined[4..]), PlateFormat::Belgium)
        } else {
            (join(&tokens), PlateFormat::Generic)
        };
        let key: String = canonical.chars().filter_map(normalise_char).collect();
        let len = key.chars().count();
        if len > MAX_KEY_LEN {
            return Err(PlateError::TooLong(input.to_owned(), len));
        }
        Ok(PlateText { canonical, key, format })
    }

    /// Display form, e.g. `12345-ب-6`, `AB-123-CD`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Characters without separators, in canonical order, each passed through
    /// [`normalise_char`]; what matchers compare.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The recognised format.
    pub fn format(&self) -> PlateFormat {
        self.format
    }

    /// Country implied by the format, when it implies one.
    pub fn country(&self) -> Option<&'static str> {
        match self.format {
            PlateFormat::MoroccoStandard | PlateFormat::MoroccoTemporary | PlateFormat::MoroccoGovernment => Some("MA"),
            PlateFormat::BrazilOld | PlateFormat::BrazilMercosur => Some("BR"),
            PlateFormat::Spain => Some("ES"),
            PlateFormat::Belgium => Some("BE"),
            PlateFormat::FranceItaly | PlateFormat::Diplomatic | PlateFormat::Generic => None,
        }
    }

    /// The canonical form with Arabic letters transliterated: `12345-B-6`, `123-M`.
    pub fn latin_alias(&self) -> String {
        let text = self.canonical.replace(MOROCCO_WORD, "M");
        text.chars().map(|c| latin_for_arabic(c).map(str::to_owned).unwrap_or_else(|| c.to_string())).collect()
    }
}

/// Serialises a [`PlateText`] as the flat fields plate reads and events have always shown in
/// JSON (reports, `--jsonl`, the console, webhooks): `text` (canonical), `latin`, `key`,
/// `format`. Use with `#[serde(flatten, serialize_with = "raqib_core::plate::read_fields")]`
/// on a `PlateText` field, so the data crosses crates typed and the wire format stays.
pub fn read_fields<S: serde::Serializer>(p: &PlateText, s: S) -> Result<S::Ok, S::Error> {
    ReadFields { text: p.canonical(), latin: p.latin_alias(), key: p.key(), format: p.format(), country: None }
        .serialize(s)
}

/// [`read_fields`] and the `country` the format implies (`null` when none): what `raqib read`
/// shows per plate.
pub fn read_fields_with_country<S: serde::Serializer>(p: &PlateText, s: S) -> Result<S::Ok, S::Error> {
    let country = Some(p.country());
    ReadFields { text: p.canonical(), latin: p.latin_alias(), key: p.key(), format: p.format(), country }.serialize(s)
}

#[derive(Serialize)]
struct ReadFields<'a> {
    text: &'a str,
    latin: String,
    key: &'a str,
    format: PlateFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<Option<&'static str>>,
}

impl std::fmt::Display for PlateText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.canonical)
    }
}

fn join(tokens: &[Token]) -> String {
    tokens.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join("-")
}

/// `L` = Latin letter, `D` = digit.
fn is_shape(s: &str, shape: &str) -> bool {
    s.len() == shape.len()
        && s.chars().zip(shape.chars()).all(|(c, k)| match k {
            'L' => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        })
}

/// `WW 123456` or `123456 WW` (plates show either order).
fn temporary_number(tokens: &[Token]) -> Option<&str> {
    match tokens {
        [w, d] | [d, w] if w.text == "WW" && digits(d, 6).is_some() => Some(&d.text),
        _ => None,
    }
}

fn government_number(tokens: &[Token], maybe_ma: bool) -> Option<String> {
    let [a, b] = tokens else { return None };
    let normalised: String = MOROCCO_WORD.chars().filter_map(normalise_char).collect();
    let word = |t: &Token| t.text == normalised || (maybe_ma && t.text == "M");
    match (digits(a, 7), digits(b, 7)) {
        (Some(_), None) if word(b) => Some(a.text.clone()),
        (None, Some(_)) if word(a) => Some(b.text.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_canonical_form_parses_back_to_the_same_plate() {
        // The vote keeps a voter's parsed plate as it is; that is only right because parsing is
        // idempotent (checked on 3,957 spellings of the real data sets' labels on 2026-12-02).
        for input in [
            "12345 ب 6",
            "12345|أ|40",
            "599625|WW",
            "WW 636945",
            "12 ب 3456",
            "4521-SH-12",
            "123 المغرب",
            "123-M",
            "AB-123-CD",
            "1234 BCD",
            "1-ABC-123",
            "ABC1D23",
            "abc-1234",
            "FUW999",
            "12 CD 34",
            "7ABC123",
        ] {
            let p = PlateText::parse(input, None).unwrap();
            assert_eq!(PlateText::parse(p.canonical(), None).unwrap(), p, "{input}");
        }
    }

    #[test]
    fn stable_names_are_the_json_names() {
        for f in PlateFormat::ALL {
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
    }

    use super::*;

    fn p(s: &str) -> PlateText {
        PlateText::parse(s, None).unwrap()
    }

    #[test]
    fn moroccan_spellings_share_one_key() {
        let canonical = p("12345 | ب | 6");
        assert_eq!(canonical.canonical(), "12345-ب-6");
        assert_eq!(canonical.key(), "12345ب6");
        assert_eq!(canonical.format(), PlateFormat::MoroccoStandard);
        for spelling in ["12345-B-6", "12345 b 6", "12345ب6", "١٢٣٤٥ ب ٦", "ب 6 12345", "6 ب 12345", "12345-ـبـ-6"]
        {
            assert_eq!(p(spelling).key(), canonical.key(), "{spelling}");
        }
        assert_eq!(canonical.latin_alias(), "12345-B-6");
        assert_eq!(p("4521-SH-12").canonical(), "4521-ش-12");
        assert_eq!(p("4521 E 12").canonical(), "4521-ه-12");
        assert_eq!(p("88 ا 7").canonical(), "88-أ-7");
    }

    #[test]
    fn code_out_of_range_is_not_moroccan() {
        assert_eq!(p("12345-B-95").format(), PlateFormat::Generic);
        assert_eq!(p("12345-X-6").format(), PlateFormat::Generic);
    }

    #[test]
    fn country_hint_disables_transliteration() {
        let fr = PlateText::parse("123-B-45", Some("FR")).unwrap();
        assert_eq!(fr.canonical(), "123-B-45");
        // An Arabic letter is Moroccan whatever the hint.
        assert_eq!(PlateText::parse("123-ب-45", Some("FR")).unwrap().format(), PlateFormat::MoroccoStandard);
    }

    #[test]
    fn other_moroccan_series() {
        assert_eq!(p("WW 123456").canonical(), "WW-123456");
        assert_eq!(p("WW-123456").format(), PlateFormat::MoroccoTemporary);
        assert_eq!(p("557330 WW").canonical(), "WW-557330");
        assert_eq!(p("557330WW").key(), p("WW 557330").key());
        assert_eq!(p("المغرب 12345").canonical(), "12345-المغرب");
        assert_eq!(p("12345 M").key(), p("12345 المغرب").key());
        assert_eq!(p("12345 M").latin_alias(), "12345-M");
        assert_eq!(p("12 CD 345").format(), PlateFormat::Diplomatic);
    }

    #[test]
    fn european_and_brazilian() {
        assert_eq!(p("ab-123-cd").canonical(), "AB-123-CD");
        assert_eq!(p("AB 123 CD").key(), "AB123CD");
        assert_eq!(p("ABC 1234").canonical(), "ABC-1234");
        assert_eq!(p("ABC1234").format(), PlateFormat::BrazilOld);
        assert_eq!(p("ABC1D23").format(), PlateFormat::BrazilMercosur);
        assert_eq!(p("ABC1D23").canonical(), "ABC1D23");
        assert_eq!(p("ab-123-cd").format(), PlateFormat::FranceItaly);
        assert_eq!(p("AB123CD").canonical(), "AB-123-CD");
        assert_eq!(p("AB123CD").country(), None, "France or Italy");
        assert_eq!(p("1234 BCD").canonical(), "1234-BCD");
        assert_eq!(p("1234BCD").country(), Some("ES"));
        assert_eq!(p("1234 ABC").format(), PlateFormat::Generic, "Spanish plates have no vowels");
        assert_eq!(p("1-ABC-123").format(), PlateFormat::Belgium);
        assert_eq!(p("1ABC123").canonical(), "1-ABC-123");
        // A hint for another country keeps these shapes generic.
        assert_eq!(PlateText::parse("AB-123-EF", Some("DE")).unwrap().format(), PlateFormat::Generic);
        assert_eq!(PlateText::parse("AB-123-CD", Some("it")).unwrap().format(), PlateFormat::FranceItaly);
        // Without a hint this German plate has the shape of an old Brazilian one; the key is the same.
        assert_eq!(p("B-MW 1234").key(), "BMW1234");
        assert_eq!(PlateText::parse("B-MW 1234", Some("DE")).unwrap().canonical(), "B-MW-1234");
    }

    #[test]
    fn rejects_non_plates() {
        assert!(matches!(PlateText::parse(" -- | ", None), Err(PlateError::Empty(_))));
        assert!(matches!(PlateText::parse("1234567890ABCDEFGH", None), Err(PlateError::TooLong(_, 18))));
    }
}
