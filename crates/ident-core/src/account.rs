//! What an account is: an OTP account or a push account, and the identifiers
//! that name things across the protocol.
//!
//! Identifiers that arrive from outside (a server URL from a QR code, a device id
//! from a server) are parsed into these types once, at the edge; everything
//! after that can rely on them being well-formed.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::{Host, Url};

use crate::jose::Jwk;
use crate::otp::OtpParams;

/// A vault-local account identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An account as the vault lists it: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Vault-local identifier.
    pub id: AccountId,
    /// The name the user sees; starts as the label from the QR code and can be renamed.
    pub name: String,
    /// The issuer ("Beispiel-Bank", "GitHub"), if known.
    pub issuer: Option<String>,
    /// OTP or push specifics.
    pub details: AccountDetails,
}

impl Account {
    /// Whether `query` (case-insensitive) occurs in the name, issuer or login.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return true;
        }
        let hit = |s: &str| s.to_lowercase().contains(&q);
        hit(&self.name)
            || self.issuer.as_deref().is_some_and(hit)
            || match &self.details {
                AccountDetails::Push(p) => hit(&p.login) || hit(p.server.as_str()),
                AccountDetails::Otp(_) => false,
            }
    }
}

/// The part of an account that depends on its kind.
// A push account is a few hundred bytes bigger than OTP parameters; vaults hold
// tens of accounts, so boxing would buy nothing but indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "details", rename_all = "lowercase")]
pub enum AccountDetails {
    /// An OTP account: codes computed on the device.
    Otp(OtpParams),
    /// A push account enrolled with an Ident server.
    Push(PushAccount),
}

/// A push account: the device enrolled with an Ident server for one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAccount {
    /// The server's base URL.
    pub server: ServerUrl,
    /// The device id the server assigned at enrollment.
    pub device_id: DeviceId,
    /// The login name at the relying party ("12345" or "max@example.com").
    pub login: String,
    /// The server's signing key, pinned at enrollment (checked against the QR thumbprint).
    pub server_jwk: Jwk,
    /// The public half of this account's device key.
    pub device_jwk: Jwk,
}

/// The base URL of an Ident server: `https://…`, or `http://` on a loopback
/// address only (development and tests). No query, no fragment, no credentials;
/// always without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServerUrl(String);

/// Why a server URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ServerUrlError {
    /// Not a URL at all.
    #[error("the server address is not a valid URL")]
    Invalid,
    /// Plain `http://` to a host that is not this machine.
    #[error("the server address must use https (plain http is allowed only for this machine)")]
    InsecureScheme,
    /// A scheme other than http or https.
    #[error("the server address must start with https://")]
    UnsupportedScheme,
    /// User name, password, query or fragment present.
    #[error("the server address must not contain a user name, password, query or fragment")]
    ExtraParts,
}

impl ServerUrl {
    /// Parses and normalises a server base URL.
    pub fn parse(s: &str) -> Result<Self, ServerUrlError> {
        let url = Url::parse(s).map_err(|_| ServerUrlError::Invalid)?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(ServerUrlError::InsecureScheme),
            _ => return Err(ServerUrlError::UnsupportedScheme),
        }
        if url.host().is_none() {
            return Err(ServerUrlError::Invalid);
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ServerUrlError::ExtraParts);
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self(text))
    }

    /// The normalised URL text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of `path` (which starts with `/`) on this server.
    pub fn join(&self, path: &str) -> Result<Url, ServerUrlError> {
        Url::parse(&format!("{}{}", self.0, path)).map_err(|_| ServerUrlError::Invalid)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ServerUrl {
    type Error = ServerUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ServerUrl> for String {
    fn from(u: ServerUrl) -> String {
        u.0
    }
}

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} must be 1 to 128 characters of A-Z, a-z, 0-9, '-' and '_'")]
pub struct IdError {
    what: &'static str,
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 128 characters of `[A-Za-z0-9_-]`.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let ok = !s.is_empty()
                    && s.len() <= 128
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if ok { Ok(Self(s.to_owned())) } else { Err(IdError { what: $what }) }
            }

            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

opaque_id!(
    /// The id a server gave this device at enrollment (the `kid` of its proofs).
    DeviceId,
    "a device id"
);
opaque_id!(
    /// A challenge's id (its `jti`).
    ChallengeId,
    "a challenge id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_accepts_https_and_loopback_http() {
        assert_eq!(
            ServerUrl::parse("https://id.example.de/").unwrap().as_str(),
            "https://id.example.de"
        );
        assert_eq!(
            ServerUrl::parse("https://id.example.de/base/")
                .unwrap()
                .as_str(),
            "https://id.example.de/base"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://[::1]:9000",
            "http://localhost:3000",
            "http://LOCALHOST",
        ] {
            assert!(ServerUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn server_url_refuses_what_it_must() {
        use ServerUrlError::*;
        let cases = [
            ("http://id.example.de", InsecureScheme),
            ("http://10.0.0.1", InsecureScheme),
            ("http://localhost.evil.de", InsecureScheme),
            ("http://[::2]", InsecureScheme),
            ("ftp://id.example.de", UnsupportedScheme),
            ("ident://enroll", UnsupportedScheme),
            ("https://user:pw@id.example.de", ExtraParts),
            ("https://id.example.de/?a=b", ExtraParts),
            ("https://id.example.de/#x", ExtraParts),
            ("not a url", Invalid),
            ("", Invalid),
        ];
        for (input, want) in cases {
            assert_eq!(ServerUrl::parse(input), Err(want), "{input}");
        }
    }

    #[test]
    fn server_url_join() {
        let s = ServerUrl::parse("https://id.example.de/base").unwrap();
        assert_eq!(
            s.join("/device/v1/enroll").unwrap().as_str(),
            "https://id.example.de/base/device/v1/enroll"
        );
    }

    #[test]
    fn account_details_round_trip_through_json() {
        let otp = AccountDetails::Otp(OtpParams::default());
        let json = serde_json::to_string(&otp).unwrap();
        assert_eq!(serde_json::from_str::<AccountDetails>(&json).unwrap(), otp);
        let key = crate::jose::EcKeyPair::generate().unwrap().0.public_jwk();
        let push = AccountDetails::Push(PushAccount {
            server: ServerUrl::parse("https://id.example.de").unwrap(),
            device_id: DeviceId::parse("dev-1").unwrap(),
            login: "12345".into(),
            server_jwk: key.clone(),
            device_jwk: key,
        });
        let json = serde_json::to_string(&push).unwrap();
        assert_eq!(serde_json::from_str::<AccountDetails>(&json).unwrap(), push);
    }

    #[test]
    fn ids_are_checked() {
        assert!(DeviceId::parse("dev_01-AB").is_ok());
        assert!(DeviceId::parse("").is_err());
        assert!(DeviceId::parse("a/b").is_err());
        assert!(ChallengeId::parse(&"x".repeat(129)).is_err());
        assert!(ChallengeId::parse(&"x".repeat(128)).is_ok());
        assert!(serde_json::from_str::<DeviceId>("\"a b\"").is_err());
    }
}
