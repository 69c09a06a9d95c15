//! A push login from end to end, with real processes: `ident-server serve`,
//! users made with `ident-server admin`, an enrollment made by the portal API
//! and completed with `ident enroll`, logins started through
//! `POST /api/v1/auth`, answered with `ident answer`, and their status read
//! back as the portal would. Proves: approve with the number, a replayed
//! answer (exit 4, nothing changes), a wrong number (a denial, exit 1), a
//! wrong PIN at the answer (exit 3, nothing sent), deny, "not me" (locks
//! push), removing the account (unenrolls at the server), and the SMS
//! confirmation of an enrollment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_e2e::{
    BROKER, BROWSER_IP, BROWSER_UA, Server, approve, enroll, ident, ident_ok, new_vault,
    only_pending, pending, wrong_number,
};

#[test]
fn approve_deny_wrong_number_replay_and_remove() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);

    // Approve with the number shown on the login page.
    let (txn, number) = server.login(BROKER);
    let challenges = pending(&vault);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    let c = &challenges[0];
    assert_eq!(c["ip"], BROWSER_IP);
    assert_eq!(c["user_agent"], BROWSER_UA);
    assert_eq!(c["login"], BROKER);
    assert_eq!(c["number_required"], true);
    let id = c["id"].as_str().unwrap().to_owned();
    let o = approve(&vault, &id, &number);
    o.expect_code(0, "approve");
    assert_eq!(o.json()["status"], "approved");
    assert_eq!(server.status(&txn), "approved");

    // The same answer again: the request is gone (exit 4), nothing changes.
    let o = approve(&vault, &id, &number);
    o.expect_code(4, "replayed answer");
    assert_eq!(o.json()["error"]["kind"], "challenge_gone");
    assert_eq!(server.status(&txn), "approved");

    // Wrong number: the approval counts as a denial, exit 1.
    let (txn, number) = server.login(BROKER);
    let id = only_pending(&vault);
    approve(&vault, &id, &wrong_number(&number)).expect_code(1, "wrong number");
    assert_eq!(server.status(&txn), "denied");

    // A wrong PIN at the answer: exit 3, nothing sent.
    let (txn, number) = server.login(BROKER);
    let id = only_pending(&vault);
    let o = ident(
        &vault,
        &["--pin-stdin", "answer", &id, "approve", "--number", &number],
        "000000\n",
    );
    o.expect_code(3, "wrong PIN");
    assert_eq!(server.status(&txn), "pending");

    // Deny.
    let o = ident_ok(&vault, &["answer", &id, "deny"]);
    assert_eq!(o["status"], "denied");
    assert_eq!(server.status(&txn), "denied");

    // Deny as "not me": denies and locks push for the user at once.
    let (txn, _) = server.login(BROKER);
    let id = only_pending(&vault);
    ident_ok(&vault, &["answer", &id, "deny", "--reason", "not_me"]);
    let status = server.status(&txn);
    assert!(status == "denied" || status == "locked", "{status}");
    let (code, body) = server.start_auth(BROKER, "push", None);
    assert_eq!(code, 423, "{body}");
    assert_eq!(
        server.get(&format!("/api/v1/users/{BROKER}"))["push_locked"],
        true
    );

    // Removing the account unenrolls the device at the server.
    let o = ident_ok(&vault, &["remove", BROKER]);
    assert_eq!(o["server_unenrolled"], true);
    let user = server.get(&format!("/api/v1/users/{BROKER}"));
    assert_eq!(user["enrolled"], false, "{user}");
}

#[test]
fn enrollment_with_sms_code_from_the_outbox() {
    let server = Server::start_with("[policy]\nenrollment_sms_confirmation = true\n");
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);
    let sms = server.sms();
    assert_eq!(sms.len(), 1, "one confirmation SMS: {sms:?}");
    assert_eq!(sms[0]["to"], "+4915112345678");
    let (txn, number) = server.login(BROKER);
    let id = only_pending(&vault);
    approve(&vault, &id, &number).expect_code(0, "approve");
    assert_eq!(server.status(&txn), "approved");
}
