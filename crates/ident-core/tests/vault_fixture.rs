//! The frozen version-1 vault file (`tests/fixtures/vault-v1.db`): every later
//! build must open it with PIN 246810 and find the same accounts and codes.
//!
//! The generator is `#[ignore]`d; run it only to make the fixture anew, which
//! should never be needed once it is committed:
//! `cargo test -p ident-core --test vault_fixture -- --ignored generate_v1_fixture`

mod vault_common;

use std::path::PathBuf;

use ident_core::account::AccountDetails;
use ident_core::otp::{Algorithm, Digits, OtpKind, Period};
use ident_core::ports::UnixTime;
use ident_core::vault::{AnswerOutcome, CURRENT_VERSION, RecentAnswer, Vault, VaultError};
use vault_common::*;

const FIXTURE_PIN: &str = "246810";

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1.db")
}

#[test]
#[ignore = "writes tests/fixtures/vault-v1.db; run by hand only"]
fn generate_v1_fixture() {
    assert_eq!(
        CURRENT_VERSION, 1,
        "the v1 fixture must be made by a v1 build"
    );
    let path = fixture_path();
    Vault::destroy(&path).unwrap();
    let c = clock();
    let mut v = Vault::create(&path, &pin(FIXTURE_PIN), cheap(), &c).unwrap();
    v.add_otp(totp_entry(
        "rfc6238@example.com",
        Some("RFC TOTP"),
        RFC_SECRET,
        8,
    ))
    .unwrap();
    v.add_otp(hotp_entry("rfc4226@example.com", RFC_SECRET, 0))
        .unwrap();
    let (push, pkcs8) = push_account("https://id.example.de", "fixture-device-1", "12345");
    v.add_push("Fondsdepot", Some("Beispiel-Bank"), push, pkcs8)
        .unwrap();
    drop(v);
    // The last connection closed: SQLite checkpointed and removed the WAL.
    for suffix in ["-wal", "-shm"] {
        let mut side = path.clone().into_os_string();
        side.push(suffix);
        assert!(!PathBuf::from(side).exists(), "{suffix} left behind");
    }
}

#[test]
fn the_v1_fixture_opens_and_gives_the_same_accounts_and_codes() {
    let src = fixture_path();
    let on_disk: i64 = rusqlite::Connection::open(&src)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(on_disk, 1, "the fixture is frozen at version 1");

    let t = temp_path();
    std::fs::copy(&src, &t.path).unwrap();
    let c = clock();
    assert_eq!(
        Vault::open(&t.path, &pin("000000"), &c).err(),
        Some(VaultError::WrongPin { attempts_left: 9 })
    );
    let mut v = Vault::open(&t.path, &pin(FIXTURE_PIN), &c).unwrap();
    let migrated: i64 = rusqlite::Connection::open(&t.path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(migrated, i64::from(CURRENT_VERSION));

    assert_eq!(
        names(&v),
        ["rfc6238@example.com", "rfc4226@example.com", "Fondsdepot"]
    );
    let [totp, hotp, push] = [0, 1, 2].map(|i| v.accounts()[i].clone());
    assert_eq!(totp.issuer.as_deref(), Some("RFC TOTP"));
    assert_eq!(hotp.issuer, None);
    assert_eq!(push.issuer.as_deref(), Some("Beispiel-Bank"));
    match &totp.details {
        AccountDetails::Otp(p) => {
            assert_eq!(p.algorithm, Algorithm::Sha1);
            assert_eq!(p.digits, Digits::new(8).unwrap());
            assert_eq!(
                p.kind,
                OtpKind::Totp {
                    period: Period::THIRTY
                }
            );
        }
        other => panic!("{other:?}"),
    }
    let AccountDetails::Push(details) = &push.details else {
        panic!("not push")
    };
    assert_eq!(details.server.as_str(), "https://id.example.de");
    assert_eq!(details.device_id.as_str(), "fixture-device-1");
    assert_eq!(details.login, "12345");
    assert_eq!(
        v.device_key(push.id).unwrap().public_jwk(),
        details.device_jwk
    );

    // RFC 6238 appendix B (SHA-1, 8 digits) and RFC 4226 appendix D.
    assert_eq!(
        v.otp_code(totp.id, UnixTime(59)).unwrap().as_str(),
        "94287082"
    );
    assert_eq!(
        v.otp_code(totp.id, UnixTime(1_234_567_890))
            .unwrap()
            .as_str(),
        "89005924"
    );
    assert_eq!(v.otp_code(hotp.id, UnixTime(0)).unwrap().as_str(), "755224");
    assert_eq!(v.otp_code(hotp.id, UnixTime(0)).unwrap().as_str(), "287082");

    // Version 2 added the recent answers: none in the old file, and the
    // migrated file keeps new ones.
    assert!(v.recent_answers(push.id).unwrap().is_empty());
    let answer = RecentAnswer {
        challenge_id: "fixture-challenge".into(),
        service: "Beispiel-Bank".into(),
        at: UnixTime(1_795_700_000),
        outcome: AnswerOutcome::Approved,
    };
    v.record_answer(push.id, &answer).unwrap();
    drop(v);
    let v = Vault::open(&t.path, &pin(FIXTURE_PIN), &c).unwrap();
    assert_eq!(v.recent_answers(push.id).unwrap(), [answer]);
}
