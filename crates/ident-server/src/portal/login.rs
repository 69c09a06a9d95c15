//! The platform login: password, then the second factor through the API.
//!
//! 1. `POST /portal/login` checks the password (`POST /api/v1/login/password`);
//!    a wrong password and an unknown login get the same sentence. The
//!    session gets a new id.
//! 2. The second factor starts at once with `method: auto`, the browser's IP
//!    and user agent, and the trusted-browser cookie if there is one. The
//!    service answers `trusted` (in at once), `push` (the wait page with the
//!    number) or `sms` (the code page); `phone-missing` means neither is
//!    possible and the page says who can fix it.
//! 3. Once approved, the session gets a new id again and becomes logged in;
//!    a trust token that came with the approval goes into a long-lived
//!    HttpOnly cookie so the next login from this browser can skip step 2
//!    within the user's 2FA interval.
//!
//! The wait page polls `/portal/login/push/status`, which long-polls
//! `GET /api/v1/auth/{txn}?wait=…`; without JavaScript the page itself reads
//! the status and offers a "Status prüfen" button. The transaction id never
//! leaves the server.
//!
//! A login the user leaves is withdrawn (`DELETE /api/v1/auth/{txn}`):
//! "Abbrechen" withdraws it, and switching to (or resending) an SMS code
//! withdraws the previous one once the new one has started. Otherwise the
//! request would stay on the phone until it expires, and three of them block
//! the next login (the open-login limit).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

use super::PortalState;
use super::api::{AuthState, BrowserContext, RequestedMethod, StartAuth, StartedMethod};
use super::csrf::CsrfForm;
use super::error::PortalError;
use super::i18n::{self, Lang};
use super::render::View;
use super::session::{
    COOKIE, Factor, MaybeSession, PendingAuth, PortalUser, Session, SessionData, Stage,
    TRUST_COOKIE, Txn,
};
use crate::domain::Role;

/// How long the status endpoint holds a poll (the browser asks again).
pub const POLL_WAIT_SECS: u32 = 25;

/// The routes of the login.
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/login", get(login_page).post(login_submit))
        .route("/portal/login/push", get(push_page))
        .route("/portal/login/push/status", get(push_status))
        .route("/portal/login/sms", get(sms_page).post(sms_submit))
        .route("/portal/login/sms/send", post(sms_send))
        .route("/portal/login/no-factor", get(no_factor_page))
        .route("/portal/login/cancel", post(cancel))
        .route("/portal/logout", post(logout))
}

/// The browser as the device will show it: its IP address (the
/// connection's, or the one a trusted reverse proxy names: see
/// [`super::client_ip`]) and the user agent (cut to 512 characters).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The peer's address.
    pub ip: IpAddr,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl FromRequestParts<PortalState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
        let ip = state.config.trusted_proxies.client_ip(peer, &parts.headers);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(512)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self { ip, user_agent })
    }
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    bye: Option<String>,
}

/// The login form.
struct LoginForm<'a> {
    session: &'a Session,
    lang: Lang,
    login: &'a str,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn login_form(state: &PortalState, status: StatusCode, f: LoginForm<'_>) -> Response {
    state.page_at(
        status,
        &View::anonymous(f.lang, Some(&f.session.csrf)),
        "/portal/login",
        "login.html",
        context! {
            login_value => f.login,
            error => f.error,
            notice => f.notice.map(|k| i18n::t(f.lang, k)),
        },
    )
}

/// `GET /portal/login`.
async fn login_page(
    State(state): State<PortalState>,
    MaybeSession { session, lang, jar }: MaybeSession,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PortalError> {
    if session.as_ref().and_then(Session::user).is_some() {
        return Ok(Redirect::to("/portal/").into_response());
    }
    let (session, jar) = match session {
        Some(s) => (s, jar),
        None => {
            let (s, cookie) = state.create_session(SessionData::at(Stage::Anonymous))?;
            (s, jar.add(cookie))
        }
    };
    let page = login_form(
        &state,
        StatusCode::OK,
        LoginForm {
            session: &session,
            lang,
            login: "",
            error: None,
            notice: q.bye.map(|_| "logged_out"),
        },
    );
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// `POST /portal/login`: the password.
async fn login_submit(
    State(state): State<PortalState>,
    client: ClientInfo,
    jar: CookieJar,
    CsrfForm {
        session,
        lang,
        form,
    }: CsrfForm<PasswordForm>,
) -> Result<Response, PortalError> {
    let password = zeroize::Zeroizing::new(form.password);
    let login = form.login.trim();
    let refuse = |status, error: String| {
        Ok(login_form(
            &state,
            status,
            LoginForm {
                session: &session,
                lang,
                login,
                error: Some(error),
                notice: None,
            },
        ))
    };
    if login.is_empty() || password.is_empty() || login.len() > 254 || password.len() > 1024 {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::t(lang, "login_missing").into(),
        );
    }
    let user = match state.api.check_password(login, &password).await {
        Ok(user) => user,
        Err(e) => {
            return match e.slug() {
                Some("credentials-invalid" | "not-found" | "validation-failed" | "bad-request") => {
                    refuse(
                        StatusCode::UNAUTHORIZED,
                        i18n::t(lang, "login_wrong").into(),
                    )
                }
                Some("too-many-attempts") => {
                    let secs = e.problem().and_then(|p| p.retry_after).unwrap_or(900);
                    let minutes = secs.div_ceil(60).max(1).to_string();
                    refuse(
                        StatusCode::TOO_MANY_REQUESTS,
                        i18n::tf(lang, "login_too_many", &[("minutes", &minutes)]),
                    )
                }
                _ => {
                    tracing::warn!(error = %e, "portal: the password check failed");
                    refuse(
                        StatusCode::SERVICE_UNAVAILABLE,
                        i18n::t(lang, "login_unavailable").into(),
                    )
                }
            };
        }
    };
    let data = SessionData::at(Stage::SecondFactor {
        user: PortalUser::from(&user),
        phone_hint: user.phone.as_deref().map(super::internal::phone_masked),
        pending: None,
    });
    let Some((session, cookie)) = state.rotate_session(&session, data, true)? else {
        return Err(PortalError::Csrf);
    };
    start_factor(
        &state,
        jar.add(cookie),
        session,
        lang,
        &client,
        RequestedMethod::Auto,
    )
    .await
}

/// Starts the second factor for a session past the password and sends the
/// browser to its page.
async fn start_factor(
    state: &PortalState,
    jar: CookieJar,
    mut session: Session,
    lang: Lang,
    client: &ClientInfo,
    method: RequestedMethod,
) -> Result<Response, PortalError> {
    let Stage::SecondFactor { user, .. } = &session.data.stage else {
        return Ok((jar, Redirect::to("/portal/login")).into_response());
    };
    let trust_token = match method {
        RequestedMethod::Auto => jar.get(TRUST_COOKIE).map(|c| c.value().to_owned()),
        _ => None,
    };
    let request = StartAuth {
        login: &user.login,
        method,
        context: BrowserContext {
            ip: client.ip.to_string(),
            user_agent: &client.user_agent,
        },
        trust_token: trust_token.as_deref(),
    };
    let previous = match &session.data.stage {
        Stage::SecondFactor {
            pending: Some(p), ..
        } => Some(p.txn.0.clone()),
        _ => None,
    };
    let started = match state.api.start_auth(&request).await {
        Ok(started) => started,
        Err(e) => {
            let problem = e.problem().cloned();
            let minutes = problem
                .as_ref()
                .and_then(|p| p.retry_after)
                .unwrap_or(3600)
                .div_ceil(60)
                .max(1)
                .to_string();
            let (status, error) = match e.slug() {
                Some("phone-missing" | "no-device") => {
                    return Ok((jar, Redirect::to("/portal/login/no-factor")).into_response());
                }
                Some("too-many-challenges") => (
                    StatusCode::TOO_MANY_REQUESTS,
                    i18n::t(lang, "too_many_open").to_owned(),
                ),
                Some("rate-limited") => (
                    StatusCode::TOO_MANY_REQUESTS,
                    i18n::tf(lang, "sms_rate_limited", &[("minutes", &minutes)]),
                ),
                Some("sms-gateway-failed") => (
                    StatusCode::BAD_GATEWAY,
                    i18n::t(lang, "sms_send_failed").to_owned(),
                ),
                Some("push-locked") => {
                    (StatusCode::LOCKED, i18n::t(lang, "push_locked").to_owned())
                }
                _ => return Err(e.into()),
            };
            let page = login_form(
                state,
                status,
                LoginForm {
                    session: &session,
                    lang,
                    login: &user.login,
                    error: Some(error),
                    notice: None,
                },
            );
            return Ok((jar, page).into_response());
        }
    };
    // The new factor is on its way: the one it replaces is withdrawn, so the
    // phone drops its request (kept until now in case the new one failed).
    if let Some(previous) = previous.filter(|p| *p != started.txn) {
        withdraw(state, &previous).await;
    }
    let factor = match started.method {
        StartedMethod::Trusted => return complete(state, jar, &session, None),
        StartedMethod::Push => Factor::Push,
        StartedMethod::Sms => Factor::Sms,
    };
    if let Stage::SecondFactor { pending, .. } = &mut session.data.stage {
        *pending = Some(PendingAuth {
            txn: Txn(started.txn),
            factor,
            number: started.number,
            expires_at: started.expires_at,
        });
    }
    state.save_session(&session)?;
    let next = match factor {
        Factor::Push => "/portal/login/push",
        Factor::Sms => "/portal/login/sms",
    };
    Ok((jar, Redirect::to(next)).into_response())
}

/// Logs the session's user in: a new session id, the trust cookie if the
/// approval brought a token. `None` when another request did it first.
fn finish_login(
    state: &PortalState,
    jar: CookieJar,
    session: &Session,
    trust_token: Option<&str>,
) -> Result<Option<CookieJar>, PortalError> {
    let Stage::SecondFactor { user, .. } = &session.data.stage else {
        return Ok(None);
    };
    let data = SessionData::at(Stage::LoggedIn { user: user.clone() });
    let Some((_, cookie)) = state.rotate_session(session, data, false)? else {
        return Ok(None);
    };
    let mut jar = jar.add(cookie);
    if let Some(token) = trust_token {
        jar = jar.add(state.trust_cookie(token));
    }
    tracing::info!(login = %user.login, "portal: logged in");
    Ok(Some(jar))
}

/// [`finish_login`], then on to the overview.
fn complete(
    state: &PortalState,
    jar: CookieJar,
    session: &Session,
    trust_token: Option<&str>,
) -> Result<Response, PortalError> {
    match finish_login(state, jar.clone(), session, trust_token)? {
        Some(jar) => Ok((jar, Redirect::to("/portal/")).into_response()),
        None => Ok((jar, Redirect::to("/portal/login")).into_response()),
    }
}

/// The session's pending second factor of kind `factor`, or where to go instead.
fn pending_of(
    session: Option<&Session>,
    factor: Factor,
) -> Result<(&PortalUser, &PendingAuth, Option<&str>), &'static str> {
    let Some(session) = session else {
        return Err("/portal/login");
    };
    match &session.data.stage {
        Stage::LoggedIn { .. } => Err("/portal/"),
        Stage::SecondFactor {
            user,
            phone_hint,
            pending: Some(p),
        } => {
            if p.factor == factor {
                Ok((user, p, phone_hint.as_deref()))
            } else {
                Err(match p.factor {
                    Factor::Push => "/portal/login/push",
                    Factor::Sms => "/portal/login/sms",
                })
            }
        }
        _ => Err("/portal/login"),
    }
}

/// The wait page's state word for a login state.
fn state_word(s: AuthState) -> &'static str {
    match s {
        AuthState::Pending => "pending",
        AuthState::Approved => "approved",
        AuthState::Denied => "denied",
        AuthState::Expired => "expired",
        AuthState::Locked => "locked",
        AuthState::Withdrawn => "withdrawn",
    }
}

/// Withdraws the login `txn` (best effort: a login that is already decided
/// or gone needs nothing, and a failure only leaves the request on the phone
/// until it expires, so it is logged, not shown).
async fn withdraw(state: &PortalState, txn: &str) {
    match state.api.withdraw_auth(txn).await {
        Ok(_) => {}
        Err(e) if matches!(e.slug(), Some("auth-decided" | "not-found")) => {}
        Err(e) => tracing::warn!(error = %e, "portal: withdrawing a login failed"),
    }
}

/// `GET /portal/login/push`: the number, the countdown, the live status.
async fn push_page(
    State(state): State<PortalState>,
    MaybeSession { session, lang, jar }: MaybeSession,
) -> Result<Response, PortalError> {
    let (pending, has_phone) = match pending_of(session.as_ref(), Factor::Push) {
        Ok((_, p, phone)) => (p.clone(), phone.is_some()),
        Err(next) => return Ok(Redirect::to(next).into_response()),
    };
    let Some(session) = session else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    let status = match state.api.auth_status(&pending.txn.0, 0).await {
        Ok(s) => s,
        Err(e) if e.slug() == Some("not-found") => super::api::AuthStatus {
            status: AuthState::Expired,
            expires_at: pending.expires_at,
            trust_token: None,
        },
        Err(e) => return Err(e.into()),
    };
    if status.status == AuthState::Approved {
        return complete(&state, jar, &session, status.trust_token.as_deref());
    }
    let remaining = (pending.expires_at - state.now()).max(0);
    let page = state.page_at(
        StatusCode::OK,
        &View::anonymous(lang, Some(&session.csrf)),
        "/portal/login/push",
        "push.html",
        context! {
            state => state_word(status.status),
            number => pending.number.unwrap_or_default(),
            remaining => remaining,
            remaining_text => format!("{}:{:02}", remaining / 60, remaining % 60),
            can_sms => has_phone,
        },
    );
    Ok(page)
}

/// `GET /portal/login/push/status`: JSON for the wait page's script,
/// `{status, next?}`; holds up to [`POLL_WAIT_SECS`] while pending. On
/// approval the session is logged in right here (its cookie is in this
/// response) and `next` is the overview.
async fn push_status(
    State(state): State<PortalState>,
    MaybeSession { session, jar, .. }: MaybeSession,
) -> Result<Response, PortalError> {
    let gone = || Json(json!({"status": "gone", "next": "/portal/login"})).into_response();
    let txn = match pending_of(session.as_ref(), Factor::Push) {
        Ok((_, p, _)) => p.txn.0.clone(),
        Err("/portal/") => {
            return Ok(Json(json!({"status": "approved", "next": "/portal/"})).into_response());
        }
        Err(_) => return Ok(gone()),
    };
    let Some(session) = session else {
        return Ok(gone());
    };
    let status = match state.api.auth_status(&txn, POLL_WAIT_SECS).await {
        Ok(s) => s,
        Err(e) if e.slug() == Some("not-found") => {
            return Ok(Json(json!({"status": "expired"})).into_response());
        }
        Err(e) => {
            tracing::warn!(error = %e, "portal: reading a login status failed");
            return Ok((StatusCode::BAD_GATEWAY, Json(json!({"status": "error"}))).into_response());
        }
    };
    if status.status == AuthState::Approved {
        return Ok(
            match finish_login(&state, jar.clone(), &session, status.trust_token.as_deref())? {
                Some(jar) => {
                    (jar, Json(json!({"status": "approved", "next": "/portal/"}))).into_response()
                }
                None => gone(),
            },
        );
    }
    Ok(Json(json!({"status": state_word(status.status)})).into_response())
}

#[derive(Deserialize)]
struct NoFields {}

/// `POST /portal/login/sms/send`: switch to (or resend) an SMS code.
async fn sms_send(
    State(state): State<PortalState>,
    client: ClientInfo,
    jar: CookieJar,
    CsrfForm { session, lang, .. }: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    if !matches!(session.data.stage, Stage::SecondFactor { .. }) {
        return Ok(Redirect::to("/portal/login").into_response());
    }
    start_factor(&state, jar, session, lang, &client, RequestedMethod::Sms).await
}

struct SmsForm<'a> {
    session: &'a Session,
    lang: Lang,
    phone: Option<&'a str>,
    error: Option<String>,
    resend: bool,
}

fn sms_form(state: &PortalState, status: StatusCode, f: SmsForm<'_>) -> Response {
    state.page_at(
        status,
        &View::anonymous(f.lang, Some(&f.session.csrf)),
        "/portal/login/sms",
        "sms.html",
        context! {
            phone => f.phone.unwrap_or("•••"),
            error => f.error,
            resend => f.resend,
        },
    )
}

/// `GET /portal/login/sms`: the code form.
async fn sms_page(
    State(state): State<PortalState>,
    MaybeSession { session, lang, .. }: MaybeSession,
) -> Result<Response, PortalError> {
    let phone = match pending_of(session.as_ref(), Factor::Sms) {
        Ok((_, _, phone)) => phone.map(str::to_owned),
        Err(next) => return Ok(Redirect::to(next).into_response()),
    };
    let Some(session) = session else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    Ok(sms_form(
        &state,
        StatusCode::OK,
        SmsForm {
            session: &session,
            lang,
            phone: phone.as_deref(),
            error: None,
            resend: false,
        },
    ))
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /portal/login/sms`: check the code.
async fn sms_submit(
    State(state): State<PortalState>,
    jar: CookieJar,
    CsrfForm {
        session,
        lang,
        form,
    }: CsrfForm<CodeForm>,
) -> Result<Response, PortalError> {
    let (txn, phone) = match pending_of(Some(&session), Factor::Sms) {
        Ok((_, p, phone)) => (p.txn.0.clone(), phone.map(str::to_owned)),
        Err(next) => return Ok(Redirect::to(next).into_response()),
    };
    let refuse = |status, error: String, resend: bool| {
        Ok(sms_form(
            &state,
            status,
            SmsForm {
                session: &session,
                lang,
                phone: phone.as_deref(),
                error: Some(error),
                resend,
            },
        ))
    };
    let code = zeroize::Zeroizing::new(
        form.code
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    );
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::t(lang, "sms_malformed").into(),
            false,
        );
    }
    match state.api.submit_sms(&txn, &code).await {
        Ok(s) if s.status == AuthState::Approved => {
            complete(&state, jar, &session, s.trust_token.as_deref())
        }
        Ok(_) => refuse(
            StatusCode::BAD_REQUEST,
            i18n::t(lang, "sms_expired").into(),
            true,
        ),
        Err(e) => match e.slug() {
            Some("sms-code-invalid") => {
                let tries = e.problem().and_then(|p| p.tries_left);
                let text = match tries {
                    Some(1) => i18n::t(lang, "sms_wrong_one").to_owned(),
                    Some(n) => i18n::tf(lang, "sms_wrong", &[("tries", &n.to_string())]),
                    None => i18n::t(lang, "login_wrong").to_owned(),
                };
                refuse(StatusCode::BAD_REQUEST, text, false)
            }
            Some("sms-code-malformed") => refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                i18n::t(lang, "sms_malformed").into(),
                false,
            ),
            Some("sms-code-expired") => refuse(
                StatusCode::BAD_REQUEST,
                i18n::t(lang, "sms_expired").into(),
                true,
            ),
            Some("auth-decided" | "not-found" | "not-sms") => refuse(
                StatusCode::CONFLICT,
                i18n::t(lang, "sms_decided").into(),
                false,
            ),
            _ => Err(e.into()),
        },
    }
}

/// `GET /portal/login/no-factor`: no device and no number.
async fn no_factor_page(
    State(state): State<PortalState>,
    MaybeSession { session, lang, .. }: MaybeSession,
) -> Result<Response, PortalError> {
    let Some(session) = session else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    let Stage::SecondFactor { user, .. } = &session.data.stage else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    let advice = match user.role {
        Role::Customer => "no_factor_customer",
        Role::Employee | Role::SubBroker => "no_factor_staff",
        Role::Broker => "no_factor_broker",
    };
    Ok(state.page_at(
        StatusCode::OK,
        &View::anonymous(lang, Some(&session.csrf)),
        "/portal/login/no-factor",
        "no_factor.html",
        context! { advice => i18n::t(lang, advice) },
    ))
}

/// `POST /portal/login/cancel`: withdraws the pending login, if any, and
/// goes back to the start (a new anonymous session).
async fn cancel(
    State(state): State<PortalState>,
    jar: CookieJar,
    CsrfForm { session, .. }: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    if let Stage::SecondFactor {
        pending: Some(p), ..
    } = &session.data.stage
    {
        withdraw(&state, &p.txn.0).await;
    }
    let jar = match state.rotate_session(&session, SessionData::at(Stage::Anonymous), true)? {
        Some((_, cookie)) => jar.add(cookie),
        None => jar,
    };
    Ok((jar, Redirect::to("/portal/login")).into_response())
}

/// `POST /portal/logout`.
async fn logout(
    State(state): State<PortalState>,
    jar: CookieJar,
    CsrfForm { session, .. }: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    state.end_session(&session)?;
    let gone = Cookie::build((COOKIE, ""))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    Ok((jar.add(gone), Redirect::to("/portal/login?bye=1")).into_response())
}
