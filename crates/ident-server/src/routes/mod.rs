//! The HTTP API: one module per audience.
//!
//! - [`api_key`]: the `RpClient` extractor that authenticates relying parties.
//! - [`health`]: liveness for load balancers.
//! - [`device`]: the device API (`/device/v1`), authenticated by `Ident-Proof`.
//! - [`rp_auth`]: relying parties starting and following logins (`/api/v1/auth`).
//! - [`rp_devices`]: enrollment QR codes and a user's devices.
//! - [`rp_users`]: relying parties managing users, phones, devices, intervals.
//! - [`rp_sms`]: the SMS ledger and quarterly statements.
//! - [`rp_trust`]: a user's trusted browsers (2FA interval): list and revoke.
//! - [`openapi`]: the OpenAPI document.

pub mod api_key;
pub mod device;
pub mod health;
pub mod openapi;
pub mod rp_auth;
pub mod rp_devices;
pub mod rp_sms;
pub mod rp_trust;
pub mod rp_users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;
use crate::state::AppState;

/// The largest request body accepted anywhere (64 KiB); protocol messages are
/// far smaller, so anything bigger is refused before it is parsed.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(device::router())
        .merge(rp_auth::router())
        .merge(rp_devices::router())
        .merge(rp_users::router())
        .merge(rp_sms::router())
        .merge(rp_trust::router())
        .merge(openapi::router())
        .fallback(no_such_path)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(plain_errors_as_problems))
        .with_state(state)
}

/// Any path the API does not have (the portal's own paths are its own).
async fn no_such_path() -> ApiError {
    ApiError::not_found("This path")
}

/// Refusals that axum makes itself — a body over [`MAX_BODY`] (413), a
/// method a path does not take (405), a body or path it cannot extract —
/// come as plain text; the API answers every refusal as problem+json, so
/// they are rewritten here, keeping the status (and `Allow` for 405).
async fn plain_errors_as_problems(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("application/problem+json") || t.starts_with("application/json")
        });
    if json {
        return response;
    }
    let problem = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload-too-large",
            "The request body is too large.",
        )
        .with_detail(format!("At most {} KiB are accepted.", MAX_BODY / 1024)),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method-not-allowed",
            "This method is not allowed for this path.",
        ),
        StatusCode::NOT_FOUND => ApiError::not_found("This path"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported-media-type", "The body must be JSON.")
        }
        s if s.is_client_error() => ApiError::new(s, "bad-request", "The request is malformed."),
        _ => ApiError::internal(),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut rewritten = problem.into_response();
    if let Some(allow) = allow {
        rewritten.headers_mut().insert(header::ALLOW, allow);
    }
    rewritten
}
