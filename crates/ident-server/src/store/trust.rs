//! Trusted browsers: the trust tokens issued under a user's 2FA interval.
//!
//! The token itself is a signed JWS the relying party keeps (see
//! `services::trust`); the store keeps one row per token, keyed by its `jti`,
//! so a token can be listed, revoked one by one, or all at once when the
//! interval or the phone changes or the user says "this was not me".

use serde::Serialize;

use super::{NewAuditEntry, StoreError, UserId};

/// A trusted browser as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedBrowser {
    /// The token's `jti`.
    pub id: String,
    /// The user it trusts.
    pub user_id: UserId,
    /// The browser's user agent when it was trusted.
    pub user_agent: String,
    /// The browser's IP address when it was trusted.
    pub ip: String,
    /// When it was issued.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// The audit entry of revoking all of `user`'s trusted browsers for
/// `reason` (the count is added when it is written): one shape for the
/// interval and phone changes and for "not me".
pub fn revoked_all_audit(user: UserId, reason: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: "system".into(),
        action: "trust.revoked_all",
        user_id: Some(user),
        detail: serde_json::json!({ "reason": reason }),
    }
}

/// Storage of trusted browsers.
pub trait TrustStore {
    /// Records a newly issued token. `Conflict` if the id exists.
    fn insert_trusted_browser(&self, b: &TrustedBrowser) -> Result<(), StoreError>;
    /// The row of token `id`, revoked or not.
    fn trusted_browser(&self, id: &str) -> Result<Option<TrustedBrowser>, StoreError>;
    /// The user's unrevoked, unexpired trusted browsers, newest first.
    fn trusted_browsers_of(
        &self,
        user: UserId,
        now: i64,
    ) -> Result<Vec<TrustedBrowser>, StoreError>;
    /// Revokes token `id` of `user`; false when there is no such token of
    /// this user. Revoking a revoked token keeps its first revocation time.
    fn revoke_trusted_browser(&self, user: UserId, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Revokes every unrevoked token of `user`; returns how many, and appends
    /// `audit` in the same transaction when there were any.
    fn revoke_trusted_browsers(
        &self,
        user: UserId,
        now: i64,
        audit: &super::NewAuditEntry,
    ) -> Result<u64, StoreError>;
}
