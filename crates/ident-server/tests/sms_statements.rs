//! The SMS ledger and quarterly statements over HTTP: exact totals in JSON and
//! German CSV, Europe/Berlin quarter bounds, and who may read them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ident_server::admin::{self, UserSpec};
use ident_server::domain::{Cents, LoginName, Role, VatRate};
use ident_server::services::sms;
use ident_server::store::sms::{NewLedgerEntry, Reserved, SmsPurpose, SmsReservation};
use ident_server::store::{NewAuditEntry, User};
use reqwest::Method;
use serde_json::Value;

use common::TestApp;

/// Broker 1000 with employee 1100, sub-broker 1200 and customer 2000;
/// broker 3000 with customer 4000.
fn seed(app: &TestApp) {
    let s = app.state.store.as_ref();
    let now = app.state.now();
    let mk = |login: &str, role, broker: Option<&str>, phone: Option<&str>| {
        let spec = UserSpec {
            login: login.into(),
            name: None,
            role,
            broker: broker.map(str::to_owned),
            phone: phone.map(str::to_owned),
            email: None,
            password: zeroize::Zeroizing::new("demo-passwort".into()),
        };
        admin::create_user(s, &spec, now).unwrap();
    };
    mk("1000", Role::Broker, None, None);
    mk("1100", Role::Employee, Some("1000"), None);
    mk("1200", Role::SubBroker, Some("1000"), None);
    mk("2000", Role::Customer, Some("1000"), Some("0151 12345678"));
    mk("3000", Role::Broker, None, None);
    mk("4000", Role::Customer, Some("3000"), Some("0151 98765543"));
}

fn user(app: &TestApp, login: &str) -> User {
    app.state
        .store
        .user_by_login(&LoginName::parse(login).unwrap())
        .unwrap()
        .unwrap()
}

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

/// Three login SMS to customer 2000, one minute apart, from 2027-01-15 09:00 Berlin.
async fn three_sms(app: &TestApp) {
    let u = user(app, "2000");
    for i in 0..3 {
        let id = format!("txn-{i}");
        txn(app, &id, &u);
        sms::send_login_code(&app.state, &u, &id).await.unwrap();
        app.clock.advance(60);
    }
}

/// A ledger entry for `user` at `at`, written straight through the store.
fn charge(app: &TestApp, user: &User, at: i64) {
    let r = SmsReservation {
        ledger: NewLedgerEntry {
            broker_id: user.billing_broker(),
            user_id: user.id,
            user_login: user.login.to_string(),
            phone_masked: "+49…678".into(),
            purpose: SmsPurpose::Login,
            net: Cents(10),
            vat: VatRate(1900),
        },
        code: None,
        audit: NewAuditEntry {
            actor: "test".into(),
            action: "sms.sent",
            user_id: Some(user.id),
            detail: serde_json::json!({}),
        },
        limit_per_hour: u32::MAX,
    };
    assert!(matches!(
        app.state.store.reserve_sms(&r, at).unwrap(),
        Reserved::Ok(_)
    ));
}

async fn get(
    app: &TestApp,
    path: &str,
    actor: Option<&str>,
    accept: Option<&str>,
) -> reqwest::Response {
    let mut req = app.rp(Method::GET, path);
    if let Some(a) = actor {
        req = req.header("Ident-Actor", a);
    }
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    req.send().await.unwrap()
}

const Q1: &str = "/api/v1/brokers/1000/sms-statements/2027/Q1";

#[tokio::test]
async fn statement_json_has_exact_totals() {
    let app = common::spawn_app().await;
    seed(&app);
    three_sms(&app).await;
    let r = get(&app, Q1, None, None).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["broker"], "1000");
    assert_eq!(s["year"], 2027);
    assert_eq!(s["quarter"], 1);
    assert_eq!(s["currency"], "EUR");
    assert_eq!(s["period"]["from"], "2027-01-01T00:00:00+01:00");
    assert_eq!(s["period"]["to"], "2027-04-01T00:00:00+02:00");
    assert_eq!(s["period"]["time_zone"], "Europe/Berlin");
    assert_eq!(s["count"], 3);
    assert_eq!(
        (s["net_total"].as_str(), s["net_total_cents"].as_i64()),
        (Some("0.30"), Some(30))
    );
    assert_eq!(
        (s["vat_total"].as_str(), s["vat_total_cents"].as_i64()),
        (Some("0.06"), Some(6))
    );
    assert_eq!(
        (s["gross_total"].as_str(), s["gross_total_cents"].as_i64()),
        (Some("0.36"), Some(36))
    );
    assert_eq!(
        s["vat"],
        serde_json::json!([{"rate_bp": 1900, "net_cents": 30, "vat_cents": 6}])
    );
    let lines = s["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["time"], 1_800_000_000);
    assert_eq!(lines[0]["local_time"], "2027-01-15T09:00:00+01:00");
    assert_eq!(lines[0]["user"], "2000");
    assert_eq!(lines[0]["phone"], "+49…678");
    assert_eq!(lines[0]["purpose"], "login");
    assert_eq!(lines[0]["net"], "0.10");
    assert_eq!(lines[2]["local_time"], "2027-01-15T09:02:00+01:00");

    // Other quarters and the other broker have nothing.
    let r = get(
        &app,
        "/api/v1/brokers/1000/sms-statements/2026/Q4",
        None,
        None,
    )
    .await;
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["count"].as_u64(), s["gross_total"].as_str()),
        (Some(0), Some("0.00"))
    );
    let r = get(
        &app,
        "/api/v1/brokers/3000/sms-statements/2027/Q1",
        None,
        None,
    )
    .await;
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["count"], 0);
}

#[tokio::test]
async fn statement_csv_is_german() {
    let app = common::spawn_app().await;
    seed(&app);
    three_sms(&app).await;
    let expected = "\u{feff}Zeitpunkt;Benutzer;Rufnummer;Zweck;Netto EUR\r\n\
        15.01.2027 09:00:00;2000;'+49…678;Anmeldung;0,10\r\n\
        15.01.2027 09:01:00;2000;'+49…678;Anmeldung;0,10\r\n\
        15.01.2027 09:02:00;2000;'+49…678;Anmeldung;0,10\r\n\
        Summe netto (3 SMS);;;;0,30\r\n\
        USt 19 %;;;;0,06\r\n\
        Summe brutto;;;;0,36\r\n";
    for (path, accept) in [
        (format!("{Q1}.csv"), None),
        (Q1.to_owned(), Some("text/csv")),
    ] {
        let r = get(&app, &path, None, accept).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            r.headers()["content-disposition"],
            "attachment; filename=\"sms-1000-2027-Q1.csv\""
        );
        assert_eq!(r.text().await.unwrap(), expected);
    }
}

#[tokio::test]
async fn a_thousand_sms_and_the_berlin_quarter_bound() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    for i in 0..1000 {
        charge(&app, &u, 1_800_000_000 + i);
    }
    // 2027-03-31 22:30 UTC is 2027-04-01 00:30 in Berlin: second quarter.
    charge(&app, &u, 1_806_530_400 + 1_800);
    // 2026-12-31 23:30 UTC is 2027-01-01 00:30 in Berlin: first quarter.
    charge(&app, &u, 1_798_758_000 + 1_800);
    // 2026-12-31 22:59:59 UTC is still 2026 in Berlin: fourth quarter.
    charge(&app, &u, 1_798_758_000 - 1);

    let s: Value = get(&app, Q1, None, None).await.json().await.unwrap();
    assert_eq!(s["count"], 1001);
    assert_eq!(s["lines"][0]["local_time"], "2027-01-01T00:30:00+01:00");
    let s: Value = get(
        &app,
        "/api/v1/brokers/1000/sms-statements/2027/Q2",
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(s["count"], 1);
    assert_eq!(s["lines"][0]["local_time"], "2027-04-01T00:30:00+02:00");
    let s: Value = get(
        &app,
        "/api/v1/brokers/1000/sms-statements/2026/Q4",
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(s["count"], 1);

    // Exactly 1000 SMS: a statement of one day's charges in Q1 via the ledger range.
    let r = get(
        &app,
        &format!(
            "/api/v1/brokers/1000/sms-ledger?from=1800000000&to={}",
            1_800_000_000 + 1000
        ),
        None,
        None,
    )
    .await;
    let l: Value = r.json().await.unwrap();
    assert_eq!(l["entries"].as_array().unwrap().len(), 1000);
    assert_eq!(l["truncated"], false);

    // Q1 has 1001: net 100,10, VAT 19,02 (19.019 rounded), gross 119,12.
    let csv = get(&app, &format!("{Q1}.csv"), None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.ends_with(
            "Summe netto (1001 SMS);;;;100,10\r\nUSt 19 %;;;;19,02\r\nSumme brutto;;;;119,12\r\n"
        ),
        "{}",
        &csv[csv.len() - 120..]
    );
}

#[tokio::test]
async fn exactly_one_thousand() {
    let app = common::spawn_app().await;
    seed(&app);
    let u = user(&app, "2000");
    for i in 0..1000 {
        charge(&app, &u, 1_800_000_000 + i);
    }
    let s: Value = get(&app, Q1, None, None).await.json().await.unwrap();
    assert_eq!(s["count"], 1000);
    assert_eq!(s["net_total"], "100.00");
    assert_eq!(s["vat_total"], "19.00");
    assert_eq!(s["gross_total"], "119.00");
    let csv = get(&app, &format!("{Q1}.csv"), None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.ends_with(
        "Summe netto (1000 SMS);;;;100,00\r\nUSt 19 %;;;;19,00\r\nSumme brutto;;;;119,00\r\n"
    ));
}

#[tokio::test]
async fn only_the_broker_and_its_employees_read_it() {
    let app = common::spawn_app().await;
    seed(&app);
    three_sms(&app).await;
    for (actor, status) in [
        (Some("1000"), 200),
        (Some("1100"), 200),
        (None, 200),
        (Some("3000"), 403),
        (Some("1200"), 403),
        (Some("2000"), 403),
        (Some("4000"), 403),
    ] {
        let r = get(&app, Q1, actor, None).await;
        assert_eq!(r.status(), status, "actor {actor:?}");
        if status == 403 {
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["type"], "urn:ident:problem:forbidden");
        }
        let r = get(&app, "/api/v1/brokers/1000/sms-ledger", actor, None).await;
        assert_eq!(r.status(), status, "ledger, actor {actor:?}");
    }
    let r = get(&app, &format!("{Q1}.csv"), Some("3000"), None).await;
    assert_eq!(r.status(), 403);
    let r = get(&app, Q1, Some("9999"), None).await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "urn:ident:problem:actor-unknown");
    let r = app
        .http
        .get(format!("{}{Q1}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let app = common::spawn_app().await;
    seed(&app);
    for (path, status) in [
        ("/api/v1/brokers/1000/sms-statements/2027/Q5", 400),
        ("/api/v1/brokers/1000/sms-statements/2027/q1", 400),
        ("/api/v1/brokers/1000/sms-statements/1999/Q1", 400),
        ("/api/v1/brokers/1000/sms-statements/20x7/Q1.csv", 400),
        ("/api/v1/brokers/2000/sms-statements/2027/Q1", 404),
        ("/api/v1/brokers/7777/sms-statements/2027/Q1", 404),
        ("/api/v1/brokers/1000/sms-ledger?from=abc", 400),
        ("/api/v1/brokers/1000/sms-ledger?from=10&to=5", 400),
        ("/api/v1/brokers/1000/sms-ledger?since=5", 400),
    ] {
        let r = get(&app, path, None, None).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}

#[tokio::test]
async fn ledger_range_lists_entries() {
    let app = common::spawn_app().await;
    seed(&app);
    three_sms(&app).await;
    let enrollment_user = user(&app, "4000");
    sms::send_enrollment_code(&app.state, &enrollment_user, "dev-1")
        .await
        .unwrap();
    let l: Value = get(
        &app,
        "/api/v1/brokers/1000/sms-ledger?from=1800000060",
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let entries = l["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["time"], 1_800_000_060);
    assert_eq!(l["from"], 1_800_000_060);
    let l: Value = get(&app, "/api/v1/brokers/3000/sms-ledger", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(l["entries"][0]["purpose"], "enrollment");
    assert_eq!(l["entries"][0]["phone"], "+49…543");
}
