//! Push logins end to end over real HTTP: the portal side with reqwest
//! against the relying-party API, the device side with the app's own
//! `ident_core::protocol::Client` over `ReqwestTransport` (blocking, so it
//! runs on `spawn_blocking`). Covers enrollment (QR reuse, no phone, SMS
//! confirmation, concurrency), long poll, approve/deny/not-me/wrong numbers,
//! the locks, the open-challenge limit, expiry, replays, answers from another
//! device, answers that authenticate themselves (no proof), forged and
//! replayed proofs across a restart, a restart in the
//! middle of a login, trusted browsers and the SMS fallback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::phone::{self, DEVICE, Phone, TestServer, approve, user_ok};
use ident_core::account::ChallengeId;
use ident_core::account::ServerUrl;
use ident_core::device_key::DeviceKey;
use ident_core::enroll_link::EnrollLink;
use ident_core::jose::EcKeyPair;
use ident_core::ports::{Clock, ManualClock, Method as PMethod};
use ident_core::protocol::{
    AnswerClaims, AnswerOutcome, Decision, DecisionKind, DenyReason, EnrollOutcome, MatchNumber,
    Platform, ProblemType, ProofClaims, ProtocolError, PushProvider, PushRegistration, SmsCode,
    build_proof, htu, paths,
};
use ident_server::admin::{self, UserSpec};
use ident_server::config::Config;
use ident_server::domain::{LoginName, Role};
use ident_server::startup::Application;
use ident_server::state::AppState;
use ident_server::store::SqliteStore;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const T0: i64 = 1_800_000_000;

/// A server that can be stopped and started again on the same database and port.
struct Server {
    base: String,
    addr: SocketAddr,
    state: AppState,
    api_key: String,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
    stop: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    dir: Arc<tempfile::TempDir>,
    edit: fn(&mut Config),
}

fn no_edit(_: &mut Config) {}

async fn launch(
    dir: Arc<tempfile::TempDir>,
    listen: SocketAddr,
    clock: Arc<ManualClock>,
    api_key: Option<String>,
    edit: fn(&mut Config),
) -> Server {
    let mut config = Config {
        db: dir.path().join("ident.db"),
        listen,
        public_url: String::new(),
        sms_outbox: Some(dir.path().join("sms.jsonl")),
        ..Config::default()
    };
    edit(&mut config);
    let store = Arc::new(SqliteStore::open(&config.db, false).unwrap());
    let api_key = match api_key {
        Some(k) => k,
        None => admin::create_api_key(store.as_ref(), "Beispiel-Portal", T0)
            .unwrap()
            .key
            .to_string(),
    };
    let app = Application::build_with(config, store, clock.clone())
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        addr,
        state,
        api_key,
        clock,
        http: reqwest::Client::new(),
        stop: Some((tx, handle)),
        dir,
        edit,
    }
}

impl Server {
    async fn start(edit: fn(&mut Config)) -> Server {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let s = launch(
            dir,
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(ManualClock::at(T0)),
            None,
            edit,
        )
        .await;
        seed(&s);
        s
    }

    /// Stops this server and starts a new `Application` on the same database
    /// file and port (so devices keep their server URL).
    async fn restart(mut self) -> Server {
        if let Some((tx, handle)) = self.stop.take() {
            tx.send(()).unwrap();
            handle.await.unwrap();
        }
        launch(
            Arc::clone(&self.dir),
            self.addr,
            Arc::clone(&self.clock),
            Some(self.api_key.clone()),
            self.edit,
        )
        .await
    }

    fn outbox_code(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("sms.jsonl")).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let t = last["text"].as_str().unwrap();
        let start = t.find(": ").unwrap() + 2;
        t[start..start + 6].to_owned()
    }

    fn audit_text(&self) -> String {
        let entries = self.state.store.audit_log(None, 500).unwrap();
        serde_json::to_string(&entries).unwrap()
    }

    fn user(&self, login: &str) -> ident_server::store::User {
        self.state
            .store
            .user_by_login(&LoginName::parse(login).unwrap())
            .unwrap()
            .unwrap()
    }
}

impl TestServer for Server {
    fn rp(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock) as Arc<dyn Clock>
    }
}

/// Broker 1000 (with phone), customer 2000 (with phone), customer 2001 (none).
fn seed(s: &Server) {
    let store = s.state.store.as_ref();
    let spec = |login: &str, role, broker: Option<&str>, phone: Option<&str>| UserSpec {
        login: login.into(),
        name: Some(format!("User {login}")),
        role,
        broker: broker.map(str::to_owned),
        phone: phone.map(str::to_owned),
        email: None,
        password: zeroize::Zeroizing::new("demo-passwort".into()),
    };
    admin::create_user(
        store,
        &spec("1000", Role::Broker, None, Some("0151 11111111")),
        T0,
    )
    .unwrap();
    admin::create_user(
        store,
        &spec("2000", Role::Customer, Some("1000"), Some("0151 12345678")),
        T0,
    )
    .unwrap();
    admin::create_user(store, &spec("2001", Role::Customer, Some("1000"), None), T0).unwrap();
}

fn problem_type(e: ProtocolError) -> ProblemType {
    e.problem_type()
        .unwrap_or_else(|| panic!("not a protocol problem: {e:?}"))
}

async fn start(s: &Server, login: &str, method: &str) -> reqwest::Response {
    s.rp(Method::POST, "/api/v1/auth")
        .json(&json!({"login": login, "method": method,
                      "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 Firefox/140.0"}}))
        .send()
        .await
        .unwrap()
}

async fn start_ok(s: &Server, login: &str, method: &str) -> Value {
    let r = start(s, login, method).await;
    common::json(r, 200).await
}

async fn status(s: &Server, txn: &str, wait: u32) -> Value {
    common::send_json(
        s.rp(Method::GET, &format!("/api/v1/auth/{txn}?wait={wait}")),
        200,
    )
    .await
}

async fn assert_problem(r: reqwest::Response, status: u16, slug: &str) {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], format!("urn:ident:problem:{slug}"), "{body}");
}

#[tokio::test]
async fn push_login_approved_with_number() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let started = start_ok(&s, "1000", "push").await;
    assert_eq!(started["method"], "push");
    let number = started["number"].as_str().unwrap().to_owned();
    assert_eq!(number.len(), 2);
    let txn = started["txn"].as_str().unwrap().to_owned();
    assert_eq!(status(&s, &txn, 0).await["status"], "pending");

    let list = dev.fetch(Some(5)).await;
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert!(c.number_required());
    assert_eq!(c.context().login, "1000");
    assert_eq!(c.context().service, "Beispiel-Portal");
    assert_eq!(c.context().ip.to_string(), "203.0.113.9");

    // The portal long-polls the status while the user decides.
    let poll = common::spawn_status_poll(&s.http, &s.base, &s.api_key, &txn);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        dev.answer(c, approve(&number)).await.unwrap(),
        AnswerOutcome::Approved
    );
    let (v, took) = poll.await.unwrap();
    assert_eq!(v["status"], "approved");
    assert!(v.get("trust_token").is_none(), "interval 0: no trust token");
    assert!(
        took < Duration::from_secs(20),
        "long poll not woken: {took:?}"
    );
    assert!(dev.fetch(None).await.is_empty());

    // Devices list shows it with last use; the audit log has no secrets.
    let list: Value = s
        .rp(Method::GET, "/api/v1/users/1000/devices")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["devices"][0]["id"], dev.account.device_id.as_str());
    assert_eq!(list["devices"][0]["platform"], "linux");
    assert_eq!(list["devices"][0]["last_used_at"], T0);
    let audit = s.audit_text();
    for action in [
        "enrollment.created",
        "enrollment.completed",
        "auth.started",
        "challenge.answered",
    ] {
        assert!(audit.contains(action), "{action} missing");
    }
    assert!(!audit.contains(&format!("\"{number}\"")));
    assert!(!audit.contains("eyJ"), "no JWS in the audit log");
}

#[tokio::test]
async fn long_poll_is_woken_by_a_new_challenge() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let d2 = dev.clone();
    let fetch = tokio::spawn(async move {
        let t = Instant::now();
        (d2.fetch(Some(30)).await, t.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !fetch.is_finished(),
        "the long poll returned before any challenge"
    );
    start_ok(&s, "1000", "push").await;
    let (list, took) = fetch.await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        took < Duration::from_secs(20),
        "returned only after {took:?}"
    );
    // Without a challenge, `wait` is honoured (capped) and the list is empty.
    let t = Instant::now();
    let dev2 = Phone::enroll(&s, "2000").await;
    assert!(dev2.fetch(Some(1)).await.is_empty());
    assert!(t.elapsed() >= Duration::from_millis(900));
}

/// Starts a push login for `login`, denies it on `dev`, and returns the
/// login's status then (`denied`, or `locked` when this denial locked push).
async fn deny_a_push_login(s: &Server, dev: &Phone, login: &str) -> Value {
    let t = start_ok(s, login, "push").await;
    let c = dev.fetch(None).await.remove(0);
    assert_eq!(
        dev.answer(&c, Decision::Deny { reason: None })
            .await
            .unwrap(),
        AnswerOutcome::Denied
    );
    status(s, t["txn"].as_str().unwrap(), 0).await["status"].clone()
}

#[tokio::test]
async fn deny_and_wrong_numbers_lock_push_then_sms_fallback() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    // 1: plain deny.
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    // 2 and 3: wrong numbers count as denials; the third locks.
    let mut last = String::new();
    for _ in 0..2 {
        let t = start_ok(&s, "1000", "push").await;
        let n = t["number"].as_str().unwrap();
        let wrong = format!("{:02}", (n.parse::<u32>().unwrap() + 1) % 100);
        let c = dev.fetch(None).await.remove(0);
        assert_eq!(
            dev.answer(&c, approve(&wrong)).await.unwrap(),
            AnswerOutcome::Denied
        );
        last = t["txn"].as_str().unwrap().to_owned();
    }
    assert_eq!(status(&s, &last, 0).await["status"], "locked");
    let u = s.user("1000");
    assert_eq!(u.push_lock_reason.as_deref(), Some("denials"));
    assert!(s.audit_text().contains("push.locked"));
    // Push is refused; auto falls back to SMS.
    assert_problem(start(&s, "1000", "push").await, 423, "push-locked").await;
    let t = start_ok(&s, "1000", "auto").await;
    assert_eq!(t["method"], "sms");
    let txn = t["txn"].as_str().unwrap();
    let r = s
        .rp(Method::POST, &format!("/api/v1/auth/{txn}/sms"))
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
    let code = s.outbox_code();
    if code != "000000" {
        assert_problem(r, 400, "sms-code-invalid").await;
    }
    let r: Value = s
        .rp(Method::POST, &format!("/api/v1/auth/{txn}/sms"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "approved");
    assert_eq!(status(&s, txn, 0).await["status"], "approved");

    // Unlocked, the count starts afresh: one more denial within the same ten
    // minutes does not lock again.
    let r = s
        .rp(Method::POST, "/api/v1/users/1000/push-unlock")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    assert_eq!(s.user("1000").push_lock_reason, None);
    start_ok(&s, "1000", "push").await;
}

async fn set_interval(s: &Server, login: &str, days: u32) {
    let r = s
        .rp(Method::PUT, &format!("/api/v1/users/{login}/interval"))
        .json(&json!({"days": days}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

#[tokio::test]
async fn trusted_browser_skips_the_second_factor_until_not_me() {
    let s = Server::start(no_edit).await;
    set_interval(&s, "1000", 30).await;
    let dev = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "auto").await;
    assert_eq!(t["method"], "push");
    let c = dev.fetch(None).await.remove(0);
    dev.answer(&c, approve(t["number"].as_str().unwrap()))
        .await
        .unwrap();
    let st = status(&s, t["txn"].as_str().unwrap(), 0).await;
    assert_eq!(st["status"], "approved");
    let trust = st["trust_token"].as_str().unwrap().to_owned();

    // auto with the token: no second factor.
    let auto = |token: String| {
        s.rp(Method::POST, "/api/v1/auth").json(&json!({
            "login": "1000", "method": "auto", "trust_token": token,
            "context": {"ip": "203.0.113.9", "user_agent": "Firefox"}}))
    };
    let r: Value = auto(trust.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["method"], "trusted");
    assert_eq!(
        status(&s, r["txn"].as_str().unwrap(), 0).await["status"],
        "approved"
    );
    assert!(
        dev.fetch(None).await.is_empty(),
        "no challenge for a trusted browser"
    );

    // "Not me" locks at once and ends the trust.
    let t = start_ok(&s, "1000", "push").await;
    let c = dev.fetch(None).await.remove(0);
    let out = dev
        .answer(
            &c,
            Decision::Deny {
                reason: Some(DenyReason::NotMe),
            },
        )
        .await
        .unwrap();
    assert_eq!(out, AnswerOutcome::Denied);
    assert_eq!(
        status(&s, t["txn"].as_str().unwrap(), 0).await["status"],
        "locked"
    );
    assert_eq!(s.user("1000").push_lock_reason.as_deref(), Some("not_me"));
    let r: Value = auto(trust).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["method"], "sms", "trust revoked, push locked: SMS");
}

#[tokio::test]
async fn trust_token_is_repeated_but_never_stored_in_clear() {
    let s = Server::start(no_edit).await;
    set_interval(&s, "1000", 30).await;
    let dev = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    let txn = t["txn"].as_str().unwrap();
    let c = dev.fetch(None).await.remove(0);
    dev.answer(&c, approve(t["number"].as_str().unwrap()))
        .await
        .unwrap();
    let token = status(&s, txn, 0).await["trust_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Repeated on every read of that login's status.
    assert_eq!(status(&s, txn, 0).await["trust_token"], token.as_str());
    // Stored sealed: neither the row nor any byte of the database files
    // (database and WAL) holds the token.
    let row = s.state.store.txn(txn).unwrap().unwrap();
    let sealed = row.trust_token_sealed.unwrap();
    assert!(!sealed.windows(token.len()).any(|w| w == token.as_bytes()));
    let sig = token.rsplit('.').next().unwrap();
    for file in ["ident.db", "ident.db-wal"] {
        let bytes = std::fs::read(s.dir.path().join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(sig.len()).any(|w| w == sig.as_bytes()),
            "{file} holds the trust token"
        );
    }
}

#[tokio::test]
async fn a_login_is_followed_only_by_the_key_that_started_it() {
    let s = Server::start(no_edit).await;
    let other = admin::create_api_key(s.state.store.as_ref(), "Anderes-Portal", T0)
        .unwrap()
        .key
        .to_string();
    let as_other = |method: Method, path: &str| {
        s.http
            .request(method, format!("{}{path}", s.base))
            .bearer_auth(&other)
    };
    let dev = Phone::enroll(&s, "1000").await;

    // Push: the other portal's key finds no such login, before and after the answer.
    let t = start_ok(&s, "1000", "push").await;
    let txn = t["txn"].as_str().unwrap();
    let r = as_other(Method::GET, &format!("/api/v1/auth/{txn}"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not-found").await;
    let c = dev.fetch(None).await.remove(0);
    dev.answer(&c, approve(t["number"].as_str().unwrap()))
        .await
        .unwrap();
    let r = as_other(Method::GET, &format!("/api/v1/auth/{txn}?wait=1"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not-found").await;
    assert_eq!(status(&s, txn, 0).await["status"], "approved");

    // SMS: the other key can neither use nor burn the code's tries.
    let t = start_ok(&s, "2000", "sms").await;
    let txn = t["txn"].as_str().unwrap();
    let code = s.outbox_code();
    for _ in 0..4 {
        let r = as_other(Method::POST, &format!("/api/v1/auth/{txn}/sms"))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap();
        assert_problem(r, 404, "not-found").await;
    }
    assert_eq!(status(&s, txn, 0).await["status"], "pending");
    let r = s
        .rp(Method::POST, &format!("/api/v1/auth/{txn}/sms"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status(&s, txn, 0).await["status"], "approved");
}

#[tokio::test]
async fn push_token_updates_and_a_code_for_a_push_login() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let update = |push: PushRegistration| {
        let d = dev.clone();
        tokio::task::spawn_blocking(move || d.client.update_push_token(&d.account, &d.key(), &push))
    };
    update(PushRegistration {
        provider: PushProvider::Fcm,
        token: Some("fcm-token-0123".into()),
    })
    .await
    .unwrap()
    .unwrap();
    let row = s
        .state
        .store
        .device(dev.account.device_id.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.push_provider.as_str(), row.push_token.as_deref()),
        ("fcm", Some("fcm-token-0123"))
    );
    // A provider without a token is refused and changes nothing.
    let e = update(PushRegistration {
        provider: PushProvider::Apns,
        token: None,
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(problem_type(e), ProblemType::BadRequest);
    let row = s
        .state
        .store
        .device(dev.account.device_id.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(row.push_provider, "fcm");

    // An SMS code for a push login.
    let t = start_ok(&s, "1000", "push").await;
    let r = s
        .rp(
            Method::POST,
            &format!("/api/v1/auth/{}/sms", t["txn"].as_str().unwrap()),
        )
        .json(&json!({"code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "not-sms").await;
}

fn four_digit_numbers(c: &mut Config) {
    c.policy.number_length = 4;
}

#[tokio::test]
async fn denials_count_within_the_window_and_a_lock_survives_a_restart() {
    let s = Server::start(four_digit_numbers).await;
    let dev = Phone::enroll(&s, "1000").await;
    // The number has the configured length, and the phone answers with it.
    let t = start_ok(&s, "1000", "push").await;
    let n = t["number"].as_str().unwrap().to_owned();
    assert_eq!(n.len(), 4, "{n}");
    let c = dev.fetch(None).await.remove(0);
    assert_eq!(
        dev.answer(&c, approve(&n)).await.unwrap(),
        AnswerOutcome::Approved
    );
    // Two denials, then the window passes: a third one later does not lock.
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    s.clock.advance(601);
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    assert_eq!(s.user("1000").push_lock_reason, None);
    // Two more within ten minutes of it: locked, and still after a restart.
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "denied");
    assert_eq!(deny_a_push_login(&s, &dev, "1000").await, "locked");
    assert_eq!(s.user("1000").push_lock_reason.as_deref(), Some("denials"));
    let s = s.restart().await;
    assert_problem(start(&s, "1000", "push").await, 423, "push-locked").await;
}

#[tokio::test]
async fn fourth_open_login_is_refused() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    for _ in 0..3 {
        start_ok(&s, "1000", "push").await;
    }
    assert_problem(start(&s, "1000", "push").await, 429, "too-many-challenges").await;
    assert_eq!(
        dev.fetch(None).await.len(),
        3,
        "the refusal created nothing"
    );
    // Once they expire, a new one is allowed.
    s.clock.advance(121);
    start_ok(&s, "1000", "push").await;
}

#[tokio::test]
async fn late_answer_and_expired_status() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    let c = dev.fetch(None).await.remove(0);
    s.clock.advance(121);
    let e = dev
        .answer(&c, approve(t["number"].as_str().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(problem_type(e), ProblemType::AnswerLate);
    assert_eq!(
        status(&s, t["txn"].as_str().unwrap(), 0).await["status"],
        "expired"
    );
}

#[tokio::test]
async fn replayed_answer_and_answer_from_another_device() {
    let s = Server::start(no_edit).await;
    let a = Phone::enroll(&s, "1000").await;
    let b = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    let n = t["number"].as_str().unwrap().to_owned();
    let ca = a.fetch(None).await.remove(0);
    let cb = b.fetch(None).await.remove(0);
    assert_ne!(ca.id(), cb.id());

    // B answers A's challenge, signed by B: answer-wrong-device, nothing changes.
    let now = s.clock.now();
    let url = a.account.server.join(&paths::answer(ca.id())).unwrap();
    let key_b = b.key();
    let proof = build_proof(&key_b, Some(&b.account.device_id), PMethod::Post, &url, now).unwrap();
    let claims = AnswerClaims {
        jti: ca.id().clone(),
        aud: a.account.server.clone(),
        iat: now.secs(),
        decision: DecisionKind::Approve,
        nm: Some(MatchNumber::parse(&n).unwrap()),
        reason: None,
    };
    let jws = key_b
        .sign_answer(b.account.device_id.as_str(), &claims, &user_ok())
        .unwrap();
    let r = s
        .http
        .post(url.as_str())
        .header("Ident-Proof", proof)
        .json(&json!({"answer": jws}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "answer-wrong-device").await;
    assert_eq!(
        status(&s, t["txn"].as_str().unwrap(), 0).await["status"],
        "pending"
    );

    // A approves: first answer wins; B's own challenge is closed.
    assert_eq!(
        a.answer(&ca, approve(&n)).await.unwrap(),
        AnswerOutcome::Approved
    );
    let e = a.answer(&ca, approve(&n)).await.unwrap_err();
    assert_eq!(problem_type(e), ProblemType::AnswerReplayed);
    let e = b
        .answer(&cb, Decision::Deny { reason: None })
        .await
        .unwrap_err();
    assert_eq!(problem_type(e), ProblemType::AnswerReplayed);
    assert_eq!(
        status(&s, t["txn"].as_str().unwrap(), 0).await["status"],
        "approved"
    );
    assert!(b.fetch(None).await.is_empty());

    // An unknown challenge.
    let fake = ChallengeId::parse("nope").unwrap();
    let url = a.account.server.join(&paths::answer(&fake)).unwrap();
    let proof = build_proof(
        &a.key(),
        Some(&a.account.device_id),
        PMethod::Post,
        &url,
        now,
    )
    .unwrap();
    let r = s
        .http
        .post(url.as_str())
        .header("Ident-Proof", proof)
        .json(&json!({"answer": "x.y.z"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "challenge-not-found").await;
}

/// Posts `answer` to challenge `id` without an `Ident-Proof`.
async fn post_answer(s: &Server, dev: &Phone, id: &ChallengeId, answer: &str) -> reqwest::Response {
    let url = dev.account.server.join(&paths::answer(id)).unwrap();
    s.http
        .post(url.as_str())
        .json(&json!({"answer": answer}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_answer_authenticates_itself_and_counts_once() {
    let s = Server::start(no_edit).await;
    let a = Phone::enroll(&s, "1000").await;
    let b = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    let txn = t["txn"].as_str().unwrap().to_owned();
    let n = t["number"].as_str().unwrap().to_owned();
    let ca = a.fetch(None).await.remove(0);
    let signed = |key: &DeviceKey, kid: &str, iat: i64, aud: &ServerUrl| {
        let claims = AnswerClaims {
            jti: ca.id().clone(),
            aud: aud.clone(),
            iat,
            decision: DecisionKind::Approve,
            nm: Some(MatchNumber::parse(&n).unwrap()),
            reason: None,
        };
        key.sign_answer(kid, &claims, &user_ok()).unwrap()
    };
    let sign = |key: &DeviceKey, kid: &str, iat: i64| signed(key, kid, iat, &a.account.server);
    let now = s.clock.now().secs();
    let a_id = a.account.device_id.as_str();
    let elsewhere = ServerUrl::parse("https://id.other-bank.example").unwrap();
    // A second login, so that there is another challenge to misaddress to.
    start_ok(&s, "1000", "push").await;
    let other = a
        .fetch(None)
        .await
        .into_iter()
        .find(|c| c.id() != ca.id())
        .unwrap();
    assert_problem(
        post_answer(&s, &a, other.id(), &sign(&a.key(), a_id, now)).await,
        400,
        "answer-wrong-challenge",
    )
    .await;
    let url = a.account.server.join(&paths::answer(ca.id())).unwrap();
    let r = s
        .http
        .post(url.as_str())
        .header("content-type", "application/json")
        .body("{\"answer\": ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "bad-request").await;

    // Refused, and nothing changes: not a JWS; a device that does not exist;
    // A's name on B's signature; A's own signature but 61 s old.
    for (answer, code, slug) in [
        ("x.y.z".to_owned(), 400, "answer-invalid"),
        (sign(&a.key(), "no-such-device", now), 401, "device-unknown"),
        (sign(&b.key(), a_id, now), 401, "bad-signature"),
        (sign(&a.key(), a_id, now - 61), 400, "answer-invalid"),
        (sign(&a.key(), a_id, now + 3_600), 400, "answer-invalid"),
        (
            signed(&a.key(), a_id, now, &elsewhere),
            400,
            "answer-invalid",
        ),
    ] {
        assert_problem(post_answer(&s, &a, ca.id(), &answer).await, code, slug).await;
    }
    assert_eq!(status(&s, &txn, 0).await["status"], "pending");

    // A fresh answer signed by A: accepted with no proof at all.
    let answer = sign(&a.key(), a_id, now);
    let r = post_answer(&s, &a, ca.id(), &answer).await;
    assert_eq!(common::json(r, 200).await["status"], "approved");
    assert_eq!(status(&s, &txn, 0).await["status"], "approved");
    // The same request again, within the proof window: the challenge is spent.
    assert_problem(
        post_answer(&s, &a, ca.id(), &answer).await,
        409,
        "answer-replayed",
    )
    .await;
}

async fn raw_get(s: &Server, url: &str, proof: Option<&str>) -> reqwest::Response {
    let mut r = s.http.get(url);
    if let Some(p) = proof {
        r = r.header("Ident-Proof", p);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn forged_and_replayed_proofs_survive_a_restart() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let kid = &dev.account.device_id;
    let url = dev.account.server.join(paths::CHALLENGES).unwrap();
    let now = s.clock.now();
    let proof = build_proof(
        &dev.key(),
        Some(&dev.account.device_id),
        PMethod::Get,
        &url,
        now,
    )
    .unwrap();
    assert_eq!(raw_get(&s, url.as_str(), Some(&proof)).await.status(), 200);
    assert_problem(
        raw_get(&s, url.as_str(), Some(&proof)).await,
        401,
        "proof-replayed",
    )
    .await;
    // Missing, forged (another key, same kid), other method, unknown device, stale.
    assert_problem(raw_get(&s, url.as_str(), None).await, 401, "proof-invalid").await;
    let (other, _) = DeviceKey::generate().unwrap();
    let forged = build_proof(
        &other,
        Some(&dev.account.device_id),
        PMethod::Get,
        &url,
        now,
    )
    .unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&forged)).await,
        401,
        "bad-signature",
    )
    .await;
    let post = build_proof(
        &dev.key(),
        Some(&dev.account.device_id),
        PMethod::Post,
        &url,
        now,
    )
    .unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&post)).await,
        401,
        "proof-invalid",
    )
    .await;
    let ghost = ident_core::account::DeviceId::parse("ghost").unwrap();
    let unknown = build_proof(&dev.key(), Some(&ghost), PMethod::Get, &url, now).unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&unknown)).await,
        401,
        "device-unknown",
    )
    .await;
    let old = build_proof(
        &dev.key(),
        Some(&dev.account.device_id),
        PMethod::Get,
        &url,
        now.plus(-61),
    )
    .unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&old)).await,
        401,
        "proof-expired",
    )
    .await;
    // From the future, for another URL, or not a proof (right key, other `typ`).
    let ahead = build_proof(&dev.key(), Some(kid), PMethod::Get, &url, now.plus(61)).unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&ahead)).await,
        401,
        "proof-future",
    )
    .await;
    let other_url = dev.account.server.join(paths::PUSH_TOKEN).unwrap();
    let misdirected = build_proof(&dev.key(), Some(kid), PMethod::Get, &other_url, now).unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&misdirected)).await,
        401,
        "proof-invalid",
    )
    .await;
    let pair = EcKeyPair::from_pkcs8(dev.pkcs8()).unwrap();
    let claims = ProofClaims {
        htm: "GET".into(),
        htu: htu(&url),
        iat: now.secs(),
        jti: "AAECAwQFBgcICQoLDA0ODw".into(),
    };
    let not_a_proof = ident_core::jose::sign(&pair, "JWT", Some(kid.as_str()), &claims).unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&not_a_proof)).await,
        401,
        "proof-invalid",
    )
    .await;

    // After a restart on the same database the replay is still refused.
    let s = s.restart().await;
    assert_problem(
        raw_get(&s, url.as_str(), Some(&proof)).await,
        401,
        "proof-replayed",
    )
    .await;
    assert!(dev.fetch(None).await.is_empty(), "fresh proofs still work");
}

#[tokio::test]
async fn shutting_down_ends_open_long_polls() {
    let mut s = Server::start(no_edit).await;
    Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    // The portal waits for 1000's decision; 2000's phone waits for a login.
    let dev = Phone::enroll(&s, "2000").await;
    let status = {
        let r = s.rp(
            Method::GET,
            &format!("/api/v1/auth/{}?wait=60", t["txn"].as_str().unwrap()),
        );
        tokio::spawn(async move { r.send().await.unwrap() })
    };
    let phone = {
        let d = dev.clone();
        tokio::task::spawn_blocking(move || {
            d.client.pending_challenges(&d.account, &d.key(), Some(60))
        })
    };
    // Both polls are waiting once each has armed its wake-up.
    for _ in 0..1_000 {
        let armed = format!("{:?}", s.state.wakeups);
        if armed.contains("devices: 1") && armed.contains("txns: 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (tx, handle) = s.stop.take().unwrap();
    tx.send(()).unwrap();
    // Well inside the 60 s wait: the shutdown does not sit out the polls.
    tokio::time::timeout(Duration::from_secs(20), handle)
        .await
        .expect("the server stopped without waiting out the long polls")
        .unwrap();
    let r = status.await.unwrap();
    assert_eq!(common::json(r, 200).await["status"], "pending");
    assert!(
        phone.await.unwrap().unwrap().is_empty(),
        "no login for 2000"
    );
}

#[tokio::test]
async fn restart_in_the_middle_of_a_login() {
    let s = Server::start(no_edit).await;
    let dev = Phone::enroll(&s, "1000").await;
    let t = start_ok(&s, "1000", "push").await;
    let c = dev.fetch(None).await.remove(0);
    let s = s.restart().await;
    assert_eq!(
        dev.answer(&c, approve(t["number"].as_str().unwrap()))
            .await
            .unwrap(),
        AnswerOutcome::Approved
    );
    assert_eq!(
        status(&s, t["txn"].as_str().unwrap(), 0).await["status"],
        "approved"
    );
}

/// `GET /api/v1/enrollments/{id}` as the portal reads it.
async fn enrollment_status(s: &Server, id: impl std::fmt::Display) -> Value {
    s.rp(Method::GET, &format!("/api/v1/enrollments/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn enrollment_codes_are_single_use_and_need_a_phone() {
    let s = Server::start(no_edit).await;
    let r = s
        .rp(Method::POST, "/api/v1/users/2001/enrollments")
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "phone-missing").await;

    let e = phone::new_enrollment(&s, "2000").await;
    let id = e["id"].as_i64().unwrap();
    assert!(e["link"].as_str().unwrap().contains("/e#"));
    let st: Value = enrollment_status(&s, id).await;
    assert_eq!(st["status"], "pending");
    let svg = s
        .rp(Method::GET, &format!("/api/v1/enrollments/{id}/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = s
        .rp(Method::GET, &format!("/api/v1/enrollments/{id}/qr.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // Only the user themself (or the portal) may see the code.
    let r = s
        .rp(Method::GET, &format!("/api/v1/enrollments/{id}/qr.svg"))
        .header("Ident-Actor", "1000")
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "forbidden").await;

    // Concurrent redemption: exactly one device.
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (c, l) = (phone::client(&s), link.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            c.enroll(&l, "Phone", Platform::Android, None)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(EnrollOutcome::Enrolled(_)) => ok += 1,
            Err(e) => assert_eq!(problem_type(e), ProblemType::EnrollTokenInvalid),
            Ok(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);
    let e2 = phone::redeem(&s, &link, DEVICE).await.unwrap_err();
    assert_eq!(problem_type(e2), ProblemType::EnrollTokenInvalid);
    let st: Value = enrollment_status(&s, id).await;
    assert_eq!(st["status"], "completed");
    assert!(st["device_id"].is_string());
    let r = s
        .rp(Method::GET, &format!("/api/v1/enrollments/{id}/qr.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // An expired code.
    let e = phone::new_enrollment(&s, "2000").await;
    s.clock.advance(601);
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    assert_eq!(
        problem_type(phone::redeem(&s, &link, DEVICE).await.unwrap_err()),
        ProblemType::EnrollTokenInvalid
    );
    let st: Value = enrollment_status(&s, &e["id"]).await;
    assert_eq!(st["status"], "expired");

    // A code shown before the mobile number was removed no longer enrolls.
    let e = phone::new_enrollment(&s, "2000").await;
    let r = s
        .rp(Method::DELETE, "/api/v1/users/2000/phone")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    assert_eq!(
        problem_type(phone::redeem(&s, &link, DEVICE).await.unwrap_err()),
        ProblemType::EnrollTokenInvalid
    );
    let st: Value = enrollment_status(&s, &e["id"]).await;
    assert_eq!(st["status"], "expired");
}

fn sms_enrollment(c: &mut Config) {
    c.policy.enrollment_sms_confirmation = true;
}

#[tokio::test]
async fn enrollment_with_sms_confirmation() {
    let s = Server::start(sms_enrollment).await;
    let e = phone::new_enrollment(&s, "2000").await;
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    let EnrollOutcome::SmsRequired(pending) = phone::redeem(&s, &link, DEVICE).await.unwrap()
    else {
        panic!("expected sms_required")
    };
    // The token is bound to this device now.
    assert_eq!(
        problem_type(phone::redeem(&s, &link, DEVICE).await.unwrap_err()),
        ProblemType::EnrollTokenInvalid
    );
    let code = s.outbox_code();
    let wrong = format!("{}{}", (code.as_bytes()[0] - b'0' + 1) % 10, &code[1..]);
    let client = phone::client(&s);
    let pending = Arc::new(pending);
    let confirm = |code: String| {
        let (c, p) = (client.clone(), Arc::clone(&pending));
        tokio::task::spawn_blocking(move || {
            c.confirm_enrollment(&p, &SmsCode::parse(&code).unwrap())
        })
    };
    let e1 = confirm(wrong).await.unwrap().unwrap_err();
    assert_eq!(problem_type(e1), ProblemType::SmsCodeInvalid);
    let done = confirm(code).await.unwrap().unwrap();
    assert_eq!(done.account.login, "2000");
    assert_eq!(done.label, "User 2000");
    let st: Value = enrollment_status(&s, &e["id"]).await;
    assert_eq!(st["status"], "completed");
    // Three wrong codes end an enrollment.
    let e = phone::new_enrollment(&s, "1000").await;
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    let EnrollOutcome::SmsRequired(pending) = phone::redeem(&s, &link, DEVICE).await.unwrap()
    else {
        panic!()
    };
    let code = s.outbox_code();
    let wrong = format!("{}{}", (code.as_bytes()[0] - b'0' + 1) % 10, &code[1..]);
    let pending = Arc::new(pending);
    let mut kinds = Vec::new();
    for c in [wrong.clone(), wrong.clone(), wrong, code] {
        let (cl, p) = (client.clone(), Arc::clone(&pending));
        let r = tokio::task::spawn_blocking(move || {
            cl.confirm_enrollment(&p, &SmsCode::parse(&c).unwrap())
        })
        .await
        .unwrap();
        let ProtocolError::Problem(p) = r.unwrap_err() else {
            panic!("a problem expected")
        };
        kinds.push((p.problem_type().unwrap(), p.tries_left));
    }
    assert_eq!(
        kinds,
        [
            (ProblemType::SmsCodeInvalid, Some(2)),
            (ProblemType::SmsCodeInvalid, Some(1)),
            (ProblemType::SmsCodeExpired, None),
            (ProblemType::EnrollTokenInvalid, None)
        ]
    );
    let st: Value = enrollment_status(&s, &e["id"]).await;
    assert_eq!(st["status"], "expired");
}

/// `POST /device/v1/enroll` as a device would send it, with the proof
/// signed by `key` and naming `kid` (which enrollment proofs must not).
async fn raw_enroll(
    s: &Server,
    link: &EnrollLink,
    key: &DeviceKey,
    kid: Option<&ident_core::account::DeviceId>,
) -> reqwest::Response {
    let url = link.server().join(paths::ENROLL).unwrap();
    let proof = build_proof(key, kid, PMethod::Post, &url, s.clock.now()).unwrap();
    s.http
        .post(url.as_str())
        .header("Ident-Proof", proof)
        .json(&json!({"token": link.token(), "jwk": key.public_jwk(),
                      "device_name": "Handgemacht", "platform": "linux"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn enrollment_proofs_carry_no_kid_and_unconfirmed_devices_are_refused() {
    let s = Server::start(sms_enrollment).await;
    let e = phone::new_enrollment(&s, "2000").await;
    let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
    let (key, _) = DeviceKey::generate().unwrap();
    // A proof naming a device is refused, and the code stays unused.
    let ghost = ident_core::account::DeviceId::parse("ghost").unwrap();
    assert_problem(
        raw_enroll(&s, &link, &key, Some(&ghost)).await,
        401,
        "proof-invalid",
    )
    .await;
    assert_eq!(enrollment_status(&s, &e["id"]).await["status"], "pending");
    let outbox = s.dir.path().join("sms.jsonl");
    assert!(!outbox.exists(), "no SMS for a refused enrollment");

    // Without a kid: the device waits for its SMS code.
    let r = raw_enroll(&s, &link, &key, None).await;
    assert_eq!(
        common::json(r, 200).await,
        json!({"status": "sms_required"})
    );
    // The server never told the device its id; one that learned it anyway
    // is still refused everything until the code is confirmed.
    let conn = rusqlite::Connection::open(s.dir.path().join("ident.db")).unwrap();
    let id: String = conn
        .query_row(
            "SELECT id FROM devices WHERE status = 'pending_sms'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let kid = ident_core::account::DeviceId::parse(&id).unwrap();
    let url = link.server().join(paths::CHALLENGES).unwrap();
    let proof = build_proof(&key, Some(&kid), PMethod::Get, &url, s.clock.now()).unwrap();
    assert_problem(
        raw_get(&s, url.as_str(), Some(&proof)).await,
        403,
        "sms-required",
    )
    .await;
    let url = link.server().join(paths::PUSH_TOKEN).unwrap();
    let proof = build_proof(&key, Some(&kid), PMethod::Put, &url, s.clock.now()).unwrap();
    let r = s
        .http
        .put(url.as_str())
        .header("Ident-Proof", proof)
        .json(&json!({"provider": "fcm", "token": "fcm-token-1"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "sms-required").await;
    let push_token: Option<String> = conn
        .query_row("SELECT push_token FROM devices WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(push_token, None, "a refused request changes nothing");
}

#[tokio::test]
async fn devices_are_removed_by_the_portal_or_themselves() {
    let s = Server::start(no_edit).await;
    let a = Phone::enroll(&s, "1000").await;
    let b = Phone::enroll(&s, "1000").await;
    let (d, k, acc) = (a.client.clone(), a.key(), a.account.clone());
    tokio::task::spawn_blocking(move || d.unenroll(&acc, &k))
        .await
        .unwrap()
        .unwrap();
    let e = tokio::task::spawn_blocking({
        let a = a.clone();
        move || a.client.pending_challenges(&a.account, &a.key(), None)
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(problem_type(e), ProblemType::DeviceUnknown);
    let path = format!("/api/v1/users/1000/devices/{}", b.account.device_id);
    // Another customer may not remove the broker's device.
    let r = s
        .rp(Method::DELETE, &path)
        .header("Ident-Actor", "2000")
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "forbidden").await;
    assert_eq!(
        s.rp(Method::DELETE, &path).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        s.rp(Method::DELETE, &path).send().await.unwrap().status(),
        404
    );
    assert_problem(start(&s, "1000", "push").await, 409, "no-device").await;
    let auto = start_ok(&s, "1000", "auto").await;
    assert_eq!(auto["method"], "sms");
}

#[tokio::test]
async fn another_broker_neither_sees_nor_removes_a_customers_devices() {
    let s = Server::start(no_edit).await;
    admin::create_user(
        s.state.store.as_ref(),
        &UserSpec {
            login: "3000".into(),
            name: Some("Andere Makler GmbH".into()),
            role: Role::Broker,
            broker: None,
            phone: None,
            email: None,
            password: zeroize::Zeroizing::new("demo-passwort".into()),
        },
        T0,
    )
    .unwrap();
    let phone = Phone::enroll(&s, "2000").await;
    let list = "/api/v1/users/2000/devices";
    let one = format!("{list}/{}", phone.account.device_id);
    let as_actor = |method: Method, path: &str, actor: &str| {
        s.rp(method, path)
            .header("Ident-Actor", actor.to_owned())
            .send()
    };
    assert_problem(
        as_actor(Method::GET, list, "3000").await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        as_actor(Method::DELETE, &one, "3000").await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    // The customer's own broker sees the device; it is still there.
    let r = as_actor(Method::GET, list, "1000").await.unwrap();
    let devices = common::json(r, 200).await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1, "{devices}");
}

#[tokio::test]
async fn bad_login_requests_are_refused() {
    let s = Server::start(no_edit).await;
    let r = s
        .rp(Method::POST, "/api/v1/auth")
        .json(&json!({"login": "1000", "method": "push", "context": {"ip": "not-an-ip"}}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 422, "validation-failed").await;
    let r = s
        .rp(Method::POST, "/api/v1/auth")
        .json(&json!({"login": "1000"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "bad-request").await;
    assert_problem(start(&s, "9999", "push").await, 404, "not-found").await;
    assert_problem(start(&s, "2001", "sms").await, 409, "phone-missing").await;
    let r = s
        .http
        .post(format!("{}/api/v1/auth", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .rp(Method::GET, "/api/v1/auth/unknown")
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not-found").await;
}
