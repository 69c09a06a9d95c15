//! What a portal page answers when it cannot do its job: a plain sentence in
//! the user's language, never an internal message.
//!
//! Handlers return `Result<_, PortalError>` and use `?` on API calls and the
//! database. The error itself does not know the language; it marks its
//! response with an [`ErrorPage`] and the portal's response layer
//! (`render::finish`) renders the page in the request's language.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use thiserror::Error;

use super::api::CallError;
use super::store::PortalStoreError;

/// Why a portal request failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PortalError {
    /// Nobody is logged in: go to the login page.
    #[error("login required")]
    LoginRequired,
    /// The user's role may not use this page.
    #[error("forbidden")]
    Forbidden,
    /// No such page or item.
    #[error("not found")]
    NotFound,
    /// The CSRF token or the origin check failed (or the session expired).
    #[error("CSRF check failed")]
    Csrf,
    /// The form could not be read.
    #[error("the form could not be read")]
    BadForm,
    /// The API refused or could not be reached.
    #[error(transparent)]
    Api(#[from] CallError),
    /// The portal database failed.
    #[error(transparent)]
    Store(#[from] PortalStoreError),
    /// A template failed to render.
    #[error("template: {0}")]
    Render(String),
    /// Anything else that should not happen.
    #[error("internal: {0}")]
    Internal(String),
}

/// The mark on an error response: which sentence the error page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPage {
    /// The i18n key of the sentence.
    pub message: &'static str,
}

/// The sentence of an error that also ends the session: the logged-in
/// user no longer exists.
pub const ACCOUNT_GONE: &str = "error_account_gone";

impl PortalError {
    /// The status and the sentence (i18n key) of this error.
    pub fn status_and_message(&self) -> (StatusCode, &'static str) {
        match self {
            PortalError::LoginRequired => (StatusCode::SEE_OTHER, "session_expired"),
            PortalError::Forbidden => (StatusCode::FORBIDDEN, "error_forbidden"),
            PortalError::NotFound => (StatusCode::NOT_FOUND, "error_not_found"),
            PortalError::Csrf => (StatusCode::FORBIDDEN, "error_csrf"),
            PortalError::BadForm => (StatusCode::BAD_REQUEST, "error_csrf"),
            PortalError::Api(e) => match e.slug() {
                Some("forbidden") => (StatusCode::FORBIDDEN, "error_forbidden"),
                // The logged-in user no longer exists (deleted by the back
                // office): the response layer ends the session.
                Some("actor-unknown") => (StatusCode::FORBIDDEN, ACCOUNT_GONE),
                Some("not-found") => (StatusCode::NOT_FOUND, "error_not_found"),
                _ => (StatusCode::BAD_GATEWAY, "error_api"),
            },
            PortalError::Store(_) | PortalError::Render(_) | PortalError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "error_internal")
            }
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        if matches!(self, PortalError::LoginRequired) {
            return Redirect::to("/portal/login").into_response();
        }
        let (status, message) = self.status_and_message();
        match &self {
            PortalError::Api(e) if status == StatusCode::BAD_GATEWAY => {
                tracing::warn!(error = %e, "portal: an API call failed");
            }
            PortalError::Store(_) | PortalError::Render(_) | PortalError::Internal(_) => {
                tracing::error!(error = %self, "portal: request failed");
            }
            _ => {}
        }
        // The body is replaced by the error page in the request's language;
        // this one is only seen if that layer is missing.
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Fehler / Error",
        )
            .into_response();
        response.extensions_mut().insert(ErrorPage { message });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::api::Problem;

    #[test]
    fn api_refusals_map_to_plain_pages() {
        let problem = |slug: &str| {
            PortalError::Api(CallError::Problem(Problem {
                status: 403,
                slug: slug.into(),
                title: String::new(),
                detail: None,
                retry_after: None,
                tries_left: None,
            }))
        };
        assert_eq!(
            problem("forbidden").status_and_message(),
            (StatusCode::FORBIDDEN, "error_forbidden")
        );
        assert_eq!(
            problem("server-error").status_and_message().0,
            StatusCode::BAD_GATEWAY
        );
        let r = PortalError::Forbidden.into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            r.extensions().get::<ErrorPage>(),
            Some(&ErrorPage {
                message: "error_forbidden"
            })
        );
        let r = PortalError::LoginRequired.into_response();
        assert_eq!(r.headers()[header::LOCATION], "/portal/login");
    }
}
