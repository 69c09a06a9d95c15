//! The relying-party management API: users, mobile numbers, devices, 2FA intervals, push locks, the audit log, enrollment QR codes.

use axum::Router;

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
