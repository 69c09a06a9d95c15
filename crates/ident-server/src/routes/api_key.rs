//! Authentication of relying parties: `Authorization: Bearer ik_…`.
//!
//! API keys are 256-bit random strings; the store keeps only their SHA-256,
//! so a stolen database yields no usable key. Any handler that takes an
//! [`RpClient`] argument is reachable only with a valid, unrevoked key.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::admin::api_key_hash;
use crate::problem::ApiError;
use crate::state::AppState;

/// The relying party that made this request.
#[derive(Debug, Clone)]
pub struct RpClient {
    /// The API key's database id.
    pub key_id: i64,
    /// The API key's name (for the audit log: `api-key:<name>`).
    pub name: String,
}

impl RpClient {
    /// The audit actor string for this client.
    pub fn actor(&self) -> String {
        format!("api-key:{}", self.name)
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "api-key-invalid",
        "A valid API key is required.",
    )
    .with_detail("Send the portal's API key as `Authorization: Bearer <key>`.")
}

impl FromRequestParts<AppState> for RpClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let key = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|k| k.starts_with("ik_") && k.len() <= 100)
            .ok_or_else(unauthorized)?;
        let hash = api_key_hash(key);
        let record = state
            .db(move |s| s.api_key_by_hash(&hash))
            .await?
            .ok_or_else(unauthorized)?;
        Ok(RpClient {
            key_id: record.id,
            name: record.name,
        })
    }
}
