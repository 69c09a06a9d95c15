//! The SMS ledger and the quarterly SMS statement per broker.
//!
//! Every SMS is one ledger row charged to the broker responsible for the user
//! (`User::billing_broker`), at the net price and VAT rate in force when it
//! was sent (`policy.sms_net_cents`, `policy.vat_basis_points`). Statements
//! are computed from those rows with integer cents only.
//!
//! Decisions (also in protocol.md, "SMS fallback and ledger"):
//! - **Quarters are German civil quarters in Europe/Berlin** — 1 January,
//!   1 April, 1 July, 1 October at 00:00 local time — as on the commission
//!   statements the SMS are billed with; an SMS at 00:30 on 1 April (CEST)
//!   belongs to Q2 although it is still 31 March in UTC. The time-zone rules
//!   come from the tz database bundled with `jiff`.
//! - **VAT is computed once per statement on the net total** (per VAT rate,
//!   should the rate have changed within a quarter), rounded half up to the
//!   cent, as on an invoice: 3 SMS are 0,30 net + 0,06 VAT (0,057 rounded),
//!   not 3 × 0,02. Lines show net amounts only.
//! - **CSV for spreadsheets in German locales**: UTF-8 with a byte-order mark
//!   (so Excel detects UTF-8), `;` as separator, decimal comma, CRLF line ends,
//!   one header row, local times as `TT.MM.JJJJ hh:mm:ss`, then three summary
//!   rows (net, VAT, gross). Text cells that a spreadsheet would read as a
//!   formula (`=`, `+`, `-`, `@`) are prefixed with `'` (OWASP CSV injection).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::domain::{Cents, VatRate};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::store::User;
use crate::store::sms::{LedgerEntry, SmsPurpose};

/// The time zone of statements.
pub const STATEMENT_TZ: &str = "Europe/Berlin";

/// Most entries one `sms-ledger` answer lists.
pub const MAX_LEDGER_ENTRIES: u32 = 10_000;

fn berlin() -> Result<TimeZone, ApiError> {
    TimeZone::get(STATEMENT_TZ).map_err(|e| {
        tracing::error!(error = %e, "the Europe/Berlin time zone is missing");
        ApiError::internal()
    })
}

/// A calendar quarter, e.g. 2027 Q1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    /// The year (2000–2999).
    pub year: i16,
    /// 1 to 4.
    pub q: u8,
}

/// A half-open time range `[from, to)` with its local-time rendering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    /// First second, local time with offset (ISO 8601).
    pub from: String,
    /// First second after the period, local time with offset.
    pub to: String,
    /// `from` in Unix seconds.
    pub from_unix: i64,
    /// `to` in Unix seconds.
    pub to_unix: i64,
    /// The time zone (`Europe/Berlin`).
    pub time_zone: String,
}

fn bad_quarter() -> ApiError {
    ApiError::bad_request(
        "A statement period is a year from 2000 to 2999 and a quarter Q1 to Q4, e.g. /2027/Q1.",
    )
}

impl Quarter {
    /// Parses `year` ("2027") and `quarter` ("Q1".."Q4").
    pub fn parse(year: &str, quarter: &str) -> Result<Self, ApiError> {
        let year: i16 = year
            .parse()
            .ok()
            .filter(|y| (2000..=2999).contains(y))
            .ok_or_else(bad_quarter)?;
        let q = match quarter {
            "Q1" => 1,
            "Q2" => 2,
            "Q3" => 3,
            "Q4" => 4,
            _ => return Err(bad_quarter()),
        };
        Ok(Self { year, q })
    }

    /// Its bounds in Europe/Berlin.
    pub fn period(self) -> Result<Period, ApiError> {
        let tz = berlin()?;
        let month = i8::try_from(3 * self.q - 2).map_err(|_| bad_quarter())?;
        let start = Date::new(self.year, month, 1).map_err(|_| bad_quarter())?;
        let end = if self.q == 4 {
            Date::new(self.year + 1, 1, 1)
        } else {
            Date::new(self.year, month + 3, 1)
        }
        .map_err(|_| bad_quarter())?;
        let internal = |e: jiff::Error| {
            tracing::error!(error = %e, "quarter bounds");
            ApiError::internal()
        };
        let start = start.to_zoned(tz.clone()).map_err(internal)?;
        let end = end.to_zoned(tz).map_err(internal)?;
        Ok(Period {
            from: start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            to: end.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            from_unix: start.timestamp().as_second(),
            to_unix: end.timestamp().as_second(),
            time_zone: STATEMENT_TZ.into(),
        })
    }
}

/// One SMS on a statement or in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerLine {
    /// Ledger entry id.
    pub id: i64,
    /// When it was sent (Unix seconds).
    pub time: i64,
    /// The same in Europe/Berlin, ISO 8601 with offset.
    pub local_time: String,
    /// The user's login.
    pub user: String,
    /// The masked mobile number.
    pub phone: String,
    /// `login` or `enrollment`.
    pub purpose: SmsPurpose,
    /// Net price in cents.
    pub net_cents: i64,
    /// Net price as a decimal ("0.10").
    pub net: String,
    /// VAT rate in basis points (1900 = 19 %).
    pub vat_bp: u32,
}

/// VAT of the statement at one rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VatLine {
    /// Rate in basis points.
    pub rate_bp: u32,
    /// Net total at this rate, cents.
    pub net_cents: i64,
    /// VAT on it, cents, rounded half up once.
    pub vat_cents: i64,
}

/// Net, VAT and gross of a set of ledger entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Number of SMS.
    pub count: u64,
    /// Net total.
    pub net: Cents,
    /// VAT per rate.
    pub vat_lines: Vec<VatLine>,
    /// VAT total.
    pub vat: Cents,
    /// Net plus VAT.
    pub gross: Cents,
}

/// Sums `entries`: VAT once per rate on that rate's net total.
pub fn totals(entries: &[LedgerEntry]) -> Totals {
    let mut by_rate: BTreeMap<u32, i64> = BTreeMap::new();
    let mut net = 0i64;
    for e in entries {
        net = net.saturating_add(e.net.0);
        let slot = by_rate.entry(e.vat.0).or_insert(0);
        *slot = slot.saturating_add(e.net.0);
    }
    let vat_lines: Vec<VatLine> = by_rate
        .into_iter()
        .map(|(rate_bp, net_cents)| VatLine {
            rate_bp,
            net_cents,
            vat_cents: VatRate(rate_bp).vat_on(Cents(net_cents)).0,
        })
        .collect();
    let vat = vat_lines
        .iter()
        .fold(0i64, |a, l| a.saturating_add(l.vat_cents));
    Totals {
        count: entries.len() as u64,
        net: Cents(net),
        vat: Cents(vat),
        gross: Cents(net.saturating_add(vat)),
        vat_lines,
    }
}

/// A broker's quarterly SMS statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Statement {
    /// The broker's login.
    pub broker: String,
    /// The broker's display name.
    pub broker_name: String,
    /// The year.
    pub year: i16,
    /// The quarter, 1 to 4.
    pub quarter: u8,
    /// The period covered.
    pub period: Period,
    /// Always `EUR`.
    pub currency: String,
    /// Every SMS of the period, oldest first.
    pub lines: Vec<LedgerLine>,
    /// Number of SMS.
    pub count: u64,
    /// Net total, cents.
    pub net_total_cents: i64,
    /// Net total, decimal ("0.30").
    pub net_total: String,
    /// VAT per rate.
    pub vat: Vec<VatLine>,
    /// VAT total, cents.
    pub vat_total_cents: i64,
    /// VAT total, decimal.
    pub vat_total: String,
    /// Gross total, cents.
    pub gross_total_cents: i64,
    /// Gross total, decimal.
    pub gross_total: String,
}

/// Renders ledger entries as lines (local times in Europe/Berlin).
pub fn lines(entries: &[LedgerEntry]) -> Result<Vec<LedgerLine>, ApiError> {
    let tz = berlin()?;
    entries
        .iter()
        .map(|e| {
            Ok(LedgerLine {
                id: e.id,
                time: e.sent_at,
                local_time: local(&tz, e.sent_at, "%Y-%m-%dT%H:%M:%S%:z")?,
                user: e.user_login.clone(),
                phone: e.phone_masked.clone(),
                purpose: e.purpose,
                net_cents: e.net.0,
                net: e.net.to_decimal_string(),
                vat_bp: e.vat.0,
            })
        })
        .collect()
}

fn local(tz: &TimeZone, unix: i64, fmt: &str) -> Result<String, ApiError> {
    let ts = Timestamp::from_second(unix).map_err(|e| {
        tracing::error!(error = %e, unix, "ledger time out of range");
        ApiError::internal()
    })?;
    Ok(ts.to_zoned(tz.clone()).strftime(fmt).to_string())
}

/// Builds the statement of `broker` for `quarter` from the period's entries.
pub fn build_statement(
    broker: &User,
    quarter: Quarter,
    period: Period,
    entries: &[LedgerEntry],
) -> Result<Statement, ApiError> {
    let t = totals(entries);
    Ok(Statement {
        broker: broker.login.as_str().to_owned(),
        broker_name: broker.display_name.clone(),
        year: quarter.year,
        quarter: quarter.q,
        period,
        currency: "EUR".into(),
        lines: lines(entries)?,
        count: t.count,
        net_total_cents: t.net.0,
        net_total: t.net.to_decimal_string(),
        vat: t.vat_lines,
        vat_total_cents: t.vat.0,
        vat_total: t.vat.to_decimal_string(),
        gross_total_cents: t.gross.0,
        gross_total: t.gross.to_decimal_string(),
    })
}

/// Loads the ledger of `broker` (who must be a broker) for `quarter` and builds the statement.
pub async fn quarterly_statement(
    state: &AppState,
    broker: &User,
    quarter: Quarter,
) -> Result<Statement, ApiError> {
    let period = quarter.period()?;
    let (id, from, to) = (broker.id, period.from_unix, period.to_unix);
    let entries = state
        .db(move |s| s.sms_ledger(id, from, to, u32::MAX))
        .await?;
    build_statement(broker, quarter, period, &entries)
}

/// The ledger of `broker` in `[from, to)`: at most [`MAX_LEDGER_ENTRIES`]
/// entries, and whether there were more.
pub async fn ledger_entries(
    state: &AppState,
    broker: &User,
    from: i64,
    to: i64,
) -> Result<(Vec<LedgerLine>, bool), ApiError> {
    if from > to {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is malformed.",
        )
        .with_detail("`from` must not be after `to`."));
    }
    let id = broker.id;
    let mut entries = state
        .db(move |s| s.sms_ledger(id, from, to, MAX_LEDGER_ENTRIES + 1))
        .await?;
    let truncated = entries.len() > MAX_LEDGER_ENTRIES as usize;
    entries.truncate(MAX_LEDGER_ENTRIES as usize);
    Ok((lines(&entries)?, truncated))
}

/// "19 %", "7 %", "16,5 %".
fn rate_de(bp: u32) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    if frac == 0 {
        format!("{whole} %")
    } else if frac % 10 == 0 {
        format!("{whole},{} %", frac / 10)
    } else {
        format!("{whole},{frac:02} %")
    }
}

/// One CSV text cell: formula starters defused, quoted when needed.
fn csv_text(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The statement as German-locale CSV (see the module docs).
pub fn statement_csv(s: &Statement) -> Result<String, ApiError> {
    let tz = berlin()?;
    let mut out = String::from("\u{feff}Zeitpunkt;Benutzer;Rufnummer;Zweck;Netto EUR\r\n");
    for l in &s.lines {
        let purpose = match l.purpose {
            SmsPurpose::Login => "Anmeldung",
            SmsPurpose::Enrollment => "Einrichtung",
        };
        out.push_str(&format!(
            "{};{};{};{};{}\r\n",
            local(&tz, l.time, "%d.%m.%Y %H:%M:%S")?,
            csv_text(&l.user),
            csv_text(&l.phone),
            purpose,
            Cents(l.net_cents).to_de_string(),
        ));
    }
    out.push_str(&format!(
        "Summe netto ({} SMS);;;;{}\r\n",
        s.count,
        Cents(s.net_total_cents).to_de_string()
    ));
    if s.vat.len() <= 1 {
        let rate = s
            .vat
            .first()
            .map_or_else(String::new, |v| format!(" {}", rate_de(v.rate_bp)));
        out.push_str(&format!(
            "USt{rate};;;;{}\r\n",
            Cents(s.vat_total_cents).to_de_string()
        ));
    } else {
        for v in &s.vat {
            out.push_str(&format!(
                "USt {} auf {};;;;{}\r\n",
                rate_de(v.rate_bp),
                Cents(v.net_cents).to_de_string(),
                Cents(v.vat_cents).to_de_string()
            ));
        }
    }
    out.push_str(&format!(
        "Summe brutto;;;;{}\r\n",
        Cents(s.gross_total_cents).to_de_string()
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LoginName, Role, TwoFactorInterval};
    use crate::store::UserId;

    fn entry(id: i64, at: i64, net: i64, vat: u32) -> LedgerEntry {
        LedgerEntry {
            id,
            broker_id: UserId(1),
            user_id: UserId(2),
            user_login: "2000".into(),
            phone_masked: "+49…678".into(),
            purpose: SmsPurpose::Login,
            sent_at: at,
            net: Cents(net),
            vat: VatRate(vat),
        }
    }

    fn broker() -> User {
        User {
            id: UserId(1),
            login: LoginName::parse("1000").unwrap(),
            display_name: "Makler Müller".into(),
            role: Role::Broker,
            broker_id: None,
            email: None,
            phone: None,
            interval: TwoFactorInterval::ALWAYS,
            push_locked_at: None,
            push_lock_reason: None,
            created_at: 0,
        }
    }

    #[test]
    fn vat_once_on_the_net_total() {
        let three: Vec<_> = (0..3).map(|i| entry(i, 100, 10, 1900)).collect();
        let t = totals(&three);
        assert_eq!(
            (t.count, t.net, t.vat, t.gross),
            (3, Cents(30), Cents(6), Cents(36))
        );
        let thousand: Vec<_> = (0..1000).map(|i| entry(i, 100, 10, 1900)).collect();
        let t = totals(&thousand);
        assert_eq!(
            (t.net, t.vat, t.gross),
            (Cents(10_000), Cents(1_900), Cents(11_900))
        );
        // Per line it would be 1000 × 2 ct = 20,00 VAT; once on the total it is 19,00.
        let one = totals(&[entry(1, 1, 10, 1900)]);
        assert_eq!((one.vat, one.gross), (Cents(2), Cents(12)));
        let none = totals(&[]);
        assert_eq!(
            (none.count, none.net, none.vat, none.gross),
            (0, Cents(0), Cents(0), Cents(0))
        );
        // A rate change inside the period: one rounding per rate.
        let mixed = [
            entry(1, 1, 10, 1900),
            entry(2, 2, 10, 1900),
            entry(3, 3, 10, 1600),
        ];
        let t = totals(&mixed);
        assert_eq!(t.vat_lines.len(), 2);
        assert_eq!(t.vat, Cents(2 + 4)); // 1.6 -> 2, 3.8 -> 4
        assert_eq!(t.gross, Cents(36));
    }

    #[test]
    fn quarters_follow_berlin_local_time() {
        let p = Quarter::parse("2027", "Q1").unwrap().period().unwrap();
        assert_eq!(p.from, "2027-01-01T00:00:00+01:00");
        assert_eq!(p.to, "2027-04-01T00:00:00+02:00");
        assert_eq!(p.from_unix, 1_798_758_000); // 2026-12-31T23:00:00Z
        assert_eq!(p.to_unix, 1_806_530_400); // 2027-03-31T22:00:00Z
        let q4 = Quarter::parse("2026", "Q4").unwrap().period().unwrap();
        assert_eq!(q4.from, "2026-10-01T00:00:00+02:00");
        assert_eq!(q4.to, "2027-01-01T00:00:00+01:00");
        assert_eq!(q4.to_unix, p.from_unix);
        for (y, q) in [
            ("1999", "Q1"),
            ("2027", "Q5"),
            ("2027", "q1"),
            ("abc", "Q1"),
            ("2027", "Q0"),
        ] {
            assert!(Quarter::parse(y, q).is_err(), "{y} {q}");
        }
    }

    #[test]
    fn csv_is_german() {
        let q = Quarter::parse("2027", "Q2").unwrap();
        let period = q.period().unwrap();
        // 2027-04-01 00:30 CEST = 2027-03-31 22:30 UTC: in Q2.
        let at = period.from_unix + 30 * 60;
        let mut e = entry(1, at, 10, 1900);
        e.user_login = "=evil;\"x\"@example.de".into();
        let s = build_statement(
            &broker(),
            q,
            period,
            &[e, entry(2, at + 60, 10, 1900), entry(3, at + 120, 10, 1900)],
        )
        .unwrap();
        assert_eq!(s.lines[0].local_time, "2027-04-01T00:30:00+02:00");
        let csv = statement_csv(&s).unwrap();
        let expected = "\u{feff}Zeitpunkt;Benutzer;Rufnummer;Zweck;Netto EUR\r\n\
            01.04.2027 00:30:00;\"'=evil;\"\"x\"\"@example.de\";'+49…678;Anmeldung;0,10\r\n\
            01.04.2027 00:31:00;2000;'+49…678;Anmeldung;0,10\r\n\
            01.04.2027 00:32:00;2000;'+49…678;Anmeldung;0,10\r\n\
            Summe netto (3 SMS);;;;0,30\r\n\
            USt 19 %;;;;0,06\r\n\
            Summe brutto;;;;0,36\r\n";
        assert_eq!(csv, expected);
        assert_eq!(rate_de(750), "7,5 %");
        assert_eq!(rate_de(1625), "16,25 %");
    }
}
