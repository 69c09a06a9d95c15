//! The one error the web view ever sees: [`IpcError`] of docs/ipc.md.
//!
//! Every failure of a command is mapped here, once, from the core's typed
//! errors to a stable `kind` (plus `attemptsLeft`, `waitSeconds` or a short
//! machine-readable `detail`). The UI turns the kind into a sentence; the
//! shell sends no UI text. What never appears: a PIN, a key, a seed, a token,
//! an account name, or a `Debug` rendering of an error. The only free text
//! that passes is the server's own problem message, which the core has
//! already cut and stripped of control characters, and which is stripped of
//! bidirectional controls again here.

use ident_core::authenticator::{AuthenticatorError, ErrorKind};
use ident_core::enroll_link::EnrollLinkError;
use ident_core::export::ExportError;
use ident_core::ports::{KeyStoreError, UserVerificationError};
use ident_core::protocol::challenge::displayable_text;
use ident_core::protocol::problem::MAX_PROBLEM_TEXT_CHARS;
use ident_core::protocol::{
    BuildAnswerError, ChallengeError, ProblemType, ProtocolError, SmsCodeError,
};
use ident_core::vault::{NewPinRefusal, PinWeakness, VaultError};
use serde::Serialize;

/// The stable kinds of docs/ipc.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IpcErrorKind {
    /// The PIN was wrong (counted); `attemptsLeft` says how many remain.
    WrongPin,
    /// Too many wrong PINs recently; `waitSeconds` says how long to wait.
    BackOff,
    /// The vault was erased after too many wrong PINs.
    LockedForever,
    /// A new PIN or export passphrase was refused (too short, easy to guess).
    WeakPin,
    /// Two PINs that must be equal differ (the UI's own check; never sent by the shell).
    PinMismatch,
    /// The input was refused; `detail` names why.
    InvalidInput,
    /// No vault, account or pending enrollment with that id.
    NotFound,
    /// The server could not be reached.
    Network,
    /// The server refused or answered something unexpected.
    Server,
    /// The server's key is not the one the enrollment code named.
    ServerKeyMismatch,
    /// The login request expired.
    ChallengeExpired,
    /// The login request was answered elsewhere or no longer exists.
    ChallengeGone,
    /// The number from the login page is missing or not 2 to 6 digits.
    WrongNumberFormat,
    /// The SMS code was wrong; `attemptsLeft` says how many codes may still
    /// be tried, when the server said so.
    SmsCodeWrong,
    /// The SMS code expired or was entered wrongly too often: the enrollment
    /// is over and must start again with a new code from the portal.
    SmsCodeExpired,
    /// The user cancelled or was not verified, or the vault is locked.
    Cancelled,
    /// Anything that should not happen.
    Internal,
}

/// A command's failure as the web view receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpcError {
    /// What went wrong.
    pub kind: IpcErrorKind,
    /// With `wrongPin`: wrong PINs left before the vault is erased; with
    /// `smsCodeWrong`: SMS codes that may still be tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `backOff`: seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<u64>,
    /// A short machine-readable reason (`"locked"`, `"otpauth"`, …) or the
    /// server's sanitised message. Never a secret or a debug rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `detail` of a command that needs the unlocked vault while it is locked.
pub const DETAIL_LOCKED: &str = "locked";

impl IpcError {
    /// An error of `kind` without extras.
    pub fn new(kind: IpcErrorKind) -> Self {
        Self {
            kind,
            attempts_left: None,
            wait_seconds: None,
            detail: None,
        }
    }

    /// An error of `kind` with a `detail`.
    pub fn with_detail(kind: IpcErrorKind, detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..Self::new(kind)
        }
    }

    /// Refused input, with the reason.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::with_detail(IpcErrorKind::InvalidInput, detail)
    }

    /// The command needs the unlocked vault (`cancelled` / `locked`).
    pub fn locked() -> Self {
        Self::with_detail(IpcErrorKind::Cancelled, DETAIL_LOCKED)
    }

    /// Something that should not happen.
    pub fn internal() -> Self {
        Self::new(IpcErrorKind::Internal)
    }
}

impl From<AuthenticatorError> for IpcError {
    fn from(e: AuthenticatorError) -> Self {
        from_core(&e)
    }
}

impl From<VaultError> for IpcError {
    fn from(e: VaultError) -> Self {
        from_vault(&e).unwrap_or_else(|| by_kind(&AuthenticatorError::Vault(e)))
    }
}

impl From<ProtocolError> for IpcError {
    fn from(e: ProtocolError) -> Self {
        from_protocol(&e).unwrap_or_else(|| by_kind(&AuthenticatorError::Protocol(e)))
    }
}

impl From<EnrollLinkError> for IpcError {
    fn from(e: EnrollLinkError) -> Self {
        let why = match e {
            EnrollLinkError::TooLong => "enrollLinkTooLong",
            EnrollLinkError::NotAnEnrollLink => "unknownFormat",
            EnrollLinkError::UnsupportedVersion => "enrollLinkVersion",
            EnrollLinkError::Server(_) => "serverUrl",
            EnrollLinkError::OriginMismatch => "enrollLinkOrigin",
            _ => "enrollLinkMalformed",
        };
        IpcError::invalid(why)
    }
}

impl From<SmsCodeError> for IpcError {
    fn from(_: SmsCodeError) -> Self {
        IpcError::invalid("smsCodeFormat")
    }
}

impl From<NewPinRefusal> for IpcError {
    fn from(r: NewPinRefusal) -> Self {
        let detail = match r {
            NewPinRefusal::Length { .. } => "length".to_owned(),
            NewPinRefusal::Weak(w) => w.iter().map(|w| weakness(*w)).collect::<Vec<_>>().join(","),
            _ => "weak".to_owned(),
        };
        IpcError::with_detail(IpcErrorKind::WeakPin, detail)
    }
}

fn weakness(w: PinWeakness) -> &'static str {
    match w {
        PinWeakness::Short => "short",
        PinWeakness::Repeated => "repeated",
        PinWeakness::Sequence => "sequence",
        PinWeakness::Pattern => "pattern",
        _ => "weak",
    }
}

/// Maps a facade error: the precise mappings first, then the stable
/// [`ErrorKind`] for anything newer than this shell.
pub fn from_core(e: &AuthenticatorError) -> IpcError {
    let precise = match e {
        AuthenticatorError::Vault(v) => from_vault(v),
        AuthenticatorError::Protocol(p) => from_protocol(p),
        AuthenticatorError::Export(x) => from_export(x),
        AuthenticatorError::Verification(v) => Some(match v {
            UserVerificationError::Cancelled => IpcError::new(IpcErrorKind::Cancelled),
            UserVerificationError::Failed => {
                IpcError::with_detail(IpcErrorKind::Cancelled, "notVerified")
            }
            _ => IpcError::with_detail(IpcErrorKind::Cancelled, "verificationUnavailable"),
        }),
        AuthenticatorError::OtpUri(_) => Some(IpcError::invalid("otpauth")),
        AuthenticatorError::Migration(_) => Some(IpcError::invalid("migration")),
        AuthenticatorError::UnknownImport => Some(IpcError::invalid("unknownFormat")),
        AuthenticatorError::NoSuchAccount(_) => {
            Some(IpcError::with_detail(IpcErrorKind::NotFound, "account"))
        }
        AuthenticatorError::Ambiguous { .. } => Some(IpcError::invalid("ambiguous")),
        AuthenticatorError::NotPush(_) => Some(IpcError::invalid("notPush")),
        AuthenticatorError::NoSuchChallenge(_) => Some(IpcError::new(IpcErrorKind::ChallengeGone)),
        AuthenticatorError::ChallengeMismatch(_) => Some(IpcError::invalid("challengeMismatch")),
        _ => None,
    };
    precise.unwrap_or_else(|| by_kind(e))
}

fn from_vault(e: &VaultError) -> Option<IpcError> {
    Some(match e {
        VaultError::WrongPin { attempts_left } => IpcError {
            attempts_left: Some(*attempts_left),
            ..IpcError::new(IpcErrorKind::WrongPin)
        },
        VaultError::BackOff { wait_seconds } => IpcError {
            wait_seconds: Some(*wait_seconds),
            ..IpcError::new(IpcErrorKind::BackOff)
        },
        VaultError::LockedForever => IpcError::new(IpcErrorKind::LockedForever),
        VaultError::InvalidPin { .. } => IpcError::with_detail(IpcErrorKind::WeakPin, "length"),
        VaultError::NotFound => IpcError::with_detail(IpcErrorKind::NotFound, "vault"),
        VaultError::AlreadyExists => IpcError::invalid("vaultExists"),
        VaultError::AccountNotFound(_) => IpcError::with_detail(IpcErrorKind::NotFound, "account"),
        VaultError::WrongAccountKind { .. } => IpcError::invalid("wrongAccountKind"),
        VaultError::InvalidName { .. } => IpcError::invalid("name"),
        VaultError::IndexOutOfRange { .. } => IpcError::invalid("index"),
        VaultError::CounterExhausted(_) => IpcError::invalid("counterExhausted"),
        VaultError::KeyStoreNotEnabled => IpcError::invalid("biometricNotEnabled"),
        VaultError::KeyStore(k) => match k {
            KeyStoreError::NotVerified => IpcError::new(IpcErrorKind::Cancelled),
            KeyStoreError::KeyLost => IpcError::invalid("biometricKeyLost"),
            _ => IpcError::with_detail(IpcErrorKind::Internal, "keyStore"),
        },
        VaultError::Corrupt { .. } => IpcError::with_detail(IpcErrorKind::Internal, "vaultDamaged"),
        VaultError::NewerVersion { .. } => {
            IpcError::with_detail(IpcErrorKind::Internal, "vaultNewerVersion")
        }
        VaultError::Io(_) | VaultError::Sqlite(_) => {
            IpcError::with_detail(IpcErrorKind::Internal, "storage")
        }
        _ => return None,
    })
}

fn from_protocol(e: &ProtocolError) -> Option<IpcError> {
    Some(match e {
        ProtocolError::Transport(_) => IpcError::new(IpcErrorKind::Network),
        ProtocolError::ServerKeyMismatch => IpcError::new(IpcErrorKind::ServerKeyMismatch),
        ProtocolError::Problem(p) => match p.problem_type() {
            Some(ProblemType::AnswerLate) => IpcError::new(IpcErrorKind::ChallengeExpired),
            Some(ProblemType::AnswerReplayed | ProblemType::ChallengeNotFound) => {
                IpcError::new(IpcErrorKind::ChallengeGone)
            }
            Some(ProblemType::SmsCodeInvalid) => IpcError {
                attempts_left: p.tries_left,
                ..IpcError::new(IpcErrorKind::SmsCodeWrong)
            },
            Some(ProblemType::SmsCodeExpired) => IpcError::new(IpcErrorKind::SmsCodeExpired),
            Some(ProblemType::PushLocked) => {
                IpcError::with_detail(IpcErrorKind::Server, "pushLocked")
            }
            _ => IpcError {
                detail: p
                    .detail
                    .as_deref()
                    .or(p.title.as_deref())
                    .map(|s| displayable_text(s, MAX_PROBLEM_TEXT_CHARS))
                    .filter(|s| !s.trim().is_empty()),
                ..IpcError::new(IpcErrorKind::Server)
            },
        },
        ProtocolError::BadChallenge(ChallengeError::Expired)
        | ProtocolError::Answer(BuildAnswerError::ChallengeExpired) => {
            IpcError::new(IpcErrorKind::ChallengeExpired)
        }
        ProtocolError::BadChallenge(_) => {
            IpcError::with_detail(IpcErrorKind::Server, "badChallenge")
        }
        ProtocolError::Answer(BuildAnswerError::NumberRequired) => {
            IpcError::new(IpcErrorKind::WrongNumberFormat)
        }
        ProtocolError::Answer(BuildAnswerError::NumberNotExpected) => {
            IpcError::invalid("numberNotExpected")
        }
        ProtocolError::ServerUrl(_) => IpcError::invalid("serverUrl"),
        ProtocolError::UnexpectedResponse(_) => IpcError::new(IpcErrorKind::Server),
        _ => return None,
    })
}

fn from_export(e: &ExportError) -> Option<IpcError> {
    Some(match e {
        ExportError::WrongPassphrase => IpcError::with_detail(IpcErrorKind::WrongPin, "passphrase"),
        ExportError::WeakPassphrase { .. } => {
            IpcError::with_detail(IpcErrorKind::WeakPin, "passphrase")
        }
        ExportError::NotAnExport => IpcError::invalid("notAnExport"),
        ExportError::NewerVersion { .. } => IpcError::invalid("exportNewerVersion"),
        ExportError::Damaged { .. } => IpcError::invalid("exportDamaged"),
        ExportError::TooLarge => IpcError::invalid("tooLarge"),
        ExportError::Vault(v) => return from_vault(v),
        _ => return None,
    })
}

/// The fallback: the core's stable kind.
fn by_kind(e: &AuthenticatorError) -> IpcError {
    IpcError::new(match e.kind() {
        ErrorKind::WrongPin => IpcErrorKind::WrongPin,
        ErrorKind::LockedOut => IpcErrorKind::LockedForever,
        ErrorKind::NotFound | ErrorKind::VaultState => IpcErrorKind::NotFound,
        ErrorKind::InvalidInput | ErrorKind::Ambiguous => IpcErrorKind::InvalidInput,
        ErrorKind::Network => IpcErrorKind::Network,
        ErrorKind::Server | ErrorKind::PushLocked => IpcErrorKind::Server,
        ErrorKind::ChallengeGone => IpcErrorKind::ChallengeGone,
        ErrorKind::WrongCode => IpcErrorKind::SmsCodeWrong,
        ErrorKind::Cancelled => IpcErrorKind::Cancelled,
        _ => IpcErrorKind::Internal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ident_core::account::{AccountId, ChallengeId};
    use ident_core::otp::OtpUriError;
    use ident_core::ports::TransportError;
    use ident_core::protocol::Problem;
    use serde_json::json;

    fn js(e: impl Into<IpcError>) -> serde_json::Value {
        serde_json::to_value(e.into()).unwrap()
    }

    #[test]
    fn pin_errors_carry_counts() {
        assert_eq!(
            js(VaultError::WrongPin { attempts_left: 4 }),
            json!({"kind": "wrongPin", "attemptsLeft": 4})
        );
        assert_eq!(
            js(VaultError::BackOff { wait_seconds: 30 }),
            json!({"kind": "backOff", "waitSeconds": 30})
        );
        assert_eq!(
            js(VaultError::LockedForever),
            json!({"kind": "lockedForever"})
        );
        assert_eq!(
            js(AuthenticatorError::Vault(VaultError::WrongPin {
                attempts_left: 1
            })),
            json!({"kind": "wrongPin", "attemptsLeft": 1})
        );
    }

    #[test]
    fn new_pin_refusals() {
        assert_eq!(
            js(NewPinRefusal::Weak(vec![
                PinWeakness::Short,
                PinWeakness::Sequence
            ])),
            json!({"kind": "weakPin", "detail": "short,sequence"})
        );
        assert_eq!(
            js(NewPinRefusal::Length { min: 4, max: 128 }),
            json!({"kind": "weakPin", "detail": "length"})
        );
        assert_eq!(
            js(AuthenticatorError::Export(ExportError::WeakPassphrase {
                min: 8
            })),
            json!({"kind": "weakPin", "detail": "passphrase"})
        );
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(
            js(ProtocolError::Transport(TransportError::Unreachable(
                "x".into()
            ))),
            json!({"kind": "network"})
        );
        assert_eq!(
            js(ProtocolError::ServerKeyMismatch),
            json!({"kind": "serverKeyMismatch"})
        );
        let p = |t| ProtocolError::Problem(Problem::new(t, None));
        assert_eq!(js(p(ProblemType::AnswerLate))["kind"], "challengeExpired");
        assert_eq!(js(p(ProblemType::AnswerReplayed))["kind"], "challengeGone");
        assert_eq!(
            js(p(ProblemType::ChallengeNotFound))["kind"],
            "challengeGone"
        );
        assert_eq!(
            js(p(ProblemType::SmsCodeInvalid)),
            json!({"kind": "smsCodeWrong"})
        );
        assert_eq!(
            js(ProtocolError::Problem(
                Problem::new(ProblemType::SmsCodeInvalid, None).with_tries_left(2)
            )),
            json!({"kind": "smsCodeWrong", "attemptsLeft": 2})
        );
        assert_eq!(
            js(p(ProblemType::SmsCodeExpired)),
            json!({"kind": "smsCodeExpired"})
        );
        assert_eq!(
            js(p(ProblemType::PushLocked)),
            json!({"kind": "server", "detail": "pushLocked"})
        );
        assert_eq!(
            js(ProtocolError::BadChallenge(ChallengeError::Expired)),
            json!({"kind": "challengeExpired"})
        );
        assert_eq!(
            js(ProtocolError::Answer(BuildAnswerError::NumberRequired)),
            json!({"kind": "wrongNumberFormat"})
        );
    }

    #[test]
    fn server_message_is_passed_sanitised() {
        let mut pr = Problem::new(ProblemType::RateLimited, None);
        pr.detail = Some("Zu viele \u{202E}Anfragen".into());
        assert_eq!(
            js(ProtocolError::Problem(pr)),
            json!({"kind": "server", "detail": "Zu viele Anfragen"})
        );
        // A raw unexpected-response text is ours, not the server's: not passed.
        assert_eq!(
            js(ProtocolError::UnexpectedResponse(
                "bad json at line 1".into()
            )),
            json!({"kind": "server"})
        );
    }

    #[test]
    fn facade_errors_carry_no_names() {
        let e = AuthenticatorError::NoSuchAccount("Max Mustermann".into());
        assert_eq!(js(e), json!({"kind": "notFound", "detail": "account"}));
        let e = AuthenticatorError::Ambiguous {
            query: "Max".into(),
            candidates: vec![(AccountId(1), "Max A".into())],
        };
        assert!(!js(e).to_string().contains("Max"));
        assert_eq!(
            js(AuthenticatorError::NoSuchChallenge(
                ChallengeId::parse("c1").unwrap()
            )),
            json!({"kind": "challengeGone"})
        );
        assert_eq!(
            js(AuthenticatorError::OtpUri(OtpUriError::NotOtpauth)),
            json!({"kind": "invalidInput", "detail": "otpauth"})
        );
        assert_eq!(
            js(AuthenticatorError::Verification(
                UserVerificationError::Cancelled
            )),
            json!({"kind": "cancelled"})
        );
        assert_eq!(
            js(AuthenticatorError::Export(ExportError::WrongPassphrase)),
            json!({"kind": "wrongPin", "detail": "passphrase"})
        );
    }

    #[test]
    fn storage_errors_hide_their_text() {
        let e = VaultError::Sqlite("disk I/O error at /home/max/secret".into());
        assert_eq!(js(e), json!({"kind": "internal", "detail": "storage"}));
        assert_eq!(
            js(VaultError::Corrupt { what: "x" }),
            json!({"kind": "internal", "detail": "vaultDamaged"})
        );
    }

    #[test]
    fn locked_and_link_errors() {
        assert_eq!(
            js(IpcError::locked()),
            json!({"kind": "cancelled", "detail": "locked"})
        );
        assert_eq!(
            js(EnrollLinkError::NotAnEnrollLink),
            json!({"kind": "invalidInput", "detail": "unknownFormat"})
        );
        assert_eq!(
            js(EnrollLinkError::OriginMismatch),
            json!({"kind": "invalidInput", "detail": "enrollLinkOrigin"})
        );
    }
}
