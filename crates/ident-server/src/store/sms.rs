//! SMS login codes and the SMS ledger.
//!
//! The two live in one trait because one decision touches both: whether an
//! SMS may be sent (the per-user rate limit is counted from the ledger) is
//! made in the same transaction that stores the code and charges the broker,
//! so two concurrent requests can never both slip under the limit.
//!
//! Codes are stored only as keyed hashes (see `services::sms`); the store
//! never sees a code. Counting a try and reading the hash is one atomic step,
//! done *before* the caller compares, so a crash or a race after the
//! comparison never yields a free guess.

use serde::Serialize;

use super::{NewAuditEntry, StoreError, UserId};
use crate::domain::{Cents, VatRate};

/// Why an SMS was sent; the ledger's `purpose` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmsPurpose {
    /// A login code (SMS fallback).
    Login,
    /// The confirmation code of an enrollment.
    Enrollment,
}

impl SmsPurpose {
    /// The name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsPurpose::Login => "login",
            SmsPurpose::Enrollment => "enrollment",
        }
    }

    /// Parses the name in the database.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(SmsPurpose::Login),
            "enrollment" => Some(SmsPurpose::Enrollment),
            _ => None,
        }
    }
}

/// A ledger entry to append: one SMS, charged to a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerEntry {
    /// The broker who pays.
    pub broker_id: UserId,
    /// The user the SMS went to.
    pub user_id: UserId,
    /// The user's login, kept as it was when the SMS was sent.
    pub user_login: String,
    /// The number, masked (`PhoneNumber::masked`); never the full number.
    pub phone_masked: String,
    /// Why.
    pub purpose: SmsPurpose,
    /// Net price.
    pub net: Cents,
    /// VAT rate in force when it was sent.
    pub vat: VatRate,
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// Database id (increasing).
    pub id: i64,
    /// The broker who pays.
    pub broker_id: UserId,
    /// The user the SMS went to.
    pub user_id: UserId,
    /// The user's login at the time.
    pub user_login: String,
    /// The masked number.
    pub phone_masked: String,
    /// Why.
    pub purpose: SmsPurpose,
    /// When (Unix seconds).
    pub sent_at: i64,
    /// Net price.
    pub net: Cents,
    /// VAT rate.
    pub vat: VatRate,
}

/// A login code to store with an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSmsCode {
    /// The login transaction (`auth_txns.id`) the code belongs to.
    pub txn_id: String,
    /// The keyed hash of the code.
    pub code_hash: [u8; 32],
    /// When it stops being valid.
    pub expires_at: i64,
}

/// Everything written when an SMS is about to be sent, in one transaction.
#[derive(Debug, Clone)]
pub struct SmsReservation {
    /// The charge.
    pub ledger: NewLedgerEntry,
    /// The login code to store (replacing any earlier one for the txn), if any.
    pub code: Option<NewSmsCode>,
    /// The audit entry (`sms.sent`); `ledger_id` is added to its detail.
    pub audit: NewAuditEntry,
    /// Most SMS to this user within the last hour, this one included.
    pub limit_per_hour: u32,
}

/// The outcome of [`SmsStore::reserve_sms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// Written; the SMS may be sent. The ledger entry's id.
    Ok(i64),
    /// The user has had `limit_per_hour` SMS in the last hour; nothing written.
    RateLimited {
        /// Seconds until the next SMS would be allowed (at least 1).
        retry_after: i64,
    },
    /// The code's login transaction does not exist or belongs to another user;
    /// nothing written.
    NoSuchTxn,
}

/// The outcome of [`SmsStore::count_sms_try`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsTry {
    /// No code for this transaction (never sent, or already used).
    NoCode,
    /// The code has expired; no try counted.
    Expired,
    /// All tries are used up; no try counted.
    Exhausted,
    /// A try was counted; compare against `code_hash`.
    Counted {
        /// The stored keyed hash.
        code_hash: Vec<u8>,
        /// Tries left after this one.
        tries_left: u32,
    },
}

/// Storage of SMS codes and the SMS ledger.
pub trait SmsStore {
    /// Atomically: checks the user's hourly limit (counted from the ledger),
    /// then stores the code (if any), appends the ledger entry and the audit
    /// entry. Nothing is written unless the result is [`Reserved::Ok`].
    fn reserve_sms(&self, r: &SmsReservation, now: i64) -> Result<Reserved, StoreError>;

    /// Undoes a reservation whose SMS the gateway did not accept: deletes the
    /// ledger entry and the code of `txn_id` (if given), and appends `audit`
    /// (`sms.failed`). Atomic.
    fn cancel_sms(
        &self,
        ledger_id: i64,
        txn_id: Option<&str>,
        audit: &NewAuditEntry,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Atomically counts one try of the code of `txn_id` (when it exists, is
    /// unexpired and has tries left out of `max_tries`) and returns its hash.
    fn count_sms_try(&self, txn_id: &str, max_tries: u32, now: i64) -> Result<SmsTry, StoreError>;

    /// Deletes the code of `txn_id` if its hash is still `code_hash`: true for
    /// exactly one caller, so a correct code is accepted once.
    fn consume_sms_code(&self, txn_id: &str, code_hash: &[u8]) -> Result<bool, StoreError>;

    /// The ledger entries of `broker` sent in `[from, to)`, oldest first, at most `limit`.
    fn sms_ledger(
        &self,
        broker: UserId,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
}
