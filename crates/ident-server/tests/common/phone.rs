//! An enrolled phone for the integration tests, played by the app's own
//! protocol client (`ident_core::protocol::Client`) over the shared blocking
//! transport: it enrolls with a link, lists its pending logins and answers
//! them, each call on `spawn_blocking`. One helper for every test file, so a
//! change to the client's API is made here once and every test drives the
//! server exactly as the app does.

// An enrollment that does not end as a test expects fails the test.
#![allow(clippy::panic)]

use std::sync::Arc;

use ident_core::account::PushAccount;
use ident_core::device_key::DeviceKey;
use ident_core::enroll_link::EnrollLink;
use ident_core::ports::{Clock, FixedVerifier, UserVerified, VerificationPrompt, verify_user};
use ident_core::protocol::{
    AnswerOutcome, Client, Decision, EnrollOutcome, MatchNumber, Platform, ProtocolError,
    VerifiedChallenge,
};
use ident_core::secret::SecretBytes;
use reqwest::Method;
use serde_json::Value;

use super::TestApp;

/// A test server as a phone needs it: the relying-party API, where an
/// enrollment is started, and the server's clock, which the app's client
/// signs its proofs with.
pub trait TestServer {
    /// An authenticated request to the relying-party API.
    fn rp(&self, method: Method, path: &str) -> reqwest::RequestBuilder;
    /// The server's clock.
    fn clock(&self) -> Arc<dyn Clock>;
}

impl TestServer for TestApp {
    fn rp(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        TestApp::rp(self, method, path)
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock) as Arc<dyn Clock>
    }
}

/// A device as the app reports it when enrolling: its name and platform.
pub type Device = (&'static str, Platform);

/// The device the tests enroll unless they name one (`device_auth` checks
/// its platform in the device list).
pub const DEVICE: Device = ("Max' Laptop", Platform::Linux);

/// The app's protocol client for `server`.
pub fn client(server: &impl TestServer) -> Client {
    Client::new(super::transport(), server.clock())
}

/// Starts an enrollment for `login` through the relying-party API (`201`)
/// and returns its JSON (`id`, `uri`, …).
pub async fn new_enrollment(server: &impl TestServer, login: &str) -> Value {
    super::send_json(
        server.rp(Method::POST, &format!("/api/v1/users/{login}/enrollments")),
        201,
    )
    .await
}

/// The app redeems `link` as the device `(name, platform)`: enrolled, an
/// SMS code needed, or the server's problem.
pub async fn redeem(
    server: &impl TestServer,
    link: &EnrollLink,
    (name, platform): Device,
) -> Result<EnrollOutcome, ProtocolError> {
    let (c, l, name) = (client(server), link.clone(), name.to_owned());
    tokio::task::spawn_blocking(move || c.enroll(&l, &name, platform, None))
        .await
        .unwrap()
}

/// The user confirmed with biometrics or the device PIN.
pub fn user_ok() -> UserVerified {
    verify_user(
        &FixedVerifier::approving(),
        &VerificationPrompt {
            reason: "Anmeldung bestätigen".into(),
        },
    )
    .unwrap()
}

/// Approval with the number `n` the login page shows.
pub fn approve(n: &str) -> Decision {
    Decision::Approve {
        number: Some(MatchNumber::parse(n).unwrap()),
    }
}

/// An enrolled device: the app's client, its account and its key.
#[derive(Clone)]
pub struct Phone {
    /// The app's protocol client.
    pub client: Client,
    /// The account the enrollment created.
    pub account: PushAccount,
    /// The device key's PKCS#8.
    pkcs8: SecretBytes,
}

impl Phone {
    /// The device key's PKCS#8 (for tests that sign what the app never would).
    pub fn pkcs8(&self) -> &SecretBytes {
        &self.pkcs8
    }

    /// Enrolls [`DEVICE`] for `login` through the relying-party API.
    pub async fn enroll(server: &impl TestServer, login: &str) -> Phone {
        Phone::enroll_as(server, login, DEVICE).await
    }

    /// Enrolls the device `(name, platform)` for `login` through the
    /// relying-party API.
    pub async fn enroll_as(server: &impl TestServer, login: &str, device: Device) -> Phone {
        let e = new_enrollment(server, login).await;
        Phone::enroll_link(server, e["uri"].as_str().unwrap(), device).await
    }

    /// Enrolls the device `(name, platform)` with an `ident://` or
    /// `https://…/e#…` link; the server must not ask for an SMS code.
    pub async fn enroll_link(server: &impl TestServer, link: &str, device: Device) -> Phone {
        let link = EnrollLink::parse(link).unwrap();
        let EnrollOutcome::Enrolled(done) = redeem(server, &link, device).await.unwrap() else {
            panic!("expected a direct enrollment")
        };
        Phone {
            client: client(server),
            account: done.account,
            pkcs8: done.device_key,
        }
    }

    /// The device key.
    pub fn key(&self) -> DeviceKey {
        DeviceKey::from_pkcs8(&self.pkcs8).unwrap()
    }

    /// The pending logins, each verified against the pinned server key;
    /// `wait` seconds of long poll.
    pub async fn fetch(&self, wait: Option<u32>) -> Vec<VerifiedChallenge> {
        let p = self.clone();
        tokio::task::spawn_blocking(move || {
            p.client
                .pending_challenges(&p.account, &p.key(), wait)
                .unwrap()
                .into_iter()
                .map(Result::unwrap)
                .collect()
        })
        .await
        .unwrap()
    }

    /// Answers login `c` with `decision`, the user verified.
    pub async fn answer(
        &self,
        c: &VerifiedChallenge,
        decision: Decision,
    ) -> Result<AnswerOutcome, ProtocolError> {
        let (p, c) = (self.clone(), c.clone());
        tokio::task::spawn_blocking(move || {
            p.client
                .answer(&p.account, &p.key(), &c, &decision, &user_ok())
        })
        .await
        .unwrap()
    }

    /// Approves the one pending login (waiting up to 5 s for it) with
    /// `number`.
    pub async fn approve_only(&self, number: &str) -> AnswerOutcome {
        let list = self.fetch(Some(5)).await;
        assert_eq!(list.len(), 1);
        self.answer(&list[0], approve(number)).await.unwrap()
    }
}
