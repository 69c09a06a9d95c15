//! A server restart in the middle of a pending push login: the challenge is
//! created, the server process is killed with SIGKILL (no graceful
//! shutdown), and started again on the same database and port. The open
//! challenge survives in the database, the device fetches it (still signed
//! by the key it pinned), answers with the number the portal showed before
//! the crash, and the portal reads `approved`. A second login started after
//! the restart works as well.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_e2e::{BROKER, Server, approve, enroll, ident, new_vault, only_pending};

#[test]
fn a_pending_login_survives_a_server_crash() {
    let mut server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);

    let (txn, number) = server.login(BROKER);
    let id = only_pending(&vault);

    server.kill();
    // While it is down the device cannot reach it: a network error, exit 4.
    let out = ident(
        &vault,
        &[
            "--pin-stdin",
            "--json",
            "answer",
            &id,
            "approve",
            "--number",
            &number,
        ],
        &format!("{}\n", ident_e2e::PIN),
    );
    out.expect_code(4, "answering while the server is down");
    assert_eq!(out.json()["error"]["kind"], "network", "{}", out.stdout);

    server.spawn();
    assert_eq!(server.status(&txn), "pending");
    assert_eq!(
        only_pending(&vault),
        id,
        "the same challenge after the restart"
    );
    let o = approve(&vault, &id, &number);
    o.expect_code(0, "approve after the restart");
    assert_eq!(o.json()["status"], "approved");
    assert_eq!(server.status(&txn), "approved");

    // And the restarted server keeps working.
    let (txn, number) = server.login(BROKER);
    let id = only_pending(&vault);
    approve(&vault, &id, &number).expect_code(0, "a new login after the restart");
    assert_eq!(server.status(&txn), "approved");
}
