//! The relying-party login API: start a second factor (`POST /api/v1/auth`),
//! wait for its status (`GET /api/v1/auth/{txn}?wait=N`), submit an SMS code
//! (`POST /api/v1/auth/{txn}/sms`), withdraw a pending login
//! (`DELETE /api/v1/auth/{txn}`). The rules are in `services::auth`.
//!
//! These calls are made by the portal during a login, for a browser that is
//! not logged in yet, so they take the API key only (no `Ident-Actor`).
//! A login belongs to the API key that started it: its status and its SMS
//! code are answered only for that key, any other key gets `not-found` as for
//! an unknown id (so a key cannot even learn that the id exists). Transaction
//! ids are also 128-bit random, unguessable.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

use crate::problem::{ApiError, ProblemBody};
use crate::routes::api_key::RpClient;
use crate::routes::device::wait_param;
use crate::services::auth::{
    self as service, BrowserContext, RequestedMethod, StartRequest, Started, StartedMethod,
    StatusView,
};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth", post(start))
        .route("/api/v1/auth/{txn}", get(status).delete(withdraw))
        .route("/api/v1/auth/{txn}/sms", post(sms_code))
}

/// The OpenAPI description of this module's paths.
#[derive(OpenApi)]
#[openapi(
    paths(start, status, sms_code, withdraw),
    components(schemas(
        StartRequest,
        BrowserContext,
        RequestedMethod,
        Started,
        StartedMethod,
        StatusView,
        SmsCodeBody
    )),
    tags((name = "auth", description = "Second factors of logins: push, SMS, trusted browsers"))
)]
pub struct RpAuthApi;

/// Parses a JSON body; the refusal never repeats the body (it may hold a code or token).
pub(crate) fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::bad_request("The body is not valid JSON.")
        }
        _ => {
            // serde's message names the field but may quote the value: keep
            // only the part before a quoted value.
            let msg = e.to_string();
            let msg = msg.split(['"', '`']).next().unwrap_or_default().trim();
            ApiError::bad_request(format!(
                "The body is not what this endpoint expects ({msg})."
            ))
        }
    })
}

/// `POST /api/v1/auth`: start the second factor of a login.
#[utoipa::path(
    post, path = "/api/v1/auth", tag = "auth",
    request_body = StartRequest,
    responses(
        (status = 200, description = "Started (or trusted: approved at once)", body = Started),
        (status = 404, description = "`not-found`: no such user", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`no-device` (push without a device), `phone-missing` (SMS without a number)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: bad `context.ip` or `service`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 423, description = "`push-locked`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-challenges`, or `rate-limited` (SMS)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn start(
    State(state): State<AppState>,
    client: RpClient,
    bytes: Bytes,
) -> Result<Json<Started>, ApiError> {
    let req: StartRequest = json_body(&bytes)?;
    Ok(Json(service::start(&state, &client, req).await?))
}

/// `GET /api/v1/auth/{txn}?wait=N`: the status, held up to N seconds
/// (at most `policy.max_wait_secs`) while it is pending.
#[utoipa::path(
    get, path = "/api/v1/auth/{txn}", tag = "auth",
    params(
        ("txn" = String, Path, description = "Transaction id"),
        ("wait" = Option<u64>, Query, description = "Long poll: seconds to wait for a decision"),
    ),
    responses(
        (status = 200, description = "The status", body = StatusView),
        (status = 404, description = "`not-found`: no such login, started with another API key, or finished longer ago than the retention keeps logins (`[retention] login_days`, 90 by default)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn status(
    State(state): State<AppState>,
    client: RpClient,
    Path(txn): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<StatusView>, ApiError> {
    let wait = wait_param(query.as_deref(), state.config.policy.max_wait_secs)
        .map_err(|_| ApiError::bad_request("`wait` must be a whole number of seconds."))?;
    if txn.is_empty() || txn.len() > 64 {
        return Err(ApiError::not_found("The login transaction"));
    }
    Ok(Json(service::status(&state, &client, &txn, wait).await?))
}

/// `POST /api/v1/auth/{txn}/sms`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCodeBody {
    /// The six digits the user typed (spaces are ignored).
    pub code: String,
}

impl std::fmt::Debug for SmsCodeBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsCodeBody { code: [REDACTED] }")
    }
}

/// `POST /api/v1/auth/{txn}/sms`: check the SMS code the user typed.
#[utoipa::path(
    post, path = "/api/v1/auth/{txn}/sms", tag = "auth",
    params(("txn" = String, Path, description = "Transaction id")),
    request_body = SmsCodeBody,
    responses(
        (status = 200, description = "Approved", body = StatusView),
        (status = 400, description = "`sms-code-invalid` (`tries_left` says how many codes may still be tried), `sms-code-expired`, `sms-code-malformed`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`not-sms`, `auth-decided`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn sms_code(
    State(state): State<AppState>,
    client: RpClient,
    Path(txn): Path<String>,
    bytes: Bytes,
) -> Result<Json<StatusView>, ApiError> {
    let body: SmsCodeBody = json_body(&bytes)?;
    Ok(Json(
        service::check_sms(&state, &client, &txn, &body.code).await?,
    ))
}

/// `DELETE /api/v1/auth/{txn}`: withdraw a pending login.
#[utoipa::path(
    delete, path = "/api/v1/auth/{txn}", tag = "auth",
    params(("txn" = String, Path, description = "Transaction id")),
    responses(
        (status = 200, description = "Withdrawn (`status: withdrawn`); also when it already was. Its push challenges are closed: devices no longer list them, an answer gets `challenge-not-found`. Not a denial; it no longer counts toward the open-login limit.", body = StatusView),
        (status = 404, description = "`not-found`: no such login, or started with another API key", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`auth-decided`: the login is already approved, denied, expired or locked", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn withdraw(
    State(state): State<AppState>,
    client: RpClient,
    Path(txn): Path<String>,
) -> Result<Json<StatusView>, ApiError> {
    if txn.is_empty() || txn.len() > 64 {
        return Err(ApiError::not_found("The login transaction"));
    }
    Ok(Json(service::withdraw(&state, &client, &txn).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_sms_code() {
        let body: SmsCodeBody = serde_json::from_str(r#"{"code": "493817"}"#).unwrap();
        assert!(!format!("{body:?}").contains("493817"));
    }
}
