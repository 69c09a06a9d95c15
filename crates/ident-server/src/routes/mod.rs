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
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
