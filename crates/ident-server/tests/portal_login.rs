//! The reference portal over real HTTP, as a browser uses it: a reqwest client
//! with a cookie store walks the login (password, push with number matching,
//! SMS, trusted browser), the CSRF and origin checks, the app setup and the
//! role checks. The device side is the app's own protocol client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::TestApp;
use common::phone::{Device, Phone};
use common::portal::{Browser, PASSWORD, Page, between, outbox_code, spawn_portal, unescape, user};
use ident_core::protocol::{AnswerOutcome, Platform};
use ident_server::config::Config;
use ident_server::domain::Role;
use ident_server::portal::client_ip::TrustedProxies;
use reqwest::{Method, header};
use serde_json::{Value, json};

/// A server with the portal and four users: broker 1000 and customer
/// max@example.de (with mobile numbers), customer erika@example.de (none),
/// employee 1001.
async fn portal() -> TestApp {
    portal_with(|_| {}).await
}

/// [`portal`] with `edit` applied to the configuration.
async fn portal_with(edit: impl FnOnce(&mut Config)) -> TestApp {
    spawn_portal(
        edit,
        &[
            user(
                "1000",
                "Maklerbüro Schmidt",
                Role::Broker,
                None,
                Some("0151 11111111"),
                None,
            ),
            user(
                "1001",
                "Anna Becker",
                Role::Employee,
                Some("1000"),
                Some("0160 12345678"),
                None,
            ),
            user(
                "max@example.de",
                "Max Mustermann",
                Role::Customer,
                Some("1000"),
                Some("0171 2345678"),
                None,
            ),
            user(
                "erika@example.de",
                "Erika Musterfrau",
                Role::Customer,
                Some("1000"),
                None,
                None,
            ),
        ],
    )
    .await
}

/// Max' phone.
const PHONE: Device = ("Max' Handy", Platform::Ios);

/// Logs `login` (who has a phone but no device) in with an SMS code.
async fn sms_login(app: &TestApp, b: &Browser, login: &str) -> Page {
    let r = b.password(login, PASSWORD).await;
    assert_eq!(r.location(), "/portal/login/sms", "{}", r.body);
    let form = b.follow(r).await;
    let code = outbox_code(app);
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(r.location(), "/portal/", "{}", r.body);
    b.follow(r).await
}

#[tokio::test]
async fn push_login_with_number_matching() {
    let app = portal().await;
    let phone = Phone::enroll_as(&app, "max@example.de", PHONE).await;
    let b = Browser::new(&app);

    let login_page = b.get("/portal/login").await;
    assert_eq!(login_page.status, 200);
    let first = login_page.session_cookie().unwrap();
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(first.contains(attr), "{attr} missing: {first}");
    }
    let csp = login_page.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(login_page.headers["cache-control"], "no-store");
    assert_eq!(login_page.headers["referrer-policy"], "no-referrer");
    assert_eq!(login_page.headers["x-content-type-options"], "nosniff");
    assert!(login_page.body.contains("lang=\"de\""));
    assert!(
        login_page
            .body
            .contains("<label for=\"login\">Loginname</label>")
    );

    let r = b
        .post(
            "/portal/login",
            &[
                ("csrf", &login_page.csrf()),
                ("login", "max@example.de"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/portal/login/push");
    let second = r
        .session_cookie()
        .expect("a new session id after the password");
    assert_ne!(first, second);

    let wait = b.follow(r).await;
    assert_eq!(wait.status, 200);
    let number = between(
        &wait.body,
        "data-testid=\"push-number\" aria-labelledby=\"number-label push-number\">",
        "<",
    )
    .unwrap();
    assert_eq!(number.len(), 2, "{}", wait.body);
    assert!(wait.body.contains("role=\"status\""));
    assert!(
        wait.body
            .contains(&format!("Geben Sie in der App die Zahl {number} ein."))
    );
    // before the answer the portal's status says pending (no wait: the page reads it)
    let again = b.get("/portal/login/push").await;
    assert!(again.body.contains("data-state=\"pending\""));
    // the internal area is still closed
    assert_eq!(b.get("/portal/").await.location(), "/portal/login");

    // the phone answers while the page's script long-polls
    let poll = {
        let http = b.http.clone();
        let url = format!("{}/portal/login/push/status", b.base);
        tokio::spawn(async move { http.get(url).send().await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(phone.approve_only(&number).await, AnswerOutcome::Approved);
    let r = poll.await.unwrap();
    assert_eq!(r.status(), 200);
    let third = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("__Host-portal-session="))
        .expect("a new session id after the second factor");
    assert_ne!(third, second);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"status": "approved", "next": "/portal/"}));

    let home = b.get("/portal/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Willkommen, Max Mustermann"));
    assert!(home.body.contains("id=\"nav-setup\""));
    assert!(
        !home.body.contains("id=\"nav-customers\""),
        "customers see no customer list"
    );
    assert!(home.body.contains("eingerichtet"));

    // logout ends the session for good
    let r = b.post("/portal/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(r.location(), "/portal/login?bye=1");
    assert!(b.follow(r).await.body.contains("Sie wurden abgemeldet."));
    assert_eq!(b.get("/portal/").await.location(), "/portal/login");
}

/// The browser address Max' phone is shown for a login whose password is
/// posted with `X-Forwarded-For: forwarded`, the portal trusting `trusted`
/// (the test connects from 127.0.0.1).
async fn address_shown_to_the_phone(trusted: &[&str], forwarded: &str) -> std::net::IpAddr {
    let trusted = TrustedProxies::parse(trusted.iter().copied()).unwrap();
    let app = portal_with(|c| c.portal.trusted_proxies = trusted).await;
    let phone = Phone::enroll_as(&app, "max@example.de", PHONE).await;
    let b = Browser::new(&app);
    let form = b.get("/portal/login").await;
    let r = b
        .page(
            b.http
                .post(format!("{}/portal/login", b.base))
                .header("x-forwarded-for", forwarded)
                .form(&[
                    ("csrf", form.csrf().as_str()),
                    ("login", "max@example.de"),
                    ("password", PASSWORD),
                ]),
        )
        .await;
    assert_eq!(r.location(), "/portal/login/push", "{}", r.body);
    phone.fetch(None).await.remove(0).context().ip
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_phone_shows_the_forwarded_address() {
    let chain = "192.0.2.66, 203.0.113.9";
    assert_eq!(
        address_shown_to_the_phone(&["127.0.0.1"], chain).await,
        "203.0.113.9".parse::<std::net::IpAddr>().unwrap(),
        "the proxy's entry, not the browser's own claim further left"
    );
    assert_eq!(
        address_shown_to_the_phone(&[], chain).await,
        "127.0.0.1".parse::<std::net::IpAddr>().unwrap(),
        "without a trusted proxy the header is ignored"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_login_get_the_same_sentence() {
    let app = portal().await;
    let b = Browser::new(&app);
    let wrong = b.password("1000", "falsch-falsch").await;
    let unknown = b.password("9999", "falsch-falsch").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let sentence = "Loginname oder Passwort ist falsch.";
    assert!(wrong.body.contains(sentence) && unknown.body.contains(sentence));
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(
        !wrong.body.contains("falsch-falsch"),
        "the password is never echoed"
    );
    assert!(wrong.body.contains("value=\"1000\""), "the login is kept");

    // five wrong passwords, then the sixth try names the wait
    for _ in 0..4 {
        assert_eq!(b.password("1000", "falsch-falsch").await.status, 401);
    }
    let blocked = b.password("1000", PASSWORD).await;
    assert_eq!(blocked.status, 429);
    assert!(
        blocked
            .body
            .contains("Zu viele Fehlversuche. Bitte warten Sie 15 Minuten"),
        "{}",
        blocked.body
    );
}

#[tokio::test]
async fn csrf_missing_or_wrong_is_refused_and_nothing_changes() {
    let app = portal().await;
    let b = Browser::new(&app);
    let form = b.get("/portal/login").await;
    let csrf = form.csrf();
    for bad in [
        vec![("login", "max@example.de"), ("password", PASSWORD)],
        vec![
            ("csrf", "AAAA"),
            ("login", "max@example.de"),
            ("password", PASSWORD),
        ],
        vec![
            ("csrf", &csrf[..csrf.len() - 2]),
            ("login", "max@example.de"),
            ("password", PASSWORD),
        ],
    ] {
        let r = b.post("/portal/login", &bad).await;
        assert_eq!(r.status, 403);
        assert!(r.body.contains("Das Formular ist abgelaufen"), "{}", r.body);
        assert!(r.session_cookie().is_none(), "no new session");
    }
    // a form from another site with the right token is refused too
    let r = b
        .page(
            b.http
                .post(format!("{}/portal/login", b.base))
                .header("origin", "https://evil.example")
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "max@example.de"),
                    ("password", PASSWORD),
                ]),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = b
        .page(
            b.http
                .post(format!("{}/portal/login", b.base))
                .header("sec-fetch-site", "cross-site")
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "max@example.de"),
                    ("password", PASSWORD),
                ]),
        )
        .await;
    assert_eq!(r.status, 403);
    // nothing was sent: no SMS went out, the session is still before the password
    assert!(!app.dir.path().join("sms.jsonl").exists());
    assert_eq!(b.get("/portal/login/sms").await.location(), "/portal/login");

    // logged in, a logout without the token does not log out
    let home = sms_login(&app, &b, "max@example.de").await;
    let r = b.post("/portal/logout", &[("csrf", "nope")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(b.get("/portal/").await.status, 200);
    // the old token of the login page is worthless after the logins' rotations
    let r = b.post("/portal/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 403);
    // the right one works, from the same origin
    let r = b
        .page(
            b.http
                .post(format!("{}/portal/logout", b.base))
                .header("sec-fetch-site", "same-origin")
                .form(&[("csrf", home.csrf().as_str())]),
        )
        .await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn sms_login_with_a_wrong_then_the_right_code() {
    let app = portal().await;
    let b = Browser::new(&app);
    let r = b.password("max@example.de", PASSWORD).await;
    assert_eq!(r.location(), "/portal/login/sms");
    let form = b.follow(r).await;
    assert!(form.body.contains("+49 ••• 678"), "{}", form.body);
    assert!(form.body.contains("autocomplete=\"one-time-code\""));
    let code = outbox_code(&app);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", wrong)],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("Der Code ist falsch. Sie haben noch 2 Versuche."),
        "{}",
        r.body
    );
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", "12")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Bitte geben Sie die 6 Ziffern"));
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", &spaced)],
        )
        .await;
    assert_eq!(r.location(), "/portal/");
    let home = b.follow(r).await;
    assert!(home.body.contains("Willkommen, Max Mustermann"));
    assert!(home.body.contains("noch nicht eingerichtet"));
}

#[tokio::test]
async fn the_trusted_browser_skips_the_second_factor_within_the_interval() {
    let app = portal().await;
    let r = app
        .rp(Method::PUT, "/api/v1/users/max@example.de/interval")
        .json(&json!({"days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b = Browser::new(&app);
    let r = b.password("max@example.de", PASSWORD).await;
    let form = b.follow(r).await;
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", &outbox_code(&app))],
        )
        .await;
    let trust = r
        .set_cookie("__Host-portal-trust=")
        .expect("a trust cookie");
    for attr in ["Secure", "HttpOnly", "Max-Age="] {
        assert!(trust.contains(attr), "{attr}: {trust}");
    }
    let home = b.follow(r).await;
    assert!(home.body.contains("Alle 7 Tage"), "{}", home.body);
    let r = b.post("/portal/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(r.status, 303);

    // the next login from this browser: password only
    app.clock.advance(6 * 86_400);
    let r = b.password("max@example.de", PASSWORD).await;
    assert_eq!(r.location(), "/portal/", "{}", r.body);
    assert_eq!(b.follow(r).await.status, 200);

    // another browser is asked again
    let other = Browser::new(&app);
    assert_eq!(
        other.password("max@example.de", PASSWORD).await.location(),
        "/portal/login/sms"
    );
    // and after the interval this one is too
    app.clock.advance(2 * 86_400);
    let b2 = b.get("/portal/").await;
    assert_eq!(
        b2.location(),
        "/portal/login",
        "idle for two days: logged out"
    );
    assert_eq!(
        b.password("max@example.de", PASSWORD).await.location(),
        "/portal/login/sms"
    );
}

#[tokio::test]
async fn sessions_end_after_30_idle_minutes() {
    let app = portal().await;
    let b = Browser::new(&app);
    sms_login(&app, &b, "max@example.de").await;
    app.clock.advance(29 * 60);
    assert_eq!(b.get("/portal/").await.status, 200);
    app.clock.advance(29 * 60);
    assert_eq!(
        b.get("/portal/").await.status,
        200,
        "each request resets the idle time"
    );
    app.clock.advance(30 * 60);
    assert_eq!(b.get("/portal/").await.location(), "/portal/login");
}

#[tokio::test]
async fn no_phone_and_no_device_is_explained() {
    let app = portal().await;
    let b = Browser::new(&app);
    let r = b.password("erika@example.de", PASSWORD).await;
    assert_eq!(r.location(), "/portal/login/no-factor");
    let page = b.follow(r).await;
    assert!(page.body.contains("Mobilfunknummer fehlt"));
    assert!(page.body.contains("nur Ihr Vermittler"), "{}", page.body);
    // still not logged in
    assert_eq!(b.get("/portal/").await.location(), "/portal/login");
}

#[tokio::test]
async fn setup_without_a_phone_says_who_enters_it() {
    let app = portal().await;
    let b = Browser::new(&app);
    sms_login(&app, &b, "max@example.de").await;
    // the broker removes Max's number (Max logged in before)
    let r = app
        .rp(Method::DELETE, "/api/v1/users/max@example.de/phone")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = b.get("/portal/setup").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"setup-no-phone\""));
    assert!(page.body.contains("nur Ihr Vermittler"));
    assert!(!page.body.contains("setup-qr"));
}

#[tokio::test]
async fn setup_shows_the_qr_code_and_confirms_the_app() {
    let app = portal().await;
    let b = Browser::new(&app);
    sms_login(&app, &b, "max@example.de").await;
    let page = b.get("/portal/setup").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let qr = unescape(&between(&page.body, "data-testid=\"setup-qr\" src=\"", "\"").unwrap());
    let before_link = &page.body[..page.body.find("\" id=\"setup-link\"").unwrap()];
    let link = unescape(&before_link[before_link.rfind("href=\"").unwrap() + 6..]);
    assert!(link.contains("/e#"), "{link}");
    assert!(!page.body.contains(&app.api_key), "no API key in the page");
    let image = b.get(&qr).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.headers["content-type"], "image/svg+xml");
    assert!(image.body.contains("<svg"));
    let id = qr.rsplit('=').next().unwrap().to_owned();
    let status_url = format!("/portal/setup/status?e={id}");
    let s: Value = serde_json::from_str(&b.get(&status_url).await.body).unwrap();
    assert_eq!(s["status"], "pending");

    // another session cannot see this code
    let other = Browser::new(&app);
    sms_login(&app, &other, "1000").await;
    assert_eq!(other.get(&qr).await.status, 404);
    assert_eq!(other.get(&status_url).await.status, 404);

    // the app opens the same-device link and enrolls
    let _phone = Phone::enroll_link(&app, &link, PHONE).await;
    let s: Value = serde_json::from_str(&b.get(&status_url).await.body).unwrap();
    assert_eq!(s["status"], "completed");
    let page = b.get("/portal/setup").await;
    assert!(page.body.contains("data-testid=\"setup-enrolled\""));
}

#[tokio::test]
async fn a_customer_cannot_open_the_customer_list() {
    let app = portal().await;
    let customer = Browser::new(&app);
    sms_login(&app, &customer, "max@example.de").await;
    for path in ["/portal/customers", "/portal/mail", "/portal/sms-costs"] {
        let r = customer.get(path).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(
            r.body
                .contains("Dieser Bereich ist für Ihren Zugang nicht freigegeben.")
        );
    }
    let broker = Browser::new(&app);
    sms_login(&app, &broker, "1000").await;
    for path in ["/portal/customers", "/portal/mail", "/portal/sms-costs"] {
        assert_eq!(broker.get(path).await.status, 200, "{path}");
    }
    let employee = Browser::new(&app);
    sms_login(&app, &employee, "1001").await;
    assert_eq!(employee.get("/portal/customers").await.status, 200);
    // the API lets employees read their broker's SMS ledger
    assert_eq!(employee.get("/portal/sms-costs").await.status, 200);
}

#[tokio::test]
async fn english_on_request_and_unknown_pages() {
    let app = portal().await;
    let b = Browser::new(&app);
    let r = b.get("/portal/lang/en?back=/portal/login").await;
    assert_eq!(r.location(), "/portal/login");
    let page = b.follow(r).await;
    assert!(page.body.contains("lang=\"en\""));
    assert!(page.body.contains("Login name"));
    let r = b.get("/portal/lang/en?back=https://evil.example/").await;
    assert_eq!(r.location(), "/portal/");
    let missing = b.get("/portal/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("This page does not exist."));
    assert_eq!(b.get("/").await.location(), "/portal/");
    let css = b.get("/portal/static/portal.css").await;
    assert_eq!(css.status, 200);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn a_denied_push_is_said_plainly_and_sms_is_the_way_on() {
    let app = portal().await;
    let phone = Phone::enroll_as(&app, "max@example.de", PHONE).await;
    let b = Browser::new(&app);
    let wait = b.follow(b.password("max@example.de", PASSWORD).await).await;
    assert!(wait.body.contains("data-state=\"pending\""));
    // the phone answers with a wrong number: a denial
    let number = between(
        &wait.body,
        "aria-labelledby=\"number-label push-number\">",
        "<",
    )
    .unwrap();
    let wrong = if number == "11" { "22" } else { "11" };
    assert_eq!(phone.approve_only(wrong).await, AnswerOutcome::Denied);
    let status: Value =
        serde_json::from_str(&b.get("/portal/login/push/status").await.body).unwrap();
    assert_eq!(status["status"], "denied");
    let page = b.get("/portal/login/push").await;
    assert!(page.body.contains("data-state=\"denied\""));
    assert!(
        page.body
            .contains("Die Anmeldung wurde in der App abgelehnt."),
        "{}",
        page.body
    );
    assert_eq!(
        b.get("/portal/").await.location(),
        "/portal/login",
        "not logged in"
    );

    // a new login, switched to an SMS code
    let wait = b.follow(b.password("max@example.de", PASSWORD).await).await;
    assert!(wait.body.contains("id=\"push-use-sms\""));
    let r = b
        .post("/portal/login/sms/send", &[("csrf", &wait.csrf())])
        .await;
    assert_eq!(r.location(), "/portal/login/sms");
    let form = b.follow(r).await;
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", &outbox_code(&app))],
        )
        .await;
    assert_eq!(r.location(), "/portal/");
    // the push page of a finished login leads home
    assert_eq!(b.get("/portal/login/push").await.location(), "/portal/");
}

#[tokio::test]
async fn cancel_and_switching_to_sms_withdraw_the_push_login() {
    let app = portal().await;
    let phone = Phone::enroll_as(&app, "max@example.de", PHONE).await;
    let b = Browser::new(&app);
    // More cancelled logins than the open-login limit (3): each one is
    // withdrawn, so the phone lists nothing and the next login still works.
    for round in 0..4 {
        let r = b.password("max@example.de", PASSWORD).await;
        assert_eq!(
            r.location(),
            "/portal/login/push",
            "round {round}: {}",
            r.body
        );
        let wait = b.follow(r).await;
        assert!(wait.body.contains("data-state=\"pending\""));
        assert_eq!(phone.fetch(None).await.len(), 1, "round {round}");
        let r = b
            .post("/portal/login/cancel", &[("csrf", &wait.csrf())])
            .await;
        assert_eq!(r.location(), "/portal/login");
        assert_eq!(phone.fetch(None).await.len(), 0, "round {round}: withdrawn");
    }
    // Switching to SMS withdraws the push request too.
    let wait = b.follow(b.password("max@example.de", PASSWORD).await).await;
    assert_eq!(phone.fetch(None).await.len(), 1);
    let r = b
        .post("/portal/login/sms/send", &[("csrf", &wait.csrf())])
        .await;
    assert_eq!(r.location(), "/portal/login/sms");
    assert_eq!(phone.fetch(None).await.len(), 0);
    let form = b.follow(r).await;
    let r = b
        .post(
            "/portal/login/sms",
            &[("csrf", &form.csrf()), ("code", &outbox_code(&app))],
        )
        .await;
    assert_eq!(r.location(), "/portal/");
    let audit: Value = app
        .rp(Method::GET, "/api/v1/users/max@example.de/audit?limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let withdrawn = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.withdrawn")
        .count();
    assert_eq!(withdrawn, 5);
    let user: Value = app
        .rp(Method::GET, "/api/v1/users/max@example.de")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["push_locked"], false, "withdrawals are no denials");
}

#[tokio::test]
async fn the_setup_qr_code_can_be_saved_as_png() {
    let app = portal().await;
    let b = Browser::new(&app);
    sms_login(&app, &b, "max@example.de").await;
    let page = b.get("/portal/setup").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("QR-Code als Bild speichern (PNG)"));
    let before = &page.body[..page.body.find("\" id=\"setup-qr-png\"").unwrap()];
    assert!(
        before.ends_with("download=\"ident-einrichtung.png"),
        "{before}"
    );
    let tag = &before[before.rfind("<a ").unwrap()..];
    let png_url = unescape(&between(tag, "href=\"", "\"").unwrap());
    assert!(png_url.starts_with("/portal/setup/qr.png?e="), "{png_url}");
    let r = b
        .http
        .get(format!("{}{png_url}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let png = r.bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG signature");

    // Another session (even a logged-in one) gets nothing; nobody logged in
    // is sent to the login page.
    let other = Browser::new(&app);
    sms_login(&app, &other, "1000").await;
    assert_eq!(other.get(&png_url).await.status, 404);
    let anonymous = Browser::new(&app);
    assert_eq!(anonymous.get(&png_url).await.location(), "/portal/login");

    // English page, English link text.
    let r = b.get("/portal/lang/en?back=/portal/setup").await;
    let page = b.follow(r).await;
    assert!(page.body.contains("Save the QR code as an image (PNG)"));
}
