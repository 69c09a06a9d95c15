//! An expired push challenge, with real processes: the server runs with the
//! shortest challenge lifetime its config accepts (`[policy]
//! challenge_ttl_secs = 10`). The device sees the request while it is open;
//! after its expiry `ident pending` no longer shows it, `ident answer` fails
//! with exit 4 (`challenge_gone`) and a sentence that says it may have
//! expired, and the portal reads the status `expired`. Nothing the late
//! answer does changes that.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ident_e2e::{BROKER, Server, approve, enroll, new_vault, pending, wait_until};

fn unix_now() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(d.as_secs()).unwrap()
}

#[test]
fn an_expired_challenge_cannot_be_answered() {
    let server = Server::start_with("[policy]\nchallenge_ttl_secs = 10\n");
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);

    let (status, started) = server.start_auth(BROKER, "push", None);
    assert_eq!(status, 200, "{started}");
    let txn = started["txn"].as_str().unwrap();
    let number = started["number"].as_str().unwrap();
    let expires_at = started["expires_at"].as_i64().unwrap();
    assert!(
        (8..=11).contains(&(expires_at - unix_now())),
        "the policy's 10 s lifetime: {started}"
    );

    // While it is open the device sees it, with the same expiry.
    let challenges = pending(&vault);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert_eq!(challenges[0]["expires_at"], expires_at);
    let id = challenges[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(server.status(txn), "pending");

    // The portal's status turns `expired` by the clock (a long poll returns then).
    let view = server.get(&format!("/api/v1/auth/{txn}?wait=15"));
    assert_eq!(view["status"], "expired", "{view}");
    assert!(unix_now() > expires_at);
    wait_until("a second past the expiry", Duration::from_secs(5), || {
        unix_now() > expires_at + 1
    });

    // The device no longer lists it, and answering it fails clearly.
    assert_eq!(pending(&vault), Vec::<serde_json::Value>::new());
    let out = approve(&vault, &id, number);
    out.expect_code(4, "answering an expired request");
    let err = &out.json()["error"];
    assert_eq!(err["kind"], "challenge_gone", "{err}");
    assert_eq!(err["exit_code"], 4);
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(&id), "{message}");
    assert!(message.contains("expired"), "{message}");

    // Without --json: the same sentence on stderr, nothing on stdout.
    let out = ident_e2e::ident(
        &vault,
        &["--pin-stdin", "answer", &id, "approve", "--number", number],
        &format!("{}\n", ident_e2e::PIN),
    );
    out.expect_code(4, "answering an expired request (text)");
    assert!(out.stderr.starts_with("ident: "), "{}", out.stderr);
    assert!(out.stderr.contains("expired"), "{}", out.stderr);

    assert_eq!(server.status(txn), "expired");
}
