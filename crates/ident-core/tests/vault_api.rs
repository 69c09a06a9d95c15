//! The vault through its public API: PIN, lockout, key store, accounts, codes.

mod vault_common;

use ident_core::account::{AccountDetails, AccountId};
use ident_core::otp::OtpKind;
use ident_core::ports::{Clock, KeyStoreError, MemoryKeyStore, UnixTime};
use ident_core::vault::{Vault, VaultError, VaultStatus, lockout};
use vault_common::*;

#[test]
fn create_then_open_with_the_pin() {
    let (t, v, c) = new_vault("246810");
    assert!(v.accounts().is_empty());
    drop(v);
    let v = Vault::open(&t.path, &pin("246810"), &c).unwrap();
    assert!(v.accounts().is_empty());
    assert_eq!(v.path(), t.path.as_path());
}

#[test]
fn create_refuses_an_existing_vault_and_short_pins() {
    let (t, v, c) = new_vault("246810");
    drop(v);
    assert_eq!(
        Vault::create(&t.path, &pin("135790"), cheap(), &c).err(),
        Some(VaultError::AlreadyExists)
    );
    let other = temp_path();
    assert!(matches!(
        Vault::create(&other.path, &pin("123"), cheap(), &c),
        Err(VaultError::InvalidPin { min: 4, .. })
    ));
    assert!(!other.path.exists() || Vault::status(&other.path, &c).map(|s| !s.exists).unwrap());
    // The original still opens with its PIN.
    assert!(Vault::open(&t.path, &pin("246810"), &c).is_ok());
}

#[test]
fn open_of_a_missing_vault_is_not_found() {
    let t = temp_path();
    let c = clock();
    assert_eq!(
        Vault::open(&t.path, &pin("1234"), &c).err(),
        Some(VaultError::NotFound)
    );
    assert!(!t.path.exists(), "open must not create a file");
    let s = Vault::status(&t.path, &c).unwrap();
    assert_eq!(
        s,
        VaultStatus {
            exists: false,
            attempts_left: 10,
            wait_seconds: 0,
            locked_forever: false,
            keystore_unlock: false
        }
    );
}

#[test]
fn a_set_up_interrupted_before_the_header_can_be_redone() {
    // An empty file (what a crash during create can leave) is "no vault yet".
    let t = temp_path();
    std::fs::write(&t.path, b"").unwrap();
    let c = clock();
    assert!(!Vault::status(&t.path, &c).unwrap().exists);
    assert_eq!(
        Vault::open(&t.path, &pin("1234"), &c).err(),
        Some(VaultError::NotFound)
    );
    Vault::create(&t.path, &pin("1234"), cheap(), &c).unwrap();
    assert!(Vault::status(&t.path, &c).unwrap().exists);
}

#[test]
fn wrong_pins_count_down_and_back_off_on_schedule() {
    let (t, v, c) = new_vault("246810");
    drop(v);
    for left in [9, 8, 7] {
        assert_eq!(
            Vault::open(&t.path, &pin("000000"), &c).err(),
            Some(VaultError::WrongPin {
                attempts_left: left
            })
        );
    }
    // Three failures: the fourth attempt must wait 30 s, and while waiting even
    // the right PIN is not tried (nor counted).
    assert_eq!(
        Vault::open(&t.path, &pin("246810"), &c).err(),
        Some(VaultError::BackOff { wait_seconds: 30 })
    );
    c.advance(20);
    assert_eq!(
        Vault::open(&t.path, &pin("000000"), &c).err(),
        Some(VaultError::BackOff { wait_seconds: 10 })
    );
    let s = Vault::status(&t.path, &c).unwrap();
    assert_eq!(
        (s.attempts_left, s.wait_seconds, s.locked_forever),
        (7, 10, false)
    );
    c.advance(10);
    assert_eq!(
        Vault::open(&t.path, &pin("000000"), &c).err(),
        Some(VaultError::WrongPin { attempts_left: 6 })
    );
    assert_eq!(
        Vault::open(&t.path, &pin("246810"), &c).err(),
        Some(VaultError::BackOff { wait_seconds: 60 })
    );
    c.advance(60);
    // The right PIN resets everything.
    Vault::open(&t.path, &pin("246810"), &c).unwrap();
    let s = Vault::status(&t.path, &c).unwrap();
    assert_eq!((s.attempts_left, s.wait_seconds), (10, 0));
    for left in [9, 8, 7] {
        assert_eq!(
            Vault::open(&t.path, &pin("111111"), &c).err(),
            Some(VaultError::WrongPin {
                attempts_left: left
            })
        );
    }
}

#[test]
fn ten_wrong_pins_lock_the_vault_for_good() {
    let (t, mut v, c) = new_vault("246810");
    v.add_otp(totp_entry("a@example.com", Some("Bank"), RFC_SECRET, 6))
        .unwrap();
    let ks = MemoryKeyStore::default();
    v.enable_keystore_unlock(&ks).unwrap();
    drop(v);
    let mut waited = 0;
    for failures in 0..10u32 {
        let wait = lockout::wait_after(failures);
        c.advance(i64::try_from(wait).unwrap());
        waited += wait;
        let err = Vault::open(&t.path, &pin("999999"), &c).err().unwrap();
        if failures < 9 {
            assert_eq!(
                err,
                VaultError::WrongPin {
                    attempts_left: 9 - failures
                }
            );
        } else {
            assert_eq!(err, VaultError::LockedForever);
        }
    }
    assert_eq!(waited, 30 + 60 + 120 + 240 + 480 + 960 + 1920);
    let msg = VaultError::LockedForever.to_string();
    assert!(
        msg.contains("set up again") && msg.contains("enrolled again"),
        "{msg}"
    );

    // Nothing opens it any more: not the right PIN, not after a day, not the key store.
    c.advance(86_400);
    assert_eq!(
        Vault::open(&t.path, &pin("246810"), &c).err(),
        Some(VaultError::LockedForever)
    );
    assert_eq!(
        Vault::open_with_keystore(&t.path, &ks).err(),
        Some(VaultError::LockedForever)
    );
    let s = Vault::status(&t.path, &c).unwrap();
    assert!(s.exists && s.locked_forever && !s.keystore_unlock);
    assert_eq!(s.attempts_left, 0);

    // The reset removes the files; a new vault can be made.
    Vault::destroy(&t.path).unwrap();
    assert!(!t.path.exists());
    assert!(!Vault::status(&t.path, &c).unwrap().exists);
    let v = Vault::create(&t.path, &pin("135790"), cheap(), &c).unwrap();
    assert!(v.accounts().is_empty());
}

#[test]
fn wrong_pin_message_says_how_many_are_left() {
    let e = VaultError::WrongPin { attempts_left: 4 };
    assert!(e.to_string().contains('4'));
    let e = VaultError::BackOff { wait_seconds: 60 };
    assert!(e.to_string().contains("60 seconds"));
}

#[test]
fn a_clock_set_back_costs_at_most_one_waiting_period() {
    let (t, v, c) = new_vault("246810");
    drop(v);
    for _ in 0..3 {
        let _ = Vault::open(&t.path, &pin("000000"), &c);
    }
    c.advance(-365 * 86_400);
    assert_eq!(
        Vault::open(&t.path, &pin("246810"), &c).err(),
        Some(VaultError::BackOff { wait_seconds: 30 })
    );
    c.advance(30);
    assert!(Vault::open(&t.path, &pin("246810"), &c).is_ok());
}

#[test]
fn change_pin_rewraps_and_counts_a_wrong_old_pin() {
    let (t, mut v, c) = new_vault("246810");
    let id = v.add_otp(totp_entry("x", None, RFC_SECRET, 6)).unwrap();
    assert!(matches!(
        v.change_pin(&pin("000000"), &pin("13579"), &c),
        Err(VaultError::WrongPin { attempts_left: 9 })
    ));
    assert!(matches!(
        v.change_pin(&pin("246810"), &pin("12"), &c),
        Err(VaultError::InvalidPin { .. })
    ));
    v.change_pin(&pin("246810"), &pin("13579"), &c).unwrap();
    drop(v);
    assert_eq!(
        Vault::open(&t.path, &pin("246810"), &c).err(),
        Some(VaultError::WrongPin { attempts_left: 9 })
    );
    let mut v = Vault::open(&t.path, &pin("13579"), &c).unwrap();
    assert_eq!(v.accounts()[0].id, id);
    assert_eq!(
        v.otp_code(id, UnixTime(59)).unwrap().as_str(),
        "287082",
        "RFC 6238 SHA-1 at t=59, 6 digits"
    );
}

#[test]
fn keystore_unlock_works_and_leaves_the_pin_counter_alone() {
    let (t, mut v, c) = new_vault("246810");
    let ks = MemoryKeyStore::default();
    assert_eq!(
        Vault::open_with_keystore(&t.path, &ks).err(),
        Some(VaultError::KeyStoreNotEnabled)
    );
    v.add_otp(totp_entry("Depot", Some("Fonds"), RFC_SECRET, 6))
        .unwrap();
    v.enable_keystore_unlock(&ks).unwrap();
    assert!(v.keystore_unlock_enabled());
    drop(v);
    assert!(Vault::status(&t.path, &c).unwrap().keystore_unlock);

    let v = Vault::open_with_keystore(&t.path, &ks).unwrap();
    assert_eq!(names(&v), ["Depot"]);
    drop(v);

    // The user cancels the biometric prompt.
    ks.set_refuse(true);
    assert_eq!(
        Vault::open_with_keystore(&t.path, &ks).err(),
        Some(VaultError::KeyStore(KeyStoreError::NotVerified))
    );
    ks.set_refuse(false);

    // Wrong PINs are not wiped out by a biometric unlock…
    for _ in 0..3 {
        let _ = Vault::open(&t.path, &pin("000000"), &c);
    }
    let before = Vault::status(&t.path, &c).unwrap();
    assert_eq!((before.attempts_left, before.wait_seconds), (7, 30));
    // …which is still allowed during the back-off.
    let mut v = Vault::open_with_keystore(&t.path, &ks).unwrap();
    assert_eq!(Vault::status(&t.path, &c).unwrap(), before);

    // Disabling removes the wrapping and the key store's key.
    v.disable_keystore_unlock(&ks).unwrap();
    assert!(!v.keystore_unlock_enabled());
    drop(v);
    assert_eq!(
        Vault::open_with_keystore(&t.path, &ks).err(),
        Some(VaultError::KeyStoreNotEnabled)
    );
}

#[test]
fn keystore_key_lost_is_reported() {
    let (t, mut v, _c) = new_vault("246810");
    let ks = MemoryKeyStore::default();
    v.enable_keystore_unlock(&ks).unwrap();
    drop(v);
    let other = MemoryKeyStore::default();
    assert_eq!(
        Vault::open_with_keystore(&t.path, &other).err(),
        Some(VaultError::KeyStore(KeyStoreError::KeyLost))
    );
}

#[test]
fn account_operations_persist_across_reopen() {
    let (t, mut v, c) = new_vault("246810");
    let a = v
        .add_otp(totp_entry(
            "  alice@example.com ",
            Some("GitHub"),
            b"seed-a",
            6,
        ))
        .unwrap();
    let b = v.add_otp(hotp_entry("Hotp", b"seed-b", 0)).unwrap();
    let (push, pkcs8) = push_account("https://id.example.de", "dev-1", "max@example.de");
    let p = v
        .add_push("Fondsdepot", Some("Beispiel-Bank"), push.clone(), pkcs8)
        .unwrap();
    assert_eq!(names(&v), ["alice@example.com", "Hotp", "Fondsdepot"]);
    assert_ne!(a, b);

    v.rename(b, "  Firmen-VPN ").unwrap();
    assert_eq!(v.get(b).unwrap().name, "Firmen-VPN");
    assert!(matches!(
        v.rename(b, "   "),
        Err(VaultError::InvalidName { field: "name", .. })
    ));
    assert!(matches!(
        v.rename(b, &"x".repeat(201)),
        Err(VaultError::InvalidName { .. })
    ));
    assert_eq!(
        v.rename(AccountId(999), "x"),
        Err(VaultError::AccountNotFound(AccountId(999)))
    );

    v.move_to(p, 0).unwrap();
    assert_eq!(names(&v), ["Fondsdepot", "alice@example.com", "Firmen-VPN"]);
    v.move_to(p, 2).unwrap();
    assert_eq!(names(&v), ["alice@example.com", "Firmen-VPN", "Fondsdepot"]);
    v.move_to(a, 1).unwrap();
    assert_eq!(names(&v), ["Firmen-VPN", "alice@example.com", "Fondsdepot"]);
    assert_eq!(
        v.move_to(a, 3),
        Err(VaultError::IndexOutOfRange { index: 3, len: 3 })
    );

    let found: Vec<_> = v.search("beispiel").iter().map(|x| x.id).collect();
    assert_eq!(found, [p]);
    let found: Vec<_> = v.search("MAX@").iter().map(|x| x.id).collect();
    assert_eq!(found, [p], "push login is searched");
    assert_eq!(v.search("github").len(), 1);
    assert_eq!(v.search("").len(), 3);
    assert!(v.search("nothing-like-this").is_empty());

    let before: Vec<_> = v.accounts().to_vec();
    drop(v);
    let mut v = Vault::open(&t.path, &pin("246810"), &c).unwrap();
    assert_eq!(v.accounts(), before.as_slice());
    match &v.get(p).unwrap().details {
        AccountDetails::Push(got) => assert_eq!(got, &push),
        other => panic!("{other:?}"),
    }
    let key = v.device_key(p).unwrap();
    assert_eq!(key.public_jwk(), push.device_jwk);
    assert!(matches!(
        v.device_key(a),
        Err(VaultError::WrongAccountKind { .. })
    ));
    assert!(matches!(
        v.otp_code(p, UnixTime(0)),
        Err(VaultError::WrongAccountKind { .. })
    ));

    v.remove(b).unwrap();
    assert_eq!(names(&v), ["alice@example.com", "Fondsdepot"]);
    assert_eq!(v.remove(b), Err(VaultError::AccountNotFound(b)));
    assert!(v.get(b).is_none());
    drop(v);
    let mut v = Vault::open(&t.path, &pin("246810"), &c).unwrap();
    assert_eq!(names(&v), ["alice@example.com", "Fondsdepot"]);
    // New accounts never reuse a removed id.
    let d = v.add_otp(totp_entry("new", None, b"seed-d", 6)).unwrap();
    assert!(d.0 > p.0);
    v.move_to(d, 0).unwrap();
    assert_eq!(names(&v), ["new", "alice@example.com", "Fondsdepot"]);
}

#[test]
fn add_push_refuses_a_key_that_does_not_match() {
    let (_t, mut v, _c) = new_vault("246810");
    let (push, _) = push_account("https://id.example.de", "dev-1", "12345");
    let (_, other_pkcs8) = push_account("https://id.example.de", "dev-2", "12345");
    assert_eq!(
        v.add_push("Depot", None, push.clone(), other_pkcs8),
        Err(VaultError::InvalidDeviceKey)
    );
    assert_eq!(
        v.add_push(
            "Depot",
            None,
            push,
            ident_core::secret::SecretBytes::copy_from(b"junk")
        ),
        Err(VaultError::InvalidDeviceKey)
    );
    assert!(v.accounts().is_empty());
}

#[test]
fn import_is_all_or_nothing() {
    let (_t, mut v, _c) = new_vault("246810");
    let err = v
        .import_otp(vec![
            totp_entry("one", None, b"s1", 6),
            totp_entry(" ", None, b"s2", 6),
        ])
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidName { .. }));
    assert!(v.accounts().is_empty());
    let ids = v
        .import_otp(vec![
            totp_entry("one", None, b"s1", 6),
            totp_entry("two", None, b"s2", 6),
        ])
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(names(&v), ["one", "two"]);
}

#[test]
fn totp_codes_follow_rfc_6238() {
    let (_t, mut v, _c) = new_vault("246810");
    let id = v.add_otp(totp_entry("rfc", None, RFC_SECRET, 8)).unwrap();
    for (t, want) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (2_000_000_000, "69279037"),
    ] {
        assert_eq!(v.otp_code(id, UnixTime(t)).unwrap().as_str(), want, "t={t}");
    }
}

#[test]
fn hotp_counter_is_committed_before_the_code() {
    let (t, mut v, c) = new_vault("246810");
    let id = v.add_otp(hotp_entry("hotp", RFC_SECRET, 0)).unwrap();
    let now = c.now();
    // RFC 4226 appendix D.
    assert_eq!(v.otp_code(id, now).unwrap().as_str(), "755224");
    assert_eq!(v.otp_code(id, now).unwrap().as_str(), "287082");
    let counter = |v: &Vault| match v.get(id).unwrap().details {
        AccountDetails::Otp(p) => p.kind,
        _ => unreachable!(),
    };
    assert_eq!(counter(&v), OtpKind::Hotp { counter: 2 });
    drop(v);
    let mut v = Vault::open(&t.path, &pin("246810"), &c).unwrap();
    assert_eq!(
        counter(&v),
        OtpKind::Hotp { counter: 2 },
        "advanced on disk"
    );
    assert_eq!(v.otp_code(id, now).unwrap().as_str(), "359152");
    // A rename after codes keeps the counter.
    v.rename(id, "renamed").unwrap();
    assert_eq!(counter(&v), OtpKind::Hotp { counter: 3 });
}

#[test]
fn hotp_counter_at_its_maximum_is_refused() {
    let (_t, mut v, c) = new_vault("246810");
    let id = v.add_otp(hotp_entry("hotp", RFC_SECRET, u64::MAX)).unwrap();
    assert_eq!(
        v.otp_code(id, c.now()),
        Err(VaultError::CounterExhausted(id))
    );
}

#[test]
fn debug_output_shows_no_secrets() {
    let (_t, mut v, _c) = new_vault("246810");
    v.add_otp(totp_entry("Geheimkonto", Some("Privatbank"), RFC_SECRET, 6))
        .unwrap();
    let printed = format!("{v:?} {v:#?}");
    assert!(
        printed.contains("Vault") && printed.contains("accounts: 1"),
        "{printed}"
    );
    assert!(
        !printed.contains("Geheimkonto") && !printed.contains("Privatbank"),
        "{printed}"
    );
    assert!(!printed.contains("12345678901234567890"), "{printed}");
}
