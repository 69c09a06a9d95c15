//! The [`HttpTransport`] port implemented with blocking reqwest and rustls
//! (ring provider, Mozilla root certificates), for the CLI and desktop builds.
//!
//! Two protocol rules live here rather than in the client, because only the
//! transport sees them: redirects are never followed (a redirect would carry a
//! request proof to another origin and the protocol has no use for one; the
//! 3xx response is returned as it is), and response bodies are read only up to
//! a cap, so a hostile server cannot make the app buffer without bound.

use std::error::Error as _;
use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use super::http::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use crate::protocol::MAX_RESPONSE_BYTES;

/// How long establishing a connection (TCP and TLS) may take at most.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// An [`HttpTransport`] over reqwest's blocking client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: Client,
    max_body: usize,
}

impl ReqwestTransport {
    /// A transport that follows no redirects and reads at most
    /// [`MAX_RESPONSE_BYTES`] of a body. Must not be called from inside an
    /// async runtime (reqwest's blocking client runs its own).
    pub fn new() -> Result<Self, TransportError> {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("ident/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Other(describe(&e)))?;
        Ok(Self {
            client,
            max_body: MAX_RESPONSE_BYTES,
        })
    }

    /// The same transport with another body cap, in bytes.
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }
}

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// The error and its causes in one line, without the URL.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn looks_like_tls(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "peer is incompatible"]
        .iter()
        .any(|w| t.contains(w))
}

fn map_error(e: reqwest::Error) -> TransportError {
    let e = e.without_url();
    let text = describe(&e);
    if e.is_timeout() {
        TransportError::Timeout
    } else if looks_like_tls(&text) {
        TransportError::Tls(text)
    } else if e.is_connect() {
        TransportError::Unreachable(text)
    } else {
        TransportError::Other(text)
    }
}

fn map_io_error(e: std::io::Error) -> TransportError {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return TransportError::Timeout;
    }
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<reqwest::Error>())
        .map(|r| r.is_timeout());
    match inner {
        Some(true) => TransportError::Timeout,
        _ => TransportError::Other(e.to_string()),
    }
}

impl HttpTransport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let mut builder = self
            .client
            .request(method(request.method), request.url)
            .timeout(request.timeout);
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| TransportError::Other("invalid header name".into()))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| TransportError::Other("invalid header value".into()))?;
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().map_err(map_error)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cap = u64::try_from(self.max_body).unwrap_or(u64::MAX);
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(TransportError::TooLarge);
        }
        // Read one byte more than allowed to tell "exactly the cap" from "over it".
        let mut body = Vec::new();
        let mut limited = response.take(cap.saturating_add(1));
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = limited.read(&mut chunk).map_err(map_io_error)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
            if body.len() > self.max_body {
                return Err(TransportError::TooLarge);
            }
            if started.elapsed() > request.timeout {
                return Err(TransportError::Timeout);
            }
        }
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }
}
