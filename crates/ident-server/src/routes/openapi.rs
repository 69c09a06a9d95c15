//! The OpenAPI document of the relying-party API, served at `/api/v1/openapi.json`.

use axum::Router;

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
