//! SQLite: SMS login codes and the SMS ledger.
//!
//! Every deciding step runs in one immediate (write-locking) transaction, so
//! the rate limit, the try counter and the single use of a code hold under
//! concurrent requests and across several connections to the same file.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use super::audit::audit_in;
use crate::domain::{Cents, VatRate};
use crate::store::sms::{LedgerEntry, Reserved, SmsPurpose, SmsReservation, SmsTry};
use crate::store::{NewAuditEntry, SmsStore, StoreError, UserId};

/// Seconds of the rate-limit window.
const HOUR: i64 = 3_600;

impl SmsStore for SqliteStore {
    fn reserve_sms(&self, r: &SmsReservation, now: i64) -> Result<Reserved, StoreError> {
        self.write(|tx| {
            let user = r.ledger.user_id.0;
            let window_start = now - HOUR;
            let sent: i64 = tx.query_row(
                "SELECT count(*) FROM sms_ledger WHERE user_id = ?1 AND sent_at > ?2",
                params![user, window_start],
                |row| row.get(0),
            )?;
            let limit = i64::from(r.limit_per_hour);
            if sent >= limit {
                // The slot frees when the entry `sent - limit` places from the
                // oldest in the window leaves it.
                let oldest: i64 = tx.query_row(
                    "SELECT sent_at FROM sms_ledger WHERE user_id = ?1 AND sent_at > ?2
                     ORDER BY sent_at, id LIMIT 1 OFFSET ?3",
                    params![user, window_start, sent - limit],
                    |row| row.get(0),
                )?;
                return Ok(Reserved::RateLimited {
                    retry_after: (oldest + HOUR - now).max(1),
                });
            }
            if let Some(code) = &r.code {
                let owner: Option<i64> = tx
                    .query_row(
                        "SELECT user_id FROM auth_txns WHERE id = ?1",
                        [&code.txn_id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if owner != Some(user) {
                    return Ok(Reserved::NoSuchTxn);
                }
                tx.execute(
                    "INSERT INTO sms_codes (txn_id, code_hash, expires_at, tries) VALUES (?1, ?2, ?3, 0)
                     ON CONFLICT (txn_id) DO UPDATE
                     SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0",
                    params![code.txn_id, &code.code_hash[..], code.expires_at],
                )?;
            }
            let l = &r.ledger;
            tx.execute(
                "INSERT INTO sms_ledger (broker_id, user_id, user_login, phone_masked, purpose,
                                         sent_at, net_cents, vat_bp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    l.broker_id.0,
                    l.user_id.0,
                    l.user_login,
                    l.phone_masked,
                    l.purpose.as_str(),
                    now,
                    l.net.0,
                    l.vat.0
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut audit = r.audit.clone();
            if let Some(obj) = audit.detail.as_object_mut() {
                obj.insert("ledger_id".into(), id.into());
            }
            audit_in(tx, &audit, now)?;
            Ok(Reserved::Ok(id))
        })
    }

    fn cancel_sms(
        &self,
        ledger_id: i64,
        txn_id: Option<&str>,
        audit: &NewAuditEntry,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM sms_ledger WHERE id = ?1", [ledger_id])?;
            if let Some(txn) = txn_id {
                tx.execute("DELETE FROM sms_codes WHERE txn_id = ?1", [txn])?;
            }
            audit_in(tx, audit, now)
        })
    }

    fn count_sms_try(&self, txn_id: &str, max_tries: u32, now: i64) -> Result<SmsTry, StoreError> {
        self.write(|tx| {
            let row: Option<(Vec<u8>, i64, i64)> = tx
                .query_row(
                    "SELECT code_hash, expires_at, tries FROM sms_codes WHERE txn_id = ?1",
                    [txn_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((code_hash, expires_at, tries)) = row else {
                return Ok(SmsTry::NoCode);
            };
            let max = i64::from(max_tries);
            if tries >= max {
                return Ok(SmsTry::Exhausted);
            }
            if now >= expires_at {
                return Ok(SmsTry::Expired);
            }
            tx.execute(
                "UPDATE sms_codes SET tries = tries + 1 WHERE txn_id = ?1",
                [txn_id],
            )?;
            let left = u32::try_from(max - tries - 1).unwrap_or(0);
            Ok(SmsTry::Counted {
                code_hash,
                tries_left: left,
            })
        })
    }

    fn consume_sms_code(&self, txn_id: &str, code_hash: &[u8]) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM sms_codes WHERE txn_id = ?1 AND code_hash = ?2",
                params![txn_id, code_hash],
            )?;
            Ok(n == 1)
        })
    }

    fn sms_ledger(
        &self,
        broker: UserId,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, broker_id, user_id, user_login, phone_masked, purpose, sent_at,
                        net_cents, vat_bp
                 FROM sms_ledger
                 WHERE broker_id = ?1 AND sent_at >= ?2 AND sent_at < ?3
                 ORDER BY sent_at, id LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![broker.0, from, to, limit], |r| {
                let purpose: String = r.get(5)?;
                Ok((
                    LedgerEntry {
                        id: r.get(0)?,
                        broker_id: UserId(r.get(1)?),
                        user_id: UserId(r.get(2)?),
                        user_login: r.get(3)?,
                        phone_masked: r.get(4)?,
                        purpose: SmsPurpose::Login,
                        sent_at: r.get(6)?,
                        net: Cents(r.get(7)?),
                        vat: VatRate(r.get(8)?),
                    },
                    purpose,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (mut entry, purpose) = row?;
                entry.purpose = SmsPurpose::parse(&purpose).ok_or_else(|| {
                    StoreError::Corrupt(format!("sms_ledger purpose {purpose:?}"))
                })?;
                out.push(entry);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LoginName, Role};
    use crate::store::sms::{NewLedgerEntry, NewSmsCode};
    use crate::store::{NewUser, UserStore};

    fn setup() -> (SqliteStore, UserId, UserId) {
        let s = SqliteStore::open_in_memory().unwrap();
        let mk = |login: &str, role, broker| NewUser {
            login: LoginName::parse(login).unwrap(),
            display_name: login.into(),
            password_hash: "x".into(),
            role,
            broker_id: broker,
            email: None,
            phone: None,
        };
        let b = s.create_user(&mk("1000", Role::Broker, None), 1).unwrap();
        let c = s
            .create_user(&mk("2000", Role::Customer, Some(b)), 1)
            .unwrap();
        s.write(|tx| {
            tx.execute(
                "INSERT INTO auth_txns (id, user_id, method, status, ip, user_agent, service, created_at, expires_at)
                 VALUES ('t1', ?1, 'sms', 'pending', '1.2.3.4', 'UA', 'portal', 1, 1000)",
                [c.0],
            )?;
            Ok(())
        })
        .unwrap();
        (s, b, c)
    }

    fn reservation(b: UserId, c: UserId, code: Option<&str>, limit: u32) -> SmsReservation {
        SmsReservation {
            ledger: NewLedgerEntry {
                broker_id: b,
                user_id: c,
                user_login: "2000".into(),
                phone_masked: "+49…678".into(),
                purpose: SmsPurpose::Login,
                net: Cents(10),
                vat: VatRate(1900),
            },
            code: code.map(|t| NewSmsCode {
                txn_id: t.into(),
                code_hash: [7; 32],
                expires_at: 400,
            }),
            audit: NewAuditEntry {
                actor: "system".into(),
                action: "sms.sent",
                user_id: Some(c),
                detail: serde_json::json!({}),
            },
            limit_per_hour: limit,
        }
    }

    #[test]
    fn rate_limit_counts_the_last_hour() {
        let (s, b, c) = setup();
        assert!(matches!(
            s.reserve_sms(&reservation(b, c, None, 2), 100).unwrap(),
            Reserved::Ok(_)
        ));
        assert!(matches!(
            s.reserve_sms(&reservation(b, c, None, 2), 200).unwrap(),
            Reserved::Ok(_)
        ));
        assert_eq!(
            s.reserve_sms(&reservation(b, c, None, 2), 300).unwrap(),
            Reserved::RateLimited { retry_after: 3_400 }
        );
        // The first leaves the window after an hour.
        assert!(matches!(
            s.reserve_sms(&reservation(b, c, None, 2), 3_700).unwrap(),
            Reserved::Ok(_)
        ));
        assert_eq!(s.sms_ledger(b, 0, i64::MAX, 100).unwrap().len(), 3);
        assert_eq!(s.sms_ledger(b, 200, 3_700, 100).unwrap().len(), 1);
    }

    #[test]
    fn tries_are_counted_before_comparing_and_codes_are_single_use() {
        let (s, b, c) = setup();
        assert_eq!(
            s.reserve_sms(&reservation(b, c, Some("nope"), 5), 100)
                .unwrap(),
            Reserved::NoSuchTxn
        );
        assert!(s.sms_ledger(b, 0, i64::MAX, 10).unwrap().is_empty());
        assert_eq!(s.count_sms_try("t1", 3, 100).unwrap(), SmsTry::NoCode);
        let Reserved::Ok(id) = s
            .reserve_sms(&reservation(b, c, Some("t1"), 5), 100)
            .unwrap()
        else {
            panic!("not reserved")
        };
        for left in [2, 1, 0] {
            assert_eq!(
                s.count_sms_try("t1", 3, 100).unwrap(),
                SmsTry::Counted {
                    code_hash: vec![7; 32],
                    tries_left: left
                }
            );
        }
        assert_eq!(s.count_sms_try("t1", 3, 100).unwrap(), SmsTry::Exhausted);
        // A new code resets the tries.
        s.reserve_sms(&reservation(b, c, Some("t1"), 5), 100)
            .unwrap();
        assert_eq!(s.count_sms_try("t1", 3, 400).unwrap(), SmsTry::Expired);
        assert!(matches!(
            s.count_sms_try("t1", 3, 399).unwrap(),
            SmsTry::Counted { .. }
        ));
        assert!(!s.consume_sms_code("t1", &[8; 32]).unwrap());
        assert!(s.consume_sms_code("t1", &[7; 32]).unwrap());
        assert!(!s.consume_sms_code("t1", &[7; 32]).unwrap());
        // Cancelling removes the charge.
        let audit = reservation(b, c, None, 1).audit;
        s.cancel_sms(id, Some("t1"), &audit, 500).unwrap();
        assert_eq!(s.sms_ledger(b, 0, i64::MAX, 10).unwrap().len(), 1);
    }
}
