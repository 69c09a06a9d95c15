//! RFC 9457 problem details: every refusal the service makes, as
//! `application/problem+json` with a stable `type` slug.
//!
//! Handlers return `Result<_, ApiError>`; this module is the one place that
//! turns an error into a status code and a body. The slugs are the contract
//! clients (the app, portals) match on; the titles are for people.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable slug, e.g. `proof-expired`.
    pub slug: &'static str,
    /// A short, human-readable summary (constant per slug).
    pub title: &'static str,
    /// What happened in this case, if there is more to say. Never a secret.
    pub detail: Option<String>,
    /// Seconds to send as `Retry-After` (429 and 503 answers).
    pub retry_after: Option<u64>,
    /// Tries left after a wrong SMS code (`sms-code-invalid`).
    pub tries_left: Option<u32>,
}

/// The JSON body of a problem response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `urn:ident:problem:<slug>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Details for this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// With `sms-code-invalid`: how many more codes may be tried (an RFC 9457
    /// extension member, so clients need not read it out of `detail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
}

/// The `type` URI of a slug.
pub fn type_uri(slug: &str) -> String {
    format!("urn:ident:problem:{slug}")
}

impl ApiError {
    /// A problem with `status`, `slug` and `title`.
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Self {
            status,
            slug,
            title,
            detail: None,
            retry_after: None,
            tries_left: None,
        }
    }

    /// The same problem with a `Retry-After: secs` header.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The same problem telling how many more SMS codes may be tried.
    pub fn with_tries_left(mut self, tries: u32) -> Self {
        self.tries_left = Some(tries);
        self
    }

    /// The same problem with a detail sentence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// 400: the request body or parameters could not be parsed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed.",
        )
        .with_detail(detail)
    }

    /// 404: the thing asked for does not exist (or the caller may not know it does).
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found.")
            .with_detail(format!("{what} was not found."))
    }

    /// 422 `validation-failed`: the input parsed but a value is not acceptable;
    /// `field` names it (e.g. `phone`, `days`, or a header such as `Ident-Actor`).
    /// `why` must not repeat the value (it may be a secret or a phone number).
    pub fn validation_failed(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "A value in the request is not acceptable.",
        )
        .with_detail(format!("`{field}`: {why}"))
    }

    /// 403 `forbidden`: the caller (or the user it acts for) may not do this.
    pub fn forbidden(why: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "This is not allowed.")
            .with_detail(why.to_string())
    }

    /// 403 `actor-unknown`: the `Ident-Actor` header names no user.
    pub fn actor_unknown() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "actor-unknown",
            "The acting user is unknown.",
        )
        .with_detail("The `Ident-Actor` header must be the login of an existing user.")
    }

    /// 409 `login-taken`: a user with this login already exists.
    pub fn login_taken() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "login-taken",
            "The login name is taken.",
        )
        .with_detail("`login`: another user already has this login name.")
    }

    /// 409 `broker-in-use`: a broker cannot be deleted while users or SMS
    /// charges refer to them; `detail` says which.
    pub fn broker_in_use(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "broker-in-use",
            "The broker cannot be deleted.",
        )
        .with_detail(detail)
    }

    /// 409 `login-taken` for a login that belonged to a deleted user.
    pub fn login_retired() -> Self {
        Self::login_taken()
            .with_detail("`login`: this login belonged to a deleted user and is not given again.")
    }

    /// 401 `credentials-invalid`: wrong login or password (never says which).
    pub fn credentials_invalid() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "credentials-invalid",
            "The login name or the password is wrong.",
        )
    }

    /// 429 `too-many-attempts`: too many wrong passwords for this login recently.
    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-attempts",
            "Too many wrong passwords; try again later.",
        )
        .with_detail(format!("Try again in {retry_after_secs} seconds."))
        .with_retry_after(retry_after_secs)
    }

    /// 500: something broke inside; details go to the log, not the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on the server.",
        )
    }
}

/// The device API's problems: the slug, status and title of the protocol's
/// [`ProblemType`](ident_core::protocol::ProblemType), one list for both ends.
impl From<ident_core::protocol::ProblemType> for ApiError {
    fn from(kind: ident_core::protocol::ProblemType) -> Self {
        Self::new(
            StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            kind.slug(),
            kind.title(),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.slug)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            type_uri: type_uri(self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            tries_left: self.tries_left,
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_problem_json() {
        let resp = ApiError::bad_request("the field `login` is missing").into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(!resp.headers().contains_key(header::RETRY_AFTER));
        let resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many.")
            .with_retry_after(42)
            .into_response();
        assert_eq!(resp.headers()[header::RETRY_AFTER], "42");
    }
}
