//! SQLite: the batched purge (see `store::retention` for the rules and why
//! the tables are walked in rowid order).
//!
//! Each batch selects the next `limit` rows after the cursor by rowid (a
//! range read of the table's own b-tree, no index needed), with two flags
//! computed in SQL: `young` (created at or after the cutoff: the walk ends
//! there) and `due` (old enough to delete). Due rows are deleted by rowid.
//! A login's challenges and SMS code are deleted explicitly before it (so
//! they are counted; the `ON DELETE CASCADE` then finds nothing left).

use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::store::StoreError;
use crate::store::retention::{PurgeBatch, PurgeCounts, PurgeTable, RetentionStore};

/// The chunk query of a table: `(rowid, young, due)` of the next rows after
/// `?1`, with the cutoff `?2` and the limit `?3`.
fn walk_sql(table: PurgeTable) -> &'static str {
    match table {
        PurgeTable::Logins => {
            "SELECT rowid, created_at >= ?2,
                    expires_at < ?2 AND coalesce(decided_at, 0) < ?2, id
             FROM auth_txns WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
        PurgeTable::Enrollments => {
            "SELECT rowid, created_at >= ?2,
                    CASE WHEN used_at IS NULL THEN expires_at < ?2 ELSE used_at < ?2 END, ''
             FROM enrollments WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
        PurgeTable::TrustedBrowsers => {
            "SELECT rowid, created_at >= ?2,
                    expires_at < ?2 OR coalesce(revoked_at < ?2, 0), ''
             FROM trusted_browsers WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
        PurgeTable::Denials => {
            "SELECT rowid, at >= ?2, at < ?2, ''
             FROM denials WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
        PurgeTable::PasswordAttempts => {
            "SELECT rowid, at >= ?2, at < ?2, ''
             FROM password_attempts WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
        PurgeTable::Audit => {
            "SELECT rowid, at >= ?2, at < ?2, ''
             FROM audit WHERE rowid > ?1 ORDER BY rowid LIMIT ?3"
        }
    }
}

/// Deletes one due row (by rowid; for a login, its children first) and
/// counts it.
fn delete_row(
    tx: &Connection,
    table: PurgeTable,
    rowid: i64,
    id: &str,
    counts: &mut PurgeCounts,
) -> Result<(), StoreError> {
    let (sql, count) = match table {
        PurgeTable::Logins => {
            counts.challenges += tx
                .prepare_cached("DELETE FROM challenges WHERE txn_id = ?1")?
                .execute([id])? as u64;
            counts.sms_codes += tx
                .prepare_cached("DELETE FROM sms_codes WHERE txn_id = ?1")?
                .execute([id])? as u64;
            ("DELETE FROM auth_txns WHERE rowid = ?1", &mut counts.logins)
        }
        PurgeTable::Enrollments => (
            "DELETE FROM enrollments WHERE rowid = ?1",
            &mut counts.enrollments,
        ),
        PurgeTable::TrustedBrowsers => (
            "DELETE FROM trusted_browsers WHERE rowid = ?1",
            &mut counts.trusted_browsers,
        ),
        PurgeTable::Denials => ("DELETE FROM denials WHERE rowid = ?1", &mut counts.denials),
        PurgeTable::PasswordAttempts => (
            "DELETE FROM password_attempts WHERE rowid = ?1",
            &mut counts.password_attempts,
        ),
        PurgeTable::Audit => ("DELETE FROM audit WHERE rowid = ?1", &mut counts.audit),
    };
    *count += tx.prepare_cached(sql)?.execute([rowid])? as u64;
    Ok(())
}

impl RetentionStore for SqliteStore {
    fn purge_batch(
        &self,
        table: PurgeTable,
        before: i64,
        after: i64,
        limit: u32,
    ) -> Result<PurgeBatch, StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(walk_sql(table))?;
            let rows = stmt
                .query_map(params![after, before, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            drop(stmt);
            let mut deleted = PurgeCounts::default();
            let mut last = after;
            let mut ended = rows.len() < limit as usize;
            for (rowid, young, due, id) in &rows {
                if *young {
                    ended = true;
                    break;
                }
                last = *rowid;
                if *due {
                    delete_row(tx, table, *rowid, id, &mut deleted)?;
                }
            }
            Ok(PurgeBatch {
                deleted,
                next: (!ended).then_some(last),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::auth::{NewChallenge, NewTxn, TxnStatus};
    use crate::store::{AuditStore, AuthStore, NewAuditEntry, SmsStore, UserId};

    const DAY: i64 = 86_400;

    fn count(s: &SqliteStore, sql: &str) -> i64 {
        s.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
    }

    fn exec(s: &SqliteStore, sql: &str, p: impl rusqlite::Params) {
        s.write(|tx| {
            tx.execute(sql, p)?;
            Ok(())
        })
        .unwrap();
    }

    fn audit_entry() -> NewAuditEntry {
        NewAuditEntry {
            actor: "test".into(),
            action: "test.event",
            user_id: None,
            detail: serde_json::json!({}),
        }
    }

    /// A store with broker 1000 and one active device `dev1`.
    fn store() -> (SqliteStore, UserId) {
        let (s, u) = super::super::tests::store_with_broker();
        exec(
            &s,
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (1, 'p', x'01', 1)",
            [],
        );
        exec(
            &s,
            "INSERT INTO devices (id, user_id, jwk, name, platform, status, created_at)
             VALUES ('dev1', ?1, '{}', 'd', 'linux', 'active', 1)",
            [u.0],
        );
        (s, u)
    }

    fn push_login(s: &SqliteStore, u: UserId, id: &str, at: i64) {
        let txn = NewTxn {
            id: id.into(),
            user_id: u,
            api_key_id: 1,
            method: "push",
            status: TxnStatus::Pending,
            number: Some("42".into()),
            ip: "192.0.2.1".into(),
            user_agent: "ua".into(),
            service: "Portal".into(),
            created_at: at,
            expires_at: at + 120,
        };
        let ch = NewChallenge {
            id: format!("ch-{id}"),
            device_id: "dev1".into(),
            token: "jws".into(),
            expires_at: at + 120,
        };
        s.start_push(&txn, &[ch], 1_000_000, &audit_entry())
            .unwrap();
    }

    fn sms_login(s: &SqliteStore, u: UserId, id: &str, at: i64) {
        let txn = NewTxn {
            id: id.into(),
            user_id: u,
            api_key_id: 1,
            method: "sms",
            status: TxnStatus::Pending,
            number: None,
            ip: "192.0.2.1".into(),
            user_agent: "ua".into(),
            service: "Portal".into(),
            created_at: at,
            expires_at: at + 300,
        };
        s.insert_txn(&txn, &audit_entry()).unwrap();
        exec(
            s,
            "INSERT INTO sms_codes (txn_id, code_hash, expires_at) VALUES (?1, x'00', ?2)",
            params![id, at + 300],
        );
    }

    /// Runs batches of `limit` until the walk ends: total counts and batches.
    fn purge_all(
        s: &SqliteStore,
        table: PurgeTable,
        before: i64,
        limit: u32,
    ) -> (PurgeCounts, u32) {
        let (mut total, mut batches, mut after) = (PurgeCounts::default(), 0, i64::MIN);
        loop {
            let b = s.purge_batch(table, before, after, limit).unwrap();
            total += b.deleted;
            batches += 1;
            match b.next {
                Some(n) => after = n,
                None => return (total, batches),
            }
        }
    }

    #[test]
    fn old_logins_go_with_their_challenges_and_codes_young_and_pending_stay() {
        let (s, u) = store();
        let now = 200 * DAY;
        let cutoff = now - 90 * DAY;
        push_login(&s, u, "old-push", cutoff - DAY);
        sms_login(&s, u, "old-sms", cutoff - DAY);
        // Decided after the cutoff (push locked much later): kept.
        push_login(&s, u, "old-late", cutoff - DAY);
        exec(
            &s,
            "UPDATE auth_txns SET status = 'locked', decided_at = ?1 WHERE id = 'old-late'",
            [cutoff + 10],
        );
        // Expires just at the cutoff: not yet.
        push_login(&s, u, "edge", cutoff - 120);
        push_login(&s, u, "young", cutoff + DAY);
        push_login(&s, u, "pending", now - 10);

        let (n, _) = purge_all(&s, PurgeTable::Logins, cutoff, 500);
        assert_eq!((n.logins, n.challenges, n.sms_codes), (2, 1, 1));
        assert_eq!(n.total(), 4);
        let left: String = s
            .read(|c| {
                Ok(c.query_row(
                    "SELECT group_concat(id, ',') FROM (SELECT id FROM auth_txns ORDER BY rowid)",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(left, "old-late,edge,young,pending");
        assert_eq!(count(&s, "SELECT count(*) FROM challenges"), 4);
        assert_eq!(count(&s, "SELECT count(*) FROM sms_codes"), 0);
        assert!(s.txn("pending").unwrap().is_some());
        assert!(s.challenge("ch-pending").unwrap().is_some());
        // A second purge finds nothing more.
        assert_eq!(purge_all(&s, PurgeTable::Logins, cutoff, 500).0.total(), 0);
    }

    #[test]
    fn more_rows_than_one_batch_all_go_batch_by_batch() {
        let (s, u) = store();
        for i in 0..25 {
            push_login(&s, u, &format!("t{i:02}"), 1_000 + i);
            exec(
                &s,
                "INSERT INTO denials (user_id, at, kind) VALUES (?1, ?2, 'deny')",
                params![u.0, 1_000 + i],
            );
        }
        push_login(&s, u, "young", 50_000);
        let (n, batches) = purge_all(&s, PurgeTable::Logins, 10_000, 4);
        assert_eq!((n.logins, n.challenges), (25, 25));
        assert!(batches >= 7, "{batches} batches");
        assert_eq!(count(&s, "SELECT count(*) FROM auth_txns"), 1);
        let (n, _) = purge_all(&s, PurgeTable::Denials, 10_000, 4);
        assert_eq!(n.denials, 25);
        assert_eq!(count(&s, "SELECT count(*) FROM denials"), 0);
    }

    #[test]
    fn one_batch_looks_at_no_more_than_its_limit() {
        let (s, u) = store();
        for i in 0..10 {
            push_login(&s, u, &format!("t{i}"), 1_000 + i);
        }
        let b = s
            .purge_batch(PurgeTable::Logins, 10_000, i64::MIN, 3)
            .unwrap();
        assert_eq!(b.deleted.logins, 3);
        assert!(b.next.is_some());
        assert_eq!(count(&s, "SELECT count(*) FROM auth_txns"), 7);
    }

    #[test]
    fn enrollments_trusted_browsers_attempts_and_audit() {
        let (s, u) = store();
        let cutoff = 10_000;
        // Enrollments: used long ago, expired unused long ago, used recently
        // (created before the cutoff), still open.
        exec(
            &s,
            "INSERT INTO enrollments (token_hash, user_id, created_at, expires_at, used_at)
             VALUES (x'01', ?1, 100, 700, 200), (x'02', ?1, 100, 700, NULL),
                    (x'03', ?1, 9_000, 9_600, 10_500), (x'04', ?1, 19_000, 19_600, NULL)",
            [u.0],
        );
        // Trusted browsers: expired, revoked, valid for a long time yet.
        exec(
            &s,
            "INSERT INTO trusted_browsers (id, user_id, user_agent, ip, created_at, expires_at, revoked_at)
             VALUES ('b1', ?1, 'ua', 'ip', 100, 5_000, NULL),
                    ('b2', ?1, 'ua', 'ip', 100, 90_000, 6_000),
                    ('b3', ?1, 'ua', 'ip', 100, 90_000, NULL),
                    ('b4', ?1, 'ua', 'ip', 200, 90_000, 20_000)",
            [u.0],
        );
        exec(
            &s,
            "INSERT INTO password_attempts (login, at) VALUES ('1000', 100), ('1000', 10_001)",
            [],
        );
        s.audit(&audit_entry(), 500).unwrap();
        s.audit(&audit_entry(), 20_000).unwrap();

        let (n, _) = purge_all(&s, PurgeTable::Enrollments, cutoff, 500);
        assert_eq!(n.enrollments, 2);
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM enrollments WHERE token_hash IN (x'03', x'04')"
            ),
            2
        );
        let (n, _) = purge_all(&s, PurgeTable::TrustedBrowsers, cutoff, 500);
        assert_eq!(n.trusted_browsers, 2);
        assert_eq!(
            count(
                &s,
                "SELECT count(*) FROM trusted_browsers WHERE id IN ('b3', 'b4')"
            ),
            2
        );
        let (n, _) = purge_all(&s, PurgeTable::PasswordAttempts, cutoff, 500);
        assert_eq!(n.password_attempts, 1);
        let audit_before = count(&s, "SELECT count(*) FROM audit");
        let (n, _) = purge_all(&s, PurgeTable::Audit, cutoff, 500);
        assert_eq!(n.audit, 1);
        assert_eq!(count(&s, "SELECT count(*) FROM audit"), audit_before - 1);
        assert_eq!(count(&s, "SELECT min(at) FROM audit"), 20_000);
    }

    #[test]
    fn the_sms_ledger_is_never_touched() {
        let (s, u) = store();
        s.write(|tx| {
            for i in 0..3 {
                tx.execute(
                    "INSERT INTO sms_ledger (broker_id, user_id, user_login, phone_masked, purpose,
                                             sent_at, net_cents, vat_bp)
                     VALUES (?1, ?1, '1000', '+49151******11', 'login', ?2, 10, 1900)",
                    params![u.0, 100 + i],
                )?;
            }
            Ok(())
        })
        .unwrap();
        sms_login(&s, u, "old-sms", 100);
        let before = s.sms_ledger(u, 0, i64::MAX, 100).unwrap();
        for table in [
            PurgeTable::Logins,
            PurgeTable::Enrollments,
            PurgeTable::TrustedBrowsers,
            PurgeTable::Denials,
            PurgeTable::PasswordAttempts,
            PurgeTable::Audit,
        ] {
            purge_all(&s, table, i64::MAX, 2);
        }
        assert_eq!(count(&s, "SELECT count(*) FROM auth_txns"), 0);
        assert_eq!(count(&s, "SELECT count(*) FROM sms_ledger"), 3);
        assert_eq!(s.sms_ledger(u, 0, i64::MAX, 100).unwrap(), before);
    }
}
