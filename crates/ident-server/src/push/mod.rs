//! Push delivery to devices: a trait with `none` (long poll only, the default)
//! and FCM HTTP v1 / APNs adapters. A push carries only "a challenge is waiting"
//! and the challenge id; nothing personal goes through Apple or Google.
//!
//! Why a push is only a nudge: the device fetches the challenge itself over
//! TLS with a signed proof (`GET /device/v1/challenges`), so a lost, late or
//! duplicated push changes nothing but latency, and a long-polling device
//! needs no push at all. Pushes are therefore sent *after* the transaction
//! that created the challenge has committed, on a spawned task, and a failure
//! is logged (by device id, never the push token) and otherwise ignored.
//!
//! Credentials ([`credentials`]): FCM HTTP v1 wants an OAuth 2 access
//! token of a service account, APNs a provider JWT (ES256). The service
//! mints both from the provider's key file (`push.fcm_service_account`,
//! `push.apns_key_file`), or sends a configured bearer token
//! (`push.fcm_token`, `push.apns_token`) that the operator renews. APNs
//! speaks only HTTP/2, so its adapter uses nothing else. The base URLs are
//! configurable so tests can point the adapters at a local fake server; they
//! must be https, or http to loopback only.

pub mod credentials;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ident_core::protocol::PushProvider;
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;

use crate::sms_gateway::BearerToken;
use credentials::{ApnsSigner, Credential, FcmAccount};

/// Default FCM endpoint.
pub const FCM_BASE_URL: &str = "https://fcm.googleapis.com";
/// Default APNs endpoint (production).
pub const APNS_BASE_URL: &str = "https://api.push.apple.com";
/// How long one push request may take.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a push was not accepted by the provider.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PushError {
    /// The provider could not be reached or did not answer in time.
    #[error("the push service cannot be reached: {0}")]
    Transport(String),
    /// The provider answered with a non-success status.
    #[error("the push service refused the message with HTTP {0}")]
    Rejected(u16),
    /// No adapter is configured for the device's provider, or the device's
    /// push token cannot be used.
    #[error("push is not possible for this device: {0}")]
    Unsupported(&'static str),
    /// The adapter is misconfigured.
    #[error("push is misconfigured: {0}")]
    Config(String),
}

/// Where a device gets its pushes: the provider and the provider's token.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTarget {
    /// FCM or APNs.
    pub provider: PushProvider,
    /// The provider's device token. Never log it.
    pub token: String,
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// The future [`PushGateway::notify`] returns.
pub type PushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>>;

/// Something that tells a device "challenge `id` is waiting".
pub trait PushGateway: Send + Sync {
    /// Sends the nudge for `challenge_id` to `target`.
    fn notify<'a>(&'a self, target: &'a PushTarget, challenge_id: &'a str) -> PushFuture<'a>;

    /// A short name for logs.
    fn kind(&self) -> &'static str;
}

impl std::fmt::Debug for dyn PushGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PushGateway({})", self.kind())
    }
}

/// The `apns-push-type` sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApnsPushType {
    /// A visible notification ("Anmeldung bestätigen?"), priority 10.
    #[default]
    Alert,
    /// A silent wake-up (`content-available`), priority 5.
    Background,
}

impl ApnsPushType {
    fn as_str(self) -> &'static str {
        match self {
            ApnsPushType::Alert => "alert",
            ApnsPushType::Background => "background",
        }
    }
}

/// Push settings (`[push]` in the configuration file). Nothing set: no push,
/// devices long-poll.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// A Firebase service account's key file (JSON from the Firebase
    /// console): enables FCM with tokens the service mints. Its project is
    /// used unless `fcm_project` names another.
    pub fcm_service_account: Option<PathBuf>,
    /// The Firebase project id; with `fcm_token`, enables FCM.
    pub fcm_project: Option<String>,
    /// An OAuth 2 access token for FCM HTTP v1 that the operator renews
    /// (instead of `fcm_service_account`). Never logged.
    pub fcm_token: Option<BearerToken>,
    /// FCM base URL; default [`FCM_BASE_URL`].
    pub fcm_base_url: Option<String>,
    /// The app's bundle id (`apns-topic`); enables APNs together with a key
    /// (`apns_key_file`, `apns_key_id`, `apns_team_id`) or `apns_token`.
    pub apns_topic: Option<String>,
    /// The team's APNs signing key (`AuthKey_<key id>.p8`): the service mints
    /// provider tokens with it.
    pub apns_key_file: Option<PathBuf>,
    /// The key's 10-character id.
    pub apns_key_id: Option<String>,
    /// The 10-character team id.
    pub apns_team_id: Option<String>,
    /// A provider token (JWT) for APNs that the operator renews (instead of
    /// the key). Never logged.
    pub apns_token: Option<BearerToken>,
    /// APNs base URL; default [`APNS_BASE_URL`] (the sandbox is
    /// `https://api.sandbox.push.apple.com`).
    pub apns_base_url: Option<String>,
    /// `alert` (default) or `background`.
    pub apns_push_type: ApnsPushType,
}

/// A configured token as a credential, refused at start when it cannot be
/// sent in a header; `setting` names it in the error.
fn static_credential(token: &BearerToken, setting: &str) -> Result<Credential, PushError> {
    if token.is_valid() {
        Ok(Credential::Static(token.clone()))
    } else {
        Err(PushError::Config(format!("{setting} is not usable")))
    }
}

fn config_error(text: &str) -> PushError {
    PushError::Config(text.into())
}

/// The FCM adapter the settings ask for, if any.
fn fcm_from_config(config: &PushConfig) -> Result<Option<FcmGateway>, PushError> {
    let base = config.fcm_base_url.as_deref().unwrap_or(FCM_BASE_URL);
    match (&config.fcm_service_account, &config.fcm_token) {
        (Some(_), Some(_)) => Err(config_error(
            "set push.fcm_service_account or push.fcm_token, not both",
        )),
        (Some(file), None) => {
            let account = FcmAccount::from_file(file)?;
            let project = config
                .fcm_project
                .clone()
                .unwrap_or_else(|| account.project_id().to_owned());
            FcmGateway::with_credential(base, &project, Credential::Fcm(account)).map(Some)
        }
        (None, Some(token)) => {
            let project = config
                .fcm_project
                .as_deref()
                .ok_or_else(|| config_error("push.fcm_token needs push.fcm_project"))?;
            FcmGateway::new(base, project, token.clone()).map(Some)
        }
        (None, None) if config.fcm_project.is_some() => Err(config_error(
            "push.fcm_project needs push.fcm_service_account or push.fcm_token",
        )),
        (None, None) => Ok(None),
    }
}

/// The APNs adapter the settings ask for, if any.
fn apns_from_config(config: &PushConfig) -> Result<Option<ApnsGateway>, PushError> {
    let key = (
        &config.apns_key_file,
        &config.apns_key_id,
        &config.apns_team_id,
    );
    let credential = match (key, &config.apns_token) {
        ((None, None, None), None) => None,
        ((None, None, None), Some(token)) => Some(static_credential(token, "push.apns_token")?),
        ((Some(file), Some(key_id), Some(team)), None) => {
            Some(Credential::Apns(ApnsSigner::from_file(file, key_id, team)?))
        }
        (_, Some(_)) => {
            return Err(config_error(
                "set the APNs key (push.apns_key_file, _key_id, _team_id) or push.apns_token, not both",
            ));
        }
        _ => {
            return Err(config_error(
                "push.apns_key_file, push.apns_key_id and push.apns_team_id go together",
            ));
        }
    };
    match (credential, &config.apns_topic) {
        (None, None) => Ok(None),
        (Some(credential), Some(topic)) => ApnsGateway::with_credential(
            config.apns_base_url.as_deref().unwrap_or(APNS_BASE_URL),
            topic,
            credential,
            config.apns_push_type,
        )
        .map(Some),
        (Some(_), None) => Err(config_error(
            "APNs needs push.apns_topic (the app's bundle id)",
        )),
        (None, Some(_)) => Err(config_error(
            "push.apns_topic needs the APNs key (push.apns_key_file, _key_id, _team_id) or push.apns_token",
        )),
    }
}

/// Builds the gateway the settings ask for: [`NoPush`] when neither provider
/// is configured, otherwise a [`ProviderPush`] that routes by provider. Key
/// files are read here, so a wrong path or key stops the start.
pub fn from_config(config: &PushConfig) -> Result<Arc<dyn PushGateway>, PushError> {
    let fcm = fcm_from_config(config)?;
    let apns = apns_from_config(config)?;
    if fcm.is_none() && apns.is_none() {
        return Ok(Arc::new(NoPush));
    }
    Ok(Arc::new(ProviderPush { fcm, apns }))
}

/// No push at all: devices long-poll. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPush;

impl PushGateway for NoPush {
    fn notify<'a>(&'a self, _target: &'a PushTarget, _challenge_id: &'a str) -> PushFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    fn kind(&self) -> &'static str {
        "none"
    }
}

/// Routes each push to the adapter of the device's provider.
#[derive(Debug)]
pub struct ProviderPush {
    fcm: Option<FcmGateway>,
    apns: Option<ApnsGateway>,
}

impl PushGateway for ProviderPush {
    fn notify<'a>(&'a self, target: &'a PushTarget, challenge_id: &'a str) -> PushFuture<'a> {
        match (target.provider, &self.fcm, &self.apns) {
            (PushProvider::Fcm, Some(f), _) => f.notify(target, challenge_id),
            (PushProvider::Apns, _, Some(a)) => a.notify(target, challenge_id),
            _ => Box::pin(async {
                Err(PushError::Unsupported(
                    "no adapter for the device's push provider",
                ))
            }),
        }
    }

    fn kind(&self) -> &'static str {
        "providers"
    }
}

/// Checks a configured base URL: https, or http to loopback; no trailing slash kept.
fn base_url(url: &str) -> Result<String, PushError> {
    crate::sms_gateway::check_gateway_url(url).map_err(PushError::Config)?;
    Ok(url.trim_end_matches('/').to_owned())
}

/// A client without redirects and with [`PUSH_TIMEOUT`]; `http2_only`
/// for APNs, which refuses HTTP/1.1 (over TLS it is negotiated by ALPN,
/// to a loopback test server it is spoken directly).
fn http_client(http2_only: bool) -> Result<reqwest::Client, PushError> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PUSH_TIMEOUT);
    let builder = if http2_only {
        builder.http2_prior_knowledge()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| PushError::Config(e.to_string()))
}

/// A provider's refusal: its status and its JSON error body (`Null` when
/// there is none), which tells a refused credential from a refused device.
struct Refusal {
    status: u16,
    body: serde_json::Value,
}

/// Sends one push; a refusal comes with the provider's error body.
async fn post(req: reqwest::RequestBuilder) -> Result<Result<(), Refusal>, PushError> {
    let resp = req
        .send()
        .await
        .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(Ok(()));
    }
    let body = resp
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok(Err(Refusal {
        status: status.as_u16(),
        body,
    }))
}

/// Whether FCM refused our access token: 401 without an FCM error code.
/// Refusals about the device or the project (`SENDER_ID_MISMATCH`, 403;
/// `THIRD_PARTY_AUTH_ERROR`, 401 with an `FcmError` detail) are not, so a
/// device registered with a foreign token cannot make us drop a good token.
fn fcm_refused_credential(r: &Refusal) -> bool {
    let has_fcm_code = r.body["error"]["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x.get("errorCode").is_some()));
    r.status == 401 && !has_fcm_code
}

/// Whether APNs refused our provider token (403 with one of its token reasons).
fn apns_refused_credential(r: &Refusal) -> bool {
    r.status == 403
        && matches!(
            r.body["reason"].as_str(),
            Some("ExpiredProviderToken" | "InvalidProviderToken" | "MissingProviderToken")
        )
}

/// The outcome of a push: a refusal of the credential itself is told to
/// `credential`, which then replaces a minted token.
async fn settle(
    sent: Result<(), Refusal>,
    credential: &Credential,
    token: &BearerToken,
    refused_credential: fn(&Refusal) -> bool,
) -> Result<(), PushError> {
    match sent {
        Ok(()) => Ok(()),
        Err(r) => {
            if refused_credential(&r) {
                credential.rejected(token).await;
            }
            Err(PushError::Rejected(r.status))
        }
    }
}

/// Firebase Cloud Messaging, HTTP v1 API: a data-only message `{challenge_id}`
/// with high priority, so the app wakes and fetches the challenge itself.
pub struct FcmGateway {
    client: reqwest::Client,
    url: String,
    credential: Credential,
}

impl std::fmt::Debug for FcmGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmGateway")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl FcmGateway {
    /// `POST {base}/v1/projects/{project}/messages:send` with `token` as bearer.
    pub fn new(base: &str, project: &str, token: BearerToken) -> Result<Self, PushError> {
        Self::with_credential(base, project, static_credential(&token, "push.fcm_token")?)
    }

    /// The same with the bearer token from `credential`.
    pub fn with_credential(
        base: &str,
        project: &str,
        credential: Credential,
    ) -> Result<Self, PushError> {
        let project_ok = !project.is_empty()
            && project.len() <= 100
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !project_ok {
            return Err(PushError::Config(
                "push.fcm_project must be a Firebase project id".into(),
            ));
        }
        Ok(Self {
            client: http_client(false)?,
            url: format!("{}/v1/projects/{project}/messages:send", base_url(base)?),
            credential,
        })
    }

    /// The JSON body for one push.
    pub fn message(device_token: &str, challenge_id: &str) -> serde_json::Value {
        json!({
            "message": {
                "token": device_token,
                "data": {"challenge_id": challenge_id},
                "android": {"priority": "high"}
            }
        })
    }
}

impl PushGateway for FcmGateway {
    fn notify<'a>(&'a self, target: &'a PushTarget, challenge_id: &'a str) -> PushFuture<'a> {
        Box::pin(async move {
            let token = self.credential.bearer().await?;
            let req = self
                .client
                .post(&self.url)
                .bearer_auth(token.expose())
                .json(&Self::message(&target.token, challenge_id));
            let sent = post(req).await?;
            settle(sent, &self.credential, &token, fcm_refused_credential).await
        })
    }

    fn kind(&self) -> &'static str {
        "fcm"
    }
}

/// Apple Push Notification service: `POST /3/device/{token}` with
/// `apns-topic` and `apns-push-type`; the payload holds only the challenge id
/// (and, for `alert`, a localisation key the app translates).
pub struct ApnsGateway {
    client: reqwest::Client,
    base: String,
    topic: String,
    credential: Credential,
    push_type: ApnsPushType,
}

impl std::fmt::Debug for ApnsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsGateway")
            .field("base", &self.base)
            .field("topic", &self.topic)
            .field("push_type", &self.push_type)
            .finish_non_exhaustive()
    }
}

impl ApnsGateway {
    /// An adapter for app `topic` (its bundle id) at `base` with a provider
    /// token the operator renews.
    pub fn new(
        base: &str,
        topic: &str,
        token: BearerToken,
        push_type: ApnsPushType,
    ) -> Result<Self, PushError> {
        Self::with_credential(
            base,
            topic,
            static_credential(&token, "push.apns_token")?,
            push_type,
        )
    }

    /// The same with the provider token from `credential`.
    pub fn with_credential(
        base: &str,
        topic: &str,
        credential: Credential,
        push_type: ApnsPushType,
    ) -> Result<Self, PushError> {
        let topic_ok = !topic.is_empty()
            && topic.len() <= 200
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !topic_ok {
            return Err(PushError::Config(
                "push.apns_topic must be the app's bundle id".into(),
            ));
        }
        Ok(Self {
            client: http_client(true)?,
            base: base_url(base)?,
            topic: topic.to_owned(),
            credential,
            push_type,
        })
    }

    /// The JSON payload for one push.
    pub fn payload(push_type: ApnsPushType, challenge_id: &str) -> serde_json::Value {
        match push_type {
            ApnsPushType::Alert => json!({
                "aps": {"alert": {"loc-key": "IDENT_LOGIN_REQUEST"}, "sound": "default"},
                "challenge_id": challenge_id
            }),
            ApnsPushType::Background => json!({
                "aps": {"content-available": 1},
                "challenge_id": challenge_id
            }),
        }
    }
}

impl PushGateway for ApnsGateway {
    fn notify<'a>(&'a self, target: &'a PushTarget, challenge_id: &'a str) -> PushFuture<'a> {
        Box::pin(async move {
            // APNs device tokens are hex; anything else must not reach the URL path.
            let t = &target.token;
            if t.is_empty() || t.len() > 200 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(PushError::Unsupported("the APNs device token is not hex"));
            }
            let priority = match self.push_type {
                ApnsPushType::Alert => "10",
                ApnsPushType::Background => "5",
            };
            let token = self.credential.bearer().await?;
            let req = self
                .client
                .post(format!("{}/3/device/{t}", self.base))
                .bearer_auth(token.expose())
                .header("apns-topic", &self.topic)
                .header("apns-push-type", self.push_type.as_str())
                .header("apns-priority", priority)
                .json(&Self::payload(self.push_type, challenge_id));
            let sent = post(req).await?;
            settle(sent, &self.credential, &token, apns_refused_credential).await
        })
    }

    fn kind(&self) -> &'static str {
        "apns"
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Router;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri, Version};

    use super::*;

    /// Method, path, headers, body and HTTP version of each request.
    type Seen = Arc<Mutex<Vec<(Method, String, HeaderMap, serde_json::Value, Version)>>>;

    /// A fake provider on 127.0.0.1:0 that records requests and answers `status`.
    async fn fake(status: StatusCode) -> (String, Seen) {
        fake_with(status, serde_json::Value::Null).await
    }

    /// The same, answering with the JSON `body` (none for `Null`).
    async fn fake_with(status: StatusCode, body: serde_json::Value) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let s2 = Arc::clone(&seen);
        let app = Router::new().fallback(
            move |method: Method, version: Version, uri: Uri, headers: HeaderMap, req: Bytes| {
                let s = Arc::clone(&s2);
                let answer = if body.is_null() {
                    String::new()
                } else {
                    body.to_string()
                };
                async move {
                    let v = serde_json::from_slice(&req).unwrap_or(serde_json::Value::Null);
                    s.lock()
                        .unwrap()
                        .push((method, uri.path().to_owned(), headers, v, version));
                    (status, answer)
                }
            },
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        (format!("http://{addr}/"), seen)
    }

    fn token(s: &str) -> BearerToken {
        BearerToken::new(s.into())
    }

    #[tokio::test]
    async fn fcm_sends_a_data_only_message() {
        let (base, seen) = fake(StatusCode::OK).await;
        let g = FcmGateway::new(&base, "ident-test", token("ya29.tok")).unwrap();
        let target = PushTarget {
            provider: PushProvider::Fcm,
            token: "fcm-device-1".into(),
        };
        g.notify(&target, "chal-1").await.unwrap();
        let seen = seen.lock().unwrap();
        let (m, path, h, body, _) = &seen[0];
        assert_eq!(m, Method::POST);
        assert_eq!(path, "/v1/projects/ident-test/messages:send");
        assert_eq!(h["authorization"], "Bearer ya29.tok");
        assert_eq!(
            body,
            &json!({"message": {"token": "fcm-device-1",
                "data": {"challenge_id": "chal-1"}, "android": {"priority": "high"}}})
        );
        assert!(format!("{target:?} {g:?}").find("fcm-device-1").is_none());
        assert!(!format!("{g:?}").contains("ya29"));
    }

    #[tokio::test]
    async fn apns_sends_topic_type_and_only_the_id() {
        let (base, seen) = fake(StatusCode::OK).await;
        for pt in [ApnsPushType::Alert, ApnsPushType::Background] {
            let g = ApnsGateway::new(&base, "de.example.ident", token("jwt"), pt).unwrap();
            let target = PushTarget {
                provider: PushProvider::Apns,
                token: "a1b2c3".into(),
            };
            g.notify(&target, "chal-2").await.unwrap();
        }
        let seen = seen.lock().unwrap();
        let (_, path, h, body, version) = &seen[0];
        assert_eq!(*version, Version::HTTP_2, "APNs speaks only HTTP/2");
        assert_eq!(path, "/3/device/a1b2c3");
        assert_eq!(h["apns-topic"], "de.example.ident");
        assert_eq!(h["apns-push-type"], "alert");
        assert_eq!(h["apns-priority"], "10");
        assert_eq!(h["authorization"], "Bearer jwt");
        assert_eq!(body["challenge_id"], "chal-2");
        let (_, _, h, body, _) = &seen[1];
        assert_eq!(h["apns-push-type"], "background");
        assert_eq!(body["aps"], json!({"content-available": 1}));
    }

    #[tokio::test]
    async fn refusals_and_bad_targets_are_errors() {
        let (base, _seen) = fake(StatusCode::GONE).await;
        let g =
            ApnsGateway::new(&base, "de.example.ident", token("jwt"), ApnsPushType::Alert).unwrap();
        let mut target = PushTarget {
            provider: PushProvider::Apns,
            token: "abc".into(),
        };
        assert!(matches!(
            g.notify(&target, "c").await,
            Err(PushError::Rejected(410))
        ));
        target.token = "../../x".into();
        assert!(matches!(
            g.notify(&target, "c").await,
            Err(PushError::Unsupported(_))
        ));
        // A provider that is not configured.
        let p = ProviderPush {
            fcm: None,
            apns: Some(g),
        };
        target.provider = PushProvider::Fcm;
        assert!(p.notify(&target, "c").await.is_err());
    }

    /// The `Authorization: Bearer` token of request `i`.
    fn bearer(seen: &Seen, i: usize) -> String {
        let seen = seen.lock().unwrap();
        let h = seen[i].2["authorization"].to_str().unwrap();
        h.strip_prefix("Bearer ").unwrap().to_owned()
    }

    #[tokio::test]
    async fn minted_credentials_reach_the_providers() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("AuthKey_KEY1234567.p8");
        std::fs::write(&key, include_bytes!("testdata/apns-test-key.p8")).unwrap();
        let (apns_base, apns_seen) = fake(StatusCode::OK).await;
        // FCM: the fake answers the token request and the push alike; a
        // token endpoint that answers 200 without a token would fail the push.
        let token_app = Router::new().route(
            "/token",
            axum::routing::post(|| async {
                axum::Json(json!({"access_token": "ya29.minted", "expires_in": 3600}))
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token_uri = format!("http://{}/token", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, token_app).await });
        let account = dir.path().join("service-account.json");
        let account_json = json!({
            "type": "service_account", "project_id": "ident-test", "private_key_id": "k1",
            "private_key": include_str!("testdata/fcm-test-key.pem"),
            "client_email": "push@ident-test.iam.gserviceaccount.com", "token_uri": token_uri,
        });
        std::fs::write(&account, account_json.to_string()).unwrap();
        let (fcm_base, fcm_seen) = fake(StatusCode::OK).await;
        let config = PushConfig {
            fcm_service_account: Some(account),
            fcm_base_url: Some(fcm_base),
            apns_topic: Some("de.example.ident".into()),
            apns_key_file: Some(key),
            apns_key_id: Some("KEY1234567".into()),
            apns_team_id: Some("TEAM123456".into()),
            apns_base_url: Some(apns_base),
            ..PushConfig::default()
        };
        let push = from_config(&config).unwrap();
        for (provider, token) in [
            (PushProvider::Apns, "a1b2"),
            (PushProvider::Fcm, "f1"),
            (PushProvider::Apns, "a1b2"),
        ] {
            let target = PushTarget {
                provider,
                token: token.into(),
            };
            push.notify(&target, "chal-9").await.unwrap();
        }
        // APNs: an ES256 provider token of the team, the same for both pushes.
        let jwt = bearer(&apns_seen, 0);
        let header: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                jwt.split('.').next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        assert_eq!(bearer(&apns_seen, 1), jwt);
        // FCM: the bought access token, for the project of the key file.
        assert_eq!(bearer(&fcm_seen, 0), "ya29.minted");
        assert_eq!(
            fcm_seen.lock().unwrap()[0].1,
            "/v1/projects/ident-test/messages:send"
        );
    }

    #[tokio::test]
    async fn a_refused_minted_token_is_replaced() {
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let a2 = Arc::clone(&asked);
        let token_app = Router::new().route(
            "/token",
            axum::routing::post(move || {
                let n = a2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    axum::Json(json!({"access_token": format!("ya29.t{n}"), "expires_in": 3600}))
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token_uri = format!("http://{}/token", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, token_app).await });
        let account = credentials::FcmAccount::from_json(
            json!({
                "type": "service_account", "project_id": "ident-test", "private_key_id": "k1",
                "private_key": include_str!("testdata/fcm-test-key.pem"),
                "client_email": "push@ident-test.iam.gserviceaccount.com", "token_uri": token_uri,
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let credential = Credential::Fcm(account);
        let target = PushTarget {
            provider: PushProvider::Fcm,
            token: "f1".into(),
        };
        // A device token of another Firebase project: FCM refuses the
        // device, not our token, which stays.
        let mismatch = json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                         "errorCode": "SENDER_ID_MISMATCH"}]}});
        let (base, seen) = fake_with(StatusCode::FORBIDDEN, mismatch).await;
        let g = FcmGateway::with_credential(&base, "ident-test", credential).unwrap();
        for _ in 0..2 {
            assert!(matches!(
                g.notify(&target, "c").await,
                Err(PushError::Rejected(403))
            ));
        }
        assert_eq!(bearer(&seen, 1), "ya29.t0");
        // Our token refused (401 without an FCM error code): the next push
        // has a new one.
        let credential = g.credential;
        let (base, seen) = fake(StatusCode::UNAUTHORIZED).await;
        let g = FcmGateway::with_credential(&base, "ident-test", credential).unwrap();
        for _ in 0..2 {
            assert!(matches!(
                g.notify(&target, "c").await,
                Err(PushError::Rejected(401))
            ));
        }
        assert_eq!(bearer(&seen, 0), "ya29.t0");
        assert_eq!(
            bearer(&seen, 1),
            "ya29.t1",
            "the refused token was not sent again"
        );
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn only_refusals_of_our_credential_count_as_such() {
        let r = |status, body| Refusal { status, body };
        assert!(fcm_refused_credential(&r(
            401,
            json!({"error": {"status": "UNAUTHENTICATED"}})
        )));
        assert!(fcm_refused_credential(&r(401, serde_json::Value::Null)));
        let third_party = json!({"error": {"status": "UNAUTHENTICATED", "details": [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
             "errorCode": "THIRD_PARTY_AUTH_ERROR"}]}});
        assert!(!fcm_refused_credential(&r(401, third_party)));
        assert!(!fcm_refused_credential(&r(403, serde_json::Value::Null)));
        assert!(!fcm_refused_credential(&r(404, serde_json::Value::Null)));
        for reason in [
            "ExpiredProviderToken",
            "InvalidProviderToken",
            "MissingProviderToken",
        ] {
            assert!(apns_refused_credential(&r(403, json!({"reason": reason}))));
        }
        assert!(!apns_refused_credential(&r(
            403,
            json!({"reason": "BadCertificate"})
        )));
        assert!(!apns_refused_credential(&r(
            410,
            json!({"reason": "Unregistered"})
        )));
        assert!(!apns_refused_credential(&r(
            400,
            json!({"reason": "BadDeviceToken"})
        )));
    }

    #[test]
    fn config_rules() {
        assert_eq!(from_config(&PushConfig::default()).unwrap().kind(), "none");
        let c = PushConfig {
            fcm_project: Some("p".into()),
            ..PushConfig::default()
        };
        assert!(from_config(&c).is_err());
        let c = PushConfig {
            fcm_project: Some("p".into()),
            fcm_token: Some(token("t")),
            fcm_base_url: Some("http://fcm.example.com".into()),
            ..PushConfig::default()
        };
        assert!(from_config(&c).is_err(), "plain http off loopback");
        let c = PushConfig {
            apns_topic: Some("de.example.ident".into()),
            apns_token: Some(token("t")),
            ..PushConfig::default()
        };
        assert_eq!(from_config(&c).unwrap().kind(), "providers");
        // Each way of getting a token alone, and nothing half-configured.
        let refused = [
            PushConfig {
                apns_topic: Some("de.example.ident".into()),
                apns_token: Some(token("two words")),
                ..PushConfig::default()
            },
            PushConfig {
                fcm_project: Some("p".into()),
                fcm_token: Some(token("two words")),
                ..PushConfig::default()
            },
            PushConfig {
                apns_topic: Some("de.example.ident".into()),
                ..PushConfig::default()
            },
            PushConfig {
                apns_token: Some(token("t")),
                ..PushConfig::default()
            },
            PushConfig {
                apns_topic: Some("de.example.ident".into()),
                apns_key_file: Some("/nonexistent.p8".into()),
                apns_key_id: Some("KEY1234567".into()),
                ..PushConfig::default()
            },
            PushConfig {
                apns_topic: Some("de.example.ident".into()),
                apns_token: Some(token("t")),
                apns_key_file: Some("/nonexistent.p8".into()),
                apns_key_id: Some("KEY1234567".into()),
                apns_team_id: Some("TEAM123456".into()),
                ..PushConfig::default()
            },
            PushConfig {
                fcm_token: Some(token("t")),
                ..PushConfig::default()
            },
            PushConfig {
                fcm_service_account: Some("/nonexistent.json".into()),
                fcm_token: Some(token("t")),
                ..PushConfig::default()
            },
            PushConfig {
                fcm_service_account: Some("/nonexistent.json".into()),
                ..PushConfig::default()
            },
        ];
        for c in refused {
            assert!(
                matches!(from_config(&c), Err(PushError::Config(_))),
                "{c:?}"
            );
        }
    }
}
