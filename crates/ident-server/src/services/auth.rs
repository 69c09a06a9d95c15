//! Logins: the second factor a portal asks for (`POST /api/v1/auth`), its
//! status (`GET /api/v1/auth/{txn}`), the device's answer to a push
//! challenge, and the SMS fallback code.
//!
//! Decisions (also in `docs/protocol.md`, "Relying-party API"):
//! - `auto` skips the second factor while the browser's trust token is valid
//!   under the user's current 2FA interval (`services::trust::check`); else
//!   push when the user has an active device and push is not locked; else SMS.
//!   A push-locked user never gets a push, but `auto` may fall back to SMS:
//!   the lock is against push fatigue, and the SMS goes to the number on file,
//!   which the attacker does not hold.
//! - Push: one number (number matching, `policy.number_length` digits) per
//!   login, one challenge signed per active device, all expiring together.
//!   At most `policy.max_open_challenges` open push logins per user.
//! - An answer is applied atomically (`store::auth`): the first answer of any
//!   of the user's devices decides; a wrong number is a denial; three
//!   denials within `policy.denial_window_secs` lock push, "not me" locks at
//!   once and also revokes every trusted browser.
//! - On approval a trust token is issued (interval > 0) *before* the decision
//!   is committed and stored with it, so a status that says `approved` always
//!   carries it; if the decision then loses a race, the token is revoked.
//! - Pushes and wake-ups go out after the commit, never inside it.
//! - The relying party that started a login may withdraw it while it is
//!   pending (the user cancelled or switched to SMS): it becomes `withdrawn`,
//!   its challenges are closed with it (devices no longer list them), and it
//!   counts neither as open nor as a denial. An answer to such a challenge
//!   is `challenge-not-found` (no such *open* challenge).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ident_core::account::{ChallengeId, DeviceId};
use ident_core::ports::UnixTime;
use ident_core::protocol::challenge::{
    MAX_CONTEXT_FIELD_CHARS, MAX_USER_AGENT_CHARS, displayable_text,
};
use ident_core::protocol::{
    AnswerOutcome, ChallengeClaims, ChallengeContext, DecisionKind, DenyReason, MatchNumber,
    ProblemType, PushProvider, sign_challenge, verify_answer,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::LoginName;
use crate::problem::ApiError;
use crate::push::PushTarget;
use crate::routes::api_key::RpClient;
use crate::services::enroll::new_ordered_id;
use crate::services::{sms, trust};
use crate::state::AppState;
use crate::store::auth::Withdrawal;
use crate::store::auth::{
    AnswerKind, Applied, ApplyAnswer, NewChallenge, NewTxn, StartPush, Txn, TxnStatus,
};
use crate::store::devices::{Device, DeviceStatus};
use crate::store::{NewAuditEntry, User};

/// Most challenges a device gets in one list (the protocol's limit).
pub const MAX_LIST: u32 = ident_core::protocol::MAX_CHALLENGES_PER_RESPONSE as u32;

/// The second factor a portal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestedMethod {
    /// Push to the user's devices.
    Push,
    /// A code by SMS.
    Sms,
    /// Trusted browser, else push, else SMS.
    Auto,
}

/// The browser that is logging in.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserContext {
    /// Its IP address (IPv4 or IPv6).
    pub ip: String,
    /// Its user agent (control characters are dropped, cut at 1024 characters).
    #[serde(default)]
    pub user_agent: String,
}

/// `POST /api/v1/auth`.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The user's login.
    pub login: String,
    /// `push`, `sms` or `auto`.
    pub method: RequestedMethod,
    /// The browser.
    pub context: BrowserContext,
    /// The portal's name shown on the device; default: the API key's name.
    #[serde(default)]
    pub service: Option<String>,
    /// The browser's trust token (`auto` only).
    #[serde(default)]
    pub trust_token: Option<String>,
}

impl std::fmt::Debug for StartRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartRequest")
            .field("login", &self.login)
            .field("method", &self.method)
            .field("context", &self.context)
            .field("service", &self.service)
            .field(
                "trust_token",
                &crate::redact::optional(self.trust_token.as_ref()),
            )
            .finish()
    }
}

/// The method a login got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StartedMethod {
    /// Push challenges were sent; show `number`.
    Push,
    /// An SMS code was sent.
    Sms,
    /// The browser is trusted: approved, no second factor.
    Trusted,
}

/// The answer to `POST /api/v1/auth`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// The transaction id, for the status and the SMS code.
    pub txn: String,
    /// What was done.
    pub method: StartedMethod,
    /// The number to show on the login page (push).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// When the transaction expires (Unix seconds).
    pub expires_at: i64,
}

/// A transaction's status as the portal sees it.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    /// `pending`, `approved`, `denied`, `expired`, `locked` or `withdrawn`.
    pub status: &'static str,
    /// `push`, `sms` or `trusted`.
    pub method: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// With `approved`, when the user's 2FA interval is more than 0 days: the
    /// browser's new trust token (hand it back as `trust_token` next time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_token: Option<String>,
}

impl std::fmt::Debug for StatusView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusView")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("expires_at", &self.expires_at)
            .field(
                "trust_token",
                &crate::redact::optional(self.trust_token.as_ref()),
            )
            .finish()
    }
}

/// 423 `push-locked`.
pub fn push_locked() -> ApiError {
    ApiError::from(ProblemType::PushLocked).with_detail(
        "Push login is locked for this user after denied requests; the broker can unlock it. SMS still works.",
    )
}

/// 409 `no-device`: push asked for a user without an active device.
pub fn no_device() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "no-device",
        "The user has no enrolled device.",
    )
    .with_detail("Use `sms` or `auto`, or enroll a device first.")
}

fn not_found_txn() -> ApiError {
    ApiError::not_found("The login transaction")
}

/// The status a transaction has at `now` (a pending one past its expiry is expired).
pub fn effective_status(t: &Txn, now: i64) -> TxnStatus {
    if t.status == TxnStatus::Pending && now > t.expires_at {
        TxnStatus::Expired
    } else {
        t.status
    }
}

fn context_for(
    user: &User,
    req: &StartRequest,
    client: &RpClient,
) -> Result<ChallengeContext, ApiError> {
    let ip: IpAddr = req.context.ip.trim().parse().map_err(|_| {
        ApiError::validation_failed("context.ip", "must be an IPv4 or IPv6 address")
    })?;
    let service = req
        .service
        .clone()
        .unwrap_or_else(|| client.name.clone())
        .trim()
        .to_owned();
    let ctx = ChallengeContext {
        service: displayable_text(&service, MAX_CONTEXT_FIELD_CHARS),
        login: user.login.as_str().to_owned(),
        ip,
        user_agent: displayable_text(&req.context.user_agent, MAX_USER_AGENT_CHARS),
        location: None,
    };
    if ctx.service != service || !ctx.is_displayable() {
        return Err(ApiError::validation_failed(
            "service",
            "must be 1 to 200 characters without control or bidirectional-formatting characters",
        ));
    }
    Ok(ctx)
}

/// Starts a login's second factor (see the module docs for the rules).
pub async fn start(
    state: &AppState,
    client: &RpClient,
    req: StartRequest,
) -> Result<Started, ApiError> {
    let login = LoginName::parse(req.login.trim()).map_err(|_| ApiError::not_found("The user"))?;
    // One read for both (a trusted browser then needs no devices, but reading
    // them in the same snapshot costs less than a second read).
    let (user, devices) = state
        .db(move |s| s.user_with_active_devices(&login))
        .await?
        .ok_or_else(|| ApiError::not_found("The user"))?;
    let ctx = context_for(&user, &req, client)?;
    if req.method == RequestedMethod::Auto {
        if let Some(token) = &req.trust_token {
            if trust::check(state, &user, token).await? {
                return start_trusted(state, client, &user, &ctx).await;
            }
        }
    }
    let locked = user.push_locked_at.is_some();
    let push = match req.method {
        RequestedMethod::Push if locked => return Err(push_locked()),
        RequestedMethod::Push if devices.is_empty() => return Err(no_device()),
        RequestedMethod::Push => true,
        RequestedMethod::Sms => false,
        RequestedMethod::Auto => !locked && !devices.is_empty(),
    };
    if push {
        start_push(state, client, &user, ctx, &devices).await
    } else {
        start_sms(state, client, &user, &ctx).await
    }
}

fn new_txn(
    client: &RpClient,
    user: &User,
    method: &'static str,
    status: TxnStatus,
    ctx: &ChallengeContext,
    now: i64,
    ttl: i64,
) -> Result<NewTxn, ApiError> {
    Ok(NewTxn {
        id: new_ordered_id(now)?,
        user_id: user.id,
        api_key_id: client.key_id,
        method,
        status,
        number: None,
        ip: ctx.ip.to_string(),
        user_agent: ctx.user_agent.clone(),
        service: ctx.service.clone(),
        created_at: now,
        expires_at: now.saturating_add(ttl),
    })
}

fn started_audit(
    client: &RpClient,
    user: &User,
    txn: &NewTxn,
    extra: serde_json::Value,
) -> NewAuditEntry {
    let mut detail =
        json!({"txn": txn.id, "method": txn.method, "ip": txn.ip, "service": txn.service});
    if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    NewAuditEntry {
        actor: client.actor(),
        action: "auth.started",
        user_id: Some(user.id),
        detail,
    }
}

async fn start_trusted(
    state: &AppState,
    client: &RpClient,
    user: &User,
    ctx: &ChallengeContext,
) -> Result<Started, ApiError> {
    let now = state.now();
    let txn = new_txn(client, user, "trusted", TxnStatus::Approved, ctx, now, 0)?;
    let audit = started_audit(client, user, &txn, json!({}));
    let started = Started {
        txn: txn.id.clone(),
        method: StartedMethod::Trusted,
        number: None,
        expires_at: txn.expires_at,
    };
    state.db(move |s| s.insert_txn(&txn, &audit)).await?;
    Ok(started)
}

async fn start_sms(
    state: &AppState,
    client: &RpClient,
    user: &User,
    ctx: &ChallengeContext,
) -> Result<Started, ApiError> {
    if user.phone.is_none() {
        return Err(sms::phone_missing());
    }
    let now = state.now();
    let ttl = state.config.policy.sms_code_ttl_secs;
    let txn = new_txn(client, user, "sms", TxnStatus::Pending, ctx, now, ttl)?;
    let audit = started_audit(client, user, &txn, json!({}));
    let started = Started {
        txn: txn.id.clone(),
        method: StartedMethod::Sms,
        number: None,
        expires_at: txn.expires_at,
    };
    state.db(move |s| s.insert_txn(&txn, &audit)).await?;
    if let Err(e) = sms::send_login_code(state, user, &started.txn).await {
        // Nothing half-done: the transaction goes again (the SMS service has
        // already undone its charge).
        let id = started.txn.clone();
        state.db(move |s| s.delete_txn(&id)).await?;
        return Err(e);
    }
    Ok(started)
}

async fn start_push(
    state: &AppState,
    client: &RpClient,
    user: &User,
    ctx: ChallengeContext,
    devices: &[Device],
) -> Result<Started, ApiError> {
    let policy = &state.config.policy;
    let now = state.now();
    let mut txn = new_txn(
        client,
        user,
        "push",
        TxnStatus::Pending,
        &ctx,
        now,
        policy.challenge_ttl_secs,
    )?;
    let number = MatchNumber::random(policy.number_length).map_err(|_| ApiError::internal())?;
    txn.number = Some(number.as_str().to_owned());
    let mut challenges = Vec::with_capacity(devices.len());
    let mut targets = Vec::new();
    for d in devices {
        let id = new_ordered_id(now)?;
        let claims = ChallengeClaims {
            iss: state.public_url.clone(),
            aud: DeviceId::parse(&d.id).map_err(|_| ApiError::internal())?,
            jti: ChallengeId::parse(&id).map_err(|_| ApiError::internal())?,
            iat: now,
            exp: txn.expires_at,
            ctx: ctx.clone(),
            nm: true,
        };
        let token = sign_challenge(&state.server_key.pair, &state.server_key.kid, &claims)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot sign a challenge");
                ApiError::internal()
            })?;
        let provider = match d.push_provider.as_str() {
            "fcm" => Some(PushProvider::Fcm),
            "apns" => Some(PushProvider::Apns),
            _ => None,
        };
        if let (Some(provider), Some(t)) = (provider, &d.push_token) {
            targets.push((
                d.id.clone(),
                id.clone(),
                PushTarget {
                    provider,
                    token: t.clone(),
                },
            ));
        }
        challenges.push(NewChallenge {
            id,
            device_id: d.id.clone(),
            token,
            expires_at: txn.expires_at,
        });
    }
    let ids: Vec<&str> = challenges.iter().map(|c| c.id.as_str()).collect();
    let audit = started_audit(client, user, &txn, json!({"challenges": ids}));
    let started = Started {
        txn: txn.id.clone(),
        method: StartedMethod::Push,
        number: txn.number.clone(),
        expires_at: txn.expires_at,
    };
    let max_open = policy.max_open_challenges;
    let device_ids: Vec<String> = challenges.iter().map(|c| c.device_id.clone()).collect();
    let outcome = state
        .db(move |s| s.start_push(&txn, &challenges, max_open, &audit))
        .await?;
    match outcome {
        StartPush::Locked => return Err(push_locked()),
        StartPush::TooMany => {
            return Err(ApiError::from(ProblemType::TooManyChallenges).with_detail(format!(
                "The user already has {max_open} open login requests; wait for them to be answered or to expire."
            )));
        }
        StartPush::Started => {}
    }
    // After the commit: wake long polls, then nudge by push (failures only logged).
    for d in &device_ids {
        state.wakeups.notify_device(d);
    }
    for (device, challenge, target) in targets {
        let push = std::sync::Arc::clone(&state.push);
        tokio::spawn(async move {
            if let Err(e) = push.notify(&target, &challenge).await {
                tracing::warn!(device = %device, error = %e, "push failed; the device can still poll");
            }
        });
    }
    Ok(started)
}

/// The transaction `id` as `client` may see it: only the API key that
/// started a login may follow it; for any other key it does not exist.
async fn client_txn(state: &AppState, client: &RpClient, id: &str) -> Result<Txn, ApiError> {
    let tid = id.to_owned();
    state
        .db(move |s| s.txn(&tid))
        .await?
        .filter(|t| t.api_key_id == Some(client.key_id))
        .ok_or_else(not_found_txn)
}

/// The trust token stored (sealed) with an approved `txn`, if it opens.
fn stored_trust_token(state: &AppState, txn: &Txn) -> Option<String> {
    let sealed = txn.trust_token_sealed.as_deref()?;
    let token = trust::open_sealed(&state.server_key.seal, &txn.id, sealed);
    if token.is_none() {
        // Sealed under an earlier server key (which also ended the trust) or damaged.
        tracing::warn!(txn = %txn.id, "a stored trust token does not open; left out of the status");
    }
    token
}

/// Seals `token` for storage with login `txn_id` (see `services::trust`).
fn seal_for(
    state: &AppState,
    txn_id: &str,
    token: Option<&String>,
) -> Result<Option<Vec<u8>>, ApiError> {
    token
        .map(|t| trust::seal(&state.server_key.seal, txn_id, t))
        .transpose()
}

/// The status of `txn_id` for `client` (the key that started it); with
/// `wait > 0` (already capped by the caller) held until it is decided or
/// `wait` seconds have passed.
pub async fn status(
    state: &AppState,
    client: &RpClient,
    txn_id: &str,
    wait: u64,
) -> Result<StatusView, ApiError> {
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        let waiter = state.wakeups.txn(txn_id);
        let txn = client_txn(state, client, txn_id).await?;
        let now = state.now();
        let status = effective_status(&txn, now);
        let left = deadline.saturating_duration_since(Instant::now());
        if status != TxnStatus::Pending || left.is_zero() || state.wakeups.closing() {
            let trust_token = if status == TxnStatus::Approved {
                stored_trust_token(state, &txn)
            } else {
                None
            };
            return Ok(StatusView {
                status: status.as_str(),
                method: txn.method,
                expires_at: txn.expires_at,
                trust_token,
            });
        }
        // Wake at the latest when it expires (plus a second for rounding).
        let to_expiry =
            u64::try_from(txn.expires_at.saturating_sub(now).saturating_add(1)).unwrap_or(1);
        waiter.wait(left.min(Duration::from_secs(to_expiry))).await;
    }
}

/// Issues a trust token for an approval of `txn` when the interval asks for one.
async fn pre_issue_trust(state: &AppState, user: &User, txn: &Txn) -> Option<String> {
    match trust::issue(state, user, &txn.ip, &txn.user_agent).await {
        Ok(t) => t,
        Err(e) => {
            // The login still succeeds; the browser is asked again next time.
            tracing::error!(user = user.id.0, error = %e, "cannot issue a trust token");
            None
        }
    }
}

/// Revokes a trust token whose decision did not happen.
async fn revoke_unused_trust(state: &AppState, user: &User, token: &str) {
    let Ok(payload) = token
        .split('.')
        .nth(1)
        .ok_or(())
        .and_then(|p| ident_core::jose::b64::decode(p).map_err(|_| ()))
    else {
        return;
    };
    let Ok(claims) = serde_json::from_slice::<trust::TrustClaims>(&payload) else {
        return;
    };
    if let Err(e) = trust::revoke_one(state, user, &claims.jti, "system").await {
        tracing::error!(user = user.id.0, error = %e, "cannot revoke an unused trust token");
    }
}

async fn load_user(state: &AppState, id: crate::store::UserId) -> Result<User, ApiError> {
    state
        .db(move |s| s.user(id))
        .await?
        .ok_or_else(ApiError::internal)
}

/// The device's answer `answer` to challenge `challenge_id` (see protocol.md,
/// "Answers", for the order of checks).
///
/// The answer authenticates the request itself, so no `Ident-Proof` is
/// checked here (one a client still sends is ignored): it is signed by the
/// device's key (its `kid` names the device), its `jti` is the challenge in
/// the URL, which is accepted once and only before it expires, its `aud` is
/// this server and its `iat` must be within 60 s of now — everything a proof
/// for this URL would have established, and replay protection that lasts
/// for ever instead of 60 s. One signature check and one write per answer
/// fewer (the profile of a push login measured both).
pub async fn answer(
    state: &AppState,
    challenge_id: &ChallengeId,
    answer: &str,
) -> Result<AnswerOutcome, ApiError> {
    // Unverified: only says which device's key to verify the answer with.
    let header = ident_core::jose::peek_header(answer);
    let kid = header.as_ref().ok().and_then(|h| h.kid.clone());
    let (cid, did) = (
        challenge_id.as_str().to_owned(),
        kid.clone().unwrap_or_default(),
    );
    let context = state.db(move |s| s.answer_context(&cid, &did)).await?;
    let ch = context
        .challenge
        .ok_or_else(|| ApiError::from(ProblemType::ChallengeNotFound))?;
    if header.is_err() {
        return Err(ApiError::from(ProblemType::AnswerInvalid)
            .with_detail("The answer is not a signed token."));
    }
    if kid.is_none() {
        return Err(ApiError::from(ProblemType::AnswerWrongDevice)
            .with_detail("The answer does not name its device (`kid`)."));
    }
    let device = context
        .device
        .ok_or_else(|| ApiError::from(ProblemType::DeviceUnknown))?;
    if device.status != DeviceStatus::Active {
        return Err(ApiError::from(ProblemType::SmsRequired));
    }
    if ch.device_id != device.id {
        return Err(ApiError::from(ProblemType::AnswerWrongDevice));
    }
    let now = state.now();
    let device_id = DeviceId::parse(&device.id).map_err(|_| ApiError::internal())?;
    let claims = verify_answer(
        answer,
        &device.jwk,
        &device_id,
        challenge_id,
        &state.public_url,
        UnixTime(now),
        UnixTime(ch.expires_at),
    )
    .map_err(|e| ApiError::from(e.problem_type()).with_detail(e.to_string()))?;
    if ch.answered_at.is_some() {
        return Err(closed_challenge(state, &ch.txn_id).await);
    }
    let expected = ch
        .number
        .as_deref()
        .map(MatchNumber::parse)
        .transpose()
        .map_err(|_| ApiError::internal())?;
    let kind = match (
        claims.outcome(expected.as_ref()),
        claims.decision,
        claims.reason,
    ) {
        (AnswerOutcome::Approved, _, _) => AnswerKind::Approve,
        (AnswerOutcome::Denied, DecisionKind::Approve, _) => AnswerKind::WrongNumber,
        (AnswerOutcome::Denied, DecisionKind::Deny, Some(DenyReason::NotMe)) => AnswerKind::NotMe,
        (AnswerOutcome::Denied, DecisionKind::Deny, None) => AnswerKind::Deny,
    };
    let user = context.user.ok_or_else(ApiError::internal)?;
    let trust_token = if kind == AnswerKind::Approve && user.interval.seconds() > 0 {
        let tid = ch.txn_id.clone();
        match state.db(move |s| s.txn(&tid)).await? {
            Some(txn) => pre_issue_trust(state, &user, &txn).await,
            None => None,
        }
    } else {
        None
    };
    let sealed = match seal_for(state, &ch.txn_id, trust_token.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            if let Some(tok) = &trust_token {
                revoke_unused_trust(state, &user, tok).await;
            }
            return Err(e);
        }
    };
    let policy = &state.config.policy;
    let (c, t, d, tt) = (ch.id.clone(), ch.txn_id.clone(), device.id.clone(), sealed);
    let (window, max) = (policy.denial_window_secs, policy.max_denials);
    let uid = user.id;
    let applied = state
        .db(move |s| {
            s.apply_answer(
                &ApplyAnswer {
                    challenge_id: &c,
                    txn_id: &t,
                    device_id: &d,
                    user_id: uid,
                    kind,
                    denial_window_secs: window,
                    max_denials: max,
                    trust_token_sealed: tt.as_deref(),
                },
                now,
            )
        })
        .await;
    let applied = match applied {
        Ok(a) => a,
        Err(e) => {
            if let Some(tok) = &trust_token {
                revoke_unused_trust(state, &user, tok).await;
            }
            return Err(e);
        }
    };
    match applied {
        Applied::Replayed => {
            if let Some(tok) = &trust_token {
                revoke_unused_trust(state, &user, tok).await;
            }
            Err(closed_challenge(state, &ch.txn_id).await)
        }
        Applied::Done {
            status,
            locked,
            closed_txns,
            trust_revoked,
        } => {
            if locked && kind == AnswerKind::NotMe {
                tracing::warn!(
                    user = uid.0,
                    revoked = trust_revoked,
                    "login reported as not me: push locked, trusted browsers revoked"
                );
            } else if locked {
                tracing::warn!(user = uid.0, "repeated denials: push locked");
            }
            state.wakeups.notify_txn(&ch.txn_id);
            for t in &closed_txns {
                state.wakeups.notify_txn(t);
            }
            tracing::info!(user = uid.0, txn = %ch.txn_id, status = status.as_str(), "challenge answered");
            Ok(if kind == AnswerKind::Approve {
                AnswerOutcome::Approved
            } else {
                AnswerOutcome::Denied
            })
        }
    }
}

/// `POST /api/v1/auth/{txn}/sms`: checks the typed code of an SMS login.
pub async fn check_sms(
    state: &AppState,
    client: &RpClient,
    txn_id: &str,
    code: &str,
) -> Result<StatusView, ApiError> {
    let txn = client_txn(state, client, txn_id).await?;
    if txn.method != "sms" {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not-sms",
            "This login does not use an SMS code.",
        ));
    }
    let now = state.now();
    match effective_status(&txn, now) {
        TxnStatus::Pending => {}
        TxnStatus::Expired => {
            return Err(ApiError::from(ProblemType::SmsCodeExpired)
                .with_detail("The login has expired; start a new one."));
        }
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "auth-decided",
                "This login is already decided.",
            ));
        }
    }
    let user = load_user(state, txn.user_id).await?;
    let audit = |action: &'static str| NewAuditEntry {
        actor: client.actor(),
        action,
        user_id: Some(user.id),
        detail: json!({"txn": txn.id}),
    };
    match sms::check_login_code(state, &txn.id, code).await? {
        sms::CodeCheck::Correct => {
            let token = if user.interval.seconds() > 0 {
                pre_issue_trust(state, &user, &txn).await
            } else {
                None
            };
            let sealed = match seal_for(state, &txn.id, token.as_ref()) {
                Ok(s) => s,
                Err(e) => {
                    if let Some(tok) = &token {
                        revoke_unused_trust(state, &user, tok).await;
                    }
                    return Err(e);
                }
            };
            let (id, a) = (txn.id.clone(), audit("auth.sms_approved"));
            let decided = state
                .db(move |s| s.decide_txn(&id, TxnStatus::Approved, sealed.as_deref(), now, &a))
                .await?;
            if !decided {
                if let Some(tok) = &token {
                    revoke_unused_trust(state, &user, tok).await;
                }
                return Err(ApiError::from(ProblemType::SmsCodeExpired)
                    .with_detail("The login has expired; start a new one."));
            }
            state.wakeups.notify_txn(&txn.id);
            Ok(StatusView {
                status: TxnStatus::Approved.as_str(),
                method: txn.method,
                expires_at: txn.expires_at,
                trust_token: token,
            })
        }
        sms::CodeCheck::Wrong { tries_left } => Err(sms::code_wrong(tries_left)),
        check @ (sms::CodeCheck::Exhausted | sms::CodeCheck::Expired) => {
            if check == sms::CodeCheck::Exhausted {
                let (id, a) = (txn.id.clone(), audit("auth.sms_denied"));
                if state
                    .db(move |s| s.decide_txn(&id, TxnStatus::Denied, None, now, &a))
                    .await?
                {
                    state.wakeups.notify_txn(&txn.id);
                }
            }
            Err(ApiError::from(ProblemType::SmsCodeExpired)
                .with_detail("The code has expired or its tries are used up; start a new login."))
        }
    }
}

/// The refusal for an answer to a challenge that is already closed:
/// `answer-replayed`, or, when its login was withdrawn, `challenge-not-found`
/// — there is no such *open* challenge, and every client already shows that
/// as "answered or withdrawn".
async fn closed_challenge(state: &AppState, txn_id: &str) -> ApiError {
    let tid = txn_id.to_owned();
    match state.db(move |s| s.txn(&tid)).await {
        Ok(Some(t)) if t.status == TxnStatus::Withdrawn => {
            ApiError::from(ProblemType::ChallengeNotFound).with_detail(
                "This login request was withdrawn: the login was cancelled on the login page.",
            )
        }
        _ => ApiError::from(ProblemType::AnswerReplayed)
            .with_detail("This login request was already answered, on this or another device."),
    }
}

/// 409 `auth-decided` for a withdrawal of a login that is already `status`.
fn not_withdrawable(status: TxnStatus) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "auth-decided",
        "This login is already decided.",
    )
    .with_detail(format!(
        "The login is `{}`; only a pending login can be withdrawn.",
        status.as_str()
    ))
}

fn withdrawn_view(txn: &Txn) -> StatusView {
    StatusView {
        status: TxnStatus::Withdrawn.as_str(),
        method: txn.method.clone(),
        expires_at: txn.expires_at,
        trust_token: None,
    }
}

/// `DELETE /api/v1/auth/{txn}`: the relying party that started a login
/// withdraws it while it is pending (see the module docs). Withdrawing a
/// withdrawn login again answers the same (idempotent, so a retried request
/// is harmless); any other final status is 409 `auth-decided`.
pub async fn withdraw(
    state: &AppState,
    client: &RpClient,
    txn_id: &str,
) -> Result<StatusView, ApiError> {
    let txn = client_txn(state, client, txn_id).await?;
    let now = state.now();
    match effective_status(&txn, now) {
        TxnStatus::Pending => {}
        TxnStatus::Withdrawn => return Ok(withdrawn_view(&txn)),
        other => return Err(not_withdrawable(other)),
    }
    let audit = NewAuditEntry {
        actor: client.actor(),
        action: "auth.withdrawn",
        user_id: Some(txn.user_id),
        detail: json!({"txn": txn.id, "method": txn.method}),
    };
    let id = txn.id.clone();
    match state.db(move |s| s.withdraw_txn(&id, now, &audit)).await? {
        Withdrawal::Withdrawn { devices } => {
            // The status long poll returns at once with `withdrawn`. A device
            // poll re-reads its list: a waiting poll had nothing open, and a
            // device showing the request learns on its next poll (the app
            // re-polls while a request is open) that it is gone.
            state.wakeups.notify_txn(&txn.id);
            for d in &devices {
                state.wakeups.notify_device(d);
            }
            tracing::info!(user = txn.user_id.0, txn = %txn.id, "login withdrawn");
            Ok(withdrawn_view(&txn))
        }
        Withdrawal::NotPending => {
            // Decided or expired in the meantime: answer with what it is now.
            let again = client_txn(state, client, txn_id).await?;
            match effective_status(&again, state.now()) {
                TxnStatus::Withdrawn => Ok(withdrawn_view(&again)),
                other => Err(not_withdrawable(other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_trust_tokens() {
        let start: StartRequest = serde_json::from_value(serde_json::json!({
            "login": "1000", "method": "auto",
            "context": {"ip": "203.0.113.9"}, "trust_token": "tt-secret-value"
        }))
        .unwrap();
        let status = StatusView {
            status: "approved",
            method: "push".into(),
            expires_at: 1,
            trust_token: Some("tt-secret-value".into()),
        };
        for shown in [format!("{start:?}"), format!("{status:?}")] {
            assert!(!shown.contains("tt-secret-value"), "{shown}");
            assert!(shown.contains("Some([REDACTED])"), "{shown}");
        }
        assert!(format!("{start:?}").contains("203.0.113.9"));
    }

    #[test]
    fn pending_past_expiry_is_expired() {
        let t = Txn {
            id: "t".into(),
            user_id: crate::store::UserId(1),
            api_key_id: Some(1),
            method: "push".into(),
            status: TxnStatus::Pending,
            number: None,
            ip: "1.2.3.4".into(),
            user_agent: String::new(),
            created_at: 0,
            expires_at: 100,
            decided_at: None,
            trust_token_sealed: None,
        };
        assert_eq!(effective_status(&t, 100), TxnStatus::Pending);
        assert_eq!(effective_status(&t, 101), TxnStatus::Expired);
        let d = Txn {
            status: TxnStatus::Approved,
            ..t
        };
        assert_eq!(effective_status(&d, 1_000), TxnStatus::Approved);
    }
}
