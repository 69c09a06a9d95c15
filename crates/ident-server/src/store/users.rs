//! Users: login, role, broker, mobile number, 2FA interval, push lock.

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

/// Storage of users.
pub trait UserStore {
    /// Creates a user. `Conflict` when the login is taken; `NotFound` when the
    /// broker does not exist or is not a broker.
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
}
