//! Interoperability: tokens and a thumbprint made by Python's `cryptography`
//! (tests/fixtures/make_jws_fixture.py) must be accepted or refused by our JOSE
//! code exactly as the protocol says.

#![allow(clippy::unwrap_used)]

use ident_core::jose::{self, Jwk, JwsError};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/jws_python.json")).unwrap()
}

fn jwk(f: &Value) -> Jwk {
    serde_json::from_value(f["jwk"].clone()).unwrap()
}

#[test]
fn python_signed_token_verifies() {
    let f = fixture();
    let token = f["token"].as_str().unwrap();
    let v = jose::verify(token, &jwk(&f), "ident-challenge+jwt").unwrap();
    assert_eq!(v.header.kid.as_deref(), Some("py-1"));
    assert_eq!(v.claims::<Value>().unwrap(), f["claims"]);
}

#[test]
fn python_thumbprint_matches_ours() {
    let f = fixture();
    assert_eq!(
        jwk(&f).thumbprint().to_string(),
        f["thumbprint"].as_str().unwrap()
    );
}

#[test]
fn der_encoded_signature_is_refused() {
    let f = fixture();
    let token = f["der_signature_token"].as_str().unwrap();
    assert_eq!(
        jose::verify(token, &jwk(&f), "ident-challenge+jwt").unwrap_err(),
        JwsError::Signature
    );
}

#[test]
fn alg_none_is_refused() {
    let f = fixture();
    let token = f["alg_none_token"].as_str().unwrap();
    assert_eq!(
        jose::verify(token, &jwk(&f), "ident-challenge+jwt").unwrap_err(),
        // An unsigned token has an empty third part, refused before its header is read.
        JwsError::Malformed
    );
}

#[test]
fn python_token_is_refused_under_another_key() {
    let f = fixture();
    let other = jose::EcKeyPair::generate().unwrap().0.public_jwk();
    assert_eq!(
        jose::verify(f["token"].as_str().unwrap(), &other, "ident-challenge+jwt").unwrap_err(),
        JwsError::Signature
    );
}
