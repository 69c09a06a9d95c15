//! Sending: the SMTP settings, one message per customer, and a campaign run
//! that logs every recipient.
//!
//! Why it looks like this:
//! - **One message per recipient.** Customers of one broker must never see
//!   each other's addresses, so there is no To/Cc/Bcc list: each customer gets
//!   a message of their own, addressed to them alone, with its own Message-ID.
//! - **Plain SMTP only on loopback.** `smtp://` without TLS (or with
//!   opportunistic STARTTLS, which an attacker can strip) is accepted only for a
//!   server on this machine (tests, a local relay); anything else must be
//!   `smtps://` or `smtp://…?tls=required`. TLS is rustls on the ring
//!   provider, as in the rest of the workspace.
//! - **The URL is a secret.** It may carry the SMTP password, so [`SmtpUrl`]
//!   prints without it and errors never quote it.
//! - **One failure stops nobody.** A campaign writes all its recipients to the
//!   send log first (pending or skipped), then sends one by one and records
//!   each result; a refused address, a bad template value or a dropped
//!   connection fails that recipient only.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ident_core::ports::Clock;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::Connection;
use thiserror::Error;
use url::Url;

use super::recipient::{Recipient, RecipientFilter};
use super::store::{
    self, CampaignId, Counts, MailStoreError, NewCampaign, PlannedRecipient, RecipientStatus,
    TemplateKey,
};
use super::template::{MailContext, MailTemplate, RenderedMail};

/// How long one SMTP command may take before the recipient counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest error text kept in the send log.
const MAX_DETAIL_CHARS: usize = 300;

/// Why the SMTP URL was refused. The messages never quote the URL: it may
/// hold a password.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmtpUrlError {
    /// Not a URL.
    #[error("the SMTP URL is not a valid URL")]
    Invalid,
    /// Neither `smtp` nor `smtps`.
    #[error("the SMTP URL must start with smtp:// or smtps://")]
    Scheme,
    /// No host.
    #[error("the SMTP URL has no host")]
    NoHost,
    /// A query parameter other than `tls=required|opportunistic`.
    #[error("the SMTP URL may only carry tls=required or tls=opportunistic")]
    Parameter,
    /// Plain or opportunistic SMTP to a host that is not this machine.
    #[error(
        "plain SMTP is allowed only to 127.0.0.1, ::1 or localhost; use smtps:// or smtp://…?tls=required"
    )]
    PlainToRemote,
}

/// An SMTP server URL in lettre's form: `smtps://user:pass@host:465`,
/// `smtp://host:587?tls=required`, or `smtp://127.0.0.1:2525` on loopback.
///
/// It is also the type of the `[portal] smtp_url` setting, so a bad URL is
/// refused when the configuration is read.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct SmtpUrl(Url);

impl TryFrom<String> for SmtpUrl {
    type Error = SmtpUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl SmtpUrl {
    /// Parses and checks a URL.
    pub fn parse(s: &str) -> Result<Self, SmtpUrlError> {
        let url = Url::parse(s.trim()).map_err(|_| SmtpUrlError::Invalid)?;
        if url.scheme() != "smtp" && url.scheme() != "smtps" {
            return Err(SmtpUrlError::Scheme);
        }
        let host = url.host().ok_or(SmtpUrlError::NoHost)?;
        let mut tls_required = url.scheme() == "smtps";
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", "required") => tls_required = true,
                ("tls", "opportunistic") => {}
                _ => return Err(SmtpUrlError::Parameter),
            }
        }
        let loopback = match host {
            // Not a special scheme: the url crate leaves IPv4 addresses as text.
            url::Host::Domain(d) => {
                d.eq_ignore_ascii_case("localhost")
                    || d.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
            }
            url::Host::Ipv4(a) => IpAddr::V4(a).is_loopback(),
            url::Host::Ipv6(a) => IpAddr::V6(a).is_loopback(),
        };
        if !tls_required && !loopback {
            return Err(SmtpUrlError::PlainToRemote);
        }
        Ok(SmtpUrl(url))
    }

    /// The full URL, password included, for lettre.
    fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            // Cannot fail: the URL has a host (checked in parse).
            let _ = shown.set_password(Some("REDACTED"));
        }
        write!(f, "SmtpUrl({shown})")
    }
}

/// What the mail service needs from the portal's settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server.
    pub smtp: SmtpUrl,
    /// The sender of every customer mail (`Name <address>` or an address).
    pub from: Mailbox,
    /// The portal's address for the `portal_url` placeholder.
    pub portal_url: String,
}

/// Why the mail settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MailConfigError {
    /// The SMTP URL.
    #[error(transparent)]
    SmtpUrl(#[from] SmtpUrlError),
    /// The sender address.
    #[error("mail_from is not an e-mail address (\"Name <address>\" or \"address\")")]
    From,
    /// lettre refused the URL (e.g. a TLS parameter it cannot build).
    #[error("the SMTP settings cannot be used: {0}")]
    Transport(String),
}

impl MailSettings {
    /// Parses the `[portal]` settings `smtp_url` and `mail_from`.
    pub fn parse(
        smtp_url: &str,
        mail_from: &str,
        portal_url: &str,
    ) -> Result<Self, MailConfigError> {
        Self::new(SmtpUrl::parse(smtp_url)?, mail_from, portal_url)
    }

    /// The settings from an already parsed SMTP URL.
    pub fn new(smtp: SmtpUrl, mail_from: &str, portal_url: &str) -> Result<Self, MailConfigError> {
        Ok(MailSettings {
            smtp,
            from: mail_from
                .trim()
                .parse()
                .map_err(|_| MailConfigError::From)?,
            portal_url: portal_url.to_owned(),
        })
    }
}

/// Why one message could not be sent.
#[derive(Debug, Error)]
pub enum SendError {
    /// The message could not be built (an address lettre refused).
    #[error("message: {0}")]
    Build(String),
    /// The SMTP server refused or the connection failed.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends customer mail through one SMTP server (connections are pooled).
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    portal_url: String,
    rng: SystemRandom,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// A mail ready to go to one customer.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The recipient, alone.
    pub to: Mailbox,
    /// Where replies go (the broker), if set.
    pub reply_to: Option<Mailbox>,
    /// Subject and body.
    pub content: RenderedMail,
}

fn sanitize_detail(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = clean.trim().chars().take(MAX_DETAIL_CHARS).collect();
    if clean.trim().chars().count() > MAX_DETAIL_CHARS {
        out.push('…');
    }
    out
}

impl Mailer {
    /// A mailer for these settings. Nothing is connected until the first send.
    /// Must be called inside a Tokio runtime (the connection pool starts a
    /// task that closes idle connections).
    pub fn new(settings: &MailSettings) -> Result<Self, MailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp.expose())
            // lettre's error here never contains the URL.
            .map_err(|e| MailConfigError::Transport(sanitize_detail(&e.to_string())))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer {
            transport,
            from: settings.from.clone(),
            portal_url: settings.portal_url.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The portal address used for `portal_url`.
    pub fn portal_url(&self) -> &str {
        &self.portal_url
    }

    /// A fresh Message-ID in the sender's domain.
    fn message_id(&self) -> Result<String, SendError> {
        let mut bytes = [0u8; 16];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| SendError::Build("no randomness for the Message-ID".into()))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("<{hex}@{}>", self.from.email.domain()))
    }

    /// Builds the message: From, To (one address), Reply-To, Subject, Date,
    /// Message-ID, a UTF-8 plain-text body. Returns it with its Message-ID.
    pub fn build(&self, mail: &OutgoingMail) -> Result<(Message, String), SendError> {
        let id = self.message_id()?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(mail.to.clone())
            .subject(mail.content.subject.clone())
            .message_id(Some(id.clone()))
            .header(ContentType::TEXT_PLAIN);
        if let Some(r) = &mail.reply_to {
            builder = builder.reply_to(r.clone());
        }
        let message = builder
            .body(mail.content.body.clone())
            .map_err(|e| SendError::Build(e.to_string()))?;
        Ok((message, id))
    }

    /// Sends one message; returns its Message-ID.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let (message, id) = self.build(mail)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| SendError::Smtp(e.to_string()))?;
        Ok(id)
    }
}

/// Gives the mail service short access to the portal database (the
/// connection is never held across an SMTP round trip).
pub trait MailDb: Send + Sync {
    /// Runs `f` with the connection.
    fn with_conn<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, MailStoreError>,
    ) -> Result<R, MailStoreError>;
}

impl MailDb for std::sync::Mutex<Connection> {
    fn with_conn<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, MailStoreError>,
    ) -> Result<R, MailStoreError> {
        // A panic while holding the lock leaves SQLite consistent (every
        // change is one statement or one transaction), so go on.
        let guard = self
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }
}

impl MailDb for crate::portal::store::PortalStore {
    fn with_conn<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, MailStoreError>,
    ) -> Result<R, MailStoreError> {
        match self.with(|c| Ok(f(c))) {
            Ok(result) => result,
            Err(crate::portal::store::PortalStoreError::Db(e)) => Err(MailStoreError::Db(e)),
            Err(e) => Err(MailStoreError::Unavailable(e.to_string())),
        }
    }
}

/// Why a recipient was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No e-mail address on file.
    NoAddress,
    /// The address on file is not one lettre accepts.
    InvalidAddress,
}

impl SkipReason {
    /// The code stored in the send log (`no-address`, `invalid-address`).
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::NoAddress => "no-address",
            SkipReason::InvalidAddress => "invalid-address",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "no-address" => Some(SkipReason::NoAddress),
            "invalid-address" => Some(SkipReason::InvalidAddress),
            _ => None,
        }
    }

    /// German sentence.
    pub fn de(self) -> &'static str {
        match self {
            SkipReason::NoAddress => "Keine E-Mail-Adresse hinterlegt",
            SkipReason::InvalidAddress => "Die hinterlegte E-Mail-Adresse ist ungültig",
        }
    }

    /// English sentence.
    pub fn en(self) -> &'static str {
        match self {
            SkipReason::NoAddress => "No e-mail address on file",
            SkipReason::InvalidAddress => "The e-mail address on file is not valid",
        }
    }
}

/// Who is in a campaign and what happens to them, before anything is sent.
/// The pages show this as the recipient list; [`send_campaign`] follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSend {
    /// The customer.
    pub recipient: Recipient,
    /// The parsed address, or why the customer is skipped.
    pub outcome: Result<Address, SkipReason>,
}

/// Plans a send: drops customers the filter does not match, skips those
/// without a usable address.
pub fn plan(recipients: &[Recipient], filter: &RecipientFilter) -> Vec<PlannedSend> {
    recipients
        .iter()
        .filter(|r| filter.matches(r))
        .map(|r| {
            let outcome = match r.email.as_deref().map(str::trim) {
                None | Some("") => Err(SkipReason::NoAddress),
                Some(e) => e.parse::<Address>().map_err(|_| SkipReason::InvalidAddress),
            };
            PlannedSend {
                recipient: r.clone(),
                outcome,
            }
        })
        .collect()
}

/// A campaign to send.
#[derive(Debug, Clone)]
pub struct CampaignRequest<'a> {
    /// The broker whose customers these are (scopes the send log).
    pub broker: &'a str,
    /// Who pressed "send".
    pub sent_by: &'a str,
    /// The template's key.
    pub template_key: &'a TemplateKey,
    /// The checked template.
    pub template: &'a MailTemplate,
    /// The filter the recipients were chosen with.
    pub filter: RecipientFilter,
    /// The customers.
    pub recipients: &'a [Recipient],
    /// Replies go here (the broker's address), if set.
    pub reply_to: Option<Mailbox>,
}

/// The outcome of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignReport {
    /// The campaign in the send log.
    pub id: CampaignId,
    /// What happened.
    pub counts: Counts,
}

/// Why a campaign could not run (single recipients' failures are not errors:
/// they are in the send log).
#[derive(Debug, Error)]
pub enum CampaignError {
    /// The send log could not be written.
    #[error(transparent)]
    Store(#[from] MailStoreError),
}

/// A campaign written to the send log and ready to send (see [`prepare_campaign`]).
#[derive(Debug)]
pub struct PreparedCampaign {
    id: CampaignId,
    template: MailTemplate,
    planned: Vec<PlannedSend>,
    reply_to: Option<Mailbox>,
}

/// Plans the campaign and writes it with all its recipients (pending or
/// skipped) to the send log, in one transaction. Nothing is sent yet.
pub fn prepare_campaign<D: MailDb + ?Sized>(
    db: &D,
    clock: &dyn Clock,
    req: CampaignRequest<'_>,
) -> Result<PreparedCampaign, CampaignError> {
    let planned = plan(req.recipients, &req.filter);
    let rows: Vec<PlannedRecipient> = planned
        .iter()
        .map(|p| PlannedRecipient {
            login: p.recipient.login.clone(),
            name: p.recipient.name.clone(),
            address: p.recipient.email.clone().filter(|e| !e.trim().is_empty()),
            status: if p.outcome.is_ok() {
                RecipientStatus::Pending
            } else {
                RecipientStatus::Skipped
            },
            detail: p.outcome.as_ref().err().map(|s| s.code().to_owned()),
        })
        .collect();
    let filter = req.filter.query();
    let id = db.with_conn(|c| {
        store::start_campaign(
            c,
            &NewCampaign {
                broker: req.broker,
                sent_by: req.sent_by,
                template_key: req.template_key,
                template: req.template,
                filter: &filter,
                now: clock.now().secs(),
            },
            &rows,
        )
    })?;
    tracing::info!(
        campaign = id.0,
        broker = req.broker,
        sent_by = req.sent_by,
        template = req.template_key.as_str(),
        recipients = rows.len(),
        "customer mail: campaign started"
    );
    Ok(PreparedCampaign {
        id,
        template: req.template.clone(),
        planned,
        reply_to: req.reply_to,
    })
}

impl PreparedCampaign {
    /// The campaign's id in the send log.
    pub fn id(&self) -> CampaignId {
        self.id
    }

    /// Sends to each recipient in turn and records each result; returns once
    /// every recipient has one. A failed recipient does not stop the others.
    pub async fn run<D: MailDb + ?Sized>(
        self,
        db: &D,
        mailer: &Mailer,
        clock: &dyn Clock,
    ) -> Result<CampaignReport, CampaignError> {
        let id = self.id;
        let mut counts = Counts {
            total: u32::try_from(self.planned.len()).unwrap_or(u32::MAX),
            ..Counts::default()
        };
        for (seq, p) in self.planned.iter().enumerate() {
            let address = match &p.outcome {
                Ok(a) => a.clone(),
                Err(_) => {
                    counts.skipped += 1;
                    continue;
                }
            };
            let result = match self.template.render(&MailContext::for_recipient(
                &p.recipient,
                mailer.portal_url(),
            )) {
                Ok(content) => {
                    let mail = OutgoingMail {
                        to: Mailbox::new(Some(p.recipient.name.clone()), address),
                        reply_to: self.reply_to.clone(),
                        content,
                    };
                    mailer.send(&mail).await.map_err(|e| e.to_string())
                }
                Err(e) => Err(format!("template: {e}")),
            };
            let now = clock.now().secs();
            let written = match &result {
                Ok(message_id) => {
                    counts.sent += 1;
                    db.with_conn(|c| {
                        store::record_result(
                            c,
                            id,
                            seq,
                            RecipientStatus::Sent,
                            None,
                            Some(message_id),
                            now,
                        )
                    })
                }
                Err(detail) => {
                    counts.failed += 1;
                    let detail = sanitize_detail(detail);
                    tracing::warn!(campaign = id.0, login = %p.recipient.login, error = %detail, "customer mail: not sent");
                    db.with_conn(|c| {
                        store::record_result(
                            c,
                            id,
                            seq,
                            RecipientStatus::Failed,
                            Some(&detail),
                            None,
                            now,
                        )
                    })
                }
            };
            if let Err(e) = written {
                // The mail went out (or not) regardless; keep going and say so.
                tracing::error!(campaign = id.0, error = %e, "customer mail: send log not updated");
            }
        }
        db.with_conn(|c| store::finish_campaign(c, id, clock.now().secs()))?;
        tracing::info!(
            campaign = id.0,
            sent = counts.sent,
            failed = counts.failed,
            skipped = counts.skipped,
            "customer mail: campaign finished"
        );
        Ok(CampaignReport { id, counts })
    }
}

/// [`prepare_campaign`] and [`PreparedCampaign::run`] in one go.
pub async fn send_campaign<D: MailDb + ?Sized>(
    db: &D,
    mailer: &Mailer,
    clock: &dyn Clock,
    req: CampaignRequest<'_>,
) -> Result<CampaignReport, CampaignError> {
    prepare_campaign(db, clock, req)?
        .run(db, mailer, clock)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost",
            "smtp://[::1]:25",
            "smtps://user:pw@mail.example.de",
            "smtp://mail.example.de:587?tls=required",
            "smtp://127.0.0.2:25?tls=opportunistic",
        ] {
            assert!(SmtpUrl::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            SmtpUrl::parse("smtp://mail.example.de"),
            Err(SmtpUrlError::PlainToRemote)
        );
        assert_eq!(
            SmtpUrl::parse("smtp://mail.example.de?tls=opportunistic"),
            Err(SmtpUrlError::PlainToRemote)
        );
        assert_eq!(
            SmtpUrl::parse("smtp://10.0.0.1"),
            Err(SmtpUrlError::PlainToRemote)
        );
        assert_eq!(
            SmtpUrl::parse("http://127.0.0.1"),
            Err(SmtpUrlError::Scheme)
        );
        assert_eq!(
            SmtpUrl::parse("smtp://127.0.0.1?x=1"),
            Err(SmtpUrlError::Parameter)
        );
        assert_eq!(SmtpUrl::parse("nonsense"), Err(SmtpUrlError::Invalid));
    }

    #[tokio::test]
    async fn the_password_never_shows() {
        let url = SmtpUrl::parse("smtps://mailer:Geheim-42@mail.example.de").unwrap();
        let settings = MailSettings {
            smtp: url.clone(),
            from: "Portal <noreply@example.de>".parse().unwrap(),
            portal_url: "u".into(),
        };
        for shown in [format!("{url:?}"), format!("{settings:?}")] {
            assert!(!shown.contains("Geheim-42"), "{shown}");
            assert!(shown.contains("mail.example.de"), "{shown}");
        }
        let mailer = Mailer::new(&settings).unwrap();
        assert!(!format!("{mailer:?}").contains("Geheim-42"));
        // Errors about the URL do not quote it.
        let e = SmtpUrl::parse("smtp://user:Geheim-42@mail.example.de").unwrap_err();
        assert!(!e.to_string().contains("Geheim-42"));
    }

    #[test]
    fn settings_need_a_sender_address() {
        assert_eq!(
            MailSettings::parse("smtp://127.0.0.1:25", "kein Absender", "u").unwrap_err(),
            MailConfigError::From
        );
        let s = MailSettings::parse(
            "smtp://127.0.0.1:25",
            "Müller Portal <portal@example.de>",
            "u",
        )
        .unwrap();
        assert_eq!(s.from.email.to_string(), "portal@example.de");
    }

    #[tokio::test]
    async fn each_message_has_one_recipient_and_encodes_umlauts() {
        let settings = MailSettings::parse(
            "smtp://127.0.0.1:25",
            "Ident-Portal <portal@example.de>",
            "u",
        )
        .unwrap();
        let mailer = Mailer::new(&settings).unwrap();
        let mail = OutgoingMail {
            to: Mailbox::new(
                Some("Jürgen Weiß".into()),
                "j.weiss@example.de".parse().unwrap(),
            ),
            reply_to: Some("makler@example.de".parse().unwrap()),
            content: RenderedMail {
                subject: "Grüße – Größe".into(),
                body: "Sehr geehrter Herr Weiß,\nÄnderungen für Öl und Übermaß.\n".into(),
            },
        };
        let (message, id) = mailer.build(&mail).unwrap();
        assert!(id.starts_with('<') && id.ends_with("@example.de>"), "{id}");
        assert_eq!(
            message.envelope().to(),
            ["j.weiss@example.de".parse::<Address>().unwrap()]
        );
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains(&format!("Message-ID: {id}")), "{raw}");
        assert!(raw.contains("Reply-To: makler@example.de"), "{raw}");
        assert!(raw.contains("charset=utf-8"), "{raw}");
        // Headers are ASCII (RFC 2047 encoded words); the subject decodes back.
        let (headers, _) = raw.split_once("\r\n\r\n").unwrap();
        assert!(headers.is_ascii(), "{headers}");
        let parsed = mailparse::parse_mail(raw.as_bytes()).unwrap();
        use mailparse::MailHeaderMap;
        assert_eq!(
            parsed.headers.get_first_value("Subject").unwrap(),
            "Grüße – Größe"
        );
        assert_eq!(
            parsed.get_body().unwrap().replace("\r\n", "\n"),
            "Sehr geehrter Herr Weiß,\nÄnderungen für Öl und Übermaß.\n"
        );
        // A second message gets another id.
        assert_ne!(mailer.build(&mail).unwrap().1, id);
    }

    #[test]
    fn plan_skips_missing_and_invalid_addresses_and_honours_the_filter() {
        let r = |login: &str, email: Option<&str>, phone: bool| Recipient {
            login: login.into(),
            name: login.into(),
            email: email.map(str::to_owned),
            phone_masked: phone.then(|| "+49…1".into()),
            enrolled: false,
            broker_name: "b".into(),
        };
        let list = [
            r("a", Some("a@example.de"), true),
            r("b", None, true),
            r("c", Some("kein at"), true),
            r("d", Some("  "), true),
            r("e", Some("e@example.de"), false),
        ];
        let p = plan(&list, &RecipientFilter::WITH_PHONE);
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.recipient.login.as_str(), p.outcome.clone().err()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", None),
                ("b", Some(SkipReason::NoAddress)),
                ("c", Some(SkipReason::InvalidAddress)),
                ("d", Some(SkipReason::NoAddress)),
            ]
        );
        assert_eq!(
            SkipReason::from_code(SkipReason::InvalidAddress.code()),
            Some(SkipReason::InvalidAddress)
        );
    }

    #[test]
    fn details_are_single_line_and_bounded() {
        assert_eq!(sanitize_detail("550 no\r\nsuch user"), "550 no  such user");
        let long = sanitize_detail(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS + 1);
    }
}
