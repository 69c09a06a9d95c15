//! Customer mail: editable templates with placeholders, sent through SMTP to a
//! filtered list of a broker's customers, with a preview and a send log.
//!
//! When two-factor login becomes mandatory, every customer must hear about it
//! from their broker before their next login: those with a mobile number on
//! file how to set up the app, those without one that they must tell their
//! broker their number. The portal ships one German letter for each group
//! ([`defaults`]); brokers and their employees edit them, pick recipients by
//! filter ([`recipient`]), see who will get what, and send.
//!
//! The parts, each usable without the web pages:
//! - [`template`]: a checked template and its fixed placeholders; mistakes
//!   are refused when saved, not when sent;
//! - [`store`]: templates and the send log in the portal's SQLite file;
//! - [`send`]: SMTP settings, one message per customer, the campaign run;
//! - [`pages`]: the pages under `/portal/mail`.

pub mod defaults;
pub mod pages;
pub mod recipient;
pub mod send;
pub mod store;
pub mod template;

pub use recipient::{PhoneFilter, Recipient, RecipientFilter};
pub use send::{
    CampaignError, CampaignReport, CampaignRequest, MailConfigError, MailDb, MailSettings, Mailer,
    PreparedCampaign, SkipReason, SmtpUrl, SmtpUrlError, plan, prepare_campaign, send_campaign,
};
pub use store::{MailStoreError, TemplateEntry, TemplateKey};
pub use template::{MailContext, MailTemplate, PLACEHOLDERS, RenderedMail, TemplateError};
