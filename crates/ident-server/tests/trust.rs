//! Trusted browsers: tokens are issued under the 2FA interval, checked
//! strictly (signature, typ, iss, sub, expiry, revocation, current interval),
//! listed and revoked over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ident_core::jose::{self, EcKeyPair, b64};
use ident_server::admin::{self, UserSpec};
use ident_server::domain::{LoginName, Role, TwoFactorInterval};
use ident_server::services::trust::{self, TRUST_TYP, TrustClaims};
use ident_server::store::User;
use reqwest::Method;
use serde_json::Value;

use common::TestApp;

const DAY: i64 = 86_400;

/// Broker 1000 with employee 1100 and customers 2000 (interval 30 days) and
/// 2001; broker 3000.
fn seed(app: &TestApp) {
    let s = app.state.store.as_ref();
    let now = app.state.now();
    let mk = |login: &str, role, broker: Option<&str>| {
        let spec = UserSpec {
            login: login.into(),
            name: None,
            role,
            broker: broker.map(str::to_owned),
            phone: Some("0151 12345678".into()),
            email: None,
            password: zeroize::Zeroizing::new("demo-passwort".into()),
        };
        admin::create_user(s, &spec, now).unwrap()
    };
    mk("1000", Role::Broker, None);
    mk("1100", Role::Employee, Some("1000"));
    let c = mk("2000", Role::Customer, Some("1000"));
    let c2 = mk("2001", Role::Customer, Some("1000"));
    mk("3000", Role::Broker, None);
    s.set_interval(c, TwoFactorInterval::days(30).unwrap())
        .unwrap();
    s.set_interval(c2, TwoFactorInterval::days(30).unwrap())
        .unwrap();
}

fn user(app: &TestApp, login: &str) -> User {
    app.state
        .store
        .user_by_login(&LoginName::parse(login).unwrap())
        .unwrap()
        .unwrap()
}

async fn issue(app: &TestApp, login: &str) -> String {
    trust::issue(
        &app.state,
        &user(app, login),
        "192.0.2.7",
        "Mozilla/5.0 (X11; Linux)",
    )
    .await
    .unwrap()
    .unwrap()
}

async fn check(app: &TestApp, login: &str, token: &str) -> bool {
    trust::check(&app.state, &user(app, login), token)
        .await
        .unwrap()
}

fn claims(app: &TestApp, token: &str) -> TrustClaims {
    jose::verify(token, &app.state.server_key.pair.public_jwk(), TRUST_TYP)
        .unwrap()
        .claims()
        .unwrap()
}

/// Signs `claims` as the server would, with `key` and `typ`.
fn sign(app: &TestApp, key: &EcKeyPair, typ: &str, claims: &TrustClaims) -> String {
    jose::sign(key, typ, Some(&app.state.server_key.kid), claims).unwrap()
}

#[tokio::test]
async fn issued_token_is_trusted_until_the_interval_ends() {
    let app = common::spawn_app().await;
    seed(&app);
    let token = issue(&app, "2000").await;
    let header = jose::peek_header(&token).unwrap();
    assert_eq!(header.typ, "ident-trust+jwt");
    assert_eq!(
        header.kid.as_deref(),
        Some(app.state.server_key.kid.as_str())
    );
    let c = claims(&app, &token);
    assert_eq!(c.iss, app.state.public_url.as_str());
    assert_eq!(c.sub, "2000");
    assert_eq!(c.iat, app.state.now());
    assert_eq!(c.exp, c.iat + 30 * DAY);
    assert_eq!(b64::decode(&c.jti).unwrap().len(), 16);

    assert!(check(&app, "2000", &token).await);
    // Not for another user, even of the same broker.
    assert!(!check(&app, "2001", &token).await);
    app.clock.advance(30 * DAY - 1);
    assert!(check(&app, "2000", &token).await);
    app.clock.advance(1);
    assert!(!check(&app, "2000", &token).await);
}

#[tokio::test]
async fn interval_zero_issues_nothing_and_ends_trust() {
    let app = common::spawn_app().await;
    seed(&app);
    let broker = user(&app, "1000"); // interval 0 by default
    assert_eq!(
        trust::issue(&app.state, &broker, "192.0.2.1", "UA")
            .await
            .unwrap(),
        None
    );
    let token = issue(&app, "2000").await;
    let u = user(&app, "2000");
    app.state
        .store
        .set_interval(u.id, TwoFactorInterval::ALWAYS)
        .unwrap();
    assert!(!check(&app, "2000", &token).await);
}

#[tokio::test]
async fn shortening_the_interval_shortens_trust() {
    let app = common::spawn_app().await;
    seed(&app);
    let token = issue(&app, "2000").await;
    app.clock.advance(2 * DAY);
    assert!(check(&app, "2000", &token).await);
    let u = user(&app, "2000");
    app.state
        .store
        .set_interval(u.id, TwoFactorInterval::days(1).unwrap())
        .unwrap();
    assert!(
        !check(&app, "2000", &token).await,
        "issued 2 days ago, interval now 1 day"
    );
    // Lengthening it again does not stretch the token past its own expiry.
    app.state
        .store
        .set_interval(u.id, TwoFactorInterval::days(90).unwrap())
        .unwrap();
    assert!(check(&app, "2000", &token).await);
    app.clock.advance(28 * DAY);
    assert!(!check(&app, "2000", &token).await);
}

#[tokio::test]
async fn revoked_tokens_are_not_trusted() {
    let app = common::spawn_app().await;
    seed(&app);
    let a = issue(&app, "2000").await;
    let b = issue(&app, "2000").await;
    let other = issue(&app, "2001").await;
    let u = user(&app, "2000");
    let jti_a = claims(&app, &a).jti;
    // Another user's id is not theirs to revoke.
    assert!(
        !trust::revoke_one(&app.state, &user(&app, "2001"), &jti_a, "test")
            .await
            .unwrap()
    );
    assert!(
        trust::revoke_one(&app.state, &u, &jti_a, "test")
            .await
            .unwrap()
    );
    assert!(!check(&app, "2000", &a).await);
    assert!(check(&app, "2000", &b).await);
    let n = trust::revoke_all(
        app.state.store.as_ref(),
        u.id,
        app.state.now(),
        "phone.changed",
    )
    .unwrap();
    assert_eq!(n, 1);
    assert!(!check(&app, "2000", &b).await);
    assert!(check(&app, "2001", &other).await);
    let audit = app.state.store.audit_log(Some(u.id), 20).unwrap();
    let all = audit
        .iter()
        .find(|e| e.action == "trust.revoked_all")
        .unwrap();
    assert_eq!(all.detail["reason"], "phone.changed");
    assert_eq!(all.detail["count"], 1);
    assert!(
        audit
            .iter()
            .any(|e| e.action == "trust.revoked" && e.actor == "test")
    );
    // No token text in the audit log.
    assert!(!serde_json::to_string(&audit).unwrap().contains(&a));
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let app = common::spawn_app().await;
    seed(&app);
    let token = issue(&app, "2000").await;
    let good = claims(&app, &token);
    let server = &app.state.server_key.pair;

    // Signed by another key, with the server's kid.
    let (other_key, _) = EcKeyPair::generate().unwrap();
    assert!(!check(&app, "2000", &sign(&app, &other_key, TRUST_TYP, &good)).await);
    // alg: none, with and without a signature.
    let parts: Vec<&str> = token.split('.').collect();
    let none = b64::encode(br#"{"alg":"none","typ":"ident-trust+jwt"}"#);
    assert!(!check(&app, "2000", &format!("{none}.{}.", parts[1])).await);
    assert!(!check(&app, "2000", &format!("{none}.{}.{}", parts[1], parts[2])).await);
    // Tampered payload (another subject) under the original signature.
    let mut evil = good.clone();
    evil.sub = "2001".into();
    let payload = b64::encode(serde_json::to_string(&evil).unwrap().as_bytes());
    assert!(
        !check(
            &app,
            "2001",
            &format!("{}.{payload}.{}", parts[0], parts[2])
        )
        .await
    );
    // Properly signed by the server key, but the wrong sub, iss, typ or a made-up jti.
    assert!(!check(&app, "2001", &sign(&app, server, TRUST_TYP, &evil)).await);
    let mut wrong_iss = good.clone();
    wrong_iss.iss = "https://evil.example".into();
    assert!(!check(&app, "2000", &sign(&app, server, TRUST_TYP, &wrong_iss)).await);
    assert!(
        !check(
            &app,
            "2000",
            &sign(&app, server, "ident-challenge+jwt", &good)
        )
        .await
    );
    let mut unknown = good.clone();
    unknown.jti = b64::encode(&[9u8; 16]);
    assert!(!check(&app, "2000", &sign(&app, server, TRUST_TYP, &unknown)).await);
    // A longer exp than the interval does not help: iat + current interval rules.
    let mut stretched = good.clone();
    stretched.exp = good.iat + 365 * DAY;
    let stretched = sign(&app, server, TRUST_TYP, &stretched);
    app.clock.advance(31 * DAY);
    assert!(!check(&app, "2000", &stretched).await);
    // Garbage.
    for junk in ["", "a.b.c", "....", &"x".repeat(10_000)] {
        assert!(!check(&app, "2000", junk).await);
    }
    // The original still verifies structurally but is now expired.
    assert!(!check(&app, "2000", &token).await);
}

async fn req(app: &TestApp, method: Method, path: &str, actor: Option<&str>) -> reqwest::Response {
    let mut r = app.rp(method, path);
    if let Some(a) = actor {
        r = r.header("Ident-Actor", a);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn list_and_revoke_over_http() {
    let app = common::spawn_app().await;
    seed(&app);
    let a = issue(&app, "2000").await;
    app.clock.advance(10);
    let b = issue(&app, "2000").await;
    let path = "/api/v1/users/2000/trusted-browsers";

    let r = req(&app, Method::GET, path, None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["login"], "2000");
    assert_eq!(body["interval_days"], 30);
    let list = body["browsers"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], claims(&app, &b).jti.as_str(), "newest first");
    assert_eq!(list[0]["ip"], "192.0.2.7");
    assert_eq!(list[0]["user_agent"], "Mozilla/5.0 (X11; Linux)");
    assert_eq!(list[0]["created_at"], app.state.now());
    assert_eq!(list[0]["expires_at"], app.state.now() + 30 * DAY);

    // Who may see and revoke: the user, the broker, its employee, the admin context.
    for (actor, status) in [
        (Some("2000"), 200),
        (Some("1000"), 200),
        (Some("1100"), 200),
        (Some("3000"), 403),
        (Some("2001"), 403),
    ] {
        assert_eq!(
            req(&app, Method::GET, path, actor).await.status(),
            status,
            "{actor:?}"
        );
    }
    let jti_a = claims(&app, &a).jti;
    let one = format!("{path}/{jti_a}");
    let r = req(&app, Method::DELETE, &one, Some("3000")).await;
    assert_eq!(r.status(), 403);
    assert!(
        check(&app, "2000", &a).await,
        "a refused request changes nothing"
    );
    assert_eq!(
        req(&app, Method::DELETE, &one, Some("2000")).await.status(),
        204
    );
    assert!(!check(&app, "2000", &a).await);
    assert!(check(&app, "2000", &b).await);
    let r = req(&app, Method::DELETE, &format!("{path}/nope"), None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = req(
        &app,
        Method::DELETE,
        "/api/v1/users/9999/trusted-browsers",
        None,
    )
    .await;
    assert_eq!(r.status(), 404);

    let r = req(&app, Method::DELETE, path, Some("1000")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["revoked"], 1);
    assert!(!check(&app, "2000", &b).await);
    let body: Value = req(&app, Method::GET, path, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["browsers"].as_array().unwrap().is_empty());

    // Without an API key: nothing.
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn list_shows_trust_cut_by_a_shorter_interval() {
    let app = common::spawn_app().await;
    seed(&app);
    issue(&app, "2000").await;
    let issued = app.state.now();
    let u = user(&app, "2000");
    app.state
        .store
        .set_interval(u.id, TwoFactorInterval::days(3).unwrap())
        .unwrap();
    let path = "/api/v1/users/2000/trusted-browsers";
    let body: Value = req(&app, Method::GET, path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["browsers"][0]["expires_at"], issued + 3 * DAY);
    app.clock.advance(3 * DAY);
    let body: Value = req(&app, Method::GET, path, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["browsers"].as_array().unwrap().is_empty());
}
