//! Local notifications ("Anmeldung wartet auf Bestätigung").
//!
//! Remote push arrives through the platform (FCM/APNs) and only says that a
//! challenge is waiting; the core fetches it and uses this port to show the
//! user a local notification with what they need to decide.

use std::sync::Mutex;

/// A notification for the user. Holds no secrets: titles and body text only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Identifies the notification so a later one can replace or clear it
    /// (the challenge id for login requests).
    pub id: String,
    /// The title line.
    pub title: String,
    /// The body text.
    pub body: String,
}

/// The host's notification centre.
pub trait Notifier: Send + Sync {
    /// Shows `notification`, replacing one with the same id.
    fn notify(&self, notification: Notification);
    /// Removes the notification with `id`, if it is still shown.
    fn clear(&self, id: &str);
}

/// A notifier for tests that keeps what is currently shown.
#[derive(Debug, Default)]
pub struct MemoryNotifier(Mutex<Vec<Notification>>);

impl MemoryNotifier {
    /// The notifications currently shown, oldest first.
    pub fn shown(&self) -> Vec<Notification> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Notifier for MemoryNotifier {
    fn notify(&self, notification: Notification) {
        if let Ok(mut shown) = self.0.lock() {
            shown.retain(|n| n.id != notification.id);
            shown.push(notification);
        }
    }

    fn clear(&self, id: &str) {
        if let Ok(mut shown) = self.0.lock() {
            shown.retain(|n| n.id != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: &str, body: &str) -> Notification {
        Notification {
            id: id.into(),
            title: "Ident".into(),
            body: body.into(),
        }
    }

    #[test]
    fn same_id_replaces_and_clear_removes() {
        let m = MemoryNotifier::default();
        m.notify(n("a", "one"));
        m.notify(n("b", "two"));
        m.notify(n("a", "three"));
        assert_eq!(m.shown(), vec![n("b", "two"), n("a", "three")]);
        m.clear("b");
        assert_eq!(m.shown(), vec![n("a", "three")]);
    }
}
