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
//! Credentials: FCM HTTP v1 wants an OAuth 2 access token of a service
//! account, APNs a provider JWT (ES256, renewed at most hourly). Minting them
//! is not implemented yet: both adapters send a **configured bearer token**
//! (`push.fcm_token`, `push.apns_token`), which an operator's sidecar must
//! refresh (restart with the new value) before it expires. The base URLs are
//! configurable so tests can point the adapters at a local fake server; they
//! must be https, or http to loopback only.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ident_core::protocol::PushProvider;
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;

use crate::sms_gateway::BearerToken;

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
    /// The Firebase project id; enables FCM together with `fcm_token`.
    pub fcm_project: Option<String>,
    /// OAuth 2 access token for FCM HTTP v1 (see the module docs). Never logged.
    pub fcm_token: Option<BearerToken>,
    /// FCM base URL; default [`FCM_BASE_URL`].
    pub fcm_base_url: Option<String>,
    /// The app's bundle id (`apns-topic`); enables APNs together with `apns_token`.
    pub apns_topic: Option<String>,
    /// Provider token (JWT) for APNs (see the module docs). Never logged.
    pub apns_token: Option<BearerToken>,
    /// APNs base URL; default [`APNS_BASE_URL`] (the sandbox is
    /// `https://api.sandbox.push.apple.com`).
    pub apns_base_url: Option<String>,
    /// `alert` (default) or `background`.
    pub apns_push_type: ApnsPushType,
}

/// Builds the gateway the settings ask for: [`NoPush`] when neither provider
/// is configured, otherwise a [`ProviderPush`] that routes by provider.
pub fn from_config(config: &PushConfig) -> Result<Arc<dyn PushGateway>, PushError> {
    let fcm = match (&config.fcm_project, &config.fcm_token) {
        (Some(project), Some(token)) => Some(FcmGateway::new(
            config.fcm_base_url.as_deref().unwrap_or(FCM_BASE_URL),
            project,
            token.clone(),
        )?),
        (None, None) => None,
        _ => {
            return Err(PushError::Config(
                "push.fcm_project and push.fcm_token go together".into(),
            ));
        }
    };
    let apns = match (&config.apns_topic, &config.apns_token) {
        (Some(topic), Some(token)) => Some(ApnsGateway::new(
            config.apns_base_url.as_deref().unwrap_or(APNS_BASE_URL),
            topic,
            token.clone(),
            config.apns_push_type,
        )?),
        (None, None) => None,
        _ => {
            return Err(PushError::Config(
                "push.apns_topic and push.apns_token go together".into(),
            ));
        }
    };
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

fn http_client() -> Result<reqwest::Client, PushError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PUSH_TIMEOUT)
        .build()
        .map_err(|e| PushError::Config(e.to_string()))
}

async fn post(req: reqwest::RequestBuilder) -> Result<(), PushError> {
    let resp = req
        .send()
        .await
        .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(PushError::Rejected(resp.status().as_u16()))
    }
}

/// Firebase Cloud Messaging, HTTP v1 API: a data-only message `{challenge_id}`
/// with high priority, so the app wakes and fetches the challenge itself.
pub struct FcmGateway {
    client: reqwest::Client,
    url: String,
    token: BearerToken,
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
        if !token.is_valid() {
            return Err(PushError::Config("push.fcm_token is not usable".into()));
        }
        Ok(Self {
            client: http_client()?,
            url: format!("{}/v1/projects/{project}/messages:send", base_url(base)?),
            token,
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
            let req = self
                .client
                .post(&self.url)
                .bearer_auth(self.token.expose())
                .json(&Self::message(&target.token, challenge_id));
            post(req).await
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
    token: BearerToken,
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
    /// An adapter for app `topic` (its bundle id) at `base`.
    pub fn new(
        base: &str,
        topic: &str,
        token: BearerToken,
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
        if !token.is_valid() {
            return Err(PushError::Config("push.apns_token is not usable".into()));
        }
        Ok(Self {
            client: http_client()?,
            base: base_url(base)?,
            topic: topic.to_owned(),
            token,
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
            let req = self
                .client
                .post(format!("{}/3/device/{t}", self.base))
                .bearer_auth(self.token.expose())
                .header("apns-topic", &self.topic)
                .header("apns-push-type", self.push_type.as_str())
                .header("apns-priority", priority)
                .json(&Self::payload(self.push_type, challenge_id));
            post(req).await
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
    use axum::http::{HeaderMap, Method, StatusCode, Uri};

    use super::*;

    type Seen = Arc<Mutex<Vec<(Method, String, HeaderMap, serde_json::Value)>>>;

    /// A fake provider on 127.0.0.1:0 that records requests and answers `status`.
    async fn fake(status: StatusCode) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let s2 = Arc::clone(&seen);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let s = Arc::clone(&s2);
                async move {
                    let v = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    s.lock()
                        .unwrap()
                        .push((method, uri.to_string(), headers, v));
                    status
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
        let (m, path, h, body) = &seen[0];
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
        let (_, path, h, body) = &seen[0];
        assert_eq!(path, "/3/device/a1b2c3");
        assert_eq!(h["apns-topic"], "de.example.ident");
        assert_eq!(h["apns-push-type"], "alert");
        assert_eq!(h["apns-priority"], "10");
        assert_eq!(h["authorization"], "Bearer jwt");
        assert_eq!(body["challenge_id"], "chal-2");
        let (_, _, h, body) = &seen[1];
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
    }
}
