//! The facade against a small in-memory server built from the server-side
//! halves of `crate::protocol` (the approach of `tests/protocol_flow.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;
use crate::account::DeviceId;
use crate::enroll_link::EnrollToken;
use crate::jose::{EcKeyPair, Jwk};
use crate::ports::{
    FixedVerifier, HttpRequest, HttpResponse, HttpTransport, ManualClock, Method, TransportError,
};
use crate::protocol::{
    AccountInfo, AnswerRequest, AnswerResponse, ChallengeClaims, ChallengeContext,
    ChallengesResponse, DenyReason, EnrollConfirmRequest, EnrollRequest, EnrolledBody, MatchNumber,
    MemoryReplayCache, PROBLEM_CONTENT_TYPE, PROOF_HEADER, Policy, Problem, proof_kid,
    sign_challenge, verify_answer, verify_proof,
};

const BASE: &str = "https://id.example.de";
const T0: i64 = 1_750_000_000;
const SMS: &str = "314159";

struct Chal {
    device: DeviceId,
    exp: i64,
    number: Option<MatchNumber>,
    token: String,
    outcome: Option<AnswerOutcome>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<[u8; 16], (bool, bool, Option<Jwk>)>,
    devices: HashMap<DeviceId, Jwk>,
    challenges: HashMap<ChallengeId, Chal>,
    next: u32,
    offline: bool,
}

struct Fake {
    base: ServerUrl,
    key: EcKeyPair,
    clock: Arc<ManualClock>,
    replay: MemoryReplayCache,
    st: Mutex<State>,
}

fn json<T: serde::Serialize>(status: u16, body: &T) -> HttpResponse {
    HttpResponse {
        status,
        content_type: Some("application/json".into()),
        body: serde_json::to_vec(body).unwrap(),
    }
}

fn problem(kind: ProblemType) -> HttpResponse {
    let p = Problem::new(kind, None);
    HttpResponse {
        status: p.status,
        content_type: Some(PROBLEM_CONTENT_TYPE.into()),
        body: p.to_json(),
    }
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            base: ServerUrl::parse(BASE).unwrap(),
            key: EcKeyPair::generate().unwrap().0,
            clock: Arc::new(ManualClock::at(T0)),
            replay: MemoryReplayCache::new(),
            st: Mutex::new(State::default()),
        })
    }

    fn link(&self, sms: bool) -> EnrollLink {
        let token = EnrollToken::generate().unwrap();
        self.st
            .lock()
            .unwrap()
            .tokens
            .insert(*token.expose(), (sms, false, None));
        EnrollLink::new(self.base.clone(), token, self.key.public_jwk().thumbprint())
    }

    fn login(&self, device: &DeviceId, number: Option<&str>) -> ChallengeId {
        let mut st = self.st.lock().unwrap();
        st.next += 1;
        let id = ChallengeId::parse(&format!("chal-{}", st.next)).unwrap();
        let now = T0;
        let claims = ChallengeClaims {
            iss: self.base.clone(),
            aud: device.clone(),
            jti: id.clone(),
            iat: now,
            exp: now + 120,
            ctx: ChallengeContext {
                service: "Beispiel-Bank".into(),
                login: "12345".into(),
                ip: "203.0.113.9".parse().unwrap(),
                user_agent: "Firefox".into(),
                location: None,
            },
            nm: number.is_some(),
        };
        let token = sign_challenge(&self.key, "k1", &claims).unwrap();
        st.challenges.insert(
            id.clone(),
            Chal {
                device: device.clone(),
                exp: claims.exp,
                number: number.map(|n| MatchNumber::parse(n).unwrap()),
                token,
                outcome: None,
            },
        );
        id
    }

    fn enrolled(&self, st: &mut State, jwk: Jwk) -> EnrolledBody {
        st.next += 1;
        let device_id = DeviceId::parse(&format!("dev-{}", st.next)).unwrap();
        st.devices.insert(device_id.clone(), jwk);
        EnrolledBody {
            device_id,
            account: AccountInfo {
                issuer: "Beispiel-Bank".into(),
                label: "Max Mustermann".into(),
                login: "12345".into(),
            },
            server_jwk: self.key.public_jwk(),
            policy: Policy::default(),
        }
    }

    fn route(&self, req: &HttpRequest) -> HttpResponse {
        let path = req.url.path().to_owned();
        let proof = req
            .headers
            .iter()
            .find(|(n, _)| n == PROOF_HEADER)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let body = req.body.clone().unwrap_or_default();
        let now = UnixTime(T0);
        let mut st = self.st.lock().unwrap();
        if path == "/device/v1/enroll" {
            let e: EnrollRequest = serde_json::from_slice(&body).unwrap();
            verify_proof(&proof, &e.jwk, req.method, &req.url, now, &self.replay).unwrap();
            let Some(t) = st.tokens.get_mut(e.token.expose()) else {
                return problem(ProblemType::EnrollTokenInvalid);
            };
            if t.1 {
                return problem(ProblemType::EnrollTokenInvalid);
            }
            if t.0 {
                t.2 = Some(e.jwk);
                return json(200, &serde_json::json!({"status": "sms_required"}));
            }
            t.1 = true;
            let b = self.enrolled(&mut st, e.jwk);
            return json(200, &b);
        }
        if path == "/device/v1/enroll/confirm" {
            let c: EnrollConfirmRequest = serde_json::from_slice(&body).unwrap();
            let Some((_, false, Some(jwk))) = st.tokens.get(c.token.expose()).cloned() else {
                return problem(ProblemType::EnrollTokenInvalid);
            };
            verify_proof(&proof, &jwk, req.method, &req.url, now, &self.replay).unwrap();
            if c.code.expose() != SMS {
                return problem(ProblemType::SmsCodeInvalid);
            }
            if let Some(t) = st.tokens.get_mut(c.token.expose()) {
                t.1 = true;
            }
            let b = self.enrolled(&mut st, jwk);
            return json(200, &b);
        }
        let device = proof_kid(&proof).unwrap().unwrap();
        let Some(jwk) = st.devices.get(&device).cloned() else {
            return problem(ProblemType::DeviceUnknown);
        };
        verify_proof(&proof, &jwk, req.method, &req.url, now, &self.replay).unwrap();
        match req.method {
            Method::Get => {
                let challenges = st
                    .challenges
                    .values()
                    .filter(|c| c.device == device && c.outcome.is_none())
                    .map(|c| c.token.clone())
                    .collect();
                json(200, &ChallengesResponse { challenges })
            }
            Method::Delete => {
                st.devices.remove(&device);
                HttpResponse {
                    status: 204,
                    content_type: None,
                    body: vec![],
                }
            }
            _ => {
                let id = path
                    .trim_start_matches("/device/v1/challenges/")
                    .trim_end_matches("/answer");
                let id = ChallengeId::parse(id).unwrap();
                let Some(c) = st.challenges.get_mut(&id) else {
                    return problem(ProblemType::ChallengeNotFound);
                };
                if c.outcome.is_some() {
                    return problem(ProblemType::AnswerReplayed);
                }
                let AnswerRequest { answer } = serde_json::from_slice(&body).unwrap();
                let claims = verify_answer(
                    &answer,
                    &jwk,
                    &c.device,
                    &id,
                    &self.base,
                    now,
                    UnixTime(c.exp),
                )
                .unwrap();
                let status = claims.outcome(c.number.as_ref());
                assert!(claims.reason.is_none() || claims.reason == Some(DenyReason::NotMe));
                c.outcome = Some(status);
                json(200, &AnswerResponse { status })
            }
        }
    }
}

impl HttpTransport for Fake {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if self.st.lock().unwrap().offline {
            return Err(TransportError::Unreachable("offline".into()));
        }
        Ok(self.route(&request))
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    vault: Vault,
    fake: Arc<Fake>,
    client: Client,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new();
    let vault = Vault::create(
        &dir.path().join("v.db"),
        &SecretString::from("246810"),
        KdfParams::insecure_for_tests(),
        fake.clock.as_ref(),
    )
    .unwrap();
    let client = Client::new(fake.clone(), fake.clock.clone());
    Setup {
        _dir: dir,
        vault,
        fake,
        client,
    }
}

fn enroll_one(s: &mut Setup) -> EnrolledSummary {
    let link = s.fake.link(false);
    match enroll(&mut s.vault, &s.client, &link, "Laptop", Platform::Linux).unwrap() {
        EnrollStep::Enrolled(e) => e,
        EnrollStep::SmsRequired(_) => panic!("no SMS expected"),
    }
}

fn device_of(s: &Setup, id: AccountId) -> DeviceId {
    match &s.vault.get(id).unwrap().details {
        AccountDetails::Push(p) => p.device_id.clone(),
        AccountDetails::Otp(_) => panic!("not push"),
    }
}

#[test]
fn enroll_stores_the_account() {
    let mut s = setup();
    let e = enroll_one(&mut s);
    assert_eq!(e.name, "Max Mustermann");
    assert_eq!(e.issuer, "Beispiel-Bank");
    assert_eq!(s.vault.accounts().len(), 1);
    assert_eq!(s.vault.get(e.account_id).unwrap().name, "Max Mustermann");
}

#[test]
fn sms_enrollment_stores_nothing_until_confirmed() {
    let mut s = setup();
    let link = s.fake.link(true);
    let EnrollStep::SmsRequired(pending) =
        enroll(&mut s.vault, &s.client, &link, "Laptop", Platform::Linux).unwrap()
    else {
        panic!("SMS expected")
    };
    assert!(s.vault.accounts().is_empty());
    let wrong = confirm_enrollment(
        &mut s.vault,
        &s.client,
        &pending,
        &SmsCode::parse("000000").unwrap(),
    )
    .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongCode);
    assert!(s.vault.accounts().is_empty());
    let ok = confirm_enrollment(
        &mut s.vault,
        &s.client,
        &pending,
        &SmsCode::parse(SMS).unwrap(),
    )
    .unwrap();
    assert_eq!(s.vault.get(ok.account_id).unwrap().name, "Max Mustermann");
}

#[test]
fn used_link_is_a_server_error_and_stores_nothing() {
    let mut s = setup();
    let link = s.fake.link(false);
    enroll(&mut s.vault, &s.client, &link, "Laptop", Platform::Linux).unwrap();
    let err = enroll(&mut s.vault, &s.client, &link, "Laptop", Platform::Linux).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(s.vault.accounts().len(), 1);
}

#[test]
fn pending_and_answer_with_number() {
    let mut s = setup();
    let a = enroll_one(&mut s);
    let b = enroll_one(&mut s);
    let ca = s.fake.login(&device_of(&s, a.account_id), Some("42"));
    let cb = s.fake.login(&device_of(&s, b.account_id), None);
    // With wait and two accounts: polled in parallel.
    let report = pending(&s.vault, &s.client, Some(1)).unwrap();
    assert!(report.failures.is_empty());
    assert_eq!(report.challenges.len(), 2);
    assert_eq!(report.challenges[0].account_id, a.account_id);
    assert_eq!(report.challenges[0].challenge.id(), &ca);

    let found = find_challenge(&s.vault, &s.client, &ca).unwrap();
    let verifier = FixedVerifier::approving();
    let outcome = answer(
        &s.vault,
        &s.client,
        found.account_id,
        &found.challenge,
        &Decision::Approve {
            number: Some(MatchNumber::parse("42").unwrap()),
        },
        &verifier,
    )
    .unwrap();
    assert_eq!(outcome, AnswerOutcome::Approved);
    assert_eq!(verifier.times_asked(), 1);

    // The other account's challenge cannot be answered as this account's.
    let other = find_challenge(&s.vault, &s.client, &cb).unwrap();
    let err = answer(
        &s.vault,
        &s.client,
        a.account_id,
        &other.challenge,
        &Decision::Deny { reason: None },
        &verifier,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        verifier.times_asked(),
        1,
        "not asked for a mismatched challenge"
    );

    // Replay: already answered.
    let err = answer(
        &s.vault,
        &s.client,
        found.account_id,
        &found.challenge,
        &Decision::Deny { reason: None },
        &verifier,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ChallengeGone);
    assert!(matches!(
        find_challenge(&s.vault, &s.client, &ca).unwrap_err(),
        AuthenticatorError::NoSuchChallenge(_)
    ));
}

#[test]
fn wrong_number_is_denied_and_refused_user_sends_nothing() {
    let mut s = setup();
    let a = enroll_one(&mut s);
    let c = s.fake.login(&device_of(&s, a.account_id), Some("42"));
    let found = find_challenge(&s.vault, &s.client, &c).unwrap();
    let no = FixedVerifier::refusing(UserVerificationError::Failed);
    let err = answer(
        &s.vault,
        &s.client,
        a.account_id,
        &found.challenge,
        &Decision::Approve {
            number: Some(MatchNumber::parse("41").unwrap()),
        },
        &no,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let outcome = answer(
        &s.vault,
        &s.client,
        a.account_id,
        &found.challenge,
        &Decision::Approve {
            number: Some(MatchNumber::parse("41").unwrap()),
        },
        &FixedVerifier::approving(),
    )
    .unwrap();
    assert_eq!(outcome, AnswerOutcome::Denied);
}

#[test]
fn offline_accounts_are_reported_not_fatal() {
    let mut s = setup();
    enroll_one(&mut s);
    s.fake.st.lock().unwrap().offline = true;
    let report = pending(&s.vault, &s.client, None).unwrap();
    assert!(report.challenges.is_empty());
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].error.kind(), ErrorKind::Network);
}

#[test]
fn remove_unenrolls_best_effort() {
    let mut s = setup();
    let a = enroll_one(&mut s);
    let b = enroll_one(&mut s);
    assert_eq!(
        remove_account(&mut s.vault, &s.client, a.account_id).unwrap(),
        ServerUnenroll::Done
    );
    assert_eq!(s.fake.st.lock().unwrap().devices.len(), 1);
    s.fake.st.lock().unwrap().offline = true;
    let r = remove_account(&mut s.vault, &s.client, b.account_id).unwrap();
    assert!(matches!(r, ServerUnenroll::Failed(ref e) if e.kind() == ErrorKind::Network));
    assert!(s.vault.accounts().is_empty());
}

#[test]
fn find_account_rules() {
    let mut s = setup();
    import_text(
        &mut s.vault,
        "otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQ&issuer=GitHub\n\
         otpauth://totp/GitLab:alice2?secret=GEZDGNBVGY3TQOJQ&issuer=GitLab\n",
    )
    .unwrap();
    let ids: Vec<_> = s.vault.accounts().iter().map(|a| a.id).collect();
    assert_eq!(find_account(&s.vault, &ids[1].to_string()).unwrap(), ids[1]);
    assert_eq!(find_account(&s.vault, "ALICE").unwrap(), ids[0]);
    assert_eq!(find_account(&s.vault, "gitlab").unwrap(), ids[1]);
    let err = find_account(&s.vault, "git").unwrap_err();
    assert!(
        matches!(&err, AuthenticatorError::Ambiguous { candidates, .. } if candidates.len() == 2)
    );
    assert_eq!(err.kind(), ErrorKind::Ambiguous);
    assert_eq!(
        find_account(&s.vault, "nobody").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn import_is_all_or_nothing_and_export_round_trips() {
    let mut s = setup();
    let err = import_text(
        &mut s.vault,
        "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ\nnot a uri\n",
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(s.vault.accounts().is_empty());
    import_text(&mut s.vault, "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ").unwrap();
    enroll_one(&mut s);
    let pass = SecretString::from("lange passphrase");
    let file = export_vault(
        &s.vault,
        &pass,
        KdfParams::insecure_for_tests(),
        UnixTime(T0),
    )
    .unwrap();
    let mut other = setup();
    let r = import_export(&mut other.vault, &file, &pass).unwrap();
    assert_eq!(r.added.len(), 1);
    assert_eq!(r.reenroll.len(), 1);
    assert_eq!(r.reenroll[0].login, "12345");
    let wrong =
        import_export(&mut other.vault, &file, &SecretString::from("falsch!!!")).unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongPin);
}
