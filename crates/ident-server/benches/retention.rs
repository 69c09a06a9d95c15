//! How long one purge batch holds the store: the time a login queued behind
//! the purge waits at most. A file database in WAL mode (as in production)
//! is filled with `LOGINS` approved push logins of two devices each
//! (audited), all past the retention; then the logins are purged
//! batch by batch ([`BATCH`] rows each, as the server does) and every
//! batch's duration is recorded: minimum, median, 99th percentile, maximum,
//! and the rows per second of the whole purge. The audit log is purged the
//! same way afterwards.
//!
//! `cargo bench -p ident-server --bench retention [-- logins [batch]]`
#![allow(missing_docs)]
// A report on stdout is this program's output.
#![allow(clippy::print_stdout)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{BenchStore, T0};
use ident_server::domain::LoginName;
use ident_server::services::retention::BATCH;
use ident_server::store::auth::{NewChallenge, NewTxn, StartPush, TxnStatus};
use ident_server::store::retention::{PurgeCounts, PurgeTable};
use ident_server::store::{AuthStore, NewAuditEntry, RetentionStore, UserStore};

/// Logins stored before purging (override with the first argument).
const LOGINS: u64 = 50_000;

fn main() {
    // `-- [logins] [batch]` (cargo passes `--bench` first).
    let numbers: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let logins = numbers.first().copied().unwrap_or(LOGINS);
    let batch = numbers.get(1).map_or(BATCH, |&b| u32::try_from(b).unwrap());
    let db = BenchStore::open();
    let (store, key_id) = (&db.store, db.key_id);
    let user = db.broker("1000");
    let devices: Vec<String> = (0..2u8)
        .map(|i| {
            let id = format!("bench-device-{i}");
            db.enroll(user, [10 + i; 32], &id);
            id
        })
        .collect();
    assert!(
        store
            .user_by_login(&LoginName::parse("1000").unwrap())
            .unwrap()
            .is_some()
    );

    let started = Instant::now();
    for n in 0..logins {
        let at = T0 + i64::try_from(n).unwrap();
        let txn = format!("txn-{n:012}");
        let challenges: Vec<NewChallenge> = devices
            .iter()
            .map(|d| NewChallenge {
                id: format!("ch-{n:012}-{d}"),
                device_id: d.clone(),
                token: "x".repeat(700),
                expires_at: at + 120,
            })
            .collect();
        let started = store
            .start_push(
                &NewTxn {
                    id: txn.clone(),
                    user_id: user,
                    api_key_id: key_id,
                    method: "push",
                    status: TxnStatus::Pending,
                    number: Some("42".into()),
                    ip: "192.0.2.1".into(),
                    user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into(),
                    service: "Bench".into(),
                    created_at: at,
                    expires_at: at + 120,
                },
                &challenges,
                u32::MAX,
                &NewAuditEntry {
                    actor: "api-key:bench".into(),
                    action: "auth.started",
                    user_id: Some(user),
                    detail: serde_json::json!({"txn": txn, "method": "push"}),
                },
            )
            .unwrap();
        assert_eq!(started, StartPush::Started);
        // Approved, as most logins end (a pending one would also count
        // toward the next login's open-login check).
        let decided = store
            .decide_txn(
                &txn,
                TxnStatus::Approved,
                None,
                at + 5,
                &NewAuditEntry {
                    actor: "api-key:bench".into(),
                    action: "auth.approved",
                    user_id: Some(user),
                    detail: serde_json::json!({"txn": txn}),
                },
            )
            .unwrap();
        assert!(decided);
    }
    println!(
        "filled {logins} logins ({} challenges) in {:.1} s",
        logins * 2,
        started.elapsed().as_secs_f64()
    );

    // Everything lies before the cutoff.
    let cutoff = T0 + i64::try_from(logins).unwrap() + 1_000;
    for table in [PurgeTable::Logins, PurgeTable::Audit] {
        let mut times = Vec::new();
        let mut total = PurgeCounts::default();
        let mut after = i64::MIN;
        let all = Instant::now();
        loop {
            let t = Instant::now();
            let batch = store.purge_batch(table, cutoff, after, batch).unwrap();
            times.push(t.elapsed());
            total += batch.deleted;
            match batch.next {
                Some(n) => after = n,
                None => break,
            }
        }
        let all = all.elapsed();
        times.sort();
        let at = |q: f64| {
            let i = ((times.len() - 1) as f64 * q).round() as usize;
            times[i]
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{table:?}: {} rows in {} batches of {batch}, {:.2} s ({:.0} rows/s); \
             per batch min {:.2} ms, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            total.total(),
            times.len(),
            all.as_secs_f64(),
            total.total() as f64 / all.as_secs_f64(),
            ms(times[0]),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(times[times.len() - 1]),
        );
    }
}
