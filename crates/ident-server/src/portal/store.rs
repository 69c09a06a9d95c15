//! The portal's own SQLite file: its sessions, and (through
//! [`crate::portal::mail::store::migrate`]) the customer mail's templates and
//! send log.
//!
//! The portal keeps nothing here that the identity service owns (users,
//! devices, logins): those it asks the API for. Session ids are stored only as
//! their SHA-256, so a copy of this file does not let anyone take over a
//! session. One connection behind a mutex, WAL mode; every operation is one
//! short statement or transaction, so it runs right on the async worker like
//! the server's own store.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

/// Why the portal database failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PortalStoreError {
    /// SQLite refused.
    #[error("portal database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A thread panicked while holding the connection.
    #[error("portal database: the connection is poisoned")]
    Poisoned,
    /// A stored value could not be read back.
    #[error("portal database: corrupt value: {0}")]
    Corrupt(String),
}

/// One stored session.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the session id.
    pub id_hash: [u8; 32],
    /// The session's CSRF token.
    pub csrf: [u8; 32],
    /// When the session (or its current login) started, Unix seconds.
    pub created_at: i64,
    /// The last request, Unix seconds.
    pub last_seen: i64,
    /// The session's data as JSON (`session::SessionData`).
    pub data: String,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .finish_non_exhaustive()
    }
}

/// The portal database.
pub struct PortalStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for PortalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalStore")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS portal_sessions (
    id_hash    BLOB PRIMARY KEY NOT NULL,
    csrf       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    data       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS portal_sessions_last_seen ON portal_sessions(last_seen);
";

impl PortalStore {
    /// Opens (creating) the file at `path` and brings its tables up to date.
    pub fn open(path: &Path) -> Result<Self, PortalStoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// A database in memory (tests).
    pub fn open_in_memory() -> Result<Self, PortalStoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, PortalStoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        crate::portal::mail::store::migrate(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, PortalStoreError> {
        self.conn.lock().map_err(|_| PortalStoreError::Poisoned)
    }

    /// Runs `f` with the connection (for the portal's other tables, e.g. the
    /// customer mail). Keep it short: it holds the only connection.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, PortalStoreError> {
        let mut conn = self.lock()?;
        Ok(f(&mut conn)?)
    }

    /// Stores a new session.
    pub fn insert_session(&self, row: &SessionRow) -> Result<(), PortalStoreError> {
        self.lock()?.execute(
            "INSERT INTO portal_sessions (id_hash, csrf, created_at, last_seen, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &row.id_hash[..],
                &row.csrf[..],
                row.created_at,
                row.last_seen,
                row.data
            ],
        )?;
        Ok(())
    }

    /// The session with this id hash.
    pub fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>, PortalStoreError> {
        let row = self
            .lock()?
            .query_row(
                "SELECT csrf, created_at, last_seen, data FROM portal_sessions WHERE id_hash = ?1",
                params![&id_hash[..]],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(csrf, created_at, last_seen, data)| {
            let csrf: [u8; 32] = csrf
                .try_into()
                .map_err(|_| PortalStoreError::Corrupt("csrf token length".into()))?;
            Ok(SessionRow {
                id_hash: *id_hash,
                csrf,
                created_at,
                last_seen,
                data,
            })
        })
        .transpose()
    }

    /// Records a request at `now`.
    pub fn touch_session(&self, id_hash: &[u8; 32], now: i64) -> Result<(), PortalStoreError> {
        self.lock()?.execute(
            "UPDATE portal_sessions SET last_seen = ?2 WHERE id_hash = ?1",
            params![&id_hash[..], now],
        )?;
        Ok(())
    }

    /// Replaces a session's data; `false` when the session is gone.
    pub fn update_session_data(
        &self,
        id_hash: &[u8; 32],
        data: &str,
    ) -> Result<bool, PortalStoreError> {
        let n = self.lock()?.execute(
            "UPDATE portal_sessions SET data = ?2 WHERE id_hash = ?1",
            params![&id_hash[..], data],
        )?;
        Ok(n == 1)
    }

    /// Swaps session `old` for `new` in one transaction (a new id after each
    /// login step); `false`, with nothing changed, when `old` is already gone
    /// (another request rotated it first).
    pub fn replace_session(
        &self,
        old: &[u8; 32],
        new: &SessionRow,
    ) -> Result<bool, PortalStoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let removed = tx.execute(
            "DELETE FROM portal_sessions WHERE id_hash = ?1",
            params![&old[..]],
        )?;
        if removed != 1 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO portal_sessions (id_hash, csrf, created_at, last_seen, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &new.id_hash[..],
                &new.csrf[..],
                new.created_at,
                new.last_seen,
                new.data
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &[u8; 32]) -> Result<(), PortalStoreError> {
        self.lock()?.execute(
            "DELETE FROM portal_sessions WHERE id_hash = ?1",
            params![&id_hash[..]],
        )?;
        Ok(())
    }

    /// Ends every session of the user `login` (at either stage of the
    /// login) but `keep`: after a password change, whoever logged in with
    /// the old password is out. Returns how many ended.
    pub fn end_sessions_of(&self, login: &str, keep: &[u8; 32]) -> Result<usize, PortalStoreError> {
        Ok(self.lock()?.execute(
            "DELETE FROM portal_sessions
             WHERE json_extract(data, '$.stage.user.login') = ?1 AND id_hash != ?2",
            params![login, &keep[..]],
        )?)
    }

    /// Removes sessions idle since before `idle_before` or started before
    /// `started_before`; returns how many.
    pub fn purge_sessions(
        &self,
        idle_before: i64,
        started_before: i64,
    ) -> Result<usize, PortalStoreError> {
        Ok(self.lock()?.execute(
            "DELETE FROM portal_sessions WHERE last_seen < ?1 OR created_at < ?2",
            params![idle_before, started_before],
        )?)
    }

    /// How many sessions are stored (tests, metrics).
    pub fn session_count(&self) -> Result<i64, PortalStoreError> {
        Ok(self
            .lock()?
            .query_row("SELECT COUNT(*) FROM portal_sessions", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u8, at: i64) -> SessionRow {
        SessionRow {
            id_hash: [id; 32],
            csrf: [id.wrapping_add(1); 32],
            created_at: at,
            last_seen: at,
            data: "{}".into(),
        }
    }

    #[test]
    fn sessions_round_trip_rotate_and_purge() {
        let s = PortalStore::open_in_memory().unwrap();
        s.insert_session(&row(1, 100)).unwrap();
        assert_eq!(s.session(&[1; 32]).unwrap(), Some(row(1, 100)));
        assert!(s.update_session_data(&[1; 32], "{\"a\":1}").unwrap());
        s.touch_session(&[1; 32], 150).unwrap();
        let r = s.session(&[1; 32]).unwrap().unwrap();
        assert_eq!((r.last_seen, r.data.as_str()), (150, "{\"a\":1}"));

        assert!(s.replace_session(&[1; 32], &row(2, 160)).unwrap());
        assert!(s.session(&[1; 32]).unwrap().is_none());
        assert!(s.session(&[2; 32]).unwrap().is_some());
        // a second rotation of the old id changes nothing
        assert!(!s.replace_session(&[1; 32], &row(3, 170)).unwrap());
        assert!(s.session(&[3; 32]).unwrap().is_none());

        s.insert_session(&row(4, 10)).unwrap();
        assert_eq!(s.purge_sessions(100, 0).unwrap(), 1);
        assert_eq!(s.session_count().unwrap(), 1);
        s.delete_session(&[2; 32]).unwrap();
        assert_eq!(s.session_count().unwrap(), 0);
        assert!(!format!("{:?}", row(9, 1)).contains("9, 9"));
    }

    #[test]
    fn a_file_opens_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portal.db");
        {
            let s = PortalStore::open(&path).unwrap();
            s.insert_session(&row(1, 1)).unwrap();
        }
        let s = PortalStore::open(&path).unwrap();
        assert_eq!(s.session_count().unwrap(), 1);
    }
}
