//! What the database costs per push login, without HTTP and cryptography:
//! the store calls the server makes for one complete login (portal key,
//! user with devices, start, the device's proof, challenge list, answer
//! context, answer, status),
//! in the order the handlers make them, against a file database in WAL mode
//! as in production. The baseline in the same run is the cheapest store call
//! there is (`active_server_key`, what `GET /health` reads).
//!
//! Why a bench of its own: the load generator's figures move with whatever
//! else runs on the machine; this one isolates the SQLite side, so changes to
//! statements, indexes and settings can be compared before/after reliably.
//! The database is pre-filled with `PREFILL` logins, because some costs
//! (scans, cache misses) only show once the tables have history.
//!
//! On a machine shared with other work, wall-clock means drift with the
//! neighbours' load, so this reports the *minimum* and the median over many
//! short rounds: the minimum is what the code costs when nothing interferes,
//! and it repeats within a few percent from run to run.
//!
//! `cargo bench -p ident-server --bench store [-- rounds]`
#![allow(missing_docs)]
// A report on stdout is this program's output.
#![allow(clippy::print_stdout)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{BenchStore, T0, measure, process_cpu, rounds_arg};
use ident_server::domain::LoginName;
use ident_server::store::auth::{
    AnswerKind, Applied, ApplyAnswer, NewChallenge, NewTxn, StartPush, TxnStatus,
};
use ident_server::store::{AuthStore, DeviceStore, KeyStore, NewAuditEntry, UserId};

/// Logins stored before measuring.
const PREFILL: u64 = 50_000;
/// Users (one device each) the logins rotate over.
const USERS: u64 = 64;

struct Fixture {
    db: BenchStore,
    users: Vec<(LoginName, UserId, String)>,
    n: u64,
}

impl Fixture {
    fn new() -> Self {
        let db = BenchStore::open();
        let users = (0..USERS)
            .map(|i| {
                let login = format!("{}", 100_000 + i);
                let uid = db.broker(&login);
                let device = format!("device-{i:06}-abcdefghijkl");
                db.enroll(uid, [i as u8; 32], &device);
                (LoginName::parse(&login).unwrap(), uid, device)
            })
            .collect();
        let mut f = Self { db, users, n: 0 };
        for _ in 0..PREFILL {
            f.login();
        }
        f
    }

    /// The store calls of one complete push login.
    fn login(&mut self) {
        self.n += 1;
        let n = self.n;
        let now = T0 + (n / 500) as i64;
        let (login, uid, device) = &self.users[(n % USERS) as usize];
        let s = &self.db.store;
        // Ids as the server makes them (time first, then random): how they
        // are made decides which index pages each login touches.
        let id = || ident_server::services::enroll::new_ordered_id(now).unwrap();
        let (txn_id, challenge_id) = (id(), id());
        // POST /api/v1/auth
        black_box(s.api_key_by_hash(&self.db.key_hash).unwrap().unwrap());
        black_box(s.user_with_active_devices(login).unwrap().unwrap());
        let txn = NewTxn {
            id: txn_id.clone(),
            user_id: *uid,
            api_key_id: self.db.key_id,
            method: "push",
            status: TxnStatus::Pending,
            number: Some("42".into()),
            ip: "198.51.100.7".into(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
                .into(),
            service: "Beispiel-Bank Maklerportal".into(),
            created_at: now,
            expires_at: now + 120,
        };
        let challenge = NewChallenge {
            id: challenge_id.clone(),
            device_id: device.clone(),
            // A real challenge JWS is about this long.
            token: "x".repeat(700),
            expires_at: now + 120,
        };
        let audit = NewAuditEntry {
            actor: "api-key:bench".into(),
            action: "auth.started",
            user_id: Some(*uid),
            detail: serde_json::json!({"txn": txn_id, "method": "push", "ip": "198.51.100.7",
                                       "service": "Beispiel-Bank Maklerportal",
                                       "challenges": [challenge_id]}),
        };
        assert_eq!(
            s.start_push(&txn, &[challenge], 3, &audit).unwrap(),
            StartPush::Started
        );
        // GET /device/v1/challenges (proof), GET /api/v1/auth/{txn} (key)
        black_box(s.device(device).unwrap().unwrap());
        assert!(
            s.first_use_proof(
                &ident_server::services::enroll::new_id().unwrap(),
                now + 60,
                now,
                Some(device)
            )
            .unwrap()
        );
        black_box(s.open_challenges(device, now, 64).unwrap());
        black_box(s.api_key_by_hash(&self.db.key_hash).unwrap().unwrap());
        black_box(s.txn(&txn_id).unwrap().unwrap());
        // POST /device/v1/challenges/{id}/answer (no proof: the answer is signed)
        let ctx = s.answer_context(&challenge_id, device).unwrap();
        assert!(ctx.challenge.is_some() && ctx.device.is_some() && ctx.user.is_some());
        let applied = s
            .apply_answer(
                &ApplyAnswer {
                    challenge_id: &challenge_id,
                    txn_id: &txn_id,
                    device_id: device,
                    user_id: *uid,
                    kind: AnswerKind::Approve,
                    denial_window_secs: 600,
                    max_denials: 3,
                    trust_token_sealed: None,
                },
                now,
            )
            .unwrap();
        assert!(matches!(applied, Applied::Done { .. }));
        // The status long poll wakes and reads again.
        black_box(s.txn(&txn_id).unwrap().unwrap());
    }
}

fn main() {
    let rounds = rounds_arg(15);
    let mut f = Fixture::new();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let base = measure(rounds, 2_000, || {
        black_box(f.db.store.active_server_key().unwrap());
    });
    let cpu0 = process_cpu();
    let login = measure(rounds, 1_000, || f.login());
    let cpu = process_cpu()
        .zip(cpu0)
        .map(|(b, a)| b.saturating_sub(a) / (rounds as u32 * 1_000));
    println!("{PREFILL} logins stored before; {rounds} rounds; per call: min / median");
    println!(
        "baseline active_server_key: {:8.1} / {:8.1} µs",
        us(base.0),
        us(base.1)
    );
    println!(
        "push login store calls:     {:8.1} / {:8.1} µs  ({:.0}× the baseline)",
        us(login.0),
        us(login.1),
        login.0.as_secs_f64() / base.0.as_secs_f64()
    );
    let wal = f.db.dir.path().join("bench.db-wal");
    println!(
        "WAL file at the end: {} KiB",
        std::fs::metadata(&wal).map_or(0, |m| m.len() / 1024)
    );
    if let Some(cpu) = cpu {
        println!(
            "CPU of the whole process per login (all threads): {:.1} µs",
            us(cpu)
        );
    }
}
