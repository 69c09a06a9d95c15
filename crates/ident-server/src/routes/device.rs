//! The device API (`/device/v1/…`): enrollment, challenges, answers, push
//! tokens, unenroll; every call but the answer carries an `Ident-Proof` (an
//! answer is itself signed by the device over the challenge, which is
//! accepted once: see `services::auth::answer`).
//!
//! Each handler parses its body with the wire types of
//! `ident_core::protocol` and answers every refusal with the protocol's
//! problem types, so the app's client understands each one. A proof is
//! checked against the URL the device addressed — this server's public URL
//! plus the route's path — never against the `Host` header.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use ident_core::ports::Method;
use ident_core::protocol::{
    AnswerRequest, AnswerResponse, ChallengesResponse, EnrollConfirmRequest, EnrollRequest,
    PROOF_HEADER, ProblemType, PushRegistration, paths, proof_kid,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::problem::ApiError;
use crate::services::auth::{self as auth_service, MAX_LIST};
use crate::services::enroll::{self, check_proof, device_url, proof_problem};
use crate::state::AppState;
use crate::store::NewAuditEntry;
use crate::store::devices::{Device, DeviceStatus};

/// The answer route (the id is a path parameter).
const ANSWER_ROUTE: &str = "/device/v1/challenges/{id}/answer";

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ENROLL, post(enroll_device))
        .route(paths::ENROLL_CONFIRM, post(confirm_enrollment))
        .route(paths::CHALLENGES, get(challenges))
        .route(ANSWER_ROUTE, post(answer))
        .route(paths::PUSH_TOKEN, put(push_token))
        .route(paths::DEVICE, delete(unenroll))
}

/// Parses a JSON body into a wire type; the refusal never repeats the body.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "The body is not valid JSON."
            }
            _ => "The body is not what this endpoint expects.",
        };
        ApiError::from(ProblemType::BadRequest).with_detail(what)
    })
}

/// The `Ident-Proof` header.
fn proof_header(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(PROOF_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 8 * 1024)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::from(ProblemType::ProofInvalid)
                .with_detail("The `Ident-Proof` header is missing.")
        })
}

/// Authenticates a device request: finds the device named by the proof's
/// `kid` and verifies the proof with its key (recording the `jti`).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: Method,
    path: &str,
) -> Result<Device, ApiError> {
    let checked = check_request(state, headers, method, path).await;
    if let Err(e) = &checked {
        log_refusal(path, e);
    }
    checked
}

/// Leaves a trace of a device request refused for who sent it (no proof,
/// a forged, stale or replayed one, an unknown device) or for what it
/// answered: operators see attacks and broken clients. Only the problem's
/// slug and the path are logged — never the proof or the answer.
fn log_refusal(path: &str, e: &ApiError) {
    let suspicious = e.status == StatusCode::UNAUTHORIZED || e.slug.starts_with("answer-");
    if suspicious {
        tracing::warn!(problem = e.slug, path, "device request refused");
    }
}

/// [`authenticate`] without the log.
async fn check_request(
    state: &AppState,
    headers: &HeaderMap,
    method: Method,
    path: &str,
) -> Result<Device, ApiError> {
    let proof = proof_header(headers)?;
    let kid = match proof_kid(&proof) {
        Ok(Some(kid)) => kid,
        Ok(None) => {
            return Err(ApiError::from(ProblemType::ProofInvalid)
                .with_detail("The proof does not name a device (`kid`)."));
        }
        Err(e) => return Err(proof_problem(&e)),
    };
    let url = device_url(&state.public_url, path)?;
    let now = state.now();
    let (device, verdict) = state
        .db(move |s| {
            let Some(device) = s.device(kid.as_str())? else {
                return Ok((None, None));
            };
            if device.status != DeviceStatus::Active {
                return Ok((Some(device), None));
            }
            let v = check_proof(s, &proof, &device.jwk, method, &url, now, Some(&device.id));
            Ok((Some(device), Some(v)))
        })
        .await?;
    match (device, verdict) {
        (None, _) => Err(ApiError::from(ProblemType::DeviceUnknown)),
        (Some(_), None) => Err(ApiError::from(ProblemType::SmsRequired)),
        (Some(_), Some(Err(e))) => Err(proof_problem(&e)),
        (Some(d), Some(Ok(()))) => Ok(d),
    }
}

/// `POST /device/v1/enroll`.
async fn enroll_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let req: EnrollRequest = body(&bytes)?;
    let proof = proof_header(&headers)?;
    let resp = enroll::enroll_device(&state, proof, req).await?;
    Ok(Json(resp).into_response())
}

/// `POST /device/v1/enroll/confirm`.
async fn confirm_enrollment(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let req: EnrollConfirmRequest = body(&bytes)?;
    let proof = proof_header(&headers)?;
    let resp = enroll::confirm(&state, proof, req).await?;
    Ok(Json(resp).into_response())
}

/// The `wait` of a query string (`wait=N`, seconds); other parameters are ignored.
pub fn wait_param(query: Option<&str>, max: u64) -> Result<u64, ApiError> {
    let Some(q) = query else { return Ok(0) };
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("wait=") {
            let n: u64 = v.parse().map_err(|_| {
                ApiError::from(ProblemType::BadRequest)
                    .with_detail("`wait` must be a whole number of seconds.")
            })?;
            return Ok(n.min(max));
        }
    }
    Ok(0)
}

/// `GET /device/v1/challenges?wait=N`: the open challenges, held up to
/// `min(N, policy.max_wait_secs)` seconds until there is one.
async fn challenges(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let wait = wait_param(query.as_deref(), state.config.policy.max_wait_secs)?;
    let device = authenticate(&state, &headers, Method::Get, paths::CHALLENGES).await?;
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        // Armed before the read, so a challenge created in between is not missed.
        let waiter = state.wakeups.device(&device.id);
        let (id, now) = (device.id.clone(), state.now());
        let list = state
            .db(move |s| s.open_challenges(&id, now, MAX_LIST))
            .await?;
        let left = deadline.saturating_duration_since(Instant::now());
        if !list.is_empty() || left.is_zero() || state.wakeups.closing() {
            return Ok(Json(ChallengesResponse { challenges: list }).into_response());
        }
        waiter.wait(left).await;
    }
}

/// `POST /device/v1/challenges/{id}/answer`: the signed answer is the
/// request's authentication (no `Ident-Proof`; see `services::auth::answer`).
async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let Ok(cid) = ident_core::account::ChallengeId::parse(&id) else {
        return Err(ApiError::from(ProblemType::ChallengeNotFound));
    };
    let req: AnswerRequest = body(&bytes)?;
    let status = auth_service::answer(&state, &cid, &req.answer)
        .await
        .inspect_err(|e| log_refusal(ANSWER_ROUTE, e))?;
    Ok(Json(AnswerResponse { status }).into_response())
}

/// `PUT /device/v1/push-token`.
async fn push_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&state, &headers, Method::Put, paths::PUSH_TOKEN).await?;
    let reg: PushRegistration = body(&bytes)?;
    let (provider, token) = enroll::push_columns(Some(&reg))?;
    let now = state.now();
    state
        .db(move |s| s.set_push(&device.id, provider, token.as_deref(), now))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /device/v1`: the device unenrolls itself.
async fn unenroll(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let device = authenticate(&state, &headers, Method::Delete, paths::DEVICE).await?;
    let now = state.now();
    let audit = NewAuditEntry {
        actor: format!("device:{}", device.id),
        action: "device.removed",
        user_id: Some(device.user_id),
        detail: json!({"device_id": device.id, "by": "device"}),
    };
    state
        .db(move |s| s.delete_device(device.user_id, &device.id, &audit, now))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
