//! The device's protocol client: enrollment, fetching challenges, answering,
//! push-token updates and unenrollment, over the [`HttpTransport`] port.
//!
//! Every rule that can be checked on the device is checked here before anything
//! is stored or shown: the server key against the link's fingerprint, each
//! challenge against the pinned key, response sizes and shapes. The client holds
//! no state; the app stores what [`Client::enroll`] returns in the vault and
//! passes the account and its key back in.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::answer::{Decision, build_answer};
use super::challenge::{ChallengeError, VerifiedChallenge, verify_challenge};
use super::problem::{PROBLEM_CONTENT_TYPE, Problem, ProblemType, ProtocolError};
use super::proof::build_proof;
use super::wire::{
    AnswerOutcome, AnswerRequest, AnswerResponse, ChallengesResponse, EnrollConfirmRequest,
    EnrollRequest, EnrollResponse, EnrolledBody, Platform, Policy, PushRegistration, SmsCode,
};
use super::{
    CHALLENGE_SKEW_SECS, MAX_CHALLENGES_PER_RESPONSE, MAX_RESPONSE_BYTES, MAX_WAIT_SECS,
    PROOF_HEADER, paths,
};
use crate::account::{DeviceId, PushAccount, ServerUrl};
use crate::device_key::DeviceKey;
use crate::enroll_link::{EnrollLink, EnrollToken};
use crate::jose::{Jwk, Thumbprint};
use crate::ports::{
    Clock, HttpRequest, HttpResponse, HttpTransport, Method, TransportError, UserVerified,
};
use crate::secret::SecretBytes;

/// The default timeout of a request (a long poll adds its `wait` to it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A completed enrollment: what the app stores in the vault.
#[derive(Debug)]
pub struct EnrolledAccount {
    /// The account, with the pinned server key.
    pub account: PushAccount,
    /// The device key's PKCS#8, to be stored encrypted. Never log it.
    pub device_key: SecretBytes,
    /// Who runs the service, for display.
    pub issuer: String,
    /// The account's display name.
    pub label: String,
    /// The server's policy.
    pub policy: Policy,
}

/// An enrollment waiting for its SMS code. Keep it in memory until
/// [`Client::confirm_enrollment`] succeeds; it holds the new device key.
#[derive(Debug)]
pub struct PendingEnrollment {
    server: ServerUrl,
    token: EnrollToken,
    fingerprint: Thumbprint,
    device_key: SecretBytes,
}

impl PendingEnrollment {
    /// The server the enrollment is with.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }
}

/// What [`Client::enroll`] achieved.
// Made once per enrollment and unpacked at once; boxing would only cost clarity.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EnrollOutcome {
    /// The device is enrolled.
    Enrolled(EnrolledAccount),
    /// The server sent an SMS code; call [`Client::confirm_enrollment`] with it.
    SmsRequired(PendingEnrollment),
}

/// The device's protocol client.
#[derive(Clone)]
pub struct Client {
    http: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    skew: i64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client sending through `http`, telling time by `clock`.
    pub fn new(http: Arc<dyn HttpTransport>, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            clock,
            timeout: DEFAULT_TIMEOUT,
            skew: CHALLENGE_SKEW_SECS,
        }
    }

    /// The same client with another base request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same client with another clock-skew tolerance for challenges.
    pub fn with_skew(mut self, skew_secs: i64) -> Self {
        self.skew = skew_secs.max(0);
        self
    }

    /// Enrolls with the server named by `link`: makes a new device key, sends
    /// `POST /device/v1/enroll` with a proof signed by it, and checks the
    /// returned server key against the link's fingerprint. Nothing is returned
    /// for storage unless that check passes.
    pub fn enroll(
        &self,
        link: &EnrollLink,
        device_name: &str,
        platform: Platform,
        push: Option<PushRegistration>,
    ) -> Result<EnrollOutcome, ProtocolError> {
        let url = link.server().join(paths::ENROLL)?;
        let (key, pkcs8) = DeviceKey::generate()?;
        let body = EnrollRequest {
            token: link.token().clone(),
            jwk: key.public_jwk(),
            device_name: device_name.to_owned(),
            platform,
            push,
        };
        let resp = self.call(Method::Post, url, None, &key, Some(&body), self.timeout)?;
        match parse_json::<EnrollResponse>(&resp, "enrollment")? {
            EnrollResponse::Enrolled(enrolled) => Ok(EnrollOutcome::Enrolled(finish(
                enrolled,
                link.server(),
                link.fingerprint(),
                &key,
                pkcs8,
            )?)),
            EnrollResponse::SmsRequired(_) => Ok(EnrollOutcome::SmsRequired(PendingEnrollment {
                server: link.server().clone(),
                token: link.token().clone(),
                fingerprint: *link.fingerprint(),
                device_key: pkcs8,
            })),
        }
    }

    /// Completes an enrollment that needed an SMS code. On a wrong code the
    /// server answers [`ProblemType::SmsCodeInvalid`] and `pending` can be used
    /// again with another code.
    pub fn confirm_enrollment(
        &self,
        pending: &PendingEnrollment,
        code: &SmsCode,
    ) -> Result<EnrolledAccount, ProtocolError> {
        let url = pending.server.join(paths::ENROLL_CONFIRM)?;
        let key = DeviceKey::from_pkcs8(&pending.device_key)?;
        let body = EnrollConfirmRequest {
            token: pending.token.clone(),
            code: code.clone(),
        };
        let resp = self.call(Method::Post, url, None, &key, Some(&body), self.timeout)?;
        let enrolled: EnrolledBody = parse_json(&resp, "enrollment confirmation")?;
        finish(
            enrolled,
            &pending.server,
            &pending.fingerprint,
            &key,
            pending.device_key.clone(),
        )
    }

    /// Fetches the open challenges for `account`, holding the request up to
    /// `wait` seconds (capped at [`MAX_WAIT_SECS`]) until one exists. Each
    /// challenge is verified on its own: a forged or expired one is an `Err`
    /// in its slot and does not hide the valid ones.
    pub fn pending_challenges(
        &self,
        account: &PushAccount,
        key: &DeviceKey,
        wait: Option<u32>,
    ) -> Result<Vec<Result<VerifiedChallenge, ChallengeError>>, ProtocolError> {
        let mut url = account.server.join(paths::CHALLENGES)?;
        let wait = wait.map(|w| w.min(MAX_WAIT_SECS));
        if let Some(w) = wait {
            url.set_query(Some(&format!("wait={w}")));
        }
        let timeout = self.timeout + Duration::from_secs(u64::from(wait.unwrap_or(0)));
        let resp = self.call::<()>(
            Method::Get,
            url,
            Some(&account.device_id),
            key,
            None,
            timeout,
        )?;
        let list: ChallengesResponse = parse_json(&resp, "challenge list")?;
        if list.challenges.len() > MAX_CHALLENGES_PER_RESPONSE {
            return Err(ProtocolError::UnexpectedResponse(
                "the server sent more login requests than any device can have".into(),
            ));
        }
        let now = self.clock.now();
        Ok(list
            .challenges
            .iter()
            .map(|token| {
                verify_challenge(
                    token,
                    &account.server_jwk,
                    &account.server,
                    &account.device_id,
                    now,
                    self.skew,
                )
            })
            .collect())
    }

    /// Signs and sends the user's decision on `challenge`. Requires proof that
    /// the user was verified just now.
    pub fn answer(
        &self,
        account: &PushAccount,
        key: &DeviceKey,
        challenge: &VerifiedChallenge,
        decision: &Decision,
        verified: &UserVerified,
    ) -> Result<AnswerOutcome, ProtocolError> {
        if challenge.issuer() != &account.server {
            return Err(ChallengeError::WrongIssuer.into());
        }
        if challenge.audience() != &account.device_id {
            return Err(ChallengeError::WrongAudience.into());
        }
        let token = build_answer(
            key,
            &account.device_id,
            challenge,
            decision,
            self.clock.now(),
            verified,
        )?;
        let url = account.server.join(&paths::answer(challenge.id()))?;
        let body = AnswerRequest { answer: token };
        let resp = self.call(
            Method::Post,
            url,
            Some(&account.device_id),
            key,
            Some(&body),
            self.timeout,
        )?;
        let answered: AnswerResponse = parse_json(&resp, "answer")?;
        Ok(answered.status)
    }

    /// Replaces the push registration the server has for this device.
    pub fn update_push_token(
        &self,
        account: &PushAccount,
        key: &DeviceKey,
        push: &PushRegistration,
    ) -> Result<(), ProtocolError> {
        let url = account.server.join(paths::PUSH_TOKEN)?;
        self.call(
            Method::Put,
            url,
            Some(&account.device_id),
            key,
            Some(push),
            self.timeout,
        )?;
        Ok(())
    }

    /// Unenrolls this device. A server that no longer knows the device
    /// ([`ProblemType::DeviceUnknown`]) counts as success: the goal is reached.
    pub fn unenroll(&self, account: &PushAccount, key: &DeviceKey) -> Result<(), ProtocolError> {
        let url = account.server.join(paths::DEVICE)?;
        match self.call::<()>(
            Method::Delete,
            url,
            Some(&account.device_id),
            key,
            None,
            self.timeout,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.problem_type() == Some(ProblemType::DeviceUnknown) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sends one request with a fresh proof and returns the 2xx response;
    /// anything else becomes an error.
    fn call<B: Serialize>(
        &self,
        method: Method,
        url: Url,
        device: Option<&DeviceId>,
        key: &DeviceKey,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<HttpResponse, ProtocolError> {
        let proof = build_proof(key, device, method, &url, self.clock.now())?;
        let mut headers = vec![
            (PROOF_HEADER.to_owned(), proof),
            (
                "Accept".to_owned(),
                format!("application/json, {PROBLEM_CONTENT_TYPE}"),
            ),
        ];
        let body = match body {
            Some(b) => {
                headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
                Some(serde_json::to_vec(b).map_err(|_| {
                    ProtocolError::UnexpectedResponse("the request could not be encoded".into())
                })?)
            }
            None => None,
        };
        let resp = self.http.send(HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
        })?;
        if resp.body.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::TooLarge.into());
        }
        match resp.status {
            200..=299 => Ok(resp),
            300..=399 => Err(ProtocolError::UnexpectedResponse(format!(
                "the server redirected (HTTP {}), which the protocol does not allow",
                resp.status
            ))),
            status => Err(refusal(status, &resp)),
        }
    }
}

fn refusal(status: u16, resp: &HttpResponse) -> ProtocolError {
    let json_like = resp.content_type.as_deref().is_some_and(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with(PROBLEM_CONTENT_TYPE) || ct.starts_with("application/json")
    });
    match json_like
        .then(|| Problem::parse(status, &resp.body))
        .flatten()
    {
        Some(problem) => ProtocolError::Problem(problem),
        None => ProtocolError::UnexpectedResponse(format!(
            "HTTP {status} without a problem description"
        )),
    }
}

fn parse_json<T: DeserializeOwned>(resp: &HttpResponse, what: &str) -> Result<T, ProtocolError> {
    serde_json::from_slice(&resp.body).map_err(|_| {
        ProtocolError::UnexpectedResponse(format!("the {what} response is not the JSON expected"))
    })
}

/// Checks the enrolled body against the pinned fingerprint and assembles what
/// the app stores.
fn finish(
    enrolled: EnrolledBody,
    server: &ServerUrl,
    fingerprint: &Thumbprint,
    key: &DeviceKey,
    pkcs8: SecretBytes,
) -> Result<EnrolledAccount, ProtocolError> {
    if &enrolled.server_jwk.thumbprint() != fingerprint {
        return Err(ProtocolError::ServerKeyMismatch);
    }
    let device_jwk: Jwk = key.public_jwk();
    Ok(EnrolledAccount {
        account: PushAccount {
            server: server.clone(),
            device_id: enrolled.device_id,
            login: enrolled.account.login,
            server_jwk: enrolled.server_jwk,
            device_jwk,
        },
        device_key: pkcs8,
        issuer: enrolled.account.issuer,
        label: enrolled.account.label,
        policy: enrolled.policy,
    })
}
