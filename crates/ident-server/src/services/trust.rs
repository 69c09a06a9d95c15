//! Trusted browsers: the 2FA interval ("2FA Intervall") as signed tokens.
//!
//! After a successful second factor, when the user's interval is more than
//! 0 days, the relying party receives a *trust token* for that browser and
//! keeps it (typically in a cookie). On the next login it hands the token
//! back and, while [`check`] says yes, the second factor is skipped.
//!
//! Why a signed token *and* a database row: the signature (ES256 under the
//! server key, `typ: ident-trust+jwt`) means a portal cannot mint trust for a
//! browser it never sent through the second factor, and the row (keyed by the
//! token's `jti`) lets users and brokers list and revoke trust — all at once
//! when the interval or the phone changes or the user reports "not me".
//!
//! A token is trusted only while **all** of these hold: the signature verifies
//! under the *current* server key (a key rotation ends all trust), `typ`,
//! `iss` (this server's public URL) and `sub` (the user's login) match, it has
//! not expired, its row exists for this user and is not revoked, and it was
//! issued no longer ago than the user's **current** interval — so shortening
//! the interval shortens existing trust at once, and setting it to 0 ends it.
//!
//! The token of an approved login is repeated on every status read of that
//! login, so the service keeps it — sealed ([`seal`]), never in clear: a
//! leaked copy of `auth_txns` (a backup of some tables, a support dump, a
//! read-only injection) yields no token that skips anyone's second factor.
//! Whoever holds the whole database holds the server key too and could sign
//! tokens anyway; the seal is against partial leaks, as the hashed API keys
//! and SMS codes are.

use ident_core::jose::{self, b64};
use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::trust::revoked_all_audit;
use crate::store::{NewAuditEntry, Store, StoreError, TrustedBrowser, User, UserId};

/// The JWS `typ` of trust tokens.
pub const TRUST_TYP: &str = "ident-trust+jwt";

/// Longest token accepted by [`check`]; real ones are about 400 characters.
pub const MAX_TOKEN_LEN: usize = 4_096;

/// Clock skew tolerated for `iat` in the future.
const SKEW_SECS: i64 = 60;

/// The claims of a trust token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustClaims {
    /// This server's public URL.
    pub iss: String,
    /// The user's login.
    pub sub: String,
    /// Random 128-bit id, base64url; the `trusted_browsers` row id.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at: `iat` + the interval when issued.
    pub exp: i64,
}

/// The first byte of a sealed token: the format version.
const SEALED_V1: u8 = 1;

/// Seals `token` for storage with the login `txn_id` (AES-256-GCM under
/// `ServerKey::seal`, a random nonce, the transaction id as associated
/// data, so a sealed token opens only for its own login). Layout:
/// version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
pub fn seal(key: &LessSafeKey, txn_id: &str, token: &str) -> Result<Vec<u8>, ApiError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| {
        tracing::error!("the system random generator failed");
        ApiError::internal()
    })?;
    let mut data = token.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(txn_id.as_bytes()),
        &mut data,
    )
    .map_err(|_| {
        tracing::error!("cannot seal a trust token");
        ApiError::internal()
    })?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + data.len());
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Opens what [`seal`] made for `txn_id`; `None` when it does not open (made
/// under an earlier server key, for another login, or damaged) — the status
/// then simply carries no token.
pub fn open_sealed(key: &LessSafeKey, txn_id: &str, sealed: &[u8]) -> Option<String> {
    let (&version, rest) = sealed.split_first()?;
    if version != SEALED_V1 || rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(txn_id.as_bytes()), &mut data)
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// Keeps at most `max` characters of `s` (user agents can be long; IPs are short).
fn clip(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn random_id() -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).map_err(|_| {
        tracing::error!("the system random generator failed");
        ApiError::internal()
    })?;
    Ok(b64::encode(&b))
}

/// Issues a trust token for the browser at `ip` with `user_agent`, valid for
/// `user`'s interval; `None` when the interval is 0 ("always ask").
/// Call it after a successful second factor. Audited as `trust.issued` (by id).
pub async fn issue(
    state: &AppState,
    user: &User,
    ip: &str,
    user_agent: &str,
) -> Result<Option<String>, ApiError> {
    let interval = user.interval.seconds();
    if interval == 0 {
        return Ok(None);
    }
    let now = state.now();
    let claims = TrustClaims {
        iss: state.public_url.as_str().to_owned(),
        sub: user.login.as_str().to_owned(),
        jti: random_id()?,
        iat: now,
        exp: now.saturating_add(interval),
    };
    let token = jose::sign(
        &state.server_key.pair,
        TRUST_TYP,
        Some(&state.server_key.kid),
        &claims,
    )
    .map_err(|e| {
        tracing::error!(error = %e, "cannot sign a trust token");
        ApiError::internal()
    })?;
    let row = TrustedBrowser {
        id: claims.jti.clone(),
        user_id: user.id,
        user_agent: clip(user_agent, 512),
        ip: clip(ip, 64),
        created_at: now,
        expires_at: claims.exp,
        revoked_at: None,
    };
    let audit = NewAuditEntry {
        actor: "system".into(),
        action: "trust.issued",
        user_id: Some(user.id),
        detail: json!({"id": row.id, "ip": row.ip, "expires_at": row.expires_at}),
    };
    state
        .db(move |s| {
            s.insert_trusted_browser(&row)?;
            s.audit(&audit, now)
        })
        .await?;
    Ok(Some(token))
}

/// Whether `token` still makes the browser trusted for `user` (see the
/// module docs for every condition). Pass the user as stored *now*, so the
/// current interval applies. A malformed, forged or foreign token is simply
/// `false`; only storage failures are errors.
pub async fn check(state: &AppState, user: &User, token: &str) -> Result<bool, ApiError> {
    let now = state.now();
    let Some(claims) = verified_claims(state, token) else {
        return Ok(false);
    };
    let interval = user.interval.seconds();
    let claims_ok = claims.iss == state.public_url.as_str()
        && claims.sub == user.login.as_str()
        && now < claims.exp
        && claims.iat <= now.saturating_add(SKEW_SECS)
        && interval > 0
        && now < claims.iat.saturating_add(interval);
    if !claims_ok {
        return Ok(false);
    }
    let jti = claims.jti;
    let row = state.db(move |s| s.trusted_browser(&jti)).await?;
    Ok(row.is_some_and(|r| r.user_id == user.id && r.revoked_at.is_none() && now < r.expires_at))
}

/// The claims of `token` if it is a trust token signed by the current server key.
fn verified_claims(state: &AppState, token: &str) -> Option<TrustClaims> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let verified = jose::verify(token, &state.server_key.pair.public_jwk(), TRUST_TYP).ok()?;
    if verified.header.kid.as_deref() != Some(state.server_key.kid.as_str()) {
        return None;
    }
    verified.claims().ok()
}

/// Revokes every trusted browser of `user`; returns how many. Called when the
/// interval or the phone changes and on "this was not me". Audited as
/// `trust.revoked_all` with `reason` and the count, in the same transaction,
/// when there was anything to revoke.
pub fn revoke_all(
    store: &dyn Store,
    user: UserId,
    now: i64,
    reason: &str,
) -> Result<u64, StoreError> {
    store.revoke_trusted_browsers(user, now, &revoked_all_audit(user, reason))
}

/// Revokes the trusted browser `id` of `user`, audited as `trust.revoked` by
/// `actor`. False when `user` has no such trusted browser (revoking an already
/// revoked one is true and changes nothing).
pub async fn revoke_one(
    state: &AppState,
    user: &User,
    id: &str,
    actor: &str,
) -> Result<bool, ApiError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(false);
    }
    let now = state.now();
    let (uid, id) = (user.id, id.to_owned());
    let audit = NewAuditEntry {
        actor: actor.to_owned(),
        action: "trust.revoked",
        user_id: Some(uid),
        detail: json!({"id": id}),
    };
    state
        .db(move |s| {
            let found = s.revoke_trusted_browser(uid, &id, now)?;
            if found {
                s.audit(&audit, now)?;
            }
            Ok(found)
        })
        .await
}

/// The user's trusted browsers that are still in force (unrevoked, unexpired,
/// and within the user's current interval), newest first.
pub async fn list(state: &AppState, user: &User) -> Result<Vec<TrustedBrowser>, ApiError> {
    let now = state.now();
    let (uid, interval) = (user.id, user.interval.seconds());
    let rows = state.db(move |s| s.trusted_browsers_of(uid, now)).await?;
    Ok(rows
        .into_iter()
        .filter(|r| now < r.created_at.saturating_add(interval))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_drops_controls_and_keeps_char_boundaries() {
        assert_eq!(clip("Mozilla\r\n/5.0", 100), "Mozilla/5.0");
        assert_eq!(clip("äöü", 2), "äö");
    }

    fn key(byte: u8) -> LessSafeKey {
        LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &[byte; 32]).unwrap(),
        )
    }

    #[test]
    fn sealed_tokens_open_only_for_their_login_and_key() {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMDAwIn0.c2ln";
        let sealed = seal(&key(1), "txn-a", token).unwrap();
        assert!(
            !sealed.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token must not be readable in the sealed bytes"
        );
        assert_ne!(
            sealed,
            seal(&key(1), "txn-a", token).unwrap(),
            "fresh nonce"
        );
        assert_eq!(
            open_sealed(&key(1), "txn-a", &sealed).as_deref(),
            Some(token)
        );
        // Moved to another login, under another server key, or damaged: nothing.
        assert_eq!(open_sealed(&key(1), "txn-b", &sealed), None);
        assert_eq!(open_sealed(&key(2), "txn-a", &sealed), None);
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(open_sealed(&key(1), "txn-a", &bad), None);
        assert_eq!(open_sealed(&key(1), "txn-a", &sealed[..10]), None);
        assert_eq!(open_sealed(&key(1), "txn-a", &[]), None);
    }

    #[test]
    fn ids_are_128_bit_base64url() {
        let a = random_id().unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, random_id().unwrap());
    }
}
