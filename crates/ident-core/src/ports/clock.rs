//! Time, as the core sees it: Unix seconds from a [`Clock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time in whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// Seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0
    }

    /// This time moved by `secs` seconds (saturating).
    pub fn plus(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }
}

/// The source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // A clock before 1970 is a broken device; treat it as the epoch rather
        // than panicking.
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixTime(secs)
    }
}

/// A clock that tests set and advance by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `t`.
    pub fn at(t: i64) -> Self {
        Self(AtomicI64::new(t))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(1_000);
        assert_eq!(c.now(), UnixTime(1_000));
        c.advance(30);
        assert_eq!(c.now(), UnixTime(1_030));
        c.set(5);
        assert_eq!(c.now().secs(), 5);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now().secs() > 1_704_067_200);
    }
}
