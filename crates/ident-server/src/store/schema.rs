//! Schema migrations: an ordered list of SQL scripts, tracked in
//! `PRAGMA user_version`, each applied in its own transaction.
//!
//! Never edit a released migration: add a new one. A database from a newer
//! version is refused rather than guessed at.
//!
//! Migrations run with foreign keys off, as SQLite's procedure for changing
//! a table requires (create the new table, copy, drop the old one, rename):
//! with them on, dropping the old table would delete the rows that refer to
//! it. Each migration ends with `PRAGMA foreign_key_check` inside its
//! transaction, so one that leaves a dangling reference is rolled back.

use rusqlite::Connection;

use super::StoreError;

/// The migrations, oldest first; migration `i` takes the schema to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
    include_str!("schema_v5.sql"),
    include_str!("schema_v6.sql"),
    include_str!("schema_v7.sql"),
];

/// The schema version this build writes.
pub fn current_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Brings `conn` up to [`current_version`]. Call it before turning foreign
/// keys on (see the module docs); it refuses to run with them on.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let fk: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    if fk {
        return Err(StoreError::Db(
            "migrations must run with foreign keys off".into(),
        ));
    }
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > current_version() {
        return Err(StoreError::Corrupt(format!(
            "schema version {version} is newer than this server ({})",
            current_version()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let dangling: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if dangling > 0 {
            return Err(StoreError::Corrupt(format!(
                "migration to version {} leaves {dangling} broken references",
                i + 1
            )));
        }
        tx.pragma_update(
            None,
            "user_version",
            u32::try_from(i + 1).unwrap_or(u32::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", "OFF").unwrap();
        c
    }

    #[test]
    fn migrates_empty_database_and_is_idempotent() {
        let mut c = fresh();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, current_version());
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'challenges'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1);
    }

    #[test]
    fn refuses_newer_database() {
        let mut c = fresh();
        c.pragma_update(None, "user_version", current_version() + 1)
            .unwrap();
        assert!(matches!(migrate(&mut c), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn refuses_to_run_with_foreign_keys_on() {
        let mut c = fresh();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        assert!(matches!(migrate(&mut c), Err(StoreError::Db(_))));
    }

    /// Version 2 to 3 rebuilds auth_txns: nothing that refers to a login may
    /// be lost, and the clear trust token must be gone. Version 4 rebuilds
    /// the proof replay window, which must keep its records.
    #[test]
    fn v3_keeps_logins_and_what_refers_to_them_and_drops_clear_tokens() {
        let mut c = fresh();
        for (i, sql) in MIGRATIONS[..2].iter().enumerate() {
            c.execute_batch(sql).unwrap();
            c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        c.execute_batch(
            "INSERT INTO users (id, login, display_name, password_hash, role, created_at)
                 VALUES (1, '1000', 'B', 'x', 'broker', 1);
             INSERT INTO devices (id, user_id, jwk, name, platform, status, created_at)
                 VALUES ('d1', 1, '{}', 'd', 'linux', 'active', 1);
             INSERT INTO auth_txns (id, user_id, method, status, ip, user_agent, service,
                                    created_at, expires_at, decided_at, trust_token)
                 VALUES ('t1', 1, 'push', 'approved', '192.0.2.1', 'ua', 'Portal', 1, 121, 5,
                         'eyJ.clear.token');
             INSERT INTO auth_txns (id, user_id, method, status, ip, user_agent, service,
                                    created_at, expires_at)
                 VALUES ('t2', 1, 'sms', 'pending', '192.0.2.1', 'ua', 'Portal', 1, 301);
             INSERT INTO challenges (id, txn_id, device_id, token, expires_at)
                 VALUES ('c1', 't1', 'd1', 'jws', 121);
             INSERT INTO sms_codes (txn_id, code_hash, expires_at) VALUES ('t2', x'00', 301);
             INSERT INTO proof_jtis (jti, expires_at) VALUES ('thumb.jti1', 160);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM auth_txns"), 2);
        assert_eq!(
            count("SELECT count(*) FROM challenges WHERE txn_id = 't1'"),
            1
        );
        assert_eq!(
            count("SELECT count(*) FROM sms_codes WHERE txn_id = 't2'"),
            1
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM auth_txns WHERE api_key_id IS NULL AND trust_token_sealed IS NULL"
            ),
            2
        );
        let columns: String = c
            .query_row(
                "SELECT group_concat(name) FROM pragma_table_info('auth_txns')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!columns.split(',').any(|n| n == "trust_token"), "{columns}");
        // The children still point at the rebuilt table: cascades work.
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        c.execute("DELETE FROM auth_txns WHERE id = 't1'", [])
            .unwrap();
        assert_eq!(count("SELECT count(*) FROM challenges"), 0);
        // And the old CHECK rules hold in their new form.
        assert!(
            c.execute("UPDATE auth_txns SET status = 'bogus' WHERE id = 't2'", [])
                .is_err()
        );
    }

    #[test]
    fn v7_keeps_users_and_never_reuses_an_id() {
        let mut c = fresh();
        for (i, sql) in MIGRATIONS[..6].iter().enumerate() {
            c.execute_batch(sql).unwrap();
            c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        c.execute_batch(
            "INSERT INTO users (id, login, display_name, password_hash, role, phone, created_at)
                 VALUES (1, '1000', 'B', 'x', 'broker', '+4915111111111', 1);
             INSERT INTO users (id, login, display_name, password_hash, role, broker_id,
                                interval_days, created_at)
                 VALUES (2, 'k@example.de', 'K', 'y', 'customer', 1, 30, 2);
             INSERT INTO devices (id, user_id, jwk, name, platform, status, created_at)
                 VALUES ('d2', 2, '{}', 'd', 'linux', 'active', 1);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let row: (String, Option<i64>, i64, String) = c
            .query_row(
                "SELECT login, broker_id, interval_days, password_hash FROM users WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, ("k@example.de".into(), Some(1), 30, "y".into()));
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        c.execute("DELETE FROM users WHERE id = 2", []).unwrap();
        let devices: i64 = c
            .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
            .unwrap();
        assert_eq!(devices, 0, "devices still cascade from the rebuilt table");
        c.execute(
            "INSERT INTO users (login, display_name, password_hash, role, broker_id, created_at)
             VALUES ('neu@example.de', 'N', 'z', 'customer', 1, 3)",
            [],
        )
        .unwrap();
        assert_eq!(
            c.last_insert_rowid(),
            3,
            "the deleted user's id 2 is not given again"
        );
        assert!(
            c.execute("UPDATE users SET role = 'king' WHERE id = 3", [])
                .is_err()
        );
    }

    #[test]
    fn v6_keeps_logins_and_allows_withdrawn() {
        let mut c = fresh();
        for (i, sql) in MIGRATIONS[..5].iter().enumerate() {
            c.execute_batch(sql).unwrap();
            c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        c.execute_batch(
            "INSERT INTO users (id, login, display_name, password_hash, role, created_at)
                 VALUES (1, '1000', 'B', 'x', 'broker', 1);
             INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (7, 'p', x'01', 1);
             INSERT INTO devices (id, user_id, jwk, name, platform, status, created_at)
                 VALUES ('d1', 1, '{}', 'd', 'linux', 'active', 1);
             INSERT INTO auth_txns (id, user_id, api_key_id, method, status, ip, user_agent,
                                    service, created_at, expires_at, decided_at,
                                    trust_token_sealed)
                 VALUES ('t1', 1, 7, 'push', 'approved', '192.0.2.1', 'ua', 'Portal', 1, 121,
                         5, x'0102');
             INSERT INTO challenges (id, txn_id, device_id, token, expires_at)
                 VALUES ('c1', 't1', 'd1', 'jws', 121);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let row: (i64, Vec<u8>, i64) = c
            .query_row(
                "SELECT api_key_id, trust_token_sealed, decided_at FROM auth_txns WHERE id = 't1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, (7, vec![1, 2], 5));
        c.execute(
            "UPDATE auth_txns SET status = 'withdrawn' WHERE id = 't1'",
            [],
        )
        .unwrap();
        assert!(
            c.execute("UPDATE auth_txns SET status = 'bogus' WHERE id = 't1'", [])
                .is_err()
        );
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        c.execute("DELETE FROM auth_txns WHERE id = 't1'", [])
            .unwrap();
        let left: i64 = c
            .query_row("SELECT count(*) FROM challenges", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "challenges still cascade from the rebuilt table");
    }
}
