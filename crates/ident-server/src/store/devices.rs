//! Devices, enrollments and the proof replay window.
//!
//! An enrollment is a one-time token (stored as its SHA-256 only) that turns
//! into exactly one device. Claiming the token is one conditional `UPDATE` in
//! an immediate transaction, so of two concurrent enroll requests with the
//! same token exactly one wins. With SMS confirmation the device is created
//! `pending_sms` and the enrollment stays unused (but bound to that device)
//! until the code is confirmed; a pending device gets no challenges.
//!
//! The replay window keeps `(key thumbprint, jti)` pairs of accepted proofs
//! in the database, so a replayed proof stays refused across restarts.

use ident_core::jose::Jwk;

use super::{NewAuditEntry, StoreError, UserId};

/// A device's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Enrolled, waiting for the SMS confirmation code.
    PendingSms,
    /// Enrolled and usable.
    Active,
}

impl DeviceStatus {
    /// The name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::PendingSms => "pending_sms",
            DeviceStatus::Active => "active",
        }
    }
}

/// A device as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    /// Its id (the `kid` of its proofs).
    pub id: String,
    /// Whose device it is.
    pub user_id: UserId,
    /// Its public key.
    pub jwk: Jwk,
    /// The name the device gave itself.
    pub name: String,
    /// `ios`, `android`, … (the wire name).
    pub platform: String,
    /// `none`, `fcm` or `apns`.
    pub push_provider: String,
    /// The provider's token. Never log it.
    pub push_token: Option<String>,
    /// Pending or active.
    pub status: DeviceStatus,
    /// When it enrolled.
    pub created_at: i64,
    /// The last authenticated request.
    pub last_used_at: Option<i64>,
}

/// A device to create.
#[derive(Clone)]
pub struct NewDevice {
    /// A fresh random id.
    pub id: String,
    /// Its public key.
    pub jwk: Jwk,
    /// Its name.
    pub name: String,
    /// Its platform (wire name).
    pub platform: String,
    /// `none`, `fcm` or `apns`.
    pub push_provider: String,
    /// The provider's token.
    pub push_token: Option<String>,
}

// `Debug` shows whether a device has a push token, never the token: it
// addresses the phone at Google or Apple.
impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("platform", &self.platform)
            .field("push_provider", &self.push_provider)
            .field(
                "push_token",
                &crate::redact::optional(self.push_token.as_ref()),
            )
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDevice")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("platform", &self.platform)
            .field("push_provider", &self.push_provider)
            .field(
                "push_token",
                &crate::redact::optional(self.push_token.as_ref()),
            )
            .finish_non_exhaustive()
    }
}

/// An enrollment as stored (the token is not: only its hash is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// Its id.
    pub id: i64,
    /// The user it enrolls.
    pub user_id: UserId,
    /// When it was created.
    pub created_at: i64,
    /// When its token stops working.
    pub expires_at: i64,
    /// When its token was used up (set once).
    pub used_at: Option<i64>,
    /// The device it produced (or is producing, while SMS confirmation is pending).
    pub device_id: Option<String>,
}

/// The result of claiming an enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The enrollment.
    pub enrollment_id: i64,
    /// The user enrolled.
    pub user_id: UserId,
}

/// The result of counting a confirmation-code try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeTry {
    /// Counted; compare with `code_hash`. `tries_left` after this one.
    Counted {
        /// The stored keyed hash.
        code_hash: Vec<u8>,
        /// Tries left after this one.
        tries_left: u32,
    },
    /// The tries are used up.
    Exhausted,
    /// No code, or it has expired.
    Expired,
}

/// Storage of devices and enrollments.
pub trait DeviceStore {
    /// Creates an enrollment for `user`; `token_hash_of(id)` gives the
    /// SHA-256 of its token once the id is known. Audits `enrollment.created`
    /// by `actor`. Returns the id. First removes the `pending_sms` devices
    /// whose enrollment or code expired untried (audited
    /// `enrollment.abandoned`): they could never be used.
    fn create_enrollment(
        &self,
        user: UserId,
        now: i64,
        expires_at: i64,
        token_hash_of: &dyn Fn(i64) -> [u8; 32],
        actor: &str,
    ) -> Result<i64, StoreError>;
    /// The enrollment with `id`.
    fn enrollment(&self, id: i64) -> Result<Option<Enrollment>, StoreError>;
    /// Atomically claims the unused, unbound, unexpired enrollment with
    /// `token_hash` for `device`: without SMS (`pending_sms == false`) the
    /// token is used up and the device is active; with SMS the enrollment is
    /// bound to a `pending_sms` device. `None`: no such claimable token.
    /// Audits `enrollment.completed` or `enrollment.device_pending`. Like
    /// [`DeviceStore::create_enrollment`], first removes the `pending_sms`
    /// devices whose enrollment or code expired untried (audited
    /// `enrollment.abandoned`).
    fn claim_enrollment(
        &self,
        token_hash: &[u8; 32],
        device: &NewDevice,
        pending_sms: bool,
        now: i64,
    ) -> Result<Option<Claimed>, StoreError>;
    /// Undoes a `pending_sms` claim (the SMS could not be sent): deletes the
    /// pending device and unbinds the enrollment.
    fn release_enrollment(&self, enrollment_id: i64, device_id: &str) -> Result<(), StoreError>;
    /// Stores the confirmation code's hash and expiry on a pending device.
    fn set_device_code(
        &self,
        device_id: &str,
        code_hash: &[u8; 32],
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The unused, unexpired enrollment with `token_hash` that waits for its
    /// SMS code, and its pending device.
    fn pending_enrollment(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<(Enrollment, Device)>, StoreError>;
    /// Counts a confirmation try of pending device `device_id` *before* the
    /// caller compares, unless `max` are used or the code expired.
    fn count_device_code_try(
        &self,
        device_id: &str,
        max: u32,
        now: i64,
    ) -> Result<CodeTry, StoreError>;
    /// Activates the pending device and uses up the enrollment, audited
    /// `enrollment.completed`. False when it was no longer pending.
    fn complete_enrollment(
        &self,
        enrollment_id: i64,
        device_id: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Ends an enrollment whose code tries are used up: deletes the pending
    /// device and expires the enrollment now (audited `enrollment.failed`).
    fn fail_enrollment(
        &self,
        enrollment_id: i64,
        device_id: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The device with `id`, pending or active.
    fn device(&self, id: &str) -> Result<Option<Device>, StoreError>;
    /// The user's active devices, oldest first.
    fn active_devices(&self, user: UserId) -> Result<Vec<Device>, StoreError>;
    /// Records proof id `key` (thumbprint and `jti`) until `keep_until`;
    /// true if it was new. A record is the pair: the same proof always comes
    /// with the same `keep_until` (its signed `iat` + 60 s). Now and then purges expired records; when new and
    /// `touch` is set, updates that device's `last_used_at` (at most once a
    /// minute).
    fn first_use_proof(
        &self,
        key: &str,
        keep_until: i64,
        now: i64,
        touch: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Replaces the device's push registration, audited `device.push_changed`.
    fn set_push(
        &self,
        device_id: &str,
        provider: &str,
        token: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Deletes device `device_id` of `user` (its open challenges go with it),
    /// with `audit`. False when the user has no such device.
    fn delete_device(
        &self,
        user: UserId,
        device_id: &str,
        audit: &NewAuditEntry,
        now: i64,
    ) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_push_tokens() {
        let new = NewDevice {
            id: "dev-1".into(),
            jwk: ident_core::device_key::DeviceKey::generate()
                .unwrap()
                .0
                .public_jwk(),
            name: "Max' Handy".into(),
            platform: "ios".into(),
            push_provider: "apns".into(),
            push_token: Some("apns-secret-token".into()),
        };
        let device = Device {
            id: new.id.clone(),
            user_id: UserId(1),
            jwk: new.jwk.clone(),
            name: new.name.clone(),
            platform: new.platform.clone(),
            push_provider: new.push_provider.clone(),
            push_token: new.push_token.clone(),
            status: DeviceStatus::Active,
            created_at: 1,
            last_used_at: None,
        };
        for shown in [format!("{new:?}"), format!("{device:?}")] {
            assert!(!shown.contains("apns-secret-token"), "{shown}");
            assert!(
                shown.contains("dev-1") && shown.contains("[REDACTED]"),
                "{shown}"
            );
        }
    }
}
