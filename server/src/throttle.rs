//! Login throttling: wrong passwords from one address, or against one user name, earn a growing
//! wait before the next attempt is even checked (so a flood costs the node no argon2 work), and
//! at most [`HASHING_SLOTS`] password checks run at once, on the blocking pool, never on the
//! async workers that serve the operators.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed before any wait.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// Password checks (argon2) running at once.
pub const HASHING_SLOTS: usize = 2;
/// Most addresses and user names remembered (the oldest are forgotten first).
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    until: Instant,
    last: Instant,
}

/// Failed logins per address and per user name.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    keys: Mutex<HashMap<String, Strikes>>,
}

impl LoginThrottle {
    /// How long `addr` or `user` must still wait before an attempt is checked (the longer of
    /// the two); `None`: go ahead.
    pub fn wait(&self, addr: IpAddr, user: &str, now: Instant) -> Option<Duration> {
        let keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        [key_addr(addr), key_user(user)]
            .iter()
            .filter_map(|k| keys.get(k))
            .filter(|s| s.until > now)
            .map(|s| s.until - now)
            .max()
    }

    /// Records a failed attempt; returns the wait it now earns.
    pub fn failed(&self, addr: IpAddr, user: &str, now: Instant) -> Duration {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= MAX_KEYS {
            let oldest = keys.iter().min_by_key(|(_, s)| s.last).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                keys.remove(&k);
            }
        }
        let mut longest = Duration::ZERO;
        for k in [key_addr(addr), key_user(user)] {
            let s = keys.entry(k).or_insert(Strikes { failures: 0, until: now, last: now });
            s.failures += 1;
            s.last = now;
            let wait = backoff(s.failures);
            s.until = now + wait;
            longest = longest.max(wait);
        }
        longest
    }

    /// A successful login clears the address's and the user's record.
    pub fn succeeded(&self, addr: IpAddr, user: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.remove(&key_addr(addr));
        keys.remove(&key_user(user));
    }
}

/// The wait after `failures` failed attempts: none for the first [`FREE_FAILURES`], then 1 s
/// doubling, capped at [`MAX_WAIT`].
pub fn backoff(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    Duration::from_secs(1).saturating_mul(1 << (failures - FREE_FAILURES - 1).min(16)).min(MAX_WAIT)
}

fn key_addr(addr: IpAddr) -> String {
    format!("addr:{addr}")
}

fn key_user(user: &str) -> String {
    // Bounded: a 10 MB "name" is not kept whole.
    format!("user:{}", user.chars().take(64).collect::<String>().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_per_address_and_per_user_and_a_success_clears_them() {
        assert_eq!(
            (backoff(3), backoff(4), backoff(5), backoff(40)),
            (Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2), MAX_WAIT)
        );
        let t = LoginThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.failed(a, "amina", now), Duration::ZERO);
        }
        assert_eq!(t.wait(a, "amina", now), None, "three free tries");
        assert_eq!(t.failed(a, "amina", now), Duration::from_secs(1));
        assert!(t.wait(a, "someone", now).is_some(), "the address waits, whatever the name");
        assert!(t.wait(b, "AMINA", now).is_some(), "the name waits, whatever the address");
        assert_eq!(t.wait(b, "omar", now), None);
        assert_eq!(t.wait(a, "amina", now + Duration::from_secs(2)), None, "the wait ends");
        t.succeeded(a, "amina");
        assert_eq!(t.wait(a, "amina", now), None);
    }
}
