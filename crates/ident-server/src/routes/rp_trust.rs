//! Trusted browsers of a user (the 2FA interval at work).
//!
//! - `GET /api/v1/users/{login}/trusted-browsers` — the browsers that skip the
//!   second factor right now: id, user agent, IP, created, expires.
//! - `DELETE /api/v1/users/{login}/trusted-browsers/{id}` — ends one.
//! - `DELETE /api/v1/users/{login}/trusted-browsers` — ends all of them.
//!
//! Listing follows `authz::can_view_user`; revoking follows
//! `authz::can_set_interval` (whoever may change how often the user is asked
//! may also make them be asked again). Issuing and checking tokens is done by
//! the login flow through `services::trust`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Serialize;

use super::rp_users::RpCaller;
use crate::domain::LoginName;
use crate::problem::{ApiError, ProblemBody};
use crate::services::{authz, trust};
use crate::state::AppState;
use crate::store::User;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, revoke_one, revoke_all),
    components(schemas(TrustedBrowsersResponse, TrustedBrowserView, RevokedResponse))
)]
pub struct RpTrustApi;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/users/{login}/trusted-browsers",
            get(list).delete(revoke_all),
        )
        .route(
            "/api/v1/users/{login}/trusted-browsers/{id}",
            delete(revoke_one),
        )
}

/// One trusted browser.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrustedBrowserView {
    /// The token id (`jti`).
    pub id: String,
    /// The browser's user agent when it was trusted.
    pub user_agent: String,
    /// Its IP address then.
    pub ip: String,
    /// When it was trusted (Unix seconds).
    pub created_at: i64,
    /// When the trust ends at the latest (Unix seconds); earlier if the
    /// interval is shortened.
    pub expires_at: i64,
}

/// The list answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrustedBrowsersResponse {
    /// The user's login.
    pub login: String,
    /// The user's current 2FA interval in days.
    pub interval_days: u32,
    /// Newest first.
    pub browsers: Vec<TrustedBrowserView>,
}

async fn target(state: &AppState, login: &str) -> Result<User, ApiError> {
    let login = LoginName::parse(login).map_err(|_| ApiError::not_found("The user"))?;
    state
        .db(move |s| s.user_by_login(&login))
        .await?
        .ok_or_else(|| ApiError::not_found("The user"))
}

/// `GET /api/v1/users/{login}/trusted-browsers`.
#[utoipa::path(
    get, path = "/api/v1/users/{login}/trusted-browsers", tag = "trust",
    params(("login" = String, Path, description = "The user's login"), ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for")),
    responses(
        (status = 200, description = "The browsers that skip the second factor now, newest first", body = TrustedBrowsersResponse),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such user", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn list(
    caller: RpCaller,
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> Result<Json<TrustedBrowsersResponse>, ApiError> {
    let user = target(&state, &login).await?;
    authz::can_view_user(caller.actor.as_ref(), &user).map_err(ApiError::forbidden)?;
    let interval = user.interval.seconds();
    let browsers = trust::list(&state, &user)
        .await?
        .into_iter()
        .map(|b| TrustedBrowserView {
            expires_at: b.expires_at.min(b.created_at.saturating_add(interval)),
            id: b.id,
            user_agent: b.user_agent,
            ip: b.ip,
            created_at: b.created_at,
        })
        .collect();
    Ok(Json(TrustedBrowsersResponse {
        login: user.login.as_str().to_owned(),
        interval_days: user.interval.get(),
        browsers,
    }))
}

/// `DELETE /api/v1/users/{login}/trusted-browsers/{id}`.
#[utoipa::path(
    delete, path = "/api/v1/users/{login}/trusted-browsers/{id}", tag = "trust",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("id" = String, Path, description = "The trusted browser's id"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 204, description = "Ended (also when it already was)"),
        (status = 403, description = "`forbidden`: the user themself or the broker side", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such user or browser (or purged after the retention)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn revoke_one(
    caller: RpCaller,
    State(state): State<AppState>,
    Path((login, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = target(&state, &login).await?;
    authz::can_set_interval(caller.actor.as_ref(), &user).map_err(ApiError::forbidden)?;
    if trust::revoke_one(&state, &user, &id, &caller.changed_by().actor).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The trusted browser"))
    }
}

/// The answer of revoking all.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedResponse {
    /// How many trusted browsers were ended.
    pub revoked: u64,
}

/// `DELETE /api/v1/users/{login}/trusted-browsers`.
#[utoipa::path(
    delete, path = "/api/v1/users/{login}/trusted-browsers", tag = "trust",
    params(("login" = String, Path, description = "The user's login"), ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for")),
    responses(
        (status = 200, description = "All ended; how many", body = RevokedResponse),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such user", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn revoke_all(
    caller: RpCaller,
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> Result<Json<RevokedResponse>, ApiError> {
    let user = target(&state, &login).await?;
    authz::can_set_interval(caller.actor.as_ref(), &user).map_err(ApiError::forbidden)?;
    let (uid, now) = (user.id, state.now());
    let reason = format!("revoked by {}", caller.changed_by().actor);
    let revoked = state
        .db(move |s| trust::revoke_all(s, uid, now, &reason))
        .await?;
    Ok(Json(RevokedResponse { revoked }))
}
