//! Wrong-PIN counting and the back-off schedule.
//!
//! The counter lives in the vault file and is incremented and committed
//! *before* a PIN is checked, then reset to 0 when the PIN was right. Killing
//! the app during the (slow, Argon2id) check therefore costs an attempt instead
//! of giving a free one.
//!
//! Schedule, counted in consecutive wrong PINs `n` (the counter):
//!
//! | `n` (failures so far) | wait before the next attempt |
//! |---|---|
//! | 0–2 | none (attempts 1–3 are free) |
//! | 3 | 30 s |
//! | 4 | 1 min |
//! | 5 | 2 min |
//! | 6 | 4 min |
//! | 7 | 8 min |
//! | 8 | 16 min |
//! | 9 | 32 min (the last attempt) |
//! | 10 | locked for good: the vault key is erased |
//!
//! The wait is counted from the last attempt. Burning all ten attempts takes
//! over an hour, so a thief cannot do it in one sitting, while a user who
//! mistypes a few times loses at most a minute or two.
//!
//! Time comes from the [`Clock`](crate::ports::Clock) port. A wall clock can be
//! set by whoever holds the device, so the back-off slows guessing through the
//! app's UI and no more; it is the permanent lock after ten failures that caps
//! the number of guesses. When the clock is found *before* the last attempt
//! (it was set back), the last-attempt time is moved to now, so a clock jump
//! costs at most one waiting period and can never lock a user out for longer.

/// Consecutive wrong PINs after which the vault is locked for good.
pub const MAX_FAILURES: u32 = 10;
/// Attempts allowed without any waiting.
pub const FREE_ATTEMPTS: u32 = 3;
/// The first waiting period, in seconds; it doubles with every further failure.
pub const FIRST_WAIT_SECS: u64 = 30;

/// Seconds to wait after the last attempt before the next one, when `failures`
/// consecutive wrong PINs have been recorded.
pub fn wait_after(failures: u32) -> u64 {
    if failures < FREE_ATTEMPTS {
        0
    } else {
        let doublings = (failures - FREE_ATTEMPTS).min(32);
        FIRST_WAIT_SECS.saturating_mul(1u64 << doublings)
    }
}

/// Wrong PINs still allowed after `failures`.
pub fn attempts_left(failures: u32) -> u32 {
    MAX_FAILURES.saturating_sub(failures)
}

/// Seconds still to wait at `now`, given the failure count and the time of the
/// last attempt. A `now` before `last_attempt_at` (clock set back) counts as
/// no time elapsed.
pub fn remaining_wait(failures: u32, last_attempt_at: i64, now: i64) -> u64 {
    let wait = wait_after(failures);
    let elapsed = u64::try_from(now.saturating_sub(last_attempt_at)).unwrap_or(0);
    wait.saturating_sub(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_as_documented() {
        let waits: Vec<u64> = (0..=9).map(wait_after).collect();
        assert_eq!(waits, [0, 0, 0, 30, 60, 120, 240, 480, 960, 1920]);
        assert_eq!(attempts_left(0), 10);
        assert_eq!(attempts_left(9), 1);
        assert_eq!(attempts_left(12), 0);
        assert!(wait_after(u32::MAX) > 0, "no overflow");
    }

    #[test]
    fn remaining_counts_down_from_the_last_attempt() {
        assert_eq!(remaining_wait(2, 1000, 1000), 0);
        assert_eq!(remaining_wait(3, 1000, 1000), 30);
        assert_eq!(remaining_wait(3, 1000, 1029), 1);
        assert_eq!(remaining_wait(3, 1000, 1030), 0);
        assert_eq!(remaining_wait(4, 1000, 1010), 50);
        assert_eq!(remaining_wait(4, 1000, 900), 60, "clock set back");
    }
}
