//! SQLite: users.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::domain::{LoginName, PhoneNumber, Role, TwoFactorInterval};
use crate::store::{NewUser, StoreError, User, UserId, UserStore};

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
                .map(|p| PhoneNumber::parse(&p).map_err(|_| corrupt("phone")))
                .transpose()?,
            interval: TwoFactorInterval::days(interval).map_err(|_| corrupt("interval"))?,
            push_locked_at: r.get(8)?,
            push_lock_reason: r.get(9)?,
            created_at: r.get(10)?,
        })
    })())
}

fn query_user(
    conn: &rusqlite::Connection,
    where_clause: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {where_clause}");
    conn.query_row(&sql, [param], user_from_row)
        .optional()?
        .transpose()
}

fn changed(n: usize) -> Result<(), StoreError> {
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

impl UserStore for SqliteStore {
    fn create_user(&self, u: &NewUser, now: i64) -> Result<UserId, StoreError> {
        self.write(|tx| {
            if let Some(b) = u.broker_id {
                let role: Option<String> = tx
                    .query_row("SELECT role FROM users WHERE id = ?1", [b.0], |r| r.get(0))
                    .optional()?;
                if role.as_deref() != Some("broker") {
                    return Err(StoreError::NotFound);
                }
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
        })
    }

    fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.read(|c| query_user(c, "id = ?1", &id.0))
    }

    fn user_by_login(&self, login: &LoginName) -> Result<Option<User>, StoreError> {
        self.read(|c| query_user(c, "login = ?1", &login.as_str()))
    }

    fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT password_hash FROM users WHERE id = ?1", [id.0], |r| r.get(0))
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
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE broker_id = ?1 ORDER BY login");
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
        let b = s.create_user(&new_user("1000", Role::Broker, None), 1).unwrap();
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
        assert!(s.create_user(&new_user("1002", Role::Customer, None), 3).is_err());

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
        assert!(matches!(s.set_phone(UserId(999), None), Err(StoreError::NotFound)));
    }
}
