//! Compact JWS (RFC 7515) with ES256 only.
//!
//! [`verify`] checks, in this order, before it lets anyone read a claim: three
//! non-empty parts of canonical base64url; a header that is a JSON object with
//! `alg` exactly `ES256`, `typ` exactly the expected type and no `crit`; a
//! 64-byte signature that verifies under the given key. Any failure is a
//! [`JwsError`] naming the first check that failed.

use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{EcKeyPair, Jwk, KeyError, b64};

/// The longest token accepted (64 KiB); anything longer is refused unread.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three dot-separated parts of base64url, or too long.
    #[error("the token is malformed")]
    Malformed,
    /// The header is not the JSON object expected.
    #[error("the token header is malformed")]
    Header,
    /// `alg` is not ES256 (including `none`).
    #[error("the token algorithm {0:?} is not allowed (only ES256)")]
    Algorithm(String),
    /// `typ` is not the one expected here.
    #[error("the token type {found:?} is not the expected {expected:?}")]
    Type {
        /// The `typ` the caller expected.
        expected: String,
        /// The `typ` found (empty when missing).
        found: String,
    },
    /// The header has `crit`, which this implementation does not understand.
    #[error("the token has critical header parameters")]
    Critical,
    /// The signature is not 64 bytes or does not verify.
    #[error("the token signature is invalid")]
    Signature,
    /// The claims are not the JSON expected.
    #[error("the token claims are malformed: {0}")]
    Claims(String),
    /// Signing failed.
    #[error("the token could not be signed: {0}")]
    Sign(#[from] KeyError),
}

/// A JWS protected header as Ident uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// Always `ES256`.
    pub alg: String,
    /// The token type, e.g. `ident-challenge+jwt`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub typ: String,
    /// The key id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Critical extensions: present means refused.
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
}

impl JwsHeader {
    fn new(typ: &str, kid: Option<&str>) -> Self {
        Self {
            alg: "ES256".into(),
            typ: typ.into(),
            kid: kid.map(str::to_owned),
            crit: None,
        }
    }
}

/// A token whose signature has been checked.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    /// Its header.
    pub header: JwsHeader,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// Parses the verified payload as `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JwsError> {
        serde_json::from_slice(&self.payload).map_err(|e| JwsError::Claims(e.to_string()))
    }

    /// The verified payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Signs `claims` as a compact JWS with header `{alg: ES256, typ, kid}`.
pub fn sign<C: Serialize>(
    key: &EcKeyPair,
    typ: &str,
    kid: Option<&str>,
    claims: &C,
) -> Result<String, JwsError> {
    let header = serde_json::to_vec(&JwsHeader::new(typ, kid))
        .map_err(|e| JwsError::Claims(e.to_string()))?;
    let payload = serde_json::to_vec(claims).map_err(|e| JwsError::Claims(e.to_string()))?;
    let signing_input = format!("{}.{}", b64::encode(&header), b64::encode(&payload));
    let sig = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64::encode(&sig)))
}

/// Reads a token's header **without verifying anything**, e.g. to find the
/// `kid` that says which key to verify it with. Never trust what it returns.
pub fn peek_header(token: &str) -> Result<JwsHeader, JwsError> {
    parse_header(&split(token)?.header)
}

/// Verifies `token` under `key`, requiring `typ == expected_typ`.
pub fn verify(token: &str, key: &Jwk, expected_typ: &str) -> Result<VerifiedJws, JwsError> {
    let Parts {
        header,
        payload,
        signature: sig,
    } = split(token)?;
    let header = parse_header(&header)?;
    if header.alg != "ES256" {
        return Err(JwsError::Algorithm(header.alg));
    }
    if header.crit.is_some() {
        return Err(JwsError::Critical);
    }
    if header.typ != expected_typ {
        return Err(JwsError::Type {
            expected: expected_typ.into(),
            found: header.typ,
        });
    }
    if sig.len() != 64 {
        return Err(JwsError::Signature);
    }
    let signing_input = match token.rfind('.') {
        Some(i) => &token[..i],
        None => return Err(JwsError::Malformed),
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.to_uncompressed())
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| JwsError::Signature)?;
    Ok(VerifiedJws { header, payload })
}

/// The three decoded parts of a compact JWS.
struct Parts {
    header: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn split(token: &str) -> Result<Parts, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    if h.is_empty() || s.is_empty() {
        return Err(JwsError::Malformed);
    }
    let dec = |x: &str| b64::decode(x).map_err(|_| JwsError::Malformed);
    Ok(Parts {
        header: dec(h)?,
        payload: dec(p)?,
        signature: dec(s)?,
    })
}

fn parse_header(bytes: &[u8]) -> Result<JwsHeader, JwsError> {
    serde_json::from_slice(bytes).map_err(|_| JwsError::Header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TYP: &str = "ident-challenge+jwt";

    fn key() -> EcKeyPair {
        EcKeyPair::generate().unwrap().0
    }

    fn parts(t: &str) -> Vec<String> {
        t.split('.').map(str::to_owned).collect()
    }

    fn reassemble(h: &serde_json::Value, p: &str, s: &str) -> String {
        format!("{}.{p}.{s}", b64::encode(h.to_string().as_bytes()))
    }

    #[test]
    fn sign_then_verify() {
        let k = key();
        let t = sign(&k, TYP, Some("srv-1"), &json!({"jti": "c1", "n": 5})).unwrap();
        let v = verify(&t, &k.public_jwk(), TYP).unwrap();
        assert_eq!(v.header.kid.as_deref(), Some("srv-1"));
        let claims: serde_json::Value = v.claims().unwrap();
        assert_eq!(claims, json!({"jti": "c1", "n": 5}));
        assert_eq!(peek_header(&t).unwrap().kid.as_deref(), Some("srv-1"));
    }

    #[test]
    fn refuses_other_key_and_other_type() {
        let k = key();
        let t = sign(&k, TYP, None, &json!({})).unwrap();
        assert_eq!(
            verify(&t, &key().public_jwk(), TYP).unwrap_err(),
            JwsError::Signature
        );
        assert!(matches!(
            verify(&t, &k.public_jwk(), "ident-answer+jwt").unwrap_err(),
            JwsError::Type { .. }
        ));
    }

    #[test]
    fn refuses_alg_none_and_other_algs() {
        let k = key();
        let t = sign(&k, TYP, None, &json!({"a": 1})).unwrap();
        let p = parts(&t);
        for alg in ["none", "HS256", "ES384", "es256", "RS256"] {
            let forged = reassemble(&json!({"alg": alg, "typ": TYP}), &p[1], &p[2]);
            assert_eq!(
                verify(&forged, &k.public_jwk(), TYP).unwrap_err(),
                JwsError::Algorithm(alg.into()),
                "{alg}"
            );
            let unsigned = reassemble(&json!({"alg": alg, "typ": TYP}), &p[1], "");
            assert!(verify(&unsigned, &k.public_jwk(), TYP).is_err());
        }
    }

    #[test]
    fn refuses_tampered_payload_header_and_signature() {
        let k = key();
        let jwk = k.public_jwk();
        let t = sign(&k, TYP, None, &json!({"decision": "deny"})).unwrap();
        let p = parts(&t);

        let payload = b64::encode(br#"{"decision":"approve"}"#);
        let forged = format!("{}.{payload}.{}", p[0], p[2]);
        assert_eq!(verify(&forged, &jwk, TYP).unwrap_err(), JwsError::Signature);

        // Same header fields, re-serialised differently: the signed bytes change.
        let spaced = format!(r#"{{"typ": "{TYP}", "alg": "ES256"}}"#);
        let forged = format!("{}.{}.{}", b64::encode(spaced.as_bytes()), p[1], p[2]);
        assert_eq!(verify(&forged, &jwk, TYP).unwrap_err(), JwsError::Signature);

        let mut sig = b64::decode(&p[2]).unwrap();
        sig[10] ^= 0x01;
        let forged = format!("{}.{}.{}", p[0], p[1], b64::encode(&sig));
        assert_eq!(verify(&forged, &jwk, TYP).unwrap_err(), JwsError::Signature);

        // A DER-encoded or otherwise resized signature is refused.
        let long = format!(
            "{}.{}.{}",
            p[0],
            p[1],
            b64::encode(&[sig.clone(), vec![0]].concat())
        );
        assert_eq!(verify(&long, &jwk, TYP).unwrap_err(), JwsError::Signature);
        let short = format!("{}.{}.{}", p[0], p[1], b64::encode(&sig[..63]));
        assert_eq!(verify(&short, &jwk, TYP).unwrap_err(), JwsError::Signature);
    }

    #[test]
    fn refuses_resigned_token_under_attacker_key() {
        let server = key();
        let attacker = key();
        let t = sign(&attacker, TYP, Some("srv-1"), &json!({"jti": "c1"})).unwrap();
        assert_eq!(
            verify(&t, &server.public_jwk(), TYP).unwrap_err(),
            JwsError::Signature
        );
    }

    #[test]
    fn refuses_truncated_and_malformed_tokens() {
        let k = key();
        let jwk = k.public_jwk();
        let t = sign(&k, TYP, None, &json!({"x": 1})).unwrap();
        for cut in [0, 1, 10, t.len() / 2, t.len() - 1] {
            assert!(verify(&t[..cut], &jwk, TYP).is_err(), "cut at {cut}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a.b",
            "a.b.c.d",
            "....",
            &format!("{t}."),
            &format!("{t}=="),
            &format!(" {t}"),
        ] {
            assert!(verify(bad, &jwk, TYP).is_err(), "{bad:?}");
        }
        let p = parts(&t);
        let not_json = format!("{}.{}.{}", b64::encode(b"not json"), p[1], p[2]);
        assert_eq!(verify(&not_json, &jwk, TYP).unwrap_err(), JwsError::Header);
        let array = format!("{}.{}.{}", b64::encode(b"[1]"), p[1], p[2]);
        assert_eq!(verify(&array, &jwk, TYP).unwrap_err(), JwsError::Header);
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(verify(&huge, &jwk, TYP).unwrap_err(), JwsError::Malformed);
    }

    #[test]
    fn refuses_crit_and_missing_typ() {
        let k = key();
        let jwk = k.public_jwk();
        // Sign headers by hand so the signature is valid and only the header is wrong.
        let forge = |header: serde_json::Value| {
            let input = format!(
                "{}.{}",
                b64::encode(header.to_string().as_bytes()),
                b64::encode(b"{}")
            );
            let sig = k.sign(input.as_bytes()).unwrap();
            format!("{input}.{}", b64::encode(&sig))
        };
        let crit = forge(json!({"alg": "ES256", "typ": TYP, "crit": ["exp"], "exp": 1}));
        assert_eq!(verify(&crit, &jwk, TYP).unwrap_err(), JwsError::Critical);
        let no_typ = forge(json!({"alg": "ES256"}));
        assert!(matches!(
            verify(&no_typ, &jwk, TYP).unwrap_err(),
            JwsError::Type { .. }
        ));
        let good = forge(json!({"alg": "ES256", "typ": TYP}));
        assert!(verify(&good, &jwk, TYP).is_ok());
    }

    #[test]
    fn claims_of_wrong_shape_are_an_error_not_a_panic() {
        let k = key();
        let t = sign(&k, TYP, None, &json!([1, 2])).unwrap();
        let v = verify(&t, &k.public_jwk(), TYP).unwrap();
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct C {
            jti: String,
        }
        assert!(matches!(v.claims::<C>(), Err(JwsError::Claims(_))));
    }
}
