//! Enrollments and devices, for portals.
//!
//! - `POST /api/v1/users/{login}/enrollments` — a one-time enrollment QR
//!   code (`{id, uri, link, expires_at, qr_svg, qr_png}`); 409 `phone-missing`
//!   without a mobile number on file.
//! - `GET /api/v1/enrollments/{id}` — `pending`, `completed` (with the
//!   device id) or `expired`, for a live confirmation on the portal.
//! - `GET /api/v1/enrollments/{id}/qr.svg|qr.png` — the QR image, only while
//!   the enrollment can still be scanned (404 afterwards).
//! - `GET /api/v1/users/{login}/devices`, `DELETE …/devices/{id}`.
//!
//! Who may: the QR code holds a token that enrolls a phone *as the user*, so
//! creating and showing it is for the user themself or the portal's
//! administrative context (no `Ident-Actor`) only — a broker who could show
//! their customer's QR code could enroll their own phone for the customer.
//! Listing and removing devices (a lost phone) follow
//! `authz::can_manage_devices`; enrollment codes `authz::can_enroll`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::OpenApi;

use super::rp_users::RpCaller;
use crate::domain::LoginName;
use crate::problem::{ApiError, ProblemBody};
use crate::services::authz;
use crate::services::enroll::{self, EnrollmentCreated, EnrollmentState};
use crate::state::AppState;
use crate::store::{NewAuditEntry, User};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{login}/enrollments", post(create_enrollment))
        .route("/api/v1/enrollments/{id}", get(enrollment_status))
        .route("/api/v1/enrollments/{id}/qr.svg", get(qr_svg))
        .route("/api/v1/enrollments/{id}/qr.png", get(qr_png))
        .route("/api/v1/users/{login}/devices", get(list_devices))
        .route("/api/v1/users/{login}/devices/{id}", delete(delete_device))
}

/// The OpenAPI description of this module's paths.
#[derive(OpenApi)]
#[openapi(
    paths(create_enrollment, enrollment_status, qr_svg, qr_png, list_devices, delete_device),
    components(schemas(EnrollmentCreated, EnrollmentView, EnrollmentState, DeviceView, DeviceList)),
    tags((name = "devices", description = "Enrollment QR codes and enrolled devices"))
)]
pub struct RpDevicesApi;

/// Self or the administrative context only (see the module docs).
fn may_enroll(actor: Option<&User>, target: &User) -> Result<(), ApiError> {
    authz::can_enroll(actor, target).map_err(ApiError::forbidden)
}

async fn user_by_login(state: &AppState, login: &str) -> Result<User, ApiError> {
    let login = LoginName::parse(login).map_err(|_| ApiError::not_found("The user"))?;
    state
        .db(move |s| s.user_by_login(&login))
        .await?
        .ok_or_else(|| ApiError::not_found("The user"))
}

/// `POST /api/v1/users/{login}/enrollments`.
#[utoipa::path(
    post, path = "/api/v1/users/{login}/enrollments", tag = "devices",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 201, description = "Created; show `uri` as a QR code", body = EnrollmentCreated),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`phone-missing`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn create_enrollment(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<Response, ApiError> {
    let user = user_by_login(&state, &login).await?;
    may_enroll(caller.actor.as_ref(), &user)?;
    let created = enroll::create(&state, &user, &caller.changed_by().actor).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// An enrollment's status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrollmentView {
    /// Its id.
    pub id: i64,
    /// `pending`, `completed` or `expired`.
    pub status: EnrollmentState,
    /// When the token stops (or stopped) working.
    pub expires_at: i64,
    /// The enrolled device, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// When it was completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
}

/// Loads enrollment `id` and its user, checking `check` for the caller.
async fn load_enrollment(
    state: &AppState,
    caller: &RpCaller,
    id: &str,
    check: fn(Option<&User>, &User) -> Result<(), ApiError>,
) -> Result<crate::store::devices::Enrollment, ApiError> {
    let not_found = || ApiError::not_found("The enrollment");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let (e, user) = state
        .db(move |s| {
            let Some(e) = s.enrollment(id)? else {
                return Ok(None);
            };
            let user = s.user(e.user_id)?;
            Ok(user.map(|u| (e, u)))
        })
        .await?
        .ok_or_else(not_found)?;
    check(caller.actor.as_ref(), &user)?;
    Ok(e)
}

fn may_view(actor: Option<&User>, target: &User) -> Result<(), ApiError> {
    authz::can_view_user(actor, target).map_err(ApiError::forbidden)
}

/// `GET /api/v1/enrollments/{id}`.
#[utoipa::path(
    get, path = "/api/v1/enrollments/{id}", tag = "devices",
    params(("id" = i64, Path, description = "Enrollment id")),
    responses(
        (status = 200, description = "The status", body = EnrollmentView),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn enrollment_status(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(id): Path<String>,
) -> Result<Json<EnrollmentView>, ApiError> {
    let e = load_enrollment(&state, &caller, &id, may_view).await?;
    let status = enroll::state_of(&e, state.now());
    let done = status == EnrollmentState::Completed;
    Ok(Json(EnrollmentView {
        id: e.id,
        status,
        expires_at: e.expires_at,
        device_id: e.device_id.filter(|_| done),
        completed_at: e.used_at,
    }))
}

async fn scannable_uri(state: &AppState, caller: &RpCaller, id: &str) -> Result<String, ApiError> {
    let e = load_enrollment(state, caller, id, may_enroll).await?;
    enroll::scannable_link(state, &e)
        .await?
        .map(|l| l.to_uri())
        .ok_or_else(|| {
            ApiError::not_found("The enrollment code")
                .with_detail("The enrollment code was used or has expired; create a new one.")
        })
}

fn image(content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The image holds a one-time secret: keep it out of caches.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/enrollments/{id}/qr.svg`.
#[utoipa::path(
    get, path = "/api/v1/enrollments/{id}/qr.svg", tag = "devices",
    params(("id" = i64, Path, description = "Enrollment id")),
    responses(
        (status = 200, description = "The QR code", content_type = "image/svg+xml"),
        (status = 404, description = "`not-found`: unknown, used or expired", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn qr_svg(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let uri = scannable_uri(&state, &caller, &id).await?;
    Ok(image("image/svg+xml", enroll::qr_svg(&uri)?.into_bytes()))
}

/// `GET /api/v1/enrollments/{id}/qr.png`.
#[utoipa::path(
    get, path = "/api/v1/enrollments/{id}/qr.png", tag = "devices",
    params(("id" = i64, Path, description = "Enrollment id")),
    responses(
        (status = 200, description = "The QR code", content_type = "image/png"),
        (status = 404, description = "`not-found`: unknown, used or expired", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn qr_png(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let uri = scannable_uri(&state, &caller, &id).await?;
    Ok(image("image/png", enroll::qr_png(&uri)?))
}

/// One enrolled device.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// Its id.
    pub id: String,
    /// The name it gave itself.
    pub name: String,
    /// `ios`, `android`, `macos`, `windows`, `linux` or `other`.
    pub platform: String,
    /// `none`, `fcm` or `apns`.
    pub push: String,
    /// When it enrolled (Unix seconds).
    pub enrolled_at: i64,
    /// Its last authenticated request (Unix seconds).
    pub last_used_at: Option<i64>,
}

/// A user's devices.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceList {
    /// The user's login.
    pub login: String,
    /// Active devices, oldest first.
    pub devices: Vec<DeviceView>,
}

/// `GET /api/v1/users/{login}/devices`.
#[utoipa::path(
    get, path = "/api/v1/users/{login}/devices", tag = "devices",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The devices", body = DeviceList),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn list_devices(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<Json<DeviceList>, ApiError> {
    let user = user_by_login(&state, &login).await?;
    authz::can_manage_devices(caller.actor.as_ref(), &user).map_err(ApiError::forbidden)?;
    let uid = user.id;
    let devices = state.db(move |s| s.active_devices(uid)).await?;
    Ok(Json(DeviceList {
        login: user.login.as_str().to_owned(),
        devices: devices
            .into_iter()
            .map(|d| DeviceView {
                id: d.id,
                name: d.name,
                platform: d.platform,
                push: d.push_provider,
                enrolled_at: d.created_at,
                last_used_at: d.last_used_at,
            })
            .collect(),
    }))
}

/// `DELETE /api/v1/users/{login}/devices/{id}`.
#[utoipa::path(
    delete, path = "/api/v1/users/{login}/devices/{id}", tag = "devices",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("id" = String, Path, description = "Device id"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 204, description = "Removed; its open challenges are gone too"),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn delete_device(
    State(state): State<AppState>,
    caller: RpCaller,
    Path((login, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = user_by_login(&state, &login).await?;
    authz::can_manage_devices(caller.actor.as_ref(), &user).map_err(ApiError::forbidden)?;
    let by = caller.changed_by();
    let mut detail = json!({"device_id": id, "by": "portal"});
    if let (Some(via), Some(d)) = (&by.via, detail.as_object_mut()) {
        d.insert("via".into(), json!(via));
    }
    let audit = NewAuditEntry {
        actor: by.actor,
        action: "device.removed",
        user_id: Some(user.id),
        detail,
    };
    let (uid, now) = (user.id, state.now());
    let removed = state
        .db(move |s| s.delete_device(uid, &id, &audit, now))
        .await?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The device"))
    }
}
