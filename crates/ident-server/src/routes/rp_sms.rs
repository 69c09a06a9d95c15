//! The SMS ledger and quarterly statements per broker (JSON and CSV).
//!
//! - `GET /api/v1/brokers/{login}/sms-statements/{year}/Q{n}` — the statement
//!   as JSON; as CSV with `Accept: text/csv` or the suffix `.csv`
//!   (`…/2027/Q1.csv`).
//! - `GET /api/v1/brokers/{login}/sms-ledger?from=&to=` — the raw entries of a
//!   time range (Unix seconds, `[from, to)`).
//!
//! Who may read them: the portal's administrative context (no `Ident-Actor`),
//! the broker, and the broker's employees (`authz::can_manage_customers_of`);
//! the acting user comes from the shared `RpCaller` extractor (`rp_users`).
//! The money rules live in `services::ledger`.

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::rp_users::RpCaller;
use crate::domain::{LoginName, Role};
use crate::problem::{ApiError, ProblemBody};
use crate::services::authz;
use crate::services::ledger::{self, LedgerLine, Quarter, Statement};
use crate::state::AppState;
use crate::store::User;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(statement, ledger_range),
    components(schemas(Statement, LedgerResponse, LedgerLine))
)]
pub struct RpSmsApi;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/brokers/{login}/sms-statements/{year}/{quarter}",
            get(statement),
        )
        .route("/api/v1/brokers/{login}/sms-ledger", get(ledger_range))
}

/// Looks up the broker `login` and checks that `actor` may read its SMS billing.
async fn broker_for(state: &AppState, caller: &RpCaller, login: &str) -> Result<User, ApiError> {
    let login = LoginName::parse(login).map_err(|_| ApiError::not_found("The broker"))?;
    let broker = state
        .db(move |s| s.user_by_login(&login))
        .await?
        .filter(|u| u.role == Role::Broker)
        .ok_or_else(|| ApiError::not_found("The broker"))?;
    authz::can_manage_customers_of(caller.actor.as_ref(), &broker).map_err(ApiError::forbidden)?;
    Ok(broker)
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|part| {
                part.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
            })
        })
}

/// A file name with only safe characters.
fn file_name(broker: &str, quarter: Quarter) -> String {
    let safe: String = broker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("sms-{safe}-{}-Q{}.csv", quarter.year, quarter.q)
}

/// `GET /api/v1/brokers/{login}/sms-statements/{year}/Q{n}[.csv]`.
#[utoipa::path(
    get, path = "/api/v1/brokers/{login}/sms-statements/{year}/{quarter}", tag = "sms",
    params(
        ("login" = String, Path, description = "The broker's login"),
        ("year" = String, Path, description = "The year, e.g. 2027"),
        ("quarter" = String, Path, description = "`Q1` … `Q4`; `Q1.csv` (or `Accept: text/csv`) for CSV"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The statement: each SMS of the quarter with net, VAT and gross totals (JSON, or CSV as asked)", body = Statement),
        (status = 400, description = "`bad-request`: not a quarter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: only the broker, its employees or the administrative context", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such broker", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn statement(
    caller: RpCaller,
    State(state): State<AppState>,
    Path((login, year, quarter)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (quarter_text, csv_suffix) = match quarter.strip_suffix(".csv") {
        Some(q) => (q, true),
        None => (quarter.as_str(), false),
    };
    let quarter = Quarter::parse(&year, quarter_text)?;
    let broker = broker_for(&state, &caller, &login).await?;
    let statement = ledger::quarterly_statement(&state, &broker, quarter).await?;
    if !(csv_suffix || wants_csv(&headers)) {
        return Ok(Json(statement).into_response());
    }
    let body = ledger::statement_csv(&statement)?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        file_name(broker.login.as_str(), quarter)
    )) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `?from=&to=` of the ledger, Unix seconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// The `sms-ledger` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerResponse {
    /// The broker's login.
    pub broker: String,
    /// Start of the range (inclusive), Unix seconds.
    pub from: i64,
    /// End of the range (exclusive), Unix seconds.
    pub to: i64,
    /// The SMS in the range, oldest first.
    pub entries: Vec<LedgerLine>,
    /// True when there were more than 10,000: narrow the range.
    pub truncated: bool,
}

/// `GET /api/v1/brokers/{login}/sms-ledger?from=&to=`.
#[utoipa::path(
    get, path = "/api/v1/brokers/{login}/sms-ledger", tag = "sms",
    params(
        ("login" = String, Path, description = "The broker's login"),
        ("from" = Option<i64>, Query, description = "Start (inclusive), Unix seconds; default: the beginning"),
        ("to" = Option<i64>, Query, description = "End (exclusive), Unix seconds; default: now and later"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The SMS charged to the broker in the range, oldest first", body = LedgerResponse),
        (status = 400, description = "`bad-request`: `from`/`to` are not whole numbers", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such broker", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn ledger_range(
    caller: RpCaller,
    State(state): State<AppState>,
    Path(login): Path<String>,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LedgerResponse>, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request("`from` and `to` are optional Unix times in seconds.")
    })?;
    let broker = broker_for(&state, &caller, &login).await?;
    let from = q.from.unwrap_or(0);
    let to = q.to.unwrap_or(i64::MAX);
    let (entries, truncated) = ledger::ledger_entries(&state, &broker, from, to).await?;
    Ok(Json(LedgerResponse {
        broker: broker.login.as_str().to_owned(),
        from,
        to,
        entries,
        truncated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_negotiated() {
        let mut h = HeaderMap::new();
        assert!(!wants_csv(&h));
        h.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/csv;q=0.5"),
        );
        assert!(wants_csv(&h));
        h.insert(ACCEPT, HeaderValue::from_static("text/csvx"));
        assert!(!wants_csv(&h));
    }

    #[test]
    fn file_names_are_safe() {
        let q = Quarter { year: 2027, q: 1 };
        assert_eq!(
            file_name("max@example.de", q),
            "sms-max_example.de-2027-Q1.csv"
        );
        assert_eq!(file_name("a\"b", q), "sms-a_b-2027-Q1.csv");
    }
}
