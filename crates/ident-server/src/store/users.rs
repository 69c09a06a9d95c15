//! Users: login, role, broker, mobile number, 2FA interval, push lock, and
//! the wrong-password counter of the first-factor check.
//!
//! The `change_*` methods write the change and its audit entry in one
//! transaction, so an audited change is never half-written; they return
//! whether anything actually changed (setting the same value again is a no-op
//! and is not audited).

use serde::Serialize;

use super::StoreError;
use crate::domain::{LoginName, PhoneNumber, Role, TwoFactorInterval};

/// A user's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct UserId(pub i64);

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// Login name.
    pub login: LoginName,
    /// Name to show.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The responsible broker; `None` exactly for brokers.
    pub broker_id: Option<UserId>,
    /// E-mail address for customer mail, if known.
    pub email: Option<String>,
    /// Mobile number on file.
    pub phone: Option<PhoneNumber>,
    /// 2FA interval.
    pub interval: TwoFactorInterval,
    /// When push was locked (after "not me" or repeated denials), if it is.
    pub push_locked_at: Option<i64>,
    /// Why push is locked: `not_me` or `denials`.
    pub push_lock_reason: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

impl User {
    /// The broker who pays for this user's SMS: the user itself for a broker.
    pub fn billing_broker(&self) -> UserId {
        self.broker_id.unwrap_or(self.id)
    }
}

/// A user to create. The password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub login: LoginName,
    /// Name to show.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// The broker; required unless `role` is broker.
    pub broker_id: Option<UserId>,
    /// E-mail address.
    pub email: Option<String>,
    /// Mobile number.
    pub phone: Option<PhoneNumber>,
}

/// Who made a change, for the audit entry written with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedBy {
    /// The audit actor: `user:<login>`, `api-key:<name>`, `admin-cli`, `system`.
    pub actor: String,
    /// Through which portal, when a user acted through one (the API key's name).
    pub via: Option<String>,
}

/// A change of a user's profile; fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// A new name to show.
    pub display_name: Option<String>,
    /// A new e-mail address (`Some(None)` removes it).
    pub email: Option<Option<String>>,
    /// A new role (never to or from broker; the caller has checked).
    pub role: Option<Role>,
}

/// What [`UserStore::delete_user`] did, or why it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// The user and everything that was theirs alone are gone.
    Deleted {
        /// The user's logins that were still pending (their status polls end).
        pending_txns: Vec<String>,
        /// The user's devices (their challenge polls end).
        devices: Vec<String>,
    },
    /// A broker that still has users (customers, employees, sub-brokers).
    HasUsers(u64),
    /// A broker with SMS charges in the ledger, which is kept ten years.
    HasCharges(u64),
}

/// Which of a broker's customers to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// `Some(true)`: only customers with a mobile number; `Some(false)`: only without.
    pub has_phone: Option<bool>,
    /// `Some(true)`: only customers with an active device; `Some(false)`: only without.
    pub enrolled: Option<bool>,
}

/// A user and whether they have an active (enrolled) device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWithDevices {
    /// The user.
    pub user: User,
    /// Whether at least one device of the user is active.
    pub enrolled: bool,
}

/// The verdict on a password attempt (see [`UserStore::begin_password_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// The attempt was counted; check the password.
    Allowed,
    /// Too many wrong passwords recently; nothing was counted.
    Refused {
        /// Seconds until the oldest counted attempt leaves the window.
        retry_after: i64,
    },
}

/// Storage of users.
pub trait UserStore {
    /// Creates a user. `Conflict` when the login is taken, `Retired` when it
    /// was a deleted user's; `NotFound` when the broker does not exist or is
    /// not a broker.
    fn create_user(&self, user: &NewUser, now: i64) -> Result<UserId, StoreError>;
    /// The user with `id`.
    fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user with `login`.
    fn user_by_login(&self, login: &LoginName) -> Result<Option<User>, StoreError>;
    /// The stored password hash of `id`.
    fn password_hash(&self, id: UserId) -> Result<Option<String>, StoreError>;
    /// Sets or clears the mobile number. `NotFound` if the user does not exist.
    fn set_phone(&self, id: UserId, phone: Option<&PhoneNumber>) -> Result<(), StoreError>;
    /// Sets one user's 2FA interval.
    fn set_interval(&self, id: UserId, interval: TwoFactorInterval) -> Result<(), StoreError>;
    /// Sets the 2FA interval of every customer of `broker`; returns how many changed.
    fn set_interval_for_customers(
        &self,
        broker: UserId,
        interval: TwoFactorInterval,
    ) -> Result<u64, StoreError>;
    /// Every user whose broker is `broker` (customers, employees, sub-brokers), by login.
    fn users_of_broker(&self, broker: UserId) -> Result<Vec<User>, StoreError>;
    /// Locks push for `id` (idempotent: the first lock's time and reason stay).
    fn lock_push(&self, id: UserId, reason: &str, now: i64) -> Result<(), StoreError>;
    /// Unlocks push for `id`.
    fn unlock_push(&self, id: UserId) -> Result<(), StoreError>;
    /// How many users exist.
    fn user_count(&self) -> Result<u64, StoreError>;
    /// The user with `login` and whether they have an active device.
    fn user_with_devices(&self, login: &LoginName) -> Result<Option<UserWithDevices>, StoreError>;
    /// The customers of `broker` matching `filter`, by login.
    fn customers_of(
        &self,
        broker: UserId,
        filter: CustomerFilter,
    ) -> Result<Vec<UserWithDevices>, StoreError>;
    /// Creates a user and audits it (`user.created`) in one transaction.
    /// Errors as [`UserStore::create_user`].
    fn create_user_audited(
        &self,
        user: &NewUser,
        by: &ChangedBy,
        now: i64,
    ) -> Result<UserId, StoreError>;
    /// Sets (`Some`) or removes (`None`) the mobile number and audits it
    /// (`phone.changed`, numbers masked). `Ok(false)`: it already was that.
    fn change_phone(
        &self,
        id: UserId,
        phone: Option<&PhoneNumber>,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Sets one user's 2FA interval and audits it (`interval.changed`).
    /// `Ok(false)`: it already was that.
    fn change_interval(
        &self,
        id: UserId,
        interval: TwoFactorInterval,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Sets the 2FA interval of every customer of `broker` whose interval
    /// differs, with one audit entry per customer; returns those customers.
    fn change_customers_interval(
        &self,
        broker: UserId,
        interval: TwoFactorInterval,
        by: &ChangedBy,
        now: i64,
    ) -> Result<Vec<UserId>, StoreError>;
    /// Lifts the push lock and audits it (`push.unlocked`). `Ok(false)`: it was not locked.
    fn unlock_push_audited(&self, id: UserId, by: &ChangedBy, now: i64)
    -> Result<bool, StoreError>;
    /// Counts a password attempt for `login` *before* the password is
    /// checked, unless `max` attempts are already counted within the last
    /// `window_secs`, in which case nothing is counted. Counting first means
    /// concurrent guesses cannot overrun the limit. `login` need not exist.
    fn begin_password_attempt(
        &self,
        login: &LoginName,
        now: i64,
        window_secs: i64,
        max: u32,
    ) -> Result<AttemptVerdict, StoreError>;
    /// Forgets the counted attempts of `login` (after a correct password).
    fn clear_password_attempts(&self, login: &LoginName) -> Result<(), StoreError>;
    /// Applies `change` and audits it (`user.updated`, naming the fields, and
    /// the role's old and new value) in one transaction. `Ok(false)`: every
    /// given value already was that.
    fn change_profile(
        &self,
        id: UserId,
        change: &ProfileChange,
        by: &ChangedBy,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Replaces the password hash, forgets the login's wrong-password count,
    /// revokes the user's trusted browsers and audits it
    /// (`password.changed`), all in one transaction.
    fn change_password(
        &self,
        id: UserId,
        password_hash: &str,
        by: &ChangedBy,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Deletes a user with their devices, enrollments, logins, denials and
    /// trusted browsers, and audits it (`user.deleted`) in one transaction.
    /// The SMS ledger keeps its rows (login and masked number are copied
    /// there) and the audit log keeps its entries; the login is retired (no
    /// new user gets it). A broker is deleted only when no user and no SMS
    /// charge refers to them.
    fn delete_user(&self, id: UserId, by: &ChangedBy, now: i64) -> Result<Deletion, StoreError>;
}
