//! SQLite: users, their audited changes, and the wrong-password counter.
//!
//! Audited changes insert their audit row inside the same transaction as the
//! change (through the shared `audit::audit_in`), so a crash never leaves a
//! change without its entry.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::SqliteStore;
use super::audit::audit_in;
use super::trust::revoke_all_in;
use crate::domain::{LoginName, PhoneNumber, Role, TwoFactorInterval};
use crate::store::trust::revoked_all_audit;
use crate::store::{
    AttemptVerdict, ChangedBy, CustomerFilter, Deletion, NewAuditEntry, NewUser, ProfileChange,
    StoreError, User, UserId, UserStore, UserWithDevices,
};

/// `enrolled`: whether the user has an active device (the devices table is
/// owned by the device store; this only reads it).
const ENROLLED: &str =
    "EXISTS (SELECT 1 FROM devices d WHERE d.user_id = users.id AND d.status = 'active')";

/// Audits a change to `user` made by `by`, adding the portal it came through.
fn audit_change(
    tx: &Connection,
    by: &ChangedBy,
    action: &'static str,
    user: UserId,
    mut detail: Value,
    now: i64,
) -> Result<(), StoreError> {
    if let (Some(via), Some(obj)) = (&by.via, detail.as_object_mut()) {
        obj.insert("via".into(), Value::String(via.clone()));
    }
    let entry = NewAuditEntry {
        actor: by.actor.clone(),
        action,
        user_id: Some(user),
        detail,
    };
    audit_in(tx, &entry, now)
}

/// Forgets the counted wrong passwords of `login` (a correct password, a
/// new one, a deleted user).
fn forget_password_attempts(tx: &Connection, login: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM password_attempts WHERE login = ?1")?
        .execute([login])?;
    Ok(())
}

fn insert_user(tx: &Connection, u: &NewUser, now: i64) -> Result<UserId, StoreError> {
    if let Some(b) = u.broker_id {
        let role: Option<String> = tx
            .query_row("SELECT role FROM users WHERE id = ?1", [b.0], |r| r.get(0))
            .optional()?;
        if role.as_deref() != Some("broker") {
            return Err(StoreError::NotFound);
        }
    }
    let retired: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM deleted_logins WHERE login = ?1)")?
        .query_row([u.login.as_str()], |r| r.get(0))?;
    if retired {
        return Err(StoreError::Retired);
    }
    tx.execute(
        "INSERT INTO users (login, display_name, password_hash, role, broker_id, email, phone, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            u.login.as_str(),
            u.display_name,
            u.password_hash,
            u.role.as_str(),
            u.broker_id.map(|b| b.0),
            u.email,
            u.phone.as_ref().map(PhoneNumber::as_str),
            now
        ],
    )?;
    Ok(UserId(tx.last_insert_rowid()))
}

fn with_devices_from_row(r: &Row<'_>) -> rusqlite::Result<Result<UserWithDevices, StoreError>> {
    let enrolled: bool = r.get(11)?;
    Ok(user_from_row(r)?.map(|user| UserWithDevices { user, enrolled }))
}

fn masked(p: Option<&PhoneNumber>) -> Value {
    p.map_or(Value::Null, |p| Value::String(p.masked()))
}

const USER_COLUMNS: &str = "id, login, display_name, role, broker_id, email, phone, \
     interval_days, push_locked_at, push_lock_reason, created_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<Result<User, StoreError>> {
    let login: String = r.get(1)?;
    let role: String = r.get(3)?;
    let phone: Option<String> = r.get(6)?;
    let interval: u32 = r.get(7)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("user {what}"));
    Ok((|| {
        Ok(User {
            id: UserId(r.get(0)?),
            login: LoginName::parse(&login).map_err(|_| corrupt("login"))?,
            display_name: r.get(2)?,
            role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
            broker_id: r.get::<_, Option<i64>>(4)?.map(UserId),
            email: r.get(5)?,
            phone: phone
                .map(|p| PhoneNumber::from_stored(&p).map_err(|_| corrupt("phone")))
                .transpose()?,
            interval: TwoFactorInterval::days(interval).map_err(|_| corrupt("interval"))?,
            push_locked_at: r.get(8)?,
            push_lock_reason: r.get(9)?,
            created_at: r.get(10)?,
        })
    })())
}

/// One user by `where_clause` (also used inside other stores' read snapshots).
pub(super) fn query_user(
    conn: &rusqlite::Connection,
    where_clause: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {where_clause}");
    conn.prepare_cached(&sql)?
        .query_row([param], user_from_row)
        .optional()?
        .transpose()
}

fn changed(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl UserStore for SqliteStore {
    fn create_user(&self, u: &NewUser, now: i64) -> Result<UserId, StoreError> {
        self.write(|tx| insert_user(tx, u, now))
    }

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.read(|c| query_user(c, "id = ?1", &id.0))
    }

    fn user_by_login(&self, login: &LoginName) -> Result<Option<User>, StoreError> {
        self.read(|c| query_user(c, "login = ?1", &login.as_str()))
    }

    fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT password_hash FROM users WHERE id = ?1",
                [id.0],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    fn set_phone(&self, id: UserId, phone: Option<&PhoneNumber>) -> Result<(), StoreError> {
        self.write(|tx| {
            changed(tx.execute(
                "UPDATE users SET phone = ?2 WHERE id = ?1",
                params![id.0, phone.map(PhoneNumber::as_str)],
            )?)
        })
    }

    fn set_interval(&self, id: UserId, interval: TwoFactorInterval) -> Result<(), StoreError> {
        self.write(|tx| {
            changed(tx.execute(
                "UPDATE users SET interval_days = ?2 WHERE id = ?1",
                params![id.0, interval.get()],
            )?)
        })
    }

    fn set_interval_for_customers(
        &self,
        broker: UserId,
        interval: TwoFactorInterval,
    ) -> Result<u64, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET interval_days = ?2 WHERE broker_id = ?1 AND role = 'customer'",
                params![broker.0, interval.get()],
            )?;
            Ok(n as u64)
        })
    }

    fn users_of_broker(&self, broker: UserId) -> Result<Vec<User>, StoreError> {
        self.read(|c| {
            let sql =
                format!("SELECT {USER_COLUMNS} FROM users WHERE broker_id = ?1 ORDER BY login");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([broker.0], user_from_row)?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r??);
            }
            Ok(out)
        })
    }

    fn lock_push(&self, id: UserId, reason: &str, now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE users SET push_locked_at = ?2, push_lock_reason = ?3
                 WHERE id = ?1 AND push_locked_at IS NULL",
                params![id.0, now, reason],
            )?;
            Ok(())
        })
    }

    fn unlock_push(&self, id: UserId) -> Result<(), StoreError> {
        self.write(|tx| {
            changed(tx.execute(
                "UPDATE users SET push_locked_at = NULL, push_lock_reason = NULL WHERE id = ?1",
                [id.0],
            )?)
        })
    }

    fn user_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn user_with_devices(&self, login: &LoginName) -> Result<Option<UserWithDevices>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {USER_COLUMNS}, {ENROLLED} FROM users WHERE login = ?1");
            c.query_row(&sql, [login.as_str()], with_devices_from_row)
                .optional()?
                .transpose()
        })
    }

    fn customers_of(
        &self,
        broker: UserId,
        filter: CustomerFilter,
    ) -> Result<Vec<UserWithDevices>, StoreError> {
        self.read(|c| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, {ENROLLED} FROM users
                 WHERE broker_id = ?1 AND role = 'customer'
                   AND (?2 IS NULL OR (phone IS NOT NULL) = ?2)
                   AND (?3 IS NULL OR {ENROLLED} = ?3)
                 ORDER BY login"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(
                params![broker.0, filter.has_phone, filter.enrolled],
                with_devices_from_row,
            )?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r??);
            }
            Ok(out)
        })
    }

    fn create_user_audited(
        &self,
        u: &NewUser,
        by: &ChangedBy,
        now: i64,
    ) -> Result<UserId, StoreError> {
        self.write(|tx| {
            let id = insert_user(tx, u, now)?;
            let detail = json!({
                "login": u.login.as_str(),
                "role": u.role.as_str(),
                "phone": masked(u.phone.as_ref()),
            });
            audit_change(tx, by, "user.created", id, detail, now)?;
            Ok(id)
        })
    }

    fn change_phone(
        &self,
        id: UserId,
        phone: Option<&PhoneNumber>,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let old: Option<String> = tx
                .query_row("SELECT phone FROM users WHERE id = ?1", [id.0], |r| {
                    r.get(0)
                })
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let new = phone.map(PhoneNumber::as_str);
            if old.as_deref() == new {
                return Ok(false);
            }
            tx.execute(
                "UPDATE users SET phone = ?2 WHERE id = ?1",
                params![id.0, new],
            )?;
            if new.is_none() {
                // No enrollment without a mobile number: codes already shown
                // end now (their status becomes `expired`).
                tx.execute(
                    "UPDATE enrollments SET expires_at = ?2
                     WHERE user_id = ?1 AND used_at IS NULL AND device_id IS NULL
                       AND expires_at >= ?2",
                    params![id.0, now - 1],
                )?;
            }
            let old = old
                .map(|p| {
                    PhoneNumber::parse(&p).map_err(|_| StoreError::Corrupt("user phone".into()))
                })
                .transpose()?;
            let detail = json!({"from": masked(old.as_ref()), "to": masked(phone)});
            audit_change(tx, by, "phone.changed", id, detail, now)?;
            Ok(true)
        })
    }

    fn change_interval(
        &self,
        id: UserId,
        interval: TwoFactorInterval,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let old: u32 = tx
                .query_row(
                    "SELECT interval_days FROM users WHERE id = ?1",
                    [id.0],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            if old == interval.get() {
                return Ok(false);
            }
            tx.execute(
                "UPDATE users SET interval_days = ?2 WHERE id = ?1",
                params![id.0, interval.get()],
            )?;
            let detail = json!({"from": old, "to": interval.get()});
            audit_change(tx, by, "interval.changed", id, detail, now)?;
            Ok(true)
        })
    }

    fn change_customers_interval(
        &self,
        broker: UserId,
        interval: TwoFactorInterval,
        by: &ChangedBy,
        now: i64,
    ) -> Result<Vec<UserId>, StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "SELECT id, interval_days FROM users
                 WHERE broker_id = ?1 AND role = 'customer' AND interval_days != ?2
                 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![broker.0, interval.get()], |r| {
                Ok((UserId(r.get(0)?), r.get::<_, u32>(1)?))
            })?;
            let targets = rows.collect::<Result<Vec<_>, _>>()?;
            drop(stmt);
            for (id, old) in &targets {
                tx.execute(
                    "UPDATE users SET interval_days = ?2 WHERE id = ?1",
                    params![id.0, interval.get()],
                )?;
                let detail = json!({"from": old, "to": interval.get(), "bulk": true});
                audit_change(tx, by, "interval.changed", *id, detail, now)?;
            }
            Ok(targets.into_iter().map(|(id, _)| id).collect())
        })
    }

    fn unlock_push_audited(
        &self,
        id: UserId,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let (locked_at, reason): (Option<i64>, Option<String>) = tx
                .query_row(
                    "SELECT push_locked_at, push_lock_reason FROM users WHERE id = ?1",
                    [id.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            let Some(locked_at) = locked_at else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE users SET push_locked_at = NULL, push_lock_reason = NULL WHERE id = ?1",
                [id.0],
            )?;
            // A fresh start: the denials that led to the lock no longer count
            // (else one slip right after the unlock would lock push again).
            // The audit keeps them.
            tx.execute("DELETE FROM denials WHERE user_id = ?1", [id.0])?;
            let detail = json!({"locked_at": locked_at, "reason": reason});
            audit_change(tx, by, "push.unlocked", id, detail, now)?;
            Ok(true)
        })
    }

    fn begin_password_attempt(
        &self,
        login: &LoginName,
        now: i64,
        window_secs: i64,
        max: u32,
    ) -> Result<AttemptVerdict, StoreError> {
        self.write(|tx| {
            let since = now - window_secs;
            // Forget attempts that left the window (for every login: keeps the table small).
            tx.execute("DELETE FROM password_attempts WHERE at <= ?1", [since])?;
            let (count, oldest): (u32, Option<i64>) = tx.query_row(
                "SELECT count(*), min(at) FROM password_attempts WHERE login = ?1 AND at > ?2",
                params![login.as_str(), since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if count >= max {
                let retry_after = oldest.map_or(window_secs, |t| t + window_secs - now).max(1);
                return Ok(AttemptVerdict::Refused { retry_after });
            }
            tx.execute(
                "INSERT INTO password_attempts (login, at) VALUES (?1, ?2)",
                params![login.as_str(), now],
            )?;
            Ok(AttemptVerdict::Allowed)
        })
    }

    fn clear_password_attempts(&self, login: &LoginName) -> Result<(), StoreError> {
        self.write(|tx| forget_password_attempts(tx, login.as_str()))
    }

    fn change_profile(
        &self,
        id: UserId,
        change: &ProfileChange,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let user = query_user(tx, "id = ?1", &id.0)?.ok_or(StoreError::NotFound)?;
            let mut fields = Vec::new();
            let mut detail = serde_json::Map::new();
            if let Some(name) = change
                .display_name
                .as_ref()
                .filter(|n| **n != user.display_name)
            {
                tx.execute(
                    "UPDATE users SET display_name = ?2 WHERE id = ?1",
                    params![id.0, name],
                )?;
                fields.push("display_name");
            }
            if let Some(email) = change.email.as_ref().filter(|e| **e != user.email) {
                tx.execute(
                    "UPDATE users SET email = ?2 WHERE id = ?1",
                    params![id.0, email],
                )?;
                fields.push("email");
            }
            if let Some(role) = change.role.filter(|r| *r != user.role) {
                if role == Role::Broker || user.role == Role::Broker {
                    return Err(StoreError::Conflict("the broker role is fixed".into()));
                }
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![id.0, role.as_str()],
                )?;
                fields.push("role");
                detail.insert(
                    "role".into(),
                    json!({"from": user.role.as_str(), "to": role.as_str()}),
                );
            }
            if fields.is_empty() {
                return Ok(false);
            }
            // The values themselves stay out of the log: names and addresses
            // are personal data, and the user's record has the current ones.
            detail.insert("fields".into(), json!(fields));
            audit_change(tx, by, "user.updated", id, Value::Object(detail), now)?;
            Ok(true)
        })
    }

    fn change_password(
        &self,
        id: UserId,
        password_hash: &str,
        by: &ChangedBy,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let login: String = tx
                .query_row("SELECT login FROM users WHERE id = ?1", [id.0], |r| {
                    r.get(0)
                })
                .optional()?
                .ok_or(StoreError::NotFound)?;
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id.0, password_hash],
            )?;
            forget_password_attempts(tx, &login)?;
            // Whoever knew the old password may also hold a trusted browser.
            revoke_all_in(tx, id, now, &revoked_all_audit(id, "password_changed"))?;
            audit_change(tx, by, "password.changed", id, json!({}), now)
        })
    }

    fn delete_user(&self, id: UserId, by: &ChangedBy, now: i64) -> Result<Deletion, StoreError> {
        self.write(|tx| {
            let user = query_user(tx, "id = ?1", &id.0)?.ok_or(StoreError::NotFound)?;
            if user.role == Role::Broker {
                let users: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM users WHERE broker_id = ?1",
                    [id.0],
                    |r| r.get(0),
                )?;
                if users > 0 {
                    return Ok(Deletion::HasUsers(users.unsigned_abs()));
                }
                let charges: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM sms_ledger WHERE broker_id = ?1",
                    [id.0],
                    |r| r.get(0),
                )?;
                if charges > 0 {
                    return Ok(Deletion::HasCharges(charges.unsigned_abs()));
                }
            }
            let strings = |sql: &str| -> Result<Vec<String>, StoreError> {
                let mut stmt = tx.prepare(sql)?;
                let rows = stmt.query_map([id.0], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            };
            let pending_txns =
                strings("SELECT id FROM auth_txns WHERE user_id = ?1 AND status = 'pending'")?;
            let devices = strings("SELECT id FROM devices WHERE user_id = ?1")?;
            // Devices, enrollments, logins (with their challenges and SMS
            // codes), denials and trusted browsers go by ON DELETE CASCADE.
            tx.execute("DELETE FROM users WHERE id = ?1", [id.0])?;
            forget_password_attempts(tx, user.login.as_str())?;
            tx.execute(
                "INSERT INTO deleted_logins (login, user_id, deleted_at) VALUES (?1, ?2, ?3)",
                params![user.login.as_str(), id.0, now],
            )?;
            let detail = json!({
                "login": user.login.as_str(),
                "role": user.role.as_str(),
                "devices": devices.len(),
            });
            audit_change(tx, by, "user.deleted", id, detail, now)?;
            Ok(Deletion::Deleted {
                pending_txns,
                devices,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(login: &str, role: Role, broker: Option<UserId>) -> NewUser {
        NewUser {
            login: LoginName::parse(login).unwrap(),
            display_name: login.into(),
            password_hash: "$argon2id$fake".into(),
            role,
            broker_id: broker,
            email: None,
            phone: None,
        }
    }

    #[test]
    fn users_round_trip_and_rules_hold() {
        let s = SqliteStore::open_in_memory().unwrap();
        let b = s
            .create_user(&new_user("1000", Role::Broker, None), 1)
            .unwrap();
        let c = s
            .create_user(&new_user("kunde@example.de", Role::Customer, Some(b)), 2)
            .unwrap();
        // a customer cannot be the broker of someone
        assert!(matches!(
            s.create_user(&new_user("1001", Role::Customer, Some(c)), 3),
            Err(StoreError::NotFound)
        ));
        // login taken
        assert!(matches!(
            s.create_user(&new_user("1000", Role::Broker, None), 3),
            Err(StoreError::Conflict(_))
        ));
        // a broker with a broker, or a customer without one, violates the CHECK
        assert!(
            s.create_user(&new_user("1002", Role::Customer, None), 3)
                .is_err()
        );

        let phone = PhoneNumber::parse("0151 12345678").unwrap();
        s.set_phone(c, Some(&phone)).unwrap();
        s.set_interval_for_customers(b, TwoFactorInterval::days(30).unwrap())
            .unwrap();
        let got = s
            .user_by_login(&LoginName::parse("KUNDE@example.de").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(got.id, c);
        assert_eq!(got.phone, Some(phone));
        assert_eq!(got.interval.get(), 30);
        assert_eq!(got.billing_broker(), b);
        assert_eq!(s.user(b).unwrap().unwrap().interval.get(), 0);
        assert_eq!(s.users_of_broker(b).unwrap().len(), 1);

        s.lock_push(c, "not_me", 10).unwrap();
        s.lock_push(c, "denials", 20).unwrap();
        let locked = s.user(c).unwrap().unwrap();
        assert_eq!(locked.push_locked_at, Some(10));
        assert_eq!(locked.push_lock_reason.as_deref(), Some("not_me"));
        s.unlock_push(c).unwrap();
        assert_eq!(s.user(c).unwrap().unwrap().push_locked_at, None);
        assert!(matches!(
            s.set_phone(UserId(999), None),
            Err(StoreError::NotFound)
        ));
    }

    fn by() -> ChangedBy {
        ChangedBy {
            actor: "user:1000".into(),
            via: Some("portal".into()),
        }
    }

    #[test]
    fn audited_changes_write_change_and_entry_together() {
        use crate::store::AuditStore;
        let s = SqliteStore::open_in_memory().unwrap();
        let b = s
            .create_user_audited(&new_user("1000", Role::Broker, None), &by(), 1)
            .unwrap();
        let c1 = s
            .create_user(&new_user("1", Role::Customer, Some(b)), 1)
            .unwrap();
        let c2 = s
            .create_user(&new_user("2", Role::Customer, Some(b)), 1)
            .unwrap();
        let e = s
            .create_user(&new_user("3", Role::Employee, Some(b)), 1)
            .unwrap();
        assert_eq!(s.user_count().unwrap(), 4);

        let phone = PhoneNumber::parse("0151 12345678").unwrap();
        assert!(s.change_phone(c1, Some(&phone), &by(), 5).unwrap());
        assert!(
            !s.change_phone(c1, Some(&phone), &by(), 6).unwrap(),
            "same number: no-op"
        );
        let log = s.audit_log(Some(c1), 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "phone.changed");
        assert_eq!(log[0].detail["to"], "+49…678");
        assert_eq!(log[0].detail["via"], "portal");
        assert!(!log[0].detail.to_string().contains("12345678"));

        let d30 = TwoFactorInterval::days(30).unwrap();
        assert!(s.change_interval(c1, d30, &by(), 7).unwrap());
        assert!(!s.change_interval(c1, d30, &by(), 7).unwrap());
        // bulk: only c2 differs; the employee is not a customer
        assert_eq!(
            s.change_customers_interval(b, d30, &by(), 8).unwrap(),
            vec![c2]
        );
        assert_eq!(s.user(e).unwrap().unwrap().interval.get(), 0);
        assert_eq!(s.audit_log(Some(c2), 10).unwrap()[0].detail["bulk"], true);

        assert!(!s.unlock_push_audited(c1, &by(), 9).unwrap());
        s.lock_push(c1, "denials", 9).unwrap();
        assert!(s.unlock_push_audited(c1, &by(), 10).unwrap());
        assert_eq!(s.audit_log(Some(c1), 1).unwrap()[0].action, "push.unlocked");
        assert!(matches!(
            s.change_phone(UserId(999), None, &by(), 1),
            Err(StoreError::NotFound)
        ));

        let filter = |has_phone, enrolled| CustomerFilter {
            has_phone,
            enrolled,
        };
        assert_eq!(s.customers_of(b, filter(None, None)).unwrap().len(), 2);
        let with = s.customers_of(b, filter(Some(true), None)).unwrap();
        assert_eq!(with.len(), 1);
        assert_eq!(with[0].user.id, c1);
        assert!(!with[0].enrolled);
        assert_eq!(
            s.customers_of(b, filter(None, Some(true))).unwrap().len(),
            0
        );
    }

    #[test]
    fn password_attempts_are_counted_first_and_limited() {
        let s = SqliteStore::open_in_memory().unwrap();
        let l = LoginName::parse("1000").unwrap();
        let other = LoginName::parse("1001").unwrap();
        for t in 0..3 {
            assert_eq!(
                s.begin_password_attempt(&l, 100 + t, 60, 3).unwrap(),
                AttemptVerdict::Allowed
            );
        }
        assert_eq!(
            s.begin_password_attempt(&l, 110, 60, 3).unwrap(),
            AttemptVerdict::Refused { retry_after: 50 }
        );
        assert_eq!(
            s.begin_password_attempt(&other, 110, 60, 3).unwrap(),
            AttemptVerdict::Allowed
        );
        // the oldest leaves the window
        assert_eq!(
            s.begin_password_attempt(&l, 161, 60, 3).unwrap(),
            AttemptVerdict::Allowed
        );
        s.clear_password_attempts(&l).unwrap();
        assert_eq!(
            s.begin_password_attempt(&l, 162, 60, 1).unwrap(),
            AttemptVerdict::Allowed
        );
    }
}
