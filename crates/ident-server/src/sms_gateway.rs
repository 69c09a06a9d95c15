//! Sending SMS: one small trait, [`SmsGateway`], and three implementations.
//!
//! The service decides *whether* an SMS goes out (rate limits, ledger, codes
//! in `services::sms`); a gateway only delivers text to a number. Keeping the
//! delivery behind a trait lets development and tests read SMS from a file
//! ([`FileOutbox`]), lets production use any provider that accepts a JSON POST
//! ([`HttpSmsGateway`]), and keeps a server with neither configured from
//! pretending to send anything ([`NoGateway`]: every SMS fails, so nobody is
//! charged for a code that never left and the caller hears why).
//!
//! The trait is async (it returns a boxed future, so it stays object safe
//! behind `Arc<dyn SmsGateway>` without an extra crate): the HTTP adapter
//! awaits the network, the file outbox moves its fsync to the blocking pool.
//!
//! Nothing here logs an SMS text or a full number: texts carry login codes.

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ident_core::ports::Clock;
use ident_core::secret::SecretString;
use serde::Deserialize;
use serde_json::json;
use thiserror::Error;

use crate::config::Config;
use crate::domain::PhoneNumber;

/// Why an SMS could not be delivered to the gateway.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SmsError {
    /// The outbox file could not be written.
    #[error("cannot write the SMS outbox: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP gateway could not be reached or did not answer in time.
    #[error("the SMS gateway cannot be reached: {0}")]
    Transport(String),
    /// The HTTP gateway answered with a non-success status.
    #[error("the SMS gateway refused the message with HTTP {0}")]
    Rejected(u16),
    /// The gateway is misconfigured (bad URL or token).
    #[error("the SMS gateway is misconfigured: {0}")]
    Config(String),
}

/// The future [`SmsGateway::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// Something that delivers an SMS.
///
/// `send` resolves once the gateway has *accepted* the message (written and
/// fsynced to the outbox, or a 2xx from the HTTP provider); delivery to the
/// handset is the provider's business. An error means the message was not
/// accepted and the caller must not charge for it.
pub trait SmsGateway: Send + Sync {
    /// Sends `text` to `to`.
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> SendFuture<'a>;

    /// A short name for logs ("file-outbox", "http", "none").
    fn kind(&self) -> &'static str;
}

impl std::fmt::Debug for dyn SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsGateway({})", self.kind())
    }
}

/// Builds the gateway `config` asks for: HTTP when `sms_http_url` is set, the
/// file outbox when `sms_outbox` is set, otherwise [`NoGateway`].
/// [`Config::validate`] refuses both at once.
pub fn from_config(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn SmsGateway>, SmsError> {
    if let Some(url) = &config.sms_http_url {
        let token = config
            .sms_http_token
            .clone()
            .ok_or_else(|| SmsError::Config("sms_http_token is missing".into()))?;
        return Ok(Arc::new(HttpSmsGateway::new(url, token)?));
    }
    if let Some(path) = &config.sms_outbox {
        return Ok(Arc::new(FileOutbox::new(path.clone(), clock)));
    }
    Ok(Arc::new(NoGateway))
}

/// A bearer token for the HTTP gateway: read from the configuration, never
/// printed (`Debug` shows `[REDACTED]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct BearerToken(SecretString);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: String) -> Self {
        Self(SecretString::new(token))
    }

    /// The token text. Never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Whether the token can be sent in an HTTP header (1 to 4096 visible ASCII
    /// characters, no spaces).
    pub fn is_valid(&self) -> bool {
        let t = self.expose();
        !t.is_empty() && t.len() <= 4096 && t.bytes().all(|b| b.is_ascii_graphic())
    }
}

impl From<String> for BearerToken {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken([REDACTED])")
    }
}

/// Development and test gateway: appends one JSON line per SMS,
/// `{"to": "+49…", "text": "…", "time": <unix seconds>}`, to a file, flushed
/// and fsynced before `send` returns. Tests read their codes from it.
pub struct FileOutbox {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// Serialises appends so lines never interleave.
    lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for FileOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileOutbox")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileOutbox {
    /// An outbox writing to `path` (created on first use), stamping lines with `clock`.
    pub fn new(path: PathBuf, clock: Arc<dyn Clock>) -> Self {
        Self {
            path,
            clock,
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(path: &Path, lock: &Mutex<()>, line: &str) -> Result<(), SmsError> {
        let _guard = lock
            .lock()
            .map_err(|_| SmsError::Io(std::io::Error::other("outbox lock poisoned")))?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // The outbox holds live codes: readable by the server's user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(path)?;
        f.write_all(line.as_bytes())?;
        f.flush()?;
        f.sync_data()?;
        Ok(())
    }
}

impl SmsGateway for FileOutbox {
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> SendFuture<'a> {
        let mut line =
            json!({"to": to.as_str(), "text": text, "time": self.clock.now().secs()}).to_string();
        line.push('\n');
        let path = self.path.clone();
        let lock = Arc::clone(&self.lock);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || Self::append(&path, &lock, &line))
                .await
                .map_err(|e| SmsError::Io(std::io::Error::other(e.to_string())))?
        })
    }

    fn kind(&self) -> &'static str {
        "file-outbox"
    }
}

/// A generic HTTP SMS provider adapter: `POST <url>` with
/// `Authorization: Bearer <token>` and the JSON body `{"to": "+49…", "text": "…"}`;
/// any 2xx status means accepted. Times out after 10 seconds.
#[derive(Debug)]
pub struct HttpSmsGateway {
    url: url::Url,
    token: BearerToken,
    client: reqwest::Client,
}

impl HttpSmsGateway {
    /// How long one request may take.
    pub const TIMEOUT: Duration = Duration::from_secs(10);

    /// An adapter posting to `url` with `token`. The URL must be https, or
    /// http to a loopback address (see [`check_gateway_url`]).
    pub fn new(url: &str, token: BearerToken) -> Result<Self, SmsError> {
        let url = check_gateway_url(url).map_err(SmsError::Config)?;
        if !token.is_valid() {
            return Err(SmsError::Config(
                "the token is not a valid bearer token".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Self::TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SmsError::Config(e.without_url().to_string()))?;
        Ok(Self { url, token, client })
    }
}

impl SmsGateway for HttpSmsGateway {
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let resp = self
                .client
                .post(self.url.clone())
                .bearer_auth(self.token.expose())
                .json(&json!({"to": to.as_str(), "text": text}))
                .send()
                .await
                // Without the URL: it may carry provider account names.
                .map_err(|e| SmsError::Transport(e.without_url().to_string()))?;
            let status = resp.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(SmsError::Rejected(status.as_u16()))
            }
        })
    }

    fn kind(&self) -> &'static str {
        "http"
    }
}

/// Parses an SMS gateway URL: `https://…`, or `http://` to a loopback address
/// (local relays and tests). No credentials in the URL; the token is separate.
pub fn check_gateway_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in sms_http_token, not in the URL".into());
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => return Err("the URL has no host".into()),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err("the URL must be https (http only to a loopback address)".into()),
    }
}

/// The gateway used when none is configured: it sends nothing, and says so
/// — every `send` fails, so the service undoes the charge and the rate-limit
/// count and answers `sms-gateway-failed` instead of waiting for a code that
/// never went out. The log names only the masked number, never the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGateway;

impl SmsGateway for NoGateway {
    fn send<'a>(&'a self, to: &'a PhoneNumber, _text: &'a str) -> SendFuture<'a> {
        let masked = to.masked();
        Box::pin(async move {
            tracing::warn!(to = %masked, "no SMS gateway configured; SMS not sent");
            Err(SmsError::Config(
                "no SMS gateway is configured (sms_outbox or sms_http_url)".into(),
            ))
        })
    }

    fn kind(&self) -> &'static str {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ident_core::ports::ManualClock;

    #[tokio::test]
    async fn outbox_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let outbox = FileOutbox::new(path.clone(), Arc::new(ManualClock::at(42)));
        let to = PhoneNumber::parse("0151 12345678").unwrap();
        outbox.send(&to, "eins").await.unwrap();
        outbox.send(&to, "zwei \"ä\"").await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            json!({"to": "+4915112345678", "text": "eins", "time": 42})
        );
        assert_eq!(lines[1]["text"], "zwei \"ä\"");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the outbox is private");
        }
    }

    #[test]
    fn gateway_urls_and_tokens() {
        assert!(check_gateway_url("https://sms.example.de/v1/send").is_ok());
        assert!(check_gateway_url("http://127.0.0.1:9000/send").is_ok());
        assert!(check_gateway_url("http://localhost/send").is_ok());
        assert!(check_gateway_url("http://sms.example.de/send").is_err());
        assert!(check_gateway_url("https://user:pw@sms.example.de/").is_err());
        assert!(check_gateway_url("ftp://sms.example.de/").is_err());
        assert!(check_gateway_url("nonsense").is_err());
        assert!(BearerToken::new("abc.DEF-123".into()).is_valid());
        assert!(!BearerToken::new(String::new()).is_valid());
        assert!(!BearerToken::new("a b".into()).is_valid());
        assert!(!BearerToken::new("a\nb".into()).is_valid());
        assert_eq!(
            format!("{:?}", BearerToken::new("s3cret".into())),
            "BearerToken([REDACTED])"
        );
    }

    #[tokio::test]
    async fn without_a_gateway_nothing_counts_as_sent() {
        let to = PhoneNumber::parse("0151 12345678").unwrap();
        assert!(matches!(
            NoGateway.send(&to, "123456").await,
            Err(SmsError::Config(_))
        ));
        assert_eq!(NoGateway.kind(), "none");
    }
}
