//! "Meine Sicherheit" (`/portal/security`), for every logged-in user: the
//! devices with the Ident app, the 2FA interval, the trusted browsers, the
//! recent sign-ins and the password.
//!
//! Everything is read and changed through the relying-party API as the user
//! (`Ident-Actor`), so the page can do exactly what the API lets the user do
//! to their own account. Removing a device asks first on a page of its own
//! (it works without JavaScript and cannot be clicked by accident). The
//! sign-ins are built from the user's audit log: each `auth.started` entry is
//! one login, its outcome the entry that decided the same transaction. The
//! transaction id links the two on the server only and never reaches the page.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::api::{Caller, seg};
use super::csrf::CsrfForm;
use super::error::PortalError;
use super::i18n::{self, Lang};
use super::internal::{
    self, NoFields, done, interval_label, interval_options, parse_days, plausible_id, when,
};
use super::session::LoggedIn;
use super::{Area, PortalState};

/// How many sign-ins the page lists.
pub const SIGNINS_SHOWN: usize = 10;
/// How many audit entries are read to find them.
const AUDIT_READ: u32 = 200;

/// The routes of "Meine Sicherheit".
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/security", get(show))
        .route("/portal/security/interval", post(set_interval))
        .route("/portal/security/password", post(change_password))
        .route(
            "/portal/security/devices/{id}/remove",
            get(confirm_remove).post(remove_device),
        )
        .route(
            "/portal/security/browsers/revoke-all",
            post(revoke_all_browsers),
        )
        .route(
            "/portal/security/browsers/{id}/revoke",
            post(revoke_browser),
        )
}

/// `GET /api/v1/users/{login}/devices`.
#[derive(Debug, Deserialize)]
struct DeviceList {
    devices: Vec<ApiDevice>,
}

#[derive(Debug, Deserialize)]
struct ApiDevice {
    id: String,
    name: String,
    platform: String,
    enrolled_at: i64,
    #[serde(default)]
    last_used_at: Option<i64>,
}

/// `GET /api/v1/users/{login}/trusted-browsers`.
#[derive(Debug, Deserialize)]
struct BrowserList {
    browsers: Vec<ApiBrowser>,
}

#[derive(Debug, Deserialize)]
struct ApiBrowser {
    id: String,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    ip: String,
    created_at: i64,
    expires_at: i64,
}

/// `GET /api/v1/users/{login}/audit`.
#[derive(Debug, Deserialize)]
struct AuditList {
    entries: Vec<AuditEntry>,
}

/// One audit entry as the API shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditEntry {
    /// When (Unix seconds).
    pub at: i64,
    /// What (`auth.started`, `challenge.answered`, …).
    pub action: String,
    /// Facts; for logins `txn`, `method`, `ip`, `status`.
    #[serde(default)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize)]
struct DeviceRow {
    id: String,
    name: String,
    platform: String,
    enrolled: String,
    last_used: String,
}

#[derive(Debug, Serialize)]
struct BrowserRow {
    id: String,
    browser: String,
    ip: String,
    since: String,
    until: String,
}

/// How a sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignInResult {
    /// Approved (push, SMS code, or a trusted browser).
    Approved,
    /// Denied in the app, a wrong number, or the SMS code's tries used up.
    Denied,
    /// Push was locked by this answer or another one.
    Locked,
    /// Left by the user ("Abbrechen", or switched to an SMS code): withdrawn.
    Cancelled,
    /// Never decided (expired, or still open).
    Open,
}

/// One sign-in, from the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignIn {
    /// When it started.
    pub at: i64,
    /// `push`, `sms` or `trusted`.
    pub method: String,
    /// How it ended.
    pub result: SignInResult,
    /// The browser's IP address, as recorded.
    pub ip: Option<String>,
}

/// The user's most recent sign-ins (at most `limit`, newest first) from
/// their audit log (newest first). Transaction ids are only used to pair
/// entries and are not part of the result.
pub fn sign_ins(entries: &[AuditEntry], limit: usize) -> Vec<SignIn> {
    let txn = |e: &AuditEntry| {
        e.detail
            .get("txn")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let mut outcome: HashMap<String, SignInResult> = HashMap::new();
    for e in entries {
        let result = match e.action.as_str() {
            "auth.sms_approved" => SignInResult::Approved,
            "auth.sms_denied" => SignInResult::Denied,
            "auth.withdrawn" => SignInResult::Cancelled,
            "challenge.answered" => match e.detail.get("status").and_then(|v| v.as_str()) {
                Some("approved") => SignInResult::Approved,
                Some("denied") => SignInResult::Denied,
                Some("locked") => SignInResult::Locked,
                _ => continue,
            },
            _ => continue,
        };
        if let Some(t) = txn(e) {
            // Newest first: the first entry seen for a login is its decision.
            outcome.entry(t).or_insert(result);
        }
    }
    entries
        .iter()
        .filter(|e| e.action == "auth.started")
        .take(limit)
        .map(|e| {
            let method = e
                .detail
                .get("method")
                .and_then(|v| v.as_str())
                .unwrap_or("push")
                .to_owned();
            let result = if method == "trusted" {
                SignInResult::Approved
            } else {
                txn(e)
                    .and_then(|t| outcome.get(&t).copied())
                    .unwrap_or(SignInResult::Open)
            };
            SignIn {
                at: e.at,
                method,
                result,
                ip: e
                    .detail
                    .get("ip")
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            }
        })
        .collect()
}

/// A device platform as people call it.
pub fn platform_label(platform: &str) -> String {
    match platform {
        "ios" => "iPhone / iPad".into(),
        "android" => "Android".into(),
        "macos" => "macOS".into(),
        "windows" => "Windows".into(),
        "linux" => "Linux".into(),
        other => other.to_owned(),
    }
}

/// A short name for a user agent ("Firefox · Linux"); the service stores the
/// string the browser sent, which is long and hard to read.
pub fn browser_label(lang: Lang, ua: &str) -> String {
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") || ua.contains("X11") {
        "Linux"
    } else {
        ""
    };
    match (browser, os) {
        ("", "") => {
            let short: String = ua.chars().take(60).collect();
            if short.trim().is_empty() {
                i18n::t(lang, "sec_browser_unknown").to_owned()
            } else {
                short
            }
        }
        (b, "") => b.to_owned(),
        ("", o) => o.to_owned(),
        (b, o) => format!("{b} · {o}"),
    }
}

fn method_key(method: &str) -> &'static str {
    match method {
        "sms" => "sec_method_sms",
        "trusted" => "sec_method_trusted",
        _ => "sec_method_push",
    }
}

fn result_key(r: SignInResult) -> &'static str {
    match r {
        SignInResult::Approved => "sec_result_approved",
        SignInResult::Denied => "sec_result_denied",
        SignInResult::Locked => "sec_result_locked",
        SignInResult::Cancelled => "sec_result_cancelled",
        SignInResult::Open => "sec_result_open",
    }
}

fn devices_path(login: &str) -> String {
    format!("/api/v1/users/{}/devices", seg(login))
}

fn browsers_path(login: &str) -> String {
    format!("/api/v1/users/{}/trusted-browsers", seg(login))
}

async fn devices(caller: &Caller<'_>, login: &str) -> Result<Vec<ApiDevice>, PortalError> {
    Ok(caller
        .get::<DeviceList>(&devices_path(login))
        .await?
        .devices)
}

/// The user's device `id`; any other id (or one that cannot be an id) is
/// "not found".
async fn own_device(caller: &Caller<'_>, login: &str, id: &str) -> Result<ApiDevice, PortalError> {
    if !plausible_id(id) {
        return Err(PortalError::NotFound);
    }
    devices(caller, login)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(PortalError::NotFound)
}

/// Renders the page; `error` goes next to the interval form.
/// A refused form and the sentence that says why, shown next to it.
enum FormError {
    /// The 2FA interval form.
    Interval(String),
    /// The password form, and the field at fault (`current`, `new`, `repeat`).
    Password(String, &'static str),
}

async fn render(
    state: &PortalState,
    me: &LoggedIn,
    status: StatusCode,
    error: Option<FormError>,
) -> Result<Response, PortalError> {
    let (error, password_error, password_field) = match error {
        None => (None, None, None),
        Some(FormError::Interval(e)) => (Some(e), None, None),
        Some(FormError::Password(e, field)) => (None, Some(e), Some(field)),
    };
    let lang = me.lang;
    let login = me.user.login.as_str();
    let caller = state.api.acting(login);
    let user = caller.user(login).await?;
    let devices = devices(&caller, login).await?;
    let browsers = caller.get::<BrowserList>(&browsers_path(login)).await?;
    let audit = caller
        .get::<AuditList>(&format!(
            "/api/v1/users/{}/audit?limit={AUDIT_READ}",
            seg(login)
        ))
        .await?;
    let never = i18n::t(lang, "int_never");
    let device_rows: Vec<DeviceRow> = devices
        .into_iter()
        .map(|d| DeviceRow {
            platform: platform_label(&d.platform),
            enrolled: when(lang, d.enrolled_at),
            last_used: d
                .last_used_at
                .map_or_else(|| never.to_owned(), |t| when(lang, t)),
            id: d.id,
            name: d.name,
        })
        .collect();
    let browser_rows: Vec<BrowserRow> = browsers
        .browsers
        .into_iter()
        .map(|b| BrowserRow {
            browser: browser_label(lang, &b.user_agent),
            ip: b.ip,
            since: when(lang, b.created_at),
            until: when(lang, b.expires_at),
            id: b.id,
        })
        .collect();
    #[derive(Serialize)]
    struct SignInRow {
        at: String,
        method: &'static str,
        result: &'static str,
        result_kind: SignInResult,
        ip: String,
    }
    let signins: Vec<SignInRow> = sign_ins(&audit.entries, SIGNINS_SHOWN)
        .into_iter()
        .map(|s| SignInRow {
            at: when(lang, s.at),
            method: i18n::t(lang, method_key(&s.method)),
            result: i18n::t(lang, result_key(s.result)),
            result_kind: s.result,
            ip: s.ip.unwrap_or_else(|| "–".into()),
        })
        .collect();
    let notice = internal::take_notice(state, me)?;
    Ok(state.page_with_status(
        status,
        &me.view(Area::Security),
        "security.html",
        context! {
            notice => notice,
            error => error,
            password_error => password_error,
            password_field => password_field,
            devices => Value::from_serialize(&device_rows),
            browsers => Value::from_serialize(&browser_rows),
            signins => Value::from_serialize(&signins),
            interval_days => user.interval_days,
            interval_now => interval_label(lang, user.interval_days),
            interval_options => Value::from_serialize(interval_options(lang, user.interval_days)),
            has_phone => user.phone.is_some(),
            push_locked => user.push_locked.then(|| i18n::t(lang, match me.user.role {
                crate::domain::Role::Broker => "sec_push_locked_broker",
                _ => "sec_push_locked",
            })),
        },
    ))
}

/// `GET /portal/security`.
async fn show(State(state): State<PortalState>, me: LoggedIn) -> Result<Response, PortalError> {
    me.require(Area::Security)?;
    render(&state, &me, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
struct IntervalForm {
    #[serde(default)]
    days: String,
}

/// `POST /portal/security/interval`: the user's own 2FA interval.
async fn set_interval(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<IntervalForm>,
) -> Result<Response, PortalError> {
    let lang = me.lang;
    let Some(days) = parse_days(&form.form.days) else {
        let error = FormError::Interval(i18n::t(lang, "int_interval_invalid").to_owned());
        return render(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await;
    };
    let login = me.user.login.as_str();
    let caller = state.api.acting(login);
    let before = caller.user(login).await?.interval_days;
    #[derive(Serialize)]
    struct Body {
        days: u32,
    }
    caller
        .put::<_, serde_json::Value>(
            &format!("/api/v1/users/{}/interval", seg(login)),
            &Body { days },
        )
        .await?;
    let key = if before == days {
        "sec_interval_unchanged"
    } else {
        "sec_interval_saved"
    };
    let text = i18n::tf(lang, key, &[("interval", &interval_label(lang, days))]);
    tracing::info!(user = %login, days, "portal: own 2FA interval set");
    done(&state, &form.session, text, "/portal/security")
}

/// The password form. Kept out of `Debug` and wiped when dropped.
#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

impl Drop for PasswordForm {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.current.zeroize();
        self.new.zeroize();
        self.repeat.zeroize();
    }
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordForm { .. }")
    }
}

/// `POST /portal/security/password`: the user's own password, with the
/// current one. The service counts wrong current passwords like wrong
/// logins and revokes the trusted browsers on a change.
async fn change_password(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<PasswordForm>,
) -> Result<Response, PortalError> {
    let lang = me.lang;
    let f = &form.form;
    let refused =
        |key: &'static str, field| Some(FormError::Password(i18n::t(lang, key).to_owned(), field));
    let problem = if f.current.is_empty() {
        refused("sec_pw_current_missing", "current")
    } else if !(8..=256).contains(&f.new.chars().count()) {
        refused("sec_pw_length", "new")
    } else if f.new != f.repeat {
        refused("sec_pw_mismatch", "repeat")
    } else {
        None
    };
    if problem.is_some() {
        return render(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, problem).await;
    }
    let login = me.user.login.as_str();
    let changed = state
        .api
        .acting(login)
        .change_own_password(login, &f.current, &f.new)
        .await;
    let error = match changed {
        Ok(()) => {
            let ended = state.store.end_sessions_of(login, &form.session.id_hash)?;
            tracing::info!(user = %login, other_sessions_ended = ended, "portal: own password changed");
            let text = i18n::t(lang, "sec_pw_changed").to_owned();
            return done(&state, &form.session, text, "/portal/security");
        }
        Err(e) => match e.problem() {
            Some(p) if p.slug == "credentials-invalid" => {
                FormError::Password(i18n::t(lang, "sec_pw_current_wrong").to_owned(), "current")
            }
            Some(p) if p.slug == "too-many-attempts" => {
                let minutes = p.retry_after.unwrap_or(60).div_ceil(60).to_string();
                let text = i18n::tf(lang, "sec_pw_too_many", &[("minutes", &minutes)]);
                FormError::Password(text, "current")
            }
            Some(p) if p.slug == "validation-failed" => {
                FormError::Password(i18n::t(lang, "sec_pw_length").to_owned(), "new")
            }
            _ => return Err(e.into()),
        },
    };
    render(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
}

/// `GET /portal/security/devices/{id}/remove`: asks before removing.
async fn confirm_remove(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let login = me.user.login.as_str();
    let device = own_device(&state.api.acting(login), login, &id).await?;
    let lang = me.lang;
    Ok(state.page(
        &me.view(Area::Security),
        "security_remove.html",
        context! {
            device => context! {
                id => device.id,
                name => device.name,
                platform => platform_label(&device.platform),
                enrolled => when(lang, device.enrolled_at),
            },
        },
    ))
}

/// `POST /portal/security/devices/{id}/remove`.
async fn remove_device(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(id): Path<String>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    let login = me.user.login.as_str();
    let caller = state.api.acting(login);
    let name = own_device(&caller, login, &id).await?.name;
    caller
        .delete(&format!("{}/{}", devices_path(login), seg(&id)))
        .await?;
    tracing::info!(user = %login, device = %id, "portal: device removed by its user");
    let text = i18n::tf(me.lang, "sec_device_removed", &[("name", &name)]);
    done(&state, &form.session, text, "/portal/security")
}

/// `POST /portal/security/browsers/{id}/revoke`.
async fn revoke_browser(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(id): Path<String>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    if !plausible_id(&id) {
        return Err(PortalError::NotFound);
    }
    let login = me.user.login.as_str();
    state
        .api
        .acting(login)
        .delete(&format!("{}/{}", browsers_path(login), seg(&id)))
        .await?;
    let text = i18n::t(me.lang, "sec_browser_revoked").to_owned();
    done(&state, &form.session, text, "/portal/security")
}

/// `POST /portal/security/browsers/revoke-all`.
async fn revoke_all_browsers(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    #[derive(Deserialize)]
    struct Revoked {
        revoked: u64,
    }
    let login = me.user.login.as_str();
    let r: Revoked = state
        .api
        .acting(login)
        .send::<(), _>(reqwest::Method::DELETE, &browsers_path(login), None)
        .await?;
    let text = i18n::tf(
        me.lang,
        "sec_browsers_revoked_all",
        &[("n", &r.revoked.to_string())],
    );
    done(&state, &form.session, text, "/portal/security")
}

/// The texts of "Meine Sicherheit".
pub const TEXTS: &[i18n::Text] = &[
    ("sec_title", "Meine Sicherheit", "My security"),
    ("sec_pw", "Passwort", "Password"),
    (
        "sec_pw_intro",
        "Ändern Sie Ihr Passwort mit dem bisherigen. Danach fragt jeder Browser wieder nach dem zweiten Faktor.",
        "Change your password with the current one. Afterwards every browser asks for the second factor again.",
    ),
    ("sec_pw_current", "Bisheriges Passwort", "Current password"),
    ("sec_pw_new", "Neues Passwort", "New password"),
    (
        "sec_pw_new_hint",
        "8 bis 256 Zeichen.",
        "8 to 256 characters.",
    ),
    (
        "sec_pw_repeat",
        "Neues Passwort wiederholen",
        "Repeat the new password",
    ),
    ("sec_pw_save", "Passwort ändern", "Change password"),
    (
        "sec_pw_changed",
        "Ihr Passwort wurde geändert. Anmeldungen in anderen Browsern sind beendet, und jeder Browser fragt wieder nach dem zweiten Faktor.",
        "Your password has been changed. Logins in other browsers have ended, and every browser asks for the second factor again.",
    ),
    (
        "sec_pw_current_missing",
        "Bitte geben Sie Ihr bisheriges Passwort ein.",
        "Please enter your current password.",
    ),
    (
        "sec_pw_current_wrong",
        "Das bisherige Passwort stimmt nicht. Ihr Passwort wurde nicht geändert.",
        "The current password is not right. Your password was not changed.",
    ),
    (
        "sec_pw_length",
        "Das neue Passwort muss 8 bis 256 Zeichen lang sein.",
        "The new password must be 8 to 256 characters long.",
    ),
    (
        "sec_pw_mismatch",
        "Die beiden neuen Passwörter stimmen nicht überein.",
        "The two new passwords do not match.",
    ),
    (
        "sec_pw_too_many",
        "Zu viele falsche Passwörter. Bitte versuchen Sie es in {minutes} Minuten erneut.",
        "Too many wrong passwords. Please try again in {minutes} minutes.",
    ),
    (
        "sec_intro",
        "Hier sehen Sie, womit Sie sich anmelden, wie oft nach dem zweiten Faktor gefragt wird und wann Sie sich zuletzt angemeldet haben.",
        "See what you log in with, how often the second factor is asked for, and when you last logged in.",
    ),
    ("sec_devices", "Meine Geräte", "My devices"),
    (
        "sec_devices_intro",
        "Geräte mit der Ident-App, die Ihre Anmeldungen bestätigen können.",
        "Devices with the Ident app that can confirm your logins.",
    ),
    ("sec_device_name", "Name", "Name"),
    ("sec_device_platform", "System", "Platform"),
    ("sec_device_enrolled", "Eingerichtet", "Set up"),
    ("sec_device_last_used", "Zuletzt benutzt", "Last used"),
    ("sec_device_remove", "Entfernen", "Remove"),
    (
        "sec_device_remove_label",
        "Gerät „{name}“ entfernen",
        "Remove device “{name}”",
    ),
    (
        "sec_no_devices",
        "Sie haben noch kein Gerät mit der Ident-App eingerichtet.",
        "You have not set up a device with the Ident app yet.",
    ),
    (
        "sec_no_devices_sms",
        "Bis dahin erhalten Sie Ihren Anmeldecode per SMS.",
        "Until then you get your login code by SMS.",
    ),
    ("sec_setup_link", "App einrichten", "Set up the app"),
    (
        "sec_remove_title",
        "Gerät entfernen?",
        "Remove this device?",
    ),
    (
        "sec_remove_text",
        "Dieses Gerät kann danach keine Anmeldungen mehr bestätigen. Wenn es Ihr einziges Gerät ist, erhalten Sie Ihren Code künftig per SMS, bis Sie die App neu einrichten.",
        "This device will no longer be able to confirm logins. If it is your only device, you will get your code by SMS until you set up the app again.",
    ),
    (
        "sec_remove_confirm",
        "Ja, Gerät entfernen",
        "Yes, remove the device",
    ),
    (
        "sec_device_removed",
        "Das Gerät „{name}“ wurde entfernt.",
        "The device “{name}” was removed.",
    ),
    (
        "sec_interval",
        "2FA Intervall ändern",
        "Change the 2FA interval",
    ),
    (
        "sec_interval_now",
        "Zurzeit: {interval}",
        "Currently: {interval}",
    ),
    (
        "sec_interval_explain",
        "Nach einer bestätigten Anmeldung merkt sich das Portal diesen Browser. Innerhalb des Intervalls fragt es dort nicht erneut nach dem zweiten Faktor (App oder SMS-Code). „Immer“ bedeutet: bei jeder Anmeldung.",
        "After a confirmed login the portal remembers this browser. Within the interval it does not ask for the second factor (app or SMS code) again in that browser. “Always” means: at every login.",
    ),
    (
        "sec_interval_effect",
        "Eine Änderung meldet alle vertrauenswürdigen Browser ab; beim nächsten Mal wird wieder nach dem zweiten Faktor gefragt.",
        "A change signs out all trusted browsers; the next login asks for the second factor again.",
    ),
    (
        "sec_interval_label",
        "Nach dem zweiten Faktor fragen",
        "Ask for the second factor",
    ),
    ("sec_interval_save", "Intervall speichern", "Save interval"),
    (
        "sec_interval_saved",
        "Ihr 2FA-Intervall ist jetzt: {interval}. Ihre vertrauenswürdigen Browser wurden abgemeldet.",
        "Your 2FA interval is now: {interval}. Your trusted browsers were signed out.",
    ),
    (
        "sec_interval_unchanged",
        "Ihr 2FA-Intervall bleibt: {interval}.",
        "Your 2FA interval stays: {interval}.",
    ),
    (
        "sec_browsers",
        "Vertrauenswürdige Browser",
        "Trusted browsers",
    ),
    (
        "sec_browsers_intro",
        "In diesen Browsern werden Sie bis zum angegebenen Zeitpunkt ohne zweiten Faktor angemeldet.",
        "In these browsers you are logged in without the second factor until the time shown.",
    ),
    ("sec_browser", "Browser", "Browser"),
    ("sec_browser_ip", "IP-Adresse", "IP address"),
    ("sec_browser_since", "Seit", "Since"),
    ("sec_browser_until", "Gültig bis", "Valid until"),
    ("sec_browser_revoke", "Widerrufen", "Revoke"),
    (
        "sec_browser_revoke_label",
        "Vertrauen für {browser} widerrufen",
        "Revoke trust for {browser}",
    ),
    (
        "sec_browser_unknown",
        "Unbekannter Browser",
        "Unknown browser",
    ),
    ("sec_browsers_revoke_all", "Alle widerrufen", "Revoke all"),
    (
        "sec_no_browsers",
        "Zurzeit ist kein Browser vertrauenswürdig.",
        "No browser is trusted at the moment.",
    ),
    (
        "sec_browser_revoked",
        "Der Browser ist nicht mehr vertrauenswürdig.",
        "The browser is no longer trusted.",
    ),
    (
        "sec_browsers_revoked_all",
        "Vertrauen widerrufen: {n} Browser.",
        "Trust revoked: {n} browsers.",
    ),
    ("sec_signins", "Letzte Anmeldungen", "Recent sign-ins"),
    (
        "sec_signins_intro",
        "Kennen Sie eine Anmeldung nicht? Ändern Sie Ihr Passwort und lehnen Sie unbekannte Anfragen in der App mit „Das war ich nicht“ ab.",
        "Don't recognise a sign-in? Change your password and deny unknown requests in the app with “This was not me”.",
    ),
    ("sec_signin_time", "Zeitpunkt", "Time"),
    ("sec_signin_method", "Verfahren", "Method"),
    ("sec_signin_result", "Ergebnis", "Result"),
    ("sec_signin_ip", "IP-Adresse", "IP address"),
    ("sec_method_push", "Ident-App", "Ident app"),
    ("sec_method_sms", "SMS-Code", "SMS code"),
    (
        "sec_method_trusted",
        "Vertrauenswürdiger Browser",
        "Trusted browser",
    ),
    ("sec_result_approved", "Bestätigt", "Approved"),
    ("sec_result_denied", "Abgelehnt", "Denied"),
    ("sec_result_locked", "Gesperrt", "Locked"),
    ("sec_result_cancelled", "Abgebrochen", "Cancelled"),
    ("sec_result_open", "Nicht bestätigt", "Not confirmed"),
    (
        "sec_no_signins",
        "Noch keine Anmeldungen mit zweitem Faktor.",
        "No logins with a second factor yet.",
    ),
    (
        "sec_push_locked",
        "Anmeldungen per App sind für Sie gesperrt. Sie erhalten Ihren Code per SMS, bis Ihr Vermittler die Sperre aufhebt.",
        "Logins with the app are locked for you. You get your code by SMS until your broker lifts the lock.",
    ),
    (
        "sec_push_locked_broker",
        "Anmeldungen per App sind für Sie gesperrt. Sie erhalten Ihren Code per SMS, bis der Support die Sperre aufhebt.",
        "Logins with the app are locked for you. You get your code by SMS until the support lifts the lock.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(at: i64, action: &str, detail: serde_json::Value) -> AuditEntry {
        AuditEntry {
            at,
            action: action.into(),
            detail,
        }
    }

    #[test]
    fn sign_ins_pair_starts_with_decisions() {
        // newest first, as the API answers
        let entries = vec![
            entry(70, "auth.withdrawn", json!({"txn": "t6", "method": "push"})),
            entry(
                65,
                "auth.started",
                json!({"txn": "t6", "method": "push", "ip": "192.0.2.6"}),
            ),
            entry(
                60,
                "auth.started",
                json!({"txn": "t5", "method": "push", "ip": "192.0.2.5"}),
            ),
            entry(
                50,
                "challenge.answered",
                json!({"txn": "t4", "status": "denied"}),
            ),
            entry(
                49,
                "auth.started",
                json!({"txn": "t4", "method": "push", "ip": "192.0.2.4"}),
            ),
            entry(40, "auth.sms_approved", json!({"txn": "t3"})),
            entry(39, "sms.sent", json!({"txn": "t3"})),
            entry(
                38,
                "auth.started",
                json!({"txn": "t3", "method": "sms", "ip": "192.0.2.3"}),
            ),
            entry(
                30,
                "auth.started",
                json!({"txn": "t2", "method": "trusted", "ip": ""}),
            ),
            entry(
                20,
                "challenge.answered",
                json!({"txn": "t1", "status": "approved"}),
            ),
            entry(
                10,
                "auth.started",
                json!({"txn": "t1", "method": "push", "ip": "192.0.2.1"}),
            ),
            entry(5, "phone.changed", json!({})),
        ];
        let list = sign_ins(&entries, 10);
        let got: Vec<(i64, &str, SignInResult, Option<&str>)> = list
            .iter()
            .map(|s| (s.at, s.method.as_str(), s.result, s.ip.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (65, "push", SignInResult::Cancelled, Some("192.0.2.6")),
                (60, "push", SignInResult::Open, Some("192.0.2.5")),
                (49, "push", SignInResult::Denied, Some("192.0.2.4")),
                (38, "sms", SignInResult::Approved, Some("192.0.2.3")),
                (30, "trusted", SignInResult::Approved, None),
                (10, "push", SignInResult::Approved, Some("192.0.2.1")),
            ]
        );
        assert_eq!(sign_ins(&entries, 2).len(), 2);
        // the transaction ids stay on the server
        assert!(!format!("{list:?}").contains("t1"));
    }

    #[test]
    fn labels() {
        assert_eq!(platform_label("ios"), "iPhone / iPad");
        assert_eq!(
            browser_label(
                Lang::De,
                "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
            ),
            "Firefox · Linux"
        );
        assert_eq!(
            browser_label(
                Lang::De,
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0"
            ),
            "Edge · Windows"
        );
        assert_eq!(browser_label(Lang::En, ""), "Unknown browser");
        assert_eq!(browser_label(Lang::En, "curl/8.0"), "curl/8.0");
    }
}
