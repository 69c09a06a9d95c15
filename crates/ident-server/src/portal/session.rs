//! Server-side sessions and the extractors built on them.
//!
//! A session id is 256 random bits from `ring::rand`, sent to the browser in
//! the `__Host-portal-session` cookie (Secure, HttpOnly, SameSite=Lax, Path=/:
//! no script reads it, no other site's form sends it along, no subdomain can
//! set it) and stored only as its SHA-256 in the portal database. A session
//! lives 30 minutes without a request and 12 hours at most. Every browser gets
//! one before logging in, so the login forms have a CSRF token too; the id
//! changes after the password and again after the second factor (no session
//! fixation: an id known before a step is worthless after it).
//!
//! Pages of the internal area take [`LoggedIn`]: the user who passed both
//! factors, with login, display name, role and broker. Without it the browser
//! is sent to the login page.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use ident_core::jose::b64;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::csrf::CsrfToken;
use super::error::PortalError;
use super::i18n::Lang;
use super::store::SessionRow;
use super::{Area, PortalState};
use crate::domain::Role;

/// The session cookie.
pub const COOKIE: &str = "__Host-portal-session";
/// The trusted-browser cookie (the service's trust token, long-lived).
pub const TRUST_COOKIE: &str = "__Host-portal-trust";
/// A session ends after this many seconds without a request.
pub const IDLE_SECS: i64 = 30 * 60;
/// A session ends this many seconds after its login started, whatever happens.
pub const ABSOLUTE_SECS: i64 = 12 * 60 * 60;
/// How long the trusted-browser cookie is kept (the longest 2FA interval;
/// the service decides whether the token inside is still good).
pub const TRUST_COOKIE_SECS: i64 = 90 * 24 * 60 * 60;

/// A session id: 256 random bits. Prints as `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId([u8; 32]);

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId([REDACTED])")
    }
}

impl SessionId {
    /// A new random id.
    pub fn generate() -> Result<Self, PortalError> {
        let mut raw = [0u8; 32];
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| PortalError::Internal("no randomness".into()))?;
        Ok(Self(raw))
    }

    /// Parses a cookie value (43 base64url characters); anything else is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        if value.len() != 43 {
            return None;
        }
        let bytes = b64::decode(value).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// The cookie value.
    pub fn encode(&self) -> String {
        b64::encode(&self.0)
    }

    /// What the database stores: the SHA-256 of the id.
    pub fn hash(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, &self.0).as_ref());
        out
    }
}

/// The logged-in user (or the one between the two factors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalUser {
    /// Login name, as the API normalised it.
    pub login: String,
    /// Name to show.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The broker's login; `None` for brokers.
    pub broker: Option<String>,
}

impl From<&super::api::ApiUser> for PortalUser {
    fn from(u: &super::api::ApiUser) -> Self {
        Self {
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            broker: u.broker.clone(),
        }
    }
}

/// A transaction id of a login in progress: the portal's capability to follow
/// it, so it is kept server-side and never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Txn(pub String);

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Txn([REDACTED])")
    }
}

/// The second factor under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Factor {
    /// Push to the Ident app.
    Push,
    /// Code by SMS.
    Sms,
}

/// A second factor that was started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuth {
    /// The transaction.
    pub txn: Txn,
    /// Push or SMS.
    pub factor: Factor,
    /// The number to type into the app (push).
    pub number: Option<String>,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// Where a session is in the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// Nobody logged in (the login forms).
    Anonymous,
    /// The password was right; the second factor is missing.
    SecondFactor {
        /// Who.
        user: PortalUser,
        /// The mobile number, masked (`+49 ••• 678`), for the SMS page.
        phone_hint: Option<String>,
        /// The factor started, if any.
        pending: Option<PendingAuth>,
    },
    /// Both factors done.
    LoggedIn {
        /// Who.
        user: PortalUser,
    },
}

/// Everything a session remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The login stage.
    pub stage: Stage,
    /// The enrollment whose QR code this session may show (`/portal/setup`).
    #[serde(default)]
    pub setup_enrollment: Option<i64>,
    /// Small per-session values of other pages, by a key the page owns
    /// (e.g. `"mail.preview"`). Keep them small and free of secrets.
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
}

impl SessionData {
    /// A session at `stage` with nothing else.
    pub fn at(stage: Stage) -> Self {
        Self {
            stage,
            setup_enrollment: None,
            values: BTreeMap::new(),
        }
    }
}

/// A loaded session.
#[derive(Clone)]
pub struct Session {
    /// SHA-256 of its id.
    pub id_hash: [u8; 32],
    /// Its CSRF token.
    pub csrf: CsrfToken,
    /// When its login started.
    pub created_at: i64,
    /// Its data.
    pub data: SessionData,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("created_at", &self.created_at)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The logged-in user, if both factors are done.
    pub fn user(&self) -> Option<&PortalUser> {
        match &self.data.stage {
            Stage::LoggedIn { user } => Some(user),
            _ => None,
        }
    }
}

fn encode_data(data: &SessionData) -> Result<String, PortalError> {
    serde_json::to_string(data).map_err(|e| PortalError::Internal(format!("session data: {e}")))
}

/// Whether a session row is still alive at `now`.
pub fn alive(created_at: i64, last_seen: i64, now: i64) -> bool {
    now - last_seen < IDLE_SECS && now - created_at < ABSOLUTE_SECS
}

impl PortalState {
    /// Ends the session named by the request's cookie, if there is one.
    pub fn end_session_of_cookie(&self, jar: &CookieJar) -> Result<(), PortalError> {
        if let Some(id) = jar.get(COOKIE).and_then(|c| SessionId::parse(c.value())) {
            self.store.delete_session(&id.hash())?;
        }
        Ok(())
    }

    /// The session named by the request's cookie, if it is alive (it is
    /// touched; a dead one is removed).
    pub async fn load_session(&self, jar: &CookieJar) -> Result<Option<Session>, PortalError> {
        let Some(id) = jar.get(COOKIE).and_then(|c| SessionId::parse(c.value())) else {
            return Ok(None);
        };
        let hash = id.hash();
        let Some(row) = self.store.session(&hash)? else {
            return Ok(None);
        };
        let now = self.now();
        if !alive(row.created_at, row.last_seen, now) {
            self.store.delete_session(&hash)?;
            return Ok(None);
        }
        let Ok(data) = serde_json::from_str::<SessionData>(&row.data) else {
            // Written by another version: start over rather than guess.
            self.store.delete_session(&hash)?;
            return Ok(None);
        };
        if now != row.last_seen {
            self.store.touch_session(&hash, now)?;
        }
        Ok(Some(Session {
            id_hash: hash,
            csrf: CsrfToken::from_bytes(row.csrf),
            created_at: row.created_at,
            data,
        }))
    }

    /// Starts a new session with `data`; the id goes into the returned cookie.
    pub fn create_session(
        &self,
        data: SessionData,
    ) -> Result<(Session, Cookie<'static>), PortalError> {
        let now = self.now();
        // Now and then, clear out the dead (cheap: an indexed delete).
        if now % 16 == 0 {
            self.store
                .purge_sessions(now - IDLE_SECS, now - ABSOLUTE_SECS)?;
        }
        let id = SessionId::generate()?;
        let csrf = CsrfToken::generate()?;
        let row = SessionRow {
            id_hash: id.hash(),
            csrf: *csrf.bytes(),
            created_at: now,
            last_seen: now,
            data: encode_data(&data)?,
        };
        self.store.insert_session(&row)?;
        Ok((
            Session {
                id_hash: row.id_hash,
                csrf,
                created_at: now,
                data,
            },
            self.session_cookie(&id),
        ))
    }

    /// Replaces `old` by a session with a new id, a new CSRF token and `data`
    /// (after each login step). `restart` starts the 12-hour clock anew (after
    /// the password); otherwise it keeps running. `None` when `old` was
    /// already replaced by a concurrent request.
    pub fn rotate_session(
        &self,
        old: &Session,
        data: SessionData,
        restart: bool,
    ) -> Result<Option<(Session, Cookie<'static>)>, PortalError> {
        let now = self.now();
        let id = SessionId::generate()?;
        let csrf = CsrfToken::generate()?;
        let created_at = if restart { now } else { old.created_at };
        let row = SessionRow {
            id_hash: id.hash(),
            csrf: *csrf.bytes(),
            created_at,
            last_seen: now,
            data: encode_data(&data)?,
        };
        if !self.store.replace_session(&old.id_hash, &row)? {
            return Ok(None);
        }
        Ok(Some((
            Session {
                id_hash: row.id_hash,
                csrf,
                created_at,
                data,
            },
            self.session_cookie(&id),
        )))
    }

    /// Stores a changed session's data.
    pub fn save_session(&self, session: &Session) -> Result<(), PortalError> {
        self.store
            .update_session_data(&session.id_hash, &encode_data(&session.data)?)?;
        Ok(())
    }

    /// Ends a session (logout).
    pub fn end_session(&self, session: &Session) -> Result<(), PortalError> {
        self.store.delete_session(&session.id_hash)?;
        Ok(())
    }

    /// The cookie that carries `id`.
    fn session_cookie(&self, id: &SessionId) -> Cookie<'static> {
        Cookie::build((COOKIE, id.encode()))
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Lax)
            .build()
    }

    /// The trusted-browser cookie carrying the service's trust token.
    pub fn trust_cookie(&self, token: &str) -> Cookie<'static> {
        Cookie::build((TRUST_COOKIE, token.to_owned()))
            .path("/")
            .secure(true)
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(TRUST_COOKIE_SECS))
            .build()
    }
}

/// The session of the request, if any, and its language.
#[derive(Debug)]
pub struct MaybeSession {
    /// The session.
    pub session: Option<Session>,
    /// The language.
    pub lang: Lang,
    /// The request's cookies.
    pub jar: CookieJar,
}

impl FromRequestParts<PortalState> for MaybeSession {
    type Rejection = PortalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = Lang::from_jar(&jar);
        let session = state.load_session(&jar).await?;
        Ok(Self { session, lang, jar })
    }
}

/// The user who passed both factors; pages of the internal area take it.
/// Without one the browser is sent to the login page.
#[derive(Debug)]
pub struct LoggedIn {
    /// Who.
    pub user: PortalUser,
    /// The session (its CSRF token goes into forms).
    pub session: Session,
    /// The language.
    pub lang: Lang,
}

impl LoggedIn {
    /// `Ok` when the user's role may use `area`, else the 403 page.
    pub fn require(&self, area: Area) -> Result<(), PortalError> {
        if area.allowed(self.user.role) {
            Ok(())
        } else {
            Err(PortalError::Forbidden)
        }
    }

    /// What a page of `area` needs to render (see `render`).
    pub fn view(&self, area: Area) -> super::render::View<'_> {
        super::render::View {
            lang: self.lang,
            csrf: Some(&self.session.csrf),
            user: Some(&self.user),
            active: Some(area),
        }
    }
}

impl FromRequestParts<PortalState> for LoggedIn {
    type Rejection = PortalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &PortalState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeSession { session, lang, .. } =
            MaybeSession::from_request_parts(parts, state).await?;
        match session {
            Some(session) => match session.user().cloned() {
                Some(user) => Ok(Self {
                    user,
                    session,
                    lang,
                }),
                None => Err(PortalError::LoginRequired),
            },
            None => Err(PortalError::LoginRequired),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_parse_back_and_hide() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(&a.encode()), Some(a.clone()));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(format!("{a:?}"), "SessionId([REDACTED])");
        assert!(SessionId::parse("short").is_none());
        assert!(SessionId::parse(&"!".repeat(43)).is_none());
        assert!(SessionId::parse(&format!("{}A", a.encode())).is_none());
    }

    #[test]
    fn lifetimes() {
        assert!(alive(0, 0, IDLE_SECS - 1));
        assert!(!alive(0, 0, IDLE_SECS));
        // active all along, but not past the absolute limit
        assert!(alive(0, ABSOLUTE_SECS - 10, ABSOLUTE_SECS - 1));
        assert!(!alive(0, ABSOLUTE_SECS - 10, ABSOLUTE_SECS));
    }

    #[test]
    fn data_round_trips_and_hides_the_txn() {
        let data = SessionData::at(Stage::SecondFactor {
            user: PortalUser {
                login: "1000".into(),
                display_name: "Maklerbüro Schmidt".into(),
                role: Role::Broker,
                broker: None,
            },
            phone_hint: Some("+49 ••• 789".into()),
            pending: Some(PendingAuth {
                txn: Txn("secret-txn".into()),
                factor: Factor::Push,
                number: Some("42".into()),
                expires_at: 5,
            }),
        });
        let text = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<SessionData>(&text).unwrap(), data);
        assert!(!format!("{data:?}").contains("secret-txn"));
    }
}
