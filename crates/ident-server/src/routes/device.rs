//! The device API (`/device/v1/…`): enrollment, challenges, answers, push tokens, unenroll; every call after enrollment carries an `Ident-Proof`.

use axum::Router;

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
