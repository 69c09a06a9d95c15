//! The SQLite implementation of the storage traits.
//!
//! One connection behind a (re-entrant) lock: SQLite allows one writer at a
//! time anyway, and every operation here is a short transaction (tens of
//! microseconds), so a pool would add contention without adding throughput
//! (measured: four extra read-only connections did not raise logins per
//! second and cost a little more CPU per login — each connection keeps its
//! own page cache). Concurrent requests share commits instead
//! ([`SqliteStore::group`], driven by `crate::group_commit`). WAL journaling with
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

use std::cell::Cell;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::ReentrantMutex;
use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::{GroupStore, StoreError, schema};

/// Page cache of the connection, in KiB.
const CACHE_KIB: i64 = 32 * 1024;

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
    conn: Arc<ReentrantMutex<Shared>>,
    checkpointer: Option<Checkpointer>,
    /// Accepted-proof counter for the amortised purge (`devices.rs`).
    proofs: std::sync::atomic::AtomicU32,
}

/// The connection and whether a group commit is open on it.
///
/// The lock is re-entrant so that [`SqliteStore::group`] can hold it for a
/// whole batch while every store call inside takes it again on the same
/// thread; `group` tells those calls to nest as savepoints in the group's
/// transaction instead of starting their own.
struct Shared {
    db: Connection,
    group: Cell<bool>,
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
    fn start(path: &Path, store: Arc<ReentrantMutex<Shared>>) -> Result<Self, StoreError> {
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

    fn round(conn: &Connection, store: &ReentrantMutex<Shared>) -> rusqlite::Result<()> {
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
        let _writer = store.lock();
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
            .db
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
        // Room for the pages a busy service keeps touching (the ends of the
        // login tables and their indexes, the users and devices): SQLite's
        // default of 2 MiB made it read pages back from the file (measured:
        // several `pread`s per login once the tables had history).
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
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
            conn: Arc::new(ReentrantMutex::new(Shared {
                db: conn,
                group: Cell::new(false),
            })),
            checkpointer: None,
            proofs: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// Runs `f` in one immediate (write-locking) transaction and commits it;
    /// any error (or panic) rolls everything `f` did back. Inside a
    /// [`group`](Self::group) it is a savepoint of the group's transaction
    /// instead: all or nothing as well, made durable by the group's commit.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let shared = self.conn.lock();
        let c = &shared.db;
        if shared.group.get() {
            run(
                c,
                f,
                "SAVEPOINT op",
                &["RELEASE op"],
                &["ROLLBACK TO op", "RELEASE op"],
            )
        } else {
            run(c, f, "BEGIN IMMEDIATE", &["COMMIT"], &["ROLLBACK"])
        }
    }

    /// Runs `f` for reading, in one read transaction: all its statements see
    /// one snapshot, and the WAL read lock is taken and released once (each
    /// statement outside a transaction takes it again — two `fcntl` calls
    /// each, which the profile of a push login showed). Inside a group it
    /// reads in the group's transaction.
    pub(crate) fn read_snapshot<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let shared = self.conn.lock();
        let c = &shared.db;
        if shared.group.get() {
            return f(c);
        }
        // A read changes nothing, so ending it with COMMIT whatever `f`
        // returned is right.
        run(c, f, "BEGIN", &["COMMIT"], &["COMMIT"])
    }

    /// Runs `f` for reading.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&self.conn.lock().db)
    }

    /// Group commit: runs `f` with every store call it makes (on this
    /// thread) inside one immediate transaction, each call a savepoint of
    /// it, and commits once at the end.
    ///
    /// Why: a commit costs more than most of the statements in it — the
    /// WAL frames of every page it touched (the same hot pages, such as the
    /// last page of the audit log, again and again), the checksum over them,
    /// the locks. The group committer (`store::group`) runs the store calls
    /// of concurrent requests through here, so under load many requests
    /// share one commit. A call that fails is rolled back to its savepoint
    /// and leaves the others alone. Nothing in a group is durable, and no
    /// caller may be answered, before this returns `Ok`; when the commit
    /// fails nothing of the group was stored.
    pub fn group(&self, f: &mut dyn FnMut()) -> Result<(), StoreError> {
        let shared = self.conn.lock();
        let c = &shared.db;
        if shared.group.get() {
            // Already inside a group on this thread: just join it.
            f();
            return Ok(());
        }
        c.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        shared.group.set(true);
        let mut guard = Undo {
            conn: c,
            undo: &["ROLLBACK"],
            armed: true,
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        shared.group.set(false);
        if let Err(panic) = ran {
            drop(guard);
            std::panic::resume_unwind(panic);
        }
        c.prepare_cached("COMMIT")?.execute([])?;
        guard.armed = false;
        Ok(())
    }
}

impl GroupStore for SqliteStore {
    fn group(&self, f: &mut dyn FnMut()) -> Result<(), StoreError> {
        SqliteStore::group(self, f)
    }
}

/// Undoes an open transaction or savepoint when dropped armed: on an error
/// and also when a panic unwinds through the store, so the connection is
/// never left inside a half-done transaction.
struct Undo<'c> {
    conn: &'c Connection,
    undo: &'static [&'static str],
    armed: bool,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if self.armed {
            for sql in self.undo {
                if let Err(e) = self
                    .conn
                    .prepare_cached(sql)
                    .and_then(|mut s| s.execute([]))
                {
                    tracing::error!(error = %e, "cannot roll back a store transaction");
                }
            }
        }
    }
}

/// Runs `f` between `begin` and `end`, or `undo` when `f` fails or panics.
fn run<T>(
    c: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    begin: &str,
    end: &'static [&'static str],
    undo: &'static [&'static str],
) -> Result<T, StoreError> {
    c.prepare_cached(begin)?.execute([])?;
    let mut guard = Undo {
        conn: c,
        undo,
        armed: true,
    };
    let out = f(c)?;
    for sql in end {
        c.prepare_cached(sql)?.execute([])?;
    }
    guard.armed = false;
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An in-memory store with broker 1000 (mobile 0151 11111111), created at time 1:
    /// the start of the store modules' own tests.
    pub(in crate::store::sqlite) fn store_with_broker() -> (SqliteStore, crate::store::UserId) {
        use crate::domain::{LoginName, Role};
        use crate::store::{NewUser, UserStore};
        let s = SqliteStore::open_in_memory().unwrap();
        let user = NewUser {
            login: LoginName::parse("1000").unwrap(),
            display_name: "B".into(),
            password_hash: "x".into(),
            role: Role::Broker,
            broker_id: None,
            email: None,
            // Devices enroll only while a mobile number is on file.
            phone: Some(crate::domain::PhoneNumber::parse("0151 11111111").unwrap()),
        };
        let id = s.create_user(&user, 1).unwrap();
        (s, id)
    }
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
