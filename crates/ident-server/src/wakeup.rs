//! Wake-ups for long polls: a waiting `GET /device/v1/challenges?wait=N` or
//! `GET /api/v1/auth/{txn}?wait=N` sleeps on a notification here and is woken
//! the moment something it waits for changes — no sleeping loops.
//!
//! Why this shape: a long poll must not miss a change that lands between its
//! database read and its wait. [`Waiter`] is armed *before* the read (tokio's
//! `Notified::enable`), so a notification sent after arming is kept even if
//! the waiter only starts awaiting later. Waiters re-read the database after
//! every wake-up, so a spurious or coalesced wake-up costs one query and no
//! correctness.
//!
//! On shutdown ([`Wakeups::close`]) every wait ends at once, so that a
//! graceful shutdown does not hold open long polls for their full `wait`:
//! each answers with what it has (no challenges yet, still pending).
//!
//! One process only: the notifications live in memory. With several server
//! instances on one database (PostgreSQL), the writer would also publish the
//! key (`LISTEN/NOTIFY` on a channel per kind) and each instance would call
//! [`Wakeups::notify_device`] / [`Wakeups::notify_txn`] on receipt; the long
//! poll code stays as it is. Until then a poll served by another instance
//! sees the change at the latest when its `wait` ends.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

/// Entries are swept of dead ones when the map grows past this many.
const SWEEP_AT: usize = 1024;

#[derive(Default)]
struct Topic {
    map: Mutex<HashMap<String, Weak<Notify>>>,
}

impl Topic {
    fn subscribe(&self, key: &str) -> Arc<Notify> {
        let Ok(mut map) = self.map.lock() else {
            // A poisoned map only loses wake-ups; the poll still ends on time.
            return Arc::new(Notify::new());
        };
        if let Some(n) = map.get(key).and_then(Weak::upgrade) {
            return n;
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let n = Arc::new(Notify::new());
        map.insert(key.to_owned(), Arc::downgrade(&n));
        n
    }

    fn notify(&self, key: &str) {
        let n = match self.map.lock() {
            Ok(mut map) => match map.get(key).map(Weak::upgrade) {
                Some(Some(n)) => Some(n),
                Some(None) => {
                    map.remove(key);
                    None
                }
                None => None,
            },
            Err(_) => None,
        };
        if let Some(n) = n {
            n.notify_waiters();
        }
    }

    fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The wake-up registry shared by all handlers (`AppState::wakeups`).
#[derive(Default)]
pub struct Wakeups {
    devices: Topic,
    txns: Topic,
    /// Set by [`Wakeups::close`]; woken waits then end.
    closing: AtomicBool,
    closed: Arc<Notify>,
}

impl std::fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeups")
            .field("devices", &self.devices.len())
            .field("txns", &self.txns.len())
            .finish()
    }
}

/// An armed wait: notifications sent after [`Wakeups::device`] or
/// [`Wakeups::txn`] returned it are not lost.
pub struct Waiter {
    notified: Pin<Box<OwnedNotified>>,
    closed: Pin<Box<OwnedNotified>>,
}

impl Waiter {
    fn arm(notify: Arc<Notify>, closed: &Arc<Notify>) -> Self {
        let mut notified = Box::pin(notify.notified_owned());
        notified.as_mut().enable();
        let mut closed = Box::pin(Arc::clone(closed).notified_owned());
        closed.as_mut().enable();
        Self { notified, closed }
    }

    /// Waits until notified, the service closes, or `timeout` has passed;
    /// true when notified or closing.
    pub async fn wait(self, timeout: Duration) -> bool {
        let woken = async {
            tokio::select! {
                () = self.notified => {}
                () = self.closed => {}
            }
        };
        tokio::time::timeout(timeout, woken).await.is_ok()
    }
}

impl Wakeups {
    /// A new, empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms a wait for news for device `id` (a new challenge).
    pub fn device(&self, id: &str) -> Waiter {
        Waiter::arm(self.devices.subscribe(id), &self.closed)
    }

    /// Arms a wait for news of login transaction `id` (a decision).
    pub fn txn(&self, id: &str) -> Waiter {
        Waiter::arm(self.txns.subscribe(id), &self.closed)
    }

    /// The service is shutting down: every wait armed now or later ends at
    /// once, and long polls answer with what they have.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.closed.notify_waiters();
    }

    /// Whether [`close`](Self::close) was called; long polls check it after
    /// arming (a close before the arming sends no notification).
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Wakes every wait armed for device `id`.
    pub fn notify_device(&self, id: &str) {
        self.devices.notify(id);
    }

    /// Wakes every wait armed for transaction `id`.
    pub fn notify_txn(&self, id: &str) {
        self.txns.notify(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn armed_waiter_keeps_an_early_notification() {
        let w = Wakeups::new();
        let waiter = w.device("d1");
        w.notify_device("d1");
        assert!(waiter.wait(Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn other_keys_and_timeouts() {
        let w = Wakeups::new();
        let waiter = w.txn("t1");
        w.notify_txn("t2");
        w.notify_device("t1");
        assert!(!waiter.wait(Duration::from_millis(20)).await);
        // Dropped waiters leave only dead entries, swept later.
        w.notify_txn("t1");
        assert!(w.txns.len() <= 2);
    }

    #[tokio::test]
    async fn closing_ends_every_wait() {
        let w = Wakeups::new();
        let armed = w.txn("t");
        assert!(!w.closing());
        w.close();
        assert!(w.closing());
        assert!(
            armed.wait(Duration::from_secs(30)).await,
            "ended by the close"
        );
    }

    #[tokio::test]
    async fn wakes_every_waiter_of_a_key() {
        let w = Arc::new(Wakeups::new());
        let a = w.device("d");
        let b = w.device("d");
        let w2 = Arc::clone(&w);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            w2.notify_device("d");
        });
        assert!(a.wait(Duration::from_secs(5)).await);
        assert!(b.wait(Duration::from_secs(5)).await);
    }
}
