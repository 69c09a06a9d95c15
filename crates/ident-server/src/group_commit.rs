//! Group commit: the store calls of concurrent requests share one commit.
//!
//! Why: on a push login the database's work is dominated not by the
//! statements but by the commits — every commit writes a WAL frame for each
//! page it touched (the same hot pages, such as the last page of the audit
//! log and of each index, again and again), checksums them and takes and
//! releases the file locks. So operations that arrive while another one is
//! being stored wait in a queue, and whoever stores next takes all of them:
//! they run inside one transaction (each store call a savepoint of its own,
//! so one that fails is undone alone; see `SqliteStore::group`), are
//! committed once, and only then is each waiting handler answered.
//!
//! How ("flat combining"): there is no store thread. A handler queues its
//! operation and, if nobody is storing, becomes the one that stores — its
//! own operation and whatever else is queued, group after group, until the
//! queue is empty. A handler that finds someone storing does not block: its
//! tokio worker goes on with other requests (HTTP, cryptography) while it
//! waits to be answered. Alone, an operation runs right away on its own
//! worker with its own transactions, as without this module: no hand-over
//! to another thread, whose wake-ups the load generator measured as more
//! expensive than a small operation itself (a dedicated store thread was
//! tried: it halved the logins per second of a single client).
//!
//! Durability is unchanged: nobody hears of a change before the commit that
//! holds it returned, and a failed commit fails every operation of the group
//! (none of them is stored). A panic in one operation fails that operation
//! only.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use tokio::sync::oneshot;

use crate::store::{Store, StoreError};

/// Most operations in one group: bounds how long one commit keeps the
/// first operation of the group waiting.
const MAX_GROUP: usize = 64;

/// Most groups one request stores in a row before it hands over (see
/// [`GroupCommitter::store_waiting`]).
const MAX_ROUNDS: usize = 8;

/// An operation's result, held until its group is committed.
trait Pending: Send {
    /// Hands the result to the waiting handler; `committed` says whether
    /// the group's commit succeeded.
    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>);
}

struct Slot<T> {
    reply: oneshot::Sender<Result<T, StoreError>>,
    result: Result<T, StoreError>,
}

impl<T: Send> Pending for Slot<T> {
    fn deliver(self: Box<Self>, committed: Result<(), &StoreError>) {
        let result = match committed {
            Ok(()) => self.result,
            Err(e) => Err(StoreError::Db(format!("the commit failed: {e}"))),
        };
        // The handler may have gone (its client hung up): nothing to tell.
        let _ = self.reply.send(result);
    }
}

/// One operation: runs against the store and returns its held result.
type Job = Box<dyn FnOnce(&dyn Store) -> Box<dyn Pending> + Send>;

/// Runs the handlers' store operations, committing those that wait at
/// the same time together (see the module docs).
pub struct GroupCommitter {
    store: Arc<dyn Store>,
    /// Operations waiting to be stored.
    queue: Mutex<VecDeque<Job>>,
    /// Held by whoever is storing.
    storing: Mutex<()>,
}

impl std::fmt::Debug for GroupCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommitter").finish_non_exhaustive()
    }
}

impl GroupCommitter {
    /// A committer over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            queue: Mutex::new(VecDeque::new()),
            storing: Mutex::new(()),
        }
    }

    /// Runs `f` against the store, in a group with whatever else waits, and
    /// returns its result once its changes are committed.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            Box::new(Slot {
                reply,
                result: f(store),
            })
        });
        lock(&self.queue).push_back(job);
        self.store_waiting();
        // A dropped reply means the operation panicked.
        answer
            .await
            .map_err(|_| StoreError::Db("the store operation failed".into()))?
    }

    /// Stores everything queued, unless someone else is already storing (they
    /// take what was queued, this one's operation included).
    ///
    /// After [`MAX_ROUNDS`] groups in a row it hands what is still queued
    /// to a fresh task: under a steady stream of operations the queue may
    /// never run empty, and this request (already answered) and the other
    /// tasks of this worker should not wait for that.
    fn store_waiting(self: &Arc<Self>) {
        loop {
            let Some(storing) = try_lock(&self.storing) else {
                return;
            };
            let mut rounds = 0;
            loop {
                let group: Vec<Job> = {
                    let mut q = lock(&self.queue);
                    let n = q.len().min(MAX_GROUP);
                    q.drain(..n).collect()
                };
                if group.is_empty() {
                    break;
                }
                run_group(self.store.as_ref(), group);
                rounds += 1;
                if rounds == MAX_ROUNDS {
                    break;
                }
            }
            drop(storing);
            // Something queued between the last look and letting go would
            // wait for the next arrival: look once more.
            if lock(&self.queue).is_empty() {
                return;
            }
            if rounds == MAX_ROUNDS {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    let this = Arc::clone(self);
                    rt.spawn(async move { this.store_waiting() });
                    return;
                }
            }
        }
    }
}

/// The queue's and the storing flag's locks are only held for a push, a
/// drain or a group; a panic cannot leave them half-changed, so a poisoned
/// lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn try_lock<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Runs `group` as one commit and answers each operation.
fn run_group(store: &dyn Store, mut group: Vec<Job>) {
    if group.len() == 1 {
        // Alone: the operation's own transactions are its commits; a group
        // around it would only add a savepoint.
        for job in group.drain(..) {
            if let Ok(p) = catch_unwind(AssertUnwindSafe(|| job(store))) {
                p.deliver(Ok(()));
            }
        }
        return;
    }
    let mut done: Vec<Box<dyn Pending>> = Vec::with_capacity(group.len());
    let committed = store.group(&mut || {
        for job in group.drain(..) {
            // A panicking operation drops its reply (its handler gets an
            // error); its savepoint was undone on the way out.
            if let Ok(p) = catch_unwind(AssertUnwindSafe(|| job(store))) {
                done.push(p);
            }
        }
    });
    if let Err(e) = &committed {
        tracing::error!(error = %e, operations = done.len(), "a group commit failed; its operations are reported failed");
    }
    // Operations a failed BEGIN never ran are dropped with `group`: their
    // handlers get an error too.
    drop(group);
    for p in done {
        p.deliver(committed.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditStore, NewAuditEntry, SqliteStore};

    fn entry(action: &'static str) -> NewAuditEntry {
        NewAuditEntry {
            actor: "system".into(),
            action,
            user_id: None,
            detail: serde_json::json!({}),
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// Many concurrent writers: every one is answered with its own result
    /// and every write is stored once.
    #[test]
    fn concurrent_operations_are_all_applied_and_answered() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("t.db"), false).unwrap());
        let gc = Arc::new(GroupCommitter::new(Arc::clone(&store)));
        let answered = rt().block_on(async {
            let mut tasks = Vec::new();
            for i in 0..400_i64 {
                let gc = Arc::clone(&gc);
                tasks.push(tokio::spawn(async move {
                    gc.run(move |s| s.audit(&entry("test.event"), i).map(|()| i))
                        .await
                }));
            }
            let mut answered = Vec::new();
            for t in tasks {
                answered.push(t.await.unwrap().unwrap());
            }
            answered
        });
        assert_eq!(
            answered,
            (0..400).collect::<Vec<_>>(),
            "each got its own result"
        );
        drop(gc);
        assert_eq!(store.audit_log(None, 1_000).unwrap().len(), 400);
    }

    /// More queued than one request stores in a row: the rest is handed to
    /// a fresh task, and every operation is still stored and answered.
    #[test]
    fn a_long_queue_is_handed_over_and_finished() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let gc = Arc::new(GroupCommitter::new(Arc::clone(&store)));
        let queued = MAX_GROUP * MAX_ROUNDS * 2 + 5;
        let mut answers = Vec::new();
        for i in 0..queued {
            let (reply, answer) = oneshot::channel();
            let job: Job = Box::new(move |s| {
                Box::new(Slot {
                    reply,
                    result: s.audit(&entry("queued"), i as i64),
                })
            });
            lock(&gc.queue).push_back(job);
            answers.push(answer);
        }
        rt().block_on(async {
            gc.run(|s| s.audit(&entry("last"), 0)).await.unwrap();
            for a in answers {
                a.await.unwrap().unwrap();
            }
        });
        assert_eq!(store.audit_log(None, 10_000).unwrap().len(), queued + 1);
    }

    /// One operation of a group fails: it is undone alone, the others of
    /// the same group are stored and answered.
    #[test]
    fn a_failing_operation_is_undone_alone() {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let s2 = Arc::clone(&store);
        let mut outcomes = Vec::new();
        store
            .group(&mut || {
                outcomes.push(s2.audit(&entry("a.kept"), 1).map(|_| ()));
                outcomes.push(s2.write(|c| {
                    c.execute(
                        "INSERT INTO audit (actor, action, detail, at) VALUES ('x', 'b.undone', '{}', 2)",
                        [],
                    )?;
                    Err::<(), _>(StoreError::Conflict("refused".into()))
                }));
                outcomes.push(s2.audit(&entry("c.kept"), 3).map(|_| ()));
            })
            .unwrap();
        assert!(outcomes[0].is_ok() && outcomes[1].is_err() && outcomes[2].is_ok());
        let actions: Vec<String> = store
            .audit_log(None, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"a.kept".to_owned()));
        assert!(actions.contains(&"c.kept".to_owned()));
        assert!(!actions.contains(&"b.undone".to_owned()));
    }

    /// A panic inside an operation fails that operation; the committer
    /// goes on serving.
    #[test]
    fn a_panicking_operation_fails_alone() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let gc = Arc::new(GroupCommitter::new(Arc::clone(&store)));
        rt().block_on(async {
            let bad = gc.run(|_| -> Result<(), StoreError> { panic!("boom") });
            assert!(bad.await.is_err());
            let ok = gc.run(|s| s.audit(&entry("after.panic"), 1)).await;
            assert!(ok.is_ok());
        });
    }

    /// A group that fails to commit stores nothing (the reply says so).
    #[test]
    fn nothing_of_an_uncommitted_group_is_stored() {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let s2 = Arc::clone(&store);
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
            store.group(&mut || {
                s2.audit(&entry("lost"), 1).unwrap();
                panic!("crash before the commit");
            })
        }));
        assert!(r.is_err());
        assert!(store.audit_log(None, 10).unwrap().is_empty());
        // The connection is usable again, outside any transaction.
        store.audit(&entry("later"), 2).unwrap();
        assert_eq!(store.audit_log(None, 10).unwrap().len(), 1);
    }
}
