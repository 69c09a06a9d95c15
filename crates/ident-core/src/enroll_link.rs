//! The enrollment QR payload (`ident://enroll?…`) and its same-device link form
//! (`https://<server>/e#…`).
//!
//! Both forms come from outside — a camera, the clipboard, an opened link — so
//! they are parsed here once, strictly, into an [`EnrollLink`]: a server URL that
//! passed the https-or-loopback rule, a 128-bit one-time token and the
//! thumbprint of the server key the app will pin. The server builds the same
//! strings with [`EnrollLink::to_uri`] and [`EnrollLink::to_link`], so both
//! sides agree on one grammar (documented in `docs/protocol.md`).
//!
//! The token is a one-time secret: its `Debug` is redacted, it is not
//! `Display`, and it is zeroized when dropped.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use url::Url;
use zeroize::Zeroize;

use crate::account::{ServerUrl, ServerUrlError};
use crate::jose::{Thumbprint, b64};

/// The only link version this build understands.
pub const ENROLL_LINK_VERSION: u32 = 1;

/// The longest link accepted (4 KiB); anything longer is refused unread.
pub const MAX_LINK_LEN: usize = 4 * 1024;

/// The path of the same-device link on the server's origin.
pub const LINK_PATH: &str = "/e";

/// Length of an enrollment token in bytes (128 bits).
pub const TOKEN_LEN: usize = 16;

/// Characters left as they are in a parameter value: RFC 3986 unreserved.
const VALUE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why an enrollment link was refused. Every message is a sentence the app can
/// show as it is; none of them contains the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnrollLinkError {
    /// Longer than [`MAX_LINK_LEN`].
    #[error("the enrollment code is too long to be an Ident enrollment code")]
    TooLong,
    /// Neither `ident://enroll?…` nor an `https://…/e#…` link.
    #[error("this is not an Ident enrollment code")]
    NotAnEnrollLink,
    /// The link form carried parameters in its query; they belong in the
    /// fragment, which never reaches a server.
    #[error("the enrollment link is malformed: its parameters must follow '#', not '?'")]
    ParametersInQuery,
    /// A parameter was not `name=value` or its value was not valid percent-encoded UTF-8.
    #[error("the enrollment code is malformed")]
    Malformed,
    /// A required parameter is missing.
    #[error("the enrollment code is incomplete: the parameter '{0}' is missing")]
    MissingParameter(&'static str),
    /// A parameter appears more than once.
    #[error("the enrollment code is malformed: the parameter '{0}' appears more than once")]
    DuplicateParameter(&'static str),
    /// `v` is not a version this build understands.
    #[error("the enrollment code is for a newer version of Ident; please update the app")]
    UnsupportedVersion,
    /// `t` is not 16 bytes of canonical base64url.
    #[error("the enrollment code's one-time token is malformed")]
    BadToken,
    /// `fp` is not a 32-byte thumbprint in canonical base64url.
    #[error("the enrollment code's server key fingerprint is malformed")]
    BadFingerprint,
    /// `s` is not an acceptable server URL (not https, or malformed).
    #[error("the enrollment code's server address was refused: {0}")]
    Server(#[from] ServerUrlError),
    /// The link's origin differs from the server's origin in `s`.
    #[error("the enrollment link does not come from the server it names")]
    OriginMismatch,
}

/// A one-time enrollment token: 128 random bits. Redacted in `Debug`, zeroized
/// when dropped, compared in constant time.
#[derive(Clone)]
pub struct EnrollToken([u8; TOKEN_LEN]);

impl EnrollToken {
    /// A fresh random token (the server makes these).
    pub fn generate() -> Result<Self, crate::jose::KeyError> {
        let mut bytes = [0u8; TOKEN_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| crate::jose::KeyError::Random)?;
        Ok(Self(bytes))
    }

    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; TOKEN_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses the base64url form (22 characters, canonical, no padding).
    pub fn parse(s: &str) -> Result<Self, EnrollLinkError> {
        let mut bytes = b64::decode(s).map_err(|_| EnrollLinkError::BadToken)?;
        let out = <[u8; TOKEN_LEN]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| EnrollLinkError::BadToken);
        bytes.zeroize();
        out
    }

    /// The raw bytes. Keep the borrow short and never log it.
    pub fn expose(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }

    /// The base64url form, as it goes into the link and the enroll request.
    /// Never log it.
    pub fn expose_b64(&self) -> String {
        b64::encode(&self.0)
    }
}

impl PartialEq for EnrollToken {
    fn eq(&self, other: &Self) -> bool {
        // Constant time: the server compares presented tokens with stored ones.
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for EnrollToken {}

impl Drop for EnrollToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for EnrollToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrollToken([REDACTED])")
    }
}

impl Serialize for EnrollToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.expose_b64())
    }
}

impl<'de> Deserialize<'de> for EnrollToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = zeroize::Zeroizing::new(String::deserialize(d)?);
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A parsed enrollment code: which server, which one-time token, which server
/// key to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollLink {
    server: ServerUrl,
    token: EnrollToken,
    fingerprint: Thumbprint,
    version: u32,
}

impl EnrollLink {
    /// A version-1 link (the server builds these for its QR codes).
    pub fn new(server: ServerUrl, token: EnrollToken, fingerprint: Thumbprint) -> Self {
        Self {
            server,
            token,
            fingerprint,
            version: ENROLL_LINK_VERSION,
        }
    }

    /// Parses `ident://enroll?v=1&s=…&t=…&fp=…` or
    /// `https://<origin of s>/e#v=1&s=…&t=…&fp=…`. Surrounding whitespace is
    /// ignored; everything else is checked (see `docs/protocol.md`).
    pub fn parse(input: &str) -> Result<EnrollLink, EnrollLinkError> {
        if input.len() > MAX_LINK_LEN {
            return Err(EnrollLinkError::TooLong);
        }
        let input = input.trim();
        let url = Url::parse(input).map_err(|_| EnrollLinkError::NotAnEnrollLink)?;
        match url.scheme() {
            "ident" => {
                let is_enroll = url.host_str() == Some("enroll")
                    && url.port().is_none()
                    && url.username().is_empty()
                    && url.password().is_none()
                    && (url.path().is_empty() || url.path() == "/")
                    && url.fragment().is_none();
                if !is_enroll {
                    return Err(EnrollLinkError::NotAnEnrollLink);
                }
                let query = url.query().ok_or(EnrollLinkError::MissingParameter("v"))?;
                Self::from_params(query)
            }
            "https" | "http" => {
                if url.path() != LINK_PATH || !url.username().is_empty() || url.password().is_some()
                {
                    return Err(EnrollLinkError::NotAnEnrollLink);
                }
                if url.query().is_some() {
                    return Err(EnrollLinkError::ParametersInQuery);
                }
                let fragment = url
                    .fragment()
                    .ok_or(EnrollLinkError::MissingParameter("v"))?;
                let link = Self::from_params(fragment)?;
                let server = Url::parse(link.server.as_str())
                    .map_err(|_| EnrollLinkError::Server(ServerUrlError::Invalid))?;
                if server.origin() != url.origin() {
                    return Err(EnrollLinkError::OriginMismatch);
                }
                Ok(link)
            }
            _ => Err(EnrollLinkError::NotAnEnrollLink),
        }
    }

    fn from_params(params: &str) -> Result<EnrollLink, EnrollLinkError> {
        let mut v = None;
        let mut s = None;
        let mut t = None;
        let mut fp = None;
        for pair in params.split('&') {
            let (name, raw) = pair.split_once('=').ok_or(EnrollLinkError::Malformed)?;
            let slot: (&'static str, &mut Option<String>) = match name {
                "v" => ("v", &mut v),
                "s" => ("s", &mut s),
                "t" => ("t", &mut t),
                "fp" => ("fp", &mut fp),
                // Unknown parameters are ignored so that later minor additions
                // do not break this build; the version decides compatibility.
                _ => continue,
            };
            if slot.1.is_some() {
                return Err(EnrollLinkError::DuplicateParameter(slot.0));
            }
            let value = percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| EnrollLinkError::Malformed)?;
            *slot.1 = Some(value.into_owned());
        }
        let mut t = zeroize::Zeroizing::new(t);
        let v = v.ok_or(EnrollLinkError::MissingParameter("v"))?;
        if v != "1" {
            return Err(EnrollLinkError::UnsupportedVersion);
        }
        let s = s.ok_or(EnrollLinkError::MissingParameter("s"))?;
        let token = t
            .take()
            .map(zeroize::Zeroizing::new)
            .ok_or(EnrollLinkError::MissingParameter("t"))?;
        let fp = fp.ok_or(EnrollLinkError::MissingParameter("fp"))?;
        let server = ServerUrl::parse(&s)?;
        let token = EnrollToken::parse(&token)?;
        let fingerprint = Thumbprint::parse(&fp).map_err(|_| EnrollLinkError::BadFingerprint)?;
        Ok(EnrollLink {
            server,
            token,
            fingerprint,
            version: ENROLL_LINK_VERSION,
        })
    }

    fn params(&self) -> String {
        format!(
            "v={}&s={}&t={}&fp={}",
            self.version,
            utf8_percent_encode(self.server.as_str(), VALUE_SET),
            self.token.expose_b64(),
            self.fingerprint
        )
    }

    /// The `ident://enroll?…` form, for QR codes. Contains the token: never log it.
    pub fn to_uri(&self) -> String {
        format!("ident://enroll?{}", self.params())
    }

    /// The `https://<origin>/e#…` form, which opens the app on the same device.
    /// The parameters are in the fragment so the token never reaches a web
    /// server's logs. Contains the token: never log it.
    pub fn to_link(&self) -> String {
        let origin = Url::parse(self.server.as_str())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.server.as_str().to_owned());
        format!("{origin}{LINK_PATH}#{}", self.params())
    }

    /// The server's base URL.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// The one-time token.
    pub fn token(&self) -> &EnrollToken {
        &self.token
    }

    /// The thumbprint of the server key to pin.
    pub fn fingerprint(&self) -> &Thumbprint {
        &self.fingerprint
    }

    /// The link version (always [`ENROLL_LINK_VERSION`] for a parsed link).
    pub fn version(&self) -> u32 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODw";
    const FP: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    fn uri(s: &str) -> String {
        format!("ident://enroll?v=1&s={s}&t={TOKEN}&fp={FP}")
    }

    #[test]
    fn parses_the_uri_form() {
        let l = EnrollLink::parse(&uri("https%3A%2F%2Fid.example.de%2Fbase")).unwrap();
        assert_eq!(l.server().as_str(), "https://id.example.de/base");
        assert_eq!(
            l.token().expose(),
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert_eq!(l.fingerprint().to_string(), FP);
        assert_eq!(l.version(), 1);
        // Unencoded server URL is accepted too, parameter order does not matter.
        let l2 = EnrollLink::parse(&format!(
            "  ident://enroll?fp={FP}&t={TOKEN}&s=https://id.example.de/base&v=1&future=x\n"
        ))
        .unwrap();
        assert_eq!(l, l2);
    }

    #[test]
    fn parses_the_link_form_on_the_same_origin_only() {
        let l = EnrollLink::parse(&format!(
            "https://id.example.de/e#v=1&s=https%3A%2F%2Fid.example.de%2Fbase&t={TOKEN}&fp={FP}"
        ))
        .unwrap();
        assert_eq!(l.server().as_str(), "https://id.example.de/base");
        for (link, want) in [
            (
                format!(
                    "https://evil.example/e#v=1&s=https%3A%2F%2Fid.example.de&t={TOKEN}&fp={FP}"
                ),
                EnrollLinkError::OriginMismatch,
            ),
            (
                format!(
                    "https://id.example.de:8443/e#v=1&s=https%3A%2F%2Fid.example.de&t={TOKEN}&fp={FP}"
                ),
                EnrollLinkError::OriginMismatch,
            ),
            (
                format!(
                    "https://id.example.de/e?v=1&s=https%3A%2F%2Fid.example.de&t={TOKEN}&fp={FP}"
                ),
                EnrollLinkError::ParametersInQuery,
            ),
            (
                format!(
                    "https://id.example.de/x#v=1&s=https%3A%2F%2Fid.example.de&t={TOKEN}&fp={FP}"
                ),
                EnrollLinkError::NotAnEnrollLink,
            ),
            (
                format!(
                    "http://id.example.de/e#v=1&s=http%3A%2F%2Fid.example.de&t={TOKEN}&fp={FP}"
                ),
                EnrollLinkError::Server(ServerUrlError::InsecureScheme),
            ),
        ] {
            assert_eq!(EnrollLink::parse(&link), Err(want), "{link}");
        }
    }

    #[test]
    fn refuses_bad_parameters() {
        use EnrollLinkError::*;
        let cases = [
            (
                format!("ident://enroll?v=2&s=https://a.de&t={TOKEN}&fp={FP}"),
                UnsupportedVersion,
            ),
            (
                format!("ident://enroll?v=01&s=https://a.de&t={TOKEN}&fp={FP}"),
                UnsupportedVersion,
            ),
            (
                format!("ident://enroll?s=https://a.de&t={TOKEN}&fp={FP}"),
                MissingParameter("v"),
            ),
            (
                format!("ident://enroll?v=1&t={TOKEN}&fp={FP}"),
                MissingParameter("s"),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&fp={FP}"),
                MissingParameter("t"),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t={TOKEN}"),
                MissingParameter("fp"),
            ),
            (
                format!("ident://enroll?v=1&v=1&s=https://a.de&t={TOKEN}&fp={FP}"),
                DuplicateParameter("v"),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t={TOKEN}&t={TOKEN}&fp={FP}"),
                DuplicateParameter("t"),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t={TOKEN}A&fp={FP}"),
                BadToken,
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t=AAECAwQFBgcICQoLDA0OD&fp={FP}"),
                BadToken,
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t=AAECAwQFBgcICQoLDA0ODw%3D%3D&fp={FP}"),
                BadToken,
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t={TOKEN}&fp=abc"),
                BadFingerprint,
            ),
            (
                format!("ident://enroll?v=1&s=http://a.de&t={TOKEN}&fp={FP}"),
                Server(ServerUrlError::InsecureScheme),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de?x=1&t={TOKEN}&fp={FP}"),
                Server(ServerUrlError::ExtraParts),
            ),
            (
                format!("ident://enroll?v=1&s=https://a.de&t={TOKEN}&fp={FP}&bare"),
                Malformed,
            ),
            (
                format!("ident://enroll?v=1&s=%FF&t={TOKEN}&fp={FP}"),
                Malformed,
            ),
            (
                format!("ident://other?v=1&s=https://a.de&t={TOKEN}&fp={FP}"),
                NotAnEnrollLink,
            ),
            ("otpauth://totp/x?secret=AAAA".to_owned(), NotAnEnrollLink),
            ("ident://enroll".to_owned(), MissingParameter("v")),
            ("".to_owned(), NotAnEnrollLink),
            (
                format!(
                    "ident://enroll?v=1&s=https://a.de&t={TOKEN}&fp={FP}&x={}",
                    "a".repeat(MAX_LINK_LEN)
                ),
                TooLong,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(EnrollLink::parse(&input), Err(want), "{input}");
        }
    }

    #[test]
    fn builds_uri_and_link_that_parse_back() {
        let server = ServerUrl::parse("https://id.example.de:8443/base path").unwrap();
        let link = EnrollLink::new(
            server,
            EnrollToken::generate().unwrap(),
            Thumbprint::parse(FP).unwrap(),
        );
        assert!(link.to_uri().starts_with(
            "ident://enroll?v=1&s=https%3A%2F%2Fid.example.de%3A8443%2Fbase%2520path&t="
        ));
        assert!(
            link.to_link()
                .starts_with("https://id.example.de:8443/e#v=1&s=https%3A%2F%2F")
        );
        assert_eq!(EnrollLink::parse(&link.to_uri()).unwrap(), link);
        assert_eq!(EnrollLink::parse(&link.to_link()).unwrap(), link);
    }

    #[test]
    fn token_never_printed() {
        let l = EnrollLink::parse(&uri("https://id.example.de")).unwrap();
        let printed = format!("{l:?} {:?}", l.token());
        assert!(!printed.contains(TOKEN), "{printed}");
        assert!(printed.contains("REDACTED"));
        let err = EnrollLink::parse(&format!(
            "ident://enroll?v=1&s=https://a.de&t={TOKEN}x&fp={FP}"
        ))
        .unwrap_err();
        assert!(!err.to_string().contains(TOKEN));
    }

    #[test]
    fn token_serde_and_equality() {
        let t = EnrollToken::parse(TOKEN).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"{TOKEN}\""));
        assert_eq!(serde_json::from_str::<EnrollToken>(&json).unwrap(), t);
        assert!(serde_json::from_str::<EnrollToken>("\"AAAA\"").is_err());
        assert_ne!(EnrollToken::from_bytes([1; 16]), t);
    }

    fn server_strategy() -> impl Strategy<Value = ServerUrl> {
        (
            prop::sample::select(vec![
                "https://id.example.de",
                "https://[2001:db8::1]",
                "http://127.0.0.1",
                "http://localhost",
                "https://xn--bcher-kva.example",
            ]),
            prop::option::of(1u16..65535),
            "(/[a-zA-Z0-9 ._~%&=+-]{1,10}){0,3}",
        )
            .prop_filter_map("valid server url", |(host, port, path)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                ServerUrl::parse(&format!("{host}{port}{path}")).ok()
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = EnrollLink::parse(&s);
            let _ = EnrollLink::parse(&format!("ident://enroll?{s}"));
            let _ = EnrollLink::parse(&format!("https://id.example.de/e#{s}"));
        }

        #[test]
        fn round_trips(server in server_strategy(), token in any::<[u8; 16]>(), fp in any::<[u8; 32]>()) {
            let fp = Thumbprint::parse(&b64::encode(&fp)).unwrap();
            let link = EnrollLink::new(server, EnrollToken::from_bytes(token), fp);
            prop_assert_eq!(&EnrollLink::parse(&link.to_uri()).unwrap(), &link);
            prop_assert_eq!(&EnrollLink::parse(&link.to_link()).unwrap(), &link);
        }
    }
}
