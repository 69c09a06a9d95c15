//! Where the push adapters' bearer tokens come from: a token the operator
//! renews, or one the service mints itself from the provider's key.
//!
//! Why mint: both providers hand out short-lived credentials. An APNs
//! provider token (an ES256 JWT signed with the team's `.p8` key) is
//! accepted for an hour and must not be renewed more often than every 20
//! minutes; an FCM access token (an OAuth 2 token bought with an RS256 JWT
//! signed by a service account's key) lasts an hour. A static token in the
//! configuration therefore stops push within the hour unless a sidecar
//! restarts the service, so the service mints them: APNs tokens every
//! [`APNS_TOKEN_REFRESH`], FCM tokens whenever the cached one has less than
//! [`FCM_TOKEN_MARGIN`] left. Ages are wall-clock seconds, as the providers
//! judge them (a monotonic clock stops while a VM is paused). A token the
//! provider refuses as a credential is dropped ([`Credential::rejected`];
//! which refusals count is decided by the adapters), an APNs token only once
//! it is 20 minutes old, since Apple refuses renewals more often than that.
//! After a failed token request the endpoint is left alone for
//! [`TOKEN_RETRY_SECS`] instead of being asked again by every push, and the
//! old token serves while it is valid. Keys
//! are read once at start and kept in `ring`'s key types; neither a key nor
//! a token is ever logged or shown in `Debug`.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use ident_core::secret::SecretString;

use super::PushError;
use crate::sms_gateway::BearerToken;

/// A minted APNs provider token is replaced after this many seconds (Apple
/// accepts one for 60 minutes and refuses renewals more often than every 20).
pub const APNS_TOKEN_REFRESH: u64 = 50 * 60;

/// An APNs token younger than this is kept even when refused.
pub const APNS_MIN_RENEWAL: u64 = 20 * 60;

/// A cached FCM access token is replaced once it has less than this many
/// seconds left.
pub const FCM_TOKEN_MARGIN: u64 = 5 * 60;

/// Seconds a failed FCM token request keeps the endpoint from being asked again.
pub const TOKEN_RETRY_SECS: u64 = 30;

/// How far the wall clock may step back before a token's time counts as wrong.
const CLOCK_SLACK_SECS: u64 = 60;

/// The OAuth 2 scope of FCM HTTP v1.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// How long an FCM assertion is valid (Google's maximum).
const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// Where an adapter's bearer token comes from.
pub enum Credential {
    /// A token the operator renews (by restarting with the new value).
    Static(BearerToken),
    /// APNs provider tokens minted from the team's key.
    Apns(ApnsSigner),
    /// FCM access tokens bought with a service account's key.
    Fcm(FcmAccount),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Static(_) => "Credential::Static(..)",
            Self::Apns(_) => "Credential::Apns(..)",
            Self::Fcm(_) => "Credential::Fcm(..)",
        })
    }
}

impl Credential {
    /// The bearer token to send now (minted or renewed when due).
    pub async fn bearer(&self) -> Result<BearerToken, PushError> {
        match self {
            Self::Static(t) => Ok(t.clone()),
            Self::Apns(s) => s.token().await,
            Self::Fcm(a) => a.token().await,
        }
    }

    /// The provider refused `token` as a credential (401/403): a minted one
    /// is dropped so that the next push gets a new one.
    pub async fn rejected(&self, token: &BearerToken) {
        match self {
            Self::Static(_) => {}
            Self::Apns(s) => s.rejected(token).await,
            Self::Fcm(a) => a.rejected(token).await,
        }
    }
}

/// Seconds since the Unix epoch, from the system clock (tokens are judged
/// by the provider's clock, not the service's test clock).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `header.claims.signature`, each part base64url without padding.
fn jwt(
    header: &Value,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, PushError>,
) -> Result<String, PushError> {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", encode(header), encode(claims));
    let signature = sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Reads a PEM `PRIVATE KEY` (PKCS#8) from `pem`; `what` names it in errors.
fn pkcs8(pem: &[u8], what: &str) -> Result<PrivatePkcs8KeyDer<'static>, PushError> {
    PrivatePkcs8KeyDer::from_pem_slice(pem)
        .map_err(|_| PushError::Config(format!("{what} is not a PEM PKCS#8 private key")))
}

fn read_file(path: &Path, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, PushError> {
    std::fs::read(path)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| PushError::Config(format!("{what} ({}): {e}", path.display())))
}

/// A 10-character Apple key or team id.
fn apple_id(id: &str, what: &str) -> Result<String, PushError> {
    if id.len() == 10 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id.to_owned())
    } else {
        Err(PushError::Config(format!(
            "{what} must be the 10-character id from Apple's developer account"
        )))
    }
}

/// Mints APNs provider tokens: `{"alg":"ES256","kid":<key id>}` and
/// `{"iss":<team id>,"iat":<now>}`, signed with the `.p8` key.
pub struct ApnsSigner {
    key: EcdsaKeyPair,
    key_id: String,
    team_id: String,
    rng: SystemRandom,
    /// The current token and its `iat`.
    cached: Mutex<Option<(BearerToken, u64)>>,
}

impl ApnsSigner {
    /// The signer for the `.p8` file at `key_file` (Apple's "AuthKey_<key id>.p8").
    pub fn from_file(key_file: &Path, key_id: &str, team_id: &str) -> Result<Self, PushError> {
        let pem = read_file(key_file, "push.apns_key_file")?;
        Self::from_pem(&pem, key_id, team_id)
    }

    /// The signer for a PEM PKCS#8 P-256 key.
    pub fn from_pem(pem: &[u8], key_id: &str, team_id: &str) -> Result<Self, PushError> {
        let der = pkcs8(pem, "push.apns_key_file")?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &rng,
        )
        .map_err(|_| PushError::Config("push.apns_key_file is not a P-256 key".into()))?;
        Ok(Self {
            key,
            key_id: apple_id(key_id, "push.apns_key_id")?,
            team_id: apple_id(team_id, "push.apns_team_id")?,
            rng,
            cached: Mutex::new(None),
        })
    }

    /// A fresh token for `iat`.
    fn mint(&self, iat: u64) -> Result<BearerToken, PushError> {
        let header = json!({"alg": "ES256", "kid": self.key_id});
        let claims = json!({"iss": self.team_id, "iat": iat});
        let token = jwt(&header, &claims, |input| {
            self.key
                .sign(&self.rng, input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| PushError::Config("cannot sign the APNs token".into()))
        })?;
        Ok(BearerToken::new(token))
    }

    /// The current token, minted anew every [`APNS_TOKEN_REFRESH`] seconds.
    pub async fn token(&self) -> Result<BearerToken, PushError> {
        let mut cached = self.cached.lock().await;
        let now = unix_now();
        if let Some((token, iat)) = cached.as_ref() {
            // A step of the clock back (up to a minute) counts as age 0:
            // minting again at once could trip Apple's renewal limit.
            if *iat <= now + CLOCK_SLACK_SECS && now.saturating_sub(*iat) < APNS_TOKEN_REFRESH {
                return Ok(token.clone());
            }
        }
        let token = self.mint(now)?;
        *cached = Some((token.clone(), now));
        Ok(token)
    }

    /// Drops `token` if it is the current one and at least
    /// [`APNS_MIN_RENEWAL`] seconds old.
    async fn rejected(&self, token: &BearerToken) {
        let mut cached = self.cached.lock().await;
        if let Some((current, iat)) = cached.as_ref() {
            if current == token && unix_now().saturating_sub(*iat) >= APNS_MIN_RENEWAL {
                *cached = None;
            }
        }
    }
}

/// The fields of a Google service-account key file that are used.
#[derive(Deserialize)]
struct ServiceAccountFile {
    #[serde(rename = "type")]
    kind: String,
    project_id: String,
    private_key_id: String,
    #[serde(deserialize_with = "secret")]
    private_key: SecretString,
    client_email: String,
    token_uri: String,
}

/// Reads a string straight into a [`SecretString`] (wiped when dropped).
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::new)
}

/// Buys FCM access tokens with a service account's key (OAuth 2 JWT bearer
/// grant, RFC 7523): an RS256 assertion posted to the account's `token_uri`.
pub struct FcmAccount {
    key: RsaKeyPair,
    key_id: String,
    email: String,
    token_uri: String,
    project_id: String,
    client: reqwest::Client,
    rng: SystemRandom,
    state: Mutex<FcmTokenState>,
}

/// The cached FCM token and the last failure to get one.
#[derive(Default)]
struct FcmTokenState {
    /// The token and when it ends (Unix seconds).
    token: Option<(BearerToken, u64)>,
    /// When the last token request failed.
    failed_at: Option<u64>,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: BearerToken,
    expires_in: u64,
}

impl FcmAccount {
    /// The account in the key file at `path` (as downloaded from the
    /// Firebase console).
    pub fn from_file(path: &Path) -> Result<Self, PushError> {
        let text = read_file(path, "push.fcm_service_account")?;
        Self::from_json(&text)
    }

    /// The account in a key file's JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, PushError> {
        let bad = |why: &str| PushError::Config(format!("push.fcm_service_account: {why}"));
        let file: ServiceAccountFile = serde_json::from_slice(json).map_err(|_| {
            bad("not a service account key file (JSON with private_key, client_email, token_uri)")
        })?;
        if file.kind != "service_account" {
            return Err(bad("the key file's type is not service_account"));
        }
        let der = pkcs8(
            file.private_key.expose().as_bytes(),
            "push.fcm_service_account's private_key",
        )?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
            .map_err(|_| bad("the private_key is not an RSA key"))?;
        crate::sms_gateway::check_gateway_url(&file.token_uri)
            .map_err(|e| bad(&format!("token_uri: {e}")))?;
        Ok(Self {
            key,
            key_id: file.private_key_id,
            email: file.client_email,
            token_uri: file.token_uri,
            project_id: file.project_id,
            client: super::http_client(false)?,
            rng: SystemRandom::new(),
            state: Mutex::new(FcmTokenState::default()),
        })
    }

    /// The Firebase project the account belongs to.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The signed assertion for `iat`.
    fn assertion(&self, iat: u64) -> Result<String, PushError> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.key_id});
        let claims = json!({
            "iss": self.email,
            "scope": FCM_SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        jwt(&header, &claims, |input| {
            let mut sig = vec![0; self.key.public().modulus_len()];
            self.key
                .sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut sig)
                .map_err(|_| PushError::Config("cannot sign the FCM assertion".into()))?;
            Ok(sig)
        })
    }

    /// The current access token, bought anew when the cached one has less
    /// than [`FCM_TOKEN_MARGIN`] seconds left. Within [`TOKEN_RETRY_SECS`]
    /// of a failed request the endpoint is not asked; meanwhile, and when a
    /// request fails, the old token serves while it is valid.
    pub async fn token(&self) -> Result<BearerToken, PushError> {
        let mut state = self.state.lock().await;
        let now = unix_now();
        if let Some((token, until)) = state.token.as_ref() {
            if now + FCM_TOKEN_MARGIN < *until {
                return Ok(token.clone());
            }
        }
        let paused = state
            .failed_at
            .is_some_and(|at| at <= now && now - at < TOKEN_RETRY_SECS);
        let error = if paused {
            PushError::Transport(
                "the FCM token endpoint failed moments ago; not asked again yet".into(),
            )
        } else {
            match self.buy(now).await {
                Ok((token, expires_in)) => {
                    state.token = Some((token.clone(), now + expires_in));
                    state.failed_at = None;
                    return Ok(token);
                }
                Err(e) => {
                    state.failed_at = Some(now);
                    e
                }
            }
        };
        match state.token.as_ref() {
            Some((token, until)) if now < *until => Ok(token.clone()),
            _ => {
                state.token = None;
                Err(error)
            }
        }
    }

    /// One token request: the assertion for `now` posted to the token endpoint.
    async fn buy(&self, now: u64) -> Result<(BearerToken, u64), PushError> {
        let assertion = self.assertion(now)?;
        let resp = self
            .client
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(PushError::Rejected(resp.status().as_u16()));
        }
        let body: TokenResponse = resp.json().await.map_err(|_| {
            PushError::Transport("the token endpoint's answer is not a token".into())
        })?;
        if !body.access_token.is_valid() {
            return Err(PushError::Transport(
                "the token endpoint's token is unusable".into(),
            ));
        }
        Ok((body.access_token, body.expires_in))
    }

    /// Drops `token` if it is the cached one.
    async fn rejected(&self, token: &BearerToken) {
        let mut state = self.state.lock().await;
        if state.token.as_ref().is_some_and(|(t, _)| t == token) {
            state.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as StdMutex};

    use axum::Router;
    use axum::extract::Form;
    use axum::routing::post;
    use ring::signature::{
        ECDSA_P256_SHA256_FIXED, KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    };

    use super::*;

    const APNS_KEY: &[u8] = include_bytes!("testdata/apns-test-key.p8");
    const FCM_KEY: &str = include_str!("testdata/fcm-test-key.pem");

    /// The three parts of a JWT: header and claims as JSON, and whether the
    /// signature verifies with `verify`.
    fn open_jwt(token: &str, verify: impl Fn(&[u8], &[u8]) -> bool) -> (Value, Value, bool) {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let json = |p: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        (
            json(parts[0]),
            json(parts[1]),
            verify(input.as_bytes(), &signature),
        )
    }

    #[tokio::test]
    async fn apns_tokens_are_es256_jwts_of_the_team_and_are_reused() {
        let signer = ApnsSigner::from_pem(APNS_KEY, "KEY1234567", "TEAM123456").unwrap();
        let public = signer.key.public_key().as_ref().to_vec();
        let first = signer.token().await.unwrap();
        let (header, claims, ok) = open_jwt(first.expose(), |input, sig| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
                .verify(input, sig)
                .is_ok()
        });
        assert!(ok, "signature does not verify with the key's public half");
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        assert_eq!(claims["iss"], "TEAM123456");
        let iat = claims["iat"].as_u64().unwrap();
        assert!(unix_now().abs_diff(iat) <= 5, "iat {iat}");
        assert_eq!(claims.as_object().unwrap().len(), 2);
        // Within the refresh time the same token is sent (Apple refuses
        // renewals more often than every 20 minutes).
        assert_eq!(signer.token().await.unwrap(), first);
        // A refused token younger than 20 minutes is kept (Apple would
        // refuse a renewal too); an older one is replaced at once.
        signer.rejected(&first).await;
        assert_eq!(signer.token().await.unwrap(), first);
        let now = unix_now();
        *signer.cached.lock().await = Some((first.clone(), now - APNS_MIN_RENEWAL));
        signer.rejected(&first).await;
        assert_ne!(signer.token().await.unwrap(), first);
        // A token that is due by the wall clock is replaced.
        *signer.cached.lock().await = Some((first.clone(), now - APNS_TOKEN_REFRESH));
        let fresh = signer.token().await.unwrap();
        assert_ne!(fresh, first);
        // The clock stepped back a little: the token is kept; far: replaced.
        *signer.cached.lock().await = Some((first.clone(), now + 30));
        assert_eq!(signer.token().await.unwrap(), first);
        *signer.cached.lock().await = Some((first.clone(), now + 3600));
        assert_ne!(signer.token().await.unwrap(), first);
        assert!(
            open_jwt(fresh.expose(), |input, sig| UnparsedPublicKey::new(
                &ECDSA_P256_SHA256_FIXED,
                &public
            )
            .verify(input, sig)
            .is_ok())
            .2
        );
        assert!(!format!("{:?}", Credential::Apns(signer)).contains("KEY"));
    }

    #[test]
    fn apns_keys_and_ids_are_checked() {
        let bad_id = ApnsSigner::from_pem(APNS_KEY, "short", "TEAM123456");
        assert!(matches!(bad_id, Err(PushError::Config(m)) if m.contains("apns_key_id")));
        let rsa = ApnsSigner::from_pem(FCM_KEY.as_bytes(), "KEY1234567", "TEAM123456");
        assert!(matches!(rsa, Err(PushError::Config(m)) if m.contains("P-256")));
        let junk = ApnsSigner::from_pem(b"not a key", "KEY1234567", "TEAM123456");
        assert!(matches!(junk, Err(PushError::Config(m)) if m.contains("PEM")));
        let missing = ApnsSigner::from_file(
            Path::new("/nonexistent/AuthKey.p8"),
            "KEY1234567",
            "TEAM123456",
        );
        assert!(
            matches!(missing, Err(PushError::Config(m)) if m.contains("/nonexistent/AuthKey.p8"))
        );
    }

    /// What the fake token endpoint received: the form fields.
    type Asked = Arc<StdMutex<Vec<Vec<(String, String)>>>>;

    /// A fake Google token endpoint on 127.0.0.1 answering `answer` (status, body).
    async fn token_endpoint(status: u16, body: Value) -> (String, Asked) {
        let asked: Asked = Arc::default();
        let a2 = Arc::clone(&asked);
        let app = Router::new().route(
            "/token",
            post(move |Form(form): Form<Vec<(String, String)>>| {
                let a = Arc::clone(&a2);
                let body = body.clone();
                async move {
                    a.lock().unwrap().push(form);
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        axum::Json(body),
                    )
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        (format!("http://{addr}/token"), asked)
    }

    fn service_account(token_uri: &str) -> Vec<u8> {
        json!({
            "type": "service_account",
            "project_id": "ident-test",
            "private_key_id": "0123abcd",
            "private_key": FCM_KEY,
            "client_email": "push@ident-test.iam.gserviceaccount.com",
            "client_id": "1234",
            "token_uri": token_uri,
        })
        .to_string()
        .into_bytes()
    }

    #[tokio::test]
    async fn fcm_tokens_are_bought_with_a_signed_assertion_and_cached() {
        let (uri, asked) = token_endpoint(
            200,
            json!({"access_token": "ya29.fake-1", "expires_in": 3599, "token_type": "Bearer"}),
        )
        .await;
        let account = FcmAccount::from_json(&service_account(&uri)).unwrap();
        assert_eq!(account.project_id(), "ident-test");
        let public = account.key.public().as_ref().to_vec();
        let token = account.token().await.unwrap();
        assert_eq!(token.expose(), "ya29.fake-1");
        assert_eq!(account.token().await.unwrap(), token, "cached");
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "one token request for two pushes");
        let form: std::collections::HashMap<_, _> = asked[0].iter().cloned().collect();
        assert_eq!(
            form["grant_type"],
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        );
        let (header, claims, ok) = open_jwt(&form["assertion"], |input, sig| {
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(input, sig)
                .is_ok()
        });
        assert!(
            ok,
            "the assertion does not verify with the account's public key"
        );
        assert_eq!(
            header,
            json!({"alg": "RS256", "typ": "JWT", "kid": "0123abcd"})
        );
        assert_eq!(claims["iss"], "push@ident-test.iam.gserviceaccount.com");
        assert_eq!(claims["scope"], FCM_SCOPE);
        assert_eq!(claims["aud"], uri);
        let iat = claims["iat"].as_u64().unwrap();
        assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);
        assert!(unix_now().abs_diff(iat) <= 5);
    }

    #[tokio::test]
    async fn fcm_tokens_near_their_end_are_replaced_and_refusals_are_errors() {
        // Expiring within the margin: every call buys a new one.
        let (uri, asked) =
            token_endpoint(200, json!({"access_token": "ya29.short", "expires_in": 60})).await;
        let account = FcmAccount::from_json(&service_account(&uri)).unwrap();
        account.token().await.unwrap();
        account.token().await.unwrap();
        assert_eq!(asked.lock().unwrap().len(), 2);
        // A token FCM refused is dropped and a new one bought.
        let (uri, asked) = token_endpoint(
            200,
            json!({"access_token": "ya29.long", "expires_in": 3600}),
        )
        .await;
        let account = FcmAccount::from_json(&service_account(&uri)).unwrap();
        let token = account.token().await.unwrap();
        account
            .rejected(&BearerToken::new("ya29.other".into()))
            .await;
        account.token().await.unwrap();
        assert_eq!(
            asked.lock().unwrap().len(),
            1,
            "another token's refusal changes nothing"
        );
        account.rejected(&token).await;
        account.token().await.unwrap();
        assert_eq!(asked.lock().unwrap().len(), 2);
        // Refused, or an answer without a usable token: errors, nothing
        // cached, and the endpoint is not asked again right away.
        let (uri, asked) = token_endpoint(400, json!({"error": "invalid_grant"})).await;
        let account = FcmAccount::from_json(&service_account(&uri)).unwrap();
        assert!(matches!(
            account.token().await,
            Err(PushError::Rejected(400))
        ));
        assert!(
            matches!(account.token().await, Err(PushError::Transport(m)) if m.contains("moments ago"))
        );
        assert_eq!(asked.lock().unwrap().len(), 1);
        account.state.lock().await.failed_at = Some(unix_now() - TOKEN_RETRY_SECS);
        assert!(matches!(
            account.token().await,
            Err(PushError::Rejected(400))
        ));
        assert_eq!(
            asked.lock().unwrap().len(),
            2,
            "asked again after the pause"
        );
        // A failure "in the future" (the clock stepped back) pauses nothing.
        account.state.lock().await.failed_at = Some(unix_now() + 3600);
        assert!(matches!(
            account.token().await,
            Err(PushError::Rejected(400))
        ));
        assert_eq!(asked.lock().unwrap().len(), 3);
        // A token near its end still serves while the endpoint fails.
        let old = BearerToken::new("ya29.old".into());
        {
            let mut state = account.state.lock().await;
            state.token = Some((old.clone(), unix_now() + 100));
            state.failed_at = None;
        }
        assert_eq!(account.token().await.unwrap(), old);
        assert_eq!(
            account.token().await.unwrap(),
            old,
            "paused: not asked again"
        );
        assert_eq!(asked.lock().unwrap().len(), 4);
        let (uri, _) = token_endpoint(
            200,
            json!({"access_token": "two words", "expires_in": 3600}),
        )
        .await;
        let account = FcmAccount::from_json(&service_account(&uri)).unwrap();
        assert!(matches!(
            account.token().await,
            Err(PushError::Transport(_))
        ));
        assert!(account.state.lock().await.token.is_none());
    }

    #[test]
    fn service_account_files_are_checked() {
        let bad = |json: Value| match FcmAccount::from_json(json.to_string().as_bytes()) {
            Err(PushError::Config(m)) => m,
            Ok(_) => panic!("accepted {json}"),
            Err(e) => panic!("{e:?}"),
        };
        let mut file: Value =
            serde_json::from_slice(&service_account("https://oauth2.googleapis.com/token"))
                .unwrap();
        assert!(FcmAccount::from_json(file.to_string().as_bytes()).is_ok());
        file["type"] = json!("authorized_user");
        assert!(bad(file.clone()).contains("service_account"));
        file["type"] = json!("service_account");
        file["token_uri"] = json!("http://oauth2.example.com/token");
        assert!(bad(file.clone()).contains("token_uri"));
        file["token_uri"] = json!("https://oauth2.googleapis.com/token");
        file["private_key"] = json!(String::from_utf8_lossy(APNS_KEY));
        let m = bad(file.clone());
        assert!(m.contains("RSA"), "{m}");
        assert!(!m.contains("PRIVATE KEY"), "the key is never repeated: {m}");
        assert!(bad(json!({"type": "service_account"})).contains("not a service account key file"));
    }
}
