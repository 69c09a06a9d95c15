//! The SQLite file: connection settings and schema migrations.
//!
//! The schema version is SQLite's `PRAGMA user_version`. [`MIGRATIONS`] is an
//! ordered list; migration `n` takes a file from version `n - 1` to `n`, and
//! each runs in its own `BEGIN IMMEDIATE` transaction together with the
//! version bump, so a crash leaves the file at one version or the next, never
//! in between. A file newer than this build is refused rather than guessed at.
//!
//! Migrations change the schema only; they run before the PIN is known and
//! must never need the vault key. A future change that has to re-encrypt data
//! would do so after unlock, in the normal write path.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::VaultError;

/// `PRAGMA application_id` of an Ident vault: ASCII "IDNT".
pub const APPLICATION_ID: i32 = 0x4944_4E54;

/// One schema step.
pub(crate) struct Migration {
    /// The version the file has after this migration.
    pub(crate) version: u32,
    /// Applies the change inside the given transaction.
    pub(crate) apply: fn(&Transaction<'_>) -> rusqlite::Result<()>,
}

/// All migrations, in order. The last one's version is the current schema.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        apply: v1,
    },
    Migration {
        version: 2,
        apply: v2,
    },
];

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = 2;

/// Version 1: the vault header row, accounts with encrypted metadata, and
/// encrypted secrets in a table of their own.
fn v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         CREATE TABLE vault (
             id                   INTEGER PRIMARY KEY CHECK (id = 1),
             vault_id             BLOB    NOT NULL CHECK (length(vault_id) = 16),
             created_at           INTEGER NOT NULL,
             kdf_algorithm        TEXT    NOT NULL CHECK (kdf_algorithm = 'argon2id'),
             kdf_version          INTEGER NOT NULL,
             kdf_memory_kib       INTEGER NOT NULL,
             kdf_iterations       INTEGER NOT NULL,
             kdf_parallelism      INTEGER NOT NULL,
             kdf_salt             BLOB    NOT NULL,
             pin_check            BLOB,
             pin_wrapped_key      BLOB,
             key_check            BLOB,
             keystore_alias       TEXT,
             keystore_wrapped_key BLOB,
             failed_attempts      INTEGER NOT NULL DEFAULT 0,
             last_attempt_at      INTEGER NOT NULL DEFAULT 0,
             locked_forever       INTEGER NOT NULL DEFAULT 0
         ) STRICT;
         CREATE TABLE accounts (
             id       INTEGER PRIMARY KEY AUTOINCREMENT,
             position INTEGER NOT NULL,
             kind     TEXT    NOT NULL CHECK (kind IN ('otp', 'push')),
             meta     BLOB    NOT NULL
         ) STRICT;
         CREATE TABLE secrets (
             account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
             secret     BLOB    NOT NULL
         ) STRICT;"
    ))
}

/// Version 2: the answers this device gave to login requests, per account
/// (the "recent approvals" list), each record sealed. Deleting an account
/// deletes its answers.
fn v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE answers (
             id         INTEGER PRIMARY KEY AUTOINCREMENT,
             account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
             record     BLOB    NOT NULL
         ) STRICT;
         CREATE INDEX answers_by_account ON answers (account_id, id);",
    )
}

/// Opens (or, with `create`, makes) the file and sets the connection up:
/// WAL journal, `synchronous = FULL` (a commit is on disk when it returns:
/// the HOTP counter and the PIN counter rely on that), `secure_delete` (freed
/// pages are zeroed), foreign keys on.
pub(crate) fn connect(path: &Path, create: bool) -> Result<Connection, VaultError> {
    if !create && !path.exists() {
        return Err(VaultError::NotFound);
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(VaultError::Sqlite(format!(
            "could not switch to WAL journal (got {mode})"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA trusted_schema = OFF;",
    )?;
    let version = user_version(&conn)?;
    let app_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if version > 0 && app_id != APPLICATION_ID {
        return Err(VaultError::Corrupt {
            what: "not an Ident vault",
        });
    }
    Ok(conn)
}

/// The file's schema version.
pub(crate) fn user_version(conn: &Connection) -> Result<u32, VaultError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    u32::try_from(v).map_err(|_| VaultError::Corrupt {
        what: "negative schema version",
    })
}

/// Brings the file to the current schema version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, VaultError> {
    migrate_with(conn, MIGRATIONS)
}

/// Applies `migrations` (ordered, versions 1, 2, …) that the file lacks.
pub(crate) fn migrate_with(
    conn: &mut Connection,
    migrations: &[Migration],
) -> Result<u32, VaultError> {
    let latest = migrations.last().map_or(0, |m| m.version);
    let found = user_version(conn)?;
    if found > latest {
        return Err(VaultError::NewerVersion {
            found,
            supported: latest,
        });
    }
    for m in migrations {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again under the write lock: another process may have migrated.
        let current = user_version(&tx)?;
        if current >= m.version {
            continue;
        }
        if current + 1 != m.version {
            return Err(VaultError::Corrupt {
                what: "schema version gap",
            });
        }
        (m.apply)(&tx)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    user_version(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_test(tx: &Transaction<'_>) -> rusqlite::Result<()> {
        tx.execute_batch("ALTER TABLE accounts ADD COLUMN note BLOB")
    }

    fn next_broken(tx: &Transaction<'_>) -> rusqlite::Result<()> {
        tx.execute_batch("CREATE TABLE half_done (x); SELECT * FROM no_such_table")
    }

    #[test]
    fn migrates_an_empty_file_to_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        std::fs::write(&path, b"").unwrap();
        let mut conn = connect(&path, false).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 0);
        assert_eq!(migrate(&mut conn).unwrap(), CURRENT_VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), CURRENT_VERSION, "idempotent");
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            tables,
            ["accounts", "answers", "secrets", "sqlite_sequence", "vault"]
        );
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let app: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(app, APPLICATION_ID);
    }

    #[test]
    fn a_later_migration_runs_once_and_a_failing_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut conn = connect(&path, true).unwrap();
        migrate(&mut conn).unwrap();

        // The real migrations, then one more (the next version) that fails
        // halfway, then one that works.
        let next = CURRENT_VERSION + 1;
        let broken = [
            Migration {
                version: 1,
                apply: v1,
            },
            Migration {
                version: 2,
                apply: v2,
            },
            Migration {
                version: next,
                apply: next_broken,
            },
        ];
        assert!(migrate_with(&mut conn, &broken).is_err());
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION);
        let half: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(half, 0, "the failed migration was rolled back");

        let good = [
            Migration {
                version: 1,
                apply: v1,
            },
            Migration {
                version: 2,
                apply: v2,
            },
            Migration {
                version: next,
                apply: next_test,
            },
        ];
        assert_eq!(migrate_with(&mut conn, &good).unwrap(), next);
        assert_eq!(migrate_with(&mut conn, &good).unwrap(), next);
        conn.execute(
            "INSERT INTO accounts (position, kind, meta, note) VALUES (0, 'otp', x'00', NULL)",
            [],
        )
        .unwrap();

        // This build refuses the file that is now one version ahead of it.
        assert_eq!(
            migrate(&mut conn),
            Err(VaultError::NewerVersion {
                found: next,
                supported: CURRENT_VERSION
            })
        );
    }

    #[test]
    fn a_version_1_file_gets_the_answers_table_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut conn = connect(&path, true).unwrap();
        assert_eq!(migrate_with(&mut conn, &MIGRATIONS[..1]).unwrap(), 1);
        conn.execute(
            "INSERT INTO accounts (position, kind, meta) VALUES (0, 'push', x'01')",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 2);
        let meta: Vec<u8> = conn
            .query_row("SELECT meta FROM accounts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(meta, [1]);
        conn.execute(
            "INSERT INTO answers (account_id, record) VALUES (1, x'02')",
            [],
        )
        .unwrap();
        // Answers go with their account.
        conn.execute("DELETE FROM accounts", []).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // And cannot name an account that is not there.
        assert!(
            conn.execute(
                "INSERT INTO answers (account_id, record) VALUES (7, x'02')",
                []
            )
            .is_err()
        );
    }

    #[test]
    fn refuses_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![0x42u8; 4096]).unwrap();
        assert!(matches!(
            connect(&junk, false),
            Err(VaultError::Corrupt { .. })
        ));

        let other = dir.path().join("other.db");
        let c = Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;")
            .unwrap();
        drop(c);
        assert_eq!(
            connect(&other, false).err(),
            Some(VaultError::Corrupt {
                what: "not an Ident vault"
            })
        );
        assert_eq!(
            connect(&dir.path().join("missing.db"), false).err(),
            Some(VaultError::NotFound)
        );
    }
}
