//! The SMS ledger and quarterly statements per broker (JSON and CSV).

use axum::Router;

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
}
