//! Who a customer mail goes to: the recipient as the mail service sees it, and
//! the filter a broker picks.
//!
//! Both are plain values. The pages build [`Recipient`]s from the
//! relying-party API's customer list (`GET /api/v1/brokers/{login}/customers`
//! with [`RecipientFilter::query`]), so the mail service never needs the API
//! and its tests need no server.

use std::fmt;

use thiserror::Error;

/// One customer a mail may go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The customer's login name.
    pub login: String,
    /// The customer's display name.
    pub name: String,
    /// The e-mail address on file; customers without one are skipped.
    pub email: Option<String>,
    /// The mobile number on file, masked (`+49 ••• 678`); `None` when none is on file.
    pub phone_masked: Option<String>,
    /// Whether the customer has an enrolled device (the app is set up).
    pub enrolled: bool,
    /// The broker's display name (the `vermittler` placeholder).
    pub broker_name: String,
}

/// Whether customers must have a mobile number on file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFilter {
    /// With a number.
    With,
    /// Without a number.
    Without,
}

/// Which of a broker's customers a mail goes to; `None` means "either".
///
/// "SMS users" are customers with a number but without the app: they get
/// their codes by SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecipientFilter {
    /// Mobile number on file or not.
    pub phone: Option<PhoneFilter>,
    /// App set up (enrolled device) or not.
    pub enrolled: Option<bool>,
}

/// A filter that could not be read back from its text form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown recipient filter")]
pub struct FilterParseError;

impl RecipientFilter {
    /// Every customer.
    pub const ALL: Self = Self {
        phone: None,
        enrolled: None,
    };
    /// Customers with a mobile number.
    pub const WITH_PHONE: Self = Self {
        phone: Some(PhoneFilter::With),
        enrolled: None,
    };
    /// Customers without a mobile number.
    pub const WITHOUT_PHONE: Self = Self {
        phone: Some(PhoneFilter::Without),
        enrolled: None,
    };
    /// Customers who have set up the app.
    pub const APP: Self = Self {
        phone: None,
        enrolled: Some(true),
    };
    /// Customers with a number who have not set up the app (they get SMS codes).
    pub const SMS: Self = Self {
        phone: Some(PhoneFilter::With),
        enrolled: Some(false),
    };

    /// The query string for the customers endpoint, e.g. `phone=with&enrolled=no`
    /// (empty for every customer). It is also the filter's stored form.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        match self.phone {
            Some(PhoneFilter::With) => parts.push("phone=with"),
            Some(PhoneFilter::Without) => parts.push("phone=without"),
            None => {}
        }
        match self.enrolled {
            Some(true) => parts.push("enrolled=yes"),
            Some(false) => parts.push("enrolled=no"),
            None => {}
        }
        parts.join("&")
    }

    /// Reads the form [`RecipientFilter::query`] writes (also what the pages'
    /// forms send: `phone` = `with|without|` and `enrolled` = `yes|no|`).
    pub fn parse_query(q: &str) -> Result<Self, FilterParseError> {
        let mut filter = RecipientFilter::ALL;
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or(FilterParseError)?;
            match (k, v) {
                ("phone", "with") => filter.phone = Some(PhoneFilter::With),
                ("phone", "without") => filter.phone = Some(PhoneFilter::Without),
                ("phone", "") => filter.phone = None,
                ("enrolled", "yes") => filter.enrolled = Some(true),
                ("enrolled", "no") => filter.enrolled = Some(false),
                ("enrolled", "") => filter.enrolled = None,
                _ => return Err(FilterParseError),
            }
        }
        Ok(filter)
    }

    /// Whether `r` passes the filter (the API filters too; this keeps the
    /// mail service honest when handed a list built some other way).
    pub fn matches(&self, r: &Recipient) -> bool {
        let phone_ok = match self.phone {
            Some(PhoneFilter::With) => r.phone_masked.is_some(),
            Some(PhoneFilter::Without) => r.phone_masked.is_none(),
            None => true,
        };
        phone_ok && self.enrolled.is_none_or(|e| e == r.enrolled)
    }

    /// A German description for the send log.
    pub fn label_de(&self) -> String {
        let phone = match self.phone {
            Some(PhoneFilter::With) => Some("mit Handynummer"),
            Some(PhoneFilter::Without) => Some("ohne Handynummer"),
            None => None,
        };
        let app = match self.enrolled {
            Some(true) => Some("App eingerichtet"),
            Some(false) => Some("App nicht eingerichtet"),
            None => None,
        };
        match (phone, app) {
            (None, None) => "alle Kunden".into(),
            (Some(p), None) => format!("Kunden {p}"),
            (None, Some(a)) => format!("Kunden, {a}"),
            (Some(p), Some(a)) => format!("Kunden {p}, {a}"),
        }
    }

    /// An English description for the send log.
    pub fn label_en(&self) -> String {
        let phone = match self.phone {
            Some(PhoneFilter::With) => Some("with a mobile number"),
            Some(PhoneFilter::Without) => Some("without a mobile number"),
            None => None,
        };
        let app = match self.enrolled {
            Some(true) => Some("app set up"),
            Some(false) => Some("app not set up"),
            None => None,
        };
        match (phone, app) {
            (None, None) => "all customers".into(),
            (Some(p), None) => format!("customers {p}"),
            (None, Some(a)) => format!("customers, {a}"),
            (Some(p), Some(a)) => format!("customers {p}, {a}"),
        }
    }
}

impl fmt::Display for RecipientFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(phone: bool, enrolled: bool) -> Recipient {
        Recipient {
            login: "1".into(),
            name: "n".into(),
            email: None,
            phone_masked: phone.then(|| "+49…678".into()),
            enrolled,
            broker_name: "b".into(),
        }
    }

    #[test]
    fn query_round_trips() {
        for f in [
            RecipientFilter::ALL,
            RecipientFilter::WITH_PHONE,
            RecipientFilter::WITHOUT_PHONE,
            RecipientFilter::APP,
            RecipientFilter::SMS,
            RecipientFilter {
                phone: Some(PhoneFilter::Without),
                enrolled: Some(true),
            },
        ] {
            assert_eq!(RecipientFilter::parse_query(&f.query()), Ok(f));
        }
        assert_eq!(RecipientFilter::SMS.query(), "phone=with&enrolled=no");
        assert_eq!(RecipientFilter::ALL.query(), "");
        assert_eq!(
            RecipientFilter::parse_query("phone=&enrolled=yes"),
            Ok(RecipientFilter::APP)
        );
        assert_eq!(
            RecipientFilter::parse_query("phone=maybe"),
            Err(FilterParseError)
        );
        assert_eq!(RecipientFilter::parse_query("x"), Err(FilterParseError));
    }

    #[test]
    fn matches_like_the_api() {
        assert!(RecipientFilter::SMS.matches(&r(true, false)));
        assert!(!RecipientFilter::SMS.matches(&r(true, true)));
        assert!(!RecipientFilter::SMS.matches(&r(false, false)));
        assert!(RecipientFilter::WITHOUT_PHONE.matches(&r(false, true)));
        assert!(!RecipientFilter::WITHOUT_PHONE.matches(&r(true, true)));
        assert!(RecipientFilter::ALL.matches(&r(false, false)));
        assert!(RecipientFilter::APP.matches(&r(false, true)));
    }

    #[test]
    fn labels() {
        assert_eq!(
            RecipientFilter::SMS.label_de(),
            "Kunden mit Handynummer, App nicht eingerichtet"
        );
        assert_eq!(RecipientFilter::ALL.label_en(), "all customers");
    }
}
