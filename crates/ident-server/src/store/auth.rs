//! Login transactions, challenges, answers and denials.
//!
//! A login's second factor is one *transaction* (`auth_txns`): push (one
//! signed challenge per active device), SMS, or `trusted` (the browser's
//! trust token was still valid). The rules that must hold under concurrency
//! are decided inside one immediate SQLite transaction each:
//! - starting a push login checks the push lock and the open-challenge limit
//!   and inserts the transaction with its challenges;
//! - an answer marks its challenge answered (`WHERE answered_at IS NULL`),
//!   closes the sibling challenges, decides the transaction, records a denial
//!   and, at the limit or on "not me", locks push and closes every other open
//!   push login of the user — all or nothing.
//!
//! A withdrawal (the relying party cancels a pending login) marks the
//! transaction `withdrawn` and closes its unanswered challenges in one
//! transaction too, so an answer racing it either decides the login first or
//! finds its challenge closed; it records no denial.

use super::devices::Device;
use super::{NewAuditEntry, StoreError, User, UserId};
use crate::domain::LoginName;

/// A transaction's state as stored. A `pending` transaction past its
/// `expires_at` is reported as expired by the service (computed on read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStatus {
    /// Waiting for the second factor.
    Pending,
    /// Second factor passed.
    Approved,
    /// Denied (also a wrong number, or SMS tries used up).
    Denied,
    /// Expired.
    Expired,
    /// Ended because push was locked for the user.
    Locked,
    /// Withdrawn by the relying party that started it (the user cancelled
    /// the login or switched to SMS): neither a denial nor open.
    Withdrawn,
}

impl TxnStatus {
    /// The name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TxnStatus::Pending => "pending",
            TxnStatus::Approved => "approved",
            TxnStatus::Denied => "denied",
            TxnStatus::Expired => "expired",
            TxnStatus::Locked => "locked",
            TxnStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses the name in the database.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => TxnStatus::Pending,
            "approved" => TxnStatus::Approved,
            "denied" => TxnStatus::Denied,
            "expired" => TxnStatus::Expired,
            "locked" => TxnStatus::Locked,
            "withdrawn" => TxnStatus::Withdrawn,
            _ => return None,
        })
    }
}

/// A transaction to insert.
#[derive(Debug, Clone)]
pub struct NewTxn {
    /// Random id.
    pub id: String,
    /// The user logging in.
    pub user_id: UserId,
    /// The relying party's API key that started it (only it may follow it).
    pub api_key_id: i64,
    /// `push`, `sms` or `trusted`.
    pub method: &'static str,
    /// Initial status (`pending`, or `approved` for `trusted`).
    pub status: TxnStatus,
    /// The number-matching number shown on the login page (push only).
    pub number: Option<String>,
    /// The browser's IP.
    pub ip: String,
    /// The browser's user agent.
    pub user_agent: String,
    /// The portal's name.
    pub service: String,
    /// Now.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
}

/// A transaction as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Its id.
    pub id: String,
    /// The user.
    pub user_id: UserId,
    /// The API key that started it; `None` for logins from before schema v3,
    /// which no key may follow.
    pub api_key_id: Option<i64>,
    /// `push`, `sms` or `trusted`.
    pub method: String,
    /// Stored status.
    pub status: TxnStatus,
    /// Number matching.
    pub number: Option<String>,
    /// The browser's IP.
    pub ip: String,
    /// The browser's user agent.
    pub user_agent: String,
    /// Creation time.
    pub created_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Decision time.
    pub decided_at: Option<i64>,
    /// Trust token issued on approval, if any, sealed (see
    /// `services::trust::seal`): never stored in clear.
    pub trust_token_sealed: Option<Vec<u8>>,
}

/// A challenge to insert with its transaction.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    /// The challenge id (its `jti`).
    pub id: String,
    /// The device it is for.
    pub device_id: String,
    /// The signed JWS.
    pub token: String,
    /// Its `exp`.
    pub expires_at: i64,
}

/// A challenge with what answering it needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    /// The challenge id.
    pub id: String,
    /// Its transaction.
    pub txn_id: String,
    /// The device it was sent to.
    pub device_id: String,
    /// Its `exp`.
    pub expires_at: i64,
    /// When it was answered or closed.
    pub answered_at: Option<i64>,
    /// The user logging in.
    pub user_id: UserId,
    /// The transaction's number.
    pub number: Option<String>,
}

/// What answering a challenge needs to know, read in one snapshot
/// ([`AuthStore::answer_context`]).
#[derive(Debug, Clone)]
pub struct AnswerContext {
    /// The challenge, if it exists.
    pub challenge: Option<ChallengeRow>,
    /// The device the answer names (its `kid`), if it exists.
    pub device: Option<Device>,
    /// The user of the challenge's login.
    pub user: Option<User>,
}

/// What [`AuthStore::start_push`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPush {
    /// Inserted.
    Started,
    /// Push is locked for the user; nothing inserted.
    Locked,
    /// The user already has the maximum of open push logins; nothing inserted.
    TooMany,
}

/// What an accepted answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Approved with the right number (or none needed).
    Approve,
    /// Denied.
    Deny,
    /// Denied with "this was not me".
    NotMe,
    /// Approved with a wrong or missing number: a denial.
    WrongNumber,
}

impl AnswerKind {
    /// The `challenges.decision` / `denials.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Approve => "approve",
            AnswerKind::Deny => "deny",
            AnswerKind::NotMe => "not_me",
            AnswerKind::WrongNumber => "wrong_number",
        }
    }
}

/// An answer to apply.
#[derive(Debug, Clone)]
pub struct ApplyAnswer<'a> {
    /// The challenge.
    pub challenge_id: &'a str,
    /// Its transaction.
    pub txn_id: &'a str,
    /// The answering device.
    pub device_id: &'a str,
    /// The user.
    pub user_id: UserId,
    /// What it says.
    pub kind: AnswerKind,
    /// Denials within this many seconds count toward the lock.
    pub denial_window_secs: i64,
    /// Denials that lock push.
    pub max_denials: u32,
    /// The trust token issued for an approval, sealed, stored with the decision.
    pub trust_token_sealed: Option<&'a [u8]>,
}

/// What applying an answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The challenge was already answered or closed; nothing changed.
    Replayed,
    /// Applied.
    Done {
        /// The transaction's new status.
        status: TxnStatus,
        /// Whether this answer locked push.
        locked: bool,
        /// Other push transactions of the user ended by the lock.
        closed_txns: Vec<String>,
        /// Trusted browsers revoked because the answer said "not me" (in
        /// the same transaction as the lock).
        trust_revoked: u64,
    },
}

/// What [`AuthStore::withdraw_txn`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawal {
    /// The transaction was pending and is now `withdrawn`; its open
    /// challenges were closed. `devices` are the devices that had one (their
    /// long polls are woken so they drop it).
    Withdrawn {
        /// Devices whose open challenge was closed.
        devices: Vec<String>,
    },
    /// The transaction was not pending any more (or had expired); nothing changed.
    NotPending,
}

/// Storage of login transactions.
pub trait AuthStore {
    /// Inserts a push transaction with its challenges unless push is locked
    /// for the user or `max_open` push transactions are open; audits with `audit`.
    fn start_push(
        &self,
        txn: &NewTxn,
        challenges: &[NewChallenge],
        max_open: u32,
        audit: &NewAuditEntry,
    ) -> Result<StartPush, StoreError>;
    /// Inserts an SMS or trusted transaction, audited.
    fn insert_txn(&self, txn: &NewTxn, audit: &NewAuditEntry) -> Result<(), StoreError>;
    /// Deletes a transaction that never got going (its SMS could not be sent).
    fn delete_txn(&self, id: &str) -> Result<(), StoreError>;
    /// The transaction `id`.
    fn txn(&self, id: &str) -> Result<Option<Txn>, StoreError>;
    /// The open (unanswered, unexpired) challenge tokens of an active device,
    /// oldest first, at most `limit`.
    fn open_challenges(
        &self,
        device_id: &str,
        now: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
    /// The challenge `id` with its transaction's facts.
    fn challenge(&self, id: &str) -> Result<Option<ChallengeRow>, StoreError>;
    /// The challenge `challenge_id`, the device `device_id` and the
    /// challenge's user, in one read snapshot (one answer request, one read).
    fn answer_context(
        &self,
        challenge_id: &str,
        device_id: &str,
    ) -> Result<AnswerContext, StoreError>;
    /// The user `login` with its active devices (oldest first), in one read
    /// snapshot: what starting a login needs.
    fn user_with_active_devices(
        &self,
        login: &LoginName,
    ) -> Result<Option<(User, Vec<Device>)>, StoreError>;
    /// Applies an answer atomically (see the module docs); audits
    /// `challenge.answered` and, when it locks, `push.locked`.
    fn apply_answer(&self, a: &ApplyAnswer<'_>, now: i64) -> Result<Applied, StoreError>;
    /// Decides a pending, unexpired transaction (`approved` or `denied`,
    /// with the sealed trust token issued for an approval), with `audit`.
    /// False when it was not pending any more or expired.
    fn decide_txn(
        &self,
        id: &str,
        status: TxnStatus,
        trust_token_sealed: Option<&[u8]>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Withdraws a pending, unexpired transaction in one transaction: status
    /// `withdrawn`, its unanswered challenges closed (`decision =
    /// 'withdrawn'`), audited with `audit`. No denial is recorded.
    fn withdraw_txn(
        &self,
        id: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Withdrawal, StoreError>;
}
