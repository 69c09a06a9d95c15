//! The authenticator's operations that combine the vault and the protocol
//! client: enroll and store, fetch challenges for every push account, answer
//! after user verification, remove (unenrolling first), import and export.
//!
//! Why a facade: the `ident` CLI, the Tauri app and the uniffi bindings all
//! need exactly these sequences, with the same ordering rules (an account is
//! stored only after the server accepted the enrollment; the server is told
//! before a device key is deleted; a challenge is checked against the account
//! before the user is asked). Writing them once here keeps the bridges free of
//! logic: they parse input into core types, call one function, and map
//! [`AuthenticatorError::kind`] to a message or an exit code.

use std::thread;

use thiserror::Error;

use crate::account::{AccountDetails, AccountId, ChallengeId, PushAccount, ServerUrl};
use crate::device_key::DeviceKey;
use crate::enroll_link::EnrollLink;
use crate::export::{self, ExportError, ExportedPush};
use crate::otp::{self, MigrationAccountError, MigrationError, OtpEntry, OtpUriError};
use crate::ports::{
    UnixTime, UserVerificationError, UserVerifier, VerificationPrompt, verify_user,
};
use crate::protocol::{
    AnswerOutcome, ChallengeError, Client, Decision, EnrollOutcome, EnrolledAccount,
    PendingEnrollment, Platform, ProblemType, ProtocolError, SmsCode, VerifiedChallenge,
};
use crate::secret::SecretString;
use crate::vault::{KdfParams, Vault, VaultError};

/// What kind of failure an [`AuthenticatorError`] is: a small, stable set the
/// bridges map to messages and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The PIN was wrong (counted).
    WrongPin,
    /// Too many wrong PINs: a back-off is running or the vault is locked for good.
    LockedOut,
    /// There is no vault yet, or one already exists where a new one was asked for.
    VaultState,
    /// The vault or an export file is damaged, or a file operation failed.
    Storage,
    /// No account matches.
    NotFound,
    /// Several accounts match.
    Ambiguous,
    /// The input (URI, link, code, number, name, passphrase) is not acceptable.
    InvalidInput,
    /// The server could not be reached.
    Network,
    /// The server refused or answered something unexpected.
    Server,
    /// The login request expired, was already answered or no longer exists.
    ChallengeGone,
    /// Push is locked for the user at the server after repeated denials.
    PushLocked,
    /// The SMS code was wrong (try again) or expired.
    WrongCode,
    /// The user cancelled or could not be verified.
    Cancelled,
    /// Something that should not happen (random generator, key handling).
    Internal,
}

/// Why an authenticator operation failed. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthenticatorError {
    /// The vault refused or failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The server or the network failed, or a message did not verify.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// An export could not be written or read.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The user was not verified.
    #[error(transparent)]
    Verification(#[from] UserVerificationError),
    /// An `otpauth://` URI was refused.
    #[error(transparent)]
    OtpUri(#[from] OtpUriError),
    /// A Google Authenticator export was refused.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// The text is none of the formats that can be imported.
    #[error("the text is neither an otpauth:// URI nor a Google Authenticator export")]
    UnknownImport,
    /// No account matches the query.
    #[error("no account matches \"{0}\"")]
    NoSuchAccount(String),
    /// Several accounts match the query.
    #[error("several accounts match \"{query}\"")]
    Ambiguous {
        /// The query.
        query: String,
        /// The matching accounts: id and name.
        candidates: Vec<(AccountId, String)>,
    },
    /// The account is an OTP account where a push account is needed.
    #[error("account {0} is not a push account")]
    NotPush(AccountId),
    /// No open login request with this id for any push account.
    #[error("there is no open login request {0}")]
    NoSuchChallenge(ChallengeId),
    /// The challenge does not belong to this account.
    #[error("the login request does not belong to account {0}")]
    ChallengeMismatch(AccountId),
}

impl AuthenticatorError {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AuthenticatorError::Vault(e) => vault_kind(e),
            AuthenticatorError::Protocol(e) => protocol_kind(e),
            AuthenticatorError::Export(e) => match e {
                ExportError::WrongPassphrase => ErrorKind::WrongPin,
                ExportError::WeakPassphrase { .. } | ExportError::NotAnExport => {
                    ErrorKind::InvalidInput
                }
                ExportError::Vault(v) => vault_kind(v),
                ExportError::Random => ErrorKind::Internal,
                _ => ErrorKind::Storage,
            },
            AuthenticatorError::Verification(_) => ErrorKind::Cancelled,
            AuthenticatorError::OtpUri(_)
            | AuthenticatorError::Migration(_)
            | AuthenticatorError::UnknownImport => ErrorKind::InvalidInput,
            AuthenticatorError::NoSuchAccount(_) => ErrorKind::NotFound,
            // Almost always answered or expired in the meantime.
            AuthenticatorError::NoSuchChallenge(_) => ErrorKind::ChallengeGone,
            AuthenticatorError::Ambiguous { .. } => ErrorKind::Ambiguous,
            AuthenticatorError::NotPush(_) | AuthenticatorError::ChallengeMismatch(_) => {
                ErrorKind::InvalidInput
            }
        }
    }
}

fn vault_kind(e: &VaultError) -> ErrorKind {
    match e {
        VaultError::WrongPin { .. } => ErrorKind::WrongPin,
        VaultError::BackOff { .. } | VaultError::LockedForever => ErrorKind::LockedOut,
        VaultError::NotFound | VaultError::AlreadyExists => ErrorKind::VaultState,
        VaultError::AccountNotFound(_) => ErrorKind::NotFound,
        VaultError::WrongAccountKind { .. }
        | VaultError::InvalidName { .. }
        | VaultError::InvalidPin { .. }
        | VaultError::IndexOutOfRange { .. }
        | VaultError::InvalidKdfParams { .. } => ErrorKind::InvalidInput,
        VaultError::Random | VaultError::InvalidDeviceKey => ErrorKind::Internal,
        _ => ErrorKind::Storage,
    }
}

fn protocol_kind(e: &ProtocolError) -> ErrorKind {
    match e {
        ProtocolError::Transport(_) => ErrorKind::Network,
        ProtocolError::Problem(p) => match p.problem_type() {
            Some(
                ProblemType::AnswerLate
                | ProblemType::AnswerReplayed
                | ProblemType::ChallengeNotFound,
            ) => ErrorKind::ChallengeGone,
            Some(ProblemType::PushLocked) => ErrorKind::PushLocked,
            Some(ProblemType::SmsCodeInvalid | ProblemType::SmsCodeExpired) => ErrorKind::WrongCode,
            _ => ErrorKind::Server,
        },
        ProtocolError::BadChallenge(ChallengeError::Expired) => ErrorKind::ChallengeGone,
        ProtocolError::Answer(crate::protocol::BuildAnswerError::ChallengeExpired) => {
            ErrorKind::ChallengeGone
        }
        ProtocolError::Answer(_) | ProtocolError::ServerUrl(_) => ErrorKind::InvalidInput,
        ProtocolError::Key(_) | ProtocolError::Proof(_) => ErrorKind::Internal,
        _ => ErrorKind::Server,
    }
}

// ---------------------------------------------------------------------------
// Finding accounts

/// The account `query` names: an account id (`"3"`), else the one account
/// whose name equals it (ignoring case), else the one account whose name,
/// issuer, login or server contains it. None or several: an error that lists
/// the candidates.
pub fn find_account(vault: &Vault, query: &str) -> Result<AccountId, AuthenticatorError> {
    let q = query.trim();
    if let Ok(n) = q.parse::<i64>() {
        if vault.get(AccountId(n)).is_some() {
            return Ok(AccountId(n));
        }
    }
    let exact: Vec<_> = vault
        .accounts()
        .iter()
        .filter(|a| a.name.to_lowercase() == q.to_lowercase())
        .collect();
    if let [one] = exact.as_slice() {
        return Ok(one.id);
    }
    let hits = if exact.is_empty() {
        vault.search(q)
    } else {
        exact
    };
    match hits.as_slice() {
        [] => Err(AuthenticatorError::NoSuchAccount(q.to_owned())),
        [one] if !q.is_empty() => Ok(one.id),
        many => Err(AuthenticatorError::Ambiguous {
            query: q.to_owned(),
            candidates: many.iter().map(|a| (a.id, a.name.clone())).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------
// Enrollment

/// A push account just stored in the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledSummary {
    /// Its id in the vault.
    pub account_id: AccountId,
    /// Its name (the server's label).
    pub name: String,
    /// Who runs the service.
    pub issuer: String,
    /// The login at the relying party.
    pub login: String,
    /// The server.
    pub server: ServerUrl,
}

/// How far an enrollment got.
#[derive(Debug)]
pub enum EnrollStep {
    /// Enrolled and stored.
    Enrolled(EnrolledSummary),
    /// The server sent an SMS code: call [`confirm_enrollment`] with it. Keep
    /// the pending enrollment in memory only (it holds the new device key);
    /// nothing is stored until the confirmation succeeds.
    SmsRequired(PendingEnrollment),
}

/// Enrolls with the server named by `link` and stores the account only after
/// the server accepted it (and its key matched the link's fingerprint).
pub fn enroll(
    vault: &mut Vault,
    client: &Client,
    link: &EnrollLink,
    device_name: &str,
    platform: Platform,
) -> Result<EnrollStep, AuthenticatorError> {
    match client.enroll(link, device_name, platform, None)? {
        EnrollOutcome::Enrolled(enrolled) => {
            store(vault, client, enrolled).map(EnrollStep::Enrolled)
        }
        EnrollOutcome::SmsRequired(pending) => Ok(EnrollStep::SmsRequired(pending)),
    }
}

/// Completes an enrollment with the SMS code and stores the account. A wrong
/// code ([`ErrorKind::WrongCode`]) leaves `pending` usable for another try.
pub fn confirm_enrollment(
    vault: &mut Vault,
    client: &Client,
    pending: &PendingEnrollment,
    code: &SmsCode,
) -> Result<EnrolledSummary, AuthenticatorError> {
    let enrolled = client.confirm_enrollment(pending, code)?;
    store(vault, client, enrolled)
}

/// Stores an enrolled account. If the vault refuses, the server is told to
/// forget the device again (best effort), so no orphan is left there.
fn store(
    vault: &mut Vault,
    client: &Client,
    enrolled: EnrolledAccount,
) -> Result<EnrolledSummary, AuthenticatorError> {
    let name = if enrolled.label.trim().is_empty() {
        enrolled.account.login.clone()
    } else {
        enrolled.label.clone()
    };
    let summary = EnrolledSummary {
        account_id: AccountId(0),
        name: name.clone(),
        issuer: enrolled.issuer.clone(),
        login: enrolled.account.login.clone(),
        server: enrolled.account.server.clone(),
    };
    let key = DeviceKey::from_pkcs8(&enrolled.device_key).map_err(ProtocolError::from)?;
    match vault.add_push(
        &name,
        Some(&enrolled.issuer),
        enrolled.account.clone(),
        enrolled.device_key,
    ) {
        Ok(id) => Ok(EnrolledSummary {
            account_id: id,
            ..summary
        }),
        Err(e) => {
            let _ = client.unenroll(&enrolled.account, &key);
            Err(e.into())
        }
    }
}

// ---------------------------------------------------------------------------
// Challenges

/// A push account with its device key, detached from the vault so it can be
/// polled from another thread (one long poll per account).
#[derive(Debug)]
pub struct PushHandle {
    /// The account's id in the vault.
    pub account_id: AccountId,
    /// The account's name.
    pub name: String,
    /// The push details.
    pub account: PushAccount,
    key: DeviceKey,
}

/// A verified login request waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChallenge {
    /// The push account it is for.
    pub account_id: AccountId,
    /// That account's name.
    pub account_name: String,
    /// The challenge, verified against the pinned server key.
    pub challenge: VerifiedChallenge,
}

/// A failure confined to one account (the others were still asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFailure {
    /// The account.
    pub account_id: AccountId,
    /// Its name.
    pub account_name: String,
    /// What went wrong: the server was unreachable, or a challenge did not verify.
    pub error: AuthenticatorError,
}

/// The login requests of every push account, and what failed on the way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PendingReport {
    /// The verified challenges, in account order.
    pub challenges: Vec<PendingChallenge>,
    /// Accounts that could not be asked, and challenges that failed verification.
    pub failures: Vec<AccountFailure>,
}

impl PushHandle {
    /// This account's open challenges, waiting up to `wait` seconds for one
    /// (long poll). Challenges that fail verification are returned as failures.
    pub fn pending(&self, client: &Client, wait: Option<u32>) -> PendingReport {
        let mut report = PendingReport::default();
        match client.pending_challenges(&self.account, &self.key, wait) {
            Ok(list) => {
                for item in list {
                    match item {
                        Ok(challenge) => report.challenges.push(PendingChallenge {
                            account_id: self.account_id,
                            account_name: self.name.clone(),
                            challenge,
                        }),
                        Err(e) => report.failures.push(self.failure(ProtocolError::from(e))),
                    }
                }
            }
            Err(e) => report.failures.push(self.failure(e)),
        }
        report
    }

    fn failure(&self, e: ProtocolError) -> AccountFailure {
        AccountFailure {
            account_id: self.account_id,
            account_name: self.name.clone(),
            error: e.into(),
        }
    }
}

/// Every push account with its device key, in the user's order.
pub fn push_handles(vault: &Vault) -> Result<Vec<PushHandle>, AuthenticatorError> {
    let mut out = Vec::new();
    for a in vault.accounts() {
        if let AccountDetails::Push(p) = &a.details {
            out.push(PushHandle {
                account_id: a.id,
                name: a.name.clone(),
                account: p.clone(),
                key: vault.device_key(a.id)?,
            });
        }
    }
    Ok(out)
}

/// The open login requests of every push account, each verified. With
/// `wait`, each account is long-polled in its own thread and the call returns
/// when every poll has returned (each returns early once a request exists).
/// A failure of one account is reported in the result, not fatal.
pub fn pending(
    vault: &Vault,
    client: &Client,
    wait: Option<u32>,
) -> Result<PendingReport, AuthenticatorError> {
    let handles = push_handles(vault)?;
    let reports: Vec<PendingReport> = if wait.is_some() && handles.len() > 1 {
        thread::scope(|s| {
            let joins: Vec<_> = handles
                .iter()
                .map(|h| s.spawn(move || h.pending(client, wait)))
                .collect();
            joins
                .into_iter()
                .zip(&handles)
                .map(|(j, h)| {
                    j.join().unwrap_or_else(|_| PendingReport {
                        challenges: Vec::new(),
                        failures: vec![AccountFailure {
                            account_id: h.account_id,
                            account_name: h.name.clone(),
                            error: AuthenticatorError::Protocol(ProtocolError::UnexpectedResponse(
                                "the poll failed".into(),
                            )),
                        }],
                    })
                })
                .collect()
        })
    } else {
        handles.iter().map(|h| h.pending(client, wait)).collect()
    };
    let mut all = PendingReport::default();
    for r in reports {
        all.challenges.extend(r.challenges);
        all.failures.extend(r.failures);
    }
    Ok(all)
}

/// Finds the open login request `id` among every push account's requests.
pub fn find_challenge(
    vault: &Vault,
    client: &Client,
    id: &ChallengeId,
) -> Result<PendingChallenge, AuthenticatorError> {
    let report = pending(vault, client, None)?;
    if let Some(found) = report
        .challenges
        .into_iter()
        .find(|c| c.challenge.id() == id)
    {
        return Ok(found);
    }
    // Not found: if every account failed to answer, say why instead.
    match report.failures.into_iter().next() {
        Some(f) if !matches!(f.error.kind(), ErrorKind::ChallengeGone) => Err(f.error),
        _ => Err(AuthenticatorError::NoSuchChallenge(id.clone())),
    }
}

/// The text of the verification prompt for a challenge (German first, as
/// the UI; a host with its own wording ignores it).
pub fn verification_prompt(challenge: &VerifiedChallenge) -> VerificationPrompt {
    let ctx = challenge.context();
    VerificationPrompt {
        reason: format!("Anmeldung bei {} als {} bestätigen", ctx.service, ctx.login),
    }
}

/// Answers `challenge` for `account_id`: checks that the challenge belongs to
/// the account, verifies the user through `verifier` (biometrics or PIN),
/// then signs and sends the decision. Returns what the server made of it (a
/// wrong number is [`AnswerOutcome::Denied`]).
pub fn answer(
    vault: &Vault,
    client: &Client,
    account_id: AccountId,
    challenge: &VerifiedChallenge,
    decision: &Decision,
    verifier: &dyn UserVerifier,
) -> Result<AnswerOutcome, AuthenticatorError> {
    let account = vault
        .get(account_id)
        .ok_or(VaultError::AccountNotFound(account_id))?;
    let AccountDetails::Push(push) = &account.details else {
        return Err(AuthenticatorError::NotPush(account_id));
    };
    if challenge.issuer() != &push.server || challenge.audience() != &push.device_id {
        return Err(AuthenticatorError::ChallengeMismatch(account_id));
    }
    let key = vault.device_key(account_id)?;
    let verified = verify_user(verifier, &verification_prompt(challenge))?;
    Ok(client.answer(push, &key, challenge, decision, &verified)?)
}

// ---------------------------------------------------------------------------
// Removal

/// What happened at the server when an account was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerUnenroll {
    /// An OTP account: there is no server to tell.
    NotApplicable,
    /// The server forgot the device.
    Done,
    /// The server could not be told (offline?); the account was removed
    /// anyway and the device stays registered there until an administrator
    /// removes it.
    Failed(AuthenticatorError),
}

/// Removes an account. For a push account the server is told first (best
/// effort): the device key is gone afterwards, so this is the last chance.
pub fn remove_account(
    vault: &mut Vault,
    client: &Client,
    id: AccountId,
) -> Result<ServerUnenroll, AuthenticatorError> {
    let account = vault.get(id).ok_or(VaultError::AccountNotFound(id))?;
    let outcome = match &account.details {
        AccountDetails::Otp(_) => ServerUnenroll::NotApplicable,
        AccountDetails::Push(push) => {
            let push = push.clone();
            let key = vault.device_key(id)?;
            match client.unenroll(&push, &key) {
                Ok(()) => ServerUnenroll::Done,
                Err(e) => ServerUnenroll::Failed(e.into()),
            }
        }
    };
    vault.remove(id)?;
    Ok(outcome)
}

// ---------------------------------------------------------------------------
// Import and export

/// An account of an import that was not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedImport {
    /// Its name as given (may be empty).
    pub name: String,
    /// Why.
    pub reason: MigrationAccountError,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// The accounts added, in order.
    pub added: Vec<AccountId>,
    /// Accounts of a Google Authenticator export that cannot be used.
    pub skipped: Vec<SkippedImport>,
    /// Push accounts listed in an Ident export: they must be enrolled again.
    pub reenroll: Vec<ExportedPush>,
}

/// Imports text: one or more lines, each an `otpauth://` URI or an
/// `otpauth-migration://` export. All accounts are added or none.
pub fn import_text(vault: &mut Vault, text: &str) -> Result<ImportReport, AuthenticatorError> {
    let mut entries: Vec<OtpEntry> = Vec::new();
    let mut report = ImportReport::default();
    let mut any = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        any = true;
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("otpauth-migration:") {
            let batch = otp::migration::parse(line)?;
            entries.extend(batch.entries);
            report
                .skipped
                .extend(batch.skipped.into_iter().map(|s| SkippedImport {
                    name: s.name,
                    reason: s.reason,
                }));
        } else if lower.starts_with("otpauth:") {
            entries.push(otp::parse_uri(line)?);
        } else {
            return Err(AuthenticatorError::UnknownImport);
        }
    }
    if !any {
        return Err(AuthenticatorError::UnknownImport);
    }
    report.added = vault.import_otp(entries)?;
    Ok(report)
}

/// Imports an Ident export file: adds its OTP accounts (all or none) and
/// lists its push accounts for enrollment again.
pub fn import_export(
    vault: &mut Vault,
    data: &[u8],
    passphrase: &SecretString,
) -> Result<ImportReport, AuthenticatorError> {
    let contents = export::decrypt(data, passphrase)?;
    let added = vault.import_otp(contents.otp)?;
    Ok(ImportReport {
        added,
        skipped: Vec::new(),
        reenroll: contents.push,
    })
}

/// Writes the encrypted export of `vault` (see [`crate::export`]).
pub fn export_vault(
    vault: &Vault,
    passphrase: &SecretString,
    kdf: KdfParams,
    now: UnixTime,
) -> Result<Vec<u8>, AuthenticatorError> {
    let contents = export::collect(vault, now)?;
    Ok(export::encrypt(&contents, passphrase, kdf)?)
}

#[cfg(test)]
mod tests;
