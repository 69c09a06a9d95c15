//! What the server's benches share: a file store as production opens it,
//! users with enrolled devices, and the timing helpers.
//!
//! Each bench is its own crate and uses only part of this, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use ident_core::device_key::DeviceKey;
use ident_server::admin::{self, UserSpec};
use ident_server::domain::Role;
use ident_server::store::devices::NewDevice;
use ident_server::store::{DeviceStore, SqliteStore, UserId};

/// The benches' "now" (2027-01-15).
pub const T0: i64 = 1_800_000_000;

/// A file database in WAL mode, as the server opens it, with one API key.
pub struct BenchStore {
    /// The store.
    pub store: SqliteStore,
    /// The API key's row id.
    pub key_id: i64,
    /// The API key's SHA-256, as the server looks it up.
    pub key_hash: [u8; 32],
    /// The directory of the database (removed when dropped).
    pub dir: tempfile::TempDir,
}

impl BenchStore {
    /// A new database with an API key named "bench".
    pub fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("bench.db"), false).unwrap();
        let key = admin::create_api_key(&store, "bench", T0).unwrap();
        Self {
            key_hash: admin::api_key_hash(key.key.as_str()),
            key_id: key.id,
            store,
            dir,
        }
    }

    /// Creates broker `login` (with a mobile number) and returns its id.
    pub fn broker(&self, login: &str) -> UserId {
        let spec = UserSpec {
            login: login.to_owned(),
            name: None,
            role: Role::Broker,
            broker: None,
            phone: Some("0151 11111111".into()),
            email: None,
            password: zeroize::Zeroizing::new("bench-passwort".into()),
        };
        admin::create_user(&self.store, &spec, T0).unwrap()
    }

    /// Enrolls device `id` for `user` through an enrollment with `token`
    /// (unique per device), as `POST /device/v1/enroll` does.
    pub fn enroll(&self, user: UserId, token: [u8; 32], id: &str) {
        self.store
            .create_enrollment(user, T0, T0 + 600, &|_| token, "bench")
            .unwrap();
        let claimed = self
            .store
            .claim_enrollment(
                &token,
                &NewDevice {
                    id: id.to_owned(),
                    jwk: DeviceKey::generate().unwrap().0.public_jwk(),
                    name: "bench".into(),
                    platform: "linux".into(),
                    push_provider: "none".into(),
                    push_token: None,
                },
                false,
                T0,
            )
            .unwrap();
        assert!(claimed.is_some(), "device {id} enrolled");
    }
}

/// The first number among the bench's arguments (cargo passes `--bench`
/// first), or `default`.
pub fn rounds_arg(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Per-call time of `f` over `rounds` rounds of `per_round` calls: (min, median).
pub fn measure(rounds: usize, per_round: u32, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut per_call: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_round {
                f();
            }
            t.elapsed() / per_round
        })
        .collect();
    per_call.sort();
    (per_call[0], per_call[rounds / 2])
}

/// utime + stime of this process (Linux; 10 ms ticks), for work done on
/// other threads than the measuring one (e.g. background checkpoints).
pub fn process_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let f: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
