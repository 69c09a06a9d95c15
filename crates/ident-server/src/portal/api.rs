//! A typed async client of the relying-party API, as any portal would write it.
//!
//! The portal authenticates with its own API key (`Authorization: Bearer`).
//! Calls on behalf of the logged-in user go through [`ApiClient::acting`],
//! which adds `Ident-Actor: <login>` so that the service applies that user's
//! permissions; [`ApiClient::admin`] is the portal's own context and is used
//! only where the protocol says so (the login itself: password check and
//! second factor, before anyone is logged in). Refusals arrive as RFC 9457
//! problems and become [`CallError::Problem`] with the slug to match on.

use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::Role;
use crate::sms_gateway::BearerToken;

/// How long one call may take: the longest long poll plus a margin.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// A refusal of the API (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The stable slug from `urn:ident:problem:<slug>`.
    pub slug: String,
    /// The summary.
    pub title: String,
    /// The detail sentence, if any (never a secret).
    pub detail: Option<String>,
    /// `Retry-After` in seconds, if sent.
    pub retry_after: Option<u64>,
    /// With `sms-code-invalid`: the codes that may still be tried.
    pub tries_left: Option<u32>,
}

/// Why a call failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CallError {
    /// The API refused with a problem.
    #[error("the Ident API refused the call: {} {}", .0.status, .0.slug)]
    Problem(Problem),
    /// The API could not be reached or the connection broke.
    #[error("the Ident API could not be reached: {0}")]
    Transport(String),
    /// The API answered something that is neither the expected body nor a problem.
    #[error("the Ident API answered unexpectedly (HTTP {status})")]
    Unexpected {
        /// The HTTP status.
        status: u16,
    },
    /// The client could not be set up (bad base URL).
    #[error("the Ident API client cannot be set up: {0}")]
    Setup(String),
}

impl CallError {
    /// The problem slug, when the API refused with one.
    pub fn slug(&self) -> Option<&str> {
        match self {
            CallError::Problem(p) => Some(&p.slug),
            _ => None,
        }
    }

    /// The problem, when the API refused with one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            CallError::Problem(p) => Some(p),
            _ => None,
        }
    }
}

/// Characters escaped in a path segment: controls, space and the URL's own
/// delimiters, so a login with `/`, `?` or `#` stays one segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// `s` percent-encoded as one path segment: `format!("/api/v1/users/{}", seg(login))`.
pub fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A user as the API shows it (`GET /api/v1/users/{login}` and others).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ApiUser {
    /// Login name.
    pub login: String,
    /// Name to show.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The broker's login; `None` for brokers.
    #[serde(default)]
    pub broker: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Mobile number (E.164), `None` when none is on file.
    #[serde(default)]
    pub phone: Option<String>,
    /// 2FA interval in days (0 = always).
    #[serde(default)]
    pub interval_days: u32,
    /// Whether push logins are locked.
    #[serde(default)]
    pub push_locked: bool,
    /// Since when (Unix seconds), while locked.
    #[serde(default)]
    pub push_locked_at: Option<i64>,
    /// Why (`not_me`, `denials`).
    #[serde(default)]
    pub push_lock_reason: Option<String>,
    /// Whether the user has an enrolled device.
    #[serde(default)]
    pub enrolled: bool,
    /// Creation time (Unix seconds).
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Deserialize)]
struct PasswordOk {
    user: ApiUser,
}

/// The second factor asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestedMethod {
    /// Trusted browser, else push, else SMS.
    Auto,
    /// Push only.
    Push,
    /// SMS only.
    Sms,
}

/// `POST /api/v1/auth`.
#[derive(Serialize)]
pub struct StartAuth<'a> {
    /// The user's login.
    pub login: &'a str,
    /// Which factor.
    pub method: RequestedMethod,
    /// The browser.
    pub context: BrowserContext<'a>,
    /// The trusted-browser token from the browser's cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_token: Option<&'a str>,
}

impl std::fmt::Debug for StartAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartAuth")
            .field("login", &self.login)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The browser that logs in, as the device shows it.
#[derive(Debug, Serialize)]
pub struct BrowserContext<'a> {
    /// Its IP address.
    pub ip: String,
    /// Its user agent.
    pub user_agent: &'a str,
}

/// What the service started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartedMethod {
    /// A push to the user's devices.
    Push,
    /// An SMS code.
    Sms,
    /// Nothing: the browser is trusted, the login is approved.
    Trusted,
}

/// The answer to `POST /api/v1/auth`.
#[derive(Clone, Deserialize)]
pub struct Started {
    /// The transaction id (the portal's handle on this login; keep it private).
    pub txn: String,
    /// What was started.
    pub method: StartedMethod,
    /// The number to show (push).
    #[serde(default)]
    pub number: Option<String>,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("method", &self.method)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A login's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthState {
    /// Waiting for the user.
    Pending,
    /// Approved.
    Approved,
    /// Denied in the app (or wrong number, wrong codes).
    Denied,
    /// Expired undecided.
    Expired,
    /// Push is locked for the user.
    Locked,
    /// Withdrawn by the portal (the user cancelled or switched to SMS).
    Withdrawn,
}

/// `GET /api/v1/auth/{txn}` and `POST …/sms`.
#[derive(Clone, Deserialize)]
pub struct AuthStatus {
    /// The state.
    pub status: AuthState,
    /// When it expires.
    pub expires_at: i64,
    /// The trusted-browser token issued with an approval (interval > 0).
    #[serde(default)]
    pub trust_token: Option<String>,
}

impl std::fmt::Debug for AuthStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStatus")
            .field("status", &self.status)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A new enrollment code (`POST /api/v1/users/{login}/enrollments`).
#[derive(Clone, Deserialize)]
pub struct Enrollment {
    /// Its id.
    pub id: i64,
    /// The same-device link that opens the app.
    pub link: String,
    /// When the code stops working.
    pub expires_at: i64,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An enrollment's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnrollmentState {
    /// Not yet used.
    Pending,
    /// A device enrolled with it.
    Completed,
    /// Too late.
    Expired,
}

/// `GET /api/v1/enrollments/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EnrollmentStatus {
    /// Its id.
    pub id: i64,
    /// The state.
    pub status: EnrollmentState,
    /// When the code stops (or stopped) working.
    pub expires_at: i64,
}

/// The API client, shared by all requests (cheap to clone).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: std::sync::Arc<BearerToken>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Calls in one context: the portal's own (`actor: None`) or a user's.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    client: &'a ApiClient,
    actor: Option<&'a str>,
}

impl ApiClient {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:8080`) with `key`.
    pub fn new(base: &str, key: BearerToken) -> Result<Self, CallError> {
        let url =
            url::Url::parse(base).map_err(|_| CallError::Setup("the API URL is invalid".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CallError::Setup("the API URL must be http(s)".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CallError::Setup(e.without_url().to_string()))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key: std::sync::Arc::new(key),
        })
    }

    /// The portal's own context (no `Ident-Actor`): only for the login steps.
    pub fn admin(&self) -> Caller<'_> {
        Caller {
            client: self,
            actor: None,
        }
    }

    /// Calls on behalf of the logged-in user `login` (`Ident-Actor`).
    pub fn acting<'a>(&'a self, login: &'a str) -> Caller<'a> {
        Caller {
            client: self,
            actor: Some(login),
        }
    }

    /// `POST /api/v1/login/password`: the first factor.
    pub async fn check_password(&self, login: &str, password: &str) -> Result<ApiUser, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            login: &'a str,
            password: &'a str,
        }
        let ok: PasswordOk = self
            .admin()
            .send(
                Method::POST,
                "/api/v1/login/password",
                Some(&Body { login, password }),
            )
            .await?;
        Ok(ok.user)
    }

    /// `POST /api/v1/auth`: starts the second factor.
    pub async fn start_auth(&self, req: &StartAuth<'_>) -> Result<Started, CallError> {
        self.admin()
            .send(Method::POST, "/api/v1/auth", Some(req))
            .await
    }

    /// `GET /api/v1/auth/{txn}?wait=N`: the login's status, waiting up to `wait` seconds.
    pub async fn auth_status(&self, txn: &str, wait: u32) -> Result<AuthStatus, CallError> {
        self.admin()
            .get(&format!("/api/v1/auth/{}?wait={wait}", seg(txn)))
            .await
    }

    /// `DELETE /api/v1/auth/{txn}`: withdraws a pending login, so the
    /// user's devices drop its request and it stops counting as open.
    /// `auth-decided` when it was already approved, denied, expired or locked.
    pub async fn withdraw_auth(&self, txn: &str) -> Result<AuthStatus, CallError> {
        self.admin()
            .send::<(), _>(Method::DELETE, &format!("/api/v1/auth/{}", seg(txn)), None)
            .await
    }

    /// `POST /api/v1/auth/{txn}/sms`: checks the SMS code.
    pub async fn submit_sms(&self, txn: &str, code: &str) -> Result<AuthStatus, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            code: &'a str,
        }
        self.admin()
            .send(
                Method::POST,
                &format!("/api/v1/auth/{}/sms", seg(txn)),
                Some(&Body { code }),
            )
            .await
    }
}

impl Caller<'_> {
    /// `GET /api/v1/users/{login}`.
    pub async fn user(&self, login: &str) -> Result<ApiUser, CallError> {
        self.get(&format!("/api/v1/users/{}", seg(login))).await
    }

    /// `POST /api/v1/users/{login}/enrollments`: a new enrollment QR code.
    pub async fn create_enrollment(&self, login: &str) -> Result<Enrollment, CallError> {
        self.send::<(), _>(
            Method::POST,
            &format!("/api/v1/users/{}/enrollments", seg(login)),
            None,
        )
        .await
    }

    /// `GET /api/v1/enrollments/{id}`.
    pub async fn enrollment(&self, id: i64) -> Result<EnrollmentStatus, CallError> {
        self.get(&format!("/api/v1/enrollments/{id}")).await
    }

    /// `GET /api/v1/enrollments/{id}/qr.svg`: the QR image (SVG bytes).
    pub async fn enrollment_qr_svg(&self, id: i64) -> Result<Vec<u8>, CallError> {
        self.get_bytes(&format!("/api/v1/enrollments/{id}/qr.svg"))
            .await
    }

    /// `GET /api/v1/enrollments/{id}/qr.png`: the QR image (PNG bytes).
    pub async fn enrollment_qr_png(&self, id: i64) -> Result<Vec<u8>, CallError> {
        self.get_bytes(&format!("/api/v1/enrollments/{id}/qr.png"))
            .await
    }

    /// `PUT /api/v1/users/{login}/password` as the user themself: the
    /// current password must be right (`credentials-invalid` otherwise,
    /// `too-many-attempts` after five wrong ones).
    pub async fn change_own_password(
        &self,
        login: &str,
        current: &str,
        new: &str,
    ) -> Result<(), CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            password: &'a str,
            current_password: &'a str,
        }
        let path = format!("/api/v1/users/{}/password", seg(login));
        let body = Body {
            password: new,
            current_password: current,
        };
        let response = self.request(Method::PUT, &path).json(&body).send().await;
        check(response).await.map(drop)
    }

    /// `GET path` (already encoded; see [`seg`]) → JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CallError> {
        self.send::<(), T>(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body → JSON.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// `PUT path` with a JSON body → JSON.
    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// `DELETE path`; any 2xx is success, the body is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), CallError> {
        let response = self.request(Method::DELETE, path).send().await;
        let response = check(response).await?;
        drop(response);
        Ok(())
    }

    /// `GET path` → the raw body (images, CSV).
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, CallError> {
        let response = check(self.request(Method::GET, path).send().await).await?;
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| CallError::Transport(e.without_url().to_string()))
    }

    /// Any call with an optional JSON body → JSON.
    pub async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, CallError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = check(request.send().await).await?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::Transport(e.without_url().to_string()))?;
        serde_json::from_slice(&bytes).map_err(|_| CallError::Unexpected { status })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .http
            .request(method, format!("{}{path}", self.client.base))
            .bearer_auth(self.client.key.expose())
            .header(header::ACCEPT, "application/json");
        if let Some(actor) = self.actor {
            r = r.header("Ident-Actor", actor);
        }
        r
    }
}

/// A 2xx response, or the problem it carries.
async fn check(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, CallError> {
    let response = response.map_err(|e| CallError::Transport(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    Err(problem_of(status, response).await)
}

async fn problem_of(status: StatusCode, response: reqwest::Response) -> CallError {
    #[derive(Deserialize)]
    struct Body {
        #[serde(rename = "type")]
        type_uri: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        detail: Option<String>,
        #[serde(default)]
        tries_left: Option<u32>,
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Ok(bytes) = response.bytes().await else {
        return CallError::Unexpected {
            status: status.as_u16(),
        };
    };
    match serde_json::from_slice::<Body>(&bytes) {
        Ok(body) => match body.type_uri.strip_prefix("urn:ident:problem:") {
            Some(slug) => CallError::Problem(Problem {
                status: status.as_u16(),
                slug: slug.to_owned(),
                title: body.title,
                detail: body.detail,
                retry_after,
                tries_left: body.tries_left,
            }),
            None => CallError::Unexpected {
                status: status.as_u16(),
            },
        },
        Err(_) => CallError::Unexpected {
            status: status.as_u16(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(
            seg("max.mustermann@example.de"),
            "max.mustermann@example.de"
        );
        assert_eq!(seg("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(seg("ü"), "%C3%BC");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = StartAuth {
            login: "1000",
            method: RequestedMethod::Auto,
            context: BrowserContext {
                ip: "127.0.0.1".into(),
                user_agent: "x",
            },
            trust_token: Some("secret-token"),
        };
        assert!(!format!("{s:?}").contains("secret-token"));
        let st: AuthStatus = serde_json::from_str(
            r#"{"status":"approved","method":"push","expires_at":1,"trust_token":"tok-123"}"#,
        )
        .unwrap();
        assert!(!format!("{st:?}").contains("tok-123"));
        let started: Started = serde_json::from_str(
            r#"{"txn":"txn-abc","method":"push","number":"42","expires_at":1}"#,
        )
        .unwrap();
        assert!(!format!("{started:?}").contains("txn-abc"));
        let c = ApiClient::new(
            "http://127.0.0.1:1",
            BearerToken::new("ik_secretkey".into()),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("ik_secretkey"));
        assert!(ApiClient::new("ftp://x", BearerToken::new("k".into())).is_err());
    }
}
