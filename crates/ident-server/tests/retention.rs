//! Retention over real HTTP: after the login retention has passed, the purge
//! deletes finished and long-expired logins; their status is 404, a late
//! answer from a phone that still shows the request is refused with
//! `challenge-not-found`, a login started now is untouched and still works,
//! and the SMS ledger keeps every entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use std::sync::Arc;

use common::TestApp;
use common::phone::{self, Phone};
use ident_core::ports::{Clock, ManualClock};
use ident_core::protocol::{AnswerOutcome, Client, ProblemType};
use ident_server::domain::LoginName;
use ident_server::services::retention;
use ident_server::store::{AuditStore, UserStore};
use reqwest::Method;
use serde_json::Value;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

/// A server with broker 1000 (mobile number on file) and 30 days of login
/// retention.
async fn server() -> TestApp {
    common::spawn_app_with_broker(|c| c.retention.login_days = 30).await
}

/// Starts a login: the response's JSON.
async fn start(app: &TestApp, method: &str) -> Value {
    common::json(common::start_auth(app, method).await, 200).await
}

async fn status(app: &TestApp, txn: &str) -> reqwest::Response {
    app.rp(Method::GET, &format!("/api/v1/auth/{txn}"))
        .send()
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, txn: &str) -> Value {
    let r = status(app, txn).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn purged_logins_are_gone_and_late_answers_refused_while_new_ones_work() {
    let app = server().await;
    let dev = Phone::enroll(&app, "1000").await;
    let broker = app
        .state
        .store
        .user_by_login(&LoginName::parse("1000").unwrap())
        .unwrap()
        .unwrap();

    // An approved login, one the phone showed but nobody answered, and an
    // SMS login (charged to the broker's ledger).
    let approved = start(&app, "push").await;
    let shown = dev.fetch(None).await;
    assert_eq!(shown.len(), 1);
    dev.answer(&shown[0], phone::approve(&field(&approved, "number")))
        .await
        .unwrap();
    let ignored = start(&app, "push").await;
    let late = dev.fetch(None).await;
    assert_eq!(late.len(), 1);
    let sms = start(&app, "sms").await;
    let ledger = app
        .state
        .store
        .sms_ledger(broker.id, 0, i64::MAX, 100)
        .unwrap();
    assert_eq!(ledger.len(), 1);

    // Nothing is old enough yet.
    let counts = retention::purge_now(&app.state).await.unwrap();
    assert_eq!(counts.logins, 0, "{counts:?}");
    assert_eq!(
        status_of(&app, &field(&approved, "txn")).await["status"],
        "approved"
    );

    // 31 days later a new login starts, then the purge runs.
    app.clock.advance(31 * DAY);
    let fresh = start(&app, "push").await;
    let counts = retention::purge_now(&app.state).await.unwrap();
    assert_eq!(
        (counts.logins, counts.challenges, counts.sms_codes),
        (3, 2, 1),
        "{counts:?}"
    );

    // The purged logins are unknown: 404 `not-found`.
    for old in [&approved, &ignored, &sms] {
        let r = status(&app, &field(old, "txn")).await;
        assert_eq!(r.status(), 404);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["type"], "urn:ident:problem:not-found", "{body}");
    }
    // The phone that still shows the ignored request answers it. The app
    // itself no longer signs an answer to an expired challenge, so the
    // answer is one signed while the challenge was open and delivered now:
    // refused cleanly, nothing decided, no denial.
    let mut stale = dev.clone();
    stale.client = Client::new(
        common::transport(),
        Arc::new(ManualClock::at(T0 + 60)) as Arc<dyn Clock>,
    );
    let e = stale
        .answer(&late[0], phone::approve(&field(&ignored, "number")))
        .await
        .unwrap_err();
    assert_eq!(
        e.problem_type(),
        Some(ProblemType::ChallengeNotFound),
        "{e:?}"
    );

    // The login started before the purge is untouched and completes.
    assert_eq!(
        status_of(&app, &field(&fresh, "txn")).await["status"],
        "pending"
    );
    let shown = dev.fetch(None).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(
        dev.answer(&shown[0], phone::approve(&field(&fresh, "number")))
            .await
            .unwrap(),
        AnswerOutcome::Approved
    );
    assert_eq!(
        status_of(&app, &field(&fresh, "txn")).await["status"],
        "approved"
    );

    // The ledger keeps the SMS; the purge is audited with its counts only.
    assert_eq!(
        app.state
            .store
            .sms_ledger(broker.id, 0, i64::MAX, 100)
            .unwrap(),
        ledger
    );
    let log = app.state.store.audit_log(None, 200).unwrap();
    let purged: Vec<_> = log
        .iter()
        .filter(|e| e.action == "retention.purged")
        .collect();
    assert_eq!(purged.len(), 1, "only the purge that deleted something");
    assert_eq!(purged[0].actor, "system");
    assert_eq!(purged[0].detail["logins"], 3);
    assert_eq!(purged[0].detail["challenges"], 2);
    assert!(
        !log.iter()
            .any(|e| e.action == "challenge.answered" && e.detail["txn"] == ignored["txn"]),
        "the late answer decided nothing"
    );
    // The audit log itself is kept (no audit retention by default).
    assert!(
        log.iter().any(|e| e.action == "auth.started" && e.at == T0),
        "the first login's audit entry is still there"
    );
}

/// `ident-server admin purge` runs one purge and says what it deleted; a
/// retention out of range is refused before anything is deleted.
#[test]
fn the_admin_command_purges_once_and_prints_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ident.db");
    {
        let store = ident_server::store::SqliteStore::open(&db, false).unwrap();
        // Two wrong passwords counted in 1970: long out of their window.
        let login = LoginName::parse("1000").unwrap();
        for at in [1_000_000, 1_000_001] {
            store.begin_password_attempt(&login, at, 900, 10).unwrap();
        }
    }
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ident-server"))
            .args(["admin", "--db", db.to_str().unwrap(), "purge"])
            .args(args)
            .env_remove("IDENT_CONFIG")
            .env_remove("IDENT_RETENTION_LOGIN_DAYS")
            .env_remove("IDENT_RETENTION_AUDIT_DAYS")
            .output()
            .unwrap()
    };
    let refused = run(&["--retention-login-days", "99999"]);
    assert!(!refused.status.success());
    let err = String::from_utf8(refused.stderr).unwrap();
    assert!(err.contains("retention.login_days"), "{err}");

    let out = run(&[]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Purged 0 finished logins"), "{text}");
    assert!(
        text.contains(", 2 password attempts and 0 audit entries."),
        "{text}"
    );
    assert!(text.contains("The SMS ledger is never purged."), "{text}");
    // Nothing left to delete the second time.
    let again = String::from_utf8(run(&[]).stdout).unwrap();
    assert!(again.contains(", 0 password attempts"), "{again}");

    let store = ident_server::store::SqliteStore::open(&db, false).unwrap();
    let log = store.audit_log(None, 10).unwrap();
    assert_eq!(log.len(), 1, "only the purge that deleted something");
    assert_eq!(log[0].action, "retention.purged");
    assert_eq!(log[0].actor, "admin-cli");
    assert_eq!(log[0].detail["password_attempts"], 2);
}
