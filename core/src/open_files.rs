//! The process's open-file (descriptor) limit: raised to the hard limit at start, so the console's
//! connection limit can sit well below it and cameras, databases and model files always find a
//! descriptor. Uses the `rlimit` crate (a small, maintained safe wrapper of `getrlimit` /
//! `setrlimit`), so no unsafe code is needed here.

/// Raises the soft open-file limit to the hard limit and returns the soft limit now in force.
/// Where limits cannot be read or set (not Unix, a sandbox refusing), returns what can be read,
/// else `None`; the node runs on either way.
pub fn raise() -> Option<u64> {
    #[cfg(unix)]
    {
        let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
        if soft < hard && rlimit::Resource::NOFILE.set(hard, hard).is_ok() {
            return Some(hard);
        }
        Some(soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The soft open-file limit now in force, if it can be read.
pub fn current() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors kept free for everything but console connections (cameras, databases, model
/// files, sinks): a connection limit is at most the open-file limit less this.
pub const RESERVED_FOR_THE_NODE: u64 = 256;

/// The console's connection limit that fits under `limit` descriptors: `wanted`, or less when
/// `wanted` + [`RESERVED_FOR_THE_NODE`] would pass the limit (at least 16).
pub fn connection_budget(wanted: usize, limit: Option<u64>) -> usize {
    let Some(limit) = limit else { return wanted };
    let room = usize::try_from(limit.saturating_sub(RESERVED_FOR_THE_NODE)).unwrap_or(usize::MAX);
    wanted.min(room.max(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_raised_to_the_hard_one_and_read_back() {
        let now = raise().expect("a Unix test machine has a readable limit");
        assert_eq!(current(), Some(now));
        let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
        assert_eq!(now, hard);
    }

    #[test]
    fn connections_stay_below_the_descriptor_limit() {
        assert_eq!(connection_budget(256, Some(1024)), 256);
        assert_eq!(connection_budget(4096, Some(1024)), 768);
        assert_eq!(connection_budget(256, Some(100)), 16);
        assert_eq!(connection_budget(256, None), 256);
    }
}
