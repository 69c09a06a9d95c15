//! The commands of docs/ipc.md as plain functions over [`AppState`].
//!
//! Each one converts its arguments into core types, calls the facade
//! (`ident_core::authenticator`) or the vault, and converts the result into a
//! view. The rules live in the core — which account a challenge belongs to,
//! when an enrollment is stored, what removal tells the server, what makes a
//! new PIN acceptable; the sequences mirror the `ident` CLI's. They are
//! blocking (vault, Argon2id, network): `ipc.rs` runs them off the main
//! thread. Secrets arrive as [`SecretString`] and are dropped (zeroized) here.

use ident_core::account::{AccountDetails, AccountId, ChallengeId};
use ident_core::authenticator::{
    self as auth, AuthenticatorError, EnrollStep, ImportReport, PendingChallenge,
};
use ident_core::enroll_link::EnrollLink;
use ident_core::export;
use ident_core::ports::{UserVerifier, VerificationPrompt};
use ident_core::protocol::{Decision, DenyReason, MatchNumber, SmsCode};
use ident_core::secret::SecretString;
use ident_core::vault::{self, Vault, VaultError, check_new_pin};

use crate::error::{IpcError, IpcErrorKind};
use crate::poller::lock;
use crate::settings::{LanguageSetting, clamp_timeout};
use crate::state::AppState;
use crate::verifier::PinVerifier;
use crate::views::{
    AccountView, AddResult, AnswerResult, AppStatus, ChallengeView, OtpCodeView, Outcome,
    REASON_PUSH_REENROLL, RecentAnswer, SavedExport, SkippedView, skipped_reason,
};

/// `app_status`.
pub fn app_status(st: &AppState) -> Result<AppStatus, IpcError> {
    st.status()
}

/// `setup_vault`: creates the vault with a new PIN and opens it. A vault
/// erased after too many wrong PINs is deleted and set up anew (its data is
/// gone already); any other existing vault is refused.
pub fn setup_vault(st: &AppState, pin: &SecretString) -> Result<AppStatus, IpcError> {
    let status = Vault::status(st.vault_path(), st.clock.as_ref())?;
    if status.exists && !status.locked_forever {
        return Err(VaultError::AlreadyExists.into());
    }
    check_new_pin(pin)?;
    if status.exists {
        st.lock_now();
        Vault::destroy(st.vault_path())?;
    }
    if let Some(dir) = st.vault_path().parent() {
        std::fs::create_dir_all(dir)
            .map_err(|_| IpcError::with_detail(IpcErrorKind::Internal, "storage"))?;
    }
    let vault = Vault::create(st.vault_path(), pin, st.kdf, st.clock.as_ref())?;
    st.open_session(vault);
    st.status()
}

/// `unlock`: opens the vault with the PIN.
pub fn unlock(st: &AppState, pin: &SecretString) -> Result<AppStatus, IpcError> {
    let vault = Vault::open(st.vault_path(), pin, st.clock.as_ref())?;
    st.open_session(vault);
    st.status()
}

/// `unlock_biometric`: opens the vault with the key store's key.
pub fn unlock_biometric(st: &AppState) -> Result<AppStatus, IpcError> {
    let ks = st
        .keystore
        .as_ref()
        .ok_or_else(|| IpcError::invalid("biometricUnavailable"))?;
    let vault = Vault::open_with_keystore(st.vault_path(), ks.as_ref())?;
    st.open_session(vault);
    st.status()
}

/// `lock`.
pub fn lock_app(st: &AppState) -> Result<AppStatus, IpcError> {
    st.lock_now();
    st.status()
}

fn views(vault: &Vault) -> Vec<AccountView> {
    vault.accounts().iter().map(AccountView::from).collect()
}

fn view_of(vault: &Vault, id: AccountId) -> Result<AccountView, IpcError> {
    vault
        .get(id)
        .map(AccountView::from)
        .ok_or_else(|| VaultError::AccountNotFound(id).into())
}

/// `list_accounts`: every account in the user's order, or those matching `query`.
pub fn list_accounts(st: &AppState, query: Option<&str>) -> Result<Vec<AccountView>, IpcError> {
    st.with_vault(|v| {
        Ok(match query.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => v.search(q).into_iter().map(AccountView::from).collect(),
            None => views(v),
        })
    })
}

/// `otp_code` (HOTP: advances the counter).
pub fn otp_code(st: &AppState, id: i64) -> Result<OtpCodeView, IpcError> {
    let now = st.clock.now();
    st.with_vault(|v| Ok(OtpCodeView::from(&v.otp_code(AccountId(id), now)?)))
}

fn otp_added(report: &ImportReport) -> AddResult {
    let mut skipped: Vec<SkippedView> = report
        .skipped
        .iter()
        .map(|s| SkippedView {
            name: s.name.clone(),
            reason: skipped_reason(&s.reason).to_owned(),
        })
        .collect();
    skipped.extend(report.reenroll.iter().map(|p| SkippedView {
        name: p.name.clone(),
        reason: REASON_PUSH_REENROLL.to_owned(),
    }));
    AddResult::OtpAdded {
        ids: report.added.iter().map(|id| id.0).collect(),
        skipped,
    }
}

fn is_otpauth(text: &str) -> bool {
    text.trim_start()
        .to_ascii_lowercase()
        .starts_with("otpauth")
}

/// `add_from_text`: `otpauth://` and `otpauth-migration://` lines are
/// imported; an enrollment code (`ident://enroll…`, `https://…/e#…`) enrolls.
pub fn add_from_text(st: &AppState, text: &str) -> Result<AddResult, IpcError> {
    if is_otpauth(text) {
        return st.with_vault(|v| Ok(otp_added(&auth::import_text(v, text)?)));
    }
    let link = EnrollLink::parse(text.trim())?;
    st.with_vault(|v| {
        match auth::enroll(v, &st.client, &link, &st.device_name, st.platform.wire())? {
            EnrollStep::Enrolled(s) => {
                st.restart_poller(v);
                Ok(AddResult::PushEnrolled { id: s.account_id.0 })
            }
            EnrollStep::SmsRequired(pending) => {
                let pending_id = st.next_pending_id();
                lock(&st.enrollments).insert(pending_id.clone(), pending);
                Ok(AddResult::SmsRequired { pending_id })
            }
        }
    })
}

/// `add_from_qr_image`: reads the QR code in a PNG or JPEG, then as
/// [`add_from_text`].
pub fn add_from_qr_image(st: &AppState, bytes: &[u8]) -> Result<AddResult, IpcError> {
    let text = crate::qr::decode(bytes)?;
    add_from_text(st, &text)
}

/// `confirm_enrollment`: completes an enrollment with the SMS code. A wrong
/// code keeps the enrollment for another try; once the server has ended it
/// (`smsCodeExpired`: the code expired or its tries are used up) it is
/// forgotten here too, and only a new enrollment code helps.
pub fn confirm_enrollment(
    st: &AppState,
    pending_id: &str,
    code: &str,
) -> Result<AddResult, IpcError> {
    let code = SmsCode::parse(code)?;
    st.with_vault(|v| {
        let mut enrollments = lock(&st.enrollments);
        let pending = enrollments
            .get(pending_id)
            .ok_or_else(|| IpcError::with_detail(IpcErrorKind::NotFound, "pendingEnrollment"))?;
        let summary = match auth::confirm_enrollment(v, &st.client, pending, &code) {
            Ok(summary) => summary,
            Err(e) => {
                let e = IpcError::from(e);
                if e.kind == IpcErrorKind::SmsCodeExpired {
                    enrollments.remove(pending_id);
                }
                return Err(e);
            }
        };
        enrollments.remove(pending_id);
        drop(enrollments);
        st.restart_poller(v);
        Ok(AddResult::PushEnrolled {
            id: summary.account_id.0,
        })
    })
}

/// `import_export_file`: an Ident export (OTP accounts added, push accounts
/// reported as skipped with `pushMustReenroll`); a text file of `otpauth`
/// lines is imported as text, as the CLI does.
pub fn import_export_file(
    st: &AppState,
    bytes: &[u8],
    passphrase: &SecretString,
) -> Result<AddResult, IpcError> {
    if bytes.len() > export::MAX_EXPORT_BYTES {
        return Err(AuthenticatorError::Export(export::ExportError::TooLarge).into());
    }
    st.with_vault(|v| {
        let report = if export::looks_like_export(bytes) {
            auth::import_export(v, bytes, passphrase)?
        } else {
            let text = std::str::from_utf8(bytes).map_err(|_| IpcError::invalid("notAnExport"))?;
            if !is_otpauth(text) {
                return Err(IpcError::invalid("notAnExport"));
            }
            auth::import_text(v, text)?
        };
        Ok(otp_added(&report))
    })
}

/// The extension of export files (their content is docs/export.md's JSON).
pub const EXPORT_EXTENSION: &str = "identbackup";

/// `export_vault`: writes the encrypted export to a new file
/// `ident-export-<UTC date>.identbackup` (`-2`, `-3`, … when taken) in the
/// Downloads folder, mode 0600, and tells the UI where. The bytes never
/// cross into the web view.
pub fn export_vault(st: &AppState, passphrase: &SecretString) -> Result<SavedExport, IpcError> {
    let storage = || IpcError::with_detail(IpcErrorKind::Internal, "storage");
    let dir = st.export_dir.as_deref().ok_or_else(|| {
        log::warn!("no Downloads folder to save the export in");
        storage()
    })?;
    let now = st.clock.now();
    let bytes = st.with_vault(|v| Ok(auth::export_vault(v, passphrase, st.kdf, now)?))?;
    let stem = format!("ident-export-{}", date(now.secs()));
    let path = crate::save::save_new(dir, &stem, EXPORT_EXTENSION, &bytes).map_err(|e| {
        log::warn!("could not save the export: {e}");
        storage()
    })?;
    Ok(SavedExport {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: path.display().to_string(),
    })
}

/// `YYYY-MM-DD` (UTC) of Unix seconds `t` (civil-from-days, H. Hinnant).
fn date(t: i64) -> String {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `rename_account`.
pub fn rename_account(st: &AppState, id: i64, name: &str) -> Result<AccountView, IpcError> {
    st.with_vault(|v| {
        v.rename(AccountId(id), name)?;
        view_of(v, AccountId(id))
    })
}

/// `move_account`.
pub fn move_account(st: &AppState, id: i64, to_index: usize) -> Result<Vec<AccountView>, IpcError> {
    st.with_vault(|v| {
        v.move_to(AccountId(id), to_index)?;
        Ok(views(v))
    })
}

/// How the user is verified for one operation.
enum Verifier<'a> {
    /// The app PIN, checked through the vault (counted).
    Pin(PinVerifier),
    /// The platform's biometric prompt.
    Biometric(&'a dyn UserVerifier),
}

impl<'a> Verifier<'a> {
    /// With a PIN, the PIN; without one, the biometric prompt where the
    /// platform has one; else `invalidInput` / `pinRequired`.
    fn choose(st: &'a AppState, pin: Option<SecretString>) -> Result<Self, IpcError> {
        match (pin, &st.biometric) {
            (Some(pin), _) => Ok(Verifier::Pin(PinVerifier::new(
                st.vault_path(),
                pin,
                st.clock.clone(),
            ))),
            (None, Some(b)) => Ok(Verifier::Biometric(b.as_ref())),
            (None, None) => Err(IpcError::invalid("pinRequired")),
        }
    }

    fn port(&self) -> &dyn UserVerifier {
        match self {
            Verifier::Pin(p) => p,
            Verifier::Biometric(b) => *b,
        }
    }

    /// Maps a failure: a refused PIN is reported as the vault reported it
    /// (`wrongPin` with the attempts left, `backOff`, …).
    fn error(&self, e: AuthenticatorError) -> IpcError {
        match (self, &e) {
            (Verifier::Pin(p), AuthenticatorError::Verification(_)) => match p.vault_error() {
                Some(ve) => IpcError::from(ve),
                None => IpcError::from(e),
            },
            _ => IpcError::from(e),
        }
    }

    /// Asks the user directly (for operations the facade does not verify).
    fn verify(&self, reason: &str) -> Result<(), IpcError> {
        let prompt = VerificationPrompt {
            reason: reason.to_owned(),
        };
        self.port()
            .verify(&prompt)
            .map_err(|e| self.error(AuthenticatorError::Verification(e)))
    }
}

/// `remove_account`: after user verification; a push account is unenrolled
/// at the server first (best effort, as the facade decides).
pub fn remove_account(
    st: &AppState,
    id: i64,
    pin: Option<SecretString>,
) -> Result<Vec<AccountView>, IpcError> {
    st.with_vault(|v| {
        let account = v
            .get(AccountId(id))
            .ok_or(VaultError::AccountNotFound(AccountId(id)))?;
        let is_push = matches!(account.details, AccountDetails::Push(_));
        Verifier::choose(st, pin)?.verify("Konto entfernen")?;
        if let auth::ServerUnenroll::Failed(_) = auth::remove_account(v, &st.client, AccountId(id))?
        {
            log::warn!("the server could not be told about a removed account");
        }
        if is_push {
            st.restart_poller(v);
        }
        Ok(views(v))
    })
}

/// `pending_challenges`: asks every push account's server now and returns
/// the open requests. Fails only when every account failed and none has a
/// request (as the CLI's `pending`).
pub fn pending_challenges(st: &AppState) -> Result<Vec<ChallengeView>, IpcError> {
    st.with_vault(|v| {
        let push: Vec<AccountId> = v
            .accounts()
            .iter()
            .filter(|a| matches!(a.details, AccountDetails::Push(_)))
            .map(|a| a.id)
            .collect();
        let report = auth::pending(v, &st.client, None)?;
        let failed_everywhere = report.challenges.is_empty()
            && !push.is_empty()
            && push
                .iter()
                .all(|id| report.failures.iter().any(|f| f.account_id == *id));
        if let Some(f) = report.failures.first().filter(|_| failed_everywhere) {
            return Err(crate::error::from_core(&f.error));
        }
        let now = st.clock.now();
        let events = {
            let mut book = lock(&st.dispatch.book);
            let generation = book.generation();
            book.merge(generation, &push, report, now)
        };
        st.dispatch.deliver(events, false);
        Ok(lock(&st.dispatch.book).list())
    })
}

/// The arguments of `answer_challenge`.
#[derive(Debug)]
pub struct AnswerArgs {
    /// The request id.
    pub challenge_id: String,
    /// Approve (else deny).
    pub approve: bool,
    /// The number from the login page.
    pub number: Option<String>,
    /// With deny: "this was not me".
    pub not_me: bool,
    /// Desktop: the app PIN (mobile: biometric prompt when absent).
    pub pin: Option<SecretString>,
}

fn decision(found: &PendingChallenge, a: &AnswerArgs) -> Result<Decision, IpcError> {
    let wrong_number = || IpcError::new(IpcErrorKind::WrongNumberFormat);
    if a.approve {
        if a.not_me {
            return Err(IpcError::invalid("notMeWithApprove"));
        }
        let number = match (&a.number, found.challenge.number_required()) {
            (Some(n), _) => Some(MatchNumber::parse(n).map_err(|_| wrong_number())?),
            (None, true) => return Err(wrong_number()),
            (None, false) => None,
        };
        Ok(Decision::Approve { number })
    } else {
        Ok(Decision::Deny {
            reason: a.not_me.then_some(DenyReason::NotMe),
        })
    }
}

/// `answer_challenge`: finds the request (known, else asked of the
/// servers), builds the decision, verifies the user, signs and sends.
pub fn answer_challenge(st: &AppState, a: AnswerArgs) -> Result<AnswerResult, IpcError> {
    let id =
        ChallengeId::parse(a.challenge_id.trim()).map_err(|_| IpcError::invalid("challengeId"))?;
    st.with_vault(|v| {
        let known = lock(&st.dispatch.book).get(id.as_str());
        let found = match known {
            Some(c) => c,
            None => auth::find_challenge(v, &st.client, &id)?,
        };
        let decision = decision(&found, &a)?;
        let verifier = Verifier::choose(st, a.pin)?;
        let result = auth::answer(
            v,
            &st.client,
            found.account_id,
            &found.challenge,
            &decision,
            verifier.port(),
        )
        .map_err(|e| verifier.error(e));
        let outcome = match result {
            Ok(o) => Outcome::from(o),
            Err(e) => {
                if matches!(
                    e.kind,
                    IpcErrorKind::ChallengeGone | IpcErrorKind::ChallengeExpired
                ) {
                    close(st, id.as_str(), true);
                }
                return Err(e);
            }
        };
        close(st, id.as_str(), false);
        // The recent list (kept in the vault, newest 20 per account). The
        // answer is already given: a failure here costs only the list entry.
        let record = vault::RecentAnswer {
            challenge_id: id.as_str().to_owned(),
            service: found.challenge.context().service.clone(),
            at: st.clock.now(),
            outcome: match outcome {
                Outcome::Approved => vault::AnswerOutcome::Approved,
                Outcome::Denied => vault::AnswerOutcome::Denied,
            },
        };
        if v.record_answer(found.account_id, &record).is_err() {
            log::warn!("could not add the answer to the recent list");
        }
        Ok(AnswerResult { outcome })
    })
}

/// Forgets request `id`, clears its notification and, with `announce`,
/// tells the UI it is closed.
fn close(st: &AppState, id: &str, announce: bool) {
    lock(&st.dispatch.book).close(id);
    st.dispatch.clear_notification(id);
    if announce {
        st.dispatch
            .emit(crate::poller::ShellEvent::ChallengeClosed {
                challenge_id: id.to_owned(),
            });
    }
}

/// `recent_answers`: the answers this device gave for one account, newest
/// first (kept in the vault: the newest 20 per account, across restarts).
pub fn recent_answers(st: &AppState, account_id: i64) -> Result<Vec<RecentAnswer>, IpcError> {
    st.with_vault(|v| {
        Ok(v.recent_answers(AccountId(account_id))?
            .iter()
            .map(RecentAnswer::from)
            .collect())
    })
}

/// `change_pin`: the new PIN must pass the core's check; the old one is
/// checked under the wrong-PIN counter. If that erases the vault, the app
/// locks.
pub fn change_pin(
    st: &AppState,
    old: &SecretString,
    new: &SecretString,
) -> Result<AppStatus, IpcError> {
    check_new_pin(new)?;
    let result = st.with_vault(|v| Ok(v.change_pin(old, new, st.clock.as_ref())?));
    if let Err(e) = result {
        if e.kind == IpcErrorKind::LockedForever {
            st.lock_now();
        }
        return Err(e);
    }
    st.status()
}

/// `set_biometric`: wraps the vault key with the platform key store, or
/// removes that wrapping.
pub fn set_biometric(st: &AppState, enabled: bool) -> Result<AppStatus, IpcError> {
    let ks = st
        .keystore
        .clone()
        .ok_or_else(|| IpcError::invalid("biometricUnavailable"))?;
    st.with_vault(|v| {
        if enabled {
            v.enable_keystore_unlock(ks.as_ref())?;
        } else {
            v.disable_keystore_unlock(ks.as_ref())?;
        }
        Ok(())
    })?;
    st.status()
}

/// `set_language`.
pub fn set_language(st: &AppState, language: LanguageSetting) -> Result<AppStatus, IpcError> {
    st.update_settings(|s| s.language = language)?;
    st.status()
}

/// `set_lock_timeout`: idle seconds before the app locks (0: never; others
/// are brought into 30 s … 1 day).
pub fn set_lock_timeout(st: &AppState, seconds: u64) -> Result<AppStatus, IpcError> {
    st.update_settings(|s| s.lock_timeout_seconds = clamp_timeout(seconds))?;
    st.status()
}

/// `request_notifications`.
pub fn request_notifications(st: &AppState) -> Result<AppStatus, IpcError> {
    st.request_notifications()
}

#[cfg(test)]
mod tests;
