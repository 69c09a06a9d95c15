//! "Kundenmail" (`/portal/mail`): the pages brokers and their employees use to
//! edit the letters, pick recipients, send, and read the send log.
//!
//! - `/portal/mail`: the templates and the send log.
//! - `/portal/mail/templates/{key}`: edit with a preview rendered by the
//!   server (for a sample customer or a chosen one); `mail.js` refreshes it
//!   while typing through `/portal/mail/preview`. Reset (shipped letters) and
//!   delete (own letters) are separate forms.
//! - `/portal/mail/send`: choose letter and recipient group, see every
//!   recipient (and who is skipped for lack of an address) and a sample of
//!   the letter, then confirm. The list is fetched again from the API when
//!   the send is confirmed, so what goes out follows the API's permissions,
//!   not anything the browser posted. A one-time token per shown list stops
//!   a reload or a double click from sending twice.
//! - `/portal/mail/log/{id}`: one campaign and what happened to each
//!   recipient; it follows a send in progress.
//!
//! The page templates are `templates/mail_*.html` (listed in
//! `portal::TEMPLATES`), the texts [`TEXTS`]; `mail.js` and `mail.css` are
//! served from here.
//!
//! The customers are the broker's: a broker's own, or for an employee their
//! broker's. Templates and the log belong to the broker, so employees and the
//! broker see and edit the same ones. The letterhead (the broker's name for
//! `vermittler`, their address for Reply-To) is read in the portal's own API
//! context, because an employee may not read the broker's user record.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use lettre::message::Mailbox;
use minijinja::{Value, context};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::recipient::{Recipient, RecipientFilter};
use super::send::{self, MailDb, MailSettings, Mailer, PlannedSend};
use super::store::{self, CampaignId, MailStoreError, RecipientStatus, TemplateEntry, TemplateKey};
use super::template::{self, MailContext, MailTemplate, PLACEHOLDERS, TemplateError};
use crate::domain::Role;
use crate::portal::api::{ApiUser, seg};
use crate::portal::csrf::CsrfForm;
use crate::portal::error::PortalError;
use crate::portal::i18n::{self, Lang, Text};
use crate::portal::internal::{self, phone_masked, when};
use crate::portal::session::LoggedIn;
use crate::portal::{Area, PortalState};

/// The session key of the one-time send token.
const SEND_NONCE: &str = "mail_send_nonce";
/// How many campaigns the overview lists.
const LOG_ROWS: u32 = 25;
/// A campaign not finished after this long is shown as interrupted.
const RUNNING_FOR_AT_MOST_SECS: i64 = 3600;

/// The routes of the customer mail.
pub fn router() -> Router<PortalState> {
    Router::new()
        .route("/portal/mail", get(index))
        .route("/portal/mail/new", get(new_form).post(create))
        .route("/portal/mail/templates/{key}", get(edit).post(save))
        .route("/portal/mail/templates/{key}/reset", post(reset))
        .route("/portal/mail/templates/{key}/delete", post(delete))
        .route("/portal/mail/preview", post(preview))
        .route("/portal/mail/send", get(send_form).post(send))
        .route("/portal/mail/log/{id}", get(log))
        .route("/portal/mail/log/{id}/status", get(log_status))
        .route("/portal/mail/mail.js", get(js))
        .route("/portal/mail/mail.css", get(css))
}

/// The broker whose customers, templates and log the user works with.
fn broker_of(me: &LoggedIn) -> Result<String, PortalError> {
    me.require(Area::Mail)?;
    internal::broker_of(me)
}

fn db_error(e: MailStoreError) -> PortalError {
    match e {
        MailStoreError::NotFound => PortalError::NotFound,
        other => PortalError::Internal(other.to_string()),
    }
}

fn db<T>(
    state: &PortalState,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, MailStoreError>,
) -> Result<T, PortalError> {
    state.store.as_ref().with_conn(f).map_err(db_error)
}

/// The broker's name (the `vermittler` placeholder) and address (Reply-To).
struct Letterhead {
    name: String,
    email: Option<String>,
}

async fn letterhead(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
) -> Result<Letterhead, PortalError> {
    let user = if broker == me.user.login {
        state.api.acting(&me.user.login).user(broker).await?
    } else {
        // Employees may not read their broker's record; the letterhead of
        // mail sent on the broker's behalf is read in the portal's context.
        state.api.admin().user(broker).await?
    };
    Ok(Letterhead {
        name: user.display_name,
        email: user.email,
    })
}

/// The names of who sent campaigns (the log keeps the login).
async fn sender_names<'a>(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    logins: impl IntoIterator<Item = &'a str>,
) -> HashMap<String, String> {
    internal::names_of(state, me, broker, logins)
        .await
        .into_iter()
        .map(|(login, person)| (login, person.name))
        .collect()
}

/// The portal's address for the `portal_url` placeholder.
fn portal_url(state: &PortalState) -> String {
    state.config.public_url.clone()
}

/// The mail settings, or the sentence why sending is not possible.
fn mail_settings(state: &PortalState, lang: Lang) -> Result<MailSettings, String> {
    let (Some(url), Some(from)) = (&state.config.smtp_url, &state.config.mail_from) else {
        return Err(i18n::t(lang, "mail_not_configured").to_owned());
    };
    MailSettings::new(url.clone(), from, &portal_url(state)).map_err(|e| {
        tracing::warn!(error = %e, "customer mail: the SMTP settings are invalid");
        i18n::tf(lang, "mail_settings_invalid", &[("reason", &e.to_string())])
    })
}

fn template_error(lang: Lang, e: &TemplateError) -> String {
    match lang {
        Lang::De => e.de(),
        Lang::En => e.to_string(),
    }
}

/// The recipient groups offered, in order: `(form value, filter, text key)`.
const GROUPS: &[(&str, RecipientFilter, &str)] = &[
    (
        "mit-handy",
        RecipientFilter::WITH_PHONE,
        "mail_group_with_phone",
    ),
    (
        "ohne-handy",
        RecipientFilter::WITHOUT_PHONE,
        "mail_group_without_phone",
    ),
    ("sms", RecipientFilter::SMS, "mail_group_sms"),
    ("app", RecipientFilter::APP, "mail_group_app"),
    (
        "ohne-app",
        RecipientFilter {
            phone: None,
            enrolled: Some(false),
        },
        "mail_group_no_app",
    ),
    ("alle", RecipientFilter::ALL, "mail_group_all"),
];

fn group(value: &str) -> Option<(&'static str, RecipientFilter, &'static str)> {
    GROUPS.iter().find(|g| g.0 == value).copied()
}

/// The group whose letter this is meant for (the form's first choice).
fn default_group(key: &TemplateKey) -> &'static str {
    match key.as_str() {
        "ohne-handynummer" => "ohne-handy",
        _ => "mit-handy",
    }
}

fn filter_label(lang: Lang, stored: &str) -> String {
    match RecipientFilter::parse_query(stored) {
        Ok(f) => match GROUPS.iter().find(|g| g.1 == f) {
            Some(g) => i18n::t(lang, g.2).to_owned(),
            None if lang == Lang::De => f.label_de(),
            None => f.label_en(),
        },
        Err(_) => stored.to_owned(),
    }
}

/// A customer as the mail service sees them.
fn recipient(user: &ApiUser, broker_name: &str) -> Recipient {
    Recipient {
        login: user.login.clone(),
        name: user.display_name.clone(),
        email: user.email.clone().filter(|e| !e.trim().is_empty()),
        phone_masked: user.phone.as_deref().map(phone_masked),
        enrolled: user.enrolled,
        broker_name: broker_name.to_owned(),
    }
}

#[derive(Deserialize)]
struct CustomerList {
    customers: Vec<ApiUser>,
}

/// The broker's customers matching `filter`, from the API as the user.
async fn customers(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    filter: &RecipientFilter,
) -> Result<Vec<ApiUser>, PortalError> {
    let q = filter.query();
    let path = if q.is_empty() {
        format!("/api/v1/brokers/{}/customers", seg(broker))
    } else {
        format!("/api/v1/brokers/{}/customers?{q}", seg(broker))
    };
    let list: CustomerList = state.api.acting(&me.user.login).get(&path).await?;
    Ok(list.customers)
}

// ---------------------------------------------------------------------------
// The overview

#[derive(Serialize)]
struct TemplateRow {
    key: String,
    name: String,
    state: &'static str,
    state_label: String,
    edit_url: String,
    send_url: String,
}

#[derive(Serialize)]
struct CampaignRow {
    id: i64,
    url: String,
    started: String,
    sent_by: String,
    template_name: String,
    filter: String,
    total: u32,
    sent: u32,
    failed: u32,
    skipped: u32,
    pending: u32,
    state: &'static str,
}

fn campaign_state(c: &store::Campaign, now: i64) -> &'static str {
    match c.finished_at {
        Some(_) if c.counts.failed > 0 => "failed",
        Some(_) => "done",
        None if now - c.started_at < RUNNING_FOR_AT_MOST_SECS => "running",
        None => "interrupted",
    }
}

fn template_row(lang: Lang, e: &TemplateEntry) -> TemplateRow {
    let (state, label) = match (e.is_default, e.modified) {
        (true, false) => ("default", i18n::t(lang, "mail_state_default").to_owned()),
        (true, true) => (
            "modified",
            i18n::tf(
                lang,
                "mail_state_modified",
                &[("when", &when(lang, e.updated_at.unwrap_or_default()))],
            ),
        ),
        (false, _) => (
            "own",
            i18n::tf(
                lang,
                "mail_state_own",
                &[("when", &when(lang, e.updated_at.unwrap_or_default()))],
            ),
        ),
    };
    TemplateRow {
        key: e.key.to_string(),
        name: e.name.clone(),
        state,
        state_label: label,
        edit_url: format!("/portal/mail/templates/{}", e.key),
        send_url: format!("/portal/mail/send?vorlage={}", e.key),
    }
}

/// `GET /portal/mail`.
async fn index(State(state): State<PortalState>, me: LoggedIn) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let (entries, campaigns) = db(&state, |c| {
        Ok((
            store::list_templates(c, &broker)?,
            store::list_campaigns(c, &broker, LOG_ROWS)?,
        ))
    })?;
    let now = state.now();
    let logins: Vec<&str> = campaigns.iter().map(|c| c.sent_by.as_str()).collect();
    let senders = sender_names(&state, &me, &broker, logins).await;
    let templates: Vec<TemplateRow> = entries.iter().map(|e| template_row(lang, e)).collect();
    let campaigns: Vec<CampaignRow> = campaigns
        .iter()
        .map(|c| CampaignRow {
            id: c.id.0,
            url: format!("/portal/mail/log/{}", c.id),
            started: when(lang, c.started_at),
            sent_by: senders
                .get(&c.sent_by)
                .cloned()
                .unwrap_or_else(|| c.sent_by.clone()),
            template_name: c.template_name.clone(),
            filter: filter_label(lang, &c.filter),
            total: c.counts.total,
            sent: c.counts.sent,
            failed: c.counts.failed,
            skipped: c.counts.skipped,
            pending: c.counts.pending,
            state: campaign_state(c, now),
        })
        .collect();
    Ok(state.page(
        &me.view(Area::Mail),
        "mail_index.html",
        context! {
            templates => Value::from_serialize(&templates),
            campaigns => Value::from_serialize(&campaigns),
            mail_problem => mail_settings(&state, lang).err(),
        },
    ))
}

// ---------------------------------------------------------------------------
// Editing

#[derive(Serialize)]
struct PlaceholderRow {
    name: &'static str,
    code: String,
    text: &'static str,
}

fn placeholder_rows(lang: Lang) -> Vec<PlaceholderRow> {
    PLACEHOLDERS
        .iter()
        .map(|p| PlaceholderRow {
            name: p.name,
            code: format!("{{{{ {} }}}}", p.name),
            text: match lang {
                Lang::De => p.description_de,
                Lang::En => p.description_en,
            },
        })
        .collect()
}

/// Whom the preview is for: a sample customer or one of the broker's.
#[derive(Debug, Default, Deserialize)]
struct PreviewChoice {
    /// `beispiel-mit` (default) or `beispiel-ohne`.
    #[serde(default)]
    beispiel: String,
    /// A customer's login; wins over `beispiel` when set.
    #[serde(default)]
    kunde: String,
}

/// The preview, or the sentence why there is none.
#[derive(Debug, Serialize)]
struct Preview {
    ok: bool,
    recipient: String,
    to: String,
    subject: String,
    body: String,
    error: Option<String>,
}

impl Preview {
    fn failed(error: String) -> Self {
        Preview {
            ok: false,
            recipient: String::new(),
            to: String::new(),
            subject: String::new(),
            body: String::new(),
            error: Some(error),
        }
    }
}

/// Finds the customer to preview for. A login that is not one of the
/// broker's customers gets a sentence, not an error page.
async fn preview_recipient(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    letterhead: &Letterhead,
    choice: &PreviewChoice,
) -> Result<Recipient, String> {
    let lang = me.lang;
    let login = choice.kunde.trim();
    if login.is_empty() {
        let [with, without] = template::sample_recipients();
        let mut r = if choice.beispiel == "beispiel-ohne" {
            without
        } else {
            with
        };
        r.broker_name = letterhead.name.clone();
        return Ok(r);
    }
    let not_found = || i18n::tf(lang, "mail_preview_no_customer", &[("login", login)]);
    match state.api.acting(&me.user.login).user(login).await {
        Ok(u) if u.role == Role::Customer && u.broker.as_deref() == Some(broker) => {
            Ok(recipient(&u, &letterhead.name))
        }
        Ok(_) => Err(not_found()),
        Err(e)
            if matches!(
                e.slug(),
                Some("forbidden" | "not-found" | "validation-failed")
            ) =>
        {
            Err(not_found())
        }
        Err(e) => {
            tracing::warn!(error = %e, "customer mail: preview customer lookup failed");
            Err(i18n::t(lang, "error_api").to_owned())
        }
    }
}

fn render_preview(lang: Lang, template: &MailTemplate, r: &Recipient, portal_url: &str) -> Preview {
    match template.render(&MailContext::for_recipient(r, portal_url)) {
        Ok(m) => Preview {
            ok: true,
            recipient: r.name.clone(),
            to: r.email.clone().unwrap_or_default(),
            subject: m.subject,
            body: m.body,
            error: None,
        },
        Err(e) => Preview::failed(template_error(lang, &e)),
    }
}

async fn build_preview(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    texts: (&str, &str, &str),
    choice: &PreviewChoice,
) -> Result<Preview, PortalError> {
    let lang = me.lang;
    let template = match MailTemplate::new(texts.0, texts.1, texts.2) {
        Ok(t) => t,
        Err(e) => return Ok(Preview::failed(template_error(lang, &e))),
    };
    let head = letterhead(state, me, broker).await?;
    Ok(
        match preview_recipient(state, me, broker, &head, choice).await {
            Ok(r) => render_preview(lang, &template, &r, &portal_url(state)),
            Err(sentence) => Preview::failed(sentence),
        },
    )
}

struct EditPage<'a> {
    key: Option<&'a TemplateEntry>,
    name: &'a str,
    subject: &'a str,
    body: &'a str,
    error: Option<String>,
    notice: Option<String>,
    preview: Preview,
    choice: &'a PreviewChoice,
}

fn edit_page(
    state: &PortalState,
    me: &LoggedIn,
    status: StatusCode,
    page: EditPage<'_>,
) -> Response {
    let lang = me.lang;
    let (action, key, is_default, modified, own, title) = match page.key {
        Some(e) => (
            format!("/portal/mail/templates/{}", e.key),
            e.key.to_string(),
            e.is_default,
            e.modified,
            !e.is_default,
            i18n::t(lang, "mail_edit_title"),
        ),
        None => (
            "/portal/mail/new".to_owned(),
            String::new(),
            false,
            false,
            false,
            i18n::t(lang, "mail_new_title"),
        ),
    };
    let here = if key.is_empty() {
        "/portal/mail/new".to_owned()
    } else {
        action.clone()
    };
    state.page_at(
        status,
        &me.view(Area::Mail),
        &here,
        "mail_edit.html",
        context! {
            title,
            action,
            key,
            is_default,
            modified,
            own,
            name => page.name,
            subject => page.subject,
            body => page.body,
            error => page.error,
            notice => page.notice,
            preview => Value::from_serialize(&page.preview),
            kunde => page.choice.kunde.trim(),
            beispiel => if page.choice.beispiel == "beispiel-ohne" { "beispiel-ohne" } else { "beispiel-mit" },
            placeholders => Value::from_serialize(placeholder_rows(lang)),
            send_url => if key.is_empty() { String::new() } else { format!("/portal/mail/send?vorlage={key}") },
        },
    )
}

#[derive(Debug, Deserialize)]
struct EditQuery {
    #[serde(default)]
    gespeichert: Option<String>,
    #[serde(default)]
    zurueckgesetzt: Option<String>,
    #[serde(flatten)]
    choice: PreviewChoice,
}

fn parse_key(key: &str) -> Result<TemplateKey, PortalError> {
    TemplateKey::parse(key).map_err(|_| PortalError::NotFound)
}

/// `GET /portal/mail/templates/{key}`.
async fn edit(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(key): Path<String>,
    Query(q): Query<EditQuery>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let key = parse_key(&key)?;
    let entry = db(&state, |c| store::get_template(c, &broker, &key))?;
    let preview = build_preview(
        &state,
        &me,
        &broker,
        (&entry.name, &entry.subject, &entry.body),
        &q.choice,
    )
    .await?;
    let notice = if q.gespeichert.is_some() {
        Some(i18n::t(me.lang, "mail_saved").to_owned())
    } else if q.zurueckgesetzt.is_some() {
        Some(i18n::t(me.lang, "mail_reset_done").to_owned())
    } else {
        None
    };
    Ok(edit_page(
        &state,
        &me,
        StatusCode::OK,
        EditPage {
            key: Some(&entry),
            name: &entry.name,
            subject: &entry.subject,
            body: &entry.body,
            error: None,
            notice,
            preview,
            choice: &q.choice,
        },
    ))
}

/// The editor's form.
#[derive(Debug, Deserialize)]
struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `speichern` (default) or `vorschau` (only refresh the preview).
    #[serde(default)]
    aktion: String,
    #[serde(flatten)]
    choice: PreviewChoice,
}

/// `POST /portal/mail/templates/{key}`: save, or show the preview of the
/// unsaved text (`aktion=vorschau`, the button for browsers without JS).
async fn save(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(key): Path<String>,
    form: CsrfForm<TemplateForm>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let key = parse_key(&key)?;
    let entry = db(&state, |c| store::get_template(c, &broker, &key))?;
    save_or_preview(&state, &me, &broker, Some(&entry), &form.form).await
}

/// What both editor forms do: store a letter that checks out (`entry`: the
/// one edited, `None`: a new one) and go to it, or show the editor again
/// with the preview and, unless only the preview was asked for, why the
/// text was not saved.
async fn save_or_preview(
    state: &PortalState,
    me: &LoggedIn,
    broker: &str,
    entry: Option<&TemplateEntry>,
    f: &TemplateForm,
) -> Result<Response, PortalError> {
    let checked = MailTemplate::new(&f.name, &f.subject, &f.body);
    let preview_only = f.aktion == "vorschau";
    if let (Ok(template), false) = (&checked, preview_only) {
        let by = me.user.login.as_str();
        let key = match entry {
            Some(e) => {
                db(state, |c| {
                    store::save_template(c, broker, &e.key, template, by, state.now())
                })?;
                e.key.clone()
            }
            None => db(state, |c| {
                store::create_template(c, broker, template, by, state.now())
            })?,
        };
        let what = if entry.is_some() { "saved" } else { "created" };
        tracing::info!(broker = %broker, by = %by, template = %key, "customer mail: template {what}");
        return Ok(
            Redirect::to(&format!("/portal/mail/templates/{key}?gespeichert=1")).into_response(),
        );
    }
    let preview =
        build_preview(state, me, broker, (&f.name, &f.subject, &f.body), &f.choice).await?;
    let (status, error) = match &checked {
        Err(e) if preview_only => (StatusCode::OK, Some(template_error(me.lang, e))),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(i18n::tf(
                me.lang,
                "mail_not_saved",
                &[("reason", &template_error(me.lang, e))],
            )),
        ),
        Ok(_) => (StatusCode::OK, None),
    };
    Ok(edit_page(
        state,
        me,
        status,
        EditPage {
            key: entry,
            name: &f.name,
            subject: &f.subject,
            body: &f.body,
            error,
            notice: (status == StatusCode::OK && checked.is_ok())
                .then(|| i18n::t(me.lang, "mail_preview_unsaved").to_owned()),
            preview,
            choice: &f.choice,
        },
    ))
}

/// `GET /portal/mail/new`: an empty editor with a starting text.
async fn new_form(State(state): State<PortalState>, me: LoggedIn) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let name = i18n::t(me.lang, "mail_new_name");
    let subject = "";
    let body = "{{ anrede }},\n\n\n\nMit freundlichen Grüßen\n{{ vermittler }}\n";
    let choice = PreviewChoice::default();
    let preview = build_preview(&state, &me, &broker, (name, "…", body), &choice).await?;
    Ok(edit_page(
        &state,
        &me,
        StatusCode::OK,
        EditPage {
            key: None,
            name,
            subject,
            body,
            error: None,
            notice: None,
            preview,
            choice: &choice,
        },
    ))
}

/// `POST /portal/mail/new`.
async fn create(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<TemplateForm>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    save_or_preview(&state, &me, &broker, None, &form.form).await
}

#[derive(Debug, Deserialize)]
struct Empty {}

/// `POST /portal/mail/templates/{key}/reset`.
async fn reset(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(key): Path<String>,
    _form: CsrfForm<Empty>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let key = parse_key(&key)?;
    if !key.is_default() {
        return Err(PortalError::NotFound);
    }
    db(&state, |c| store::reset_template(c, &broker, &key))?;
    tracing::info!(broker = %broker, by = %me.user.login, template = %key, "customer mail: template reset");
    Ok(Redirect::to(&format!("/portal/mail/templates/{key}?zurueckgesetzt=1")).into_response())
}

/// `POST /portal/mail/templates/{key}/delete`.
async fn delete(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(key): Path<String>,
    _form: CsrfForm<Empty>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let key = parse_key(&key)?;
    if key.is_default() {
        return Err(PortalError::NotFound);
    }
    db(&state, |c| store::delete_template(c, &broker, &key))?;
    tracing::info!(broker = %broker, by = %me.user.login, template = %key, "customer mail: template deleted");
    Ok(Redirect::to("/portal/mail").into_response())
}

/// `POST /portal/mail/preview`: the preview as JSON, for `mail.js`.
async fn preview(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<TemplateForm>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let f = &form.form;
    let p = build_preview(
        &state,
        &me,
        &broker,
        (&f.name, &f.subject, &f.body),
        &f.choice,
    )
    .await?;
    Ok(Json(p).into_response())
}

// ---------------------------------------------------------------------------
// Sending

#[derive(Debug, Default, Deserialize)]
struct SendQuery {
    #[serde(default)]
    vorlage: String,
    #[serde(default)]
    gruppe: String,
    /// Set when the list should be shown (the form's button).
    #[serde(default)]
    anzeigen: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct RecipientRow {
    login: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    enrolled: bool,
    skip: Option<&'static str>,
}

fn random_token() -> Result<String, PortalError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PortalError::Internal("no randomness".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `GET /portal/mail/send`: choose, look, confirm.
async fn send_form(
    State(state): State<PortalState>,
    mut me: LoggedIn,
    Query(q): Query<SendQuery>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let entries = db(&state, |c| store::list_templates(c, &broker))?;
    let chosen = TemplateKey::parse(&q.vorlage)
        .ok()
        .and_then(|k| entries.iter().find(|e| e.key == k))
        .or_else(|| entries.first())
        .ok_or(PortalError::NotFound)?;
    let group_value = group(&q.gruppe).map_or_else(|| default_group(&chosen.key), |g| g.0);
    let (_, filter, _) = group(group_value).unwrap_or(GROUPS[0]);
    let templates: Vec<Choice> = entries
        .iter()
        .map(|e| Choice {
            value: e.key.to_string(),
            label: e.name.clone(),
            selected: e.key == chosen.key,
        })
        .collect();
    let groups: Vec<Choice> = GROUPS
        .iter()
        .map(|(value, _, label)| Choice {
            value: (*value).to_owned(),
            label: i18n::t(lang, label).to_owned(),
            selected: *value == group_value,
        })
        .collect();
    let mail_problem = mail_settings(&state, lang).err();

    let mut shown = false;
    let mut rows: Vec<RecipientRow> = Vec::new();
    let mut sending = 0usize;
    let mut template_problem = None;
    let mut sample = None;
    let mut nonce = String::new();
    if q.anzeigen.is_some() {
        shown = true;
        let head = letterhead(&state, &me, &broker).await?;
        let users = customers(&state, &me, &broker, &filter).await?;
        let recipients: Vec<Recipient> = users.iter().map(|u| recipient(u, &head.name)).collect();
        let planned: Vec<PlannedSend> = send::plan(&recipients, &filter);
        sending = planned.iter().filter(|p| p.outcome.is_ok()).count();
        rows = planned
            .iter()
            .map(|p| RecipientRow {
                login: p.recipient.login.clone(),
                name: p.recipient.name.clone(),
                email: p.recipient.email.clone(),
                phone: p.recipient.phone_masked.clone(),
                enrolled: p.recipient.enrolled,
                skip: p.outcome.as_ref().err().map(|r| match lang {
                    Lang::De => r.de(),
                    Lang::En => r.en(),
                }),
            })
            .collect();
        match chosen.template() {
            Ok(t) => {
                if let Some(first) = planned.iter().find(|p| p.outcome.is_ok()) {
                    sample = Some(render_preview(
                        lang,
                        &t,
                        &first.recipient,
                        &portal_url(&state),
                    ));
                }
            }
            Err(e) => template_problem = Some(template_error(lang, &e)),
        }
        if sending > 0 && mail_problem.is_none() && template_problem.is_none() {
            nonce = random_token()?;
            me.session
                .data
                .values
                .insert(SEND_NONCE.into(), serde_json::Value::String(nonce.clone()));
            state.save_session(&me.session)?;
        }
    }
    Ok(state.page(
        &me.view(Area::Mail),
        "mail_send.html",
        context! {
            templates => Value::from_serialize(&templates),
            groups => Value::from_serialize(&groups),
            vorlage => chosen.key.to_string(),
            vorlage_name => chosen.name.clone(),
            gruppe => group_value,
            gruppe_label => i18n::t(lang, group(group_value).map_or("mail_group_all", |g| g.2)),
            shown,
            recipients => Value::from_serialize(&rows),
            total => rows.len(),
            sending,
            skipped => rows.len() - sending,
            sample => Value::from_serialize(&sample),
            mail_problem,
            template_problem,
            nonce,
            confirm_label => i18n::tf(lang, "mail_confirm_label", &[("n", &sending.to_string())]),
            send_label => i18n::tf(lang, "mail_send_button", &[("n", &sending.to_string())]),
        },
    ))
}

#[derive(Debug, Deserialize)]
struct SendForm {
    #[serde(default)]
    vorlage: String,
    #[serde(default)]
    gruppe: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    bestaetigt: String,
}

/// `POST /portal/mail/send`: checks the one-time token and the confirmation,
/// fetches the recipients again, writes the campaign to the log and sends it
/// in the background; the browser goes to the campaign's log page.
async fn send(
    State(state): State<PortalState>,
    me: LoggedIn,
    form: CsrfForm<SendForm>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let CsrfForm {
        mut session,
        form: f,
        ..
    } = form;
    let back = format!(
        "/portal/mail/send?vorlage={}&gruppe={}&anzeigen=1",
        seg(&f.vorlage),
        seg(&f.gruppe)
    );
    // The token is used up whatever happens next: one shown list, one send.
    let expected = session.data.values.remove(SEND_NONCE);
    state.save_session(&session)?;
    let token_ok =
        matches!(&expected, Some(serde_json::Value::String(t)) if !t.is_empty() && *t == f.token);
    if !token_ok || f.bestaetigt != "ja" {
        // Reloaded, sent twice, or not confirmed: show the list again.
        return Ok(Redirect::to(&back).into_response());
    }
    let Some((_, filter, _)) = group(&f.gruppe) else {
        return Err(PortalError::BadForm);
    };
    let key = parse_key(&f.vorlage)?;
    let entry = db(&state, |c| store::get_template(c, &broker, &key))?;
    let template = match entry.template() {
        Ok(t) => t,
        Err(_) => return Ok(Redirect::to(&back).into_response()),
    };
    let settings = match mail_settings(&state, lang) {
        Ok(s) => s,
        Err(_) => return Ok(Redirect::to(&back).into_response()),
    };
    let mailer = Mailer::new(&settings).map_err(|e| PortalError::Internal(e.to_string()))?;
    let head = letterhead(&state, &me, &broker).await?;
    let users = customers(&state, &me, &broker, &filter).await?;
    let recipients: Vec<Recipient> = users.iter().map(|u| recipient(u, &head.name)).collect();
    let reply_to = head
        .email
        .as_deref()
        .and_then(|e| e.parse().ok())
        .map(|address| Mailbox::new(Some(head.name.clone()), address));
    let prepared = send::prepare_campaign(
        state.store.as_ref(),
        state.clock.as_ref(),
        send::CampaignRequest {
            broker: &broker,
            sent_by: &me.user.login,
            template_key: &key,
            template: &template,
            filter,
            recipients: &recipients,
            reply_to,
        },
    )
    .map_err(|e| PortalError::Internal(e.to_string()))?;
    let id = prepared.id();
    let bg = state.clone();
    tokio::spawn(async move {
        if let Err(e) = prepared
            .run(bg.store.as_ref(), &mailer, bg.clock.as_ref())
            .await
        {
            tracing::error!(campaign = id.0, error = %e, "customer mail: the campaign stopped");
        }
    });
    Ok(Redirect::to(&format!("/portal/mail/log/{id}")).into_response())
}

// ---------------------------------------------------------------------------
// The send log

#[derive(Serialize)]
struct LogRow {
    seq: usize,
    login: String,
    name: String,
    address: Option<String>,
    status: &'static str,
    status_label: &'static str,
    detail: Option<String>,
    at: Option<String>,
}

fn status_label(lang: Lang, s: RecipientStatus) -> &'static str {
    i18n::t(
        lang,
        match s {
            RecipientStatus::Pending => "mail_status_pending",
            RecipientStatus::Sent => "mail_status_sent",
            RecipientStatus::Failed => "mail_status_failed",
            RecipientStatus::Skipped => "mail_status_skipped",
        },
    )
}

fn parse_campaign(id: &str) -> Result<CampaignId, PortalError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(CampaignId)
        .ok_or(PortalError::NotFound)
}

/// `GET /portal/mail/log/{id}`.
async fn log(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let lang = me.lang;
    let id = parse_campaign(&id)?;
    let (c, recipients) = db(&state, |conn| store::get_campaign(conn, &broker, id))?;
    let rows: Vec<LogRow> = recipients
        .into_iter()
        .map(|r| LogRow {
            seq: r.seq,
            login: r.login,
            name: r.name,
            address: r.address,
            status: r.status.as_str(),
            status_label: status_label(lang, r.status),
            detail: r.detail.map(|d| match send::SkipReason::from_code(&d) {
                Some(reason) if lang == Lang::De => reason.de().to_owned(),
                Some(reason) => reason.en().to_owned(),
                None => d,
            }),
            at: r.at.map(|t| when(lang, t)),
        })
        .collect();
    let sent_by = sender_names(&state, &me, &broker, [c.sent_by.as_str()])
        .await
        .remove(&c.sent_by)
        .unwrap_or_else(|| c.sent_by.clone());
    let here = format!("/portal/mail/log/{id}");
    Ok(state.page_at(
        StatusCode::OK,
        &me.view(Area::Mail),
        &here,
        "mail_log.html",
        context! {
            id => id.0,
            state => campaign_state(&c, state.now()),
            started => when(lang, c.started_at),
            finished => c.finished_at.map(|t| when(lang, t)),
            sent_by => sent_by,
            template_name => c.template_name,
            filter => filter_label(lang, &c.filter),
            subject => c.subject,
            body => c.body,
            counts => Value::from_serialize(json!({
                "total": c.counts.total,
                "sent": c.counts.sent,
                "failed": c.counts.failed,
                "skipped": c.counts.skipped,
                "pending": c.counts.pending,
            })),
            recipients => Value::from_serialize(&rows),
            status_url => format!("/portal/mail/log/{id}/status"),
        },
    ))
}

/// `GET /portal/mail/log/{id}/status`: the counts as JSON (`mail.js` follows
/// a running send with it).
async fn log_status(
    State(state): State<PortalState>,
    me: LoggedIn,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let broker = broker_of(&me)?;
    let id = parse_campaign(&id)?;
    let c = db(&state, |conn| store::get_campaign(conn, &broker, id))?.0;
    Ok(Json(json!({
        "state": campaign_state(&c, state.now()),
        "total": c.counts.total,
        "sent": c.counts.sent,
        "failed": c.counts.failed,
        "skipped": c.counts.skipped,
        "pending": c.counts.pending,
    }))
    .into_response())
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// `GET /portal/mail/mail.js`: the live preview and the send progress.
async fn js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/mail.js"),
    )
}

/// `GET /portal/mail/mail.css`: the pages' additions to `portal.css`.
async fn css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("static/mail.css"))
}

/// The words of the customer-mail pages.
pub const TEXTS: &[Text] = &[
    ("mail_title", "Kundenmail", "Customer mail"),
    (
        "mail_intro",
        "Informieren Sie Ihre Kunden per E-Mail über die Zwei-Faktor-Authentifizierung: Vorlage wählen oder anpassen, Empfänger auswählen, prüfen und senden. Jeder Kunde erhält eine eigene E-Mail.",
        "Tell your customers about two-factor authentication by e-mail: choose or adapt a letter, pick the recipients, check and send. Each customer gets an e-mail of their own.",
    ),
    (
        "mail_not_configured",
        "Der E-Mail-Versand ist noch nicht eingerichtet (Einstellungen portal.smtp_url und portal.mail_from). Vorlagen können Sie trotzdem bearbeiten.",
        "Sending e-mail is not set up yet (settings portal.smtp_url and portal.mail_from). You can still edit the letters.",
    ),
    (
        "mail_settings_invalid",
        "Die E-Mail-Einstellungen sind ungültig: {reason}",
        "The e-mail settings are invalid: {reason}",
    ),
    ("mail_templates", "Vorlagen", "Letters"),
    ("mail_col_name", "Vorlage", "Letter"),
    ("mail_col_state", "Stand", "Version"),
    ("mail_col_actions", "Aktionen", "Actions"),
    ("mail_state_default", "Standardvorlage", "Standard letter"),
    (
        "mail_state_modified",
        "Angepasst am {when}",
        "Edited on {when}",
    ),
    (
        "mail_state_own",
        "Eigene Vorlage, geändert am {when}",
        "Own letter, changed on {when}",
    ),
    ("mail_edit", "Bearbeiten", "Edit"),
    ("mail_send_this", "Senden", "Send"),
    ("mail_new", "Neue Vorlage", "New letter"),
    ("mail_log", "Versandprotokoll", "Send log"),
    (
        "mail_log_empty",
        "Noch keine E-Mails versendet.",
        "No e-mails sent yet.",
    ),
    ("mail_col_when", "Gestartet", "Started"),
    ("mail_col_group", "Empfänger", "Recipients"),
    ("mail_col_by", "Gesendet von", "Sent by"),
    ("mail_col_result", "Ergebnis", "Result"),
    (
        "mail_result",
        "{sent} gesendet, {failed} fehlgeschlagen, {skipped} übersprungen",
        "{sent} sent, {failed} failed, {skipped} skipped",
    ),
    ("mail_details", "Details", "Details"),
    ("mail_run_running", "Wird gesendet", "Sending"),
    ("mail_run_done", "Abgeschlossen", "Finished"),
    (
        "mail_run_failed",
        "Abgeschlossen mit Fehlern",
        "Finished with errors",
    ),
    ("mail_run_interrupted", "Abgebrochen", "Interrupted"),
    // The editor.
    ("mail_edit_title", "Vorlage bearbeiten", "Edit letter"),
    ("mail_new_title", "Neue Vorlage", "New letter"),
    ("mail_new_name", "Eigene Vorlage", "Own letter"),
    ("mail_back", "Zur Kundenmail", "Back to customer mail"),
    ("mail_field_name", "Name der Vorlage", "Name of the letter"),
    (
        "mail_field_name_hint",
        "Nur für Sie und Ihr Team sichtbar, nicht für Kunden.",
        "Only you and your team see it, customers do not.",
    ),
    ("mail_field_subject", "Betreff", "Subject"),
    ("mail_field_body", "Text", "Text"),
    (
        "mail_field_body_hint",
        "Reiner Text. Platzhalter in doppelten geschweiften Klammern werden für jeden Kunden ausgefüllt, z. B. {{ name }}. Bedingungen: {% if hat_handynummer %} … {% else %} … {% endif %}.",
        "Plain text. Placeholders in double curly braces are filled in for each customer, e.g. {{ name }}. Conditions: {% if hat_handynummer %} … {% else %} … {% endif %}.",
    ),
    ("mail_placeholders", "Platzhalter", "Placeholders"),
    ("mail_save", "Speichern", "Save"),
    (
        "mail_preview_refresh",
        "Vorschau aktualisieren",
        "Refresh preview",
    ),
    (
        "mail_saved",
        "Die Vorlage wurde gespeichert.",
        "The letter has been saved.",
    ),
    (
        "mail_preview_unsaved",
        "Vorschau des noch nicht gespeicherten Textes.",
        "Preview of the text not yet saved.",
    ),
    (
        "mail_not_saved",
        "Nicht gespeichert. {reason}",
        "Not saved. {reason}",
    ),
    (
        "mail_reset",
        "Auf Standard zurücksetzen",
        "Reset to the standard letter",
    ),
    (
        "mail_reset_hint",
        "Ersetzt Ihre Änderungen durch den mitgelieferten Text.",
        "Replaces your changes with the text shipped with the portal.",
    ),
    (
        "mail_reset_done",
        "Die Vorlage wurde auf den Standardtext zurückgesetzt.",
        "The letter has been reset to the standard text.",
    ),
    ("mail_delete", "Vorlage löschen", "Delete letter"),
    ("mail_preview", "Vorschau", "Preview"),
    ("mail_preview_for", "Vorschau für", "Preview for"),
    (
        "mail_sample_with",
        "Beispielkunde mit Handynummer",
        "Sample customer with a mobile number",
    ),
    (
        "mail_sample_without",
        "Beispielkunde ohne Handynummer",
        "Sample customer without a mobile number",
    ),
    (
        "mail_preview_customer",
        "oder Loginname eines Kunden",
        "or a customer's login name",
    ),
    ("mail_preview_show", "Anzeigen", "Show"),
    (
        "mail_preview_no_customer",
        "„{login}“ ist keiner Ihrer Kunden.",
        "\"{login}\" is not one of your customers.",
    ),
    ("mail_preview_to", "An", "To"),
    ("mail_preview_subject", "Betreff", "Subject"),
    // Sending.
    ("mail_send_title", "Kundenmail senden", "Send customer mail"),
    (
        "mail_step_choose",
        "1. Vorlage und Empfänger wählen",
        "1. Choose letter and recipients",
    ),
    ("mail_field_template", "Vorlage", "Letter"),
    ("mail_field_group", "Empfänger", "Recipients"),
    (
        "mail_show_recipients",
        "Empfänger anzeigen",
        "Show recipients",
    ),
    (
        "mail_group_with_phone",
        "Kunden mit hinterlegter Handynummer",
        "Customers with a mobile number on file",
    ),
    (
        "mail_group_without_phone",
        "Kunden ohne hinterlegte Handynummer",
        "Customers without a mobile number on file",
    ),
    (
        "mail_group_sms",
        "SMS-Nutzer (Handynummer, aber keine App)",
        "SMS users (mobile number but no app)",
    ),
    (
        "mail_group_app",
        "Kunden mit eingerichteter App",
        "Customers who have set up the app",
    ),
    (
        "mail_group_no_app",
        "Kunden ohne eingerichtete App",
        "Customers who have not set up the app",
    ),
    ("mail_group_all", "Alle Kunden", "All customers"),
    (
        "mail_step_check",
        "2. Empfänger prüfen",
        "2. Check the recipients",
    ),
    (
        "mail_summary",
        "Kunden in der Auswahl: {total} – davon erhalten die E-Mail: {sending}, übersprungen: {skipped}.",
        "Customers selected: {total} – getting the e-mail: {sending}, skipped: {skipped}.",
    ),
    (
        "mail_no_recipients",
        "Keine Kunden in dieser Auswahl.",
        "No customers in this selection.",
    ),
    ("mail_col_customer", "Kunde", "Customer"),
    ("mail_col_email", "E-Mail", "E-mail"),
    ("mail_col_phone", "Handynummer", "Mobile number"),
    ("mail_col_app", "App", "App"),
    ("mail_app_yes", "eingerichtet", "set up"),
    ("mail_app_no", "nicht eingerichtet", "not set up"),
    ("mail_none", "keine", "none"),
    ("mail_will_send", "erhält die E-Mail", "gets the e-mail"),
    (
        "mail_sample_title",
        "So sieht die E-Mail aus (erster Empfänger)",
        "What the e-mail looks like (first recipient)",
    ),
    ("mail_step_send", "3. Senden", "3. Send"),
    (
        "mail_confirm_label",
        "Ich habe die Empfängerliste geprüft: E-Mail an {n} Kunden senden.",
        "I have checked the list of recipients: send the e-mail to {n} customers.",
    ),
    (
        "mail_send_button",
        "Jetzt an {n} Kunden senden",
        "Send to {n} customers now",
    ),
    (
        "mail_send_hint",
        "Jeder Kunde erhält eine eigene E-Mail; niemand sieht die Adressen anderer Kunden. Antworten gehen an Ihre E-Mail-Adresse.",
        "Each customer gets an e-mail of their own; nobody sees other customers' addresses. Replies go to your e-mail address.",
    ),
    (
        "mail_template_broken",
        "Diese Vorlage kann so nicht gesendet werden: {reason}",
        "This letter cannot be sent as it is: {reason}",
    ),
    // The log.
    ("mail_log_title", "Versand", "Send"),
    ("mail_log_started", "Gestartet", "Started"),
    ("mail_log_finished", "Abgeschlossen", "Finished"),
    ("mail_log_by", "Gesendet von", "Sent by"),
    ("mail_log_template", "Vorlage", "Letter"),
    ("mail_log_group", "Empfänger", "Recipients"),
    (
        "mail_log_subject",
        "Betreff (Vorlage)",
        "Subject (template)",
    ),
    (
        "mail_log_text",
        "Gesendeter Vorlagentext",
        "Template text sent",
    ),
    ("mail_log_recipients", "Empfänger", "Recipients"),
    ("mail_col_status", "Status", "Status"),
    ("mail_col_detail", "Hinweis", "Note"),
    ("mail_col_at", "Zeitpunkt", "Time"),
    ("mail_status_pending", "ausstehend", "pending"),
    ("mail_status_sent", "gesendet", "sent"),
    ("mail_status_failed", "fehlgeschlagen", "failed"),
    ("mail_status_skipped", "übersprungen", "skipped"),
    (
        "mail_log_running",
        "Die E-Mails werden gesendet. Diese Seite zeigt den Fortschritt.",
        "The e-mails are being sent. This page shows the progress.",
    ),
    (
        "mail_log_interrupted",
        "Der Versand wurde unterbrochen; ausstehende Empfänger haben keine E-Mail erhalten.",
        "The send was interrupted; pending recipients did not get an e-mail.",
    ),
    ("mail_log_reload", "Aktualisieren", "Refresh"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_distinct_and_parse_back() {
        for (value, filter, _) in GROUPS {
            assert_eq!(group(value).map(|g| g.1), Some(*filter));
            assert_eq!(GROUPS.iter().filter(|g| g.1 == *filter).count(), 1);
        }
        assert_eq!(group("unbekannt"), None);
        assert_eq!(
            group("sms").map(|g| g.1.query()),
            Some("phone=with&enrolled=no".into())
        );
    }

    #[test]
    fn letters_default_to_their_group() {
        assert_eq!(
            default_group(&TemplateKey::parse("ohne-handynummer").unwrap()),
            "ohne-handy"
        );
        assert_eq!(
            default_group(&TemplateKey::parse("mit-handynummer").unwrap()),
            "mit-handy"
        );
        assert_eq!(
            default_group(&TemplateKey::parse("eigene-1").unwrap()),
            "mit-handy"
        );
    }

    #[test]
    fn filter_labels_in_both_languages() {
        assert_eq!(
            filter_label(Lang::De, "phone=with&enrolled=no"),
            "SMS-Nutzer (Handynummer, aber keine App)"
        );
        assert_eq!(filter_label(Lang::En, ""), "All customers");
        assert_eq!(
            filter_label(Lang::De, "phone=without&enrolled=yes"),
            "Kunden ohne Handynummer, App eingerichtet"
        );
    }

    #[test]
    fn times_are_local() {
        // 2027-01-15 12:00 UTC is 13:00 in Berlin (winter time).
        assert_eq!(when(Lang::De, 1_800_014_400), "15.01.2027, 13:00 Uhr");
        assert_eq!(when(Lang::En, 1_800_014_400), "2027-01-15 13:00");
    }

    #[test]
    fn customers_become_recipients_with_a_masked_number() {
        let user = ApiUser {
            login: "max@example.de".into(),
            display_name: "Max Mustermann".into(),
            role: Role::Customer,
            broker: Some("1000".into()),
            email: Some(" ".into()),
            phone: Some("+491712345678".into()),
            interval_days: 0,
            push_locked: false,
            push_locked_at: None,
            push_lock_reason: None,
            enrolled: true,
            created_at: 0,
        };
        let r = recipient(&user, "Maklerbüro");
        assert_eq!(r.phone_masked.as_deref(), Some("+49 ••• 678"));
        assert_eq!(r.email, None, "a blank address is no address");
        assert_eq!(r.broker_name, "Maklerbüro");
        assert!(r.enrolled);
    }

    #[test]
    fn mail_texts_have_unique_keys() {
        let mut seen = std::collections::HashSet::new();
        for (key, de, en) in TEXTS {
            assert!(key.starts_with("mail_"), "{key}");
            assert!(seen.insert(*key), "{key} twice");
            assert!(!de.is_empty() && !en.is_empty(), "{key}");
        }
    }
}
