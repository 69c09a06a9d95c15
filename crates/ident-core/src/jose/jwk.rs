//! P-256 public keys as JSON Web Keys (RFC 7517) and their SHA-256 thumbprints
//! (RFC 7638).
//!
//! The thumbprint is what the enrollment QR code carries, so the app can pin the
//! server's key before trusting anything the server says.

use std::fmt;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::b64;

/// Why a JWK was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwkError {
    /// `kty` is not `EC`.
    #[error("the key type must be EC")]
    KeyType,
    /// `crv` is not `P-256`.
    #[error("the curve must be P-256")]
    Curve,
    /// `x` or `y` is not 32 bytes of base64url.
    #[error("the key's coordinates are malformed")]
    Coordinates,
    /// The JWK carries a private part (`d`); private keys never travel.
    #[error("a private key was sent where a public key belongs")]
    PrivatePart,
    /// The bytes are not an uncompressed P-256 point (`04 ‖ x ‖ y`).
    #[error("not an uncompressed P-256 public key")]
    PointEncoding,
}

/// A P-256 public key.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawJwk", into = "RawJwk")]
pub struct Jwk {
    x: [u8; 32],
    y: [u8; 32],
    kid: Option<String>,
}

/// The JSON shape; parsed into [`Jwk`] only when every member checks out.
#[derive(Serialize, Deserialize)]
struct RawJwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing)]
    d: Option<serde_json::Value>,
}

impl TryFrom<RawJwk> for Jwk {
    type Error = JwkError;
    fn try_from(raw: RawJwk) -> Result<Self, JwkError> {
        if raw.d.is_some() {
            return Err(JwkError::PrivatePart);
        }
        if raw.kty != "EC" {
            return Err(JwkError::KeyType);
        }
        if raw.crv != "P-256" {
            return Err(JwkError::Curve);
        }
        let coord = |s: &str| -> Result<[u8; 32], JwkError> {
            b64::decode(s)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                .ok_or(JwkError::Coordinates)
        };
        Ok(Jwk {
            x: coord(&raw.x)?,
            y: coord(&raw.y)?,
            kid: raw.kid,
        })
    }
}

impl From<Jwk> for RawJwk {
    fn from(k: Jwk) -> RawJwk {
        RawJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64::encode(&k.x),
            y: b64::encode(&k.y),
            kid: k.kid,
            d: None,
        }
    }
}

impl Jwk {
    /// The JWK of an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes), as ring
    /// produces it.
    pub fn from_uncompressed(point: &[u8]) -> Result<Self, JwkError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(JwkError::PointEncoding);
        }
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..65]);
        Ok(Self { x, y, kid: None })
    }

    /// The same key with `kid` set.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if the JWK names one. Not part of the thumbprint.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The uncompressed SEC1 point, as ring's verifier takes it.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.x);
        out[33..65].copy_from_slice(&self.y);
        out
    }

    /// The RFC 7638 SHA-256 thumbprint: the hash of the required members in
    /// lexicographic order, without whitespace.
    pub fn thumbprint(&self) -> Thumbprint {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            b64::encode(&self.x),
            b64::encode(&self.y)
        );
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, canonical.as_bytes()).as_ref());
        Thumbprint(out)
    }

    /// Whether both JWKs are the same key (ignoring `kid`).
    pub fn same_key(&self, other: &Jwk) -> bool {
        self.x == other.x && self.y == other.y
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jwk(P-256, {})", self.thumbprint())
    }
}

/// An RFC 7638 SHA-256 JWK thumbprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thumbprint([u8; 32]);

impl Thumbprint {
    /// Parses the base64url form (43 characters).
    pub fn parse(s: &str) -> Result<Self, JwkError> {
        b64::decode(s)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .map(Thumbprint)
            .ok_or(JwkError::Coordinates)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64::encode(&self.0))
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A P-256 key from RFC 7515 appendix A.3 (the ES256 example).
    const RFC7515_A3: &str = r#"{"kty":"EC","crv":"P-256",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    #[test]
    fn parses_and_round_trips_rfc7515_key() {
        let k: Jwk = serde_json::from_str(RFC7515_A3).unwrap();
        let again: Jwk = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
        assert_eq!(k, again);
        assert_eq!(Jwk::from_uncompressed(&k.to_uncompressed()).unwrap(), k);
    }

    #[test]
    fn thumbprint_is_hash_of_canonical_members() {
        let k: Jwk = serde_json::from_str(RFC7515_A3).unwrap();
        let canonical = r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
        let want = digest(&SHA256, canonical.as_bytes());
        assert_eq!(k.thumbprint().as_bytes().as_slice(), want.as_ref());
        // kid is not part of the thumbprint
        assert_eq!(k.clone().with_kid("k1").thumbprint(), k.thumbprint());
        let t = k.thumbprint().to_string();
        assert_eq!(t.len(), 43);
        assert_eq!(Thumbprint::parse(&t).unwrap(), k.thumbprint());
    }

    #[test]
    fn refuses_wrong_keys() {
        let cases = [
            (
                r#"{"kty":"RSA","crv":"P-256","x":"AA","y":"AA"}"#,
                JwkError::KeyType,
            ),
            (
                r#"{"kty":"EC","crv":"P-384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
                JwkError::Curve,
            ),
            (
                r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
                JwkError::Coordinates,
            ),
            (
                r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#,
                JwkError::PrivatePart,
            ),
        ];
        for (json, want) in cases {
            let err = serde_json::from_str::<Jwk>(json).unwrap_err().to_string();
            assert!(err.contains(&want.to_string()), "{json}: {err}");
        }
        assert_eq!(
            Jwk::from_uncompressed(&[4u8; 64]),
            Err(JwkError::PointEncoding)
        );
        let mut compressed = [0u8; 65];
        compressed[0] = 2;
        assert_eq!(
            Jwk::from_uncompressed(&compressed),
            Err(JwkError::PointEncoding)
        );
        assert!(Thumbprint::parse("short").is_err());
    }
}
