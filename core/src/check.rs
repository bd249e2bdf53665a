//! One line of `raqib doctor`: what was checked, what was found, how to fix it. Each library
//! checks its own part (GStreamer in `pipeline`, ONNX Runtime and the models in `models`); the
//! binary adds the configuration and the folders and prints the list.

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Works.
    Ok,
    /// Informational (optional part absent, or what was chosen).
    Info,
    /// Broken: the node will not work as configured.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    /// Result.
    pub status: Status,
    /// What was checked.
    pub what: String,
    /// What was found.
    pub detail: String,
    /// How to fix it (failed checks).
    pub fix: Option<String>,
}

impl Check {
    /// A part that works.
    pub fn ok(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check { status: Status::Ok, what: what.into(), detail: detail.into(), fix: None }
    }

    /// Information: what was chosen, or an optional part that is absent.
    pub fn info(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check { status: Status::Info, what: what.into(), detail: detail.into(), fix: None }
    }

    /// A broken part and how to fix it.
    pub fn fail(what: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check { status: Status::Fail, what: what.into(), detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// The report as text, one line per check and a fix line under each failure, then a verdict.
pub fn report(checks: &[Check]) -> String {
    let mut out = String::from("raqib doctor\n");
    let width = checks.iter().map(|c| c.what.len()).max().unwrap_or(0);
    for c in checks {
        let tag = match c.status {
            Status::Ok => "ok  ",
            Status::Info => "info",
            Status::Fail => "FAIL",
        };
        out.push_str(&format!("  {tag}  {:width$}  {}\n", c.what, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("        {:width$}  fix: {fix}\n", ""));
        }
    }
    match checks.iter().filter(|c| c.status == Status::Fail).count() {
        0 => out.push_str("all checks passed\n"),
        n => out.push_str(&format!("{n} check(s) failed\n")),
    }
    out
}

/// Whether no check failed.
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_its_fix_and_fails_the_report() {
        let checks = [Check::ok("gstreamer", "1.22"), Check::fail("model x", "missing", "raqib models fetch")];
        let text = report(&checks);
        assert!(text.contains("  ok    gstreamer  1.22\n"), "{text}");
        assert!(text.contains("  FAIL  model x    missing\n"), "{text}");
        assert!(text.contains("fix: raqib models fetch\n1 check(s) failed\n"), "{text}");
        assert!(!passed(&checks));
        assert!(passed(&checks[..1]) && report(&checks[..1]).ends_with("all checks passed\n"));
    }
}
