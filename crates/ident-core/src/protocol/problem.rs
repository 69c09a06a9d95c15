//! Errors on the wire (RFC 9457 problem details) and errors in the client.
//!
//! The server answers every refusal with `application/problem+json` whose `type`
//! is `urn:ident:problem:<slug>`. The slugs are the [`ProblemType`] enum, listed
//! once here and in `docs/protocol.md`, so that the server produces exactly the
//! types the device understands. The client turns such a body into a
//! [`Problem`], keeping the server's title and detail (cleaned of control
//! characters and shortened) so the app can show them, and reports every other
//! failure as a [`ProtocolError`].

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::answer::BuildAnswerError;
use super::challenge::ChallengeError;
use super::proof::ProofError;
use crate::account::ServerUrlError;
use crate::jose::KeyError;
use crate::ports::TransportError;

/// The media type of problem bodies.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The prefix of every Ident problem `type`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:ident:problem:";

/// The longest title or detail kept from a server's problem, in characters.
pub const MAX_PROBLEM_TEXT_CHARS: usize = 300;

macro_rules! problem_types {
    ($($(#[$doc:meta])* $variant:ident = $slug:literal, $status:literal, $title:literal;)*) => {
        /// The stable problem types of the Ident protocol.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemType {
            $($(#[$doc])* $variant,)*
        }

        impl ProblemType {
            /// Every problem type, in documentation order.
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)*];

            /// The slug, the last part of the `type` URI.
            pub fn slug(self) -> &'static str {
                match self { $(ProblemType::$variant => $slug,)* }
            }

            /// The HTTP status the server answers with.
            pub fn status(self) -> u16 {
                match self { $(ProblemType::$variant => $status,)* }
            }

            /// The default English title.
            pub fn title(self) -> &'static str {
                match self { $(ProblemType::$variant => $title,)* }
            }

            /// The problem type with this slug, if it is one of ours.
            pub fn from_slug(slug: &str) -> Option<ProblemType> {
                match slug { $($slug => Some(ProblemType::$variant),)* _ => None }
            }
        }
    };
}

problem_types! {
    /// The body is not the JSON the endpoint expects.
    BadRequest = "bad-request", 400, "The request is malformed.";
    /// The `Ident-Proof` header is missing or malformed, or made for another method or URL.
    ProofInvalid = "proof-invalid", 401, "The request proof is missing or invalid.";
    /// The proof's `iat` is more than 60 s old.
    ProofExpired = "proof-expired", 401, "The request proof has expired.";
    /// The proof's `iat` is more than 60 s in the future.
    ProofFuture = "proof-future", 401, "The request proof is dated in the future.";
    /// The proof's `jti` was seen before.
    ProofReplayed = "proof-replayed", 401, "The request proof was already used.";
    /// A proof or answer signature does not verify under the device's key.
    BadSignature = "bad-signature", 401, "The signature is invalid.";
    /// The proof's `kid` names no enrolled device (unenrolled, or never was).
    DeviceUnknown = "device-unknown", 401, "This device is not enrolled.";
    /// The enrollment token is unknown, used, or expired.
    EnrollTokenInvalid = "enroll-token-invalid", 400, "The enrollment code is invalid or has expired.";
    /// The enrollment waits for its SMS code; the request is not allowed yet.
    SmsRequired = "sms-required", 403, "The enrollment must first be confirmed with the SMS code.";
    /// The SMS code is wrong.
    SmsCodeInvalid = "sms-code-invalid", 400, "The SMS code is wrong.";
    /// The SMS code expired or its tries are used up; enroll again.
    SmsCodeExpired = "sms-code-expired", 400, "The SMS code has expired.";
    /// No open challenge with this id for this device.
    ChallengeNotFound = "challenge-not-found", 404, "The login request does not exist.";
    /// The challenge expired before the answer arrived.
    AnswerLate = "answer-late", 409, "The login request has expired.";
    /// The challenge was already answered.
    AnswerReplayed = "answer-replayed", 409, "The login request was already answered.";
    /// The answer's `kid` or the proof's device is not the challenge's device.
    AnswerWrongDevice = "answer-wrong-device", 403, "The login request belongs to another device.";
    /// The answer's `jti` is not the challenge in the URL.
    AnswerWrongChallenge = "answer-wrong-challenge", 400, "The answer is for another login request.";
    /// The answer is malformed, addressed to another server, or its `iat` is implausible.
    AnswerInvalid = "answer-invalid", 400, "The answer is invalid.";
    /// Push is locked for the user after repeated denials.
    PushLocked = "push-locked", 423, "Push login is locked for this user.";
    /// The user already has the maximum number of open challenges.
    TooManyChallenges = "too-many-challenges", 429, "Too many open login requests.";
    /// Too many requests; try later.
    RateLimited = "rate-limited", 429, "Too many requests.";
    /// The server failed.
    ServerError = "server-error", 500, "The server failed.";
}

impl ProblemType {
    /// The full `type` URI: `urn:ident:problem:<slug>`.
    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_PREFIX}{}", self.slug())
    }
}

impl fmt::Display for ProblemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// The JSON shape of a problem body.
#[derive(Serialize, Deserialize)]
struct RawProblem {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// Kept as any JSON value: a malformed count is dropped, not the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tries_left: Option<serde_json::Value>,
}

/// The most tries a server may announce; a bigger count is ignored.
const MAX_TRIES_LEFT: u32 = 99;

/// An RFC 9457 problem, as received or about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The slug of the `type` URI when it is `urn:ident:problem:<slug>` with a
    /// well-formed slug (possibly one this build does not know); `None` for
    /// `about:blank` and foreign types.
    pub type_slug: Option<String>,
    /// A short human-readable summary, from the server.
    pub title: Option<String>,
    /// The HTTP status (the response's, not the body's claim).
    pub status: u16,
    /// A human-readable explanation of this occurrence, from the server.
    pub detail: Option<String>,
    /// With `sms-code-invalid`: how many more codes may be tried (the
    /// `tries_left` member; absent, malformed or implausible counts are `None`).
    pub tries_left: Option<u32>,
}

fn clean_text(s: &str) -> Option<String> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PROBLEM_TEXT_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

fn slug_of(type_uri: &str) -> Option<String> {
    let slug = type_uri.strip_prefix(PROBLEM_TYPE_PREFIX)?;
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then(|| slug.to_owned())
}

impl Problem {
    /// Server side: a problem of type `kind` with its default status and title.
    pub fn new(kind: ProblemType, detail: Option<String>) -> Self {
        Self {
            type_slug: Some(kind.slug().to_owned()),
            title: Some(kind.title().to_owned()),
            status: kind.status(),
            detail,
            tries_left: None,
        }
    }

    /// Server side: the same problem announcing `tries` more tries.
    #[must_use]
    pub fn with_tries_left(mut self, tries: u32) -> Self {
        self.tries_left = Some(tries);
        self
    }

    /// The known problem type, if the slug is one of ours.
    pub fn problem_type(&self) -> Option<ProblemType> {
        self.type_slug.as_deref().and_then(ProblemType::from_slug)
    }

    /// Whether this is a problem of type `kind`.
    pub fn is(&self, kind: ProblemType) -> bool {
        self.problem_type() == Some(kind)
    }

    /// Client side: reads a problem body from a response with HTTP `status`.
    /// Returns `None` when the body is not a JSON object.
    pub fn parse(status: u16, body: &[u8]) -> Option<Problem> {
        let raw: RawProblem = serde_json::from_slice(body).ok()?;
        Some(Problem {
            type_slug: raw.type_.as_deref().and_then(slug_of),
            title: raw.title.as_deref().and_then(clean_text),
            status,
            detail: raw.detail.as_deref().and_then(clean_text),
            tries_left: raw
                .tries_left
                .as_ref()
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n <= MAX_TRIES_LEFT),
        })
    }

    /// Server side: the JSON body (`type`, `title`, `status`, `detail`).
    pub fn to_json(&self) -> Vec<u8> {
        let raw = RawProblem {
            type_: Some(
                self.type_slug
                    .as_deref()
                    .map(|s| format!("{PROBLEM_TYPE_PREFIX}{s}"))
                    .unwrap_or_else(|| "about:blank".to_owned()),
            ),
            title: self.title.clone(),
            status: Some(self.status),
            detail: self.detail.clone(),
            tries_left: self.tries_left.map(serde_json::Value::from),
        };
        serde_json::to_vec(&raw).unwrap_or_default()
    }
}

impl From<ProblemType> for Problem {
    fn from(kind: ProblemType) -> Self {
        Problem::new(kind, None)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.title, &self.detail) {
            (Some(t), Some(d)) => write!(f, "{t} {d}"),
            (Some(t), None) => f.write_str(t),
            (None, Some(d)) => f.write_str(d),
            (None, None) => write!(f, "the server refused the request (HTTP {})", self.status),
        }
    }
}

/// Why a protocol operation failed, as the app sees it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// No response: network, DNS, TLS, timeout.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server refused with a problem; its title and detail are kept for the UI.
    #[error("the server refused: {0}")]
    Problem(Problem),
    /// The server answered something the protocol does not allow.
    #[error("the server sent an unexpected response: {0}")]
    UnexpectedResponse(String),
    /// The server's key is not the one the enrollment code named. Nothing was stored.
    #[error("the server's key does not match the enrollment code; the enrollment was stopped")]
    ServerKeyMismatch,
    /// A challenge failed verification.
    #[error(transparent)]
    BadChallenge(#[from] ChallengeError),
    /// The answer could not be built.
    #[error(transparent)]
    Answer(#[from] BuildAnswerError),
    /// The request proof could not be made.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A key could not be made or used.
    #[error("the device key could not be used: {0}")]
    Key(#[from] KeyError),
    /// The server address is not acceptable (refused before anything is sent).
    #[error("the server address was refused: {0}")]
    ServerUrl(#[from] ServerUrlError),
}

impl ProtocolError {
    /// The problem type, when the server refused with one of ours.
    pub fn problem_type(&self) -> Option<ProblemType> {
        match self {
            ProtocolError::Problem(p) => p.problem_type(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &k in ProblemType::ALL {
            assert!(seen.insert(k.slug()), "duplicate {k}");
            assert_eq!(ProblemType::from_slug(k.slug()), Some(k));
            assert!(slug_of(&k.type_uri()).is_some());
            let p = Problem::new(k, Some("d".into()));
            assert_eq!(Problem::parse(k.status(), &p.to_json()).unwrap(), p);
            let p = p.with_tries_left(2);
            assert_eq!(Problem::parse(k.status(), &p.to_json()).unwrap(), p);
        }
    }

    #[test]
    fn parses_foreign_and_hostile_bodies() {
        let p = Problem::parse(
            418,
            br#"{"type":"https://example.com/x","title":"T\u0007ea\n","status":200,"detail":"   "}"#,
        )
        .unwrap();
        assert_eq!(p.type_slug, None);
        assert_eq!(p.title.as_deref(), Some("Tea"));
        assert_eq!(p.status, 418);
        assert_eq!(p.detail, None);
        let long = format!(
            r#"{{"type":"urn:ident:problem:rate-limited","title":"{}"}}"#,
            "x".repeat(10_000)
        );
        let p = Problem::parse(429, long.as_bytes()).unwrap();
        assert!(p.is(ProblemType::RateLimited));
        assert_eq!(p.title.unwrap().len(), MAX_PROBLEM_TEXT_CHARS);
        let p = Problem::parse(400, br#"{"type":"urn:ident:problem:Not A Slug"}"#).unwrap();
        assert_eq!(p.type_slug, None);
        let p = Problem::parse(400, br#"{"type":"urn:ident:problem:new-thing"}"#).unwrap();
        assert_eq!(p.type_slug.as_deref(), Some("new-thing"));
        assert_eq!(p.problem_type(), None);
        assert!(Problem::parse(400, b"[1]").is_none());
        assert!(Problem::parse(400, b"<html>").is_none());
        assert!(Problem::parse(400, br#"{"type": 5}"#).is_none());
    }

    #[test]
    fn tries_left_is_a_small_count_or_nothing() {
        let tries = |body: &str| {
            let p = Problem::parse(400, body.as_bytes()).expect("a problem");
            assert!(p.is(ProblemType::SmsCodeInvalid), "the problem survives");
            p.tries_left
        };
        let with = |v: &str| {
            tries(&format!(
                r#"{{"type":"urn:ident:problem:sms-code-invalid","tries_left":{v}}}"#
            ))
        };
        assert_eq!(with("2"), Some(2));
        assert_eq!(with("0"), Some(0));
        assert_eq!(with("99"), Some(99));
        assert_eq!(with("100"), None);
        assert_eq!(with("-1"), None);
        assert_eq!(with("1.5"), None);
        assert_eq!(with(r#""2""#), None);
        assert_eq!(with("null"), None);
        assert_eq!(with("4294967297"), None);
        assert_eq!(
            tries(r#"{"type":"urn:ident:problem:sms-code-invalid"}"#),
            None
        );
    }
}
