//! `[disk]`: the guard on the data directory's free space. A node whose disk fills loses what
//! it sees (reads, hits, audit records); the guard warns early (`warn_free_mb`), and a node or
//! a storing replay refuses to start when less than `min_free_mb` is left, saying how much there
//! is and which key sets the bound. Free space is what an unprivileged process may use
//! (`statvfs` `f_bavail`, through `fs4`, which needs no unsafe code of ours).

use std::path::Path;

use serde::Deserialize;

/// `[disk]`: free-space bounds of the data directory, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskPolicy {
    /// Below this, `raqib run` and a storing `raqib replay` refuse to start (and a running node
    /// says so in its health).
    pub min_free_mb: u64,
    /// Below this, a warning in the health lines, `health.json` and `raqib doctor`.
    pub warn_free_mb: u64,
}

impl Default for DiskPolicy {
    fn default() -> Self {
        DiskPolicy { min_free_mb: 200, warn_free_mb: 1024 }
    }
}

/// How the data directory's disk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskState {
    /// Enough space: MiB free.
    Fine(u64),
    /// Below `warn_free_mb`: MiB free.
    Low(u64),
    /// Below `min_free_mb`: MiB free.
    TooLow(u64),
}

impl DiskPolicy {
    /// Checks the bounds; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_free_mb > 1 << 24 {
            return Err("disk.min_free_mb: at most 16777216 (16 TiB)".into());
        }
        if self.warn_free_mb < self.min_free_mb {
            return Err("disk.warn_free_mb: must not be below disk.min_free_mb".into());
        }
        Ok(())
    }

    /// The state of a disk with `free_mb` MiB free.
    pub fn state_of(&self, free_mb: u64) -> DiskState {
        if free_mb < self.min_free_mb {
            DiskState::TooLow(free_mb)
        } else if free_mb < self.warn_free_mb {
            DiskState::Low(free_mb)
        } else {
            DiskState::Fine(free_mb)
        }
    }

    /// The state of the disk holding `dir` (which must exist).
    pub fn check(&self, dir: &Path) -> std::io::Result<DiskState> {
        Ok(self.state_of(fs4::available_space(dir)? >> 20))
    }

    /// `Ok` unless the disk of `dir` is below `min_free_mb` (or cannot be read): the message
    /// says how much is free and what to do.
    pub fn require(&self, dir: &Path) -> Result<DiskState, String> {
        match self.check(dir) {
            Ok(DiskState::TooLow(free)) => Err(format!(
                "{}: only {free} MiB free on its disk, below disk.min_free_mb = {} MiB: free some space \
                 (or lower disk.min_free_mb) before starting, or what the node sees would be lost",
                dir.display(),
                self.min_free_mb
            )),
            Ok(state) => Ok(state),
            Err(e) => Err(format!("{}: cannot read its free space: {e}", dir.display())),
        }
    }
}

impl DiskPolicy {
    /// `raqib doctor`'s line: free space, failing below `min_free_mb`.
    pub fn doctor_check(&self, dir: &Path) -> crate::check::Check {
        use crate::check::Check;
        match self.check(dir) {
            Ok(s @ DiskState::TooLow(_)) => {
                Check::fail("disk", s.summary(), "free some space on the data directory's disk")
            }
            Ok(s) => Check::ok("disk", s.summary()),
            Err(e) => Check::fail("disk", format!("{}: {e}", dir.display()), "check the data directory"),
        }
    }
}

impl DiskState {
    /// `disk: N MiB free` with `(low)` or `(TOO LOW)` when it is.
    pub fn summary(&self) -> String {
        match self {
            DiskState::Fine(f) => format!("disk: {f} MiB free"),
            DiskState::Low(f) => format!("disk: {f} MiB free (low: below disk.warn_free_mb)"),
            DiskState::TooLow(f) => format!("disk: {f} MiB free (TOO LOW: below disk.min_free_mb; reads may be lost)"),
        }
    }

    /// Whether it is worth a warning.
    pub fn is_low(&self) -> bool {
        !matches!(self, DiskState::Fine(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_warns_then_refuses_and_names_its_keys() {
        let p = DiskPolicy { min_free_mb: 100, warn_free_mb: 500 };
        assert_eq!(p.state_of(1000), DiskState::Fine(1000));
        assert_eq!(p.state_of(499), DiskState::Low(499));
        assert_eq!(p.state_of(99), DiskState::TooLow(99));
        assert!(DiskPolicy::default().validate().is_ok());
        let e = DiskPolicy { min_free_mb: 10, warn_free_mb: 5 }.validate().unwrap_err();
        assert!(e.starts_with("disk.warn_free_mb"), "{e}");
        assert!(
            DiskPolicy { min_free_mb: u64::MAX, warn_free_mb: u64::MAX }
                .validate()
                .unwrap_err()
                .starts_with("disk.min_free_mb")
        );
        // This machine's real disk: more than 0 MiB free, and no disk has 16 TiB to spare here.
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            DiskPolicy { min_free_mb: 0, warn_free_mb: 0 }.check(dir.path()).unwrap(),
            DiskState::Fine(_)
        ));
        let huge = DiskPolicy { min_free_mb: 1 << 24, warn_free_mb: 1 << 24 };
        let e = huge.require(dir.path()).unwrap_err();
        assert!(e.contains("MiB free") && e.contains("disk.min_free_mb = 16777216"), "{e}");
        assert!(huge.require(&dir.path().join("missing")).unwrap_err().contains("cannot read its free space"));
        assert!(DiskState::TooLow(3).summary().contains("TOO LOW") && !DiskState::Fine(9).is_low());
    }
}
