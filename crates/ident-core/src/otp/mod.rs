//! One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), and the parsers for
//! the ways OTP accounts arrive (`otpauth://` URIs and Google Authenticator's
//! `otpauth-migration://` export).
//!
//! Offline codes are Ident's answer for a phone without network and for every
//! service that does not speak our push protocol.

pub mod generate;
pub mod migration;
pub mod uri;

pub use generate::{OtpCode, code, hotp, totp};
pub use migration::{MigrationAccountError, MigrationBatch, MigrationError, SkippedAccount};
pub use uri::{OtpUriError, parse as parse_uri, to_uri};

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secret::SecretBytes;

/// The HMAC hash function of an OTP account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    /// HMAC-SHA-1, the default and by far the most common.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// The number of digits in a code: 6, 7 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Digits(u8);

impl Digits {
    /// Six digits, the default.
    pub const SIX: Digits = Digits(6);

    /// `n` digits, if `n` is 6, 7 or 8.
    pub fn new(n: u8) -> Result<Self, OtpParamError> {
        if (6..=8).contains(&n) {
            Ok(Self(n))
        } else {
            Err(OtpParamError::Digits(u32::from(n)))
        }
    }

    /// The number of digits.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::SIX
    }
}

impl TryFrom<u8> for Digits {
    type Error = OtpParamError;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<Digits> for u8 {
    fn from(d: Digits) -> u8 {
        d.0
    }
}

/// A TOTP time step in seconds: 1 to 3600 (30 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Period(u32);

impl Period {
    /// Thirty seconds, the default.
    pub const THIRTY: Period = Period(30);

    /// `secs` seconds, if it is between 1 and 3600.
    pub fn new(secs: u32) -> Result<Self, OtpParamError> {
        if (1..=3600).contains(&secs) {
            Ok(Self(secs))
        } else {
            Err(OtpParamError::Period(secs))
        }
    }

    /// The period in seconds.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Period {
    fn default() -> Self {
        Self::THIRTY
    }
}

impl TryFrom<u32> for Period {
    type Error = OtpParamError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<Period> for u32 {
    fn from(p: Period) -> u32 {
        p.0
    }
}

/// Whether codes follow the time (TOTP) or a counter (HOTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OtpKind {
    /// Time-based: a new code every `period` seconds.
    Totp {
        /// The time step.
        period: Period,
    },
    /// Counter-based: `counter` is the counter of the *next* code to show.
    Hotp {
        /// The next counter value.
        counter: u64,
    },
}

/// Everything about an OTP account except its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OtpParams {
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: Digits,
    /// TOTP or HOTP.
    pub kind: OtpKind,
}

impl Default for OtpParams {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            kind: OtpKind::Totp {
                period: Period::THIRTY,
            },
        }
    }
}

/// An OTP shared secret (the decoded base32 seed). At least one byte, at most
/// 1024. Redacted in `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpSecret(SecretBytes);

impl OtpSecret {
    /// The longest secret accepted, in bytes.
    pub const MAX_LEN: usize = 1024;

    /// Wraps raw secret bytes, refusing empty or absurdly long ones.
    pub fn from_bytes(bytes: SecretBytes) -> Result<Self, OtpParamError> {
        if bytes.is_empty() {
            Err(OtpParamError::SecretEmpty)
        } else if bytes.len() > Self::MAX_LEN {
            Err(OtpParamError::SecretTooLong(bytes.len()))
        } else {
            Ok(Self(bytes))
        }
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

impl fmt::Debug for OtpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpSecret([REDACTED])")
    }
}

/// An OTP account as it arrives from a URI or an import, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpEntry {
    /// Who issued the account ("GitHub"), if known.
    pub issuer: Option<String>,
    /// The account name within the issuer ("alice@example.com").
    pub label: String,
    /// The shared secret.
    pub secret: OtpSecret,
    /// Algorithm, digits, TOTP period or HOTP counter.
    pub params: OtpParams,
}

/// An OTP parameter out of range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OtpParamError {
    /// Digits not in 6..=8.
    #[error("a code must have 6 to 8 digits, not {0}")]
    Digits(u32),
    /// Period not in 1..=3600.
    #[error("the period must be 1 to 3600 seconds, not {0}")]
    Period(u32),
    /// The secret is empty.
    #[error("the secret is empty")]
    SecretEmpty,
    /// The secret is longer than [`OtpSecret::MAX_LEN`].
    #[error("the secret is too long ({0} bytes)")]
    SecretTooLong(usize),
}
