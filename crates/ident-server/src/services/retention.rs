//! Retention: what is old enough to delete, and the hourly purge.
//!
//! Every login leaves records behind (its transaction, a challenge per
//! device with the signed token, audit entries, perhaps denials and an SMS
//! code); at hundreds of logins a second that is millions of rows a day, and
//! bigger tables mean bigger indexes, slower inserts and a full disk. The
//! rules, from the `[retention]` settings and the service's own windows:
//!
//! - **Logins** (with their challenges and SMS codes) once their expiry and
//!   their decision lie `retention.login_days` back; pending logins and open
//!   challenges never (a pending login only once it has also expired that
//!   long ago). Used or expired **enrollments** and expired or revoked
//!   **trusted browsers** after the same time. A purged login's status is
//!   404, an answer to its challenge `challenge-not-found`, a purged trusted
//!   browser's token is refused (its record is required).
//! - **Denials** and **password attempts** once their counting window
//!   (`policy.denial_window_secs`, 15 minutes) plus a day has passed: they
//!   count toward locks only within the window, and the audit log keeps them.
//! - The **audit log** after `retention.audit_days`; 0 (the default) keeps it
//!   for ever: it is the evidence of who did what, an operator decides.
//! - The **SMS ledger** never: it is the accounting record (German law keeps
//!   it ten years), and statements are computed from it.
//!
//! The purge deletes in batches of [`BATCH`] rows, each one short write
//! transaction, with a pause between batches, so logins keep their latency
//! while it runs. The server runs it a minute after start and then every
//! hour ([`spawn`]); `ident-server admin purge` runs it once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::config::Config;
use crate::routes::rp_users::PASSWORD_WINDOW_SECS;
use crate::state::AppState;
use crate::store::retention::{PurgeCounts, PurgeTable};
use crate::store::{NewAuditEntry, Store, StoreError};

/// Rows a purge batch looks at (one write transaction each). For logins,
/// each row brings its challenges (one per device) and SMS code along.
/// Measured with `benches/retention.rs` (50 000 logins of two devices, a
/// shared two-core machine): 64 logins per batch took 0.9 ms median and
/// 2.6 ms at the 99th percentile; 200 took 3.1 and 6.7 ms, too long next to
/// the login's aim of 5 ms at the 99th percentile.
pub const BATCH: u32 = 64;

/// Kept beyond a counting window (denials, password attempts).
const WINDOW_MARGIN_SECS: i64 = 86_400;

/// Seconds in a day.
const DAY_SECS: i64 = 86_400;

/// The first purge after the server starts.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);

/// Between purges.
const EVERY: Duration = Duration::from_secs(3_600);

/// Between two batches of a purge: lets queued requests have the store.
const PAUSE: Duration = Duration::from_millis(5);

/// The cutoffs of one purge, in Unix seconds: records due before them go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeRules {
    /// Logins, enrollments and trusted browsers; `None`: kept for ever.
    pub logins_before: Option<i64>,
    /// Audit entries; `None`: kept for ever.
    pub audit_before: Option<i64>,
    /// Denials.
    pub denials_before: i64,
    /// Password attempts.
    pub password_attempts_before: i64,
}

impl PurgeRules {
    /// The cutoffs for a purge at `now` under `config`.
    pub fn new(config: &Config, now: i64) -> Self {
        let days_back = |days: u32| (days > 0).then(|| now - i64::from(days) * DAY_SECS);
        let window = config.policy.denial_window_secs.max(0);
        Self {
            logins_before: days_back(config.retention.login_days),
            audit_before: days_back(config.retention.audit_days),
            denials_before: now - window - WINDOW_MARGIN_SECS,
            password_attempts_before: now - PASSWORD_WINDOW_SECS - WINDOW_MARGIN_SECS,
        }
    }

    /// What to walk, in order, with its cutoff.
    fn steps(&self) -> Vec<(PurgeTable, i64)> {
        let mut steps = Vec::with_capacity(6);
        if let Some(before) = self.logins_before {
            steps.push((PurgeTable::Logins, before));
            steps.push((PurgeTable::Enrollments, before));
            steps.push((PurgeTable::TrustedBrowsers, before));
        }
        steps.push((PurgeTable::Denials, self.denials_before));
        steps.push((PurgeTable::PasswordAttempts, self.password_attempts_before));
        if let Some(before) = self.audit_before {
            steps.push((PurgeTable::Audit, before));
        }
        steps
    }
}

/// Deletes everything due under `rules`, in batches of `limit` rows.
/// `between` runs between two batches (a pause); when it returns false the
/// purge stops there and returns what it deleted so far.
pub fn purge(
    store: &dyn Store,
    rules: &PurgeRules,
    limit: u32,
    between: &mut dyn FnMut() -> bool,
) -> Result<PurgeCounts, StoreError> {
    let mut total = PurgeCounts::default();
    for (table, before) in rules.steps() {
        let mut after = i64::MIN;
        loop {
            let batch = store.purge_batch(table, before, after, limit.max(1))?;
            total += batch.deleted;
            let Some(next) = batch.next else { break };
            after = next;
            if !between() {
                return Ok(total);
            }
        }
    }
    Ok(total)
}

/// One purge at `now` under `config`, audited as `retention.purged` by
/// `actor` (`system`, `admin-cli`) with the counts when it deleted anything.
pub fn run_once(
    store: &dyn Store,
    config: &Config,
    now: i64,
    actor: &str,
    between: &mut dyn FnMut() -> bool,
) -> Result<PurgeCounts, StoreError> {
    let counts = purge(store, &PurgeRules::new(config, now), BATCH, between)?;
    if counts.total() > 0 {
        store.audit(
            &NewAuditEntry {
                actor: actor.to_owned(),
                action: "retention.purged",
                user_id: None,
                detail: json!(counts),
            },
            now,
        )?;
    }
    Ok(counts)
}

/// One purge now, for the running server (tests move its clock first).
/// Runs on the blocking pool, pausing between batches.
pub async fn purge_now(state: &AppState) -> Result<PurgeCounts, StoreError> {
    run_on_pool(state, Arc::new(AtomicBool::new(false))).await
}

async fn run_on_pool(state: &AppState, stop: Arc<AtomicBool>) -> Result<PurgeCounts, StoreError> {
    let (store, config, now) = (
        Arc::clone(&state.store),
        Arc::clone(&state.config),
        state.now(),
    );
    tokio::task::spawn_blocking(move || {
        run_once(store.as_ref(), &config, now, "system", &mut || {
            std::thread::sleep(PAUSE);
            !stop.load(Ordering::Relaxed)
        })
    })
    .await
    .map_err(|e| StoreError::Db(format!("the purge task failed: {e}")))?
}

/// The server's hourly purge, running in the background until [`stop`](Self::stop).
#[derive(Debug)]
pub struct RetentionTask {
    stop: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
    handle: tokio::task::JoinHandle<()>,
}

/// Starts the hourly purge for the server with `state`: the first a minute
/// from now, then every hour. Each run is logged with its counts.
pub fn spawn(state: AppState) -> RetentionTask {
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop2, wake2) = (Arc::clone(&stop), Arc::clone(&wake));
    let handle = tokio::spawn(async move {
        let mut delay = FIRST_RUN_AFTER;
        loop {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = wake2.notified() => {}
            }
            if stop2.load(Ordering::Relaxed) {
                return;
            }
            let started = std::time::Instant::now();
            match run_on_pool(&state, Arc::clone(&stop2)).await {
                Ok(c) => tracing::info!(
                    logins = c.logins,
                    challenges = c.challenges,
                    sms_codes = c.sms_codes,
                    enrollments = c.enrollments,
                    trusted_browsers = c.trusted_browsers,
                    denials = c.denials,
                    password_attempts = c.password_attempts,
                    audit = c.audit,
                    ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "retention purge done"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "retention purge failed; tried again in an hour")
                }
            }
            delay = EVERY;
        }
    });
    RetentionTask { stop, wake, handle }
}

impl RetentionTask {
    /// Stops the task: a purge under way ends after its current batch.
    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        let _ = self.handle.await;
    }
}

/// The counts as one sentence for the operator (`ident-server admin purge`).
pub fn describe(c: &PurgeCounts) -> String {
    fn n(count: u64, one: &str, many: &str) -> String {
        format!("{count} {}", if count == 1 { one } else { many })
    }
    format!(
        "Purged {} (with {} and {}), {}, {}, {}, {} and {}. The SMS ledger is never purged.",
        n(c.logins, "finished login", "finished logins"),
        n(c.challenges, "challenge", "challenges"),
        n(c.sms_codes, "SMS code", "SMS codes"),
        n(
            c.enrollments,
            "used or expired enrollment",
            "used or expired enrollments"
        ),
        n(
            c.trusted_browsers,
            "expired or revoked trusted browser",
            "expired or revoked trusted browsers"
        ),
        n(c.denials, "denial", "denials"),
        n(c.password_attempts, "password attempt", "password attempts"),
        n(c.audit, "audit entry", "audit entries"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditStore, SqliteStore};

    #[test]
    fn rules_follow_the_settings() {
        let mut config = Config::default();
        let now = 1_000 * DAY_SECS;
        let r = PurgeRules::new(&config, now);
        assert_eq!(r.logins_before, Some(now - 90 * DAY_SECS));
        assert_eq!(r.audit_before, None, "the audit log is kept by default");
        assert_eq!(r.denials_before, now - 600 - DAY_SECS);
        assert_eq!(r.password_attempts_before, now - 900 - DAY_SECS);
        assert!(!r.steps().iter().any(|(t, _)| *t == PurgeTable::Audit));
        config.retention.login_days = 0;
        config.retention.audit_days = 365;
        let r = PurgeRules::new(&config, now);
        assert_eq!(r.logins_before, None);
        assert_eq!(r.audit_before, Some(now - 365 * DAY_SECS));
        let tables: Vec<_> = r.steps().into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            tables,
            [
                PurgeTable::Denials,
                PurgeTable::PasswordAttempts,
                PurgeTable::Audit
            ]
        );
    }

    #[test]
    fn a_purge_is_audited_only_when_it_deleted_something() {
        let s = SqliteStore::open_in_memory().unwrap();
        let config = Config::default();
        let now = 1_000 * DAY_SECS;
        let c = run_once(&s, &config, now, "system", &mut || true).unwrap();
        assert_eq!(c.total(), 0);
        assert!(s.audit_log(None, 10).unwrap().is_empty());
        s.write(|tx| {
            tx.execute(
                "INSERT INTO password_attempts (login, at) VALUES ('1000', 5), ('1000', 6)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        let c = run_once(&s, &config, now, "system", &mut || true).unwrap();
        assert_eq!(c.password_attempts, 2);
        let log = s.audit_log(None, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "retention.purged");
        assert_eq!(log[0].actor, "system");
        assert_eq!(log[0].detail["password_attempts"], 2);
        assert_eq!(log[0].detail["logins"], 0);
    }

    #[test]
    fn a_stopped_purge_ends_after_its_batch() {
        let s = SqliteStore::open_in_memory().unwrap();
        s.write(|tx| {
            for i in 0..10 {
                tx.execute(
                    "INSERT INTO password_attempts (login, at) VALUES ('x', ?1)",
                    [i],
                )?;
            }
            Ok(())
        })
        .unwrap();
        let rules = PurgeRules::new(&Config::default(), 1_000 * DAY_SECS);
        let c = purge(&s, &rules, 3, &mut || false).unwrap();
        assert_eq!(c.password_attempts, 3);
        let c = purge(&s, &rules, 3, &mut || true).unwrap();
        assert_eq!(c.password_attempts, 7);
    }

    #[test]
    fn the_sentence_counts() {
        let c = PurgeCounts {
            logins: 1,
            challenges: 2,
            audit: 1,
            ..PurgeCounts::default()
        };
        assert_eq!(
            describe(&c),
            "Purged 1 finished login (with 2 challenges and 0 SMS codes), 0 used or expired \
             enrollments, 0 expired or revoked trusted browsers, 0 denials, 0 password attempts \
             and 1 audit entry. The SMS ledger is never purged."
        );
    }
}
