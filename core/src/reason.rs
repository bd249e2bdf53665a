//! [`Reason`]: why someone reads, exports or deletes personal data. The one rule for every
//! search, evidence export and watchlist removal, on the command line and in the API alike; the
//! text goes into the audit log.

use serde::{Deserialize, Serialize};

/// Fewest characters (not counting surrounding white space) a reason may have.
pub const MIN_REASON_CHARS: usize = 3;
/// Most characters a reason may have (the audit log keeps it whole).
pub const MAX_REASON_CHARS: usize = 500;

/// Why a reason is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    /// Missing, or shorter than [`MIN_REASON_CHARS`].
    #[error("a reason of at least {MIN_REASON_CHARS} characters is required (it is written to the audit log)")]
    TooShort,
    /// Longer than [`MAX_REASON_CHARS`].
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    TooLong,
    /// Holds control characters (new lines, escape sequences), which could forge audit lines.
    #[error("the reason may not hold control characters (new lines, escapes)")]
    ControlCharacters,
}

/// A checked reason: trimmed, 3–500 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// Checks `text` against the rule.
    pub fn new(text: &str) -> Result<Reason, ReasonError> {
        let t = text.trim();
        if t.chars().any(char::is_control) {
            return Err(ReasonError::ControlCharacters);
        }
        let n = t.chars().count();
        if n < MIN_REASON_CHARS {
            return Err(ReasonError::TooShort);
        }
        if n > MAX_REASON_CHARS {
            return Err(ReasonError::TooLong);
        }
        Ok(Reason(t.to_owned()))
    }

    /// An optional reason (a missing one is [`ReasonError::TooShort`]).
    pub fn required(text: Option<&str>) -> Result<Reason, ReasonError> {
        Reason::new(text.unwrap_or_default())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Reason {
    type Error = ReasonError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Reason::new(&s)
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert_eq!(Reason::new("  case 2026/114 ").unwrap().as_str(), "case 2026/114");
        assert_eq!(Reason::new("قضية").unwrap().as_str(), "قضية");
        assert_eq!(Reason::new("ab"), Err(ReasonError::TooShort));
        assert_eq!(Reason::new("   "), Err(ReasonError::TooShort));
        assert_eq!(Reason::required(None), Err(ReasonError::TooShort));
        assert_eq!(Reason::new("case\nforged line"), Err(ReasonError::ControlCharacters));
        assert_eq!(Reason::new("case \x1b[31m"), Err(ReasonError::ControlCharacters));
        assert_eq!(Reason::new(&"x".repeat(501)), Err(ReasonError::TooLong));
        assert!(serde_json::from_str::<Reason>("\"no\"").is_err());
        assert_eq!(serde_json::from_str::<Reason>("\"case 7\"").unwrap().as_str(), "case 7");
    }
}
