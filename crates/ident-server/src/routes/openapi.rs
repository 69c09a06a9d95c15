//! The OpenAPI 3.1 document of the relying-party API, served at
//! `GET /api/v1/openapi.json` (API key required, like every `/api/v1` route).
//!
//! The document is generated from the code (utoipa), so it cannot drift from
//! the handlers: each route module describes its own paths with an
//! `#[derive(utoipa::OpenApi)]` struct, and [`PARTS`] lists those structs.
//!
//! To add your module's paths:
//! 1. put `#[utoipa::path(...)]` on each handler (`security(("api_key" = []))`,
//!    problem responses with `body = ProblemBody, content_type = "application/problem+json"`)
//!    and `#[derive(utoipa::ToSchema)]` on its bodies;
//! 2. in your module: `#[derive(utoipa::OpenApi)] #[openapi(paths(h1, h2), components(schemas(A, B)))] pub struct RpAuthApi;`
//! 3. add `<RpAuthApi as OpenApi>::openapi,` to [`PARTS`] below.
//!
//! The `api_key` security scheme (HTTP bearer) and the `ProblemBody` schema
//! are defined here once.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::ProblemBody;
use crate::routes::api_key::RpClient;
use crate::routes::rp_users::RpUsersApi;
use crate::state::AppState;

/// The parts of the document, one per route module; merged in this order.
pub const PARTS: &[fn() -> utoipa::openapi::OpenApi] = &[
    <RpUsersApi as OpenApi>::openapi,
    <crate::routes::rp_auth::RpAuthApi as OpenApi>::openapi,
    <crate::routes::rp_devices::RpDevicesApi as OpenApi>::openapi,
    <crate::routes::rp_sms::RpSmsApi as OpenApi>::openapi,
    <crate::routes::rp_trust::RpTrustApi as OpenApi>::openapi,
];

/// The frame: title, version, the security scheme, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ident relying-party API",
        description = "What portals call: second factors, users, mobile numbers, 2FA intervals, the SMS ledger. \
                       Authenticate with `Authorization: Bearer <API key>`; act for a portal user with \
                       `Ident-Actor: <login>`. Every refusal is RFC 9457 `application/problem+json` whose \
                       `type` is `urn:ident:problem:<slug>`. See docs/protocol.md."
    ),
    components(schemas(ProblemBody)),
    modifiers(&BearerScheme),
    security(("api_key" = []))
)]
struct Frame;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ik_…")
                    .description(Some("The portal's API key"))
                    .build(),
            ),
        );
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Frame::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for part in PARTS {
        doc.merge(part());
    }
    doc
}

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi_json))
}

async fn openapi_json(
    State(_state): State<AppState>,
    _client: RpClient,
) -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_the_user_paths_and_the_scheme() {
        let doc = serde_json::to_value(document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/users",
            "/api/v1/users/{login}",
            "/api/v1/users/{login}/phone",
            "/api/v1/users/{login}/interval",
            "/api/v1/users/{login}/push-unlock",
            "/api/v1/users/{login}/audit",
            "/api/v1/brokers/{login}/customers",
            "/api/v1/brokers/{login}/customers/interval",
            "/api/v1/login/password",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["api_key"]["scheme"],
            "bearer"
        );
        assert!(doc["components"]["schemas"]["ProblemBody"].is_object());
        assert!(doc["components"]["schemas"]["UserView"].is_object());
    }
}
