//! Unit tests of the vault that need its internals: crashes, tampering, the
//! order of counting and checking.

use std::path::Path;

use rusqlite::Connection;

use super::*;
use crate::account::{AccountDetails, AccountId};
use crate::otp::{OtpEntry, OtpParams, OtpSecret};
use crate::ports::{ManualClock, UnixTime};
use crate::secret::SecretBytes;

fn pin(s: &str) -> SecretString {
    SecretString::from(s)
}

fn entry(label: &str, secret: &[u8]) -> OtpEntry {
    OtpEntry {
        issuer: Some("Bank".into()),
        label: label.into(),
        secret: OtpSecret::from_bytes(SecretBytes::copy_from(secret)).unwrap(),
        params: OtpParams::default(),
    }
}

fn setup() -> (tempfile::TempDir, PathBuf, Vault, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let clock = ManualClock::at(1_750_000_000);
    let v = Vault::create(
        &path,
        &pin("246810"),
        KdfParams::insecure_for_tests(),
        &clock,
    )
    .unwrap();
    (dir, path, v, clock)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn failed_attempts(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT failed_attempts FROM vault", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn current_version_is_the_last_migration() {
    assert_eq!(
        schema::MIGRATIONS.last().map(|m| m.version),
        Some(CURRENT_VERSION)
    );
    for (i, m) in schema::MIGRATIONS.iter().enumerate() {
        assert_eq!(
            m.version as usize,
            i + 1,
            "migrations are dense and ordered"
        );
    }
}

#[test]
fn the_attempt_is_counted_on_disk_while_the_pin_is_being_checked() {
    // Slow enough parameters that the check takes a while; meanwhile another
    // connection (a process that survives a kill) sees the attempt counted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let clock = ManualClock::at(1_000);
    let slow = KdfParams::new(32 * 1024, 2, 1).unwrap();
    drop(Vault::create(&path, &pin("246810"), slow, &clock).unwrap());
    assert_eq!(failed_attempts(&path), 0);

    let p2 = path.clone();
    let worker = std::thread::spawn(move || {
        let clock = ManualClock::at(1_000);
        Vault::open(&p2, &SecretString::from("246810"), &clock).map(|_| ())
    });
    let observer = raw(&path);
    let mut seen_counted = false;
    while !worker.is_finished() {
        let n: i64 = observer
            .query_row("SELECT failed_attempts FROM vault", [], |r| r.get(0))
            .unwrap();
        seen_counted |= n == 1;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    worker.join().unwrap().unwrap();
    assert!(
        seen_counted,
        "the attempt was committed before the PIN check"
    );
    assert_eq!(failed_attempts(&path), 0, "and reset after the right PIN");
}

#[test]
fn an_attempt_that_never_completes_still_counts() {
    let (_d, path, v, clock) = setup();
    drop(v);
    // Remove the PIN check value: the check cannot complete (as if killed).
    raw(&path)
        .execute("UPDATE vault SET pin_check = NULL", [])
        .unwrap();
    assert!(matches!(
        Vault::open(&path, &pin("246810"), &clock),
        Err(VaultError::Corrupt { .. })
    ));
    assert_eq!(failed_attempts(&path), 1);
}

#[test]
fn a_counter_left_at_ten_by_a_kill_locks_and_erases() {
    let (_d, path, mut v, clock) = setup();
    let id = v.add_otp(entry("a", b"seed")).unwrap();
    let answer = RecentAnswer {
        challenge_id: "c1".into(),
        service: "Bank".into(),
        at: UnixTime(1),
        outcome: AnswerOutcome::Approved,
    };
    v.record_answer(id, &answer).unwrap();
    drop(v);
    // The tenth attempt was counted, then the app died before checking it.
    raw(&path)
        .execute("UPDATE vault SET failed_attempts = 10", [])
        .unwrap();
    assert_eq!(
        Vault::open(&path, &pin("246810"), &clock).err(),
        Some(VaultError::LockedForever)
    );
    let c = raw(&path);
    let (wrapped, locked): (Option<Vec<u8>>, i64) = c
        .query_row(
            "SELECT pin_wrapped_key, locked_forever FROM vault",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((wrapped, locked), (None, 1));
    let rows: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM secrets)
                  + (SELECT count(*) FROM answers)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
    // Editing the counter back does not bring the key back.
    c.execute(
        "UPDATE vault SET failed_attempts = 0, locked_forever = 0",
        [],
    )
    .unwrap();
    assert!(matches!(
        Vault::open(&path, &pin("246810"), &clock),
        Err(VaultError::Corrupt { .. })
    ));
}

#[test]
fn a_tampered_wrapped_key_is_corrupt_and_not_a_wrong_pin() {
    let (_d, path, v, clock) = setup();
    drop(v);
    let c = raw(&path);
    let mut wrapped: Vec<u8> = c
        .query_row("SELECT pin_wrapped_key FROM vault", [], |r| r.get(0))
        .unwrap();
    wrapped[20] ^= 0x01;
    c.execute("UPDATE vault SET pin_wrapped_key = ?1", [wrapped])
        .unwrap();
    assert_eq!(
        Vault::open(&path, &pin("246810"), &clock).err(),
        Some(VaultError::Corrupt {
            what: "the wrapped vault key"
        })
    );
    assert_eq!(
        failed_attempts(&path),
        0,
        "a right PIN is never held against the user"
    );
    assert_eq!(
        Vault::open(&path, &pin("000000"), &clock).err(),
        Some(VaultError::WrongPin { attempts_left: 9 })
    );
}

#[test]
fn blobs_moved_to_another_row_do_not_decrypt() {
    let (_d, path, mut v, clock) = setup();
    let a = v.add_otp(entry("a", b"seed-a")).unwrap();
    let b = v.add_otp(entry("b", b"seed-b")).unwrap();
    drop(v);
    let c = raw(&path);
    // Swap the two secrets: the vault still opens (secrets are not decrypted
    // on open) but neither code can be computed.
    c.execute_batch(&format!(
        "CREATE TEMP TABLE s AS SELECT * FROM secrets;
         UPDATE secrets SET secret = (SELECT secret FROM s WHERE account_id = {b}) WHERE account_id = {a};
         UPDATE secrets SET secret = (SELECT secret FROM s WHERE account_id = {a}) WHERE account_id = {b};",
        a = a.0,
        b = b.0
    ))
    .unwrap();
    let mut v = Vault::open(&path, &pin("246810"), &clock).unwrap();
    for id in [a, b] {
        assert_eq!(
            v.otp_code(id, UnixTime(0)).err(),
            Some(VaultError::Corrupt {
                what: "account secret"
            })
        );
    }
    drop(v);
    // Swap the metadata: opening fails.
    c.execute_batch(&format!(
        "UPDATE accounts SET meta = (SELECT meta FROM accounts WHERE id = {b}) WHERE id = {a};",
        a = a.0,
        b = b.0
    ))
    .unwrap();
    assert_eq!(
        Vault::open(&path, &pin("246810"), &clock).err(),
        Some(VaultError::Corrupt {
            what: "account metadata"
        })
    );
}

#[test]
fn a_kind_column_that_disagrees_is_corrupt() {
    let (_d, path, mut v, clock) = setup();
    v.add_otp(entry("a", b"seed-a")).unwrap();
    drop(v);
    raw(&path)
        .execute("UPDATE accounts SET kind = 'push'", [])
        .unwrap();
    assert!(matches!(
        Vault::open(&path, &pin("246810"), &clock),
        Err(VaultError::Corrupt { .. })
    ));
}

#[test]
fn positions_are_renumbered_if_not_dense() {
    let (_d, path, mut v, clock) = setup();
    let ids: Vec<AccountId> = ["a", "b", "c"]
        .iter()
        .map(|n| v.add_otp(entry(n, b"s")).unwrap())
        .collect();
    drop(v);
    raw(&path)
        .execute_batch("UPDATE accounts SET position = position * 10 + 5")
        .unwrap();
    let mut v = Vault::open(&path, &pin("246810"), &clock).unwrap();
    v.move_to(ids[2], 0).unwrap();
    drop(v);
    let positions: Vec<(i64, i64)> = raw(&path)
        .prepare("SELECT id, position FROM accounts ORDER BY position")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(positions, [(ids[2].0, 0), (ids[0].0, 1), (ids[1].0, 2)]);
}

#[test]
fn an_uncommitted_write_leaves_nothing() {
    let (_d, path, mut v, clock) = setup();
    v.add_otp(entry("kept", b"seed")).unwrap();
    {
        let tx = v.conn.transaction().unwrap();
        accounts::insert(
            &tx,
            &v.key,
            1,
            "lost".into(),
            None,
            AccountDetails::Otp(OtpParams::default()),
            b"seed",
        )
        .unwrap();
        // Dropped without commit: rolled back.
    }
    drop(v);
    let v = Vault::open(&path, &pin("246810"), &clock).unwrap();
    assert_eq!(v.accounts().len(), 1);
    assert_eq!(v.accounts()[0].name, "kept");
    let secrets: i64 = raw(&path)
        .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(secrets, 1);
}

#[test]
fn a_copy_taken_mid_transaction_opens_with_the_committed_data() {
    let (dir, path, mut v, clock) = setup();
    v.add_otp(entry("committed", b"seed")).unwrap();
    let wal = dir.path().join("vault.db-wal");
    // A tiny page cache makes SQLite spill the open transaction's pages into
    // the WAL before commit, as a big write would.
    v.conn.execute_batch("PRAGMA cache_size = 2").unwrap();
    let wal_before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let snapshot = dir.path().join("snapshot");
    std::fs::create_dir(&snapshot).unwrap();
    {
        let tx = v
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        for i in 0..300 {
            accounts::insert(
                &tx,
                &v.key,
                1 + i,
                format!("pending {i}"),
                None,
                AccountDetails::Otp(OtpParams::default()),
                &[7u8; 600],
            )
            .unwrap();
        }
        let wal_during = std::fs::metadata(&wal).unwrap().len();
        assert!(wal_during > wal_before, "uncommitted pages reached the WAL");
        // "Kill" now: take the files as they are on disk.
        std::fs::copy(&path, snapshot.join("vault.db")).unwrap();
        std::fs::copy(&wal, snapshot.join("vault.db-wal")).unwrap();
    }
    drop(v);
    let copy = Vault::open(&snapshot.join("vault.db"), &pin("246810"), &clock).unwrap();
    let names: Vec<&str> = copy.accounts().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["committed"]);
}

#[test]
fn change_pin_leaves_every_secret_blob_byte_identical() {
    let (_d, path, mut v, clock) = setup();
    v.add_otp(entry("a", b"seed-a")).unwrap();
    v.add_otp(entry("b", b"seed-b")).unwrap();
    let dump = |c: &Connection| -> (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<u8>) {
        let col = |sql: &str| -> Vec<Vec<u8>> {
            c.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let wrapped: Vec<u8> = c
            .query_row("SELECT pin_wrapped_key FROM vault", [], |r| r.get(0))
            .unwrap();
        (
            col("SELECT secret FROM secrets ORDER BY account_id"),
            col("SELECT meta FROM accounts ORDER BY id"),
            wrapped,
        )
    };
    let before = dump(&raw(&path));
    v.change_pin(&pin("246810"), &pin("97531"), &clock).unwrap();
    let after = dump(&raw(&path));
    assert_eq!(before.0, after.0, "secrets untouched");
    assert_eq!(before.1, after.1, "metadata untouched");
    assert_ne!(before.2, after.2, "the vault key was re-wrapped");
}

#[test]
fn change_pin_that_hits_the_lock_disables_the_handle() {
    let (_d, path, mut v, clock) = setup();
    v.add_otp(entry("a", b"seed-a")).unwrap();
    raw(&path)
        .execute(
            "UPDATE vault SET failed_attempts = 9, last_attempt_at = 0",
            [],
        )
        .unwrap();
    assert_eq!(
        v.change_pin(&pin("000000"), &pin("97531"), &clock),
        Err(VaultError::LockedForever)
    );
    assert!(v.accounts().is_empty());
    assert_eq!(
        v.add_otp(entry("b", b"s")).err(),
        Some(VaultError::LockedForever)
    );
    assert_eq!(
        Vault::open(&path, &pin("246810"), &clock).err(),
        Some(VaultError::LockedForever)
    );
}

#[test]
fn remove_leaves_no_ciphertext_of_the_secret_in_the_files() {
    let (dir, path, mut v, _clock) = setup();
    let keep = v.add_otp(entry("keep", b"seed-keep")).unwrap();
    let gone = v.add_otp(entry("gone", b"seed-gone")).unwrap();
    let blob: Vec<u8> = v
        .conn
        .query_row(
            "SELECT secret FROM secrets WHERE account_id = ?1",
            [gone.0],
            |r| r.get(0),
        )
        .unwrap();
    v.remove(gone).unwrap();
    let mut files = std::fs::read(&path).unwrap();
    files.extend(std::fs::read(dir.path().join("vault.db-wal")).unwrap_or_default());
    assert!(
        !files.windows(blob.len()).any(|w| w == blob.as_slice()),
        "the removed secret's ciphertext is gone from the .db and -wal"
    );
    assert!(v.get(keep).is_some());
}
