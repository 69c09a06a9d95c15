//! The Ident push protocol (`docs/protocol.md`), both sides of every rule.
//!
//! The device uses [`Client`]; the reference server (`ident-server`) uses the
//! server-side halves — [`verify_proof`], [`sign_challenge`], [`verify_answer`],
//! [`Problem`] and the wire types — so that each rule of the protocol is written
//! exactly once and the two ends cannot drift apart.
//!
//! Map:
//! - [`wire`]: the JSON bodies of every request and response.
//! - [`proof`]: `Ident-Proof` request proofs (build, verify, replay cache).
//! - [`challenge`]: login challenges signed by the server key.
//! - [`answer`]: the device's signed approve/deny.
//! - [`problem`]: RFC 9457 problem details, the stable problem types, and the
//!   client's [`ProtocolError`].
//! - [`client`]: the device's HTTP client over the [`HttpTransport`](crate::ports::HttpTransport) port.

pub mod answer;
pub mod challenge;
pub mod client;
pub mod problem;
pub mod proof;
pub mod wire;

pub use answer::{
    AnswerClaims, AnswerError, BuildAnswerError, Decision, DecisionKind, DenyReason, MatchNumber,
    MatchNumberError, build_answer, verify_answer,
};
pub use challenge::{
    CHALLENGE_TYP, ChallengeClaims, ChallengeContext, ChallengeError, VerifiedChallenge,
    sign_challenge, verify_challenge,
};
pub use client::{Client, EnrollOutcome, EnrolledAccount, PendingEnrollment};
pub use problem::{PROBLEM_CONTENT_TYPE, Problem, ProblemType, ProtocolError};
pub use proof::{
    MemoryReplayCache, ProofClaims, ProofError, ReplayCache, ReplayCacheError, build_proof, htu,
    proof_kid, verify_proof,
};
pub use wire::{
    AccountInfo, AnswerOutcome, AnswerRequest, AnswerResponse, ChallengesResponse,
    EnrollConfirmRequest, EnrollRequest, EnrollResponse, EnrolledBody, Platform, Policy,
    PushProvider, PushRegistration, SmsCode, SmsCodeError, SmsRequiredBody,
};

/// The header that carries a request proof.
pub const PROOF_HEADER: &str = "Ident-Proof";

/// A proof older than this (by its `iat`, against the server's clock) is refused.
pub const PROOF_MAX_AGE_SECS: i64 = 60;

/// A proof whose `iat` is further in the future than this is refused.
pub const PROOF_MAX_FUTURE_SECS: i64 = 60;

/// The clock-skew tolerance the device allows when checking a challenge's `iat`
/// and `exp` (the server's clock and the phone's are never quite the same).
pub const CHALLENGE_SKEW_SECS: i64 = 30;

/// The longest lifetime (`exp - iat`) a device accepts for a challenge.
pub const MAX_CHALLENGE_LIFETIME_SECS: i64 = 600;

/// The default challenge lifetime the server uses.
pub const DEFAULT_CHALLENGE_LIFETIME_SECS: i64 = 120;

/// An answer's `iat` must be within this many seconds of the server's clock.
pub const ANSWER_IAT_WINDOW_SECS: i64 = 60;

/// The longest response body the client reads (1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The longest long-poll `wait` a client asks for, in seconds.
pub const MAX_WAIT_SECS: u32 = 120;

/// The most challenges a client accepts in one list response.
pub const MAX_CHALLENGES_PER_RESPONSE: usize = 64;

/// Paths under the server base URL.
pub mod paths {
    /// `POST`: enroll a device.
    pub const ENROLL: &str = "/device/v1/enroll";
    /// `POST`: confirm an enrollment with the SMS code.
    pub const ENROLL_CONFIRM: &str = "/device/v1/enroll/confirm";
    /// `GET`: the open challenges for the calling device (`?wait=N`).
    pub const CHALLENGES: &str = "/device/v1/challenges";
    /// `PUT`: replace the push registration.
    pub const PUSH_TOKEN: &str = "/device/v1/push-token";
    /// `DELETE`: unenroll the calling device.
    pub const DEVICE: &str = "/device/v1";

    /// `POST`: the path to answer challenge `id`.
    pub fn answer(id: &crate::account::ChallengeId) -> String {
        format!("/device/v1/challenges/{id}/answer")
    }
}
