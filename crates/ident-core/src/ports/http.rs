//! The network, as the protocol client sees it: one request in, one response out.
//!
//! The port is blocking on purpose: it keeps the core free of an async runtime,
//! which suits uniffi, the CLI and the tests alike. Hosts with an event loop
//! (Tauri) call the core from a blocking task. Long polls are ordinary requests
//! with a long `timeout`.

use std::time::Duration;

use thiserror::Error;
use url::Url;

/// An HTTP method the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name as it goes on the wire (and into proofs' `htm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// Extra headers (name, value), e.g. `Ident-Proof`, `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// How long to wait for the whole response.
    pub timeout: Duration,
}

/// A response received. Any status code is a response; only a failure to talk to
/// the server at all is a [`TransportError`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if present.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The server could not be reached (DNS, refused connection, no network).
    #[error("the server could not be reached: {0}")]
    Unreachable(String),
    /// The request took longer than its timeout.
    #[error("the server did not answer in time")]
    Timeout,
    /// The TLS handshake failed (bad certificate, wrong host).
    #[error("the secure connection to the server failed: {0}")]
    Tls(String),
    /// The response was larger than the transport accepts.
    #[error("the server's response was too large")]
    TooLarge,
    /// Anything else the transport reports.
    #[error("network error: {0}")]
    Other(String),
}

/// Sends HTTP requests for the protocol client.
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and waits for the response or `request.timeout`.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
