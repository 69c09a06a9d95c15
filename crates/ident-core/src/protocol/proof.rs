//! Request proofs: the `Ident-Proof` header every device request carries.
//!
//! A proof is a JWS signed by the device key over `{htm, htu, iat, jti}` (as in
//! DPoP, RFC 9449). It shows the request comes from the holder of the enrolled
//! key, for this method and URL, now, and only once. The device builds proofs
//! with [`build_proof`]; the server checks them with [`verify_proof`], which
//! enforces the ±60 s window and asks a [`ReplayCache`] whether the `jti` is new.
//! The server implements the cache on its database; [`MemoryReplayCache`] is
//! the in-memory one for tests and single-process use.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;

use super::problem::ProblemType;
use super::{PROOF_MAX_AGE_SECS, PROOF_MAX_FUTURE_SECS};
use crate::account::DeviceId;
use crate::device_key::{DeviceKey, PROOF_TYP};
use crate::jose::{self, Jwk, JwsError, KeyError, Thumbprint, b64};
use crate::ports::{Method, UnixTime};

/// The claims of a request proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofClaims {
    /// The HTTP method (`GET`, `POST`, …).
    pub htm: String,
    /// The request URL without query and fragment (see [`htu`]).
    pub htu: String,
    /// When the proof was made (Unix seconds, device clock).
    pub iat: i64,
    /// A unique id: 128 random bits, base64url.
    pub jti: String,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The JWS is malformed, has the wrong `alg`/`typ`, or its signature does not verify.
    #[error("the request proof is invalid: {0}")]
    Jws(JwsError),
    /// The claims are not `{htm, htu, iat, jti}` as expected.
    #[error("the request proof's claims are malformed")]
    Claims,
    /// The `kid` is not a valid device id.
    #[error("the request proof names an invalid device id")]
    Kid,
    /// `jti` is not 16 to 64 base64url characters.
    #[error("the request proof's id is malformed")]
    Jti,
    /// `htm` is not the request's method.
    #[error("the request proof was made for another HTTP method")]
    Method,
    /// `htu` is not the request's URL.
    #[error("the request proof was made for another URL")]
    Url,
    /// `iat` is more than 60 s in the past.
    #[error("the request proof has expired; check the device's clock")]
    Expired,
    /// `iat` is more than 60 s in the future.
    #[error("the request proof is dated in the future; check the device's clock")]
    FromFuture,
    /// The `jti` was seen before.
    #[error("the request proof was already used")]
    Replayed,
    /// The replay cache failed; the proof is refused rather than risk a replay.
    #[error("the request proof could not be checked: {0}")]
    Cache(ReplayCacheError),
    /// Signing the proof failed (device side).
    #[error("the request proof could not be made: {0}")]
    Sign(JwsError),
}

impl ProofError {
    /// The problem type a server answers with.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            ProofError::Jws(JwsError::Signature) => ProblemType::BadSignature,
            ProofError::Expired => ProblemType::ProofExpired,
            ProofError::FromFuture => ProblemType::ProofFuture,
            ProofError::Replayed => ProblemType::ProofReplayed,
            ProofError::Cache(_) | ProofError::Sign(_) => ProblemType::ServerError,
            _ => ProblemType::ProofInvalid,
        }
    }
}

/// The replay cache could not answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the replay cache failed: {0}")]
pub struct ReplayCacheError(pub String);

/// Remembers proof ids for as long as a proof could still pass the time window.
pub trait ReplayCache: Send + Sync {
    /// Records (`key`, `jti`) until `keep_until`. Returns `Ok(true)` if it was new,
    /// `Ok(false)` if it was already recorded. Must be atomic: of two concurrent
    /// calls with the same pair, exactly one sees `true`.
    fn first_use(
        &self,
        key: &Thumbprint,
        jti: &str,
        keep_until: UnixTime,
    ) -> Result<bool, ReplayCacheError>;
}

/// A [`ReplayCache`] in memory. Expired entries are dropped as new ones arrive.
#[derive(Debug, Default)]
pub struct MemoryReplayCache {
    seen: Mutex<HashMap<(Thumbprint, String), UnixTime>>,
}

impl MemoryReplayCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries it holds (expired ones included until the next insert).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayCache for MemoryReplayCache {
    fn first_use(
        &self,
        key: &Thumbprint,
        jti: &str,
        keep_until: UnixTime,
    ) -> Result<bool, ReplayCacheError> {
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| ReplayCacheError("lock poisoned".into()))?;
        // Anything kept until before this entry's earliest possible use is dead.
        let horizon = keep_until.plus(-(PROOF_MAX_AGE_SECS + PROOF_MAX_FUTURE_SECS));
        seen.retain(|_, until| *until >= horizon);
        let entry = (*key, jti.to_owned());
        if seen.contains_key(&entry) {
            return Ok(false);
        }
        seen.insert(entry, keep_until);
        Ok(true)
    }
}

/// The `htu` of `url`: scheme, host, port and path, without query and fragment
/// (as in DPoP). `?wait=N` is therefore not part of what a proof covers.
pub fn htu(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// 128 random bits, base64url: a fresh proof id.
pub fn random_jti() -> Result<String, KeyError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyError::Random)?;
    Ok(b64::encode(&bytes))
}

/// Builds the `Ident-Proof` for a request. `device_id` is `None` only for
/// the enrollment requests, made before the server has assigned an id.
pub fn build_proof(
    key: &DeviceKey,
    device_id: Option<&DeviceId>,
    method: Method,
    url: &Url,
    now: UnixTime,
) -> Result<String, ProofError> {
    let jti = random_jti().map_err(|e| ProofError::Sign(JwsError::Sign(e)))?;
    let claims = ProofClaims {
        htm: method.as_str().to_owned(),
        htu: htu(url),
        iat: now.secs(),
        jti,
    };
    key.sign_proof(device_id.map(DeviceId::as_str), &claims)
        .map_err(ProofError::Sign)
}

/// The device id a proof claims to come from, **unverified**: the server uses it
/// to find the key to verify the proof with. `None` for enrollment proofs.
pub fn proof_kid(token: &str) -> Result<Option<DeviceId>, ProofError> {
    let header = jose::peek_header(token).map_err(ProofError::Jws)?;
    header
        .kid
        .map(|k| DeviceId::parse(&k).map_err(|_| ProofError::Kid))
        .transpose()
}

fn valid_jti(jti: &str) -> bool {
    (16..=64).contains(&jti.len())
        && jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Server side: checks a proof for a request with `method` to `url`, signed by
/// `jwk`, at server time `now`. Checks, in order: signature, `alg` and `typ`;
/// claims; `htm`; `htu`; `iat` within [`PROOF_MAX_AGE_SECS`] in the past and
/// [`PROOF_MAX_FUTURE_SECS`] in the future; and last, that the `jti` is new
/// (only proofs that pass everything else are recorded).
pub fn verify_proof(
    token: &str,
    jwk: &Jwk,
    method: Method,
    url: &Url,
    now: UnixTime,
    cache: &dyn ReplayCache,
) -> Result<ProofClaims, ProofError> {
    let verified = jose::verify(token, jwk, PROOF_TYP).map_err(ProofError::Jws)?;
    let claims: ProofClaims = verified.claims().map_err(|_| ProofError::Claims)?;
    if !valid_jti(&claims.jti) {
        return Err(ProofError::Jti);
    }
    if claims.htm != method.as_str() {
        return Err(ProofError::Method);
    }
    if claims.htu != htu(url) {
        return Err(ProofError::Url);
    }
    if claims.iat < now.secs().saturating_sub(PROOF_MAX_AGE_SECS) {
        return Err(ProofError::Expired);
    }
    if claims.iat > now.secs().saturating_add(PROOF_MAX_FUTURE_SECS) {
        return Err(ProofError::FromFuture);
    }
    let keep_until = UnixTime(claims.iat).plus(PROOF_MAX_AGE_SECS);
    match cache.first_use(&jwk.thumbprint(), &claims.jti, keep_until) {
        Ok(true) => Ok(claims),
        Ok(false) => Err(ProofError::Replayed),
        Err(e) => Err(ProofError::Cache(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn htu_drops_query_and_fragment() {
        assert_eq!(
            htu(&url("https://id.example.de/device/v1/challenges?wait=30#x")),
            "https://id.example.de/device/v1/challenges"
        );
    }

    #[test]
    fn jti_is_128_bits_and_fresh() {
        let a = random_jti().unwrap();
        assert_eq!(a.len(), 22);
        assert!(valid_jti(&a));
        assert_ne!(a, random_jti().unwrap());
        assert!(!valid_jti("short"));
        assert!(!valid_jti("aaaaaaaaaaaaaaaaaaaaaaa/"));
    }

    #[test]
    fn memory_cache_forgets_only_dead_entries() {
        let c = MemoryReplayCache::new();
        let k = crate::jose::EcKeyPair::generate()
            .unwrap()
            .0
            .public_jwk()
            .thumbprint();
        let k2 = crate::jose::EcKeyPair::generate()
            .unwrap()
            .0
            .public_jwk()
            .thumbprint();
        assert!(c.first_use(&k, "a", UnixTime(100)).unwrap());
        assert!(!c.first_use(&k, "a", UnixTime(100)).unwrap());
        // The same jti under another key is another entry.
        assert!(c.first_use(&k2, "a", UnixTime(100)).unwrap());
        assert_eq!(c.len(), 2);
        // Far later: the old entries are dropped.
        assert!(c.first_use(&k, "b", UnixTime(10_000)).unwrap());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn proof_round_trip_and_kid() {
        let (key, _) = DeviceKey::generate().unwrap();
        let dev = DeviceId::parse("dev-1").unwrap();
        let u = url("https://id.example.de/device/v1/challenges?wait=5");
        let p = build_proof(&key, Some(&dev), Method::Get, &u, UnixTime(1_000)).unwrap();
        assert_eq!(proof_kid(&p).unwrap(), Some(dev));
        let c = MemoryReplayCache::new();
        let claims =
            verify_proof(&p, &key.public_jwk(), Method::Get, &u, UnixTime(1_010), &c).unwrap();
        assert_eq!(claims.htm, "GET");
        assert_eq!(claims.iat, 1_000);
        let p = build_proof(&key, None, Method::Post, &u, UnixTime(1_000)).unwrap();
        assert_eq!(proof_kid(&p).unwrap(), None);
    }
}
