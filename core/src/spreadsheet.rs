//! Cells that a spreadsheet would run as formulas: a CSV written for people to open (watchlist
//! export, replay report) must not carry `=HYPERLINK(…)` or `@SUM(…)` from an entry's notes or an
//! imported file into an analyst's spreadsheet. A cell starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return gets a leading `'` (the OWASP rule), so it is shown as text.

use std::borrow::Cow;

/// `text`, with a leading `'` when a spreadsheet would read it as a formula.
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_prefixes_are_neutralised_and_plain_text_kept() {
        for f in ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "=HYPERLINK(\"http://x\")"] {
            assert_eq!(spreadsheet_safe(f), format!("'{f}"));
        }
        for t in ["12345-ب-6", "AB-123-CD", "silver sedan", "", "2099-01-01T00:00:00+00:00", "a=b"] {
            assert_eq!(spreadsheet_safe(t), t);
        }
    }
}
