//! What the pages of the internal area share: German dates and euro amounts,
//! the 2FA interval choices, the one-time notice after a form, and the small
//! stylesheet of the security, customers and SMS cost pages.
//!
//! Times come from the API as Unix seconds and are shown in Europe/Berlin,
//! where the platform's users are; amounts come as integer cents and are
//! formatted without ever passing through floating point.

use std::collections::HashMap;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

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

/// A stored number (E.164) written in full for people, for the places where
/// the whole number is meant (a customer's page, the notice after changing
/// it). German mobile numbers are written as people in Germany write them,
/// the network prefix set apart (`+49 151 98765432`, `+49 171 2345678`);
/// other numbers in the international format of their numbering plan.
/// Anything that does not parse is shown as it is.
pub fn phone_display(e164: &str) -> String {
    let Ok(n) = phonenumber::parse(None, e164) else {
        return e164.to_owned();
    };
    let code = n.code().value();
    let national = national_digits(&n);
    let german_mobile = code == 49
        && national.len() >= 10
        && ["15", "16", "17"].iter().any(|p| national.starts_with(p));
    if german_mobile {
        let (prefix, subscriber) = national.split_at(3);
        return format!("+{code} {prefix} {subscriber}");
    }
    n.format()
        .mode(phonenumber::Mode::International)
        .to_string()
}

/// The national significant number's digits, leading zeros included.
fn national_digits(n: &phonenumber::PhoneNumber) -> String {
    let zeros = "0".repeat(usize::from(n.national().zeros()));
    format!("{zeros}{}", n.national().value())
}

/// A mobile number shortened for lists, mails and summaries: the country
/// code and the last three digits, `+49 ••• 678`. Takes a stored number
/// (E.164) or the API's own shortened form (`+49…678`, in the SMS ledger),
/// so every page and mail writes it the same way. Anything else becomes
/// `•••`: a number that cannot be read is never shown in full.
pub fn phone_masked(number: &str) -> String {
    const DOTS: &str = "•••";
    let last3 = |digits: &str| -> Option<String> {
        let d: Vec<char> = digits.chars().filter(char::is_ascii_digit).collect();
        (d.len() >= 3).then(|| d[d.len() - 3..].iter().collect())
    };
    if let Ok(n) = phonenumber::parse(None, number) {
        let national = national_digits(&n);
        return match last3(&national).filter(|_| national.len() >= 6) {
            Some(tail) => format!("+{} {DOTS} {tail}", n.code().value()),
            None => format!("+{} {DOTS}", n.code().value()),
        };
    }
    if let Some((head, tail)) = number.split_once('…') {
        let head = head.trim();
        let code_ok = head.len() >= 2
            && head.len() <= 4
            && head.starts_with('+')
            && head[1..].chars().all(|c| c.is_ascii_digit());
        if let (true, Some(tail)) = (code_ok, last3(tail)) {
            return format!("{head} {DOTS} {tail}");
        }
    }
    DOTS.to_owned()
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

/// What an interval means, in a few words, for where there is room next to
/// its name ("bei jeder Anmeldung", "ein bestätigter Browser wird alle 30
/// Tage erneut gefragt").
pub fn interval_hint(lang: Lang, days: u32) -> String {
    match days {
        0 => i18n::t(lang, "int_interval_hint_always").to_owned(),
        1 => i18n::t(lang, "int_interval_hint_day").to_owned(),
        n => i18n::tf(lang, "int_interval_hint_days", &[("days", &n.to_string())]),
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

/// The names of the broker's people among `logins` (customers, staff and the
/// broker), for pages that list who did something or got an SMS: the user's
/// own name, then one look-up per other login. The look-ups run in the
/// portal's own API context, since the API does not let an employee read
/// their broker's record; a user who does not belong to `broker` (or cannot
/// be read) keeps the login, so nothing about other brokers' users shows.
/// Each name comes with the role's name for staff (`None` for customers).
pub async fn names_of<'a>(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    logins: impl IntoIterator<Item = &'a str>,
) -> HashMap<String, Person> {
    /// At most this many look-ups per page.
    const MAX_LOOKUPS: usize = 50;
    let mut names = HashMap::new();
    let mut asked = 0;
    for login in logins {
        if names.contains_key(login) {
            continue;
        }
        let person = if login == me.user.login {
            Some(Person::new(me.lang, &me.user.display_name, me.user.role))
        } else if asked < MAX_LOOKUPS {
            asked += 1;
            match state.api.admin().user(login).await {
                Ok(u) if u.login == broker || u.broker.as_deref() == Some(broker) => {
                    Some(Person::new(me.lang, &u.display_name, u.role))
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::debug!(error = %e, "portal: a name could not be read");
                    None
                }
            }
        } else {
            None
        };
        names.insert(
            login.to_owned(),
            person.unwrap_or_else(|| Person {
                name: login.to_owned(),
                role: None,
            }),
        );
    }
    names
}

/// A person as a list shows them: the name, and the role for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// The name (the login when it is not known).
    pub name: String,
    /// "Makler", "Mitarbeiter" … for staff; `None` for customers.
    pub role: Option<&'static str>,
}

impl Person {
    /// What a list shows below the name: the login (unless it is the name)
    /// and the role, "1000 · Makler".
    pub fn detail(&self, login: &str) -> String {
        let login = (self.name != login).then_some(login);
        login
            .into_iter()
            .chain(self.role)
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// A person with `role`'s name unless they are a customer.
    pub fn new(lang: Lang, name: &str, role: Role) -> Person {
        Person {
            name: name.to_owned(),
            role: (role != Role::Customer).then(|| i18n::t(lang, super::render::role_key(role))),
        }
    }
}

/// A form without fields of its own (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// A form whose only field is the tick box `confirm=yes`.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    /// `yes` when ticked.
    #[serde(default)]
    pub confirm: String,
}

impl ConfirmForm {
    /// Whether the box was ticked.
    pub fn confirmed(&self) -> bool {
        self.confirm == "yes"
    }
}

/// The end of every handled form: the notice for the next page, and the
/// redirect to it (post/redirect/get, so a reload does not post again).
pub fn done(
    state: &PortalState,
    session: &Session,
    text: String,
    to: &str,
) -> Result<Response, PortalError> {
    set_notice(state, session, text)?;
    Ok(Redirect::to(to).into_response())
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
    (
        "int_interval_hint_always",
        "bei jeder Anmeldung",
        "at every login",
    ),
    (
        "int_interval_hint_day",
        "ein bestätigter Browser wird jeden Tag erneut gefragt",
        "a confirmed browser is asked again every day",
    ),
    (
        "int_interval_hint_days",
        "ein bestätigter Browser wird alle {days} Tage erneut gefragt",
        "a confirmed browser is asked again every {days} days",
    ),
    ("int_interval_title", "2FA-Intervall", "2FA interval"),
    (
        "int_scrollable",
        "Tabelle, seitlich verschiebbar",
        "table, scrolls sideways",
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
        assert_eq!(phone_display("+4915150866095"), "+49 151 50866095");
        assert_eq!(phone_display("+4916099887766"), "+49 160 99887766");
        assert_eq!(phone_display("+493012345678"), "+49 30 12345678");
        assert_eq!(phone_display("+4915198765432"), "+49 151 98765432");
        assert_eq!(phone_display("kaputt"), "kaputt");
    }

    #[test]
    fn phones_shortened_one_way_everywhere() {
        assert_eq!(phone_masked("+491712345678"), "+49 ••• 678");
        assert_eq!(phone_masked("+4915198765432"), "+49 ••• 432");
        assert_eq!(phone_masked("+436641234567"), "+43 ••• 567");
        assert_eq!(phone_masked("+12025550143"), "+1 ••• 143");
        // the API's own short form (SMS ledger) is written the same way
        assert_eq!(phone_masked("+49…789"), "+49 ••• 789");
        // what cannot be read is never shown in full
        assert_eq!(phone_masked("kaputt"), "•••");
        assert_eq!(phone_masked("0171 2345678 kaputt"), "•••");
        assert_eq!(phone_masked("<b>…123"), "•••");
        assert_eq!(phone_masked("+49…"), "•••");
    }

    #[test]
    fn interval_hints() {
        assert_eq!(interval_hint(Lang::De, 0), "bei jeder Anmeldung");
        assert!(interval_hint(Lang::De, 1).contains("jeden Tag"));
        assert!(interval_hint(Lang::De, 30).contains("alle 30 Tage"));
        assert!(interval_hint(Lang::En, 30).contains("every 30 days"));
    }

    #[test]
    fn people_show_their_role_unless_customers() {
        let broker = Person::new(Lang::De, "Maklerbüro Schmidt", Role::Broker);
        assert_eq!(broker.role, Some("Makler"));
        assert_eq!(Person::new(Lang::De, "Max", Role::Customer).role, None);
        assert_eq!(
            Person::new(Lang::En, "Eva", Role::Employee).role,
            Some("Employee")
        );
        assert_eq!(broker.detail("1000"), "1000 · Makler");
        let unknown = Person {
            name: "1000".into(),
            role: None,
        };
        assert_eq!(unknown.detail("1000"), "");
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
