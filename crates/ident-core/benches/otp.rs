//! How long the account list takes to compute its codes.
//!
//! The app recomputes every visible TOTP code at each period boundary, so the
//! cost per code matters for users with many accounts. The benchmark computes
//! codes for 10,000 accounts and, in the same run, the bare cost of one
//! HMAC-SHA1 over 8 bytes per account (key set-up included, as `totp` must do
//! it too), so the result reads as a ratio to the unavoidable cryptography:
//!
//! - `totp_10k_mixed`: 10,000 TOTP codes, algorithms SHA1/SHA256/SHA512 in
//!   turn, secrets of 20/32/64 bytes, digits 6/7/8.
//! - `totp_10k_sha1`: 10,000 six-digit SHA1 codes (20-byte secrets), the
//!   like-for-like comparison with the baseline.
//! - `hmac_sha1_10k_baseline`: `ring::hmac` key + sign over 8 bytes, 10,000 times.
//!
//! Run: `cargo bench -p ident-core --bench otp`.

// A benchmark is a test harness: it may panic on a broken fixture.
#![allow(missing_docs, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ident_core::otp::{Algorithm, Digits, OtpKind, OtpParams, OtpSecret, Period, code};
use ident_core::ports::UnixTime;
use ident_core::secret::SecretBytes;
use ring::hmac;

const ACCOUNTS: usize = 10_000;
const NOW: UnixTime = UnixTime(1_700_000_000);

/// Deterministic pseudo-random secret bytes (no RNG dependency needed).
fn secret_bytes(i: usize, len: usize) -> Vec<u8> {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn accounts(mixed: bool) -> Vec<(OtpSecret, OtpParams)> {
    (0..ACCOUNTS)
        .map(|i| {
            let (algorithm, len, digits) = match (mixed, i % 3) {
                (true, 1) => (Algorithm::Sha256, 32, 7),
                (true, 2) => (Algorithm::Sha512, 64, 8),
                _ => (Algorithm::Sha1, 20, 6),
            };
            let secret = OtpSecret::from_bytes(SecretBytes::new(secret_bytes(i, len)))
                .unwrap_or_else(|e| panic!("{e}"));
            let params = OtpParams {
                algorithm,
                digits: Digits::new(digits).unwrap_or_else(|e| panic!("{e}")),
                kind: OtpKind::Totp {
                    period: Period::THIRTY,
                },
            };
            (secret, params)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mixed = accounts(true);
    let sha1 = accounts(false);
    let raw: Vec<Vec<u8>> = (0..ACCOUNTS).map(|i| secret_bytes(i, 20)).collect();
    let counter = (NOW.secs() / 30).to_be_bytes();

    let mut group = c.benchmark_group("otp");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("totp_10k_mixed", |b| {
        b.iter(|| {
            for (secret, params) in &mixed {
                black_box(code(black_box(secret), params, black_box(NOW)));
            }
        })
    });
    group.bench_function("totp_10k_sha1", |b| {
        b.iter(|| {
            for (secret, params) in &sha1 {
                black_box(code(black_box(secret), params, black_box(NOW)));
            }
        })
    });
    group.bench_function("hmac_sha1_10k_baseline", |b| {
        b.iter(|| {
            for key in &raw {
                let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, black_box(key));
                black_box(hmac::sign(&key, black_box(&counter)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
