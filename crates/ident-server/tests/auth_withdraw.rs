//! Withdrawing a pending login (`DELETE /api/v1/auth/{txn}`) over real HTTP:
//! the portal side with reqwest, the device side with the app's own protocol
//! client. A withdrawn login leaves the device's list at once, an answer to it
//! is refused and decides nothing, it frees the open-login limit without
//! counting as a denial, only the key that started it may withdraw it, and a
//! login that is already final cannot be withdrawn.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use std::time::Duration;

use common::TestApp;
use common::phone::{Phone, approve};

use ident_core::protocol::{AnswerOutcome, ProblemType, ProtocolError};
use ident_server::admin;
use ident_server::domain::LoginName;
use reqwest::Method;
use serde_json::{Value, json};

const T0: i64 = 1_800_000_000;

/// A server with broker 1000 (mobile number on file).
async fn server() -> TestApp {
    common::spawn_app_with_broker(|_| {}).await
}

/// Starts a push login: `(txn, number)`.
async fn start_push(app: &TestApp) -> (String, String) {
    let r = common::start_auth(app, "push").await;
    let v = common::json(r, 200).await;
    (
        v["txn"].as_str().unwrap().to_owned(),
        v["number"].as_str().unwrap().to_owned(),
    )
}

async fn withdraw(app: &TestApp, txn: &str) -> reqwest::Response {
    app.rp(Method::DELETE, &format!("/api/v1/auth/{txn}"))
        .send()
        .await
        .unwrap()
}

async fn withdraw_ok(app: &TestApp, txn: &str) -> Value {
    let r = withdraw(app, txn).await;
    common::json(r, 200).await
}

async fn status(app: &TestApp, txn: &str) -> Value {
    common::send_json(app.rp(Method::GET, &format!("/api/v1/auth/{txn}")), 200).await
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

fn user(app: &TestApp) -> ident_server::store::User {
    app.state
        .store
        .user_by_login(&LoginName::parse("1000").unwrap())
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_withdrawn_login_leaves_the_device_and_its_answer_is_refused() {
    let app = server().await;
    let dev = Phone::enroll(&app, "1000").await;
    let (txn, number) = start_push(&app).await;
    let shown = dev.fetch(None).await;
    assert_eq!(shown.len(), 1);

    let v = withdraw_ok(&app, &txn).await;
    assert_eq!(v["status"], "withdrawn");
    assert_eq!(v["method"], "push");
    assert_eq!(status(&app, &txn).await["status"], "withdrawn");
    assert!(
        dev.fetch(None).await.is_empty(),
        "the device no longer lists it"
    );

    // The phone still showing it answers with the right number: refused,
    // and nothing is decided.
    let e = dev.answer(&shown[0], approve(&number)).await.unwrap_err();
    assert_eq!(e.problem_type(), Some(ProblemType::ChallengeNotFound));
    let ProtocolError::Problem(p) = &e else {
        panic!("{e:?}")
    };
    assert!(
        p.detail
            .as_deref()
            .unwrap_or_default()
            .contains("withdrawn"),
        "{p:?}"
    );
    assert_eq!(status(&app, &txn).await["status"], "withdrawn");
    assert!(user(&app).push_locked_at.is_none());

    // Audited, with who withdrew it; nothing secret in the entry.
    let entries = app.state.store.audit_log(None, 100).unwrap();
    let entry = entries
        .iter()
        .find(|e| e.action == "auth.withdrawn")
        .expect("an auth.withdrawn entry");
    assert_eq!(entry.actor, "api-key:test-portal");
    assert_eq!(entry.detail["txn"], txn.as_str());
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(&format!("\"{number}\"")));
}

#[tokio::test]
async fn withdrawals_free_the_open_login_limit_and_are_no_denials() {
    let app = server().await;
    let dev = Phone::enroll(&app, "1000").await;
    // Without withdrawal the fourth open login is refused; with it, any
    // number of cancel-and-start cycles work.
    for _ in 0..5 {
        let (txn, number) = start_push(&app).await;
        let shown = dev.fetch(None).await;
        assert_eq!(shown.len(), 1, "only the current login is listed");
        withdraw_ok(&app, &txn).await;
        // Even an answer with a wrong number to the withdrawn request counts
        // for nothing (three denials would lock push).
        let wrong = if number == "11" { "22" } else { "11" };
        let e = dev.answer(&shown[0], approve(wrong)).await.unwrap_err();
        assert_eq!(e.problem_type(), Some(ProblemType::ChallengeNotFound));
    }
    assert!(user(&app).push_locked_at.is_none(), "no denial recorded");

    // The limit itself still holds for logins that stay open.
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(start_push(&app).await);
    }
    assert_problem(
        common::start_auth(&app, "push").await,
        429,
        "too-many-challenges",
    )
    .await;
    withdraw_ok(&app, &open[0].0).await;
    let (_, number) = start_push(&app).await;
    assert_eq!(dev.fetch(None).await.len(), 3);

    // The remaining logins still work: the newest is approved normally.
    let newest = dev.fetch(None).await.pop().unwrap();
    assert_eq!(
        dev.answer(&newest, approve(&number)).await.unwrap(),
        AnswerOutcome::Approved
    );
}

#[tokio::test]
async fn a_waiting_status_poll_returns_at_once() {
    let app = server().await;
    let _dev = Phone::enroll(&app, "1000").await;
    let (txn, _) = start_push(&app).await;
    let poll = common::spawn_status_poll(&app.http, &app.base, &app.api_key, &txn);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished(), "the poll waits while pending");
    withdraw_ok(&app, &txn).await;
    let (v, took) = poll.await.unwrap();
    assert_eq!(v["status"], "withdrawn");
    assert!(
        took < Duration::from_secs(20),
        "long poll not woken: {took:?}"
    );
}

#[tokio::test]
async fn only_the_key_that_started_it_may_withdraw_it() {
    let app = server().await;
    let dev = Phone::enroll(&app, "1000").await;
    let other = admin::create_api_key(app.state.store.as_ref(), "Anderes-Portal", T0)
        .unwrap()
        .key
        .to_string();
    let (txn, _) = start_push(&app).await;
    let r = app
        .http
        .delete(format!("{}/api/v1/auth/{txn}", app.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_problem(r, 404, "not-found").await;
    assert_eq!(status(&app, &txn).await["status"], "pending");
    assert_eq!(dev.fetch(None).await.len(), 1, "nothing changed");
    // The OpenAPI document describes the call.
    let doc: Value = app
        .rp(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/api/v1/auth/{txn}"]["delete"];
    assert!(op["responses"]["409"].is_object(), "{op}");
    assert!(
        op["responses"]["200"]["description"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    // Unknown ids and no key at all.
    assert_problem(withdraw(&app, "no-such-login").await, 404, "not-found").await;
    let r = app
        .http
        .delete(format!("{}/api/v1/auth/{txn}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(status(&app, &txn).await["status"], "pending");
}

#[tokio::test]
async fn final_logins_cannot_be_withdrawn_and_a_repeat_is_harmless() {
    let app = server().await;
    let dev = Phone::enroll(&app, "1000").await;

    // Approved: 409, and it stays approved.
    let (txn, number) = start_push(&app).await;
    let c = dev.fetch(None).await.remove(0);
    assert_eq!(
        dev.answer(&c, approve(&number)).await.unwrap(),
        AnswerOutcome::Approved
    );
    assert_problem(withdraw(&app, &txn).await, 409, "auth-decided").await;
    assert_eq!(status(&app, &txn).await["status"], "approved");

    // Expired: 409 as well.
    let (txn, _) = start_push(&app).await;
    app.clock.advance(121);
    assert_problem(withdraw(&app, &txn).await, 409, "auth-decided").await;
    assert_eq!(status(&app, &txn).await["status"], "expired");

    // Withdrawn twice: the same answer, one audit entry.
    let (txn, _) = start_push(&app).await;
    assert_eq!(withdraw_ok(&app, &txn).await["status"], "withdrawn");
    assert_eq!(withdraw_ok(&app, &txn).await["status"], "withdrawn");
    let withdrawals = app
        .state
        .store
        .audit_log(None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "auth.withdrawn")
        .count();
    assert_eq!(withdrawals, 1);
}

#[tokio::test]
async fn an_sms_login_can_be_withdrawn_and_its_code_no_longer_works() {
    let app = server().await;
    let r = common::start_auth(&app, "sms").await;
    let v = common::json(r, 200).await;
    let txn = v["txn"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(app.dir.path().join("sms.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let sms = last["text"].as_str().unwrap();
    let at = sms.find(": ").unwrap() + 2;
    let code = &sms[at..at + 6];

    assert_eq!(withdraw_ok(&app, &txn).await["method"], "sms");
    let r = app
        .rp(Method::POST, &format!("/api/v1/auth/{txn}/sms"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, "auth-decided").await;
    assert_eq!(status(&app, &txn).await["status"], "withdrawn");
}
