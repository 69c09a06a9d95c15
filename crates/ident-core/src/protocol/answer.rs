//! Answers: the device's signed approve or deny of one challenge.
//!
//! The device builds an answer with [`build_answer`], which needs a
//! [`VerifiedChallenge`] (so only checked challenges can be answered) and a
//! [`UserVerified`] token (so nothing is signed without asking the user). The
//! server checks it with [`verify_answer`] and turns it into an outcome with
//! [`AnswerClaims::outcome`], where a wrong number counts as a denial. That
//! exactly one answer per challenge is accepted is the server's job (an atomic
//! update of its challenge row); the problem type for a second answer is
//! [`ProblemType::AnswerReplayed`].

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::challenge::VerifiedChallenge;
use super::problem::ProblemType;
use super::wire::AnswerOutcome;
use super::{ANSWER_IAT_WINDOW_SECS, CHALLENGE_SKEW_SECS};
use crate::account::{ChallengeId, DeviceId, ServerUrl};
use crate::device_key::{ANSWER_TYP, DeviceKey};
use crate::jose::{self, Jwk, JwsError, KeyError};
use crate::ports::{UnixTime, UserVerified};

/// Why a number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the number must be 2 to 6 digits")]
pub struct MatchNumberError;

/// The number shown on the login page that the user types on the device:
/// 2 to 6 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchNumber(String);

impl MatchNumber {
    /// Parses 2 to 6 ASCII digits (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Self, MatchNumberError> {
        let s = s.trim();
        if (2..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(MatchNumberError)
        }
    }

    /// A uniformly random number of `digits` digits (2 to 6), leading zeros
    /// included (server side).
    pub fn random(digits: u8) -> Result<Self, KeyError> {
        let digits = u32::from(digits.clamp(2, 6));
        let modulus = 10u32.pow(digits);
        // Rejection sampling: take values below the largest multiple of modulus.
        let limit = u32::MAX - (u32::MAX % modulus);
        let rng = SystemRandom::new();
        loop {
            let mut b = [0u8; 4];
            rng.fill(&mut b).map_err(|_| KeyError::Random)?;
            let v = u32::from_le_bytes(b);
            if v < limit {
                let n = v % modulus;
                return Ok(Self(format!("{n:0width$}", width = digits as usize)));
            }
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares without an early exit on the first differing digit.
    fn same_as(&self, other: &MatchNumber) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .bytes()
                .zip(other.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Display for MatchNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for MatchNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MatchNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // No trimming on the wire: exactly the digits.
        if s.trim() != s {
            return Err(serde::de::Error::custom(MatchNumberError));
        }
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why the user denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// "This was not me": the server reports it and counts it for the lock.
    NotMe,
}

/// The decision as it goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// `"approve"`.
    Approve,
    /// `"deny"`.
    Deny,
}

/// What the user decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve the login; with the number the user typed when the challenge asks for one.
    Approve {
        /// The typed number (required when the challenge has `nm: true`).
        number: Option<MatchNumber>,
    },
    /// Deny the login.
    Deny {
        /// Why, if the user said.
        reason: Option<DenyReason>,
    },
}

/// The claims of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerClaims {
    /// The challenge id answered.
    pub jti: ChallengeId,
    /// The server's base URL (the challenge's `iss`).
    pub aud: ServerUrl,
    /// When the answer was signed (device clock).
    pub iat: i64,
    /// Approve or deny.
    pub decision: DecisionKind,
    /// The number typed, with `approve` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nm: Option<MatchNumber>,
    /// Why denied, with `deny` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DenyReason>,
}

impl AnswerClaims {
    /// The decision with its details.
    pub fn decision(&self) -> Decision {
        match self.decision {
            DecisionKind::Approve => Decision::Approve {
                number: self.nm.clone(),
            },
            DecisionKind::Deny => Decision::Deny {
                reason: self.reason,
            },
        }
    }

    /// Server side: what the answer means for the login. `expected_number` is
    /// the number the login page showed, `None` when the challenge had
    /// `nm: false`. An approval with a missing or wrong number is a denial.
    pub fn outcome(&self, expected_number: Option<&MatchNumber>) -> AnswerOutcome {
        match (self.decision, expected_number) {
            (DecisionKind::Deny, _) => AnswerOutcome::Denied,
            (DecisionKind::Approve, None) => AnswerOutcome::Approved,
            (DecisionKind::Approve, Some(want)) => match &self.nm {
                Some(got) if got.same_as(want) => AnswerOutcome::Approved,
                _ => AnswerOutcome::Denied,
            },
        }
    }
}

/// Why the device could not build an answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BuildAnswerError {
    /// The challenge asks for the number and the approval has none.
    #[error("please type the number shown on the login page")]
    NumberRequired,
    /// The challenge asks for no number and the approval has one.
    #[error("this login request does not use a number")]
    NumberNotExpected,
    /// The challenge has expired on the device's clock.
    #[error("the login request has expired")]
    ChallengeExpired,
    /// The challenge is for another device than the key's account.
    #[error("the login request is meant for another device")]
    WrongDevice,
    /// Signing failed.
    #[error("the answer could not be signed: {0}")]
    Sign(JwsError),
}

/// Device side: signs the answer to `challenge` with header
/// `{alg: ES256, typ: ident-answer+jwt, kid: device_id}`.
pub fn build_answer(
    key: &DeviceKey,
    device_id: &DeviceId,
    challenge: &VerifiedChallenge,
    decision: &Decision,
    now: UnixTime,
    verified: &UserVerified,
) -> Result<String, BuildAnswerError> {
    if challenge.audience() != device_id {
        return Err(BuildAnswerError::WrongDevice);
    }
    if now.secs()
        >= challenge
            .expires_at()
            .secs()
            .saturating_add(CHALLENGE_SKEW_SECS)
    {
        return Err(BuildAnswerError::ChallengeExpired);
    }
    let (kind, nm, reason) = match decision {
        Decision::Approve { number } => {
            match (challenge.number_required(), number) {
                (true, None) => return Err(BuildAnswerError::NumberRequired),
                (false, Some(_)) => return Err(BuildAnswerError::NumberNotExpected),
                _ => {}
            }
            (DecisionKind::Approve, number.clone(), None)
        }
        Decision::Deny { reason } => (DecisionKind::Deny, None, *reason),
    };
    let claims = AnswerClaims {
        jti: challenge.id().clone(),
        aud: challenge.issuer().clone(),
        iat: now.secs(),
        decision: kind,
        nm,
        reason,
    };
    key.sign_answer(device_id.as_str(), &claims, verified)
        .map_err(BuildAnswerError::Sign)
}

/// Why the server refused an answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The header's `kid` is missing or names another device than the one the
    /// challenge was sent to.
    #[error("the answer comes from another device")]
    WrongDevice,
    /// Malformed, wrong `alg` or `typ`, or the signature does not verify.
    #[error("the answer is invalid: {0}")]
    Jws(JwsError),
    /// The claims are malformed or inconsistent (a number with a denial, a
    /// reason with an approval).
    #[error("the answer's claims are malformed")]
    Claims,
    /// `jti` is another challenge.
    #[error("the answer is for another login request")]
    WrongChallenge,
    /// `aud` is another server.
    #[error("the answer is addressed to another server")]
    WrongAudience,
    /// The challenge expired before the answer arrived.
    #[error("the answer arrived after the login request expired")]
    Late,
    /// `iat` is not within 60 s of the server's clock.
    #[error("the answer's time is implausible; check the device's clock")]
    Stale,
}

impl AnswerError {
    /// The problem type a server answers with.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            AnswerError::WrongDevice => ProblemType::AnswerWrongDevice,
            AnswerError::Jws(JwsError::Signature) => ProblemType::BadSignature,
            AnswerError::WrongChallenge => ProblemType::AnswerWrongChallenge,
            AnswerError::Late => ProblemType::AnswerLate,
            _ => ProblemType::AnswerInvalid,
        }
    }
}

/// Server side: checks an answer to challenge `expected_challenge`, which was
/// sent to `expected_device` (whose key is `device_jwk`) and expires at
/// `challenge_exp`, at server time `now`. In order: `kid` is the device; the
/// signature, `alg` and `typ`; the claims; `jti`; `aud`; `now <= challenge_exp`
/// (no tolerance: both times are the server's); `iat` within
/// [`ANSWER_IAT_WINDOW_SECS`] of `now`. It does not know whether the challenge
/// was already answered: that is the caller's atomic update.
pub fn verify_answer(
    token: &str,
    device_jwk: &Jwk,
    expected_device: &DeviceId,
    expected_challenge: &ChallengeId,
    expected_aud: &ServerUrl,
    now: UnixTime,
    challenge_exp: UnixTime,
) -> Result<AnswerClaims, AnswerError> {
    let header = jose::peek_header(token).map_err(AnswerError::Jws)?;
    if header.kid.as_deref() != Some(expected_device.as_str()) {
        return Err(AnswerError::WrongDevice);
    }
    let verified = jose::verify(token, device_jwk, ANSWER_TYP).map_err(AnswerError::Jws)?;
    let claims: AnswerClaims = verified.claims().map_err(|_| AnswerError::Claims)?;
    let consistent = match claims.decision {
        DecisionKind::Approve => claims.reason.is_none(),
        DecisionKind::Deny => claims.nm.is_none(),
    };
    if !consistent {
        return Err(AnswerError::Claims);
    }
    if &claims.jti != expected_challenge {
        return Err(AnswerError::WrongChallenge);
    }
    if &claims.aud != expected_aud {
        return Err(AnswerError::WrongAudience);
    }
    if now > challenge_exp {
        return Err(AnswerError::Late);
    }
    if claims.iat.abs_diff(now.secs()) > ANSWER_IAT_WINDOW_SECS.unsigned_abs() {
        return Err(AnswerError::Stale);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_number_rules() {
        for ok in ["42", "007", "123456"] {
            assert_eq!(MatchNumber::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["1", "1234567", "4a", "", "-1", "٤٢"] {
            assert_eq!(MatchNumber::parse(bad), Err(MatchNumberError), "{bad}");
        }
        assert!(serde_json::from_str::<MatchNumber>("\" 42\"").is_err());
        assert!(serde_json::from_str::<MatchNumber>("42").is_err());
        for d in 2..=6u8 {
            let n = MatchNumber::random(d).unwrap();
            assert_eq!(n.as_str().len(), usize::from(d));
        }
    }

    #[test]
    fn outcome_counts_wrong_number_as_denial() {
        let base = AnswerClaims {
            jti: ChallengeId::parse("c").unwrap(),
            aud: ServerUrl::parse("https://a.de").unwrap(),
            iat: 0,
            decision: DecisionKind::Approve,
            nm: MatchNumber::parse("42").ok(),
            reason: None,
        };
        let n42 = MatchNumber::parse("42").unwrap();
        let n43 = MatchNumber::parse("43").unwrap();
        let n042 = MatchNumber::parse("042").unwrap();
        assert_eq!(base.outcome(Some(&n42)), AnswerOutcome::Approved);
        assert_eq!(base.outcome(Some(&n43)), AnswerOutcome::Denied);
        assert_eq!(base.outcome(Some(&n042)), AnswerOutcome::Denied);
        assert_eq!(base.outcome(None), AnswerOutcome::Approved);
        let none = AnswerClaims {
            nm: None,
            ..base.clone()
        };
        assert_eq!(none.outcome(Some(&n42)), AnswerOutcome::Denied);
        let deny = AnswerClaims {
            decision: DecisionKind::Deny,
            nm: None,
            ..base
        };
        assert_eq!(deny.outcome(None), AnswerOutcome::Denied);
    }
}
