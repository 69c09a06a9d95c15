//! SQLite: devices, enrollments and the proof replay window.
//!
//! Every deciding step (claim a token, count a code try, activate a device)
//! is a conditional `UPDATE` inside an immediate transaction; the number of
//! changed rows is the decision, so concurrent requests cannot both win.

use ident_core::jose::Jwk;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;

use super::SqliteStore;
use super::audit::audit_in;
use crate::store::devices::{Claimed, CodeTry, Device, DeviceStatus, Enrollment, NewDevice};
use crate::store::{DeviceStore, NewAuditEntry, StoreError, UserId};

/// Expired replay records are purged on every `PURGE_EVERY`-th accepted
/// proof (keeps the table small without a background job; purging on every
/// proof wrote a page more per request). They are a contiguous range at the
/// start of the table's key, so one purge is cheap however many it removes.
const PURGE_EVERY: u32 = 64;

/// `last_used_at` is written at most once per this many seconds per device
/// (an update per request was a page write per request for a value shown
/// to the minute).
pub const LAST_USED_PRECISION_SECS: i64 = 60;

const DEVICE_COLUMNS: &str =
    "id, user_id, jwk, name, platform, push_provider, push_token, status, created_at, last_used_at";

fn device_from_row(r: &Row<'_>) -> rusqlite::Result<Result<Device, StoreError>> {
    let jwk: String = r.get(2)?;
    let status: String = r.get(7)?;
    let id: String = r.get(0)?;
    let parsed = (|| {
        let jwk: Jwk = serde_json::from_str(&jwk)
            .map_err(|_| StoreError::Corrupt(format!("device {id}: key")))?;
        let status = match status.as_str() {
            "active" => DeviceStatus::Active,
            "pending_sms" => DeviceStatus::PendingSms,
            _ => return Err(StoreError::Corrupt(format!("device {id}: status"))),
        };
        Ok((jwk, status))
    })();
    let (jwk, status) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Device {
        id,
        user_id: UserId(r.get(1)?),
        jwk,
        name: r.get(3)?,
        platform: r.get(4)?,
        push_provider: r.get(5)?,
        push_token: r.get(6)?,
        status,
        created_at: r.get(8)?,
        last_used_at: r.get(9)?,
    }))
}

/// The device `id` (also used inside other stores' read snapshots).
pub(super) fn query_device(c: &Connection, id: &str) -> Result<Option<Device>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
    ))?
    .query_row([id], device_from_row)
    .optional()?
    .transpose()
}

/// The active devices of `user`, oldest first.
pub(super) fn query_active_devices(
    c: &Connection,
    user: UserId,
) -> Result<Vec<Device>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = ?1 AND status = 'active'
         ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([user.0], device_from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}

const ENROLLMENT_COLUMNS: &str = "id, user_id, created_at, expires_at, used_at, device_id";

fn enrollment_from_row(r: &Row<'_>) -> rusqlite::Result<Enrollment> {
    Ok(Enrollment {
        id: r.get(0)?,
        user_id: UserId(r.get(1)?),
        created_at: r.get(2)?,
        expires_at: r.get(3)?,
        used_at: r.get(4)?,
        device_id: r.get(5)?,
    })
}

fn insert_device(
    tx: &Connection,
    d: &NewDevice,
    user: UserId,
    status: DeviceStatus,
    now: i64,
) -> Result<(), StoreError> {
    let jwk =
        serde_json::to_string(&d.jwk).map_err(|e| StoreError::Db(format!("device key: {e}")))?;
    tx.execute(
        "INSERT INTO devices (id, user_id, jwk, name, platform, push_provider, push_token, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            d.id,
            user.0,
            jwk,
            d.name,
            d.platform,
            d.push_provider,
            d.push_token,
            status.as_str(),
            now
        ],
    )?;
    Ok(())
}

fn device_audit(
    action: &'static str,
    user: UserId,
    device: &str,
    enrollment: i64,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: format!("device:{device}"),
        action,
        user_id: Some(user),
        detail: json!({"enrollment": enrollment, "device_id": device}),
    }
}

/// Deletes the devices of SMS-confirmed enrollments that can no longer be
/// confirmed — their enrollment expired or their code did — without anyone
/// trying again (a failed try deletes its device at once; see
/// `fail_enrollment`). Such a device could never be used, and its public key
/// and name would stay forever. Runs inside the enrollment writes, which are
/// rare, so no background job is needed; each removal is audited.
fn purge_abandoned_devices(tx: &Connection, now: i64) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT d.id, d.user_id, e.id FROM devices d LEFT JOIN enrollments e ON e.device_id = d.id
         WHERE d.status = 'pending_sms'
           AND (d.sms_expires_at < ?1 OR e.id IS NULL OR (e.used_at IS NULL AND e.expires_at < ?1))",
    )?;
    let dead = stmt
        .query_map([now], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    for (device, user, enrollment) in dead {
        tx.prepare_cached("DELETE FROM devices WHERE id = ?1 AND status = 'pending_sms'")?
            .execute([&device])?;
        audit_in(
            tx,
            &NewAuditEntry {
                actor: "system".into(),
                action: "enrollment.abandoned",
                user_id: Some(UserId(user)),
                detail: json!({"enrollment": enrollment, "device_id": device}),
            },
            now,
        )?;
    }
    Ok(())
}

impl DeviceStore for SqliteStore {
    fn create_enrollment(
        &self,
        user: UserId,
        now: i64,
        expires_at: i64,
        token_hash_of: &dyn Fn(i64) -> [u8; 32],
        actor: &str,
    ) -> Result<i64, StoreError> {
        self.write(|tx| {
            purge_abandoned_devices(tx, now)?;
            // A random placeholder keeps the UNIQUE column happy until the id is known.
            tx.execute(
                "INSERT INTO enrollments (token_hash, user_id, created_at, expires_at)
                 VALUES (randomblob(32), ?1, ?2, ?3)",
                params![user.0, now, expires_at],
            )?;
            let id = tx.last_insert_rowid();
            let hash = token_hash_of(id);
            tx.execute(
                "UPDATE enrollments SET token_hash = ?1 WHERE id = ?2",
                params![&hash[..], id],
            )?;
            audit_in(
                tx,
                &NewAuditEntry {
                    actor: actor.to_owned(),
                    action: "enrollment.created",
                    user_id: Some(user),
                    detail: json!({"enrollment": id, "expires_at": expires_at}),
                },
                now,
            )?;
            Ok(id)
        })
    }

    fn enrollment(&self, id: i64) -> Result<Option<Enrollment>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE id = ?1"),
                [id],
                enrollment_from_row,
            )
            .optional()?)
        })
    }

    fn claim_enrollment(
        &self,
        token_hash: &[u8; 32],
        device: &NewDevice,
        pending_sms: bool,
        now: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        self.write(|tx| {
            purge_abandoned_devices(tx, now)?;
            // Only while the user has a mobile number on file (it may have
            // been removed since the code was shown).
            let found: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT e.id, e.user_id FROM enrollments e
                     JOIN users u ON u.id = e.user_id AND u.phone IS NOT NULL
                     WHERE e.token_hash = ?1 AND e.used_at IS NULL AND e.device_id IS NULL
                       AND e.expires_at >= ?2",
                    params![&token_hash[..], now],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((enrollment_id, user)) = found else {
                return Ok(None);
            };
            let user = UserId(user);
            let used_at = (!pending_sms).then_some(now);
            let n = tx.execute(
                "UPDATE enrollments SET device_id = ?1, used_at = ?2
                 WHERE id = ?3 AND used_at IS NULL AND device_id IS NULL",
                params![device.id, used_at, enrollment_id],
            )?;
            if n != 1 {
                return Ok(None);
            }
            let (status, action) = if pending_sms {
                (DeviceStatus::PendingSms, "enrollment.device_pending")
            } else {
                (DeviceStatus::Active, "enrollment.completed")
            };
            insert_device(tx, device, user, status, now)?;
            audit_in(
                tx,
                &device_audit(action, user, &device.id, enrollment_id),
                now,
            )?;
            Ok(Some(Claimed {
                enrollment_id,
                user_id: user,
            }))
        })
    }

    fn release_enrollment(&self, enrollment_id: i64, device_id: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM devices WHERE id = ?1 AND status = 'pending_sms'",
                [device_id],
            )?;
            tx.execute(
                "UPDATE enrollments SET device_id = NULL
                 WHERE id = ?1 AND device_id = ?2 AND used_at IS NULL",
                params![enrollment_id, device_id],
            )?;
            Ok(())
        })
    }

    fn set_device_code(
        &self,
        device_id: &str,
        code_hash: &[u8; 32],
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE devices SET sms_code_hash = ?1, sms_expires_at = ?2, sms_tries = 0
                 WHERE id = ?3 AND status = 'pending_sms'",
                params![&code_hash[..], expires_at, device_id],
            )?;
            Ok(())
        })
    }

    fn pending_enrollment(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<(Enrollment, Device)>, StoreError> {
        self.read(|c| {
            let e = c
                .query_row(
                    &format!(
                        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments
                         WHERE token_hash = ?1 AND used_at IS NULL AND device_id IS NOT NULL
                           AND expires_at >= ?2"
                    ),
                    params![&token_hash[..], now],
                    enrollment_from_row,
                )
                .optional()?;
            let Some(e) = e else { return Ok(None) };
            let d = c
                .query_row(
                    &format!(
                        "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1 AND status = 'pending_sms'"
                    ),
                    [&e.device_id],
                    device_from_row,
                )
                .optional()?
                .transpose()?;
            Ok(d.map(|d| (e, d)))
        })
    }

    fn count_device_code_try(
        &self,
        device_id: &str,
        max: u32,
        now: i64,
    ) -> Result<CodeTry, StoreError> {
        self.write(|tx| {
            let row: Option<(Option<Vec<u8>>, Option<i64>, u32)> = tx
                .query_row(
                    "SELECT sms_code_hash, sms_expires_at, sms_tries FROM devices
                     WHERE id = ?1 AND status = 'pending_sms'",
                    [device_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((Some(hash), Some(expires_at), tries)) = row else {
                return Ok(CodeTry::Expired);
            };
            if expires_at < now {
                return Ok(CodeTry::Expired);
            }
            if tries >= max {
                return Ok(CodeTry::Exhausted);
            }
            tx.execute(
                "UPDATE devices SET sms_tries = sms_tries + 1 WHERE id = ?1",
                [device_id],
            )?;
            Ok(CodeTry::Counted {
                code_hash: hash,
                tries_left: max - tries - 1,
            })
        })
    }

    fn complete_enrollment(
        &self,
        enrollment_id: i64,
        device_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE enrollments SET used_at = ?1
                 WHERE id = ?2 AND device_id = ?3 AND used_at IS NULL AND expires_at >= ?1",
                params![now, enrollment_id, device_id],
            )?;
            let m = tx.execute(
                "UPDATE devices SET status = 'active', sms_code_hash = NULL, sms_expires_at = NULL
                 WHERE id = ?1 AND status = 'pending_sms'",
                [device_id],
            )?;
            if n != 1 || m != 1 {
                // Dropping `tx` without commit would also roll back; be explicit.
                return Err(StoreError::Conflict("enrollment no longer pending".into()));
            }
            let user: i64 = tx.query_row(
                "SELECT user_id FROM devices WHERE id = ?1",
                [device_id],
                |r| r.get(0),
            )?;
            audit_in(
                tx,
                &device_audit(
                    "enrollment.completed",
                    UserId(user),
                    device_id,
                    enrollment_id,
                ),
                now,
            )?;
            Ok(true)
        })
        .or_else(|e| match e {
            StoreError::Conflict(_) => Ok(false),
            other => Err(other),
        })
    }

    fn fail_enrollment(
        &self,
        enrollment_id: i64,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let user: Option<i64> = tx
                .query_row(
                    "SELECT user_id FROM enrollments WHERE id = ?1",
                    [enrollment_id],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute(
                "DELETE FROM devices WHERE id = ?1 AND status = 'pending_sms'",
                [device_id],
            )?;
            let n = tx.execute(
                "UPDATE enrollments SET expires_at = MIN(expires_at, ?1 - 1)
                 WHERE id = ?2 AND used_at IS NULL",
                params![now, enrollment_id],
            )?;
            if let (1, Some(user)) = (n, user) {
                audit_in(
                    tx,
                    &device_audit("enrollment.failed", UserId(user), device_id, enrollment_id),
                    now,
                )?;
            }
            Ok(())
        })
    }

    fn device(&self, id: &str) -> Result<Option<Device>, StoreError> {
        self.read(|c| query_device(c, id))
    }

    fn active_devices(&self, user: UserId) -> Result<Vec<Device>, StoreError> {
        self.read(|c| query_active_devices(c, user))
    }

    fn first_use_proof(
        &self,
        key: &str,
        keep_until: i64,
        now: i64,
        touch: Option<&str>,
    ) -> Result<bool, StoreError> {
        let purge = self
            .proofs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % PURGE_EVERY
            == 0;
        self.write(|tx| {
            // Every device request passes here: cached statements skip the SQL parser.
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO proof_jtis (jti, expires_at) VALUES (?1, ?2)",
                )?
                .execute(params![key, keep_until])?;
            if n == 1 {
                if let Some(device) = touch {
                    tx.prepare_cached(
                        "UPDATE devices SET last_used_at = ?1
                         WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?1 - ?3)",
                    )?
                    .execute(params![
                        now,
                        device,
                        LAST_USED_PRECISION_SECS
                    ])?;
                }
            }
            if purge {
                tx.prepare_cached("DELETE FROM proof_jtis WHERE expires_at < ?1")?
                    .execute([now])?;
            }
            Ok(n == 1)
        })
    }

    fn set_push(
        &self,
        device_id: &str,
        provider: &str,
        token: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let user: Option<i64> = tx
                .query_row(
                    "SELECT user_id FROM devices WHERE id = ?1",
                    [device_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(user) = user else {
                return Err(StoreError::NotFound);
            };
            tx.execute(
                "UPDATE devices SET push_provider = ?1, push_token = ?2 WHERE id = ?3",
                params![provider, token, device_id],
            )?;
            audit_in(
                tx,
                &NewAuditEntry {
                    actor: format!("device:{device_id}"),
                    action: "device.push_changed",
                    user_id: Some(UserId(user)),
                    detail: json!({"device_id": device_id, "provider": provider}),
                },
                now,
            )
        })
    }

    fn delete_device(
        &self,
        user: UserId,
        device_id: &str,
        audit: &NewAuditEntry,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM devices WHERE id = ?1 AND user_id = ?2 AND status = 'active'",
                params![device_id, user.0],
            )?;
            if n == 1 {
                audit_in(tx, audit, now)?;
            }
            Ok(n == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditStore;

    impl SqliteStore {
        fn enrollment_of_device(&self, device: &str) -> i64 {
            self.read(|c| {
                Ok(c.query_row(
                    "SELECT id FROM enrollments WHERE device_id = ?1",
                    [device],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
        }
    }

    fn store_with_device() -> (SqliteStore, String) {
        let (s, user) = super::super::tests::store_with_broker();
        s.create_enrollment(user, 1, 600, &|_| [7; 32], "test")
            .unwrap();
        let device = NewDevice {
            id: "device-0001".into(),
            jwk: ident_core::device_key::DeviceKey::generate()
                .unwrap()
                .0
                .public_jwk(),
            name: "d".into(),
            platform: "linux".into(),
            push_provider: "none".into(),
            push_token: None,
        };
        s.claim_enrollment(&[7; 32], &device, false, 1).unwrap();
        (s, device.id)
    }

    fn jtis(s: &SqliteStore) -> i64 {
        s.read(|c| Ok(c.query_row("SELECT count(*) FROM proof_jtis", [], |r| r.get(0))?))
            .unwrap()
    }

    fn pending_devices(s: &SqliteStore) -> Vec<String> {
        s.read(|c| {
            let mut st =
                c.prepare("SELECT id FROM devices WHERE status = 'pending_sms' ORDER BY id")?;
            let ids = st
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        })
        .unwrap()
    }

    fn pending_claim(s: &SqliteStore, user: UserId, id: &str, token: u8, now: i64) {
        s.create_enrollment(user, now, now + 600, &|_| [token; 32], "test")
            .unwrap();
        let device = NewDevice {
            id: id.into(),
            jwk: ident_core::device_key::DeviceKey::generate()
                .unwrap()
                .0
                .public_jwk(),
            name: "d".into(),
            platform: "linux".into(),
            push_provider: "none".into(),
            push_token: None,
        };
        assert!(
            s.claim_enrollment(&[token; 32], &device, true, now)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn abandoned_sms_enrollments_leave_no_device_behind() {
        let (s, _) = store_with_device();
        let user = s.device("device-0001").unwrap().unwrap().user_id;
        // Code sent, never typed: dead once the code has expired.
        pending_claim(&s, user, "pending-code", 1, 1_000);
        s.set_device_code("pending-code", &[9; 32], 1_300).unwrap();
        // Not even a code yet, but the enrollment expires at 1,600.
        pending_claim(&s, user, "pending-enrollment", 2, 1_000);
        // A fresh one must survive.
        pending_claim(&s, user, "pending-fresh", 3, 1_250);
        assert_eq!(pending_devices(&s).len(), 3);
        s.create_enrollment(user, 1_200, 1_800, &|_| [4; 32], "test")
            .unwrap();
        assert_eq!(pending_devices(&s).len(), 3, "nothing expired yet");
        s.create_enrollment(user, 1_400, 2_000, &|_| [5; 32], "test")
            .unwrap();
        assert_eq!(pending_devices(&s), ["pending-enrollment", "pending-fresh"]);
        s.create_enrollment(user, 1_700, 2_300, &|_| [6; 32], "test")
            .unwrap();
        assert_eq!(pending_devices(&s), ["pending-fresh"]);
        let log = serde_json::to_string(&s.audit_log(Some(user), 50).unwrap()).unwrap();
        assert_eq!(log.matches("enrollment.abandoned").count(), 2);
        // The active device is untouched.
        assert!(s.device("device-0001").unwrap().is_some());
    }

    #[test]
    fn used_up_code_tries_delete_the_pending_device() {
        let (s, _) = store_with_device();
        let user = s.device("device-0001").unwrap().unwrap().user_id;
        pending_claim(&s, user, "pending", 1, 1_000);
        s.set_device_code("pending", &[9; 32], 1_300).unwrap();
        for _ in 0..3 {
            assert!(matches!(
                s.count_device_code_try("pending", 3, 1_010).unwrap(),
                CodeTry::Counted { .. }
            ));
        }
        assert_eq!(
            s.count_device_code_try("pending", 3, 1_010).unwrap(),
            CodeTry::Exhausted
        );
        let eid = s.enrollment_of_device("pending");
        s.fail_enrollment(eid, "pending", 1_010).unwrap();
        assert!(pending_devices(&s).is_empty());
    }

    #[test]
    fn a_proof_id_is_accepted_once() {
        let (s, d) = store_with_device();
        assert!(s.first_use_proof("k.a", 160, 100, Some(&d)).unwrap());
        assert!(!s.first_use_proof("k.a", 160, 100, Some(&d)).unwrap());
        assert!(s.first_use_proof("k.b", 160, 100, Some(&d)).unwrap());
    }

    #[test]
    fn expired_records_are_purged_now_and_then_and_live_ones_kept() {
        let (s, _) = store_with_device();
        for i in 0..200 {
            assert!(
                s.first_use_proof(&format!("k.old{i}"), 100, 50, None)
                    .unwrap()
            );
        }
        // Past their window: the next purge (within PURGE_EVERY proofs) removes them.
        for i in 0..PURGE_EVERY {
            assert!(
                s.first_use_proof(&format!("k.new{i}"), 500, 400, None)
                    .unwrap()
            );
        }
        assert_eq!(jtis(&s), i64::from(PURGE_EVERY));
        // A live record is never purged: its replay is still refused.
        for i in 0..PURGE_EVERY {
            s.first_use_proof(&format!("k.more{i}"), 500, 450, None)
                .unwrap();
        }
        assert!(!s.first_use_proof("k.new0", 500, 450, None).unwrap());
    }

    #[test]
    fn last_use_is_kept_to_the_minute() {
        let (s, d) = store_with_device();
        let last = |s: &SqliteStore| s.device(&d).unwrap().unwrap().last_used_at;
        assert_eq!(last(&s), None);
        s.first_use_proof("k.1", 160, 100, Some(&d)).unwrap();
        assert_eq!(last(&s), Some(100));
        s.first_use_proof("k.2", 190, 130, Some(&d)).unwrap();
        assert_eq!(last(&s), Some(100));
        // A replayed proof (same id, same expiry: its signed iat + 60) is no use.
        assert!(!s.first_use_proof("k.2", 190, 180, Some(&d)).unwrap());
        assert_eq!(last(&s), Some(100));
        s.first_use_proof("k.3", 220, 160, Some(&d)).unwrap();
        assert_eq!(last(&s), Some(160));
    }
}
