//! SMS login codes against a real server: codes come out of the outbox file,
//! tries are counted, codes expire with the manual clock, the hourly limit
//! holds, every SMS is on the broker's ledger, and the HTTP gateway adapter
//! speaks to a fake provider.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use ident_server::admin::{self, UserSpec};
use ident_server::config::Config;
use ident_server::domain::{LoginName, Role};
use ident_server::services::sms::{self, CodeCheck, CodeScope};
use ident_server::sms_gateway::BearerToken;
use ident_server::store::User;
use ident_server::store::sms::SmsPurpose;

use common::TestApp;

/// Broker 1000, its customer 2000 (with phone), and customer 2001 without a phone.
fn seed(app: &TestApp) {
    let s = app.state.store.as_ref();
    let now = app.state.now();
    let spec = |login: &str, role, broker: Option<&str>, phone: Option<&str>| UserSpec {
        login: login.into(),
        name: None,
        role,
        broker: broker.map(str::to_owned),
        phone: phone.map(str::to_owned),
        email: None,
        password: zeroize::Zeroizing::new("demo-passwort".into()),
    };
    admin::create_user(
        s,
        &spec("1000", Role::Broker, None, Some("0151 11111111")),
        now,
    )
    .unwrap();
    admin::create_user(
        s,
        &spec("2000", Role::Customer, Some("1000"), Some("0151 12345678")),
        now,
    )
    .unwrap();
    admin::create_user(s, &spec("2001", Role::Customer, Some("1000"), None), now).unwrap();
}

fn user(app: &TestApp, login: &str) -> User {
    app.state
        .store
        .user_by_login(&LoginName::parse(login).unwrap())
        .unwrap()
        .unwrap()
}

/// A pending SMS login transaction (the auth routes make these; the test
/// writes the row itself).
fn txn(app: &TestApp, id: &str, user: &User) {
    let c = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    c.execute(
        "INSERT INTO auth_txns (id, user_id, method, status, ip, user_agent, service, created_at, expires_at)
         VALUES (?1, ?2, 'sms', 'pending', '192.0.2.1', 'Firefox', 'portal', ?3, ?4)",
        rusqlite::params![id, user.id.0, app.state.now(), app.state.now() + 600],
    )
    .unwrap();
}

fn outbox(app: &TestApp) -> Vec<serde_json::Value> {
    std::fs::read_to_string(app.dir.path().join("sms.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The code of the newest SMS in the outbox.
fn last_code(app: &TestApp) -> String {
    let sms = outbox(app);
    let text = sms.last().unwrap()["text"].as_str().unwrap().to_owned();
    let start = text.find(": ").unwrap() + 2;
    text[start..start + 6].to_owned()
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

/// The SMS charged to broker 1000 (the broker of every seeded user).
fn ledger_of_broker(app: &common::TestApp) -> Vec<ident_server::store::sms::LedgerEntry> {
    let broker = user(app, "1000");
    app.state
        .store
        .sms_ledger(broker.id, 0, i64::MAX, 10)
        .unwrap()
}

#[tokio::test]
async fn login_code_round_trip() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-1", &u);
    sms::send_login_code(&app.state, &u, "txn-1").await.unwrap();

    let sent = outbox(&app);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], "+4915112345678");
    assert_eq!(sent[0]["time"], app.state.now());
    let code = last_code(&app);
    assert_eq!(
        sent[0]["text"],
        format!("Ihr Ident-Anmeldecode: {code}. Gültig 5 Minuten. Geben Sie ihn nie weiter.")
    );

    assert_eq!(
        sms::check_login_code(&app.state, "txn-1", &wrong(&code))
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 2 }
    );
    // Typed with a space: still the code.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert_eq!(
        sms::check_login_code(&app.state, "txn-1", &spaced)
            .await
            .unwrap(),
        CodeCheck::Correct
    );
    // Used up.
    assert_eq!(
        sms::check_login_code(&app.state, "txn-1", &code)
            .await
            .unwrap(),
        CodeCheck::Expired
    );

    // Charged to broker 1000, audited with the masked number only.
    let ledger = ledger_of_broker(&app);
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].purpose, SmsPurpose::Login);
    assert_eq!(ledger[0].phone_masked, "+49…678");
    assert_eq!(ledger[0].user_login, "2000");
    assert_eq!((ledger[0].net.0, ledger[0].vat.0), (10, 1900));
    let audit = app.state.store.audit_log(Some(u.id), 10).unwrap();
    let sent_entry = audit.iter().find(|e| e.action == "sms.sent").unwrap();
    assert_eq!(sent_entry.detail["to"], "+49…678");
    let all = serde_json::to_string(&audit).unwrap();
    assert!(!all.contains(&code) && !all.contains("12345678"), "{all}");

    // The code is stored only as a keyed hash.
    let c = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM sms_codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "a used code is deleted");
}

#[tokio::test]
async fn three_wrong_tries_exhaust_the_code() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-2", &u);
    sms::send_login_code(&app.state, &u, "txn-2").await.unwrap();
    let code = last_code(&app);
    let bad = wrong(&code);
    let check = |c: String| {
        let state = app.state.clone();
        async move { sms::check_login_code(&state, "txn-2", &c).await.unwrap() }
    };
    assert_eq!(check(bad.clone()).await, CodeCheck::Wrong { tries_left: 2 });
    assert_eq!(check(bad.clone()).await, CodeCheck::Wrong { tries_left: 1 });
    assert_eq!(check(bad.clone()).await, CodeCheck::Exhausted);
    assert_eq!(check(code.clone()).await, CodeCheck::Exhausted);

    // Malformed input is refused without counting a try.
    let e = sms::check_login_code(&app.state, "txn-2", "12ab56")
        .await
        .unwrap_err();
    assert_eq!((e.status.as_u16(), e.slug), (400, "sms-code-malformed"));

    // A new code for the same txn starts over.
    sms::send_login_code(&app.state, &u, "txn-2").await.unwrap();
    let fresh = last_code(&app);
    assert_eq!(check(fresh).await, CodeCheck::Correct);
}

#[tokio::test]
async fn concurrent_tries_never_exceed_the_limit() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-c", &u);
    sms::send_login_code(&app.state, &u, "txn-c").await.unwrap();
    let bad = wrong(&last_code(&app));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (state, bad) = (app.state.clone(), bad.clone());
        tasks.push(tokio::spawn(async move {
            sms::check_login_code(&state, "txn-c", &bad).await.unwrap()
        }));
    }
    let mut wrong_answers = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), CodeCheck::Wrong { .. }) {
            wrong_answers += 1;
        }
    }
    assert_eq!(
        wrong_answers, 2,
        "3 tries: two Wrong, then Exhausted for all others"
    );
}

#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-3", &u);
    txn(&app, "txn-4", &u);
    sms::send_login_code(&app.state, &u, "txn-3").await.unwrap();
    let old = last_code(&app);
    app.clock.advance(299);
    sms::send_login_code(&app.state, &u, "txn-4").await.unwrap();
    let young = last_code(&app);
    app.clock.advance(2); // txn-3's code is now 301 s old, txn-4's 2 s
    assert_eq!(
        sms::check_login_code(&app.state, "txn-3", &old)
            .await
            .unwrap(),
        CodeCheck::Expired
    );
    assert_eq!(
        sms::check_login_code(&app.state, "txn-4", &young)
            .await
            .unwrap(),
        CodeCheck::Correct
    );
}

#[tokio::test]
async fn hourly_rate_limit_per_user() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-5", &u);
    for _ in 0..5 {
        sms::send_login_code(&app.state, &u, "txn-5").await.unwrap();
        app.clock.advance(60);
    }
    let e = sms::send_login_code(&app.state, &u, "txn-5")
        .await
        .unwrap_err();
    assert_eq!((e.status.as_u16(), e.slug), (429, "rate-limited"));
    // The first SMS leaves the window 3600 s after it was sent, 300 s ago.
    assert_eq!(e.retry_after, Some(3_300));
    assert_eq!(outbox(&app).len(), 5);
    let broker = user(&app, "1000");
    assert_eq!(
        app.state
            .store
            .sms_ledger(broker.id, 0, i64::MAX, 100)
            .unwrap()
            .len(),
        5
    );
    app.clock.advance(3_300);
    sms::send_login_code(&app.state, &u, "txn-5").await.unwrap();
    assert_eq!(outbox(&app).len(), 6);
}

#[tokio::test]
async fn refusals_change_nothing() {
    let app = common::spawn_app().await;
    seed(&app);
    let no_phone = user(&app, "2001");
    txn(&app, "txn-6", &no_phone);
    let e = sms::send_login_code(&app.state, &no_phone, "txn-6")
        .await
        .unwrap_err();
    assert_eq!((e.status.as_u16(), e.slug), (409, "phone-missing"));
    let e = sms::send_enrollment_code(&app.state, &no_phone, "dev-1")
        .await
        .unwrap_err();
    assert_eq!(e.slug, "phone-missing");

    // A txn that does not exist, or belongs to someone else.
    let u = user(&app, "2000");
    let e = sms::send_login_code(&app.state, &u, "no-such-txn")
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 404);
    let e = sms::send_login_code(&app.state, &u, "txn-6")
        .await
        .unwrap_err();
    assert_eq!(e.status.as_u16(), 404);

    assert!(outbox(&app).is_empty());
    assert!(ledger_of_broker(&app).is_empty(), "nothing charged");
    assert_eq!(
        sms::check_login_code(&app.state, "no-such-txn", "123456")
            .await
            .unwrap(),
        CodeCheck::Expired
    );
}

#[tokio::test]
async fn enrollment_codes_are_charged_and_verifiable() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    let sent = sms::send_enrollment_code(&app.state, &u, "dev-42")
        .await
        .unwrap();
    assert_eq!(sent.expires_at, app.state.now() + 300);
    let code = last_code(&app);
    assert!(
        outbox(&app)[0]["text"]
            .as_str()
            .unwrap()
            .contains("Einrichtung")
    );
    let key = sms::code_key(app.state.store.as_ref()).unwrap();
    assert!(sms::verify_code(
        &key,
        CodeScope::Enrollment("dev-42"),
        &code,
        &sent.code_hash
    ));
    assert!(!sms::verify_code(
        &key,
        CodeScope::Enrollment("dev-43"),
        &code,
        &sent.code_hash
    ));
    assert!(!sms::verify_code(
        &key,
        CodeScope::Login("dev-42"),
        &code,
        &sent.code_hash
    ));
    let ledger = ledger_of_broker(&app);
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].purpose, SmsPurpose::Enrollment);
}

/// What the fake provider received.
type Seen = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;

/// A fake SMS provider on 127.0.0.1:0 answering `status`; returns its URL.
async fn fake_provider(status: u16, seen: Seen) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/v1/sms",
        axum::routing::post(
            move |headers: HeaderMap, axum::Json(body): axum::Json<serde_json::Value>| {
                let seen = seen.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    seen.lock().unwrap().push((auth, body));
                    StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1/sms")
}

fn http_gateway(url: String) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.sms_outbox = None;
        c.sms_http_url = Some(url);
        c.sms_http_token = Some(BearerToken::new("gw-token-123".into()));
    }
}

#[tokio::test]
async fn http_gateway_posts_json_with_bearer_token() {
    let seen: Seen = Arc::default();
    let url = fake_provider(202, seen.clone()).await;
    let app = common::spawn_app_with(http_gateway(url)).await;
    assert_eq!(app.state.sms.kind(), "http");
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-h", &u);
    sms::send_login_code(&app.state, &u, "txn-h").await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.as_deref(), Some("Bearer gw-token-123"));
    assert_eq!(seen[0].1["to"], "+4915112345678");
    let text = seen[0].1["text"].as_str().unwrap();
    assert!(text.starts_with("Ihr Ident-Anmeldecode: "), "{text}");
    assert_eq!(seen[0].1.as_object().unwrap().len(), 2);
    let code = &text[23..29];
    assert_eq!(
        sms::check_login_code(&app.state, "txn-h", code)
            .await
            .unwrap(),
        CodeCheck::Correct
    );
}

#[tokio::test]
async fn refused_sms_is_not_charged() {
    let seen: Seen = Arc::default();
    let url = fake_provider(500, seen.clone()).await;
    let app = common::spawn_app_with(http_gateway(url)).await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-f", &u);
    let e = sms::send_login_code(&app.state, &u, "txn-f")
        .await
        .unwrap_err();
    assert_eq!((e.status.as_u16(), e.slug), (502, "sms-gateway-failed"));
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(ledger_of_broker(&app).is_empty(), "nothing charged");
    let actions: Vec<String> = app
        .state
        .store
        .audit_log(Some(u.id), 10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(&actions[..2], ["sms.failed", "sms.sent"]);
    // No code is left to guess.
    assert_eq!(
        sms::check_login_code(&app.state, "txn-f", "123456")
            .await
            .unwrap(),
        CodeCheck::Expired
    );
}

#[tokio::test]
async fn without_a_gateway_no_sms_is_charged() {
    let app = common::spawn_app_with(|c| c.sms_outbox = None).await;
    assert_eq!(app.state.sms.kind(), "none");
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-n", &u);
    let e = sms::send_login_code(&app.state, &u, "txn-n")
        .await
        .unwrap_err();
    assert_eq!((e.status.as_u16(), e.slug), (502, "sms-gateway-failed"));
    assert!(ledger_of_broker(&app).is_empty(), "nothing charged");
}

#[tokio::test]
async fn unreachable_gateway_is_a_clean_failure() {
    // Bind and drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = common::spawn_app_with(http_gateway(format!("http://127.0.0.1:{port}/v1/sms"))).await;
    seed(&app);
    let u = user(&app, "2000");
    txn(&app, "txn-u", &u);
    let e = sms::send_login_code(&app.state, &u, "txn-u")
        .await
        .unwrap_err();
    assert_eq!(e.slug, "sms-gateway-failed");
}
