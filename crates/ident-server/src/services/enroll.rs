//! Enrollment: the one-time QR code a portal shows, and the device side that
//! redeems it (directly, or after an SMS code when
//! `policy.enrollment_sms_confirmation` is on). Also the request-proof check
//! every device call goes through, with its replay window in the database.
//!
//! **The token.** 128 bits, single use, valid `policy.enrollment_ttl_secs`.
//! The database keeps only its SHA-256. So that the portal can fetch the QR
//! image again (`GET /api/v1/enrollments/{id}/qr.svg`) without the token
//! being stored, the token is *derived*: the first 16 bytes of
//! HMAC-SHA256(K, id ‖ user ‖ created_at), with K derived by HKDF from the
//! active server key (as the SMS code key is). Only the server can compute it,
//! it is as unpredictable as a random token, a stolen backup without the key
//! reveals nothing (with the key, an attacker could sign challenges anyway),
//! and rotating the server key invalidates every open enrollment — which it
//! must, since the QR code pins the old key's thumbprint.
//!
//! **Exactly once.** Redeeming is one conditional `UPDATE` (see
//! `store::devices`); concurrent enroll requests with one token get one
//! device and `enroll-token-invalid` for the rest.

use ident_core::account::{DeviceId, ServerUrl};
use ident_core::enroll_link::{EnrollLink, EnrollToken, TOKEN_LEN};
use ident_core::jose::{Jwk, Thumbprint, b64};
use ident_core::ports::{Method, UnixTime};
use ident_core::protocol::{
    AccountInfo, EnrollConfirmRequest, EnrollRequest, EnrollResponse, EnrolledBody, Policy,
    ProblemType, ProofError, PushProvider, PushRegistration, ReplayCache, ReplayCacheError,
    SmsRequiredBody, paths, proof_kid, verify_proof, wire::SmsRequiredStatus,
};
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};
use serde::Serialize;

use crate::problem::ApiError;
use crate::services::sms;
use crate::state::AppState;
use crate::store::devices::{CodeTry, Enrollment, NewDevice};
use crate::store::{Store, StoreError, User};

/// The longest device name accepted, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 100;
/// The longest push token accepted.
pub const MAX_PUSH_TOKEN_LEN: usize = 4096;

// ---------------------------------------------------------------------------
// Request proofs

/// [`ReplayCache`] on the `proof_jtis` table: `(thumbprint, jti)` is stored as
/// `"<thumbprint>.<jti>"` until the proof's `iat + 60`, so a replay stays
/// refused across restarts and by every instance on the same database.
pub struct StoreReplayCache<'a> {
    store: &'a dyn Store,
    now: i64,
    touch: Option<&'a str>,
}

impl ReplayCache for StoreReplayCache<'_> {
    fn first_use(
        &self,
        key: &Thumbprint,
        jti: &str,
        keep_until: UnixTime,
    ) -> Result<bool, ReplayCacheError> {
        self.store
            .first_use_proof(
                &format!("{key}.{jti}"),
                keep_until.secs(),
                self.now,
                self.touch,
            )
            .map_err(|e| ReplayCacheError(e.to_string()))
    }
}

/// Checks a proof for `method` on `url` signed by `jwk` (call it inside
/// `AppState::db`: it writes the replay record). `touch`: the device whose
/// `last_used_at` an accepted proof updates.
pub fn check_proof(
    store: &dyn Store,
    proof: &str,
    jwk: &Jwk,
    method: Method,
    url: &url::Url,
    now: i64,
    touch: Option<&str>,
) -> Result<(), ProofError> {
    let cache = StoreReplayCache { store, now, touch };
    verify_proof(proof, jwk, method, url, UnixTime(now), &cache).map(|_| ())
}

/// The problem for a refused proof (a replay-cache failure is logged, not shown).
pub fn proof_problem(e: &ProofError) -> ApiError {
    if let ProofError::Cache(c) = e {
        tracing::error!(error = %c, "proof replay cache failed");
    }
    let p = e.problem_type();
    let err = ApiError::from(p);
    if p == ProblemType::ServerError {
        err
    } else {
        err.with_detail(e.to_string())
    }
}

/// The absolute URL of `path` on this server, as devices address it.
pub fn device_url(public: &ServerUrl, path: &str) -> Result<url::Url, ApiError> {
    public.join(path).map_err(|_| {
        tracing::error!("public_url cannot be joined with a device path");
        ApiError::internal()
    })
}

fn random_id() -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).map_err(|_| {
        tracing::error!("the system random generator failed");
        ApiError::internal()
    })?;
    Ok(b64::encode(&b))
}

/// A fresh 128-bit random id, base64url (device ids, enrollment tokens).
pub fn new_id() -> Result<String, ApiError> {
    random_id()
}

/// A fresh id for a row that is written once per login (transaction and
/// challenge ids): the creation second in hex, then 128 random bits,
/// base64url — as unguessable as [`new_id`], but ids made close together
/// sort close together.
///
/// Why: these ids are the keys of the biggest indexes. Random keys put
/// every new row on a random page of the index, so each login dirtied (and
/// wrote to the WAL, and read back when it had left the cache) pages all
/// over it; keys that start with the time land on the few pages at the end.
/// The second a login started is no secret (its status shows when it expires).
pub fn new_ordered_id(now: i64) -> Result<String, ApiError> {
    Ok(format!("{:010x}{}", now.max(0), random_id()?))
}

// ---------------------------------------------------------------------------
// Tokens

fn token_key(store: &dyn Store) -> Result<hmac::Key, StoreError> {
    let (_, pkcs8) = store
        .active_server_key()?
        .ok_or_else(|| StoreError::Corrupt("no active server key".into()))?;
    let pkcs8 = zeroize::Zeroizing::new(pkcs8);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"ident enroll-token v1").extract(&pkcs8);
    let info: [&[u8]; 1] = [b"enroll-token hmac-sha256"];
    let okm = prk
        .expand(&info, hmac::HMAC_SHA256)
        .map_err(|_| StoreError::Db("cannot derive the enrollment token key".into()))?;
    Ok(hmac::Key::from(okm))
}

fn derive_token(key: &hmac::Key, id: i64, user: i64, created_at: i64) -> EnrollToken {
    let mut msg = [0u8; 24];
    msg[..8].copy_from_slice(&id.to_be_bytes());
    msg[8..16].copy_from_slice(&user.to_be_bytes());
    msg[16..].copy_from_slice(&created_at.to_be_bytes());
    let tag = hmac::sign(key, &msg);
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(&tag.as_ref()[..TOKEN_LEN]);
    EnrollToken::from_bytes(t)
}

/// The stored form of a token: its SHA-256.
pub fn token_hash(token: &EnrollToken) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.expose()).as_ref());
    out
}

fn link(state: &AppState, token: EnrollToken) -> EnrollLink {
    EnrollLink::new(
        state.public_url.clone(),
        token,
        state.server_key.pair.public_jwk().thumbprint(),
    )
}

// ---------------------------------------------------------------------------
// Portal side

/// A new enrollment, as `POST /api/v1/users/{login}/enrollments` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrollmentCreated {
    /// The enrollment's id (for the QR images and the status).
    pub id: i64,
    /// `ident://enroll?…` — the QR code's content. Contains the one-time token.
    pub uri: String,
    /// The same as an `https://…/e#…` link that opens the app on this device.
    pub link: String,
    /// When the token stops working (Unix seconds).
    pub expires_at: i64,
    /// The QR code as SVG (path on this server).
    pub qr_svg: String,
    /// The QR code as PNG (path on this server).
    pub qr_png: String,
}

/// Creates an enrollment for `user`, audited as `enrollment.created` by
/// `actor`. 409 `phone-missing` when the user has no mobile number on file.
pub async fn create(
    state: &AppState,
    user: &User,
    actor: &str,
) -> Result<EnrollmentCreated, ApiError> {
    if user.phone.is_none() {
        return Err(sms::phone_missing().with_detail(
            "An enrollment needs a mobile number on file; the user's broker can enter one.",
        ));
    }
    let now = state.now();
    let expires_at = now.saturating_add(state.config.policy.enrollment_ttl_secs);
    let uid = user.id;
    let actor = actor.to_owned();
    let (id, token) = state
        .db(move |s| {
            let key = token_key(s)?;
            let id = s.create_enrollment(
                uid,
                now,
                expires_at,
                &|id| token_hash(&derive_token(&key, id, uid.0, now)),
                &actor,
            )?;
            Ok((id, derive_token(&key, id, uid.0, now)))
        })
        .await?;
    let l = link(state, token);
    Ok(EnrollmentCreated {
        id,
        uri: l.to_uri(),
        link: l.to_link(),
        expires_at,
        qr_svg: format!("/api/v1/enrollments/{id}/qr.svg"),
        qr_png: format!("/api/v1/enrollments/{id}/qr.png"),
    })
}

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnrollmentState {
    /// The QR code can still be scanned (or its SMS code typed).
    Pending,
    /// A device was enrolled with it.
    Completed,
    /// Its time ran out, or its SMS code tries were used up; show a new one.
    Expired,
}

/// The state of `e` at `now`.
pub fn state_of(e: &Enrollment, now: i64) -> EnrollmentState {
    if e.used_at.is_some() {
        EnrollmentState::Completed
    } else if now > e.expires_at {
        EnrollmentState::Expired
    } else {
        EnrollmentState::Pending
    }
}

/// The link of an enrollment that can still be scanned (unused, unexpired,
/// not yet bound to a device); `None` otherwise.
pub async fn scannable_link(
    state: &AppState,
    e: &Enrollment,
) -> Result<Option<EnrollLink>, ApiError> {
    if state_of(e, state.now()) != EnrollmentState::Pending || e.device_id.is_some() {
        return Ok(None);
    }
    let (id, user, created) = (e.id, e.user_id.0, e.created_at);
    let token = state
        .db(move |s| Ok(derive_token(&token_key(s)?, id, user, created)))
        .await?;
    Ok(Some(link(state, token)))
}

fn qr(data: &str) -> Result<qrcode::QrCode, ApiError> {
    qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).map_err(|e| {
        tracing::error!(error = %e, "cannot encode the QR code");
        ApiError::internal()
    })
}

/// The QR code of `data` as an SVG document.
pub fn qr_svg(data: &str) -> Result<String, ApiError> {
    Ok(qr(data)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// Pixels per module of the PNG.
const PNG_SCALE: usize = 8;
/// Quiet zone around the code, in modules (ISO/IEC 18004 wants 4).
const PNG_QUIET: usize = 4;

/// The QR code of `data` as a grayscale PNG, 8 pixels per module.
pub fn qr_png(data: &str) -> Result<Vec<u8>, ApiError> {
    let code = qr(data)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * PNG_QUIET) * PNG_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + PNG_QUIET, i / modules + PNG_QUIET);
        for y in my * PNG_SCALE..(my + 1) * PNG_SCALE {
            let row = y * side;
            pixels[row + mx * PNG_SCALE..row + (mx + 1) * PNG_SCALE].fill(0);
        }
    }
    let png_failed = |e: png::EncodingError| {
        tracing::error!(error = %e, "cannot encode the PNG");
        ApiError::internal()
    };
    let side32 = u32::try_from(side).map_err(|_| ApiError::internal())?;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, side32, side32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(png_failed)?;
    w.write_image_data(&pixels).map_err(png_failed)?;
    w.finish().map_err(png_failed)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Device side

fn bad_request(detail: &str) -> ApiError {
    ApiError::from(ProblemType::BadRequest).with_detail(detail.to_owned())
}

/// Checks a push registration; returns the `(provider, token)` to store.
pub fn push_columns(
    push: Option<&PushRegistration>,
) -> Result<(&'static str, Option<String>), ApiError> {
    let Some(p) = push else {
        return Ok(("none", None));
    };
    let token_ok = |t: &str| {
        !t.is_empty() && t.len() <= MAX_PUSH_TOKEN_LEN && t.bytes().all(|b| b.is_ascii_graphic())
    };
    match (p.provider, &p.token) {
        (PushProvider::None, _) => Ok(("none", None)),
        (PushProvider::Fcm, Some(t)) if token_ok(t) => Ok(("fcm", Some(t.clone()))),
        (PushProvider::Apns, Some(t)) if token_ok(t) => Ok(("apns", Some(t.clone()))),
        _ => Err(bad_request(
            "`push.token` must be the provider's token (1 to 4096 visible ASCII characters)",
        )),
    }
}

fn wire_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".into())
}

/// The success body of an enrollment.
pub fn enrolled_body(
    state: &AppState,
    user: &User,
    device_id: &str,
) -> Result<EnrolledBody, ApiError> {
    let policy = &state.config.policy;
    Ok(EnrolledBody {
        device_id: DeviceId::parse(device_id).map_err(|_| ApiError::internal())?,
        account: AccountInfo {
            issuer: state.config.issuer.clone(),
            label: user.display_name.clone(),
            login: user.login.as_str().to_owned(),
        },
        server_jwk: state
            .server_key
            .pair
            .public_jwk()
            .with_kid(state.server_key.kid.clone()),
        policy: Policy {
            number_matching: true,
            number_digits: policy.number_length,
            challenge_lifetime: u32::try_from(policy.challenge_ttl_secs).unwrap_or(120),
        },
    })
}

/// Refuses a proof that names a device: enrollment proofs have no `kid`.
fn require_no_kid(proof: &str) -> Result<(), ApiError> {
    match proof_kid(proof) {
        Ok(None) => Ok(()),
        Ok(Some(_)) => Err(ApiError::from(ProblemType::ProofInvalid)
            .with_detail("An enrollment proof must not name a device (`kid`).")),
        Err(e) => Err(proof_problem(&e)),
    }
}

async fn load_user(state: &AppState, id: crate::store::UserId) -> Result<User, ApiError> {
    state.db(move |s| s.user(id)).await?.ok_or_else(|| {
        tracing::error!(user = id.0, "enrollment of a user that no longer exists");
        ApiError::from(ProblemType::EnrollTokenInvalid)
    })
}

/// `POST /device/v1/enroll`: verifies the proof with the key in the body,
/// redeems the token exactly once, and either enrolls the device or sends
/// the SMS code and answers `sms_required`.
pub async fn enroll_device(
    state: &AppState,
    proof: String,
    req: EnrollRequest,
) -> Result<EnrollResponse, ApiError> {
    let name = req.device_name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_DEVICE_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(bad_request(
            "`device_name` must be 1 to 100 characters without control characters",
        ));
    }
    let (provider, push_token) = push_columns(req.push.as_ref())?;
    require_no_kid(&proof)?;
    let url = device_url(&state.public_url, paths::ENROLL)?;
    let now = state.now();
    let jwk = req.jwk.clone();
    state
        .db(move |s| Ok(check_proof(s, &proof, &jwk, Method::Post, &url, now, None)))
        .await?
        .map_err(|e| proof_problem(&e))?;
    let hash = token_hash(&req.token);
    let device = NewDevice {
        id: new_id()?,
        jwk: req.jwk,
        name,
        platform: wire_name(&req.platform),
        push_provider: provider.to_owned(),
        push_token,
    };
    let device_id = device.id.clone();
    let sms_wanted = state.config.policy.enrollment_sms_confirmation;
    let claimed = state
        .db(move |s| s.claim_enrollment(&hash, &device, sms_wanted, now))
        .await?
        .ok_or_else(|| ApiError::from(ProblemType::EnrollTokenInvalid))?;
    let user = load_user(state, claimed.user_id).await?;
    if !sms_wanted {
        tracing::info!(user = user.id.0, device = %device_id, "device enrolled");
        return Ok(EnrollResponse::Enrolled(enrolled_body(
            state, &user, &device_id,
        )?));
    }
    match sms::send_enrollment_code(state, &user, &device_id).await {
        Ok(sent) => {
            let id = device_id.clone();
            state
                .db(move |s| s.set_device_code(&id, &sent.code_hash, sent.expires_at))
                .await?;
            tracing::info!(user = user.id.0, device = %device_id, "enrollment waits for its SMS code");
            Ok(EnrollResponse::SmsRequired(SmsRequiredBody {
                status: SmsRequiredStatus::SmsRequired,
            }))
        }
        Err(e) => {
            let (eid, id) = (claimed.enrollment_id, device_id);
            state.db(move |s| s.release_enrollment(eid, &id)).await?;
            Err(e)
        }
    }
}

/// `POST /device/v1/enroll/confirm`: the SMS code of a pending enrollment,
/// with a proof by the key sent in the enroll request. A try is counted
/// before the code is compared; the last wrong try ends the enrollment.
pub async fn confirm(
    state: &AppState,
    proof: String,
    req: EnrollConfirmRequest,
) -> Result<EnrolledBody, ApiError> {
    require_no_kid(&proof)?;
    let now = state.now();
    let hash = token_hash(&req.token);
    let (enrollment, device) = state
        .db(move |s| s.pending_enrollment(&hash, now))
        .await?
        .ok_or_else(|| ApiError::from(ProblemType::EnrollTokenInvalid))?;
    let url = device_url(&state.public_url, paths::ENROLL_CONFIRM)?;
    let jwk = device.jwk.clone();
    state
        .db(move |s| Ok(check_proof(s, &proof, &jwk, Method::Post, &url, now, None)))
        .await?
        .map_err(|e| proof_problem(&e))?;
    let max = state.config.policy.sms_code_tries;
    let (eid, did) = (enrollment.id, device.id.clone());
    let code = req.code.expose().to_owned();
    let verdict = state
        .db(move |s| {
            Ok(match s.count_device_code_try(&did, max, now)? {
                CodeTry::Counted {
                    code_hash,
                    tries_left,
                } => {
                    let key = sms::code_key(s)?;
                    let ok =
                        sms::verify_code(&key, sms::CodeScope::Enrollment(&did), &code, &code_hash);
                    if ok {
                        Ok(s.complete_enrollment(eid, &did, now)?)
                    } else {
                        Err(Some(tries_left))
                    }
                }
                CodeTry::Exhausted | CodeTry::Expired => Err(None),
            })
        })
        .await?;
    match verdict {
        Ok(true) => {
            let user = load_user(state, device.user_id).await?;
            tracing::info!(user = user.id.0, device = %device.id, "device enrolled after SMS");
            enrolled_body(state, &user, &device.id)
        }
        Ok(false) => Err(ApiError::from(ProblemType::EnrollTokenInvalid)),
        Err(Some(left)) if left > 0 => Err(sms::code_wrong(left)),
        Err(_) => {
            let did = device.id.clone();
            state.db(move |s| s.fail_enrollment(eid, &did, now)).await?;
            Err(ApiError::from(ProblemType::SmsCodeExpired).with_detail(
                "The code has expired or its tries are used up; ask for a new enrollment code.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tokens_differ_per_enrollment() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"k");
        let a = derive_token(&key, 1, 7, 100);
        assert_eq!(a, derive_token(&key, 1, 7, 100));
        assert_ne!(a, derive_token(&key, 2, 7, 100));
        assert_ne!(a, derive_token(&key, 1, 8, 100));
        assert_ne!(a, derive_token(&key, 1, 7, 101));
        let other = hmac::Key::new(hmac::HMAC_SHA256, b"other");
        assert_ne!(a, derive_token(&other, 1, 7, 100));
        assert_ne!(token_hash(&a)[..16], a.expose()[..]);
    }

    #[test]
    fn qr_images_render() {
        let uri = "ident://enroll?v=1&s=http%3A%2F%2F127.0.0.1%3A1&t=AAAAAAAAAAAAAAAAAAAAAA&fp=x";
        let svg = qr_svg(uri).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
        let png = qr_png(uri).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn push_registrations_are_checked() {
        assert_eq!(push_columns(None).unwrap(), ("none", None));
        let reg = |provider, token: Option<&str>| PushRegistration {
            provider,
            token: token.map(str::to_owned),
        };
        assert_eq!(
            push_columns(Some(&reg(PushProvider::Fcm, Some("abc")))).unwrap(),
            ("fcm", Some("abc".to_owned()))
        );
        assert!(push_columns(Some(&reg(PushProvider::Apns, None))).is_err());
        assert!(push_columns(Some(&reg(PushProvider::Fcm, Some("a b")))).is_err());
        assert_eq!(
            push_columns(Some(&reg(PushProvider::None, Some("x")))).unwrap(),
            ("none", None)
        );
    }
}
