//! Reads the vault file with plain SQLite, without any of our code, and looks
//! for every secret and every piece of account metadata in every table and
//! column and in the raw bytes of the `.db`, `-wal` and `-shm` files.

mod vault_common;

use std::path::Path;

use ident_core::ports::{MemoryKeyStore, UnixTime};
use ident_core::secret::SecretString;
use ident_core::vault::{AnswerOutcome, RecentAnswer, Vault};
use rusqlite::types::ValueRef;
use vault_common::*;

const PIN: &str = "975318642";
const SEED: &[u8] = b"Zq7!otp-seed-sentinel#42";
const NAME: &str = "Sparkasse-Depot-Zeta";
const ISSUER: &str = "Fondsplattform-Omega";
const PUSH_NAME: &str = "Maklerportal-Sigma";
const LOGIN: &str = "max.mustermann@example.de";
const SERVER: &str = "https://id.example-broker.de";
const DEVICE_ID: &str = "device-7f3a9c";
const SERVICE: &str = "Kundenportal-Lambda";
const CHALLENGE_ID: &str = "chal-Xq9wPz3mT1";

/// Every value of every column of every table, as bytes.
#[allow(clippy::unwrap_used)] // a test helper
fn all_values(path: &Path) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 3, "{tables:?}");
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                out.push(match row.get_ref(i).unwrap() {
                    ValueRef::Null => Vec::new(),
                    ValueRef::Integer(v) => v.to_string().into_bytes(),
                    ValueRef::Real(v) => v.to_string().into_bytes(),
                    ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
                });
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_secret_or_metadata_is_readable_without_the_key() {
    let t = temp_path();
    let c = clock();
    let mut v = Vault::create(&t.path, &SecretString::from(PIN), cheap(), &c).unwrap();
    v.add_otp(totp_entry(NAME, Some(ISSUER), SEED, 6)).unwrap();
    let hotp = v
        .add_otp(hotp_entry("Hotp-Counter-Account", SEED, 41))
        .unwrap();
    let (push, pkcs8) = push_account(SERVER, DEVICE_ID, LOGIN);
    let pkcs8_bytes = pkcs8.expose().to_vec();
    let push_id = v.add_push(PUSH_NAME, Some(ISSUER), push, pkcs8).unwrap();
    v.otp_code(hotp, UnixTime(0)).unwrap();
    v.record_answer(
        push_id,
        &RecentAnswer {
            challenge_id: CHALLENGE_ID.into(),
            service: SERVICE.into(),
            at: UnixTime(1_795_700_000),
            outcome: AnswerOutcome::Approved,
        },
    )
    .unwrap();
    v.enable_keystore_unlock(&MemoryKeyStore::default())
        .unwrap();
    // Keep the vault open so that the WAL holds recent pages too.
    let wal = t.dir.path().join("vault.db-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the WAL has content"
    );

    let base32 = data_encoding::BASE32_NOPAD.encode(SEED);
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("seed".into(), SEED.to_vec()),
        ("seed base32".into(), base32.clone().into_bytes()),
        (
            "seed base32 lower".into(),
            base32.to_lowercase().into_bytes(),
        ),
        ("pin".into(), PIN.as_bytes().to_vec()),
        ("name".into(), NAME.as_bytes().to_vec()),
        ("push name".into(), PUSH_NAME.as_bytes().to_vec()),
        ("issuer".into(), ISSUER.as_bytes().to_vec()),
        ("login".into(), LOGIN.as_bytes().to_vec()),
        ("server".into(), b"example-broker".to_vec()),
        ("device id".into(), DEVICE_ID.as_bytes().to_vec()),
        ("answered service".into(), SERVICE.as_bytes().to_vec()),
        (
            "answered request id".into(),
            CHALLENGE_ID.as_bytes().to_vec(),
        ),
        ("answer json".into(), b"\"outcome\"".to_vec()),
        ("answer time".into(), b"1795700000".to_vec()),
        ("hotp name".into(), b"Hotp-Counter".to_vec()),
        ("otp json".into(), b"\"algorithm\"".to_vec()),
        ("jwk json".into(), b"\"crv\"".to_vec()),
    ];
    // Every 20-byte piece of the PKCS#8 document: the private scalar, the
    // public point and the ASN.1 framing alike.
    for (i, w) in pkcs8_bytes.windows(20).enumerate() {
        needles.push((format!("pkcs8[{i}..]"), w.to_vec()));
    }

    let values = all_values(&t.path);
    let mut raw = std::fs::read(&t.path).unwrap();
    raw.extend(std::fs::read(&wal).unwrap());
    raw.extend(std::fs::read(t.dir.path().join("vault.db-shm")).unwrap_or_default());
    assert!(raw.len() > 8192);

    for (what, needle) in &needles {
        for v in &values {
            assert!(!contains(v, needle), "{what} found in a column");
        }
        assert!(!contains(&raw, needle), "{what} found in the raw files");
    }

    // The check is real: the same search finds what is meant to be plaintext.
    assert!(contains(&raw, b"argon2id"));
    assert!(values.iter().any(|v| v.as_slice() == b"push"));
    drop(v);
    assert!(Vault::open(&t.path, &pin(PIN), &c).is_ok());
}
