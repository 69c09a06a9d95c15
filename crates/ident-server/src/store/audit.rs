//! The audit log: every enrollment, challenge, answer, SMS, lock, phone and
//! interval change, with who and when. Never a secret in it.

use serde::Serialize;

use super::{StoreError, UserId};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Who did it: `api-key:<name>`, `user:<login>`, `device:<id>`, `system`, `admin-cli`.
    pub actor: String,
    /// What happened, e.g. `phone.changed`.
    pub action: &'static str,
    /// The user affected.
    pub user_id: Option<UserId>,
    /// Extra facts as JSON (never secrets).
    pub detail: serde_json::Value,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Database id (increasing).
    pub id: i64,
    /// When.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The user affected.
    pub user_id: Option<i64>,
    /// Extra facts.
    pub detail: serde_json::Value,
}

/// Storage of the audit log.
pub trait AuditStore {
    /// Appends an entry.
    fn audit(&self, entry: &NewAuditEntry, now: i64) -> Result<(), StoreError>;
    /// The newest `limit` entries, newest first, optionally for one user.
    fn audit_log(&self, user: Option<UserId>, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}
