//! The portal's internal area over real HTTP, as a browser uses it: "Meine
//! Sicherheit", "Meine Kunden" and "SMS-Kosten", logged in with a
//! cookie-holding reqwest client (SMS code from the outbox). Every change is
//! checked through the relying-party API afterwards, and every refusal
//! (role, another broker's customer, missing CSRF token) is checked to have
//! changed nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::TestApp;
use common::phone::Phone;
use common::portal::{Browser, PASSWORD, Page, T0, between, spawn_portal, unescape, user};
use ident_core::protocol::Platform;
use ident_server::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server with the portal and these users:
/// - broker 1000 (Maklerbüro Schmidt) with employee 1001, sub-broker 1002 and
///   customers max@example.de (number), erika@example.de (none) and
///   paul@example.de (number);
/// - broker 2000 (Finanzkontor Wagner) with customer lena@example.de (number).
async fn portal() -> TestApp {
    let users = [
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
            "1002",
            "Jonas Untermakler",
            Role::SubBroker,
            Some("1000"),
            Some("0160 22222222"),
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
        user(
            "paul@example.de",
            "Paul Beispiel",
            Role::Customer,
            Some("1000"),
            Some("0172 3456789"),
            None,
        ),
        user(
            "2000",
            "Finanzkontor Wagner",
            Role::Broker,
            None,
            Some("0151 22222222"),
            None,
        ),
        user(
            "lena@example.de",
            "Lena Fremdkundin",
            Role::Customer,
            Some("2000"),
            Some("0176 9876543"),
            None,
        ),
    ];
    spawn_portal(|_| {}, &users).await
}

/// Logs `login` (who has a phone but no device) in with an SMS code.
async fn sms_login(app: &TestApp, login: &str) -> Browser {
    Browser::new(app).sms_login(app, login).await
}

/// `GET` on the relying-party API in the portal's administrative context.
async fn api_get(app: &TestApp, path: &str) -> Value {
    let r = app.rp(Method::GET, path).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn api_user(app: &TestApp, login: &str) -> Value {
    api_get(app, &format!("/api/v1/users/{login}")).await
}

async fn api_put(app: &TestApp, path: &str, body: Value) {
    let r = app.rp(Method::PUT, path).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

// ---------------------------------------------------------------------------
// Meine Sicherheit

#[tokio::test]
async fn security_page_shows_interval_devices_browsers_and_sign_ins() {
    let app = portal().await;
    // An interval > 0: the SMS login makes this browser trusted.
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 14}),
    )
    .await;
    let b = sms_login(&app, "max@example.de").await;
    let page = b.get("/portal/security").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<h1 id=\"page-title\">Meine Sicherheit</h1>")
    );
    assert!(page.body.contains("aria-current=\"page\""));
    // the interval: current value, the select from "Immer" to "Alle 90 Tage"
    assert!(page.body.contains("Zurzeit: Alle 14 Tage"), "{}", page.body);
    assert!(page.body.contains("<option value=\"0\">Immer</option>"));
    assert!(page.body.contains("<option value=\"1\">Jeden Tag</option>"));
    assert!(
        page.body
            .contains("<option value=\"14\" selected>Alle 14 Tage</option>")
    );
    assert!(
        page.body
            .contains("<option value=\"90\">Alle 90 Tage</option>")
    );
    assert_eq!(page.count("<option value="), 91);
    // no device yet: SMS, and the way to the setup
    assert!(page.body.contains("id=\"devices-empty\""));
    assert!(page.body.contains("id=\"devices-setup\""));
    // this browser is trusted, shown readable
    assert_eq!(
        page.count("data-testid=\"browser-row\""),
        1,
        "{}",
        page.body
    );
    assert!(page.body.contains("Firefox · Linux"));
    assert!(page.body.contains("127.0.0.1"));
    // the sign-in just made, with method and result, never a transaction id
    assert_eq!(page.count("data-testid=\"signin-row\""), 1);
    assert!(page.body.contains("data-result=\"approved\""));
    assert!(page.body.contains("SMS-Code"));
    let audit = api_get(&app, "/api/v1/users/max@example.de/audit").await;
    for e in audit["entries"].as_array().unwrap() {
        if let Some(txn) = e["detail"]["txn"].as_str() {
            assert!(
                !page.body.contains(txn),
                "a transaction id reached the page"
            );
        }
    }
    // English
    b.get("/portal/lang/en?back=/portal/security").await;
    let en = b.get("/portal/security").await;
    assert!(en.body.contains("<h1 id=\"page-title\">My security</h1>"));
    assert!(en.body.contains("Currently: Every 14 days"));
    assert!(en.body.contains("Trusted browsers"));
}

/// Whether `password` passes the first factor for `login` right now.
async fn password_ok(app: &TestApp, login: &str, password: &str) -> bool {
    app.rp(Method::POST, "/api/v1/login/password")
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        == StatusCode::OK
}

#[tokio::test]
async fn own_password_changes_with_the_current_one_refusals_change_nothing() {
    let app = portal().await;
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 7}),
    )
    .await;
    let b = sms_login(&app, "max@example.de").await;
    // Max is logged in in a second browser too, and the broker in his own.
    let other = sms_login(&app, "max@example.de").await;
    let broker = sms_login(&app, "1000").await;
    let page = b.get("/portal/security").await;
    assert!(page.body.contains("id=\"password-form\""));
    assert!(
        page.body
            .contains("<label for=\"password-current\">Bisheriges Passwort</label>")
    );
    const NEW: &str = "Ein-neues-Passwort-2027";
    let refusals: [(&[(&str, &str)], &str); 4] = [
        (
            &[("current", ""), ("new", NEW), ("repeat", NEW)],
            "Bitte geben Sie Ihr bisheriges Passwort ein.",
        ),
        (
            &[("current", PASSWORD), ("new", "kurz"), ("repeat", "kurz")],
            "muss 8 bis 256 Zeichen lang sein",
        ),
        (
            &[
                ("current", PASSWORD),
                ("new", NEW),
                ("repeat", "Ein-anderes-Passwort"),
            ],
            "stimmen nicht überein",
        ),
        (
            &[
                ("current", "falsch-falsch-falsch"),
                ("new", NEW),
                ("repeat", NEW),
            ],
            "Das bisherige Passwort stimmt nicht.",
        ),
    ];
    for (fields, sentence) in refusals {
        let mut form = vec![("csrf", page.csrf())];
        form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post("/portal/security/password", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{sentence}");
        assert!(r.body.contains("id=\"password-error\""), "{sentence}");
        assert_eq!(
            r.count("aria-invalid=\"true\""),
            1,
            "one field marked: {sentence}"
        );
        assert!(r.body.contains(sentence), "{sentence}: {}", r.body);
        assert!(
            !r.body.contains(NEW) && !r.body.contains(PASSWORD),
            "a password came back"
        );
    }
    // without the CSRF token: refused
    let r = b
        .post(
            "/portal/security/password",
            &[("current", PASSWORD), ("new", NEW), ("repeat", NEW)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(password_ok(&app, "max@example.de", PASSWORD).await);

    // the change: the new password works, the old one not, trust has ended
    let after = b
        .submit(
            &page,
            "/portal/security/password",
            &[("current", PASSWORD), ("new", NEW), ("repeat", NEW)],
        )
        .await;
    assert!(
        after.body.contains("Ihr Passwort wurde geändert."),
        "{}",
        after.body
    );
    assert!(after.body.contains("id=\"browsers-empty\""));
    assert!(password_ok(&app, "max@example.de", NEW).await);
    assert!(!password_ok(&app, "max@example.de", PASSWORD).await);
    // The change ended Max's other session, not this one and not the broker's.
    let gone = other.get("/portal/security").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(
        gone.location().starts_with("/portal/login"),
        "{}",
        gone.location()
    );
    assert_eq!(b.get("/portal/security").await.status, StatusCode::OK);
    assert_eq!(broker.get("/portal/security").await.status, StatusCode::OK);

    // wrong current passwords count with wrong logins (the failed check
    // just now and four more make five): then the form says when to try again
    let page = b.get("/portal/security").await;
    let csrf = page.csrf();
    for _ in 0..4 {
        let r = b
            .post(
                "/portal/security/password",
                &[
                    ("csrf", &csrf),
                    ("current", "falsch-falsch-falsch"),
                    ("new", NEW),
                    ("repeat", NEW),
                ],
            )
            .await;
        assert!(r.body.contains("Das bisherige Passwort stimmt nicht."));
    }
    let r = b
        .post(
            "/portal/security/password",
            &[
                ("csrf", &csrf),
                ("current", NEW),
                ("new", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Zu viele falsche Passwörter. Bitte versuchen Sie es in 15 Minuten erneut."),
        "{}",
        r.body
    );
    app.clock.advance(15 * 60 + 1);
    assert!(
        password_ok(&app, "max@example.de", NEW).await,
        "the refused try changed nothing"
    );
}

#[tokio::test]
async fn a_user_deleted_while_logged_in_is_told_so_and_logged_out() {
    let app = portal().await;
    let b = sms_login(&app, "paul@example.de").await;
    assert_eq!(b.get("/portal/security").await.status, StatusCode::OK);
    let r = app
        .rp(Method::DELETE, "/api/v1/users/paul@example.de")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // The next page says what happened (not "the service cannot be reached")…
    let page = b.get("/portal/security").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body
            .contains("Ihren Zugang gibt es nicht mehr, Sie sind abgemeldet."),
        "{}",
        page.body
    );
    // …and the session is gone: from now on the login page.
    let next = b.get("/portal/").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(
        next.location().starts_with("/portal/login"),
        "{}",
        next.location()
    );
}

#[tokio::test]
async fn own_interval_changes_and_ends_trust_refusals_change_nothing() {
    let app = portal().await;
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 7}),
    )
    .await;
    let b = sms_login(&app, "max@example.de").await;
    let page = b.get("/portal/security").await;
    assert_eq!(page.count("data-testid=\"browser-row\""), 1);

    // without the CSRF token: refused, nothing changed
    let r = b.post("/portal/security/interval", &[("days", "30")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 7);
    // a wrong token: the same
    let r = b
        .post(
            "/portal/security/interval",
            &[
                ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 7);
    // out of range: the form again with a sentence, nothing changed
    let r = b
        .post(
            "/portal/security/interval",
            &[("csrf", &page.csrf()), ("days", "91")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"interval-error\""));
    assert!(r.body.contains("zwischen „Immer“ und „Alle 90 Tage“"));
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 7);

    // the change
    let after = b
        .submit(&page, "/portal/security/interval", &[("days", "30")])
        .await;
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 30);
    assert!(
        after
            .body
            .contains("Ihr 2FA-Intervall ist jetzt: Alle 30 Tage."),
        "{}",
        after.body
    );
    assert!(after.body.contains("<option value=\"30\" selected>"));
    // the change ended the trust of this browser
    assert!(after.body.contains("id=\"browsers-empty\""));
    let trusted = api_get(&app, "/api/v1/users/max@example.de/trusted-browsers").await;
    assert_eq!(trusted["browsers"].as_array().unwrap().len(), 0);
    // the notice shows once
    let again = b.get("/portal/security").await;
    assert!(!again.body.contains("Ihr 2FA-Intervall ist jetzt"));

    // "Immer"
    let after = b
        .submit(&again, "/portal/security/interval", &[("days", "0")])
        .await;
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 0);
    assert!(after.body.contains("Zurzeit: Immer"));
}

#[tokio::test]
async fn trusted_browsers_are_revoked_one_and_all() {
    let app = portal().await;
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 30}),
    )
    .await;
    let first = sms_login(&app, "max@example.de").await;
    let second = sms_login(&app, "max@example.de").await;
    let third = sms_login(&app, "max@example.de").await;
    let page = first.get("/portal/security").await;
    assert_eq!(
        page.count("data-testid=\"browser-row\""),
        3,
        "{}",
        page.body
    );
    let id = between(&page.body, "data-browser-id=\"", "\"").unwrap();

    // one, without the token: refused
    let path = format!("/portal/security/browsers/{id}/revoke");
    let r = first.post(&path, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let list = api_get(&app, "/api/v1/users/max@example.de/trusted-browsers").await;
    assert_eq!(list["browsers"].as_array().unwrap().len(), 3);

    let after = first.submit(&page, &path, &[]).await;
    assert!(after.body.contains("nicht mehr vertrauenswürdig"));
    assert_eq!(after.count("data-testid=\"browser-row\""), 2);
    assert!(!after.body.contains(&format!("data-browser-id=\"{id}\"")));

    // an id that is not one of the user's: 404, nothing changed
    let r = first
        .post(
            "/portal/security/browsers/tb_nonexistent/revoke",
            &[("csrf", &after.csrf())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // all
    let after = first
        .submit(&after, "/portal/security/browsers/revoke-all", &[])
        .await;
    assert!(
        after.body.contains("Vertrauen widerrufen: 2 Browser."),
        "{}",
        after.body
    );
    assert!(after.body.contains("id=\"browsers-empty\""));
    let list = api_get(&app, "/api/v1/users/max@example.de/trusted-browsers").await;
    assert_eq!(list["browsers"].as_array().unwrap().len(), 0);
    drop((second, third));
}

#[tokio::test]
async fn a_device_is_removed_after_confirmation_and_only_with_the_token() {
    let app = portal().await;
    let b = sms_login(&app, "max@example.de").await;
    Phone::enroll_as(&app, "max@example.de", ("Max' Pixel", Platform::Android)).await;
    let page = b.get("/portal/security").await;
    assert_eq!(page.count("data-testid=\"device-row\""), 1, "{}", page.body);
    assert!(page.body.contains("Max&#x27; Pixel"));
    assert!(page.body.contains("Android"));
    assert!(page.body.contains("noch nie"));
    let id = between(&page.body, "data-device-id=\"", "\"").unwrap();

    // the confirmation page
    let path = format!("/portal/security/devices/{id}/remove");
    let confirm = b.get(&path).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Gerät entfernen?"));
    assert!(confirm.body.contains("id=\"remove-device-confirm\""));
    // without the token: refused, the device stays
    let r = b.post(&path, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let devices = api_get(&app, "/api/v1/users/max@example.de/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
    // from another site: refused too
    let r = b
        .page(
            b.http
                .post(format!("{}{path}", b.base))
                .header("origin", "https://evil.example")
                .form(&[("csrf", confirm.csrf())]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api_get(&app, "/api/v1/users/max@example.de/devices").await["devices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let after = b.submit(&confirm, &path, &[]).await;
    assert!(
        after
            .body
            .contains("Das Gerät „Max&#x27; Pixel“ wurde entfernt."),
        "{}",
        after.body
    );
    assert!(after.body.contains("id=\"devices-empty\""));
    let devices = api_get(&app, "/api/v1/users/max@example.de/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 0);
    assert_eq!(api_user(&app, "max@example.de").await["enrolled"], false);
    // gone: the confirmation page is 404 now, and so is an id of nobody
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        b.get("/portal/security/devices/..%2F..%2Fx/remove")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn another_users_device_cannot_be_removed() {
    let app = portal().await;
    Phone::enroll_as(&app, "lena@example.de", ("Lenas Handy", Platform::Android)).await;
    let lena_device =
        api_get(&app, "/api/v1/users/lena@example.de/devices").await["devices"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let b = sms_login(&app, "max@example.de").await;
    let page = b.get("/portal/security").await;
    let path = format!("/portal/security/devices/{lena_device}/remove");
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
    let r = b.post(&path, &[("csrf", &page.csrf())]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let devices = api_get(&app, "/api/v1/users/lena@example.de/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_internal_pages_need_a_login() {
    let app = portal().await;
    let b = Browser::new(&app);
    for path in ["/portal/security", "/portal/customers", "/portal/sms-costs"] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/portal/login", "{path}");
    }
    let r = b.post("/portal/security/interval", &[("days", "0")]).await;
    assert_eq!(r.location(), "/portal/login");
}

// ---------------------------------------------------------------------------
// Meine Kunden

/// The logins listed on a customers page, in order.
fn listed(page: &Page) -> Vec<String> {
    page.body
        .split("data-testid=\"customer-row\" data-login=\"")
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find('"').unwrap()]))
        .collect()
}

fn lock(app: &TestApp, login: &str, reason: &str) {
    let login = ident_server::domain::LoginName::parse(login).unwrap();
    let id = app.state.store.user_by_login(&login).unwrap().unwrap().id;
    app.state.store.lock_push(id, reason, T0 + 60).unwrap();
}

#[tokio::test]
async fn who_may_open_customers_and_sms_costs() {
    let app = portal().await;
    // a customer, a sub-broker: 403 for both pages, not in the navigation
    for login in ["max@example.de", "1002"] {
        let b = sms_login(&app, login).await;
        let home = b.get("/portal/").await;
        assert!(!home.body.contains("id=\"nav-customers\""), "{login}");
        assert!(!home.body.contains("id=\"nav-sms-costs\""), "{login}");
        for path in [
            "/portal/customers",
            "/portal/customers/max@example.de",
            "/portal/sms-costs",
            "/portal/sms-costs/2027/Q1.csv",
        ] {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{login} {path}");
        }
        // and cannot change anything by posting either
        let sec = b.get("/portal/security").await;
        let r = b
            .post(
                "/portal/customers/interval",
                &[("csrf", &sec.csrf()), ("days", "30"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
        let r = b
            .post(
                "/portal/customers/paul@example.de/phone",
                &[("csrf", &sec.csrf()), ("phone", "0170 1111111")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{login}");
    }
    assert_eq!(api_user(&app, "paul@example.de").await["interval_days"], 0);
    assert_eq!(
        api_user(&app, "paul@example.de").await["phone"],
        "+491723456789"
    );
    // the broker and the employee: both pages
    for login in ["1000", "1001"] {
        let b = sms_login(&app, login).await;
        let home = b.get("/portal/").await;
        assert!(home.body.contains("id=\"nav-customers\""), "{login}");
        assert!(home.body.contains("id=\"nav-sms-costs\""), "{login}");
        let page = b.get("/portal/customers").await;
        assert_eq!(page.status, 200, "{login}: {}", page.body);
        assert!(
            page.body
                .contains("<h1 id=\"page-title\">Meine Kunden</h1>")
        );
        let page = b.get("/portal/sms-costs").await;
        assert_eq!(page.status, 200, "{login}: {}", page.body);
        assert!(page.body.contains("<h1 id=\"page-title\">SMS-Kosten</h1>"));
    }
}

#[tokio::test]
async fn the_customer_list_filters_and_searches() {
    let app = portal().await;
    Phone::enroll_as(&app, "paul@example.de", ("Pauls iPhone", Platform::Android)).await;
    let b = sms_login(&app, "1000").await;

    let all = b.get("/portal/customers").await;
    assert_eq!(
        listed(&all),
        ["erika@example.de", "max@example.de", "paul@example.de"]
            .map(String::from)
            .to_vec()
            .into_iter()
            .filter(|l| all.body.contains(l.as_str()))
            .collect::<Vec<_>>()
    );
    let mut logins = listed(&all);
    logins.sort();
    assert_eq!(
        logins,
        ["erika@example.de", "max@example.de", "paul@example.de"]
    );
    // staff and the other broker's customer are not customers of this list
    assert!(!all.body.contains("lena@example.de"));
    assert!(!all.body.contains("Anna Becker"));
    assert!(all.body.contains("3 von 3 Kunden"));
    // the number is masked in the list
    assert!(all.body.contains("+49 ••• 678"), "{}", all.body);
    assert!(!all.body.contains("+491712345678"));

    let only = |path: &'static str| {
        let b = &b;
        async move {
            let mut l = listed(&b.get(path).await);
            l.sort();
            l
        }
    };
    assert_eq!(
        only("/portal/customers?filter=with-phone").await,
        ["max@example.de", "paul@example.de"]
    );
    assert_eq!(
        only("/portal/customers?filter=without-phone").await,
        ["erika@example.de"]
    );
    assert_eq!(
        only("/portal/customers?filter=app").await,
        ["paul@example.de"]
    );
    assert_eq!(
        only("/portal/customers?filter=no-app").await,
        ["erika@example.de", "max@example.de"]
    );
    assert_eq!(
        only("/portal/customers?filter=sms").await,
        ["max@example.de"]
    );
    assert_eq!(
        only("/portal/customers?q=MUSTER").await,
        ["erika@example.de", "max@example.de"]
    );
    assert_eq!(
        only("/portal/customers?filter=sms&q=erika").await,
        Vec::<String>::new()
    );
    let page = b.get("/portal/customers?filter=sms").await;
    assert!(page.body.contains("1 von 3 Kunden"));
    assert!(page.body.contains("<option value=\"sms\" selected>"));
    let page = b.get("/portal/customers?q=nobody").await;
    assert!(page.body.contains("id=\"customers-empty\""));
    // an unknown filter is "all", not an error
    assert_eq!(only("/portal/customers?filter=%27x").await.len(), 3);
}

#[tokio::test]
async fn a_broker_sets_a_customers_number_which_ends_the_customers_trust() {
    let app = portal().await;
    // Erika has no number; Max has one and a trusted browser
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 30}),
    )
    .await;
    let max = sms_login(&app, "max@example.de").await;
    let trusted = api_get(&app, "/api/v1/users/max@example.de/trusted-browsers").await;
    assert_eq!(trusted["browsers"].as_array().unwrap().len(), 1);

    let b = sms_login(&app, "1000").await;
    let page = b.get("/portal/customers/max@example.de").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // the full number on the edit page
    assert!(page.body.contains("+49 171 2345678"));
    // the full number, readable, in the field as on the page
    assert!(page.body.contains("value=\"+49 171 2345678\""));

    // a landline: the API's reason next to the field, nothing changed
    let r = b
        .post(
            "/portal/customers/max@example.de/phone",
            &[("csrf", &page.csrf()), ("phone", "030 1234567")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"customer-phone-error\""));
    assert!(
        r.body.contains("Das ist keine Mobilfunknummer."),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"030 1234567\""));
    assert!(r.body.contains("aria-invalid=\"true\""));
    let r = b
        .post(
            "/portal/customers/max@example.de/phone",
            &[("csrf", &page.csrf()), ("phone", "12ab")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("keine gültige Telefonnummer"));
    assert_eq!(
        api_user(&app, "max@example.de").await["phone"],
        "+491712345678"
    );
    // without the token: refused, nothing changed
    let r = b
        .post(
            "/portal/customers/max@example.de/phone",
            &[("phone", "0170 7654321")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api_user(&app, "max@example.de").await["phone"],
        "+491712345678"
    );

    // a German number without the country code
    let after = b
        .submit(
            &page,
            "/portal/customers/max@example.de/phone",
            &[("phone", "0170 7654321")],
        )
        .await;
    assert!(
        after
            .body
            .contains("Die Handynummer von Max Mustermann ist jetzt +49 170 7654321."),
        "{}",
        after.body
    );
    assert_eq!(
        api_user(&app, "max@example.de").await["phone"],
        "+491707654321"
    );
    // it shows up in the list (masked) and the customer's trust is gone
    let list = b.get("/portal/customers").await;
    assert!(list.body.contains("+49 ••• 321"));
    let trusted = api_get(&app, "/api/v1/users/max@example.de/trusted-browsers").await;
    assert_eq!(trusted["browsers"].as_array().unwrap().len(), 0);
    // Max's own page says so too
    let own = max.get("/portal/security").await;
    assert!(own.body.contains("id=\"browsers-empty\""));

    // Erika gets her first number
    let page = b.get("/portal/customers/erika@example.de").await;
    assert!(page.body.contains("id=\"customer-no-phone\""));
    let after = b
        .submit(
            &page,
            "/portal/customers/erika@example.de/phone",
            &[("phone", "0160 5555555")],
        )
        .await;
    // the notice and the field write the full number readably
    assert!(
        after.body.contains("ist jetzt +49 160 5555555."),
        "{}",
        after.body
    );
    assert!(after.body.contains("value=\"+49 160 5555555\""));
    assert_eq!(
        api_user(&app, "erika@example.de").await["phone"],
        "+491605555555"
    );

    // removing needs the tick
    let r = b
        .post(
            "/portal/customers/erika@example.de/phone/remove",
            &[("csrf", &after.csrf())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"customer-phone-remove-error\""));
    assert_eq!(
        api_user(&app, "erika@example.de").await["phone"],
        "+491605555555"
    );
    let after = b
        .submit(
            &after,
            "/portal/customers/erika@example.de/phone/remove",
            &[("confirm", "yes")],
        )
        .await;
    assert!(
        after
            .body
            .contains("Die Handynummer von Erika Musterfrau wurde entfernt.")
    );
    assert_eq!(
        api_user(&app, "erika@example.de").await["phone"],
        Value::Null
    );
}

#[tokio::test]
async fn a_broker_cannot_see_or_change_another_brokers_customer() {
    let app = portal().await;
    let b = sms_login(&app, "1000").await;
    let page = b.get("/portal/customers").await;
    let csrf = page.csrf();
    // by editing the URL
    let r = b.get("/portal/customers/lena@example.de").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("Lena"));
    assert!(!r.body.contains("9876543"));
    // by editing the form's target
    for (path, form) in [
        (
            "/portal/customers/lena@example.de/phone",
            vec![("phone", "0170 1111111")],
        ),
        (
            "/portal/customers/lena@example.de/phone/remove",
            vec![("confirm", "yes")],
        ),
        ("/portal/customers/lena@example.de/unlock", vec![]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let r = b.post(path, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        api_user(&app, "lena@example.de").await["phone"],
        "+491769876543"
    );
    // staff of the own broker are not customers: not editable here
    for who in ["1001", "1002", "1000"] {
        let r = b.get(&format!("/portal/customers/{who}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}");
        let r = b
            .post(
                &format!("/portal/customers/{who}/phone"),
                &[("csrf", &csrf), ("phone", "0170 1111111")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}");
    }
    assert_eq!(api_user(&app, "1001").await["phone"], "+4916012345678");
    // an unknown login
    assert_eq!(
        b.get("/portal/customers/nobody@example.de").await.status,
        StatusCode::NOT_FOUND
    );
    // the other broker's bulk change does not reach this broker's customers
    api_put(
        &app,
        "/api/v1/users/max@example.de/interval",
        json!({"days": 5}),
    )
    .await;
    let other = sms_login(&app, "2000").await;
    let page = other.get("/portal/customers").await;
    assert_eq!(listed(&page), vec!["lena@example.de".to_owned()]);
    other
        .submit(
            &page,
            "/portal/customers/interval",
            &[("days", "60"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(api_user(&app, "lena@example.de").await["interval_days"], 60);
    assert_eq!(api_user(&app, "max@example.de").await["interval_days"], 5);
}

#[tokio::test]
async fn an_employee_manages_the_brokers_customers() {
    let app = portal().await;
    let b = sms_login(&app, "1001").await;
    let page = b.get("/portal/customers").await;
    let mut logins = listed(&page);
    logins.sort();
    assert_eq!(
        logins,
        ["erika@example.de", "max@example.de", "paul@example.de"]
    );
    let page = b.get("/portal/customers/erika@example.de").await;
    assert_eq!(page.status, 200);
    let after = b
        .submit(
            &page,
            "/portal/customers/erika@example.de/phone",
            &[("phone", "0151 44444444")],
        )
        .await;
    assert!(after.body.contains("ist jetzt +49 151 44444444"));
    assert_eq!(
        api_user(&app, "erika@example.de").await["phone"],
        "+4915144444444"
    );
    // the audit log names the employee
    let audit = api_get(&app, "/api/v1/users/erika@example.de/audit").await;
    assert_eq!(audit["entries"][0]["actor"], "user:1001");
    // but not the other broker's customers
    assert_eq!(
        b.get("/portal/customers/lena@example.de").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn one_interval_for_all_customers_with_confirmation_and_count() {
    let app = portal().await;
    api_put(
        &app,
        "/api/v1/users/paul@example.de/interval",
        json!({"days": 30}),
    )
    .await;
    let b = sms_login(&app, "1000").await;
    let page = b.get("/portal/customers?filter=sms").await;
    assert!(
        page.body.contains("Ja, für alle 3 Kunden übernehmen"),
        "{}",
        page.body
    );
    assert_eq!(page.count("<option value="), 6 + 91);

    // without the tick: refused, nothing changed
    let r = b
        .post(
            "/portal/customers/interval",
            &[("csrf", &page.csrf()), ("days", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"bulk-interval-error\""));
    assert!(r.body.contains("<option value=\"30\" selected>"));
    // out of range
    let r = b
        .post(
            "/portal/customers/interval",
            &[("csrf", &page.csrf()), ("days", "120"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // without the CSRF token
    let r = b
        .post(
            "/portal/customers/interval",
            &[("days", "30"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for c in ["max@example.de", "erika@example.de"] {
        assert_eq!(api_user(&app, c).await["interval_days"], 0, "{c}");
    }

    let after = b
        .submit(
            &page,
            "/portal/customers/interval",
            &[("days", "30"), ("confirm", "yes")],
        )
        .await;
    assert!(
        after.body.contains(
            "Das 2FA-Intervall „Alle 30 Tage“ gilt jetzt für alle 3 Kunden; geändert bei 2."
        ),
        "{}",
        after.body
    );
    for c in ["max@example.de", "erika@example.de", "paul@example.de"] {
        assert_eq!(api_user(&app, c).await["interval_days"], 30, "{c}");
    }
    // staff keep their own
    assert_eq!(api_user(&app, "1001").await["interval_days"], 0);
    assert_eq!(after.count("Alle 30 Tage</td>"), 3);
}

#[tokio::test]
async fn a_customer_locked_after_not_me_is_unlocked() {
    let app = portal().await;
    lock(&app, "max@example.de", "not_me");
    let b = sms_login(&app, "1000").await;
    let list = b.get("/portal/customers").await;
    assert!(
        list.body
            .contains("data-login=\"max@example.de\" data-enrolled=\"false\" data-locked=\"true\""),
        "{}",
        list.body
    );
    let page = b.get("/portal/customers/max@example.de").await;
    assert!(page.body.contains("id=\"customer-lock\""));
    assert!(
        page.body.contains("mit „Das war ich nicht“ abgelehnt"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Gesperrt seit"));

    let r = b.post("/portal/customers/max@example.de/unlock", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(api_user(&app, "max@example.de").await["push_locked"], true);

    let after = b
        .submit(&page, "/portal/customers/max@example.de/unlock", &[])
        .await;
    assert!(
        after
            .body
            .contains("Die Sperre für Max Mustermann ist aufgehoben.")
    );
    assert!(!after.body.contains("id=\"customer-lock\""));
    assert_eq!(api_user(&app, "max@example.de").await["push_locked"], false);
    let audit = api_get(&app, "/api/v1/users/max@example.de/audit").await;
    assert_eq!(audit["entries"][0]["action"], "push.unlocked");
    assert_eq!(audit["entries"][0]["actor"], "user:1000");
    // Max's own security page names who can lift it
    lock(&app, "max@example.de", "not_me");
    let max = sms_login(&app, "max@example.de").await;
    let own = max.get("/portal/security").await;
    assert!(own.body.contains("id=\"sec-push-locked\""));
    assert!(own.body.contains("bis Ihr Vermittler die Sperre aufhebt"));
    // the other reason reads differently
    lock(&app, "paul@example.de", "denials");
    let page = b.get("/portal/customers/paul@example.de").await;
    assert!(
        page.body
            .contains("Mehrere Anmeldungen wurden kurz hintereinander abgelehnt")
    );
}

// ---------------------------------------------------------------------------
// SMS-Kosten

#[tokio::test]
async fn sms_costs_show_the_ledger_and_the_csv_matches_it() {
    let app = portal().await;
    // T0 is 15.01.2027: four login SMS charged to broker 1000 in Q1 2027
    let _max = sms_login(&app, "max@example.de").await;
    let _paul = sms_login(&app, "paul@example.de").await;
    let _anna = sms_login(&app, "1001").await;
    // and one to the other broker
    let _lena = sms_login(&app, "lena@example.de").await;
    let b = sms_login(&app, "1000").await;

    let page = b.get("/portal/sms-costs").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("1. Quartal 2027 (01.01.2027 – 31.03.2027)"),
        "{}",
        page.body
    );
    assert_eq!(page.count("data-testid=\"sms-row\""), 4);
    assert_eq!(page.count("<td class=\"num\">0,10 €</td>"), 4);
    assert_eq!(page.count("<td class=\"num\">19 %</td>"), 4);
    // names, masked numbers, purpose
    assert!(page.body.contains("Max Mustermann"));
    // the broker's own SMS under the broker's name
    assert!(page.body.contains("Maklerbüro Schmidt<br>"));
    // the employee's SMS under her name, with login and role
    assert!(
        page.body
            .contains("Anna Becker<br><span class=\"muted\">1001 · Mitarbeiter</span>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<td>1001</td>"));
    // the API's short number written as everywhere else in the portal
    assert!(page.body.contains("+49 ••• 678"));
    assert!(!page.body.contains("+49…678"));
    assert!(!page.body.contains("+491712345678"));
    assert!(page.body.contains("Anmeldung"));
    assert!(!page.body.contains("lena@example.de"));
    // totals: 0,40 net, 0,08 VAT (0,076 rounded once), 0,48 gross
    assert!(
        page.body
            .contains("id=\"sms-net-total\" data-testid=\"sms-net-total\">0,40 €")
    );
    assert!(
        page.body
            .contains("id=\"sms-vat-total\" data-testid=\"sms-vat-total\">0,08 €")
    );
    assert!(
        page.body
            .contains("id=\"sms-gross-total\" data-testid=\"sms-gross-total\">0,48 €")
    );
    assert!(
        page.body
            .contains("<option value=\"2027\" selected>2027</option>")
    );
    assert!(
        page.body
            .contains("<option value=\"1\" selected>1. Quartal</option>")
    );
    let statement = api_get(&app, "/api/v1/brokers/1000/sms-statements/2027/Q1").await;
    assert_eq!(statement["count"], 4);
    assert_eq!(statement["gross_total_cents"], 48);
    for line in statement["lines"].as_array().unwrap() {
        assert!(page.body.contains(&format!("data-id=\"{}\"", line["id"])));
    }

    // the CSV: exactly the API's file, named for the download
    let before = &page.body[..page.body.find("id=\"sms-csv\"").unwrap()];
    let href = &before[before.rfind("href=\"").unwrap() + 6..];
    let link = unescape(&href[..href.find('"').unwrap()]);
    assert_eq!(link, "/portal/sms-costs/2027/Q1.csv");
    let r = b
        .http
        .get(format!("{}{link}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"sms-1000-2027-Q1.csv\""
    );
    let got = r.bytes().await.unwrap();
    let want = app
        .rp(
            Method::GET,
            "/api/v1/brokers/1000/sms-statements/2027/Q1.csv",
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got, want);
    let text = String::from_utf8(got.to_vec()).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.matches(";Anmeldung;").count(), 4, "{text}");
    assert!(text.contains("Summe brutto;;;;0,48"), "{text}");

    // another quarter: empty
    let q2 = b.get("/portal/sms-costs?year=2027&quarter=2").await;
    assert_eq!(q2.status, 200);
    assert!(q2.body.contains("id=\"sms-empty\""));
    assert!(q2.body.contains("0,00 €"));
    // a quarter that does not exist: the current one with a sentence
    let bad = b.get("/portal/sms-costs?year=2027&quarter=7").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"sms-error\""));
    assert_eq!(bad.count("data-testid=\"sms-row\""), 4);
    assert_eq!(
        b.get("/portal/sms-costs/2027/Q9.csv").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/portal/sms-costs/2027/Q1.txt").await.status,
        StatusCode::NOT_FOUND
    );

    // English formatting
    b.get("/portal/lang/en?back=/portal/sms-costs").await;
    let en = b.get("/portal/sms-costs").await;
    assert!(
        en.body.contains("Q1 2027 (2027-01-01 – 2027-03-31)"),
        "{}",
        en.body
    );
    assert!(en.body.contains("€0.48"));
}

#[tokio::test]
async fn an_employee_reads_the_brokers_sms_costs_another_broker_does_not() {
    let app = portal().await;
    let _max = sms_login(&app, "max@example.de").await;
    let anna = sms_login(&app, "1001").await;
    let page = anna.get("/portal/sms-costs").await;
    assert_eq!(page.status, 200);
    // Max's SMS and Anna's own
    assert_eq!(page.count("data-testid=\"sms-row\""), 2, "{}", page.body);
    let r = anna.get("/portal/sms-costs/2027/Q1.csv").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"sms-1000-2027-Q1.csv\""
    );
    // broker 2000 sees only their own (none but their own login)
    let other = sms_login(&app, "2000").await;
    let page = other.get("/portal/sms-costs").await;
    assert_eq!(page.count("data-testid=\"sms-row\""), 1);
    assert!(page.body.contains("data-login=\"2000\""));
    assert!(!page.body.contains("Max Mustermann"));
    let csv = other.get("/portal/sms-costs/2027/Q1.csv").await;
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("sms-2000-2027-Q1.csv")
    );
    assert!(!csv.body.contains("max@example.de"));
}
