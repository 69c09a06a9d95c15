//! The 2FA interval: how often a known browser is asked for the second factor
//! again — "Immer" (always, 0) up to "Alle 90 Tage", in daily steps.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Days a browser stays trusted after a successful second factor; 0 = always ask.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct TwoFactorInterval(u8);

/// The interval was out of range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the 2FA interval must be 0 (always) to 90 days, not {0}")]
pub struct IntervalError(pub u32);

impl TwoFactorInterval {
    /// Always ask.
    pub const ALWAYS: Self = Self(0);
    /// The longest interval the platform allows.
    pub const MAX_DAYS: u32 = 90;

    /// `days` days (0 = always).
    pub fn days(days: u32) -> Result<Self, IntervalError> {
        u8::try_from(days)
            .ok()
            .filter(|d| u32::from(*d) <= Self::MAX_DAYS)
            .map(Self)
            .ok_or(IntervalError(days))
    }

    /// The interval in days.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }

    /// The interval in seconds.
    pub fn seconds(self) -> i64 {
        i64::from(self.0) * 86_400
    }
}

impl TryFrom<u32> for TwoFactorInterval {
    type Error = IntervalError;
    fn try_from(d: u32) -> Result<Self, IntervalError> {
        Self::days(d)
    }
}

impl From<TwoFactorInterval> for u32 {
    fn from(i: TwoFactorInterval) -> u32 {
        i.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_zero_to_ninety() {
        assert_eq!(
            TwoFactorInterval::days(0).unwrap(),
            TwoFactorInterval::ALWAYS
        );
        assert_eq!(TwoFactorInterval::days(90).unwrap().seconds(), 90 * 86_400);
        assert_eq!(TwoFactorInterval::days(91), Err(IntervalError(91)));
        assert_eq!(TwoFactorInterval::days(300), Err(IntervalError(300)));
        assert!(serde_json::from_str::<TwoFactorInterval>("91").is_err());
    }
}
