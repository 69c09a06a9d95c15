//! "Meine Kunden" (`/portal/customers`), for brokers and their employees: the
//! broker's customers with filters and a search, a customer's page to set or
//! remove the mobile number and lift a push lock, and one form that sets the
//! 2FA interval of all customers at once.
//!
//! Customers cannot enter their mobile number themselves (since 01.08.2023
//! only the broker may), so this page is where numbers come from. Every call
//! goes to the relying-party API as the logged-in user (`Ident-Actor`), which
//! decides what is allowed: a broker asking for another broker's customer
//! gets the API's `forbidden`, shown as the portal's 403 page. On top of that
//! a customer's page serves only customers of the user's own broker, so a
//! broker's employees or sub-brokers cannot be edited here by changing the
//! URL. The filters map to the API's (`phone=with|without`,
//! `enrolled=yes|no`); the search by name, login or e-mail runs on the list
//! the API returned.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::api::{ApiUser, CallError, seg};
use super::csrf::CsrfForm;
use super::error::PortalError;
use super::i18n::{self, Lang};
use super::internal::{
    self, ConfirmForm, NoFields, broker_of, done, interval_hint, interval_label, interval_options,
    parse_days, phone_display, phone_masked, when,
};
use super::session::LoggedIn;
use super::{Area, PortalState};
use crate::domain::Role;

/// The longest search text looked at.
const MAX_SEARCH: usize = 100;

/// The routes of "Meine Kunden".
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/customers", get(list))
        .route("/portal/customers/interval", post(set_all_intervals))
        .route("/portal/customers/{login}", get(detail))
        .route("/portal/customers/{login}/phone", post(set_phone))
        .route("/portal/customers/{login}/phone/remove", post(remove_phone))
        .route("/portal/customers/{login}/unlock", post(unlock))
}

/// A customer as the API shows it (`GET /api/v1/users/{login}`): the
/// API's user, of role customer.
pub type Customer = ApiUser;

#[derive(Debug, Deserialize)]
struct CustomerList {
    count: usize,
    customers: Vec<Customer>,
}

/// A group of customers to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Everyone.
    All,
    /// With a mobile number.
    WithPhone,
    /// Without one.
    WithoutPhone,
    /// With the app.
    Enrolled,
    /// Without the app.
    NotEnrolled,
    /// With a number but without the app: they log in with SMS codes.
    SmsUsers,
}

impl Filter {
    /// All groups, in the order of the select.
    pub const ALL: [Filter; 6] = [
        Filter::All,
        Filter::WithPhone,
        Filter::WithoutPhone,
        Filter::Enrolled,
        Filter::NotEnrolled,
        Filter::SmsUsers,
    ];

    /// The value in the URL (`?filter=sms`).
    pub fn value(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::WithPhone => "with-phone",
            Filter::WithoutPhone => "without-phone",
            Filter::Enrolled => "app",
            Filter::NotEnrolled => "no-app",
            Filter::SmsUsers => "sms",
        }
    }

    /// Parses the URL value; unknown or empty is "all".
    pub fn parse(s: &str) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| f.value() == s)
            .unwrap_or(Filter::All)
    }

    /// The API's query string for it.
    pub fn query(self) -> &'static str {
        match self {
            Filter::All => "",
            Filter::WithPhone => "?phone=with",
            Filter::WithoutPhone => "?phone=without",
            Filter::Enrolled => "?enrolled=yes",
            Filter::NotEnrolled => "?enrolled=no",
            Filter::SmsUsers => "?phone=with&enrolled=no",
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            Filter::All => "cust_filter_all",
            Filter::WithPhone => "cust_filter_with_phone",
            Filter::WithoutPhone => "cust_filter_without_phone",
            Filter::Enrolled => "cust_filter_app",
            Filter::NotEnrolled => "cust_filter_no_app",
            Filter::SmsUsers => "cust_filter_sms",
        }
    }
}

/// Whether `c` matches the search text (name, login or e-mail, ignoring case).
pub fn matches_search(c: &Customer, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    if needle.is_empty() {
        return true;
    }
    [
        Some(c.display_name.as_str()),
        Some(c.login.as_str()),
        c.email.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|s| s.to_lowercase().contains(&needle))
}

fn lock_reason(lang: Lang, reason: Option<&str>) -> String {
    match reason {
        Some("not_me") => i18n::t(lang, "cust_lock_not_me").to_owned(),
        Some("denials") => i18n::t(lang, "cust_lock_denials").to_owned(),
        Some(other) => other.to_owned(),
        None => i18n::t(lang, "cust_lock_unknown").to_owned(),
    }
}

#[derive(Debug, Serialize)]
struct Row {
    login: String,
    path: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    enrolled: bool,
    interval: String,
    locked: bool,
    lock_reason: String,
}

fn customers_path(broker: &str, filter: Filter) -> String {
    format!(
        "/api/v1/brokers/{}/customers{}",
        seg(broker),
        filter.query()
    )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    q: String,
}

/// What the list page shows besides the list.
struct ListPage {
    filter: Filter,
    search: String,
    status: StatusCode,
    bulk_error: Option<String>,
    bulk_days: Option<u32>,
}

async fn render_list(
    state: &PortalState,
    me: &LoggedIn,
    p: ListPage,
) -> Result<Response, PortalError> {
    me.require(Area::Customers)?;
    let broker = broker_of(me)?;
    let lang = me.lang;
    let caller = state.api.acting(&me.user.login);
    let listed: CustomerList = caller.get(&customers_path(&broker, p.filter)).await?;
    let total = if p.filter == Filter::All {
        listed.count
    } else {
        caller
            .get::<CustomerList>(&customers_path(&broker, Filter::All))
            .await?
            .count
    };
    let search: String = p.search.trim().chars().take(MAX_SEARCH).collect();
    let rows: Vec<Row> = listed
        .customers
        .iter()
        .filter(|c| matches_search(c, &search))
        .map(|c| Row {
            login: c.login.clone(),
            path: seg(&c.login),
            name: c.display_name.clone(),
            email: c.email.clone(),
            phone: c.phone.as_deref().map(phone_masked),
            enrolled: c.enrolled,
            interval: interval_label(lang, c.interval_days),
            locked: c.push_locked,
            lock_reason: lock_reason(lang, c.push_lock_reason.as_deref()),
        })
        .collect();
    #[derive(Serialize)]
    struct FilterOption {
        value: &'static str,
        label: &'static str,
        selected: bool,
    }
    let filters: Vec<FilterOption> = Filter::ALL
        .into_iter()
        .map(|f| FilterOption {
            value: f.value(),
            label: i18n::t(lang, f.label_key()),
            selected: f == p.filter,
        })
        .collect();
    let notice = internal::take_notice(state, me)?;
    let shown = rows.len();
    Ok(state.page_with_status(
        p.status,
        &me.view(Area::Customers),
        "customers.html",
        context! {
            notice => notice,
            rows => Value::from_serialize(&rows),
            filters => Value::from_serialize(&filters),
            filter => p.filter.value(),
            search => search,
            total => total,
            shown => shown,
            result_text => i18n::tf(lang, "cust_result_count", &[("shown", &shown.to_string()), ("total", &total.to_string())]),
            bulk_error => p.bulk_error,
            bulk_options => Value::from_serialize(interval_options(lang, p.bulk_days.unwrap_or(0))),
            bulk_label => i18n::tf(lang, "cust_bulk_confirm", &[("n", &total.to_string())]),
        },
    ))
}

/// `GET /portal/customers?filter=…&q=…`.
async fn list(
    State(state): State<PortalState>,
    me: LoggedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PortalError> {
    render_list(
        &state,
        &me,
        ListPage {
            filter: Filter::parse(&q.filter),
            search: q.q,
            status: StatusCode::OK,
            bulk_error: None,
            bulk_days: None,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct BulkForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /portal/customers/interval`: one interval for all customers.
async fn set_all_intervals(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<BulkForm>,
) -> Result<Response, PortalError> {
    me.require(Area::Customers)?;
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let days = parse_days(&form.form.days);
    let error = match days {
        None => Some(i18n::t(lang, "int_interval_invalid")),
        Some(_) if form.form.confirm != "yes" => Some(i18n::t(lang, "int_confirm_required")),
        Some(_) => None,
    };
    let (Some(days), None) = (days, error) else {
        return render_list(
            &state,
            &me,
            ListPage {
                filter: Filter::All,
                search: String::new(),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                bulk_error: error.map(str::to_owned),
                bulk_days: days,
            },
        )
        .await;
    };
    #[derive(Serialize)]
    struct Body {
        days: u32,
    }
    #[derive(Deserialize)]
    struct Changed {
        changed: u64,
    }
    let caller = state.api.acting(&me.user.login);
    let total = caller
        .get::<CustomerList>(&customers_path(&broker, Filter::All))
        .await?
        .count;
    let r: Changed = caller
        .put(
            &format!("/api/v1/brokers/{}/customers/interval", seg(&broker)),
            &Body { days },
        )
        .await?;
    tracing::info!(broker = %broker, by = %me.user.login, days, changed = r.changed, "portal: interval set for all customers");
    let text = i18n::tf(
        lang,
        "cust_bulk_done",
        &[
            ("interval", &interval_label(lang, days)),
            ("total", &total.to_string()),
            ("changed", &r.changed.to_string()),
        ],
    );
    done(&state, &form.session, text, "/portal/customers")
}

/// The customer `login` of the user's broker; anyone else is "not found"
/// (the API itself refuses another broker's customer with `forbidden`).
async fn own_customer(
    state: &PortalState,
    me: &LoggedIn,
    login: &str,
) -> Result<Customer, PortalError> {
    me.require(Area::Customers)?;
    let broker = broker_of(me)?;
    let c: Customer = state
        .api
        .acting(&me.user.login)
        .get(&format!("/api/v1/users/{}", seg(login)))
        .await?;
    if c.role != Role::Customer || c.broker.as_deref() != Some(broker.as_str()) {
        return Err(PortalError::NotFound);
    }
    Ok(c)
}

/// The customer's page.
fn customer_page(c: &Customer) -> String {
    format!("/portal/customers/{}", seg(&c.login))
}

/// What the customer page shows besides the customer.
struct DetailPage<'a> {
    status: StatusCode,
    phone_value: Option<&'a str>,
    phone_error: Option<String>,
    remove_error: Option<String>,
}

fn render_detail(
    state: &PortalState,
    me: &LoggedIn,
    c: &Customer,
    p: DetailPage<'_>,
) -> Result<Response, PortalError> {
    let lang = me.lang;
    let notice = internal::take_notice(state, me)?;
    Ok(state.page_at(
        p.status,
        &me.view(Area::Customers),
        &customer_page(c),
        "customer.html",
        context! {
            notice => notice,
            c => context! {
                login => &c.login,
                path => seg(&c.login),
                name => &c.display_name,
                email => &c.email,
                phone => c.phone.as_deref().map(phone_display),
                enrolled => c.enrolled,
                interval => interval_label(lang, c.interval_days),
                interval_hint => interval_hint(lang, c.interval_days),
                locked => c.push_locked,
                locked_at => c.push_locked_at.map(|t| when(lang, t)),
                lock_reason => lock_reason(lang, c.push_lock_reason.as_deref()),
            },
            phone_value => p.phone_value.map(str::to_owned).or_else(|| c.phone.as_deref().map(phone_display)).unwrap_or_default(),
            phone_error => p.phone_error,
            remove_error => p.remove_error,
        },
    ))
}

/// `GET /portal/customers/{login}`.
async fn detail(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(login): Path<String>,
) -> Result<Response, PortalError> {
    let c = own_customer(&state, &me, &login).await?;
    render_detail(
        &state,
        &me,
        &c,
        DetailPage {
            status: StatusCode::OK,
            phone_value: None,
            phone_error: None,
            remove_error: None,
        },
    )
}

#[derive(Debug, Deserialize)]
struct PhoneForm {
    #[serde(default)]
    phone: String,
}

/// The sentence for a number the API refused (`validation-failed`, with the
/// reason in `detail`).
pub fn phone_error(lang: Lang, e: &CallError) -> Option<String> {
    let p = e.problem()?;
    if p.slug != "validation-failed" {
        return None;
    }
    let detail = p.detail.as_deref().unwrap_or_default();
    let key = if detail.contains("not a mobile number") {
        "cust_phone_not_mobile"
    } else {
        "cust_phone_invalid"
    };
    Some(i18n::t(lang, key).to_owned())
}

/// `POST /portal/customers/{login}/phone`: sets or changes the number.
async fn set_phone(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(login): Path<String>,
    form: CsrfForm<PhoneForm>,
) -> Result<Response, PortalError> {
    let c = own_customer(&state, &me, &login).await?;
    let lang = me.lang;
    let typed = form.form.phone.trim();
    let refuse = |error: String| {
        render_detail(
            &state,
            &me,
            &c,
            DetailPage {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                phone_value: Some(typed),
                phone_error: Some(error),
                remove_error: None,
            },
        )
    };
    if typed.is_empty() {
        return refuse(i18n::t(lang, "cust_phone_missing").to_owned());
    }
    if typed.chars().count() > 40 {
        return refuse(i18n::t(lang, "cust_phone_invalid").to_owned());
    }
    #[derive(Serialize)]
    struct Body<'a> {
        phone: &'a str,
    }
    let updated: Customer = match state
        .api
        .acting(&me.user.login)
        .put(
            &format!("/api/v1/users/{}/phone", seg(&c.login)),
            &Body { phone: typed },
        )
        .await
    {
        Ok(u) => u,
        Err(e) => match phone_error(lang, &e) {
            Some(sentence) => return refuse(sentence),
            None => return Err(e.into()),
        },
    };
    let number = updated
        .phone
        .as_deref()
        .map(phone_display)
        .unwrap_or_default();
    let key = if updated.phone == c.phone {
        "cust_phone_unchanged"
    } else {
        tracing::info!(customer = %c.login, by = %me.user.login, "portal: customer's mobile number set");
        "cust_phone_saved"
    };
    let text = i18n::tf(lang, key, &[("name", &c.display_name), ("phone", &number)]);
    done(&state, &form.session, text, &customer_page(&c))
}

/// `POST /portal/customers/{login}/phone/remove`.
async fn remove_phone(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(login): Path<String>,
    form: CsrfForm<ConfirmForm>,
) -> Result<Response, PortalError> {
    let c = own_customer(&state, &me, &login).await?;
    let lang = me.lang;
    if !form.form.confirmed() {
        return render_detail(
            &state,
            &me,
            &c,
            DetailPage {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                phone_value: None,
                phone_error: None,
                remove_error: Some(i18n::t(lang, "int_confirm_required").to_owned()),
            },
        );
    }
    state
        .api
        .acting(&me.user.login)
        .delete(&format!("/api/v1/users/{}/phone", seg(&c.login)))
        .await?;
    tracing::info!(customer = %c.login, by = %me.user.login, "portal: customer's mobile number removed");
    let text = i18n::tf(lang, "cust_phone_removed", &[("name", &c.display_name)]);
    done(&state, &form.session, text, &customer_page(&c))
}

/// `POST /portal/customers/{login}/unlock`: lifts the push lock.
async fn unlock(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(login): Path<String>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PortalError> {
    let c = own_customer(&state, &me, &login).await?;
    state
        .api
        .acting(&me.user.login)
        .send::<(), serde_json::Value>(
            reqwest::Method::POST,
            &format!("/api/v1/users/{}/push-unlock", seg(&c.login)),
            None,
        )
        .await?;
    tracing::info!(customer = %c.login, by = %me.user.login, "portal: customer's push lock lifted");
    let text = i18n::tf(me.lang, "cust_unlocked", &[("name", &c.display_name)]);
    done(&state, &form.session, text, &customer_page(&c))
}

/// The texts of "Meine Kunden".
pub const TEXTS: &[i18n::Text] = &[
    ("cust_title", "Meine Kunden", "My customers"),
    (
        "cust_intro",
        "Hinterlegen Sie die Mobilfunknummern Ihrer Kunden, sehen Sie, wer die Ident-App nutzt, und legen Sie fest, wie oft nach dem zweiten Faktor gefragt wird.",
        "Enter your customers' mobile numbers, see who uses the Ident app, and decide how often the second factor is asked for.",
    ),
    ("cust_filter", "Anzeigen", "Show"),
    ("cust_filter_all", "Alle Kunden", "All customers"),
    (
        "cust_filter_with_phone",
        "Mit Handynummer",
        "With mobile number",
    ),
    (
        "cust_filter_without_phone",
        "Ohne Handynummer",
        "Without mobile number",
    ),
    ("cust_filter_app", "App eingerichtet", "App set up"),
    (
        "cust_filter_no_app",
        "App nicht eingerichtet",
        "App not set up",
    ),
    (
        "cust_filter_sms",
        "SMS-Nutzer (Nummer, keine App)",
        "SMS users (number, no app)",
    ),
    ("cust_search", "Suche", "Search"),
    (
        "cust_search_hint",
        "Name, Loginname oder E-Mail-Adresse",
        "Name, login name or e-mail address",
    ),
    ("cust_apply", "Anzeigen", "Show"),
    ("cust_reset", "Zurücksetzen", "Reset"),
    (
        "cust_result_count",
        "{shown} von {total} Kunden",
        "{shown} of {total} customers",
    ),
    ("cust_name", "Kunde", "Customer"),
    ("cust_phone", "Handynummer", "Mobile number"),
    ("cust_app", "Ident-App", "Ident app"),
    ("cust_interval", "2FA-Intervall", "2FA interval"),
    ("cust_state", "Status", "Status"),
    ("cust_edit", "Bearbeiten", "Edit"),
    ("cust_edit_label", "{name} bearbeiten", "Edit {name}"),
    ("cust_none", "keine", "none"),
    ("cust_locked", "Gesperrt", "Locked"),
    ("cust_active", "Aktiv", "Active"),
    (
        "cust_empty",
        "Keine Kunden gefunden.",
        "No customers found.",
    ),
    (
        "cust_bulk_title",
        "2FA-Intervall für alle Kunden",
        "2FA interval for all customers",
    ),
    (
        "cust_bulk_explain",
        "Legt fest, wie lange ein Browser nach einer bestätigten Anmeldung ohne zweiten Faktor auskommt. „Immer“ fragt bei jeder Anmeldung. Kunden, deren Intervall sich ändert, müssen sich beim nächsten Mal wieder mit App oder SMS-Code bestätigen.",
        "Sets how long a browser needs no second factor after a confirmed login. “Always” asks at every login. Customers whose interval changes must confirm with the app or an SMS code at their next login.",
    ),
    ("cust_bulk_label", "Neues Intervall", "New interval"),
    (
        "cust_bulk_confirm",
        "Ja, für alle {n} Kunden übernehmen",
        "Yes, apply to all {n} customers",
    ),
    ("cust_bulk_save", "Für alle übernehmen", "Apply to all"),
    (
        "cust_bulk_done",
        "Das 2FA-Intervall „{interval}“ gilt jetzt für alle {total} Kunden; geändert bei {changed}.",
        "The 2FA interval “{interval}” now applies to all {total} customers; changed for {changed}.",
    ),
    ("cust_back", "Zur Kundenliste", "Back to the customer list"),
    ("cust_login", "Loginname", "Login name"),
    ("cust_email", "E-Mail", "E-mail"),
    ("cust_phone_title", "Handynummer", "Mobile number"),
    (
        "cust_phone_explain",
        "Nur Sie als Vermittler können die Nummer eintragen oder ändern. Deutsche Nummern ohne Ländervorwahl, z. B. 0171 2345678. Eine Änderung meldet die vertrauenswürdigen Browser des Kunden ab.",
        "Only you as the broker can enter or change the number. German numbers without the country code, e.g. 0171 2345678. A change signs out the customer's trusted browsers.",
    ),
    ("cust_phone_label", "Mobilfunknummer", "Mobile number"),
    ("cust_phone_save", "Nummer speichern", "Save number"),
    (
        "cust_phone_missing",
        "Bitte geben Sie eine Mobilfunknummer ein.",
        "Please enter a mobile number.",
    ),
    (
        "cust_phone_invalid",
        "Das ist keine gültige Telefonnummer. Bitte prüfen Sie die Eingabe, z. B. 0171 2345678.",
        "This is not a valid phone number. Please check it, e.g. 0171 2345678.",
    ),
    (
        "cust_phone_not_mobile",
        "Das ist keine Mobilfunknummer. SMS-Codes brauchen eine Handynummer, keine Festnetznummer.",
        "This is not a mobile number. SMS codes need a mobile number, not a landline.",
    ),
    (
        "cust_phone_saved",
        "Die Handynummer von {name} ist jetzt {phone}. Vertrauenswürdige Browser des Kunden wurden abgemeldet.",
        "{name}'s mobile number is now {phone}. The customer's trusted browsers were signed out.",
    ),
    (
        "cust_phone_unchanged",
        "Die Handynummer von {name} bleibt {phone}.",
        "{name}'s mobile number stays {phone}.",
    ),
    (
        "cust_phone_remove_title",
        "Nummer entfernen",
        "Remove the number",
    ),
    (
        "cust_phone_remove_explain",
        "Ohne Nummer kann sich der Kunde nicht mehr per SMS-Code anmelden und keine App neu einrichten.",
        "Without a number the customer can no longer log in with an SMS code or set up the app again.",
    ),
    (
        "cust_phone_remove_confirm",
        "Ja, die Nummer entfernen",
        "Yes, remove the number",
    ),
    ("cust_phone_remove", "Nummer entfernen", "Remove number"),
    (
        "cust_phone_removed",
        "Die Handynummer von {name} wurde entfernt.",
        "{name}'s mobile number was removed.",
    ),
    (
        "cust_no_phone",
        "Keine Nummer hinterlegt. Der Kunde kann sich erst anmelden, wenn Sie eine eintragen.",
        "No number on file. The customer can log in only once you enter one.",
    ),
    (
        "cust_lock_title",
        "Anmeldung per App gesperrt",
        "App login locked",
    ),
    (
        "cust_lock_since",
        "Gesperrt seit {time}.",
        "Locked since {time}.",
    ),
    (
        "cust_lock_not_me",
        "Der Kunde hat eine Anmeldung in der App mit „Das war ich nicht“ abgelehnt.",
        "The customer denied a login in the app with “This was not me”.",
    ),
    (
        "cust_lock_denials",
        "Mehrere Anmeldungen wurden kurz hintereinander abgelehnt oder mit falscher Zahl beantwortet.",
        "Several logins in a row were denied or answered with the wrong number.",
    ),
    (
        "cust_lock_unknown",
        "Der Grund ist nicht bekannt.",
        "The reason is not known.",
    ),
    (
        "cust_lock_explain",
        "Bis Sie die Sperre aufheben, erhält der Kunde keine Push-Anfragen und meldet sich per SMS-Code an. Heben Sie sie erst auf, wenn Sie mit dem Kunden gesprochen haben.",
        "Until you lift the lock the customer gets no push requests and logs in with an SMS code. Lift it only after you have spoken to the customer.",
    ),
    ("cust_unlock", "Sperre aufheben", "Lift the lock"),
    (
        "cust_unlocked",
        "Die Sperre für {name} ist aufgehoben.",
        "The lock for {name} was lifted.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(name: &str, login: &str, email: Option<&str>) -> Customer {
        Customer {
            login: login.into(),
            display_name: name.into(),
            role: Role::Customer,
            broker: Some("1000".into()),
            email: email.map(str::to_owned),
            phone: None,
            interval_days: 0,
            push_locked: false,
            push_locked_at: None,
            push_lock_reason: None,
            enrolled: false,
            created_at: 0,
        }
    }

    #[test]
    fn filters_round_trip_and_map_to_the_api() {
        for f in Filter::ALL {
            assert_eq!(Filter::parse(f.value()), f);
        }
        assert_eq!(Filter::parse("nonsense"), Filter::All);
        assert_eq!(Filter::SmsUsers.query(), "?phone=with&enrolled=no");
        assert_eq!(Filter::All.query(), "");
    }

    #[test]
    fn search_by_name_login_or_email() {
        let c = customer("Max Mustermann", "K-4711", Some("max@example.de"));
        assert!(matches_search(&c, ""));
        assert!(matches_search(&c, "muster"));
        assert!(matches_search(&c, "k-47"));
        assert!(matches_search(&c, " MAX@EXAMPLE "));
        assert!(!matches_search(&c, "erika"));
        assert!(!matches_search(&customer("A", "b", None), "example"));
    }

    #[test]
    fn phone_refusals_become_sentences() {
        let refusal = |slug: &str, detail: &str| {
            CallError::Problem(super::super::api::Problem {
                status: 422,
                slug: slug.into(),
                title: String::new(),
                detail: Some(detail.into()),
                retry_after: None,
                tries_left: None,
            })
        };
        let landline = refusal(
            "validation-failed",
            "`phone`: this is not a mobile number; SMS codes need a mobile number",
        );
        assert!(
            phone_error(Lang::De, &landline)
                .unwrap()
                .contains("keine Mobilfunknummer")
        );
        let bad = refusal(
            "validation-failed",
            "`phone`: this is not a valid phone number",
        );
        assert!(
            phone_error(Lang::En, &bad)
                .unwrap()
                .contains("not a valid phone number")
        );
        assert!(phone_error(Lang::De, &refusal("forbidden", "")).is_none());
    }
}
