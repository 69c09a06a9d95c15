//! "SMS-Kosten" (`/portal/sms-costs`), for brokers and their employees: the
//! SMS the broker is charged for, one civil quarter (Europe/Berlin) at a
//! time, with the statement's totals and its CSV for the accounting.
//!
//! The numbers are the API's statement (`GET /api/v1/brokers/{login}/
//! sms-statements/{year}/Q{n}`), read as the logged-in user: the API lets the
//! broker and the broker's employees read it and nobody else. Amounts stay
//! integer cents until they are formatted. VAT is the statement's, computed
//! once on the net total as on an invoice, so the page shows each SMS's net
//! price and rate and the VAT and gross only as totals (a VAT per SMS,
//! 1.9 cents, would not add up to the invoice). The CSV is the API's own file,
//! passed through unchanged with a download name.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::api::seg;
use super::error::PortalError;
use super::i18n;
use super::internal::{
    Person, broker_of, date, euro, names_of, phone_masked, quarter_of, rate, when,
};
use super::session::LoggedIn;
use super::{Area, PortalState};

/// How many years back the year select reaches.
const YEARS_BACK: i16 = 4;

/// The routes of "SMS-Kosten".
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/sms-costs", get(show))
        .route("/portal/sms-costs/{year}/{file}", get(csv))
}

/// A statement as the API sends it (the fields the page uses).
#[derive(Debug, Deserialize)]
struct Statement {
    year: i16,
    quarter: u8,
    period: Period,
    lines: Vec<Line>,
    count: u64,
    net_total_cents: i64,
    vat: Vec<VatLine>,
    vat_total_cents: i64,
    gross_total_cents: i64,
}

#[derive(Debug, Deserialize)]
struct Period {
    from_unix: i64,
    to_unix: i64,
}

#[derive(Debug, Deserialize)]
struct Line {
    id: i64,
    time: i64,
    user: String,
    phone: String,
    purpose: String,
    net_cents: i64,
    vat_bp: u32,
}

#[derive(Debug, Deserialize)]
struct VatLine {
    rate_bp: u32,
    net_cents: i64,
    vat_cents: i64,
}

#[derive(Debug, Deserialize)]
struct CustomerList {
    customers: Vec<Named>,
}

#[derive(Debug, Deserialize)]
struct Named {
    login: String,
    display_name: String,
}

/// The names of everyone in the statement: the broker's customers from the
/// customer list (one call), the broker and the staff by [`names_of`].
async fn recipients(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    lines: &[Line],
) -> Result<HashMap<String, Person>, PortalError> {
    let mut people: HashMap<String, Person> = state
        .api
        .acting(&me.user.login)
        .get::<CustomerList>(&format!("/api/v1/brokers/{}/customers", seg(broker)))
        .await?
        .customers
        .into_iter()
        .map(|c| {
            let person = Person {
                name: c.display_name,
                role: None,
            };
            (c.login, person)
        })
        .collect();
    let others: Vec<&str> = lines
        .iter()
        .map(|l| l.user.as_str())
        .filter(|u| !people.contains_key(*u))
        .collect();
    people.extend(names_of(state, me, broker, others).await);
    Ok(people)
}

/// A quarter of a year, as chosen on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    /// 2000–2999 (the API's range).
    pub year: i16,
    /// 1–4.
    pub quarter: u8,
}

impl Quarter {
    /// Parses the form's `year` and `quarter` ("2027", "1" or "Q1").
    pub fn parse(year: &str, quarter: &str) -> Option<Quarter> {
        let year: i16 = year
            .trim()
            .parse()
            .ok()
            .filter(|y| (2000..=2999).contains(y))?;
        let q = quarter.trim();
        let q = q.strip_prefix('Q').unwrap_or(q);
        let quarter: u8 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        Some(Quarter { year, quarter })
    }

    /// The path of its statement for `broker`, with an optional suffix (`.csv`).
    fn api_path(self, broker: &str, suffix: &str) -> String {
        format!(
            "/api/v1/brokers/{}/sms-statements/{}/Q{}{suffix}",
            seg(broker),
            self.year,
            self.quarter
        )
    }
}

/// A file name made of safe characters only (the broker's login goes into it).
pub fn download_name(broker: &str, q: Quarter) -> String {
    let safe: String = broker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("sms-{safe}-{}-Q{}.csv", q.year, q.quarter)
}

fn purpose_key(purpose: &str) -> &'static str {
    match purpose {
        "enrollment" => "smsc_purpose_enrollment",
        _ => "smsc_purpose_login",
    }
}

#[derive(Debug, Deserialize)]
struct QuarterQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    quarter: String,
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    time: String,
    /// The name of who got the SMS.
    person: String,
    /// Below the name: the login, and the role for staff.
    detail: String,
    login: String,
    phone: String,
    purpose: &'static str,
    net: String,
    rate: String,
}

#[derive(Debug, Serialize)]
struct VatRow {
    rate: String,
    net: String,
    vat: String,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// `GET /portal/sms-costs?year=2027&quarter=1` (default: this quarter).
async fn show(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<QuarterQuery>,
) -> Result<Response, PortalError> {
    me.require(Area::SmsCosts)?;
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let (this_year, this_quarter) = quarter_of(state.now());
    let current = Quarter {
        year: this_year,
        quarter: this_quarter,
    };
    let asked =
        (!q.year.is_empty() || !q.quarter.is_empty()).then(|| Quarter::parse(&q.year, &q.quarter));
    let (chosen, error) = match asked {
        None => (current, None),
        Some(Some(quarter)) => (quarter, None),
        Some(None) => (current, Some(i18n::t(lang, "smsc_quarter_invalid"))),
    };
    let statement: Statement = state
        .api
        .acting(&me.user.login)
        .get(&chosen.api_path(&broker, ""))
        .await?;
    let people = recipients(&state, &me, &broker, &statement.lines).await?;
    let rows: Vec<Row> = statement
        .lines
        .iter()
        .map(|l| Row {
            id: l.id,
            time: when(lang, l.time),
            person: people
                .get(&l.user)
                .map_or_else(|| l.user.clone(), |p| p.name.clone()),
            detail: people
                .get(&l.user)
                .map(|p| p.detail(&l.user))
                .unwrap_or_default(),
            login: l.user.clone(),
            phone: phone_masked(&l.phone),
            purpose: i18n::t(lang, purpose_key(&l.purpose)),
            net: euro(lang, l.net_cents),
            rate: rate(lang, l.vat_bp),
        })
        .collect();
    let vat_rows: Vec<VatRow> = statement
        .vat
        .iter()
        .map(|v| VatRow {
            rate: rate(lang, v.rate_bp),
            net: euro(lang, v.net_cents),
            vat: euro(lang, v.vat_cents),
        })
        .collect();
    let first_year = this_year.min(chosen.year) - YEARS_BACK;
    let last_year = this_year.max(chosen.year);
    let years: Vec<Choice> = (first_year..=last_year)
        .rev()
        .map(|y| Choice {
            value: y.to_string(),
            label: y.to_string(),
            selected: y == statement.year,
        })
        .collect();
    let quarters: Vec<Choice> = (1..=4u8)
        .map(|n| Choice {
            value: n.to_string(),
            label: i18n::tf(lang, "smsc_quarter_n", &[("n", &n.to_string())]),
            selected: n == statement.quarter,
        })
        .collect();
    let period = i18n::tf(
        lang,
        "smsc_period",
        &[
            ("n", &statement.quarter.to_string()),
            ("year", &statement.year.to_string()),
            ("from", &date(lang, statement.period.from_unix)),
            ("to", &date(lang, statement.period.to_unix - 1)),
        ],
    );
    let chosen = Quarter {
        year: statement.year,
        quarter: statement.quarter,
    };
    Ok(state.page_at(
        if error.is_some() {
            axum::http::StatusCode::BAD_REQUEST
        } else {
            axum::http::StatusCode::OK
        },
        &me.view(Area::SmsCosts),
        &format!(
            "/portal/sms-costs?year={}&quarter={}",
            chosen.year, chosen.quarter
        ),
        "sms_costs.html",
        context! {
            error => error,
            period => period,
            years => Value::from_serialize(&years),
            quarters => Value::from_serialize(&quarters),
            rows => Value::from_serialize(&rows),
            vat_rows => Value::from_serialize(&vat_rows),
            count => statement.count,
            count_text => i18n::tf(lang, "smsc_count", &[("n", &statement.count.to_string())]),
            net_total => euro(lang, statement.net_total_cents),
            vat_total => euro(lang, statement.vat_total_cents),
            gross_total => euro(lang, statement.gross_total_cents),
            csv_url => format!("/portal/sms-costs/{}/Q{}.csv", chosen.year, chosen.quarter),
            csv_name => download_name(&broker, chosen),
        },
    ))
}

/// `GET /portal/sms-costs/{year}/Q{n}.csv`: the API's CSV statement.
async fn csv(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    me.require(Area::SmsCosts)?;
    let broker = broker_of(&me)?;
    let quarter = file
        .strip_suffix(".csv")
        .and_then(|q| q.strip_prefix('Q'))
        .and_then(|q| Quarter::parse(&year, q))
        .ok_or(PortalError::NotFound)?;
    let bytes = state
        .api
        .acting(&me.user.login)
        .get_bytes(&quarter.api_path(&broker, ".csv"))
        .await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        download_name(&broker, quarter)
    );
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|_| PortalError::Internal("download name".into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// The texts of "SMS-Kosten".
pub const TEXTS: &[i18n::Text] = &[
    ("smsc_title", "SMS-Kosten", "SMS costs"),
    (
        "smsc_intro",
        "Jede SMS mit einem Anmelde- oder Einrichtungscode für Sie, Ihre Mitarbeiter und Ihre Kunden kostet 0,10 € netto zuzüglich Umsatzsteuer. Abgerechnet wird quartalsweise.",
        "Every SMS with a login or setup code for you, your staff and your customers costs €0.10 net plus VAT. It is billed quarterly.",
    ),
    ("smsc_choose", "Quartal wählen", "Choose a quarter"),
    ("smsc_year", "Jahr", "Year"),
    ("smsc_quarter", "Quartal", "Quarter"),
    ("smsc_quarter_n", "{n}. Quartal", "Q{n}"),
    ("smsc_show", "Anzeigen", "Show"),
    (
        "smsc_quarter_invalid",
        "Dieses Quartal gibt es nicht; gezeigt wird das aktuelle.",
        "There is no such quarter; the current one is shown.",
    ),
    (
        "smsc_period",
        "{n}. Quartal {year} ({from} – {to})",
        "Q{n} {year} ({from} – {to})",
    ),
    ("smsc_statement", "Abrechnung", "Statement"),
    ("smsc_count", "{n} SMS", "{n} SMS"),
    ("smsc_net_total", "Summe netto", "Net total"),
    ("smsc_vat_total", "Umsatzsteuer", "VAT"),
    ("smsc_gross_total", "Summe brutto", "Gross total"),
    (
        "smsc_vat_note",
        "Die Umsatzsteuer wird wie auf der Rechnung einmal auf die Nettosumme berechnet und kaufmännisch gerundet.",
        "VAT is computed once on the net total, as on the invoice, and rounded half up.",
    ),
    ("smsc_vat_rate", "USt-Satz", "VAT rate"),
    ("smsc_vat_on", "USt {rate} auf {net}", "VAT {rate} on {net}"),
    ("smsc_csv", "CSV herunterladen", "Download CSV"),
    (
        "smsc_csv_hint",
        "Für Excel und LibreOffice: Semikolon, Dezimalkomma, UTF-8.",
        "For Excel and LibreOffice: semicolons, decimal commas, UTF-8.",
    ),
    ("smsc_ledger", "Einzelnachweis", "Itemised list"),
    ("smsc_time", "Datum", "Date"),
    ("smsc_customer", "Empfänger", "Recipient"),
    ("smsc_number", "Rufnummer", "Number"),
    ("smsc_purpose", "Zweck", "Purpose"),
    ("smsc_net", "Netto", "Net"),
    ("smsc_purpose_login", "Anmeldung", "Login"),
    ("smsc_purpose_enrollment", "Einrichtung", "Setup"),
    (
        "smsc_empty",
        "In diesem Quartal wurden keine SMS verschickt.",
        "No SMS were sent in this quarter.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_parse_within_the_apis_range() {
        assert_eq!(
            Quarter::parse("2027", "1"),
            Some(Quarter {
                year: 2027,
                quarter: 1
            })
        );
        assert_eq!(Quarter::parse("2027", "Q4").map(|q| q.quarter), Some(4));
        assert_eq!(Quarter::parse("1999", "1"), None);
        assert_eq!(Quarter::parse("2027", "5"), None);
        assert_eq!(Quarter::parse("2027", "0"), None);
        assert_eq!(Quarter::parse("x", "1"), None);
        let q = Quarter::parse("2027", "2").unwrap();
        assert_eq!(
            q.api_path("a/b", ".csv"),
            "/api/v1/brokers/a%2Fb/sms-statements/2027/Q2.csv"
        );
    }

    #[test]
    fn download_names_are_header_safe() {
        let q = Quarter {
            year: 2027,
            quarter: 1,
        };
        assert_eq!(download_name("1000", q), "sms-1000-2027-Q1.csv");
        assert_eq!(
            download_name("makler\"; x=ü\r\n", q),
            "sms-makler___x____-2027-Q1.csv"
        );
        assert!(HeaderValue::from_str(&download_name("ä\"\n", q)).is_ok());
    }

    #[test]
    fn sms_texts_exist_in_both_languages() {
        for (key, de, en) in TEXTS {
            assert!(key.starts_with("smsc_"), "{key}");
            assert!(!de.is_empty() && !en.is_empty(), "{key}");
        }
        assert_eq!(
            i18n::fill(
                TEXTS
                    .iter()
                    .find(|t| t.0 == "smsc_period")
                    .map_or("", |t| t.1),
                &[
                    ("n", "1"),
                    ("year", "2027"),
                    ("from", "01.01.2027"),
                    ("to", "31.03.2027")
                ]
            ),
            "1. Quartal 2027 (01.01.2027 – 31.03.2027)"
        );
    }
}
