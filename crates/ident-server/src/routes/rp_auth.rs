//! The relying-party login API: start a second factor (`POST /api/v1/auth`), wait for its status, submit an SMS code.

use axum::Router;

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
