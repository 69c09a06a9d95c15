//! The 2FA interval from end to end: with an interval of 30 days an approved
//! push login hands the portal a trust token; `method: auto` with that token
//! skips the second factor (`trusted`, approved at once, nothing reaches the
//! device). Changing the interval, or the mobile number, revokes the token:
//! the next `auto` login with it asks for the second factor (push) again.
//! An interval of 0 issues no token at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_e2e::{BROKER, Server, approve, enroll, new_vault, only_pending, pending};
use serde_json::{Value, json};

/// Starts `auto` with `token`; returns the response.
fn auto(server: &Server, token: Option<&str>) -> Value {
    let (status, body) = server.start_auth(BROKER, "auto", token);
    assert_eq!(status, 200, "{body}");
    body
}

/// A push login approved with the device; returns its status view.
fn approved_push(server: &Server, vault: &std::path::Path, started: &Value) -> Value {
    assert_eq!(started["method"], "push", "{started}");
    let txn = started["txn"].as_str().unwrap();
    let id = only_pending(vault);
    approve(vault, &id, started["number"].as_str().unwrap()).expect_code(0, "approve");
    let view = server.status_view(txn);
    assert_eq!(view["status"], "approved", "{view}");
    view
}

#[test]
fn the_interval_skips_then_requires_the_second_factor() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);
    let interval = format!("/api/v1/users/{BROKER}/interval");

    // Interval 0 ("always ask"): an approval carries no token.
    let user = server.put_ok(&interval, &json!({"days": 0}));
    assert_eq!(user["interval_days"], 0, "{user}");
    let view = approved_push(&server, &vault, &auto(&server, None));
    assert!(view.get("trust_token").is_none(), "{view}");

    // 30 days: the approval carries a token, repeated on every status read.
    server.put_ok(&interval, &json!({"days": 30}));
    let started = auto(&server, None);
    let view = approved_push(&server, &vault, &started);
    let token = view["trust_token"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWS: {token}");
    let again = server.status_view(started["txn"].as_str().unwrap());
    assert_eq!(again["trust_token"], token.as_str());

    // With the token: no second factor, approved at once, nothing for the device.
    let trusted = auto(&server, Some(&token));
    assert_eq!(trusted["method"], "trusted", "{trusted}");
    assert!(trusted.get("number").is_none(), "{trusted}");
    let view = server.status_view(trusted["txn"].as_str().unwrap());
    assert_eq!(view["status"], "approved", "{view}");
    assert_eq!(view["method"], "trusted", "{view}");
    assert!(pending(&vault).is_empty());
    let browsers = server.get(&format!("/api/v1/users/{BROKER}/trusted-browsers"));
    assert_eq!(
        browsers["browsers"].as_array().unwrap().len(),
        1,
        "{browsers}"
    );
    // A token only skips `auto`; an explicit push still asks.
    let (status, body) = server.start_auth(BROKER, "push", Some(&token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["method"], "push", "{body}");
    let id = only_pending(&vault);
    ident_e2e::ident_ok(&vault, &["answer", &id, "deny"]);

    // A changed interval revokes the token: the second factor again.
    server.put_ok(&interval, &json!({"days": 14}));
    let browsers = server.get(&format!("/api/v1/users/{BROKER}/trusted-browsers"));
    assert_eq!(browsers["browsers"], json!([]), "{browsers}");
    let started = auto(&server, Some(&token));
    let view = approved_push(&server, &vault, &started);
    let token = view["trust_token"].as_str().unwrap().to_owned();
    assert_eq!(auto(&server, Some(&token))["method"], "trusted");

    // A changed mobile number revokes it as well.
    server.put_ok(
        &format!("/api/v1/users/{BROKER}/phone"),
        &json!({"phone": "0151 99887766"}),
    );
    let started = auto(&server, Some(&token));
    assert_eq!(started["method"], "push", "{started}");
    assert_eq!(
        server.status(started["txn"].as_str().unwrap()),
        "pending",
        "waits for the device"
    );
}
