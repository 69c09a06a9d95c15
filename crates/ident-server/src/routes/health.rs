//! `GET /health`: answers 200 when the server can reach its database. The
//! check reads whether a signing key exists, never the key itself, through a
//! prepared statement: load balancers call it often.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::state::AppState;

/// The health route.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.db(|s| s.has_active_server_key().map(|_| ())).await?;
    Ok(Json(
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    ))
}
