//! Storage: one trait per area of the service, implemented for SQLite.
//!
//! Handlers and services see only these traits (through [`Store`]), so a
//! PostgreSQL implementation can be added without touching them. The traits
//! are synchronous; the async side calls them through [`crate::state::AppState::db`],
//! which runs them right on the async worker (each is a short transaction;
//! see there why) and lets concurrent requests share a commit
//! (`crate::group_commit`). Every method is one transaction (or, inside a
//! group commit, one savepoint):
//! it either happens completely or not at all, and the methods that decide
//! something (an answer, a used token, an SMS try) decide it atomically.

pub mod audit;
pub mod auth;
pub mod devices;
pub mod keys;
pub mod retention;
pub mod schema;
pub mod sms;
pub mod sqlite;
pub mod trust;
pub mod users;

pub use audit::{AuditEntry, AuditStore, NewAuditEntry};
pub use auth::AuthStore;
pub use devices::DeviceStore;
pub use keys::{ApiKeyRecord, KeyStore};
pub use retention::RetentionStore;
pub use sms::SmsStore;
pub use sqlite::SqliteStore;
pub use trust::{TrustStore, TrustedBrowser};
pub use users::{
    AttemptVerdict, ChangedBy, CustomerFilter, Deletion, NewUser, ProfileChange, User, UserId,
    UserStore, UserWithDevices,
};

use thiserror::Error;

/// Why a storage operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. the login name is taken).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// The value belonged to something deleted and is not given again (a
    /// deleted user's login).
    #[error("retired")]
    Retired,
    /// The stored data is not what this version understands.
    #[error("the database is damaged or from a newer version: {0}")]
    Corrupt(String),
    /// The database engine failed.
    #[error("database error: {0}")]
    Db(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(e.to_string())
            }
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            _ => StoreError::Db(e.to_string()),
        }
    }
}

/// Group commit: many store calls, one durable commit (see
/// `crate::group_commit` for who uses it and why).
pub trait GroupStore {
    /// Runs `f`, with every store call it makes on this thread inside one
    /// transaction that is committed when `f` returns. Each call stays
    /// atomic on its own (one that fails is undone alone). Nothing `f` did
    /// is durable, and nobody may be told it happened, before this returns
    /// `Ok`; on `Err` none of it was stored.
    fn group(&self, f: &mut dyn FnMut()) -> Result<(), StoreError>;
}

/// Everything the service stores. Implemented by [`SqliteStore`].
pub trait Store:
    GroupStore
    + UserStore
    + KeyStore
    + AuditStore
    + DeviceStore
    + AuthStore
    + SmsStore
    + TrustStore
    + RetentionStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: GroupStore
        + UserStore
        + KeyStore
        + AuditStore
        + DeviceStore
        + AuthStore
        + SmsStore
        + TrustStore
        + RetentionStore
        + Send
        + Sync
        + 'static
{
}
