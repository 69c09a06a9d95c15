//! Test doubles: an in-memory Ident server built from the server-side halves
//! of `ident_core::protocol` (as in ident-core's facade tests), and ports
//! that record what the shell emits and notifies.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ident_core::account::{ChallengeId, DeviceId, ServerUrl};
use ident_core::enroll_link::{EnrollLink, EnrollToken};
use ident_core::jose::{EcKeyPair, Jwk};
use ident_core::ports::{
    HttpRequest, HttpResponse, HttpTransport, KeyStore, ManualClock, MemoryNotifier, Method,
    TransportError, UnixTime,
};
use ident_core::protocol::{
    AccountInfo, AnswerOutcome, AnswerRequest, AnswerResponse, ChallengeClaims, ChallengeContext,
    ChallengesResponse, EnrollConfirmRequest, EnrollRequest, EnrolledBody, MatchNumber,
    MemoryReplayCache, PROBLEM_CONTENT_TYPE, PROOF_HEADER, Policy, Problem, ProblemType, proof_kid,
    sign_challenge, verify_answer, verify_proof,
};
use ident_core::vault::KdfParams;

use crate::poller::{EventSink, PollConfig, ShellEvent};
use crate::state::{AppState, Config, NotificationPermission, Ports};
use crate::views::{NotificationState, PlatformName};

pub const BASE: &str = "https://id.example.de";
pub const T0: i64 = 1_750_000_000;
pub const SMS: &str = "314159";
pub const PIN: &str = "830571";

struct Chal {
    device: DeviceId,
    exp: i64,
    number: Option<MatchNumber>,
    token: String,
    outcome: Option<AnswerOutcome>,
}

#[derive(Default)]
struct FakeState {
    tokens: HashMap<[u8; 16], (bool, bool, Option<Jwk>)>,
    devices: HashMap<DeviceId, Jwk>,
    /// Wrong SMS codes per enrollment token (three end the enrollment).
    wrong_codes: HashMap<[u8; 16], u32>,
    challenges: HashMap<ChallengeId, Chal>,
    next: u32,
    offline: bool,
}

/// The in-memory server.
pub struct Fake {
    base: ServerUrl,
    key: EcKeyPair,
    pub clock: Arc<ManualClock>,
    replay: MemoryReplayCache,
    st: Mutex<FakeState>,
}

fn json<T: serde::Serialize>(status: u16, body: &T) -> HttpResponse {
    HttpResponse {
        status,
        content_type: Some("application/json".into()),
        body: serde_json::to_vec(body).unwrap(),
    }
}

fn problem(kind: ProblemType) -> HttpResponse {
    problem_body(&Problem::new(kind, None))
}

fn problem_body(p: &Problem) -> HttpResponse {
    HttpResponse {
        status: p.status,
        content_type: Some(PROBLEM_CONTENT_TYPE.into()),
        body: p.to_json(),
    }
}

impl Fake {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            base: ServerUrl::parse(BASE).unwrap(),
            key: EcKeyPair::generate().unwrap().0,
            clock: Arc::new(ManualClock::at(T0)),
            replay: MemoryReplayCache::new(),
            st: Mutex::new(FakeState::default()),
        })
    }

    /// A one-time enrollment link; with `sms`, enrollment needs [`SMS`].
    pub fn link(&self, sms: bool) -> String {
        let token = EnrollToken::generate().unwrap();
        self.st
            .lock()
            .unwrap()
            .tokens
            .insert(*token.expose(), (sms, false, None));
        EnrollLink::new(self.base.clone(), token, self.key.public_jwk().thumbprint()).to_uri()
    }

    /// The device id of every enrolled device.
    pub fn devices(&self) -> Vec<DeviceId> {
        self.st.lock().unwrap().devices.keys().cloned().collect()
    }

    pub fn set_offline(&self, offline: bool) {
        self.st.lock().unwrap().offline = offline;
    }

    /// A portal login for `device`: a signed challenge, with a number to match.
    pub fn login(&self, device: &DeviceId, number: Option<&str>) -> String {
        let mut st = self.st.lock().unwrap();
        st.next += 1;
        let id = ChallengeId::parse(&format!("chal-{}", st.next)).unwrap();
        let claims = ChallengeClaims {
            iss: self.base.clone(),
            aud: device.clone(),
            jti: id.clone(),
            iat: T0,
            exp: T0 + 120,
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
        id.as_str().to_owned()
    }

    /// Answers a challenge "elsewhere" (another device, or it was withdrawn).
    pub fn withdraw(&self, id: &str) {
        let id = ChallengeId::parse(id).unwrap();
        if let Some(c) = self.st.lock().unwrap().challenges.get_mut(&id) {
            c.outcome = Some(AnswerOutcome::Denied);
        }
    }

    pub fn outcome(&self, id: &str) -> Option<AnswerOutcome> {
        let id = ChallengeId::parse(id).unwrap();
        self.st
            .lock()
            .unwrap()
            .challenges
            .get(&id)
            .and_then(|c| c.outcome)
    }

    fn enrolled(&self, st: &mut FakeState, jwk: Jwk) -> EnrolledBody {
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
                let wrong = st.wrong_codes.entry(*c.token.expose()).or_default();
                *wrong += 1;
                if *wrong >= 3 {
                    st.tokens.remove(c.token.expose());
                    return problem(ProblemType::SmsCodeExpired);
                }
                let left = 3 - *wrong;
                return problem_body(
                    &Problem::new(ProblemType::SmsCodeInvalid, None).with_tries_left(left),
                );
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

/// Records every event.
#[derive(Default)]
pub struct Events(Mutex<Vec<ShellEvent>>);

impl Events {
    pub fn all(&self) -> Vec<ShellEvent> {
        self.0.lock().unwrap().clone()
    }

    /// Waits up to 5 s for an event matching `f`.
    pub fn wait_for(&self, f: impl Fn(&ShellEvent) -> bool) -> ShellEvent {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(e) = self.all().into_iter().find(|e| f(e)) {
                return e;
            }
            assert!(Instant::now() < end, "no such event in {:?}", self.all());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl EventSink for Events {
    fn emit(&self, event: ShellEvent) {
        self.0.lock().unwrap().push(event);
    }
}

/// Notifications are always allowed.
pub struct Granted;

impl NotificationPermission for Granted {
    fn state(&self, _request: bool) -> NotificationState {
        NotificationState::Granted
    }
}

/// A state over the fake, with its recorders.
pub struct Harness {
    pub state: AppState,
    pub fake: Arc<Fake>,
    pub events: Arc<Events>,
    pub notes: Arc<MemoryNotifier>,
}

pub fn fast_poll() -> PollConfig {
    PollConfig {
        wait_secs: 1,
        min_interval: Duration::from_millis(20),
        open_interval: Duration::from_millis(20),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    }
}

/// A fresh state in `dir` talking to `fake`, optionally with a key store.
pub fn harness_with(dir: &Path, fake: Arc<Fake>, keystore: Option<Arc<dyn KeyStore>>) -> Harness {
    let events = Arc::new(Events::default());
    let notes = Arc::new(MemoryNotifier::default());
    let state = AppState::new(
        Config {
            data_dir: dir.to_owned(),
            kdf: KdfParams::insecure_for_tests(),
            platform: PlatformName::Linux,
            device_name: "Laptop".into(),
            system_locale: Some("de-DE".into()),
            poll: fast_poll(),
            export_dir: Some(dir.join("Downloads")),
        },
        Ports {
            http: fake.clone(),
            clock: fake.clock.clone(),
            notifier: notes.clone(),
            events: events.clone(),
            permission: Arc::new(Granted),
            keystore,
            biometric: None,
        },
    );
    Harness {
        state,
        fake,
        events,
        notes,
    }
}

pub fn harness(dir: &Path) -> Harness {
    harness_with(dir, Fake::new(), None)
}
