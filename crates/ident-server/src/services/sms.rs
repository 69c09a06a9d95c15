//! SMS codes: the login fallback for users without a smartphone, and the
//! confirmation code of an enrollment.
//!
//! The rules (protocol.md, "SMS fallback and ledger"):
//! - a code is 6 digits from the system's CSPRNG, uniform (rejection sampling,
//!   no modulo bias);
//! - it is stored only as **HMAC-SHA256** under a server secret, bound to its
//!   scope (`login:<txn>` or `enrollment:<device>`). A plain SHA-256 of a
//!   6-digit code is reversed by trying all 10⁶ codes; the key makes a leaked
//!   `sms_codes` row useless without the key. The key is derived with HKDF from
//!   the active server signing key (already secret, shared by every instance
//!   on the same database, and surviving restarts), so there is no second
//!   secret to provision; rotating the server key invalidates codes still
//!   open (at most `sms_code_ttl_secs` old);
//! - it is valid `policy.sms_code_ttl_secs` and allows `policy.sms_code_tries`
//!   tries; a try is counted in the database *before* the comparison, which is
//!   constant-time (`ring::hmac::verify`); a correct code is used up;
//! - at most `policy.sms_per_user_per_hour` SMS per user in any 60 minutes,
//!   counted from the ledger in the same transaction that charges the next one;
//! - every SMS is charged to the user's broker (`services::ledger`) and
//!   audited as `sms.sent` with the masked number — never the code or text.
//!
//! Sending order: the code, the charge and the audit entry are committed
//! first, then the gateway is called; if it refuses, the charge and the code
//! are removed again (`sms.failed`). A crash between the two can at worst
//! charge one SMS that was not sent, never send one that is not charged or
//! rate-limited.

use ident_core::protocol::ProblemType;
use ident_core::secret::SecretString;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};
use serde_json::json;

use axum::http::StatusCode;

use crate::domain::{Cents, PhoneNumber, VatRate};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::sms::{NewLedgerEntry, NewSmsCode, Reserved, SmsPurpose, SmsReservation, SmsTry};
use crate::store::{NewAuditEntry, Store, StoreError, User};

/// Digits in a code.
pub const CODE_DIGITS: usize = 6;

/// A freshly drawn code. Prints as `[REDACTED]`; `expose()` for the SMS text.
#[derive(Debug, Clone)]
pub struct SmsCode(SecretString);

impl SmsCode {
    /// The six digits. Only for the SMS text and tests; never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// What a code is for; part of what is hashed, so a hash from one scope never
/// matches in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeScope<'a> {
    /// The login code of transaction `txn_id`.
    Login(&'a str),
    /// The enrollment confirmation of device `device_id`.
    Enrollment(&'a str),
}

impl CodeScope<'_> {
    fn message(&self, code: &str) -> Vec<u8> {
        let (kind, id) = match self {
            CodeScope::Login(t) => ("login", *t),
            CodeScope::Enrollment(d) => ("enrollment", *d),
        };
        // Length-prefixed fields: no two (scope, code) pairs give the same bytes.
        let mut m = Vec::with_capacity(kind.len() + id.len() + code.len() + 24);
        for part in [kind, id, code] {
            m.extend_from_slice(&(part.len() as u64).to_be_bytes());
            m.extend_from_slice(part.as_bytes());
        }
        m
    }
}

/// The HMAC key codes are hashed with (see the module docs).
pub struct CodeKey(hmac::Key);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([REDACTED])")
    }
}

impl CodeKey {
    /// Derives the key from the server key's PKCS#8 document with HKDF-SHA256.
    pub fn derive(server_key_pkcs8: &[u8]) -> Result<Self, StoreError> {
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, b"ident sms-code v1").extract(server_key_pkcs8);
        let info: [&[u8]; 1] = [b"sms-code hmac-sha256"];
        let okm = prk
            .expand(&info, hmac::HMAC_SHA256)
            .map_err(|_| StoreError::Db("cannot derive the SMS code key".into()))?;
        Ok(Self(hmac::Key::from(okm)))
    }
}

/// The key of the active server key, read from the store. Call it inside
/// `state.db(…)`; it is cheap (one row, one HKDF).
pub fn code_key(store: &dyn Store) -> Result<CodeKey, StoreError> {
    let (_, pkcs8) = store
        .active_server_key()?
        .ok_or_else(|| StoreError::Corrupt("no active server key".into()))?;
    let pkcs8 = zeroize::Zeroizing::new(pkcs8);
    CodeKey::derive(&pkcs8)
}

/// Draws a uniform 6-digit code from the system CSPRNG (rejection sampling).
pub fn new_code() -> Result<SmsCode, ApiError> {
    const RANGE: u32 = 1_000_000;
    // The largest multiple of RANGE that fits in u32; draws at or above it are
    // rejected so every code is equally likely.
    const ZONE: u32 = u32::MAX - (u32::MAX % RANGE) - 1;
    let rng = SystemRandom::new();
    for _ in 0..64 {
        let mut b = [0u8; 4];
        rng.fill(&mut b).map_err(|_| {
            tracing::error!("the system random generator failed");
            ApiError::internal()
        })?;
        let x = u32::from_be_bytes(b);
        if x <= ZONE {
            return Ok(SmsCode(SecretString::new(format!("{:06}", x % RANGE))));
        }
    }
    tracing::error!("the system random generator keeps returning the rejected zone");
    Err(ApiError::internal())
}

/// The stored form of `code` in `scope`: HMAC-SHA256 under `key`.
pub fn hash_code(key: &CodeKey, scope: CodeScope<'_>, code: &str) -> [u8; 32] {
    let tag = hmac::sign(&key.0, &scope.message(code));
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Whether `code` in `scope` matches `stored`, in constant time. Count the try
/// in the database *before* calling this.
pub fn verify_code(key: &CodeKey, scope: CodeScope<'_>, code: &str, stored: &[u8]) -> bool {
    hmac::verify(&key.0, &scope.message(code), stored).is_ok()
}

/// Normalises a typed code: spaces removed, then exactly six ASCII digits.
pub fn parse_code(input: &str) -> Result<String, ApiError> {
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "sms-code-malformed",
            "An SMS code is six digits.",
        )
        .with_detail("The code was not counted as a try."))
    }
}

/// The result of checking a login code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code is right; it is now used up.
    Correct,
    /// The code is wrong; `tries_left` more tries are allowed.
    Wrong {
        /// Tries left (at least 1; a wrong last try gives `Exhausted`).
        tries_left: u32,
    },
    /// No tries are left for this code (the last try was wrong, or it was
    /// used up before); a new code must be sent.
    Exhausted,
    /// The code has expired, was already used, or none was sent.
    Expired,
}

/// 400 `sms-code-invalid`: a wrong code (login or enrollment), with the tries
/// left both as the `tries_left` member and in the detail sentence.
pub fn code_wrong(tries_left: u32) -> ApiError {
    let tries = if tries_left == 1 { "try" } else { "tries" };
    ApiError::from(ProblemType::SmsCodeInvalid)
        .with_detail(format!("The code is wrong; {tries_left} more {tries}."))
        .with_tries_left(tries_left)
}

/// 409 `phone-missing`: the user has no mobile number on file.
pub fn phone_missing() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "phone-missing",
        "The user has no mobile number on file.",
    )
    .with_detail("SMS codes need a mobile number; the user's broker can enter one.")
}

/// 429 `rate-limited` with `Retry-After`.
pub fn rate_limited(retry_after: i64) -> ApiError {
    let secs = u64::try_from(retry_after.max(1)).unwrap_or(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many SMS for this user.",
    )
    .with_detail(format!("The next SMS can be sent in {secs} seconds."))
    .with_retry_after(secs)
}

/// 502 `sms-gateway-failed`: the gateway did not accept the SMS; nothing was charged.
pub fn gateway_failed() -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "sms-gateway-failed",
        "The SMS could not be sent.",
    )
    .with_detail(
        "The SMS provider did not accept the message; nothing was charged. Try again later.",
    )
}

/// "5 Minuten", "1 Minute" for the SMS text.
fn validity_text(ttl_secs: i64) -> String {
    let minutes = (ttl_secs.max(1) + 59) / 60;
    if minutes == 1 {
        "1 Minute".into()
    } else {
        format!("{minutes} Minuten")
    }
}

/// The German text of a login SMS.
pub fn login_text(code: &SmsCode, ttl_secs: i64) -> String {
    format!(
        "Ihr Ident-Anmeldecode: {}. Gültig {}. Geben Sie ihn nie weiter.",
        code.expose(),
        validity_text(ttl_secs)
    )
}

/// The German text of an enrollment confirmation SMS.
pub fn enrollment_text(code: &SmsCode, ttl_secs: i64) -> String {
    format!(
        "Ihr Ident-Bestätigungscode für die Einrichtung der App: {}. Gültig {}. Geben Sie ihn nie weiter.",
        code.expose(),
        validity_text(ttl_secs)
    )
}

/// What an SMS is for: a login code (stored with the SMS) or an enrollment
/// confirmation (whose hash the enrollment stores itself).
enum Sending {
    Login { txn_id: String, code: SmsCode },
    Enrollment { device_id: String },
}

/// One SMS: reserve (rate limit, code, charge, audit), send, undo on failure.
async fn send_charged(
    state: &AppState,
    user: &User,
    phone: &PhoneNumber,
    sending: Sending,
    text: String,
) -> Result<(), ApiError> {
    let policy = &state.config.policy;
    let now = state.now();
    let masked = phone.masked();
    let (purpose, subject, txn_id) = match &sending {
        Sending::Login { txn_id, .. } => (
            SmsPurpose::Login,
            json!({"txn": txn_id}),
            Some(txn_id.clone()),
        ),
        Sending::Enrollment { device_id } => (
            SmsPurpose::Enrollment,
            json!({"device_id": device_id}),
            None,
        ),
    };
    let mut reservation = SmsReservation {
        ledger: NewLedgerEntry {
            broker_id: user.billing_broker(),
            user_id: user.id,
            user_login: user.login.as_str().to_owned(),
            phone_masked: masked.clone(),
            purpose,
            net: Cents(policy.sms_net_cents),
            vat: VatRate(policy.vat_basis_points),
        },
        code: None,
        audit: NewAuditEntry {
            actor: "system".into(),
            action: "sms.sent",
            user_id: Some(user.id),
            detail: json!({
                "to": masked,
                "purpose": purpose.as_str(),
                "for": subject,
                "gateway": state.sms.kind(),
            }),
        },
        limit_per_hour: policy.sms_per_user_per_hour,
    };
    let expires_at = now.saturating_add(policy.sms_code_ttl_secs);
    let reserved = state
        .db(move |s| {
            if let Sending::Login { txn_id, code } = &sending {
                let key = code_key(s)?;
                reservation.code = Some(NewSmsCode {
                    txn_id: txn_id.clone(),
                    code_hash: hash_code(&key, CodeScope::Login(txn_id), code.expose()),
                    expires_at,
                });
            }
            s.reserve_sms(&reservation, now)
        })
        .await?;
    let ledger_id = match reserved {
        Reserved::Ok(id) => id,
        Reserved::RateLimited { retry_after } => {
            tracing::info!(user = user.id.0, "SMS refused: rate limit");
            return Err(rate_limited(retry_after));
        }
        Reserved::NoSuchTxn => return Err(ApiError::not_found("The login transaction")),
    };
    match state.sms.send(phone, &text).await {
        Ok(()) => {
            tracing::info!(user = user.id.0, to = %phone.masked(), purpose = purpose.as_str(),
                           ledger_id, "SMS sent");
            Ok(())
        }
        Err(e) => {
            tracing::error!(user = user.id.0, to = %phone.masked(), error = %e, "SMS gateway failed");
            let audit = NewAuditEntry {
                actor: "system".into(),
                action: "sms.failed",
                user_id: Some(user.id),
                detail: json!({"to": phone.masked(), "purpose": purpose.as_str(),
                               "ledger_id": ledger_id, "gateway": state.sms.kind()}),
            };
            let now = state.now();
            state
                .db(move |s| s.cancel_sms(ledger_id, txn_id.as_deref(), &audit, now))
                .await?;
            Err(gateway_failed())
        }
    }
}

/// Sends a new login code for transaction `txn_id` (which must exist and
/// belong to `user`) by SMS, replacing any earlier code of the transaction
/// (and resetting its tries). Charges the user's broker and audits `sms.sent`.
///
/// Errors: 409 `phone-missing`; 429 `rate-limited` (with `Retry-After`);
/// 404 `not-found` for an unknown transaction; 502 `sms-gateway-failed`.
pub async fn send_login_code(state: &AppState, user: &User, txn_id: &str) -> Result<(), ApiError> {
    let phone = user.phone.clone().ok_or_else(phone_missing)?;
    let code = new_code()?;
    let text = login_text(&code, state.config.policy.sms_code_ttl_secs);
    let sending = Sending::Login {
        txn_id: txn_id.to_owned(),
        code,
    };
    send_charged(state, user, &phone, sending, text).await
}

/// Checks a login code typed for transaction `txn_id`. The try is counted
/// before the comparison; a correct code is used up (a second `Correct` for
/// the same code is impossible, even concurrently).
///
/// Errors: 400 `sms-code-malformed` when `code` is not six digits (no try counted).
pub async fn check_login_code(
    state: &AppState,
    txn_id: &str,
    code: &str,
) -> Result<CodeCheck, ApiError> {
    let code = parse_code(code)?;
    let txn = txn_id.to_owned();
    let max = state.config.policy.sms_code_tries;
    let now = state.now();
    state
        .db(move |s| {
            let key = code_key(s)?;
            Ok(match s.count_sms_try(&txn, max, now)? {
                SmsTry::NoCode | SmsTry::Expired => CodeCheck::Expired,
                SmsTry::Exhausted => CodeCheck::Exhausted,
                SmsTry::Counted {
                    code_hash,
                    tries_left,
                } => {
                    if verify_code(&key, CodeScope::Login(&txn), &code, &code_hash) {
                        if s.consume_sms_code(&txn, &code_hash)? {
                            CodeCheck::Correct
                        } else {
                            CodeCheck::Expired
                        }
                    } else if tries_left == 0 {
                        CodeCheck::Exhausted
                    } else {
                        CodeCheck::Wrong { tries_left }
                    }
                }
            })
        })
        .await
}

/// An enrollment confirmation code that was sent: what the enrollment stores
/// in `devices.sms_code_hash` / `devices.sms_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEnrollmentCode {
    /// `hash_code(key, CodeScope::Enrollment(device_id), code)`.
    pub code_hash: [u8; 32],
    /// `now + policy.sms_code_ttl_secs`.
    pub expires_at: i64,
}

/// Sends an enrollment confirmation code for `device_id` to `user`'s phone,
/// charged (purpose `enrollment`), rate-limited and audited like a login SMS.
/// The caller stores the returned hash and expiry with the pending device,
/// and later counts a try (`devices.sms_tries`, atomically, before comparing)
/// and checks the typed code with [`verify_code`] under
/// `CodeScope::Enrollment(device_id)` and [`code_key`].
///
/// Errors: 409 `phone-missing`; 429 `rate-limited`; 502 `sms-gateway-failed`.
pub async fn send_enrollment_code(
    state: &AppState,
    user: &User,
    device_id: &str,
) -> Result<SentEnrollmentCode, ApiError> {
    let phone = user.phone.clone().ok_or_else(phone_missing)?;
    let code = new_code()?;
    let ttl = state.config.policy.sms_code_ttl_secs;
    let text = enrollment_text(&code, ttl);
    let expires_at = state.now().saturating_add(ttl);
    let device = device_id.to_owned();
    let code_hash = state
        .db(move |s| {
            let key = code_key(s)?;
            Ok(hash_code(
                &key,
                CodeScope::Enrollment(&device),
                code.expose(),
            ))
        })
        .await?;
    let sending = Sending::Enrollment {
        device_id: device_id.to_owned(),
    };
    send_charged(state, user, &phone, sending, text).await?;
    Ok(SentEnrollmentCode {
        code_hash,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CodeKey {
        CodeKey::derive(b"not really pkcs8").unwrap()
    }

    #[test]
    fn codes_are_six_digits_and_spread() {
        let mut seen = std::collections::HashSet::new();
        let mut first_digit = [0u32; 10];
        for _ in 0..2_000 {
            let c = new_code().unwrap();
            assert_eq!(c.expose().len(), 6);
            assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
            first_digit[usize::from(c.expose().as_bytes()[0] - b'0')] += 1;
            seen.insert(c.expose().to_owned());
        }
        assert!(seen.len() > 1_990, "codes repeat too often: {}", seen.len());
        // Each leading digit ~200 times; a modulo-biased or broken generator would skew.
        assert!(
            first_digit.iter().all(|&n| (120..=280).contains(&n)),
            "{first_digit:?}"
        );
        assert_eq!(
            format!("{:?}", new_code().unwrap()),
            "SmsCode(SecretString([REDACTED]))"
        );
    }

    #[test]
    fn hashes_are_keyed_and_scoped() {
        let k = key();
        let h = hash_code(&k, CodeScope::Login("t1"), "123456");
        assert!(verify_code(&k, CodeScope::Login("t1"), "123456", &h));
        assert!(!verify_code(&k, CodeScope::Login("t1"), "123457", &h));
        assert!(!verify_code(&k, CodeScope::Login("t2"), "123456", &h));
        assert!(!verify_code(&k, CodeScope::Enrollment("t1"), "123456", &h));
        assert!(!verify_code(&k, CodeScope::Login("t1"), "123456", &h[..31]));
        let other = CodeKey::derive(b"another server").unwrap();
        assert_ne!(hash_code(&other, CodeScope::Login("t1"), "123456"), h);
        // Not the plain SHA-256 of anything obvious.
        let plain = ring::digest::digest(&ring::digest::SHA256, b"t1123456");
        assert_ne!(plain.as_ref(), &h[..]);
        assert_eq!(format!("{k:?}"), "CodeKey([REDACTED])");
    }

    #[test]
    fn typed_codes_are_normalised_or_refused() {
        assert_eq!(parse_code(" 123 456 ").unwrap(), "123456");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert_eq!(
                parse_code(bad).unwrap_err().slug,
                "sms-code-malformed",
                "{bad}"
            );
        }
    }

    #[test]
    fn texts_are_german_and_carry_the_code() {
        let c = SmsCode(SecretString::new("042917".into()));
        assert_eq!(
            login_text(&c, 300),
            "Ihr Ident-Anmeldecode: 042917. Gültig 5 Minuten. Geben Sie ihn nie weiter."
        );
        assert!(enrollment_text(&c, 60).contains("042917. Gültig 1 Minute."));
        assert_eq!(validity_text(90), "2 Minuten");
    }

    #[test]
    fn problems() {
        let e = rate_limited(120);
        assert_eq!(
            (e.status.as_u16(), e.slug, e.retry_after),
            (429, "rate-limited", Some(120))
        );
        assert_eq!(phone_missing().status, StatusCode::CONFLICT);
        assert_eq!(gateway_failed().status, StatusCode::BAD_GATEWAY);
    }
}
