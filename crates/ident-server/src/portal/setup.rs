//! "App einrichten" (`/portal/setup`): the enrollment QR code for the logged-in
//! user, the same-device link, step-by-step help and a live confirmation.
//!
//! The QR code holds a one-time token that enrolls a phone *as this user*, so
//! only the user themself may create it (`Ident-Actor` = the user; the API
//! refuses anyone else). The image is fetched from the API through a portal
//! route so that the API key stays on the server, and that route serves only
//! the enrollment this session created. It comes as SVG (shown on the page)
//! and as PNG (the "save as image" link): `ident enroll --qr FILE` and most
//! desktop tools read PNG, not SVG. Without a mobile number on file there
//! is no code, only the sentence who can enter the number.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

use super::api::EnrollmentState;
use super::error::PortalError;
use super::i18n;
use super::session::LoggedIn;
use super::{Area, PortalState};
use crate::domain::Role;

/// The routes of the app setup.
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/setup", get(setup))
        .route("/portal/setup/qr.svg", get(qr_svg))
        .route("/portal/setup/qr.png", get(qr_png))
        .route("/portal/setup/status", get(status))
}

#[derive(Debug, Deserialize)]
struct SetupQuery {
    #[serde(default)]
    another: Option<String>,
}

/// The sentence for a user without a mobile number: who can enter it.
fn no_phone_advice(role: Role) -> &'static str {
    match role {
        Role::Customer => "no_factor_customer",
        Role::Employee | Role::SubBroker => "no_factor_staff",
        Role::Broker => "no_factor_broker",
    }
}

/// `GET /portal/setup` (`?another=1`: a code even when a device exists).
async fn setup(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<SetupQuery>,
) -> Result<Response, PortalError> {
    let login = me.user.login.as_str();
    let caller = state.api.acting(login);
    let user = caller.user(login).await?;
    let lang = me.lang;
    let no_phone = || {
        state.page(
            &me.view(Area::Setup),
            "setup.html",
            context! {
                mode => "no_phone",
                advice => i18n::t(lang, no_phone_advice(me.user.role)),
            },
        )
    };
    if user.phone.is_none() {
        return Ok(no_phone());
    }
    if user.enrolled && q.another.is_none() {
        return Ok(state.page(
            &me.view(Area::Setup),
            "setup.html",
            context! { mode => "enrolled" },
        ));
    }
    let enrollment = match caller.create_enrollment(login).await {
        Ok(e) => e,
        Err(e) if e.slug() == Some("phone-missing") => return Ok(no_phone()),
        Err(e) => return Err(e.into()),
    };
    let mut session = me.session.clone();
    session.data.setup_enrollment = Some(enrollment.id);
    state.save_session(&session)?;
    let remaining = (enrollment.expires_at - state.now()).max(0);
    Ok(state.page(
        &me.view(Area::Setup),
        "setup.html",
        context! {
            mode => "code",
            qr_url => format!("/portal/setup/qr.svg?e={}", enrollment.id),
            qr_png_url => format!("/portal/setup/qr.png?e={}", enrollment.id),
            status_url => format!("/portal/setup/status?e={}", enrollment.id),
            link => enrollment.link,
            remaining => remaining,
        },
    ))
}

#[derive(Debug, Deserialize)]
struct EnrollmentQuery {
    e: i64,
}

/// The enrollment id asked for, if it is the one this session created.
fn own_enrollment(me: &LoggedIn, q: &EnrollmentQuery) -> Result<i64, PortalError> {
    match me.session.data.setup_enrollment {
        Some(id) if id == q.e => Ok(id),
        _ => Err(PortalError::NotFound),
    }
}

/// `GET /portal/setup/qr.svg?e=<id>`: the QR image, proxied from the API.
async fn qr_svg(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<EnrollmentQuery>,
) -> Result<Response, PortalError> {
    let id = own_enrollment(&me, &q)?;
    let svg = state
        .api
        .acting(&me.user.login)
        .enrollment_qr_svg(id)
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        svg,
    )
        .into_response())
}

/// `GET /portal/setup/qr.png?e=<id>`: the same QR image as PNG, to save
/// (same rule as the SVG: only the enrollment this session created).
async fn qr_png(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<EnrollmentQuery>,
) -> Result<Response, PortalError> {
    let id = own_enrollment(&me, &q)?;
    let png = state
        .api
        .acting(&me.user.login)
        .enrollment_qr_png(id)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"ident-einrichtung.png\""),
            ),
        ],
        png,
    )
        .into_response())
}

/// `GET /portal/setup/status?e=<id>`: `{status: pending|completed|expired}`.
async fn status(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<EnrollmentQuery>,
) -> Result<Response, PortalError> {
    let id = own_enrollment(&me, &q)?;
    let status = match state.api.acting(&me.user.login).enrollment(id).await {
        Ok(s) => s.status,
        Err(e) if e.slug() == Some("not-found") => EnrollmentState::Expired,
        Err(e) => {
            tracing::warn!(error = %e, "portal: reading an enrollment failed");
            return Ok((StatusCode::BAD_GATEWAY, Json(json!({"status": "error"}))).into_response());
        }
    };
    Ok(Json(json!({ "status": status })).into_response())
}
