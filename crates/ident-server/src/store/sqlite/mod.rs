//! The SQLite implementation of the storage traits.
//!
//! One connection behind a mutex: SQLite allows one writer at a time anyway,
//! and every operation here is a short transaction (tens of microseconds), so
//! a pool would add contention without adding throughput (measured: four
//! extra read-only connections did not raise logins per second and cost a
//! little more CPU per login — each connection keeps its own page cache). WAL journaling with
//! `synchronous = NORMAL` means a killed process (kill -9) loses nothing that
//! was committed: a commit is in the WAL file before it returns, and the OS
//! keeps the file's pages. What it does not survive is power loss or a kernel
//! crash: the last commits before it (since the OS last wrote the WAL to the
//! disk) can be lost, never half-applied — the database stays consistent.
//! `synchronous = FULL` (the `durable_power_loss` option) survives that too,
//! at the price of an fsync per commit.
//!
//! Checkpoints (copying the WAL into the database file) run on a background
//! thread ([`Checkpointer`]), not inside request commits.
//!
//! Settings measured with `benches/store.rs` and `examples/loadgen.rs`:
//! the query-planner stability guarantee (cached statements are not
//! re-prepared), a statement cache big enough for every cached statement,
//! and the background checkpointer each lowered the CPU per login.

mod audit;
mod auth;
mod devices;
mod keys;
mod retention;
mod sms;
mod trust;
mod users;

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{StoreError, schema};

/// Cached prepared statements per connection.
const STATEMENT_CACHE: usize = 256;

/// How often the background checkpointer copies new WAL frames into the
/// database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// WAL frames (pages) after which the checkpointer makes the WAL start over.
/// About 32 MiB: big enough that hot pages are copied once per many commits,
/// small enough to stay in the page cache.
const RESTART_AT_FRAMES: i64 = if cfg!(test) { 100 } else { 8_000 };

/// The SQLite store.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    checkpointer: Option<Checkpointer>,
    /// Accepted-proof counter for the amortised purge (`devices.rs`).
    proofs: std::sync::atomic::AtomicU32,
}

/// A thread with its own connection that checkpoints the WAL in the
/// background, so no request pays for it.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that crosses
/// 1000 frames, so that request (and every request queued behind the store's
/// lock) waits for it, and hot pages (index roots, the last page of every
/// append-only table) are copied again every 1000 frames. Measured with
/// `benches/store.rs`: about a quarter of the store's CPU per login.
///
/// How, without letting the WAL grow: PASSIVE checkpoints copy what is
/// committed without blocking anyone; but a WAL only starts over when a
/// checkpoint has copied *everything* before the next write, which a busy
/// writer never allows (the WAL grew to gigabytes in the bench). So once the
/// WAL holds [`RESTART_AT_FRAMES`], the thread catches up with PASSIVE runs
/// and copies the last few frames while holding the store's lock, which
/// keeps the writer out for that short moment only; the next commit then
/// writes from the start of the WAL again.
struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (frames in the WAL, frames copied).
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

impl Checkpointer {
    fn start(path: &Path, store: Arc<Mutex<Connection>>) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let (lock, cvar) = &*flag;
                loop {
                    let Ok(stopped) = lock.lock() else { return };
                    let Ok((stopped, _)) = cvar.wait_timeout(stopped, CHECKPOINT_EVERY) else {
                        return;
                    };
                    if *stopped {
                        return;
                    }
                    drop(stopped);
                    if let Err(e) = Self::round(&conn, &store) {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retried shortly");
                    }
                }
            })
            .map_err(|e| StoreError::Db(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    fn round(conn: &Connection, store: &Mutex<Connection>) -> rusqlite::Result<()> {
        let (mut log, mut done) = checkpoint(conn)?;
        if log < RESTART_AT_FRAMES {
            return Ok(());
        }
        // Catch up without blocking anyone: each run copies only what was
        // committed during the previous one.
        for _ in 0..4 {
            if log - done <= 64 {
                break;
            }
            (log, done) = checkpoint(conn)?;
        }
        // The rest with the writer held off, so that everything is copied
        // and the next commit restarts the WAL.
        let Ok(_writer) = store.lock() else {
            return Ok(());
        };
        checkpoint(conn).map(|_| ())
    }
}
impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, durable_power_loss: bool) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        let mut store = Self::setup(conn, durable_power_loss)?;
        store
            .conn
            .lock()
            .map_err(|_| StoreError::Db("connection lock poisoned".into()))?
            .pragma_update(None, "wal_autocheckpoint", 0)?;
        store.checkpointer = Some(Checkpointer::start(path, Arc::clone(&store.conn))?);
        Ok(store)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, false)
    }

    fn setup(mut conn: Connection, durable_power_loss: bool) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            if durable_power_loss { "FULL" } else { "NORMAL" },
        )?;
        // Off while migrating (see store/schema.rs), on for everything else.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        // Query-planner stability: without it SQLite marks a statement with
        // `LIMIT ?` (and some `col = ?`) for re-preparation whenever the bound
        // value differs from the last one, and rusqlite clears the bindings
        // of every cached statement it gets back — so those statements were
        // parsed and planned again on every call despite `prepare_cached`.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // Room for every statement the service prepares with `prepare_cached`
        // (rusqlite keeps 16 by default; a login alone uses more, and an
        // evicted statement is parsed again).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&mut conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            checkpointer: None,
            proofs: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// Runs `f` in one immediate (write-locking) transaction and commits it;
    /// any error rolls everything back.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Db("connection lock poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` for reading, in one read transaction: all its statements see
    /// one snapshot, and the WAL read lock is taken and released once (each
    /// statement outside a transaction takes it again — two `fcntl` calls
    /// each, which the profile of a push login showed).
    pub(crate) fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Db("connection lock poisoned".into()))?;
        conn.prepare_cached("BEGIN")?.execute([])?;
        let out = f(&conn);
        // Ends the read transaction whatever `f` returned (a read changes nothing).
        let end = conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]));
        let out = out?;
        end?;
        Ok(out)
    }

    /// Runs `f` for reading.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Db("connection lock poisoned".into()))?;
        f(&conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditStore, NewAuditEntry};

    fn wal_frames(store: &SqliteStore) -> i64 {
        store
            .read(|c| Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?))
            .unwrap()
    }

    #[test]
    fn the_background_checkpointer_keeps_the_wal_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), false).unwrap();
        let entry = NewAuditEntry {
            actor: "system".into(),
            action: "test.event",
            user_id: None,
            detail: serde_json::json!({}),
        };
        // Well past the restart mark, with a writer that keeps writing.
        let mut restarted = false;
        for i in 0..4_000 {
            store.audit(&entry, i).unwrap();
            if i > 1_000 && wal_frames(&store) < RESTART_AT_FRAMES / 2 {
                restarted = true;
                break;
            }
            if i % 100 == 0 {
                std::thread::sleep(CHECKPOINT_EVERY / 4);
            }
        }
        assert!(restarted, "the WAL never started over");
        // Nothing was lost on the way.
        drop(store);
        let store = SqliteStore::open(&dir.path().join("t.db"), false).unwrap();
        assert!(!store.audit_log(None, 1).unwrap().is_empty());
    }
}
