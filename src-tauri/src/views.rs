//! The JSON shapes of docs/ipc.md, made from core types.
//!
//! Every type here is what may cross into the web view, so each is built
//! field by field from the core's types: a label, a code, a challenge's
//! context — never a key, a seed, a device id, a token or a PIN. Field names
//! are camelCase as the contract says.

use ident_core::account::{Account, AccountDetails};
use ident_core::authenticator::PendingChallenge;
use ident_core::otp::{MigrationAccountError, OtpCode, OtpKind};
use ident_core::protocol::AnswerOutcome;
use serde::Serialize;

use crate::settings::{Lang, LanguageSetting};

/// An account as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Vault-local id.
    pub id: i64,
    /// `"otp"` or `"push"`.
    pub kind: &'static str,
    /// The user-visible name.
    pub name: String,
    /// The issuer, if known.
    pub issuer: Option<String>,
    /// Push: the server's base URL.
    pub server: Option<String>,
    /// Push: the login at the relying party.
    pub login: Option<String>,
    /// OTP: `"totp"` or `"hotp"`.
    pub otp_type: Option<&'static str>,
    /// TOTP: the period in seconds.
    pub period: Option<u32>,
    /// OTP: the number of digits.
    pub digits: Option<u8>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        let mut v = AccountView {
            id: a.id.0,
            kind: "otp",
            name: a.name.clone(),
            issuer: a.issuer.clone(),
            server: None,
            login: None,
            otp_type: None,
            period: None,
            digits: None,
        };
        match &a.details {
            AccountDetails::Otp(p) => {
                v.digits = Some(p.digits.get());
                match p.kind {
                    OtpKind::Totp { period } => {
                        v.otp_type = Some("totp");
                        v.period = Some(period.get());
                    }
                    OtpKind::Hotp { .. } => v.otp_type = Some("hotp"),
                }
            }
            AccountDetails::Push(p) => {
                v.kind = "push";
                v.server = Some(p.server.as_str().to_owned());
                v.login = Some(p.login.clone());
            }
        }
        v
    }
}

/// A one-time code and its validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpCodeView {
    /// The digits.
    pub code: String,
    /// TOTP: first second the code is current.
    pub valid_from: Option<i64>,
    /// TOTP: first second the code is no longer current.
    pub valid_until: Option<i64>,
}

impl From<&OtpCode> for OtpCodeView {
    fn from(c: &OtpCode) -> Self {
        Self {
            code: c.as_str().to_owned(),
            valid_from: c.valid_from().map(|t| t.secs()),
            valid_until: c.valid_until().map(|t| t.secs()),
        }
    }
}

/// Notification permission, as the UI needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationState {
    /// Notifications will be shown.
    Granted,
    /// The user refused; the UI explains how to enable them.
    Denied,
    /// Not asked yet: `request_notifications` will ask.
    Prompt,
    /// The platform has no notifications.
    Unsupported,
}

/// Where the app runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformName {
    /// Linux desktop.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
    /// Android.
    Android,
    /// iOS / iPadOS.
    Ios,
}

impl PlatformName {
    /// The platform this binary was built for.
    pub fn current() -> Self {
        if cfg!(target_os = "android") {
            Self::Android
        } else if cfg!(target_os = "ios") {
            Self::Ios
        } else if cfg!(target_os = "macos") {
            Self::Macos
        } else if cfg!(target_os = "windows") {
            Self::Windows
        } else {
            Self::Linux
        }
    }

    /// The same, as the protocol tells the server at enrollment.
    pub fn wire(self) -> ident_core::protocol::Platform {
        use ident_core::protocol::Platform;
        match self {
            Self::Linux => Platform::Linux,
            Self::Macos => Platform::Macos,
            Self::Windows => Platform::Windows,
            Self::Android => Platform::Android,
            Self::Ios => Platform::Ios,
        }
    }
}

/// What the UI needs before and after unlocking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// A vault has been set up.
    pub vault_exists: bool,
    /// The vault is open in this process.
    pub unlocked: bool,
    /// Wrong PINs left before the vault is erased (`null` without a vault).
    pub attempts_left: Option<u32>,
    /// Seconds of back-off still running.
    pub wait_seconds: u64,
    /// The vault was erased after too many wrong PINs.
    pub locked_forever: bool,
    /// The platform can unlock with biometrics.
    pub biometric_available: bool,
    /// Biometric unlock is set up for this vault.
    pub biometric_enabled: bool,
    /// Notification permission.
    pub notifications: NotificationState,
    /// The effective UI language.
    pub language: Lang,
    /// The language setting (`"system"` when following the system).
    pub language_setting: LanguageSetting,
    /// Idle seconds before the app locks itself (0: never).
    pub lock_timeout_seconds: u64,
    /// Where the app runs.
    pub platform: PlatformName,
}

/// A login request, with everything the user needs to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeView {
    /// The request id.
    pub challenge_id: String,
    /// The push account it is for.
    pub account_id: i64,
    /// That account's name.
    pub account_name: String,
    /// The portal.
    pub service: String,
    /// The login being used.
    pub login: String,
    /// The browser's IP address.
    pub ip: String,
    /// The browser's user agent.
    pub user_agent: String,
    /// A coarse location, if the server knows one.
    pub location: Option<String>,
    /// Issued at (Unix seconds, server clock).
    pub issued_at: i64,
    /// Expires at (Unix seconds, server clock).
    pub expires_at: i64,
    /// The user must type the number from the login page.
    pub number_required: bool,
}

impl From<&PendingChallenge> for ChallengeView {
    fn from(p: &PendingChallenge) -> Self {
        let c = &p.challenge;
        let ctx = c.context();
        Self {
            challenge_id: c.id().as_str().to_owned(),
            account_id: p.account_id.0,
            account_name: p.account_name.clone(),
            service: ctx.service.clone(),
            login: ctx.login.clone(),
            ip: ctx.ip.to_string(),
            user_agent: ctx.user_agent.clone(),
            location: ctx.location.clone(),
            issued_at: c.issued_at().secs(),
            expires_at: c.expires_at().secs(),
            number_required: c.number_required(),
        }
    }
}

/// An account of an import that was not added, and a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedView {
    /// Its name as given (may be empty).
    pub name: String,
    /// Why, as a code the UI translates (`"algorithm"`, `"pushMustReenroll"`, …).
    pub reason: String,
}

/// The reason code of an account a Google Authenticator export could not give.
pub fn skipped_reason(e: &MigrationAccountError) -> &'static str {
    match e {
        MigrationAccountError::Algorithm(_) => "algorithm",
        MigrationAccountError::Digits => "digits",
        MigrationAccountError::Type => "type",
        MigrationAccountError::Counter => "counter",
        MigrationAccountError::EmptySecret => "emptySecret",
        MigrationAccountError::SecretTooLong => "secretTooLong",
        MigrationAccountError::NoName => "noName",
        MigrationAccountError::NameTooLong => "nameTooLong",
        _ => "unsupported",
    }
}

/// The reason code of a push account listed in an Ident export: keys are
/// never exported, so it must be enrolled again.
pub const REASON_PUSH_REENROLL: &str = "pushMustReenroll";

/// What adding from text, a QR image or an export did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AddResult {
    /// OTP accounts were added (all of them or none).
    OtpAdded {
        /// The new accounts' ids.
        ids: Vec<i64>,
        /// What was not added, and why.
        skipped: Vec<SkippedView>,
    },
    /// A push account was enrolled and stored.
    PushEnrolled {
        /// Its id.
        id: i64,
    },
    /// The server sent an SMS code: call `confirm_enrollment` with it.
    SmsRequired {
        /// The in-memory handle of the waiting enrollment.
        pending_id: String,
    },
}

/// What the server made of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerResult {
    /// `"approved"` or `"denied"` (a wrong number is a denial).
    pub outcome: Outcome,
}

/// An answer's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The login goes through.
    Approved,
    /// The login is refused.
    Denied,
}

impl From<AnswerOutcome> for Outcome {
    fn from(o: AnswerOutcome) -> Self {
        match o {
            AnswerOutcome::Approved => Outcome::Approved,
            _ => Outcome::Denied,
        }
    }
}

/// An answer this device gave (the vault keeps the newest per account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentAnswer {
    /// The request id.
    pub challenge_id: String,
    /// The portal.
    pub service: String,
    /// When it was answered (Unix seconds, device clock).
    pub at: i64,
    /// What the server made of it.
    pub outcome: Outcome,
}

impl From<&ident_core::vault::RecentAnswer> for RecentAnswer {
    fn from(a: &ident_core::vault::RecentAnswer) -> Self {
        use ident_core::vault::AnswerOutcome as Recorded;
        Self {
            challenge_id: a.challenge_id.clone(),
            service: a.service.clone(),
            at: a.at.secs(),
            outcome: match a.outcome {
                Recorded::Approved => Outcome::Approved,
                Recorded::Denied => Outcome::Denied,
            },
        }
    }
}

/// An export file for the UI to save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedExport {
    /// The file's name (`ident-export-2026-11-26.identbackup`).
    pub file_name: String,
    /// Where it was saved, in full, for the UI to show. Not the content:
    /// the export's bytes stay in the shell.
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn add_results_have_the_contract_shape() {
        let v = serde_json::to_value(AddResult::SmsRequired {
            pending_id: "p1".into(),
        })
        .unwrap();
        assert_eq!(v, json!({"type": "smsRequired", "pendingId": "p1"}));
        let v = serde_json::to_value(AddResult::OtpAdded {
            ids: vec![1, 2],
            skipped: vec![SkippedView {
                name: "x".into(),
                reason: "digits".into(),
            }],
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"type": "otpAdded", "ids": [1, 2], "skipped": [{"name": "x", "reason": "digits"}]})
        );
        let v = serde_json::to_value(AddResult::PushEnrolled { id: 3 }).unwrap();
        assert_eq!(v, json!({"type": "pushEnrolled", "id": 3}));
    }

    #[test]
    fn small_views() {
        let v = serde_json::to_value(AnswerResult {
            outcome: Outcome::Denied,
        })
        .unwrap();
        assert_eq!(v, json!({"outcome": "denied"}));
        let v = serde_json::to_value(RecentAnswer {
            challenge_id: "c".into(),
            service: "S".into(),
            at: 5,
            outcome: Outcome::Approved,
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"challengeId": "c", "service": "S", "at": 5, "outcome": "approved"})
        );
        let v = serde_json::to_value(SavedExport {
            file_name: "a.identbackup".into(),
            path: "/home/u/Downloads/a.identbackup".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"fileName": "a.identbackup", "path": "/home/u/Downloads/a.identbackup"})
        );
    }
}
