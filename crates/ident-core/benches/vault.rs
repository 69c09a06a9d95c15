//! How long unlocking takes: loading a vault of 10,000 accounts, and the
//! Argon2id cost of the PIN, measured apart so each can be judged on its own.
//!
//! - `open_10k_after_key`: open a vault of 10,000 OTP accounts once the vault
//!   key is known (through the key store path with the in-memory key store,
//!   which costs one AES-GCM), i.e. SQLite reads plus 10,000 metadata
//!   decryptions and JSON parses. No Argon2id.
//! - `sqlite_read_10k_baseline`: plain rusqlite opening the same file and
//!   reading the same 10,000 rows (id, position, kind, meta blob) into memory,
//!   without decryption. `open_10k_after_key / baseline` is the price of the
//!   encryption and parsing.
//! - `open_10k_with_pin_cheap_kdf`: the full PIN path with the cheapest
//!   parameters (256 KiB, t = 1): counter commits + Argon2id + load.
//! - `argon2id_recommended_open_empty`: the full PIN path on an empty vault
//!   with `KdfParams::RECOMMENDED` (64 MiB, t = 3, p = 1): what the user waits
//!   for on every PIN unlock, dominated by Argon2id.
//!
//! Run: `cargo bench -p ident-core --bench vault -- --warm-up-time 1 --measurement-time 3`.

// A benchmark is a test harness: it may panic on a broken fixture.
#![allow(missing_docs, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use ident_core::otp::{OtpEntry, OtpParams, OtpSecret};
use ident_core::ports::{ManualClock, MemoryKeyStore};
use ident_core::secret::{SecretBytes, SecretString};
use ident_core::vault::{KdfParams, Vault};

const ACCOUNTS: usize = 10_000;

fn entries() -> Vec<OtpEntry> {
    (0..ACCOUNTS)
        .map(|i| OtpEntry {
            issuer: Some(format!("Issuer {}", i % 50)),
            label: format!("user{i}@example.com"),
            secret: OtpSecret::from_bytes(SecretBytes::new(
                (0..20).map(|b| (b + i) as u8).collect(),
            ))
            .unwrap(),
            params: OtpParams::default(),
        })
        .collect()
}

fn baseline_read(path: &Path) -> usize {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, position, kind, meta FROM accounts ORDER BY position, id")
        .unwrap();
    let rows: Vec<(i64, i64, String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.len()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(1_750_000_000);
    let pin = SecretString::from("246810");
    let ks = MemoryKeyStore::default();

    let big = dir.path().join("big.db");
    {
        let mut v = Vault::create(&big, &pin, KdfParams::insecure_for_tests(), &clock).unwrap();
        v.import_otp(entries()).unwrap();
        v.enable_keystore_unlock(&ks).unwrap();
    }
    assert_eq!(baseline_read(&big), ACCOUNTS);

    let mut g = c.benchmark_group("vault");
    g.sample_size(20);
    g.bench_function("open_10k_after_key", |b| {
        b.iter(|| {
            let v = Vault::open_with_keystore(&big, &ks).unwrap();
            black_box(v.accounts().len())
        })
    });
    g.bench_function("sqlite_read_10k_baseline", |b| {
        b.iter(|| black_box(baseline_read(&big)))
    });
    g.bench_function("open_10k_with_pin_cheap_kdf", |b| {
        b.iter(|| {
            let v = Vault::open(&big, &pin, &clock).unwrap();
            black_box(v.accounts().len())
        })
    });
    g.finish();

    let slow = dir.path().join("slow.db");
    drop(Vault::create(&slow, &pin, KdfParams::RECOMMENDED, &clock).unwrap());
    let mut g = c.benchmark_group("kdf");
    g.sample_size(10);
    g.bench_function("argon2id_recommended_open_empty", |b| {
        b.iter(|| black_box(Vault::open(&slow, &pin, &clock).unwrap().accounts().len()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
