//! Mobile numbers, stored in E.164 and parsed with Google's libphonenumber
//! metadata (the `phonenumber` crate), German numbers by default.

use std::fmt;

use phonenumber::{Mode, country};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A mobile phone number in E.164 form ("+4915112345678").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PhoneNumberError {
    /// Not a phone number at all.
    #[error("this is not a valid phone number")]
    Invalid,
    /// A valid number, but not one that can receive SMS (e.g. a landline).
    #[error("this is not a mobile number; SMS codes need a mobile number")]
    NotMobile,
}

impl PhoneNumber {
    /// Parses a number as a user would type it; numbers without a country code
    /// are German ("0151 1234 5678" → "+4915112345678").
    pub fn parse(s: &str) -> Result<Self, PhoneNumberError> {
        if s.len() > 40 {
            return Err(PhoneNumberError::Invalid);
        }
        let n =
            phonenumber::parse(Some(country::Id::DE), s).map_err(|_| PhoneNumberError::Invalid)?;
        if !phonenumber::is_valid(&n) {
            return Err(PhoneNumberError::Invalid);
        }
        use phonenumber::metadata::DATABASE;
        let ty = n.number_type(&DATABASE);
        use phonenumber::Type;
        if !matches!(ty, Type::Mobile | Type::FixedLineOrMobile) {
            return Err(PhoneNumberError::NotMobile);
        }
        Ok(Self(n.format().mode(Mode::E164).to_string()))
    }

    /// A number read back from storage, where only [`PhoneNumber::parse`]d
    /// numbers are written. Checks the E.164 shape (`+`, 8 to 15 digits)
    /// without the libphonenumber metadata: that full parse cost more than
    /// the SQL of the query that read it, on every login.
    pub fn from_stored(s: &str) -> Result<Self, PhoneNumberError> {
        let digits = s.strip_prefix('+').ok_or(PhoneNumberError::Invalid)?;
        if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PhoneNumberError::Invalid)
        }
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last three digits hidden, for ledgers,
    /// logs and screens that need not show it whole ("+49 *** ***678").
    pub fn masked(&self) -> String {
        let digits = &self.0;
        let keep = digits.len().saturating_sub(3);
        let cc: String = digits.chars().take(3).collect();
        format!("{cc}…{}", &digits[keep..])
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_mobile_numbers_normalise() {
        for input in [
            "0151 12345678",
            "+49 151 12345678",
            "0049 151 12345678",
            "+4915112345678",
            "(0151) 123-456-78",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).unwrap().as_str(),
                "+4915112345678",
                "{input}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("+43 664 1234567").unwrap().as_str(),
            "+436641234567"
        );
    }

    #[test]
    fn refuses_landlines_and_garbage() {
        assert_eq!(
            PhoneNumber::parse("030 12345678"),
            Err(PhoneNumberError::NotMobile)
        );
        for bad in [
            "",
            "abc",
            "0151",
            "+49 151 1234567890123456",
            &"1".repeat(50),
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_numbers_are_checked_for_their_shape_only() {
        let p = PhoneNumber::parse("0151 12345678").unwrap();
        assert_eq!(PhoneNumber::from_stored(p.as_str()), Ok(p));
        for bad in [
            "",
            "+",
            "4915112345678",
            "+49 151 1234",
            "+491511234567890123",
            "+49x5112345678",
        ] {
            assert_eq!(
                PhoneNumber::from_stored(bad),
                Err(PhoneNumberError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn masking_hides_the_middle() {
        let p = PhoneNumber::parse("0151 12345678").unwrap();
        assert_eq!(p.masked(), "+49…678");
    }
}
