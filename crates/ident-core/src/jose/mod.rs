//! JOSE, the small strict subset Ident needs: base64url without padding, P-256
//! public keys as JWK (RFC 7517) with their RFC 7638 thumbprints, and compact
//! JWS (RFC 7515) with ES256 and nothing else.
//!
//! Generic JOSE libraries accept many algorithms and header features; every one
//! of them is a way to get a forged token accepted. Here `alg` is pinned to
//! ES256, `typ` must be the one the caller expects, `crit` is refused, the
//! signature must be exactly 64 bytes (r‖s), and base64url must be canonical.

pub mod b64;
pub mod jwk;
pub mod jws;
pub mod keypair;

pub use jwk::{Jwk, JwkError, Thumbprint};
pub use jws::{JwsError, JwsHeader, VerifiedJws, peek_header, sign, verify};
pub use keypair::{EcKeyPair, KeyError};
