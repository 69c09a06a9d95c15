//! One vault, two identity services: the same person has an account at two
//! servers (two `ident-server` processes with their own databases and server
//! keys, one calling itself "Zweitbank"). `ident pending` fetches from both
//! and shows both open requests, each under its own account and verified
//! against that server's pinned key; each is approved with the number its
//! own portal shows, and each server sees only its own approval.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_e2e::{BROKER, Server, accounts, approve, enroll, new_vault, pending};

#[test]
fn pending_shows_both_servers_and_each_is_approved() {
    let first = Server::start();
    let second = Server::start_with("issuer = \"Zweitbank\"\n");
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    let a = enroll(&first, BROKER, &vault);
    let b = enroll(&second, BROKER, &vault);
    assert_eq!(a["server"], first.base);
    assert_eq!(b["server"], second.base);
    assert_eq!(b["issuer"], "Zweitbank");
    assert_ne!(a["id"], b["id"]);
    assert_eq!(accounts(&vault).len(), 2);

    let (txn_a, number_a) = first.login(BROKER);
    let (txn_b, number_b) = second.login(BROKER);
    let challenges = pending(&vault);
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    let of = |account: &serde_json::Value| {
        let found: Vec<_> = challenges
            .iter()
            .filter(|c| c["account_id"] == account["id"])
            .collect();
        assert_eq!(found.len(), 1, "one request for {account}: {challenges:?}");
        found[0]["id"].as_str().unwrap().to_owned()
    };
    let (id_a, id_b) = (of(&a), of(&b));
    assert_ne!(id_a, id_b);

    // The second server's request first, with its own number.
    let o = approve(&vault, &id_b, &number_b);
    o.expect_code(0, "approve at the second server");
    assert_eq!(o.json()["account_id"], b["id"]);
    assert_eq!(second.status(&txn_b), "approved");
    assert_eq!(
        first.status(&txn_a),
        "pending",
        "the first server is untouched"
    );

    let remaining = pending(&vault);
    assert_eq!(remaining.len(), 1, "{remaining:?}");
    assert_eq!(remaining[0]["id"], id_a.as_str());

    let o = approve(&vault, &id_a, &number_a);
    o.expect_code(0, "approve at the first server");
    assert_eq!(o.json()["account_id"], a["id"]);
    assert_eq!(first.status(&txn_a), "approved");
    assert!(pending(&vault).is_empty());
}
