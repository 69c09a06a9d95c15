//! The relying-party user API over HTTP against a real server: creating
//! users, mobile numbers, 2FA intervals, customer lists, push unlocks, the
//! audit log and the password check — and every role boundary of
//! `services/authz.rs` as the portal sees it (`Ident-Actor`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

const A: &str = "1000"; // broker A
const EA: &str = "1001"; // employee of A
const SA: &str = "1002"; // sub-broker of A
const CA: &str = "anna.kunde@example.de"; // customer of A, with phone
const CA2: &str = "bernd.kunde@example.de"; // customer of A, without phone
const B: &str = "2000"; // broker B
const EB: &str = "2001"; // employee of B
const CB: &str = "clara.kunde@example.de"; // customer of B, with phone
const PASSWORD: &str = "geheim-genug";

/// Sends a relying-party call, acting for `actor` when given.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    actor: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = app.rp(method, path);
    if let Some(a) = actor {
        req = req.header("Ident-Actor", a);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, headers)
}

/// Asserts a problem+json refusal with `status` and `slug`; returns the detail.
#[track_caller]
fn problem(got: &(u16, Value, reqwest::header::HeaderMap), status: u16, slug: &str) -> String {
    assert_eq!(got.0, status, "{:?}", got.1);
    assert_eq!(got.2["content-type"], "application/problem+json");
    assert_eq!(
        got.1["type"],
        format!("urn:ident:problem:{slug}"),
        "{:?}",
        got.1
    );
    assert_eq!(got.1["status"], status);
    got.1["detail"].as_str().unwrap_or_default().to_owned()
}

async fn create(app: &TestApp, body: Value) {
    let got = call(app, Method::POST, "/api/v1/users", None, Some(body)).await;
    assert_eq!(got.0, 201, "{:?}", got.1);
}

/// Two brokers with staff and customers, made through the API (admin context).
async fn setup() -> TestApp {
    let app = common::spawn_app().await;
    let users = [
        json!({"login": A, "display_name": "Maklerbüro Schmidt", "role": "broker", "password": PASSWORD, "phone": "0151 11111111"}),
        json!({"login": EA, "role": "employee", "broker": A, "password": PASSWORD}),
        json!({"login": SA, "role": "sub_broker", "broker": A, "password": PASSWORD}),
        json!({"login": CA, "role": "customer", "broker": A, "password": PASSWORD, "phone": "0151 22222222"}),
        json!({"login": CA2, "role": "customer", "broker": A, "password": PASSWORD}),
        json!({"login": B, "role": "broker", "password": PASSWORD}),
        json!({"login": EB, "role": "employee", "broker": B, "password": PASSWORD}),
        json!({"login": CB, "role": "customer", "broker": B, "password": PASSWORD, "phone": "0151 33333333"}),
    ];
    for u in users {
        create(&app, u).await;
    }
    app
}

async fn user(app: &TestApp, login: &str) -> Value {
    let got = call(
        app,
        Method::GET,
        &format!("/api/v1/users/{login}"),
        None,
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    got.1
}

async fn set_phone(
    app: &TestApp,
    actor: Option<&str>,
    target: &str,
    phone: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::PUT,
        &format!("/api/v1/users/{target}/phone"),
        actor,
        Some(json!({"phone": phone})),
    )
    .await
}

async fn set_interval(
    app: &TestApp,
    actor: Option<&str>,
    target: &str,
    days: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::PUT,
        &format!("/api/v1/users/{target}/interval"),
        actor,
        Some(json!({"days": days})),
    )
    .await
}

async fn audit(app: &TestApp, login: &str) -> Vec<Value> {
    let got = call(
        app,
        Method::GET,
        &format!("/api/v1/users/{login}/audit"),
        None,
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    got.1["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn create_user_normalises_and_refuses_bad_input_by_field() {
    let app = setup().await;
    let u = user(&app, CA).await;
    assert_eq!(u["phone"], "+4915122222222");
    assert_eq!(u["broker"], A);
    assert_eq!(u["role"], "customer");
    assert_eq!(u["interval_days"], 0);
    assert_eq!(u["enrolled"], false);
    assert_eq!(u["push_locked"], false);
    assert!(u.get("password_hash").is_none() && u.get("password").is_none());

    let base = json!({"login": "3000", "role": "customer", "broker": A, "password": PASSWORD});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (without("login"), "login"),
        (without("password"), "password"),
        (without("role"), "role"),
        (without("broker"), "broker"),
        (with("login", json!("kein login")), "login"),
        (with("role", json!("admin")), "role"),
        (with("broker", json!("9999")), "broker"),
        (with("broker", json!(CA)), "broker"),
        (with("phone", json!("030 12345678")), "phone"),
        (with("phone", json!("0151")), "phone"),
        (with("email", json!("kein-mail")), "email"),
        (with("password", json!("kurz")), "password"),
        (with("password", json!(12345678)), "password"),
        (with("surprise", json!(1)), "body"),
        (
            json!({"login": "3001", "role": "broker", "broker": A, "password": PASSWORD}),
            "broker",
        ),
    ];
    for (body, field) in cases {
        let got = call(
            &app,
            Method::POST,
            "/api/v1/users",
            None,
            Some(body.clone()),
        )
        .await;
        let detail = problem(&got, 422, "validation-failed");
        assert!(
            detail.starts_with(&format!("`{field}`")),
            "{body}: {detail}"
        );
        assert!(
            !detail.contains("kurz") && !detail.contains("12345678"),
            "{detail}"
        );
    }
    // nothing was created
    let got = call(&app, Method::GET, "/api/v1/users/3000", None, None).await;
    problem(&got, 404, "not-found");

    let got = call(
        &app,
        Method::POST,
        "/api/v1/users",
        None,
        Some(with("login", json!(CA.to_uppercase()))),
    )
    .await;
    problem(&got, 409, "login-taken");

    let got = app
        .rp(Method::POST, "/api/v1/users")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 400);
}

#[tokio::test]
async fn creating_users_follows_the_roles() {
    let app = setup().await;
    let new = |login: &str, role: &str, broker: Option<&str>| json!({"login": login, "role": role, "broker": broker, "password": PASSWORD});
    let cases = [
        (A, new("4000", "customer", Some(A)), 201),
        (A, new("4001", "employee", Some(A)), 201),
        (A, new("4002", "sub_broker", Some(A)), 201),
        (A, new("4003", "customer", Some(B)), 403),
        (A, new("4004", "broker", None), 403),
        (EA, new("4005", "customer", Some(A)), 201),
        (EA, new("4006", "employee", Some(A)), 403),
        (EA, new("4007", "customer", Some(B)), 403),
        (SA, new("4008", "customer", Some(A)), 403),
        (CA, new("4009", "customer", Some(A)), 403),
    ];
    for (actor, body, status) in cases {
        let got = call(
            &app,
            Method::POST,
            "/api/v1/users",
            Some(actor),
            Some(body.clone()),
        )
        .await;
        if status == 201 {
            assert_eq!(got.0, 201, "{actor} {body}: {:?}", got.1);
        } else {
            problem(&got, status, "forbidden");
            let login = body["login"].as_str().unwrap();
            let got = call(
                &app,
                Method::GET,
                &format!("/api/v1/users/{login}"),
                None,
                None,
            )
            .await;
            assert_eq!(got.0, 404, "{login} must not exist");
        }
    }
    let created = audit(&app, "4000").await;
    assert_eq!(created[0]["action"], "user.created");
    assert_eq!(created[0]["actor"], format!("user:{A}"));
    assert_eq!(created[0]["detail"]["via"], "test-portal");
}

#[tokio::test]
async fn api_key_and_actor_are_required_and_checked() {
    let app = setup().await;
    let paths = [
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::GET, format!("/api/v1/users/{CA}")),
        (Method::PUT, format!("/api/v1/users/{CA}/phone")),
        (Method::DELETE, format!("/api/v1/users/{CA}/phone")),
        (Method::PUT, format!("/api/v1/users/{CA}/interval")),
        (Method::POST, format!("/api/v1/users/{CA}/push-unlock")),
        (Method::GET, format!("/api/v1/users/{CA}/audit")),
        (Method::GET, format!("/api/v1/brokers/{A}/customers")),
        (
            Method::PUT,
            format!("/api/v1/brokers/{A}/customers/interval"),
        ),
        (Method::POST, "/api/v1/login/password".to_owned()),
        (Method::GET, "/api/v1/openapi.json".to_owned()),
    ];
    for (method, path) in &paths {
        let resp = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .header("Ident-Actor", A)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body: Value = resp.json().await.unwrap();
        problem(&(status, body, headers), 401, "api-key-invalid");
        let resp = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .bearer_auth("ik_not-a-real-key")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
    }
    for bad_actor in ["9999", "kein login", ""] {
        let got = call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA}"),
            Some(bad_actor),
            None,
        )
        .await;
        problem(&got, 403, "actor-unknown");
    }
    let got = call(&app, Method::GET, "/api/v1/users/9999", None, None).await;
    problem(&got, 404, "not-found");
}

#[tokio::test]
async fn a_customer_cannot_set_or_remove_their_own_phone() {
    let app = setup().await;
    let got = set_phone(&app, Some(CA), CA, "0151 99999999").await;
    let detail = problem(&got, 403, "forbidden");
    assert!(detail.contains("broker"), "{detail}");
    assert!(!detail.contains("99999999"));
    let got = set_phone(&app, Some(CA2), CA2, "0151 99999999").await;
    problem(&got, 403, "forbidden");
    let got = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{CA}/phone"),
        Some(CA),
        None,
    )
    .await;
    problem(&got, 403, "forbidden");
    assert_eq!(user(&app, CA).await["phone"], "+4915122222222");
    assert_eq!(user(&app, CA2).await["phone"], Value::Null);
    assert!(
        audit(&app, CA)
            .await
            .iter()
            .all(|e| e["action"] != "phone.changed")
    );
}

#[tokio::test]
async fn the_broker_and_employees_set_a_customers_phone_and_it_is_audited_masked() {
    let app = setup().await;
    let got = set_phone(&app, Some(A), CA2, "+49 (0)160 1234 5678").await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["phone"], "+4916012345678");
    let got = set_phone(&app, Some(EA), CA2, "0171 2345678").await;
    assert_eq!(got.1["phone"], "+491712345678");
    // the same number again changes nothing and is not audited again
    let got = set_phone(&app, Some(EA), CA2, "+491712345678").await;
    assert_eq!(got.0, 200);
    let got = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{CA2}/phone"),
        Some(EA),
        None,
    )
    .await;
    assert_eq!(got.0, 200);
    assert_eq!(got.1["phone"], Value::Null);

    let entries = audit(&app, CA2).await;
    let phones: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "phone.changed")
        .collect();
    assert_eq!(phones.len(), 3, "{entries:?}");
    // newest first: removal by the employee, change by the employee, first set by the broker
    assert_eq!(phones[0]["detail"]["from"], "+49…678");
    assert_eq!(phones[0]["detail"]["to"], Value::Null);
    assert_eq!(phones[1]["actor"], format!("user:{EA}"));
    assert_eq!(phones[2]["actor"], format!("user:{A}"));
    assert_eq!(phones[2]["detail"]["from"], Value::Null);
    assert_eq!(phones[2]["detail"]["to"], "+49…678");
    let all = serde_json::to_string(&entries).unwrap();
    assert!(
        !all.contains("12345678") && !all.contains("2345678"),
        "full number in audit: {all}"
    );

    // staff set their own numbers
    assert_eq!(set_phone(&app, Some(EA), EA, "0151 44444444").await.0, 200);
    assert_eq!(set_phone(&app, Some(SA), SA, "0151 55555555").await.0, 200);
    assert_eq!(set_phone(&app, Some(A), A, "0151 66666666").await.0, 200);
    // the broker sets the staff's numbers; an employee does not set another's
    assert_eq!(set_phone(&app, Some(A), SA, "0151 77777777").await.0, 200);
    problem(
        &set_phone(&app, Some(EA), SA, "0151 88888888").await,
        403,
        "forbidden",
    );

    // bad numbers: 422 naming the field, nothing changed
    for bad in ["030 12345678", "abc", ""] {
        let got = set_phone(&app, Some(A), CA, bad).await;
        let detail = problem(&got, 422, "validation-failed");
        assert!(detail.starts_with("`phone`"), "{detail}");
    }
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/users/{CA}/phone"),
        Some(A),
        Some(json!({})),
    )
    .await;
    problem(&got, 422, "validation-failed");
    assert_eq!(user(&app, CA).await["phone"], "+4915122222222");
}

#[tokio::test]
async fn nobody_touches_another_brokers_customers() {
    let app = setup().await;
    for actor in [A, EA, SA, CA] {
        problem(
            &set_phone(&app, Some(actor), CB, "0151 12121212").await,
            403,
            "forbidden",
        );
        problem(
            &set_interval(&app, Some(actor), CB, json!(7)).await,
            403,
            "forbidden",
        );
        for (method, path) in [
            (Method::GET, format!("/api/v1/users/{CB}")),
            (Method::GET, format!("/api/v1/users/{CB}/audit")),
            (Method::POST, format!("/api/v1/users/{CB}/push-unlock")),
            (Method::DELETE, format!("/api/v1/users/{CB}/phone")),
            (Method::GET, format!("/api/v1/brokers/{B}/customers")),
        ] {
            let got = call(&app, method, &path, Some(actor), None).await;
            problem(&got, 403, "forbidden");
        }
        let got = call(
            &app,
            Method::PUT,
            &format!("/api/v1/brokers/{B}/customers/interval"),
            Some(actor),
            Some(json!({"days": 9})),
        )
        .await;
        problem(&got, 403, "forbidden");
    }
    // and B's side cannot touch A's
    problem(
        &set_phone(&app, Some(EB), CA, "0151 12121212").await,
        403,
        "forbidden",
    );
    problem(
        &set_phone(&app, Some(B), CA, "0151 12121212").await,
        403,
        "forbidden",
    );
    let cb = user(&app, CB).await;
    assert_eq!(cb["phone"], "+4915133333333");
    assert_eq!(cb["interval_days"], 0);
    // B's employee does manage B's customers
    assert_eq!(set_phone(&app, Some(EB), CB, "0151 12121212").await.0, 200);
}

#[tokio::test]
async fn a_sub_broker_does_not_manage_the_brokers_customers() {
    let app = setup().await;
    problem(
        &set_phone(&app, Some(SA), CA, "0151 12121212").await,
        403,
        "forbidden",
    );
    problem(
        &set_phone(&app, Some(SA), CA2, "0151 12121212").await,
        403,
        "forbidden",
    );
    problem(
        &set_interval(&app, Some(SA), CA, json!(5)).await,
        403,
        "forbidden",
    );
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/brokers/{A}/customers"),
        Some(SA),
        None,
    )
    .await;
    problem(&got, 403, "forbidden");
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(SA),
        Some(json!({"days": 5})),
    )
    .await;
    problem(&got, 403, "forbidden");
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{CA}"),
        Some(SA),
        None,
    )
    .await;
    problem(&got, 403, "forbidden");
    // but manages their own settings
    assert_eq!(
        set_interval(&app, Some(SA), SA, json!(14)).await.1["interval_days"],
        14
    );
    assert_eq!(
        call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{SA}"),
            Some(SA),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn a_customer_sets_their_own_interval_but_nobody_elses() {
    let app = setup().await;
    let got = set_interval(&app, Some(CA), CA, json!(30)).await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["interval_days"], 30);
    problem(
        &set_interval(&app, Some(CA), CA2, json!(30)).await,
        403,
        "forbidden",
    );
    problem(
        &set_interval(&app, Some(CA), A, json!(30)).await,
        403,
        "forbidden",
    );
    assert_eq!(user(&app, CA2).await["interval_days"], 0);
    // the broker and its employee may set it for a customer
    assert_eq!(
        set_interval(&app, Some(EA), CA2, json!(90)).await.1["interval_days"],
        90
    );
    assert_eq!(
        set_interval(&app, Some(A), CA2, json!(0)).await.1["interval_days"],
        0
    );

    for bad in [json!(91), json!(-1), json!("30"), json!(1.5), Value::Null] {
        let got = set_interval(&app, Some(CA), CA, bad.clone()).await;
        let detail = problem(&got, 422, "validation-failed");
        assert!(detail.starts_with("`days`"), "{bad}: {detail}");
    }
    assert_eq!(user(&app, CA).await["interval_days"], 30);
    let entries = audit(&app, CA).await;
    let e = entries
        .iter()
        .find(|e| e["action"] == "interval.changed")
        .unwrap();
    assert_eq!(e["detail"]["from"], 0);
    assert_eq!(e["detail"]["to"], 30);
    assert_eq!(e["actor"], format!("user:{CA}"));
}

#[tokio::test]
async fn a_broker_sets_the_interval_of_exactly_their_customers() {
    let app = setup().await;
    set_interval(&app, Some(CA), CA, json!(14)).await;
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(A),
        Some(json!({"days": 14})),
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["changed"], 1, "CA already had 14 days");
    assert_eq!(got.1["interval_days"], 14);
    assert_eq!(user(&app, CA).await["interval_days"], 14);
    assert_eq!(user(&app, CA2).await["interval_days"], 14);
    // not B's customers, not A's staff, not A
    assert_eq!(user(&app, CB).await["interval_days"], 0);
    for staff in [A, EA, SA] {
        assert_eq!(user(&app, staff).await["interval_days"], 0, "{staff}");
    }
    let entries = audit(&app, CA2).await;
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "interval.changed" && e["detail"]["bulk"] == true)
    );
    assert!(
        audit(&app, CB)
            .await
            .iter()
            .all(|e| e["action"] != "interval.changed")
    );

    // the employee may do it too; again with the same value changes nothing
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(EA),
        Some(json!({"days": 14})),
    )
    .await;
    assert_eq!(got.1["changed"], 0);
    // customers may not
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(CA),
        Some(json!({"days": 1})),
    )
    .await;
    problem(&got, 403, "forbidden");
    // bad input, unknown broker, not a broker
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(A),
        Some(json!({"days": 100})),
    )
    .await;
    problem(&got, 422, "validation-failed");
    let got = call(
        &app,
        Method::PUT,
        "/api/v1/brokers/9999/customers/interval",
        None,
        Some(json!({"days": 1})),
    )
    .await;
    problem(&got, 404, "not-found");
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{EA}/customers/interval"),
        None,
        Some(json!({"days": 1})),
    )
    .await;
    problem(&got, 404, "not-found");
    assert_eq!(user(&app, CA).await["interval_days"], 14);
}

/// Marks `login` as having an active device, straight in the database (the
/// device API belongs to another module).
fn enroll(app: &TestApp, id: i64, status: &str) {
    let conn = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    conn.execute(
        "INSERT INTO devices (id, user_id, jwk, name, platform, status, created_at)
         VALUES (?1, ?2, '{}', 'Test', 'android', ?3, 0)",
        rusqlite::params![format!("dev-{id}-{status}"), id, status],
    )
    .unwrap();
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    let login = ident_server::domain::LoginName::parse(login).unwrap();
    app.state.store.user_by_login(&login).unwrap().unwrap().id.0
}

#[tokio::test]
async fn brokers_filter_their_customers_by_phone_and_enrollment() {
    let app = setup().await;
    // CA enrolled; CA2 only has a device waiting for its SMS confirmation
    enroll(&app, user_id(&app, CA).await, "active");
    enroll(&app, user_id(&app, CA2).await, "pending_sms");
    let list = |q: &'static str, actor: &'static str| {
        let app = &app;
        async move {
            let got = call(
                app,
                Method::GET,
                &format!("/api/v1/brokers/{A}/customers{q}"),
                Some(actor),
                None,
            )
            .await;
            assert_eq!(got.0, 200, "{q}: {:?}", got.1);
            let logins: Vec<String> = got.1["customers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["login"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(got.1["count"], logins.len());
            logins
        }
    };
    assert_eq!(list("", A).await, [CA, CA2]);
    assert_eq!(list("?phone=with", A).await, [CA]);
    assert_eq!(list("?phone=without", EA).await, [CA2]);
    assert_eq!(list("?enrolled=yes", A).await, [CA]);
    assert_eq!(list("?enrolled=no", A).await, [CA2]);
    assert_eq!(
        list("?phone=with&enrolled=no", A).await,
        Vec::<String>::new()
    );
    assert_eq!(list("?phone=without&enrolled=no", A).await, [CA2]);
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/brokers/{A}/customers?phone=with"),
        None,
        None,
    )
    .await;
    assert_eq!(got.1["customers"][0]["enrolled"], true);
    assert_eq!(user(&app, CA).await["enrolled"], true);

    for (q, field) in [
        ("?phone=maybe", "phone"),
        ("?enrolled=1", "enrolled"),
        ("?sort=login", "query"),
    ] {
        let got = call(
            &app,
            Method::GET,
            &format!("/api/v1/brokers/{A}/customers{q}"),
            Some(A),
            None,
        )
        .await;
        let detail = problem(&got, 422, "validation-failed");
        assert!(detail.starts_with(&format!("`{field}`")), "{detail}");
    }
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/brokers/{CA}/customers"),
        None,
        None,
    )
    .await;
    problem(&got, 404, "not-found");
}

#[tokio::test]
async fn push_unlock_is_for_the_broker_side_not_the_locked_user() {
    let app = setup().await;
    let ca = ident_server::store::UserId(user_id(&app, CA).await);
    app.state
        .store
        .lock_push(ca, "not_me", 1_800_000_000)
        .unwrap();
    assert_eq!(user(&app, CA).await["push_locked"], true);
    assert_eq!(user(&app, CA).await["push_lock_reason"], "not_me");

    for actor in [CA, CA2, SA, B, EB] {
        let got = call(
            &app,
            Method::POST,
            &format!("/api/v1/users/{CA}/push-unlock"),
            Some(actor),
            None,
        )
        .await;
        problem(&got, 403, "forbidden");
    }
    assert_eq!(user(&app, CA).await["push_locked"], true);
    let got = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{CA}/push-unlock"),
        Some(EA),
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["push_locked"], false);
    assert_eq!(got.1["push_lock_reason"], Value::Null);
    // again: nothing to do, still 200, audited once
    let got = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{CA}/push-unlock"),
        Some(A),
        None,
    )
    .await;
    assert_eq!(got.0, 200);
    let unlocks: Vec<Value> = audit(&app, CA)
        .await
        .into_iter()
        .filter(|e| e["action"] == "push.unlocked")
        .collect();
    assert_eq!(unlocks.len(), 1);
    assert_eq!(unlocks[0]["actor"], format!("user:{EA}"));
    assert_eq!(unlocks[0]["detail"]["reason"], "not_me");
    // the admin context may unlock anybody
    app.state
        .store
        .lock_push(ca, "denials", 1_800_000_001)
        .unwrap();
    let got = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{CA}/push-unlock"),
        None,
        None,
    )
    .await;
    assert_eq!(got.1["push_locked"], false);
    assert_eq!(audit(&app, CA).await[0]["actor"], "api-key:test-portal");
}

#[tokio::test]
async fn the_audit_log_is_for_the_user_and_the_broker_side() {
    let app = setup().await;
    set_interval(&app, Some(CA), CA, json!(3)).await;
    set_interval(&app, Some(CA), CA, json!(4)).await;
    for actor in [CA, A, EA] {
        let got = call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA}/audit"),
            Some(actor),
            None,
        )
        .await;
        assert_eq!(got.0, 200, "{actor}");
        assert_eq!(got.1["entries"][0]["action"], "interval.changed");
        assert_eq!(got.1["entries"][0]["detail"]["to"], 4);
    }
    for actor in [CA2, SA, B, EB, CB] {
        let got = call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA}/audit"),
            Some(actor),
            None,
        )
        .await;
        problem(&got, 403, "forbidden");
    }
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/users/{CA}/audit?limit=1"),
        None,
        None,
    )
    .await;
    assert_eq!(got.1["entries"].as_array().unwrap().len(), 1);
    for bad in ["?limit=0", "?limit=501", "?limit=x", "?since=1"] {
        let got = call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA}/audit{bad}"),
            None,
            None,
        )
        .await;
        problem(&got, 422, "validation-failed");
    }
    // no secrets: no password, no full phone number anywhere in the log
    let all = serde_json::to_string(&audit(&app, CA).await).unwrap();
    assert!(
        !all.contains(PASSWORD) && !all.contains("22222222") && !all.contains("argon2"),
        "{all}"
    );
}

async fn login(
    app: &TestApp,
    login: &str,
    password: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::POST,
        "/api/v1/login/password",
        None,
        Some(json!({"login": login, "password": password})),
    )
    .await
}

#[tokio::test]
async fn password_check_answers_alike_and_limits_wrong_tries() {
    let app = setup().await;
    let got = login(&app, &CA.to_uppercase(), PASSWORD).await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["user"]["login"], CA);
    assert_eq!(got.1["user"]["role"], "customer");

    let wrong = login(&app, CA, "falsches-passwort").await;
    let unknown = login(&app, "niemand@example.de", PASSWORD).await;
    problem(&wrong, 401, "credentials-invalid");
    problem(&unknown, 401, "credentials-invalid");
    assert_eq!(
        wrong.1, unknown.1,
        "the same answer whether or not the login exists"
    );

    let got = call(
        &app,
        Method::POST,
        "/api/v1/login/password",
        None,
        Some(json!({"login": CA})),
    )
    .await;
    problem(&got, 422, "validation-failed");
    let got = login(&app, "kein login", PASSWORD).await;
    problem(&got, 422, "validation-failed");

    // 5 wrong passwords in 15 minutes (1 above + 4), then even the right one is refused
    for _ in 0..4 {
        problem(
            &login(&app, CA, "falsches-passwort").await,
            401,
            "credentials-invalid",
        );
    }
    let got = login(&app, CA, PASSWORD).await;
    problem(&got, 429, "too-many-attempts");
    let retry: i64 = got.2["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // other logins are not affected
    assert_eq!(login(&app, CA2, PASSWORD).await.0, 200);
    // unknown logins are limited the same way (no telling them apart)
    for _ in 0..4 {
        problem(
            &login(&app, "niemand@example.de", PASSWORD).await,
            401,
            "credentials-invalid",
        );
    }
    problem(
        &login(&app, "niemand@example.de", PASSWORD).await,
        429,
        "too-many-attempts",
    );

    // after the window the right password works again and clears the count
    app.clock.advance(15 * 60 + 1);
    assert_eq!(login(&app, CA, PASSWORD).await.0, 200);
    for _ in 0..4 {
        login(&app, CA, "falsches-passwort").await;
    }
    assert_eq!(
        login(&app, CA, PASSWORD).await.0,
        200,
        "a success resets the count"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_user_api() {
    let app = setup().await;
    let got = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(got.0, 200);
    let doc = got.1;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let put_phone = &doc["paths"]["/api/v1/users/{login}/phone"]["put"];
    assert!(put_phone["responses"]["403"].is_object());
    assert!(put_phone["responses"]["422"]["content"]["application/problem+json"].is_object());
    assert!(doc["paths"]["/api/v1/login/password"]["post"]["responses"]["429"].is_object());
    let params = doc["paths"]["/api/v1/brokers/{login}/customers"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    for n in ["login", "phone", "enrolled", "Ident-Actor"] {
        assert!(names.contains(&n), "{names:?}");
    }
}

#[tokio::test]
async fn the_openapi_document_covers_every_relying_party_route() {
    let app = setup().await;
    let (status, doc, _) = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    // Every route under /api/v1 but the document itself (routes/rp_*.rs).
    let routes = [
        ("post", "/api/v1/auth"),
        ("get", "/api/v1/auth/{txn}"),
        ("delete", "/api/v1/auth/{txn}"),
        ("post", "/api/v1/auth/{txn}/sms"),
        ("post", "/api/v1/users/{login}/enrollments"),
        ("get", "/api/v1/enrollments/{id}"),
        ("get", "/api/v1/enrollments/{id}/qr.svg"),
        ("get", "/api/v1/enrollments/{id}/qr.png"),
        ("get", "/api/v1/users/{login}/devices"),
        ("delete", "/api/v1/users/{login}/devices/{id}"),
        (
            "get",
            "/api/v1/brokers/{login}/sms-statements/{year}/{quarter}",
        ),
        ("get", "/api/v1/brokers/{login}/sms-ledger"),
        ("get", "/api/v1/users/{login}/trusted-browsers"),
        ("delete", "/api/v1/users/{login}/trusted-browsers"),
        ("delete", "/api/v1/users/{login}/trusted-browsers/{id}"),
        ("post", "/api/v1/users"),
        ("get", "/api/v1/users/{login}"),
        ("patch", "/api/v1/users/{login}"),
        ("delete", "/api/v1/users/{login}"),
        ("put", "/api/v1/users/{login}/password"),
        ("put", "/api/v1/users/{login}/phone"),
        ("delete", "/api/v1/users/{login}/phone"),
        ("put", "/api/v1/users/{login}/interval"),
        ("post", "/api/v1/users/{login}/push-unlock"),
        ("get", "/api/v1/users/{login}/audit"),
        ("get", "/api/v1/brokers/{login}/customers"),
        ("put", "/api/v1/brokers/{login}/customers/interval"),
        ("post", "/api/v1/login/password"),
    ];
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        assert!(op["responses"].is_object(), "{method} {path}: no responses");
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        routes.len(),
        "a documented path that is not routed"
    );
    let ledger = &doc["paths"]["/api/v1/brokers/{login}/sms-ledger"]["get"];
    assert!(ledger["responses"]["403"]["content"]["application/problem+json"].is_object());
}

/// Adds an unrevoked trusted browser for user `id`, straight in the database
/// (trusted browsers are issued by the auth module).
fn trust(app: &TestApp, id: i64, jti: &str) {
    let conn = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    conn.execute(
        "INSERT INTO trusted_browsers (id, user_id, user_agent, ip, created_at, expires_at)
         VALUES (?1, ?2, 'Firefox', '192.0.2.1', 0, 4000000000)",
        rusqlite::params![jti, id],
    )
    .unwrap();
}

fn trusted(app: &TestApp, jti: &str) -> bool {
    let conn = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    conn.query_row(
        "SELECT revoked_at IS NULL FROM trusted_browsers WHERE id = ?1",
        [jti],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test]
async fn phone_and_interval_changes_revoke_trusted_browsers_refusals_do_not() {
    let app = setup().await;
    let (ca, ca2, cb) = (
        user_id(&app, CA).await,
        user_id(&app, CA2).await,
        user_id(&app, CB).await,
    );
    trust(&app, ca, "t-ca");
    trust(&app, ca2, "t-ca2");
    trust(&app, cb, "t-cb");
    // refused or unchanged: nothing revoked
    problem(
        &set_phone(&app, Some(CA), CA, "0151 99999999").await,
        403,
        "forbidden",
    );
    problem(
        &set_interval(&app, Some(CA), CA, json!(91)).await,
        422,
        "validation-failed",
    );
    assert_eq!(set_phone(&app, Some(A), CA, "0151 22222222").await.0, 200);
    assert_eq!(set_interval(&app, Some(CA), CA, json!(0)).await.0, 200);
    assert!(trusted(&app, "t-ca"));
    // a real phone change revokes
    assert_eq!(set_phone(&app, Some(A), CA, "0151 23232323").await.0, 200);
    assert!(!trusted(&app, "t-ca"));
    // a bulk interval change revokes A's changed customers only
    let got = call(
        &app,
        Method::PUT,
        &format!("/api/v1/brokers/{A}/customers/interval"),
        Some(A),
        Some(json!({"days": 7})),
    )
    .await;
    assert_eq!(got.1["changed"], 2);
    assert!(!trusted(&app, "t-ca2"));
    assert!(trusted(&app, "t-cb"));
    // a single interval change revokes
    assert_eq!(set_interval(&app, Some(CB), CB, json!(7)).await.0, 200);
    assert!(!trusted(&app, "t-cb"));
}

async fn patch(
    app: &TestApp,
    actor: Option<&str>,
    target: &str,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::PATCH,
        &format!("/api/v1/users/{target}"),
        actor,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn users_edit_names_and_addresses_and_only_brokers_change_roles() {
    let app = setup().await;
    // The customer edits their own name and address; the audit names the fields only.
    let got = patch(
        &app,
        Some(CA),
        CA,
        json!({"display_name": "  Anna Kunde ", "email": "Anna@Example.DE"}),
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["display_name"], "Anna Kunde");
    assert_eq!(got.1["email"], "anna@example.de");
    let entry = &audit(&app, CA).await[0];
    assert_eq!(entry["action"], "user.updated");
    assert_eq!(entry["actor"], format!("user:{CA}"));
    assert_eq!(entry["detail"]["fields"], json!(["display_name", "email"]));
    assert!(!entry.to_string().contains("anna@example.de"), "{entry}");
    // The same again changes (and audits) nothing.
    assert_eq!(
        patch(&app, Some(CA), CA, json!({"display_name": "Anna Kunde"}))
            .await
            .0,
        200
    );
    assert_eq!(audit(&app, CA).await.len(), 2, "created + one update");
    // An employee of the broker removes the address; null resets the name.
    let got = patch(
        &app,
        Some(EA),
        CA,
        json!({"email": null, "display_name": null}),
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["email"], Value::Null);
    assert_eq!(got.1["display_name"], CA);

    // Refusals change nothing.
    let before = user(&app, CA).await;
    let refusals = [
        (Some(CB), CA, json!({"display_name": "X"}), 403, "forbidden"),
        (
            Some(EB),
            CA,
            json!({"email": "x@example.de"}),
            403,
            "forbidden",
        ),
        (Some(SA), CA, json!({"display_name": "X"}), 403, "forbidden"),
        (Some(EA), CA, json!({"role": "employee"}), 403, "forbidden"),
        (Some(CA), CA, json!({"role": "employee"}), 403, "forbidden"),
        (Some(B), CA, json!({"role": "sub_broker"}), 403, "forbidden"),
        (None, CA, json!({"role": "broker"}), 403, "forbidden"),
        (None, A, json!({"role": "customer"}), 403, "forbidden"),
        (None, CA, json!({}), 422, "validation-failed"),
        (
            None,
            CA,
            json!({"email": "keine-adresse"}),
            422,
            "validation-failed",
        ),
        (
            None,
            CA,
            json!({"display_name": 5}),
            422,
            "validation-failed",
        ),
        (
            None,
            CA,
            json!({"display_name": "A\u{7}"}),
            422,
            "validation-failed",
        ),
        (None, CA, json!({"role": "king"}), 422, "validation-failed"),
        (
            None,
            CA,
            json!({"phone": "0151 1"}),
            422,
            "validation-failed",
        ),
        (
            None,
            "niemand@example.de",
            json!({"display_name": "X"}),
            404,
            "not-found",
        ),
    ];
    for (actor, target, body, status, slug) in refusals {
        let detail = problem(
            &patch(&app, actor, target, body.clone()).await,
            status,
            slug,
        );
        assert!(!detail.is_empty(), "{body}");
    }
    let detail = problem(
        &patch(&app, None, CA, json!({"role": "broker"})).await,
        403,
        "forbidden",
    );
    assert!(detail.contains("broker role"), "{detail}");
    assert_eq!(user(&app, CA).await, before);

    // The broker makes a customer an employee: the employee loses the customer.
    assert_eq!(
        call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA2}"),
            Some(EA),
            None
        )
        .await
        .0,
        200
    );
    let got = patch(&app, Some(A), CA2, json!({"role": "employee"})).await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["role"], "employee");
    assert_eq!(got.1["broker"], A);
    let entry = &audit(&app, CA2).await[0];
    assert_eq!(
        entry["detail"]["role"],
        json!({"from": "customer", "to": "employee"})
    );
    problem(
        &call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA2}"),
            Some(EA),
            None,
        )
        .await,
        403,
        "forbidden",
    );
}

async fn change_password(
    app: &TestApp,
    actor: Option<&str>,
    target: &str,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::PUT,
        &format!("/api/v1/users/{target}/password"),
        actor,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn users_change_their_own_password_with_the_current_one() {
    let app = setup().await;
    let ca = user_id(&app, CA).await;
    trust(&app, ca, "t-ca");
    const NEW: &str = "ein-neues-passwort";
    // Refused: nothing changes, the old password still works.
    let refusals = [
        (Some(CA), json!({"password": NEW}), 422, "validation-failed"),
        (
            Some(CA),
            json!({"password": "kurz", "current_password": PASSWORD}),
            422,
            "validation-failed",
        ),
        (
            Some(CA),
            json!({"password": NEW, "current_password": 7}),
            422,
            "validation-failed",
        ),
        (
            Some(CA),
            json!({"password": NEW, "current_password": PASSWORD, "x": 1}),
            422,
            "validation-failed",
        ),
        (Some(A), json!({"password": NEW}), 403, "forbidden"),
        (
            Some(EA),
            json!({"password": NEW, "current_password": PASSWORD}),
            403,
            "forbidden",
        ),
        (
            Some(CA),
            json!({"password": NEW, "current_password": "falsches-passwort"}),
            401,
            "credentials-invalid",
        ),
    ];
    for (actor, body, status, slug) in refusals {
        problem(&change_password(&app, actor, CA, body).await, status, slug);
    }
    assert!(trusted(&app, "t-ca"));

    // With the current password: 204, the new one works, the old one not,
    // the trusted browser is revoked and the change audited.
    let got = change_password(
        &app,
        Some(CA),
        CA,
        json!({"password": NEW, "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(got.0, 204, "{:?}", got.1);
    assert_eq!(login(&app, CA, NEW).await.0, 200);
    problem(&login(&app, CA, PASSWORD).await, 401, "credentials-invalid");
    assert!(!trusted(&app, "t-ca"));
    let actions: Vec<Value> = audit(&app, CA)
        .await
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert!(actions.contains(&json!("password.changed")), "{actions:?}");
    assert!(actions.contains(&json!("trust.revoked_all")), "{actions:?}");

    // Wrong current passwords count toward the password check's limit.
    for _ in 0..4 {
        problem(
            &change_password(
                &app,
                Some(CA),
                CA,
                json!({"password": PASSWORD, "current_password": "falsch-falsch"}),
            )
            .await,
            401,
            "credentials-invalid",
        );
    }
    let got = change_password(
        &app,
        Some(CA),
        CA,
        json!({"password": PASSWORD, "current_password": NEW}),
    )
    .await;
    problem(&got, 429, "too-many-attempts");
    problem(&login(&app, CA, NEW).await, 429, "too-many-attempts");

    // The back office resets without the current password, and the reset
    // lifts the wrong-password count.
    let got = change_password(&app, None, CA, json!({"password": "zurueckgesetzt"})).await;
    assert_eq!(got.0, 204, "{:?}", got.1);
    assert_eq!(login(&app, CA, "zurueckgesetzt").await.0, 200);
}

async fn delete(
    app: &TestApp,
    actor: Option<&str>,
    target: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    call(
        app,
        Method::DELETE,
        &format!("/api/v1/users/{target}"),
        actor,
        None,
    )
    .await
}

#[tokio::test]
async fn deleting_users_follows_the_roles_and_brokers_go_last() {
    let app = setup().await;
    let refusals = [
        (Some(CA), CA),
        (Some(EA), EA),
        (Some(EA), SA),
        (Some(SA), CA),
        (Some(B), CA),
        (Some(EB), CA),
        (Some(A), A),
        (Some(A), B),
    ];
    for (actor, target) in refusals {
        problem(&delete(&app, actor, target).await, 403, "forbidden");
        assert_eq!(user(&app, target).await["login"], target);
    }
    problem(
        &delete(&app, None, "niemand@example.de").await,
        404,
        "not-found",
    );

    // An employee deletes a customer, the broker an employee.
    let ca2 = user_id(&app, CA2).await;
    assert_eq!(delete(&app, Some(EA), CA2).await.0, 204);
    problem(
        &call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA2}"),
            None,
            None,
        )
        .await,
        404,
        "not-found",
    );
    assert_eq!(delete(&app, Some(A), EA).await.0, 204);
    // The deleted employee's portal calls are refused from now on.
    problem(
        &call(
            &app,
            Method::GET,
            &format!("/api/v1/users/{CA}"),
            Some(EA),
            None,
        )
        .await,
        403,
        "actor-unknown",
    );

    // A broker with users: refused, even in the administrative context.
    let detail = problem(&delete(&app, None, A).await, 409, "broker-in-use");
    assert!(detail.contains("2 user"), "{detail}");
    for u in [SA, CA] {
        assert_eq!(delete(&app, None, u).await.0, 204);
    }
    assert_eq!(delete(&app, None, A).await.0, 204);

    // The login is never given again: the audit log names actors by login,
    // and a browser still logged in as the old user would act as the new one.
    let got = call(
        &app,
        Method::POST,
        "/api/v1/users",
        None,
        Some(json!({"login": CA2, "role": "customer", "broker": B, "password": PASSWORD})),
    )
    .await;
    let detail = problem(&got, 409, "login-taken");
    assert!(detail.contains("deleted user"), "{detail}");
    // Nor the id: after deleting the newest user (CB), a new one gets a new
    // id, so none of CB's audit entries read as theirs.
    let cb = user_id(&app, CB).await;
    assert_eq!(delete(&app, Some(EB), CB).await.0, 204);
    create(
        &app,
        json!({"login": "neu@example.de", "role": "customer", "broker": B, "password": PASSWORD}),
    )
    .await;
    assert!(user_id(&app, "neu@example.de").await > cb);
    let entries = audit(&app, "neu@example.de").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "user.created");
    let conn = rusqlite::Connection::open(app.dir.path().join("ident.db")).unwrap();
    let (actor, detail): (String, String) = conn
        .query_row(
            "SELECT actor, detail FROM audit WHERE user_id = ?1 AND action = 'user.deleted'",
            [ca2],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, format!("user:{EA}"));
    assert!(detail.contains(CA2), "{detail}");
}

/// Starts a login for `login` with `method` (`POST /api/v1/auth`, 200).
async fn start_login(app: &TestApp, login: &str, method: &str) -> Value {
    let got = call(
        app,
        Method::POST,
        "/api/v1/auth",
        None,
        Some(json!({"login": login, "method": method,
                    "context": {"ip": "203.0.113.9", "user_agent": "Firefox"}})),
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    got.1
}

#[tokio::test]
async fn deleting_a_user_ends_their_devices_and_logins_and_keeps_the_sms_ledger() {
    let app = setup().await;
    // CB's SMS is charged to broker B.
    start_login(&app, CB, "sms").await;
    // CA has a phone, a pending push login and a portal waiting on its status.
    let phone = common::phone::Phone::enroll(&app, CA).await;
    let got = start_login(&app, CA, "push").await;
    let txn = got["txn"].as_str().unwrap().to_owned();
    let poll = common::spawn_status_poll(&app.http, &app.base, &app.api_key, &txn);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    assert_eq!(delete(&app, Some(A), CA).await.0, 204);
    let (v, took) = poll.await.unwrap();
    assert_eq!(v["type"], "urn:ident:problem:not-found", "{v}");
    assert!(
        took < std::time::Duration::from_secs(20),
        "status poll not woken: {took:?}"
    );
    let e = tokio::task::spawn_blocking(move || {
        phone
            .client
            .pending_challenges(&phone.account, &phone.key(), None)
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(
        e.problem_type(),
        Some(ident_core::protocol::ProblemType::DeviceUnknown)
    );

    // CB goes; B's statement still lists CB's SMS; B itself must stay.
    assert_eq!(delete(&app, Some(EB), CB).await.0, 204);
    let got = call(
        &app,
        Method::GET,
        &format!("/api/v1/brokers/{B}/sms-statements/2027/Q1"),
        None,
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.1);
    assert_eq!(got.1["count"], 1);
    assert_eq!(got.1["lines"][0]["user"], CB);
    assert_eq!(delete(&app, None, EB).await.0, 204);
    let detail = problem(&delete(&app, None, B).await, 409, "broker-in-use");
    assert!(detail.contains("SMS ledger"), "{detail}");
    assert_eq!(user(&app, B).await["login"], B);
}
