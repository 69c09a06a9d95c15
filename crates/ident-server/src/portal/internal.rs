//! What the pages of the internal area share: German dates and euro amounts,
//! the 2FA interval choices, the one-time notice after a form, and the small
//! stylesheet of the security, customers and SMS cost pages.
//!
//! Times come from the API as Unix seconds and are shown in Europe/Berlin,
//! where the platform's users are; amounts come as integer cents and are
//! formatted without ever passing through floating point.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::PortalState;
use super::error::PortalError;
use super::i18n::{self, Lang};
use super::session::{LoggedIn, Session};
use crate::domain::Role;

/// The session key of the one-time notice shown after a form was handled.
const NOTICE_KEY: &str = "internal.notice";

/// The longest 2FA interval the API accepts, in days.
pub const MAX_INTERVAL_DAYS: u32 = 90;

/// The shared stylesheet's route.
pub fn router() -> Router<PortalState> {
    Router::new().route("/portal/static/internal.css", get(css))
}

async fn css() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        include_str!("static/internal.css"),
    )
        .into_response()
}

fn berlin(t: i64) -> Option<jiff::Zoned> {
    let ts = jiff::Timestamp::from_second(t).ok()?;
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC);
    Some(ts.to_zoned(tz))
}

/// Unix seconds as a local date and time ("26.11.2026, 14:05 Uhr").
pub fn when(lang: Lang, t: i64) -> String {
    let Some(z) = berlin(t) else {
        return t.to_string();
    };
    match lang {
        Lang::De => z.strftime("%d.%m.%Y, %H:%M Uhr").to_string(),
        Lang::En => z.strftime("%Y-%m-%d %H:%M").to_string(),
    }
}

/// Unix seconds as a local date ("26.11.2026").
pub fn date(lang: Lang, t: i64) -> String {
    let Some(z) = berlin(t) else {
        return t.to_string();
    };
    match lang {
        Lang::De => z.strftime("%d.%m.%Y").to_string(),
        Lang::En => z.strftime("%Y-%m-%d").to_string(),
    }
}

/// The year and quarter (1–4) of Unix second `t` in Europe/Berlin.
pub fn quarter_of(t: i64) -> (i16, u8) {
    match berlin(t) {
        Some(z) => {
            let q = u8::try_from((z.month() - 1) / 3 + 1).unwrap_or(1);
            (z.year(), q)
        }
        None => (2000, 1),
    }
}

/// Whole cents as an amount in euro: German `1.234,56 €`, English `€1,234.56`.
pub fn euro(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (whole, rest) = (abs / 100, abs % 100);
    let (group, decimal) = match lang {
        Lang::De => ('.', ','),
        Lang::En => (',', '.'),
    };
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    match lang {
        Lang::De => format!("{sign}{grouped}{decimal}{rest:02} €"),
        Lang::En => format!("{sign}€{grouped}{decimal}{rest:02}"),
    }
}

/// A VAT rate in basis points as a percentage ("19 %", "7,5 %").
pub fn rate(lang: Lang, bp: u32) -> String {
    let (whole, rest) = (bp / 100, bp % 100);
    let sep = match lang {
        Lang::De => ",",
        Lang::En => ".",
    };
    let number = if rest == 0 {
        whole.to_string()
    } else {
        let frac = format!("{rest:02}");
        format!("{whole}{sep}{}", frac.trim_end_matches('0'))
    };
    match lang {
        Lang::De => format!("{number} %"),
        Lang::En => format!("{number}%"),
    }
}

/// A stored number (E.164) written for people: `+49 171 2345678`. Anything
/// that does not parse is shown as it is.
pub fn phone_display(e164: &str) -> String {
    match phonenumber::parse(None, e164) {
        Ok(n) => n
            .format()
            .mode(phonenumber::Mode::International)
            .to_string(),
        Err(_) => e164.to_owned(),
    }
}

/// One choice of the 2FA interval select.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IntervalOption {
    /// Days (0 = always).
    pub days: u32,
    /// "Immer", "Jeden Tag", "Alle 30 Tage".
    pub label: String,
    /// Whether it is the current value.
    pub selected: bool,
}

/// The name of an interval in the select ("Immer" … "Alle 90 Tage").
pub fn interval_label(lang: Lang, days: u32) -> String {
    match days {
        0 => i18n::t(lang, "int_interval_always").to_owned(),
        1 => i18n::t(lang, "int_interval_daily").to_owned(),
        n => i18n::tf(lang, "int_interval_every", &[("days", &n.to_string())]),
    }
}

/// Every interval from "Immer" to "Alle 90 Tage", `current` selected.
pub fn interval_options(lang: Lang, current: u32) -> Vec<IntervalOption> {
    (0..=MAX_INTERVAL_DAYS)
        .map(|days| IntervalOption {
            days,
            label: interval_label(lang, days),
            selected: days == current,
        })
        .collect()
}

/// Parses the interval field of a form: whole days from 0 to 90.
pub fn parse_days(raw: &str) -> Option<u32> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| *d <= MAX_INTERVAL_DAYS)
}

/// Whether `id` looks like an id the API hands out (letters, digits, `-`,
/// `_`, at most 100): anything else in a URL is not one of ours.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The broker whose customers and SMS costs the user works with: the broker
/// themself, or an employee's broker.
pub fn broker_of(me: &LoggedIn) -> Result<String, PortalError> {
    match me.user.role {
        Role::Broker => Ok(me.user.login.clone()),
        Role::Employee => me.user.broker.clone().ok_or(PortalError::Forbidden),
        Role::SubBroker | Role::Customer => Err(PortalError::Forbidden),
    }
}

/// Remembers `text` to show once on the next page of this session.
pub fn set_notice(state: &PortalState, session: &Session, text: String) -> Result<(), PortalError> {
    let mut session = session.clone();
    session
        .data
        .values
        .insert(NOTICE_KEY.to_owned(), serde_json::Value::String(text));
    state.save_session(&session)
}

/// The notice left by the last form, removed so that it shows only once.
pub fn take_notice(state: &PortalState, me: &LoggedIn) -> Result<Option<String>, PortalError> {
    if !me.session.data.values.contains_key(NOTICE_KEY) {
        return Ok(None);
    }
    let mut session = me.session.clone();
    let notice = session.data.values.remove(NOTICE_KEY);
    state.save_session(&session)?;
    Ok(notice.and_then(|v| v.as_str().map(str::to_owned)))
}

/// The texts shared by the pages of the internal area.
pub const TEXTS: &[i18n::Text] = &[
    ("int_interval_always", "Immer", "Always"),
    ("int_interval_daily", "Jeden Tag", "Every day"),
    (
        "int_interval_every",
        "Alle {days} Tage",
        "Every {days} days",
    ),
    ("int_yes", "ja", "yes"),
    ("int_no", "nein", "no"),
    ("int_never", "noch nie", "never"),
    ("int_cancel", "Abbrechen", "Cancel"),
    ("int_back", "Zurück", "Back"),
    (
        "int_confirm_required",
        "Bitte bestätigen Sie die Änderung mit dem Häkchen.",
        "Please confirm the change with the tick box.",
    ),
    (
        "int_interval_invalid",
        "Bitte wählen Sie einen Intervall zwischen „Immer“ und „Alle 90 Tage“.",
        "Please choose an interval between “Always” and “Every 90 days”.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_amounts_in_both_languages() {
        assert_eq!(euro(Lang::De, 10), "0,10 €");
        assert_eq!(euro(Lang::De, 36), "0,36 €");
        assert_eq!(euro(Lang::De, 11_900), "119,00 €");
        assert_eq!(euro(Lang::De, 123_456_789), "1.234.567,89 €");
        assert_eq!(euro(Lang::De, 100_000), "1.000,00 €");
        assert_eq!(euro(Lang::De, -5), "-0,05 €");
        assert_eq!(euro(Lang::En, 123_456), "€1,234.56");
        assert_eq!(euro(Lang::En, 0), "€0.00");
    }

    #[test]
    fn phones_for_people() {
        assert_eq!(phone_display("+491712345678"), "+49 171 2345678");
        assert_eq!(phone_display("+4915150866095"), "+49 1515 0866095");
        assert_eq!(phone_display("kaputt"), "kaputt");
    }

    #[test]
    fn rates() {
        assert_eq!(rate(Lang::De, 1900), "19 %");
        assert_eq!(rate(Lang::De, 750), "7,5 %");
        assert_eq!(rate(Lang::En, 1625), "16.25%");
    }

    #[test]
    fn times_are_berlin_local() {
        // 2026-12-31T23:30:00Z is 2027-01-01, 00:30 in Berlin (UTC+1)
        assert_eq!(when(Lang::De, 1_798_759_800), "01.01.2027, 00:30 Uhr");
        assert_eq!(quarter_of(1_798_759_800), (2027, 1));
        assert_eq!(quarter_of(1_798_757_999), (2026, 4));
        // 2027-06-30T22:30:00Z is 2027-07-01, 00:30 in Berlin (UTC+2)
        assert_eq!(date(Lang::En, 1_814_394_600), "2027-07-01");
        assert_eq!(quarter_of(1_814_394_600), (2027, 3));
    }

    #[test]
    fn interval_choices() {
        let options = interval_options(Lang::De, 30);
        assert_eq!(options.len(), 91);
        assert_eq!(options[0].label, "Immer");
        assert_eq!(options[1].label, "Jeden Tag");
        assert_eq!(options[90].label, "Alle 90 Tage");
        assert_eq!(
            options.iter().filter(|o| o.selected).count(),
            1,
            "exactly one selected"
        );
        assert!(options[30].selected);
        assert_eq!(interval_label(Lang::En, 7), "Every 7 days");
        assert_eq!(parse_days("90"), Some(90));
        assert_eq!(parse_days(" 0 "), Some(0));
        assert_eq!(parse_days("91"), None);
        assert_eq!(parse_days("-1"), None);
        assert_eq!(parse_days("sieben"), None);
    }

    #[test]
    fn ids() {
        assert!(plausible_id("dev_AbC-123"));
        assert!(!plausible_id(""));
        assert!(!plausible_id("../x"));
        assert!(!plausible_id(&"a".repeat(101)));
    }
}
