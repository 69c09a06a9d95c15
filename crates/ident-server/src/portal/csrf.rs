//! Cross-site request forgery: a token per session in every form, checked in
//! constant time, plus a same-origin check of the request.
//!
//! Every POST handler takes [`CsrfForm`], which refuses the request before the
//! handler runs unless (1) the browser says the request comes from this site
//! (`Sec-Fetch-Site: same-origin`, else `Origin`, else `Referer` naming this
//! host) and (2) the form's `csrf` field equals the session's token. So a
//! refused request changes nothing. `Referrer-Policy: no-referrer` makes
//! browsers send `Origin: null` on form posts, which is why `Sec-Fetch-Site`
//! is asked first; a client that sends none of the three headers (not a
//! browser) is judged by the token alone.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header};
use ident_core::jose::b64;
use ring::rand::{SecureRandom, SystemRandom};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::PortalState;
use super::error::PortalError;
use super::i18n::Lang;
use super::session::{MaybeSession, Session};

/// The largest form accepted (forms here are small; the mail editor's too).
pub const MAX_FORM: usize = 256 * 1024;

/// A session's CSRF token: 256 random bits. Prints as `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken([u8; 32]);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken([REDACTED])")
    }
}

impl CsrfToken {
    /// A new random token.
    pub fn generate() -> Result<Self, PortalError> {
        let mut raw = [0u8; 32];
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| PortalError::Internal("no randomness".into()))?;
        Ok(Self(raw))
    }

    /// A token read back from the database.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw token.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The value of the hidden `csrf` field.
    pub fn form_value(&self) -> String {
        b64::encode(&self.0)
    }

    /// Whether `submitted` is this token; the comparison takes the same time
    /// wherever the first difference is.
    pub fn verify(&self, submitted: &str) -> bool {
        let Ok(bytes) = b64::decode(submitted) else {
            return false;
        };
        bytes.len() == 32 && bool::from(bytes.as_slice().ct_eq(&self.0))
    }
}

/// Whether the request's browser headers say it comes from this site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|h| h.to_str().ok())
        .filter(|o| *o != "null");
    if let Some(origin) = origin {
        return host.is_some_and(|h| same_host(origin, h));
    }
    if let Some(referer) = headers.get(header::REFERER).and_then(|h| h.to_str().ok()) {
        return host.is_some_and(|h| same_host(referer, h));
    }
    true
}

/// Whether the URL `url` names the host (and port) of the `Host` header `host`.
fn same_host(url: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let Ok(ours) = url::Url::parse(&format!("{}://{host}/", url.scheme())) else {
        return false;
    };
    url.host_str().is_some()
        && url.host_str() == ours.host_str()
        && url.port_or_known_default() == ours.port_or_known_default()
}

/// A form posted with a valid CSRF token from this site, and its session.
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// The session the token belongs to.
    pub session: Session,
    /// The language.
    pub lang: Lang,
    /// The form's other fields.
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<PortalState> for CsrfForm<T> {
    type Rejection = PortalError;

    async fn from_request(req: Request, state: &PortalState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        if !same_origin(&parts.headers) {
            return Err(PortalError::Csrf);
        }
        let MaybeSession { session, lang, .. } =
            MaybeSession::from_request_parts(&mut parts, state).await?;
        let Some(session) = session else {
            return Err(PortalError::Csrf);
        };
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| PortalError::BadForm)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PortalError::BadForm)?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !session.csrf.verify(token) {
            return Err(PortalError::Csrf);
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| PortalError::BadForm)?;
        Ok(Self {
            session,
            lang,
            form,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_verify_only_themselves() {
        let a = CsrfToken::generate().unwrap();
        let b = CsrfToken::generate().unwrap();
        assert!(a.verify(&a.form_value()));
        assert!(!a.verify(&b.form_value()));
        assert!(!a.verify(""));
        assert!(!a.verify("not base64!"));
        assert!(!a.verify(&a.form_value()[..40]));
        assert_eq!(format!("{a:?}"), "CsrfToken([REDACTED])");
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_checks() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:9090")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "portal.example.de"),
            ("origin", "https://portal.example.de")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "null"),
            ("referer", "http://127.0.0.1:8080/portal/login")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("referer", "http://evil.example/portal/login")
        ])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "http://127.0.0.1:8080"
        )])));
        // no browser headers at all: the token decides
        assert!(same_origin(&headers(&[host])));
    }
}
