//! The HTTP API: one module per audience.
//!
//! - [`health`]: liveness for load balancers.

pub mod health;

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
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
