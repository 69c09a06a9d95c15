//! Login names: a number ("12345") or an e-mail address, as on the platform.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A normalised login name: trimmed; e-mail addresses lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LoginName(String);

/// Why a login name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a login name is a number (up to 20 digits) or an e-mail address (up to 254 characters)")]
pub struct LoginNameError;

impl LoginName {
    /// Parses a login name.
    pub fn parse(s: &str) -> Result<Self, LoginNameError> {
        let s = s.trim();
        if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(s.to_owned()));
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(LoginNameError);
        }
        let (local, domain) = s.split_once('@').ok_or(LoginNameError)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(LoginNameError);
        }
        Ok(Self(s.to_lowercase()))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for LoginName {
    type Error = LoginNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LoginName> for String {
    fn from(l: LoginName) -> String {
        l.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_emails() {
        assert_eq!(LoginName::parse(" 12345 ").unwrap().as_str(), "12345");
        assert_eq!(
            LoginName::parse("Max.Mustermann@Example.DE")
                .unwrap()
                .as_str(),
            "max.mustermann@example.de"
        );
        for bad in [
            "",
            "   ",
            "abc",
            "a@b",
            "@example.de",
            "a@.de",
            "a@de.",
            "a b@x.de",
            "x@y..de",
        ] {
            assert!(LoginName::parse(bad).is_err(), "{bad}");
        }
        assert!(LoginName::parse(&"1".repeat(21)).is_err());
    }
}
