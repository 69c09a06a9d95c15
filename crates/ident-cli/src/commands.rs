//! One function per command: read the input, call the core, write the result.
//!
//! Nothing here decides a rule of the product: which account a query names,
//! when an enrollment is stored, what a removal tells the server, how an
//! export is encrypted — all of that is `ident_core::authenticator` and
//! `ident_core::export`. This module only asks questions, converts types and
//! formats answers (text in the user's language, or the JSON of docs/cli.md).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use ident_core::account::{Account, AccountDetails, AccountId, ChallengeId};
use ident_core::authenticator::{
    self as auth, AuthenticatorError, EnrollStep, EnrolledSummary, ErrorKind, ImportReport,
    PendingChallenge, ServerUnenroll,
};
use ident_core::enroll_link::EnrollLink;
use ident_core::otp::{self, OtpKind, OtpParams};
use ident_core::ports::{
    Clock, ReqwestTransport, SystemClock, UnixTime, UserVerificationError, UserVerifier,
    VerificationPrompt,
};
use ident_core::protocol::{
    AnswerOutcome, Client, Decision, DenyReason, MatchNumber, Platform, ProtocolError, SmsCode,
};
use ident_core::secret::SecretString;
use ident_core::vault::{KdfParams, NewPinRefusal, Vault, VaultError, check_new_pin};
use serde_json::{Value, json};

use crate::error::{CliError, EXIT_REFUSED};
use crate::i18n::{self, Lang, tr};
use crate::input::Input;
use crate::output::Out;
use crate::{Cli, Command, DecisionArg, ReasonArg, Result, qr};

/// What every command needs.
struct Ctx {
    lang: Lang,
    out: Out,
    input: Input,
    vault_path: PathBuf,
    fast_kdf: bool,
}

impl Ctx {
    fn core(&self, e: impl Into<AuthenticatorError>) -> CliError {
        CliError::from_core(self.lang, &e.into())
    }

    fn kdf(&self) -> KdfParams {
        if self.fast_kdf {
            KdfParams::insecure_for_tests()
        } else {
            KdfParams::RECOMMENDED
        }
    }

    /// Asks for the PIN and opens the vault.
    fn open_vault(&mut self) -> Result<(Vault, SecretString)> {
        let status = Vault::status(&self.vault_path, &SystemClock).map_err(|e| self.core(e))?;
        if !status.exists {
            return Err(self.core(VaultError::NotFound));
        }
        if status.locked_forever {
            return Err(self.core(VaultError::LockedForever));
        }
        if status.wait_seconds > 0 {
            return Err(self.core(VaultError::BackOff {
                wait_seconds: status.wait_seconds,
            }));
        }
        let pin = self.input.secret("PIN: ")?;
        let vault = Vault::open(&self.vault_path, &pin, &SystemClock).map_err(|e| self.core(e))?;
        Ok((vault, pin))
    }

    fn client(&self) -> Result<Client> {
        let http = ReqwestTransport::new().map_err(|e| self.core(ProtocolError::from(e)))?;
        Ok(Client::new(Arc::new(http), Arc::new(SystemClock)))
    }

    fn account<'v>(&self, vault: &'v Vault, query: &str) -> Result<&'v Account> {
        let id = auth::find_account(vault, query).map_err(|e| self.core(e))?;
        vault
            .get(id)
            .ok_or_else(|| self.core(VaultError::AccountNotFound(id)))
    }
}

fn default_vault_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("de", "Ident", "Ident").map(|d| d.data_dir().join("vault.db"))
}

/// Runs the parsed command.
pub fn run(cli: Cli, lang: Lang) -> Result<ExitCode> {
    let out = Out { json: cli.json };
    let vault_path = match cli.vault.clone().or_else(default_vault_path) {
        Some(p) => p,
        None => {
            return Err(CliError::usage(tr!(
                lang,
                "Kein Datenverzeichnis gefunden. Geben Sie den Tresor mit --vault an.",
                "No data directory found. Name the vault with --vault."
            )));
        }
    };
    let fast_kdf = cli.kdf_insecure_fast
        || std::env::var("IDENT_TEST_FAST_KDF").is_ok_and(|v| v.trim() == "1");
    let mut ctx = Ctx {
        lang,
        out,
        input: Input::new(lang, out, cli.pin_stdin),
        vault_path,
        fast_kdf,
    };
    match cli.command {
        Command::Init => init(&mut ctx),
        Command::Enroll {
            uri,
            qr,
            name,
            sms_code,
        } => enroll(&mut ctx, uri, qr, name, sms_code),
        Command::Import { source } => import(&mut ctx, &source),
        Command::Export { out } => export(&mut ctx, &out),
        Command::List => list(&mut ctx),
        Command::Code { account } => code(&mut ctx, account.as_deref()),
        Command::Rename { account, new_name } => rename(&mut ctx, &account, &new_name),
        Command::Move { account, position } => move_account(&mut ctx, &account, position),
        Command::Remove { account } => remove(&mut ctx, &account),
        Command::Otp { uri, at } => otp_code(&ctx, &uri, at),
        Command::Pending { wait } => pending(&mut ctx, wait),
        Command::Answer {
            challenge,
            decision,
            number,
            reason,
        } => answer(&mut ctx, &challenge, decision, number, reason),
        Command::Watch => watch(&mut ctx),
    }
}

fn ok() -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------
// init

fn init(ctx: &mut Ctx) -> Result<ExitCode> {
    let l = ctx.lang;
    let status = Vault::status(&ctx.vault_path, &SystemClock).map_err(|e| ctx.core(e))?;
    if status.exists {
        return Err(ctx.core(VaultError::AlreadyExists));
    }
    let pin = ctx.input.secret(&tr!(l, "Neue PIN: ", "New PIN: "))?;
    match check_new_pin(&pin) {
        Ok(()) => {}
        Err(NewPinRefusal::Weak(weak)) => {
            let reasons: Vec<String> = weak.iter().map(|w| i18n::pin_weakness(l, *w)).collect();
            let reasons = reasons.join(" ");
            return Err(CliError::new(
                "weak_pin",
                crate::error::EXIT_USAGE,
                tr!(
                    l,
                    "Diese PIN wird nicht angenommen. {reasons}",
                    "This PIN is not accepted. {reasons}"
                ),
            ));
        }
        Err(NewPinRefusal::Length { min, max }) => {
            return Err(CliError::new(
                "weak_pin",
                crate::error::EXIT_USAGE,
                tr!(
                    l,
                    "Die PIN muss {min} bis {max} Zeichen lang sein.",
                    "The PIN must be {min} to {max} characters long."
                ),
            ));
        }
        Err(_) => {
            return Err(CliError::new(
                "weak_pin",
                crate::error::EXIT_USAGE,
                tr!(
                    l,
                    "Diese PIN wird nicht angenommen.",
                    "This PIN is not accepted."
                ),
            ));
        }
    }
    if ctx.input.interactive() {
        let again = ctx
            .input
            .secret(&tr!(l, "PIN wiederholen: ", "Repeat the PIN: "))?;
        if again.expose() != pin.expose() {
            return Err(CliError::usage(tr!(
                l,
                "Die beiden PINs stimmen nicht überein.",
                "The two PINs differ."
            )));
        }
    }
    if let Some(dir) = ctx
        .vault_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| CliError::io(l, dir, &e))?;
    }
    Vault::create(&ctx.vault_path, &pin, ctx.kdf(), &SystemClock).map_err(|e| ctx.core(e))?;
    let p = ctx.vault_path.display().to_string();
    ctx.out
        .line(&tr!(l, "Tresor eingerichtet: {p}", "Vault set up: {p}"));
    ctx.out.json(&json!({"vault": p, "created": true}));
    ok()
}

// ---------------------------------------------------------------------------
// enroll and import

fn device_name(name: Option<String>) -> String {
    name.filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned())
        .chars()
        .take(100)
        .collect()
}

fn platform() -> Platform {
    if cfg!(target_os = "linux") {
        Platform::Linux
    } else if cfg!(target_os = "macos") {
        Platform::Macos
    } else if cfg!(target_os = "windows") {
        Platform::Windows
    } else {
        Platform::Other
    }
}

fn is_otpauth(text: &str) -> bool {
    text.trim_start()
        .to_ascii_lowercase()
        .starts_with("otpauth")
}

fn enroll(
    ctx: &mut Ctx,
    uri: Option<String>,
    qr_path: Option<PathBuf>,
    name: Option<String>,
    sms_code: Option<String>,
) -> Result<ExitCode> {
    let l = ctx.lang;
    let text = match (uri, qr_path) {
        (Some(u), _) => u,
        (None, Some(p)) => qr::decode(l, &p)?,
        (None, None) => {
            return Err(CliError::usage(tr!(
                l,
                "Geben Sie den Einrichtungscode oder --qr BILD an.",
                "Give the enrollment code or --qr IMAGE."
            )));
        }
    };
    if is_otpauth(&text) {
        let (mut vault, _) = ctx.open_vault()?;
        let report = auth::import_text(&mut vault, &text).map_err(|e| ctx.core(e))?;
        return import_done(ctx, &vault, &report);
    }
    let link = EnrollLink::parse(&text).map_err(|e| CliError::usage(i18n::enroll_link(l, &e)))?;
    let (mut vault, _) = ctx.open_vault()?;
    let client = ctx.client()?;
    let device = device_name(name);
    let step =
        auth::enroll(&mut vault, &client, &link, &device, platform()).map_err(|e| ctx.core(e))?;
    let summary = match step {
        EnrollStep::Enrolled(s) => s,
        EnrollStep::SmsRequired(pending) => {
            ctx.out.note(&tr!(
                l,
                "Der Server hat einen Bestätigungscode per SMS an Ihre hinterlegte Handynummer geschickt.",
                "The server sent a confirmation code by SMS to your mobile number on file."
            ));
            let mut given = sms_code;
            let mut tries = 0;
            loop {
                tries += 1;
                let raw = match given.take() {
                    Some(c) => c,
                    None => ctx
                        .input
                        .line(&tr!(l, "SMS-Code: ", "SMS code: "))?
                        .ok_or_else(|| {
                            CliError::usage(tr!(
                                l,
                                "Der SMS-Code fehlt.",
                                "The SMS code is missing."
                            ))
                        })?,
                };
                let code = SmsCode::parse(&raw).map_err(|_| {
                    CliError::usage(tr!(
                        l,
                        "Der SMS-Code besteht aus genau 6 Ziffern.",
                        "The SMS code is exactly 6 digits."
                    ))
                })?;
                match auth::confirm_enrollment(&mut vault, &client, &pending, &code) {
                    Ok(s) => break s,
                    Err(e)
                        if e.kind() == ErrorKind::WrongCode
                            && ctx.input.interactive()
                            && tries < 3 =>
                    {
                        ctx.out.note(&i18n::authenticator(l, &e));
                    }
                    Err(e) => return Err(ctx.core(e)),
                }
            }
        }
    };
    enrolled_done(ctx, &summary)
}

fn enrolled_done(ctx: &Ctx, s: &EnrolledSummary) -> Result<ExitCode> {
    let l = ctx.lang;
    let (id, name, issuer, login, server) = (
        s.account_id,
        &s.name,
        &s.issuer,
        &s.login,
        s.server.as_str(),
    );
    ctx.out.line(&tr!(
        l,
        "Push-Konto {id} eingerichtet: {name} ({issuer}, Anmeldung {login}) bei {server}",
        "Push account {id} enrolled: {name} ({issuer}, login {login}) at {server}"
    ));
    ctx.out.json(&json!({
        "account": {"id": id.0, "kind": "push", "name": name, "issuer": issuer,
                    "login": login, "server": server}
    }));
    ok()
}

fn import(ctx: &mut Ctx, source: &str) -> Result<ExitCode> {
    let l = ctx.lang;
    let path = Path::new(source);
    let looks_like_text = source.contains("://");
    if !looks_like_text && path.is_file() {
        let meta = std::fs::metadata(path).map_err(|e| CliError::io(l, path, &e))?;
        if meta.len() > ident_core::export::MAX_EXPORT_BYTES as u64 {
            return Err(ctx.core(ident_core::export::ExportError::TooLarge));
        }
        let data = std::fs::read(path).map_err(|e| CliError::io(l, path, &e))?;
        let (mut vault, _) = ctx.open_vault()?;
        let report = if ident_core::export::looks_like_export(&data) {
            let pass =
                ctx.input
                    .secret(&tr!(l, "Passwort der Exportdatei: ", "Export passphrase: "))?;
            auth::import_export(&mut vault, &data, &pass).map_err(|e| ctx.core(e))?
        } else {
            let text =
                String::from_utf8(data).map_err(|_| ctx.core(AuthenticatorError::UnknownImport))?;
            auth::import_text(&mut vault, &text).map_err(|e| ctx.core(e))?
        };
        return import_done(ctx, &vault, &report);
    }
    if !looks_like_text {
        return Err(CliError::usage(tr!(
            l,
            "{source} ist weder eine Datei noch eine otpauth://-Adresse.",
            "{source} is neither a file nor an otpauth:// URI."
        )));
    }
    let (mut vault, _) = ctx.open_vault()?;
    let report = auth::import_text(&mut vault, source).map_err(|e| ctx.core(e))?;
    import_done(ctx, &vault, &report)
}

fn import_done(ctx: &Ctx, vault: &Vault, report: &ImportReport) -> Result<ExitCode> {
    let l = ctx.lang;
    let n = report.added.len();
    ctx.out.line(&tr!(
        l,
        "{n} Konto/Konten hinzugefügt.",
        "{n} account(s) added."
    ));
    for id in &report.added {
        if let Some(a) = vault.get(*id) {
            ctx.out.line(&format!("  {}  {}", a.id, display_name(a)));
        }
    }
    for s in &report.skipped {
        let (name, why) = (&s.name, i18n::skipped(l, &s.reason));
        ctx.out.note(&tr!(
            l,
            "Übersprungen: {name} ({why})",
            "Skipped: {name} ({why})"
        ));
    }
    for p in &report.reenroll {
        let (name, server, login) = (&p.name, &p.server, &p.login);
        ctx.out.note(&tr!(
            l,
            "Push-Konto {name} ({login} bei {server}) muss neu eingerichtet werden: Schlüssel werden nie exportiert.",
            "Push account {name} ({login} at {server}) must be enrolled again: keys are never exported."
        ));
    }
    ctx.out.json(&json!({
        "added": report.added.iter().map(|id| id.0).collect::<Vec<_>>(),
        "skipped": report.skipped.iter().map(|s| json!({
            "name": s.name, "reason": i18n::skipped(Lang::En, &s.reason)
        })).collect::<Vec<_>>(),
        "reenroll": report.reenroll.iter().map(|p| json!({
            "name": p.name, "issuer": p.issuer, "server": p.server, "login": p.login
        })).collect::<Vec<_>>(),
    }));
    ok()
}

// ---------------------------------------------------------------------------
// export

fn export(ctx: &mut Ctx, out_path: &Path) -> Result<ExitCode> {
    let l = ctx.lang;
    let (vault, _) = ctx.open_vault()?;
    let pass = ctx.input.secret(&tr!(
        l,
        "Passwort für die Exportdatei: ",
        "Passphrase for the export: "
    ))?;
    if ctx.input.interactive() {
        let again =
            ctx.input
                .secret(&tr!(l, "Passwort wiederholen: ", "Repeat the passphrase: "))?;
        if again.expose() != pass.expose() {
            return Err(CliError::usage(tr!(
                l,
                "Die beiden Passwörter stimmen nicht überein.",
                "The two passphrases differ."
            )));
        }
    }
    let data =
        auth::export_vault(&vault, &pass, ctx.kdf(), SystemClock.now()).map_err(|e| ctx.core(e))?;
    write_private(out_path, &data).map_err(|e| CliError::io(l, out_path, &e))?;
    let otp_n = vault
        .accounts()
        .iter()
        .filter(|a| matches!(a.details, AccountDetails::Otp(_)))
        .count();
    let push_n = vault.accounts().len() - otp_n;
    let p = out_path.display().to_string();
    ctx.out.line(&tr!(
        l,
        "Export geschrieben: {p} ({otp_n} Code-Konten; {push_n} Push-Konten nur aufgelistet, sie müssen neu eingerichtet werden).",
        "Export written: {p} ({otp_n} OTP accounts; {push_n} push accounts listed only, they must be enrolled again)."
    ));
    ctx.out
        .json(&json!({"file": p, "otp_accounts": otp_n, "push_accounts_listed": push_n}));
    ok()
}

/// Writes a file readable by the owner only, through a temporary file and a
/// rename, so a crash never leaves half an export under the final name.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

// ---------------------------------------------------------------------------
// list, code, rename, move, remove, otp

fn display_name(a: &Account) -> String {
    match &a.issuer {
        Some(i) => format!("{} ({i})", a.name),
        None => a.name.clone(),
    }
}

fn otp_json(p: &OtpParams) -> Value {
    let mut v = json!({"algorithm": p.algorithm, "digits": p.digits.get()});
    match p.kind {
        OtpKind::Totp { period } => {
            v["type"] = "totp".into();
            v["period"] = period.get().into();
        }
        OtpKind::Hotp { counter } => {
            v["type"] = "hotp".into();
            v["counter"] = counter.into();
        }
    }
    v
}

fn account_json(position: usize, a: &Account) -> Value {
    let mut v = json!({"id": a.id.0, "position": position, "name": a.name, "issuer": a.issuer});
    match &a.details {
        AccountDetails::Otp(p) => {
            v["kind"] = "otp".into();
            v["otp"] = otp_json(p);
        }
        AccountDetails::Push(p) => {
            v["kind"] = "push".into();
            v["push"] = json!({"server": p.server.as_str(), "login": p.login,
                               "device_id": p.device_id.as_str()});
        }
    }
    v
}

fn list(ctx: &mut Ctx) -> Result<ExitCode> {
    let l = ctx.lang;
    let (vault, _) = ctx.open_vault()?;
    if vault.accounts().is_empty() {
        ctx.out.line(&tr!(
            l,
            "Noch keine Konten. Fügen Sie eins mit „ident enroll“ oder „ident import“ hinzu.",
            "No accounts yet. Add one with `ident enroll` or `ident import`."
        ));
    }
    for (i, a) in vault.accounts().iter().enumerate() {
        let detail = match &a.details {
            AccountDetails::Otp(p) => match p.kind {
                OtpKind::Totp { .. } => "TOTP".to_owned(),
                OtpKind::Hotp { .. } => "HOTP".to_owned(),
            },
            AccountDetails::Push(p) => format!("Push {} @ {}", p.login, p.server),
        };
        ctx.out.line(&format!(
            "{:>3}  [{i}]  {}  — {detail}",
            a.id.0,
            display_name(a)
        ));
    }
    let accounts: Vec<Value> = vault
        .accounts()
        .iter()
        .enumerate()
        .map(|(i, a)| account_json(i, a))
        .collect();
    ctx.out.json(&json!({"accounts": accounts}));
    ok()
}

fn code_json(a: &Account, c: &otp::OtpCode) -> Value {
    json!({"id": a.id.0, "name": a.name, "issuer": a.issuer, "code": c.as_str(),
           "valid_from": c.valid_from().map(|t| t.secs()),
           "valid_until": c.valid_until().map(|t| t.secs())})
}

fn code_line(l: Lang, now: UnixTime, c: &otp::OtpCode) -> String {
    match c.valid_until() {
        Some(until) => {
            let left = until.secs() - now.secs();
            let code = c.as_str();
            tr!(l, "{code}  (noch {left} s)", "{code}  ({left} s left)")
        }
        None => c.as_str().to_owned(),
    }
}

fn code(ctx: &mut Ctx, query: Option<&str>) -> Result<ExitCode> {
    let l = ctx.lang;
    let (mut vault, _) = ctx.open_vault()?;
    let now = SystemClock.now();
    let ids: Vec<AccountId> = match query {
        Some(q) => vec![ctx.account(&vault, q)?.id],
        None => vault
            .accounts()
            .iter()
            .filter(|a| {
                matches!(
                    a.details,
                    AccountDetails::Otp(OtpParams {
                        kind: OtpKind::Totp { .. },
                        ..
                    })
                )
            })
            .map(|a| a.id)
            .collect(),
    };
    let mut codes = Vec::new();
    for id in ids {
        let c = vault.otp_code(id, now).map_err(|e| ctx.core(e))?;
        let Some(a) = vault.get(id) else { continue };
        if query.is_some() {
            ctx.out.line(&code_line(l, now, &c));
        } else {
            ctx.out.line(&format!(
                "{:>3}  {}  {}",
                a.id.0,
                code_line(l, now, &c),
                display_name(a)
            ));
        }
        codes.push(code_json(a, &c));
    }
    ctx.out.json(&json!({"codes": codes}));
    ok()
}

fn rename(ctx: &mut Ctx, query: &str, new_name: &str) -> Result<ExitCode> {
    let l = ctx.lang;
    let (mut vault, _) = ctx.open_vault()?;
    let id = ctx.account(&vault, query)?.id;
    vault.rename(id, new_name).map_err(|e| ctx.core(e))?;
    let name = vault.get(id).map(|a| a.name.clone()).unwrap_or_default();
    ctx.out.line(&tr!(
        l,
        "Konto {id} heißt jetzt „{name}“.",
        "Account {id} is now called \"{name}\"."
    ));
    ctx.out.json(&json!({"id": id.0, "name": name}));
    ok()
}

fn move_account(ctx: &mut Ctx, query: &str, position: usize) -> Result<ExitCode> {
    let l = ctx.lang;
    let (mut vault, _) = ctx.open_vault()?;
    let id = ctx.account(&vault, query)?.id;
    vault.move_to(id, position).map_err(|e| ctx.core(e))?;
    ctx.out.line(&tr!(
        l,
        "Konto {id} steht jetzt an Position {position}.",
        "Account {id} is now at position {position}."
    ));
    ctx.out.json(&json!({"id": id.0, "position": position}));
    ok()
}

fn remove(ctx: &mut Ctx, query: &str) -> Result<ExitCode> {
    let l = ctx.lang;
    let (mut vault, _) = ctx.open_vault()?;
    let account = ctx.account(&vault, query)?.clone();
    let client = ctx.client()?;
    let outcome = auth::remove_account(&mut vault, &client, account.id).map_err(|e| ctx.core(e))?;
    let (id, name) = (account.id, display_name(&account));
    ctx.out.line(&tr!(
        l,
        "Konto {id} ({name}) entfernt.",
        "Account {id} ({name}) removed."
    ));
    let (unenrolled, warning) = match &outcome {
        ServerUnenroll::NotApplicable => (Value::Null, None),
        ServerUnenroll::Done => (Value::Bool(true), None),
        ServerUnenroll::Failed(e) => {
            let why = i18n::authenticator(l, e);
            let w = tr!(
                l,
                "Warnung: Der Server konnte nicht benachrichtigt werden ({why}). Das Gerät bleibt dort registriert, bis ein Administrator es entfernt.",
                "Warning: the server could not be told ({why}). The device stays registered there until an administrator removes it."
            );
            ctx.out.note(&w);
            (Value::Bool(false), Some(w))
        }
    };
    ctx.out.json(&json!({"removed": id.0, "name": account.name,
                         "server_unenrolled": unenrolled, "warning": warning}));
    ok()
}

fn otp_code(ctx: &Ctx, uri: &str, at: Option<i64>) -> Result<ExitCode> {
    let entry = otp::parse_uri(uri).map_err(|e| ctx.core(e))?;
    let now = at.map_or_else(|| SystemClock.now(), UnixTime);
    let c = otp::code(&entry.secret, &entry.params, now);
    ctx.out.line(c.as_str());
    ctx.out.json(&json!({"code": c.as_str(),
                         "valid_from": c.valid_from().map(|t| t.secs()),
                         "valid_until": c.valid_until().map(|t| t.secs())}));
    ok()
}

// ---------------------------------------------------------------------------
// pending, answer, watch

fn local_time(l: Lang, t: UnixTime) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t.secs()) else {
        return t.secs().to_string();
    };
    let z = ts.to_zoned(jiff::tz::TimeZone::system());
    match l {
        Lang::De => z.strftime("%d.%m.%Y %H:%M:%S %Z").to_string(),
        Lang::En => z.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
    }
}

fn challenge_json(p: &PendingChallenge) -> Value {
    let c = &p.challenge;
    let ctx = c.context();
    json!({
        "id": c.id().as_str(), "account_id": p.account_id.0, "account_name": p.account_name,
        "service": ctx.service, "login": ctx.login, "ip": ctx.ip.to_string(),
        "user_agent": ctx.user_agent, "location": ctx.location,
        "issued_at": c.issued_at().secs(), "expires_at": c.expires_at().secs(),
        "number_required": c.number_required(),
    })
}

fn show_challenge(ctx: &Ctx, p: &PendingChallenge) {
    let l = ctx.lang;
    let c = &p.challenge;
    let cx = c.context();
    let (id, acc, name) = (c.id(), p.account_id, &p.account_name);
    let left = (c.expires_at().secs() - SystemClock.now().secs()).max(0);
    let when = local_time(l, c.issued_at());
    let (service, login, ip, ua) = (&cx.service, &cx.login, cx.ip, &cx.user_agent);
    ctx.out.line(&tr!(
        l,
        "Anmeldeanfrage {id} für Konto {acc} ({name})",
        "Login request {id} for account {acc} ({name})"
    ));
    ctx.out.line(&tr!(
        l,
        "  Dienst:     {service}",
        "  Service:    {service}"
    ));
    ctx.out
        .line(&tr!(l, "  Anmeldung:  {login}", "  Login:      {login}"));
    ctx.out
        .line(&tr!(l, "  IP-Adresse: {ip}", "  IP address: {ip}"));
    ctx.out
        .line(&tr!(l, "  Browser:    {ua}", "  Browser:    {ua}"));
    if let Some(loc) = &cx.location {
        ctx.out
            .line(&tr!(l, "  Ort:        {loc}", "  Location:   {loc}"));
    }
    ctx.out.line(&tr!(
        l,
        "  Zeit:       {when} (gültig noch {left} s)",
        "  Time:       {when} (valid for {left} s)"
    ));
    if c.number_required() {
        ctx.out.line(&tr!(
            l,
            "  Zahl:       bitte die Zahl von der Anmeldeseite eingeben",
            "  Number:     type the number shown on the login page"
        ));
    }
}

fn pending(ctx: &mut Ctx, wait: Option<u32>) -> Result<ExitCode> {
    let l = ctx.lang;
    let (vault, _) = ctx.open_vault()?;
    let client = ctx.client()?;
    let report = auth::pending(&vault, &client, wait).map_err(|e| ctx.core(e))?;
    let pushes = vault
        .accounts()
        .iter()
        .filter(|a| matches!(a.details, AccountDetails::Push(_)))
        .count();
    for f in &report.failures {
        let (name, why) = (&f.account_name, i18n::authenticator(l, &f.error));
        ctx.out
            .note(&tr!(l, "Konto {name}: {why}", "Account {name}: {why}"));
    }
    if report.challenges.is_empty() && !report.failures.is_empty() {
        let all_failed = report
            .failures
            .iter()
            .map(|f| f.account_id)
            .collect::<HashSet<_>>()
            .len()
            >= pushes;
        if all_failed {
            if let Some(f) = report.failures.first() {
                return Err(ctx.core(f.error.clone()));
            }
        }
    }
    if report.challenges.is_empty() {
        ctx.out.line(&tr!(
            l,
            "Keine offenen Anmeldeanfragen.",
            "No open login requests."
        ));
    }
    for p in &report.challenges {
        show_challenge(ctx, p);
    }
    let failures: Vec<Value> = report
        .failures
        .iter()
        .map(|f| {
            let (kind, _) = crate::error::kind_and_code(f.error.kind());
            json!({"account_id": f.account_id.0, "account_name": f.account_name,
                   "kind": kind, "message": i18n::authenticator(l, &f.error)})
        })
        .collect();
    ctx.out.json(&json!({
        "challenges": report.challenges.iter().map(challenge_json).collect::<Vec<_>>(),
        "failures": failures,
    }));
    ok()
}

/// The desktop's user verification: the vault PIN, checked by opening the
/// vault with it. That goes through the vault's wrong-PIN counter and
/// back-off, so approving is no side door for guessing PINs.
struct PinVerifier {
    path: PathBuf,
    pin: SecretString,
    error: Mutex<Option<VaultError>>,
}

impl PinVerifier {
    fn new(path: &Path, pin: SecretString) -> Self {
        Self {
            path: path.to_owned(),
            pin,
            error: Mutex::new(None),
        }
    }

    /// The vault's reason for a failed check (wrong PIN, back-off), if any.
    fn vault_error(&self) -> Option<VaultError> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

impl UserVerifier for PinVerifier {
    fn verify(
        &self,
        _prompt: &VerificationPrompt,
    ) -> std::result::Result<(), UserVerificationError> {
        match Vault::open(&self.path, &self.pin, &SystemClock) {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Ok(mut slot) = self.error.lock() {
                    *slot = Some(e);
                }
                Err(UserVerificationError::Failed)
            }
        }
    }
}

fn ask_number(ctx: &mut Ctx, given: Option<String>) -> Result<MatchNumber> {
    let l = ctx.lang;
    let raw = match given {
        Some(n) => n,
        None => ctx
            .input
            .line(&tr!(
                l,
                "Zahl von der Anmeldeseite: ",
                "Number from the login page: "
            ))?
            .ok_or_else(|| CliError::usage(tr!(l, "Die Zahl fehlt.", "The number is missing.")))?,
    };
    MatchNumber::parse(&raw).map_err(|_| {
        CliError::usage(tr!(
            l,
            "Die Zahl besteht aus 2 bis 6 Ziffern.",
            "The number is 2 to 6 digits."
        ))
    })
}

/// Sends the answer and reports it. Returns the exit code: 0, or 1 when an
/// approval ended as a denial (wrong number).
fn send_answer(
    ctx: &Ctx,
    vault: &Vault,
    client: &Client,
    p: &PendingChallenge,
    decision: &Decision,
    pin: SecretString,
) -> Result<ExitCode> {
    let l = ctx.lang;
    let verifier = PinVerifier::new(&ctx.vault_path, pin);
    let outcome = auth::answer(
        vault,
        client,
        p.account_id,
        &p.challenge,
        decision,
        &verifier,
    )
    .map_err(|e| match (&e, verifier.vault_error()) {
        (AuthenticatorError::Verification(_), Some(v)) => ctx.core(v),
        _ => ctx.core(e),
    })?;
    let id = p.challenge.id();
    let approve = matches!(decision, Decision::Approve { .. });
    let (text, status) = match outcome {
        AnswerOutcome::Approved => (
            tr!(l, "Anmeldung {id} bestätigt.", "Login {id} approved."),
            "approved",
        ),
        AnswerOutcome::Denied if approve => (
            tr!(
                l,
                "Anmeldung {id} abgelehnt: Die Zahl war falsch.",
                "Login {id} denied: the number was wrong."
            ),
            "denied",
        ),
        AnswerOutcome::Denied => (
            tr!(l, "Anmeldung {id} abgelehnt.", "Login {id} denied."),
            "denied",
        ),
    };
    ctx.out.line(&text);
    ctx.out.json(&json!({
        "event": "answered", "challenge": id.as_str(), "account_id": p.account_id.0,
        "decision": if approve { "approve" } else { "deny" }, "status": status,
    }));
    if approve && outcome == AnswerOutcome::Denied {
        Ok(ExitCode::from(EXIT_REFUSED))
    } else {
        ok()
    }
}

fn answer(
    ctx: &mut Ctx,
    challenge: &str,
    decision: DecisionArg,
    number: Option<String>,
    reason: Option<ReasonArg>,
) -> Result<ExitCode> {
    let l = ctx.lang;
    let id = ChallengeId::parse(challenge.trim()).map_err(|_| {
        CliError::usage(tr!(
            l,
            "Die Nummer der Anmeldeanfrage ist ungültig.",
            "The login request id is invalid."
        ))
    })?;
    if decision == DecisionArg::Approve && reason.is_some() {
        return Err(CliError::usage(tr!(
            l,
            "--reason gibt es nur beim Ablehnen (deny).",
            "--reason goes with deny only."
        )));
    }
    let (vault, pin) = ctx.open_vault()?;
    let client = ctx.client()?;
    let found = auth::find_challenge(&vault, &client, &id).map_err(|e| ctx.core(e))?;
    show_challenge(ctx, &found);
    let decision = match decision {
        DecisionArg::Approve => Decision::Approve {
            number: if found.challenge.number_required() {
                Some(ask_number(ctx, number)?)
            } else {
                number.map(|n| ask_number(ctx, Some(n))).transpose()?
            },
        },
        DecisionArg::Deny => Decision::Deny {
            reason: reason.map(|ReasonArg::NotMe| DenyReason::NotMe),
        },
    };
    // The PIN that opened the vault moments ago is the user verification of
    // this one-shot command; it is checked again through the vault.
    send_answer(ctx, &vault, &client, &found, &decision, pin)
}

/// One message from a poller thread.
enum Polled {
    Challenge(Box<PendingChallenge>),
    Failure(String, AuthenticatorError),
}

fn watch(ctx: &mut Ctx) -> Result<ExitCode> {
    let l = ctx.lang;
    let (vault, _) = ctx.open_vault()?;
    let client = ctx.client()?;
    let handles = auth::push_handles(&vault).map_err(|e| ctx.core(e))?;
    if handles.is_empty() {
        return Err(CliError::usage(tr!(
            l,
            "Es gibt noch kein Push-Konto. Richten Sie eins mit „ident enroll“ ein.",
            "There is no push account yet. Enroll one with `ident enroll`."
        )));
    }
    let (tx, rx) = mpsc::channel::<Polled>();
    for h in handles {
        let tx = tx.clone();
        let client = client.clone();
        std::thread::spawn(move || {
            loop {
                let report = h.pending(&client, Some(60));
                let had = !report.challenges.is_empty();
                let failed = !report.failures.is_empty();
                for c in report.challenges {
                    if tx.send(Polled::Challenge(Box::new(c))).is_err() {
                        return;
                    }
                }
                for f in report.failures {
                    if tx.send(Polled::Failure(f.account_name, f.error)).is_err() {
                        return;
                    }
                }
                if had || failed {
                    std::thread::sleep(Duration::from_secs(if failed { 5 } else { 1 }));
                }
            }
        });
    }
    drop(tx);
    ctx.out.note(&tr!(
        l,
        "Warte auf Anmeldeanfragen … (Strg-C beendet)",
        "Waiting for login requests … (Ctrl-C stops)"
    ));
    let mut seen: HashSet<ChallengeId> = HashSet::new();
    let mut reported: HashSet<String> = HashSet::new();
    while let Ok(msg) = rx.recv() {
        let p = match msg {
            Polled::Failure(name, e) => {
                let why = i18n::authenticator(l, &e);
                let line = tr!(l, "Konto {name}: {why}", "Account {name}: {why}");
                if reported.insert(line.clone()) {
                    ctx.out.note(&line);
                    let (kind, _) = crate::error::kind_and_code(e.kind());
                    ctx.out.json(&json!({"event": "error", "account_name": name,
                                         "kind": kind, "message": why}));
                }
                continue;
            }
            Polled::Challenge(p) => *p,
        };
        if !seen.insert(p.challenge.id().clone()) {
            continue;
        }
        if p.challenge.expires_at().secs() < SystemClock.now().secs() {
            continue;
        }
        show_challenge(ctx, &p);
        let mut ev = challenge_json(&p);
        ev["event"] = "challenge".into();
        ctx.out.json(&ev);
        let Some(choice) = ctx.input.line(&tr!(
            l,
            "Bestätigen? [j = ja / n = nein / x = das war ich nicht / Enter = überspringen]: ",
            "Approve? [y = yes / n = no / x = this was not me / Enter = skip]: "
        ))?
        else {
            break;
        };
        let decision = match choice.trim().to_lowercase().as_str() {
            "j" | "ja" | "y" | "yes" | "approve" => Decision::Approve {
                number: if p.challenge.number_required() {
                    Some(ask_number(ctx, None)?)
                } else {
                    None
                },
            },
            "n" | "nein" | "no" | "deny" => Decision::Deny { reason: None },
            "x" | "not_me" | "not-me" => Decision::Deny {
                reason: Some(DenyReason::NotMe),
            },
            _ => continue,
        };
        let pin = ctx
            .input
            .secret(&tr!(l, "PIN zur Bestätigung: ", "PIN to confirm: "))?;
        if let Err(e) = send_answer(ctx, &vault, &client, &p, &decision, pin) {
            e.report(ctx.out.json);
        }
    }
    ok()
}
