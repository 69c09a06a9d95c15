//! The SMS fallback of a login, with real processes: a customer without an
//! enrolled device logs in with `method: auto`, the server picks SMS and
//! writes the code to its `--sms-outbox` (JSON lines), and the portal sends
//! the typed code with `POST /api/v1/auth/{txn}/sms`. Proves: a wrong code is
//! refused and counted (tries left go down), the right one approves; three
//! wrong codes use the tries up, deny the login and make even the right code
//! useless; each SMS is charged to the broker's ledger.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_e2e::{BROKER, Server, sms_code};
use serde_json::{Value, json};

const CUSTOMER: &str = "kunde@example.de";

/// A six-digit code that is not `code`.
fn other_code(code: &str) -> String {
    code.chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect()
}

fn send_code(server: &Server, txn: &str, code: &str) -> (u16, Value) {
    server.post(&format!("/api/v1/auth/{txn}/sms"), &json!({ "code": code }))
}

fn problem(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:ident:problem:")
}

fn start_sms_login(server: &Server) -> (String, String) {
    let sent_before = server.sms().len();
    let (status, started) = server.start_auth(CUSTOMER, "auto", None);
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["method"], "sms", "no device: SMS ({started})");
    assert!(started.get("number").is_none(), "{started}");
    let txn = started["txn"].as_str().unwrap().to_owned();
    assert_eq!(server.status(&txn), "pending");
    let sms = server.sms();
    assert_eq!(sms.len(), sent_before + 1, "one SMS per login: {sms:?}");
    let last = sms.last().unwrap();
    assert_eq!(last["to"], "+491712345678", "{last}");
    assert!(
        last["text"].as_str().unwrap().contains("Anmeldecode"),
        "{last}"
    );
    (txn, sms_code(last).unwrap())
}

#[test]
fn sms_login_wrong_code_counts_right_code_approves() {
    let server = Server::start();
    server.create_user(CUSTOMER, "customer", Some(BROKER), Some("0171 2345678"));
    let user = server.get(&format!("/api/v1/users/{CUSTOMER}"));
    assert_eq!(user["enrolled"], false, "{user}");

    // A wrong code is refused and counted; the right one approves.
    let (txn, code) = start_sms_login(&server);
    let (status, body) = send_code(&server, &txn, &other_code(&code));
    assert_eq!(status, 400, "{body}");
    assert_eq!(problem(&body), "sms-code-invalid", "{body}");
    assert_eq!(body["tries_left"], 2, "{body}");
    assert_eq!(body["detail"], "The code is wrong; 2 more tries.", "{body}");
    assert_eq!(server.status(&txn), "pending");
    let (status, body) = send_code(&server, &txn, &code);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "approved", "{body}");
    assert_eq!(body["method"], "sms", "{body}");
    let view = server.status_view(&txn);
    assert_eq!(view["status"], "approved", "{view}");
    assert_eq!(view["method"], "sms", "{view}");
    // Used up: the same code again is refused.
    let (status, body) = send_code(&server, &txn, &code);
    assert_eq!(status, 409, "{body}");
    assert_eq!(problem(&body), "auth-decided", "{body}");

    // Three wrong codes: the tries are used up, the login is denied, and the
    // right code no longer helps.
    let (txn, code) = start_sms_login(&server);
    let wrong = other_code(&code);
    let (status, body) = send_code(&server, &txn, &wrong);
    assert_eq!(
        (status, problem(&body)),
        (400, "sms-code-invalid"),
        "{body}"
    );
    assert_eq!(body["tries_left"], 2, "{body}");
    let (status, body) = send_code(&server, &txn, &wrong);
    assert_eq!(body["tries_left"], 1, "{body}");
    assert_eq!(body["detail"], "The code is wrong; 1 more try.", "{body}");
    assert_eq!(
        (status, problem(&body)),
        (400, "sms-code-invalid"),
        "{body}"
    );
    let (status, body) = send_code(&server, &txn, &wrong);
    assert_eq!(
        (status, problem(&body)),
        (400, "sms-code-expired"),
        "{body}"
    );
    assert_eq!(server.status(&txn), "denied");
    let (status, body) = send_code(&server, &txn, &code);
    assert_eq!(status, 409, "{body}");
    assert_eq!(server.status(&txn), "denied");

    // Not a try: a malformed code is refused without counting.
    let (txn, code) = start_sms_login(&server);
    let (status, body) = send_code(&server, &txn, "12a");
    assert_eq!(
        (status, problem(&body)),
        (400, "sms-code-malformed"),
        "{body}"
    );
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let (status, body) = send_code(&server, &txn, &spaced);
    assert_eq!(status, 200, "spaces are ignored: {body}");

    // Each SMS is one line on the broker's ledger.
    let ledger = server.get(&format!("/api/v1/brokers/{BROKER}/sms-ledger"));
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{ledger}");
    for e in entries {
        assert_eq!(e["user"], CUSTOMER, "{e}");
        assert_eq!(e["purpose"], "login", "{e}");
        assert_eq!(e["net_cents"], 10, "{e}");
    }
}
