//! The mail tables of the portal's own database: each broker's templates and
//! the send log.
//!
//! The portal database belongs to the portal, and its `user_version` to the
//! portal's own migrations; the mail tables therefore keep their version in a
//! table of their own (`mail_schema`) and [`migrate`] can run on every open,
//! inside or outside the portal's transaction (it uses a savepoint).
//!
//! Templates: the shipped defaults ([`super::defaults`]) are not copied into
//! the table. A broker sees them until they save an edit; the stored row then
//! overrides the default for that broker, and resetting deletes the row.
//! Brokers may add templates of their own (`eigene-N`).
//!
//! Send log: a campaign row (who, when, which template text, which filter) and
//! one row per recipient, written as `pending` or `skipped` before the first
//! mail goes out and updated to `sent` or `failed` after each one. Counts are
//! computed from those rows, so they cannot disagree with them; a campaign
//! whose process died shows as unfinished with its pending rows.
//! Every query is scoped by the broker's login.

use std::fmt;

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

use super::defaults::{self, DefaultTemplate};
use super::template::{MailTemplate, TemplateError};

/// The mail schema migrations, oldest first; migration `i` brings the mail
/// tables to version `i + 1`. Never edit a released one: add a new one.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE mail_templates (
    broker      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    PRIMARY KEY (broker, key)
) WITHOUT ROWID;

CREATE TABLE mail_campaigns (
    id            INTEGER PRIMARY KEY,
    broker        TEXT    NOT NULL,
    sent_by       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    template_key  TEXT    NOT NULL,
    template_name TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    filter        TEXT    NOT NULL
);
CREATE INDEX mail_campaigns_by_broker ON mail_campaigns (broker, id);

CREATE TABLE mail_recipients (
    campaign_id INTEGER NOT NULL REFERENCES mail_campaigns (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    login       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    address     TEXT,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    detail      TEXT,
    message_id  TEXT,
    at          INTEGER,
    PRIMARY KEY (campaign_id, seq)
) WITHOUT ROWID;
"#];

/// The mail schema version this build writes.
pub fn current_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Creates or upgrades the mail tables; called by the portal database when it
/// opens its file. Idempotent; all of it or none of it is applied. A database
/// whose mail tables are newer than this build is refused.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT mail_migrate")?;
    match migrate_inner(conn) {
        Ok(()) => conn.execute_batch("RELEASE mail_migrate"),
        Err(e) => {
            // Undo everything since the savepoint; the original error matters more.
            let _ = conn.execute_batch("ROLLBACK TO mail_migrate; RELEASE mail_migrate");
            Err(e)
        }
    }
}

fn migrate_inner(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS mail_schema (
             id      INTEGER PRIMARY KEY CHECK (id = 1),
             version INTEGER NOT NULL
         );
         INSERT OR IGNORE INTO mail_schema (id, version) VALUES (1, 0);",
    )?;
    let version: u32 = conn.query_row("SELECT version FROM mail_schema", [], |r| r.get(0))?;
    if version > current_version() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "the portal's mail tables have schema version {version}, newer than this server ({})",
                current_version()
            )),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        conn.execute_batch(sql)?;
        conn.execute(
            "UPDATE mail_schema SET version = ?1",
            [u32::try_from(i + 1).unwrap_or(u32::MAX)],
        )?;
    }
    Ok(())
}

/// Why a mail store operation failed.
#[derive(Debug, Error)]
pub enum MailStoreError {
    /// SQLite failed.
    #[error("portal database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database could not be used (e.g. a poisoned lock).
    #[error("portal database unavailable: {0}")]
    Unavailable(String),
    /// No such template or campaign for this broker.
    #[error("not found")]
    NotFound,
    /// Shipped templates can be reset but not deleted; own ones deleted but not reset.
    #[error("this template is shipped with the portal and cannot be deleted")]
    IsDefault,
    /// See [`MailStoreError::IsDefault`].
    #[error("this template is the broker's own; there is no default to reset to")]
    NotDefault,
}

/// A template's key: lower-case letters, digits and `-`, at most 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateKey(String);

/// A text that is not a template key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a template key")]
pub struct TemplateKeyError;

impl TemplateKey {
    /// Parses a key (from a URL path or a form).
    pub fn parse(s: &str) -> Result<Self, TemplateKeyError> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(TemplateKeyError)
        }
    }

    pub(super) fn from_static(s: &'static str) -> Self {
        Self(s.to_owned())
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a shipped default has this key.
    pub fn is_default(&self) -> bool {
        defaults::find(&self.0).is_some()
    }
}

impl fmt::Display for TemplateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A template as a broker sees it: a default, an edited default, or their own.
///
/// The texts are kept as stored; [`TemplateEntry::template`] checks them again,
/// so a template stored by an older build with other placeholders is refused
/// before a send rather than failing during one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateEntry {
    /// The key.
    pub key: TemplateKey,
    /// The name shown in the list.
    pub name: String,
    /// The subject template.
    pub subject: String,
    /// The body template.
    pub body: String,
    /// Whether the portal ships this template (it can be reset, not deleted).
    pub is_default: bool,
    /// Whether the broker has edited it (always true for their own).
    pub modified: bool,
    /// When it was last saved; `None` for an untouched default.
    pub updated_at: Option<i64>,
    /// Who saved it last (a login); `None` for an untouched default.
    pub updated_by: Option<String>,
}

impl TemplateEntry {
    fn from_default(d: &DefaultTemplate) -> Self {
        TemplateEntry {
            key: d.template_key(),
            name: d.name.into(),
            subject: d.subject.into(),
            body: d.body.into(),
            is_default: true,
            modified: false,
            updated_at: None,
            updated_by: None,
        }
    }

    /// The checked template, ready to render.
    pub fn template(&self) -> Result<MailTemplate, TemplateError> {
        MailTemplate::new(&self.name, &self.subject, &self.body)
    }
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TemplateEntry> {
    let key: String = r.get(0)?;
    let key = TemplateKey(key);
    let is_default = key.is_default();
    Ok(TemplateEntry {
        key,
        name: r.get(1)?,
        subject: r.get(2)?,
        body: r.get(3)?,
        is_default,
        modified: true,
        updated_at: Some(r.get(4)?),
        updated_by: Some(r.get(5)?),
    })
}

const ENTRY_COLUMNS: &str = "key, name, subject, body, updated_at, updated_by";

/// The broker's templates: the shipped ones first (edited or not), then their
/// own by name.
pub fn list_templates(
    conn: &Connection,
    broker: &str,
) -> Result<Vec<TemplateEntry>, MailStoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_templates WHERE broker = ?1 ORDER BY name, key"
    ))?;
    let stored = stmt
        .query_map([broker], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out: Vec<TemplateEntry> = defaults::DEFAULTS
        .iter()
        .map(|d| {
            stored
                .iter()
                .find(|s| s.key.as_str() == d.key)
                .cloned()
                .unwrap_or_else(|| TemplateEntry::from_default(d))
        })
        .collect();
    out.extend(stored.into_iter().filter(|s| !s.is_default));
    Ok(out)
}

/// One of the broker's templates.
pub fn get_template(
    conn: &Connection,
    broker: &str,
    key: &TemplateKey,
) -> Result<TemplateEntry, MailStoreError> {
    let stored = conn
        .prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM mail_templates WHERE broker = ?1 AND key = ?2"
        ))?
        .query_row(params![broker, key.as_str()], entry_from_row)
        .optional()?;
    match (stored, defaults::find(key.as_str())) {
        (Some(e), _) => Ok(e),
        (None, Some(d)) => Ok(TemplateEntry::from_default(d)),
        (None, None) => Err(MailStoreError::NotFound),
    }
}

/// Saves an edit of an existing template (a default or the broker's own).
pub fn save_template(
    conn: &Connection,
    broker: &str,
    key: &TemplateKey,
    template: &MailTemplate,
    by: &str,
    now: i64,
) -> Result<(), MailStoreError> {
    if !key.is_default() {
        let exists: bool = conn
            .prepare_cached("SELECT 1 FROM mail_templates WHERE broker = ?1 AND key = ?2")?
            .exists(params![broker, key.as_str()])?;
        if !exists {
            return Err(MailStoreError::NotFound);
        }
    }
    conn.prepare_cached(
        "INSERT INTO mail_templates (broker, key, name, subject, body, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (broker, key) DO UPDATE SET
             name = excluded.name, subject = excluded.subject, body = excluded.body,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )?
    .execute(params![
        broker,
        key.as_str(),
        template.name(),
        template.subject(),
        template.body(),
        now,
        by
    ])?;
    Ok(())
}

/// Adds a template of the broker's own and returns its key (`eigene-N`).
pub fn create_template(
    conn: &Connection,
    broker: &str,
    template: &MailTemplate,
    by: &str,
    now: i64,
) -> Result<TemplateKey, MailStoreError> {
    let tx = conn.unchecked_transaction()?;
    let keys: Vec<String> = tx
        .prepare_cached("SELECT key FROM mail_templates WHERE broker = ?1 AND key LIKE 'eigene-%'")?
        .query_map([broker], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let next = keys
        .iter()
        .filter_map(|k| k.strip_prefix("eigene-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let key = TemplateKey(format!("eigene-{next}"));
    tx.prepare_cached(
        "INSERT INTO mail_templates (broker, key, name, subject, body, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        broker,
        key.as_str(),
        template.name(),
        template.subject(),
        template.body(),
        now,
        by
    ])?;
    tx.commit()?;
    Ok(key)
}

/// Brings a shipped template back to its default text. Returns whether there
/// was an edit to undo.
pub fn reset_template(
    conn: &Connection,
    broker: &str,
    key: &TemplateKey,
) -> Result<bool, MailStoreError> {
    if !key.is_default() {
        return Err(MailStoreError::NotDefault);
    }
    let n = conn
        .prepare_cached("DELETE FROM mail_templates WHERE broker = ?1 AND key = ?2")?
        .execute(params![broker, key.as_str()])?;
    Ok(n > 0)
}

/// Deletes one of the broker's own templates.
pub fn delete_template(
    conn: &Connection,
    broker: &str,
    key: &TemplateKey,
) -> Result<(), MailStoreError> {
    if key.is_default() {
        return Err(MailStoreError::IsDefault);
    }
    let n = conn
        .prepare_cached("DELETE FROM mail_templates WHERE broker = ?1 AND key = ?2")?
        .execute(params![broker, key.as_str()])?;
    if n == 0 {
        return Err(MailStoreError::NotFound);
    }
    Ok(())
}

/// A campaign's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CampaignId(pub i64);

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What happened to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientStatus {
    /// Not sent yet (or the send was interrupted).
    Pending,
    /// The SMTP server accepted the mail.
    Sent,
    /// Sending failed; `detail` says why.
    Failed,
    /// Not sent on purpose (no or no usable address); `detail` says why.
    Skipped,
}

impl RecipientStatus {
    /// The stored form: `pending`, `sent`, `failed`, `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Failed => "failed",
            RecipientStatus::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => RecipientStatus::Pending,
            "sent" => RecipientStatus::Sent,
            "failed" => RecipientStatus::Failed,
            "skipped" => RecipientStatus::Skipped,
            _ => return None,
        })
    }
}

/// A campaign about to start.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    /// The broker whose customers get the mail.
    pub broker: &'a str,
    /// Who pressed "send" (the broker or an employee).
    pub sent_by: &'a str,
    /// The template's key.
    pub template_key: &'a TemplateKey,
    /// The template as sent (name, subject, body at the time).
    pub template: &'a MailTemplate,
    /// The filter's stored form ([`super::recipient::RecipientFilter::query`]).
    pub filter: &'a str,
    /// Start time (Unix seconds).
    pub now: i64,
}

/// A recipient row to write when a campaign starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRecipient {
    /// The customer's login.
    pub login: String,
    /// The customer's name.
    pub name: String,
    /// The address the mail goes to, if any.
    pub address: Option<String>,
    /// `Pending` to send, or `Skipped` with a reason in `detail`.
    pub status: RecipientStatus,
    /// The reason for a skip.
    pub detail: Option<String>,
}

/// Writes a campaign and its recipients in one transaction.
pub fn start_campaign(
    conn: &Connection,
    campaign: &NewCampaign<'_>,
    recipients: &[PlannedRecipient],
) -> Result<CampaignId, MailStoreError> {
    let tx = conn.unchecked_transaction()?;
    tx.prepare_cached(
        "INSERT INTO mail_campaigns
             (broker, sent_by, started_at, template_key, template_name, subject, body, filter)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        campaign.broker,
        campaign.sent_by,
        campaign.now,
        campaign.template_key.as_str(),
        campaign.template.name(),
        campaign.template.subject(),
        campaign.template.body(),
        campaign.filter
    ])?;
    let id = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO mail_recipients (campaign_id, seq, login, name, address, status, detail, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (seq, r) in recipients.iter().enumerate() {
            let at = (r.status != RecipientStatus::Pending).then_some(campaign.now);
            insert.execute(params![
                id,
                i64::try_from(seq).unwrap_or(i64::MAX),
                r.login,
                r.name,
                r.address,
                r.status.as_str(),
                r.detail,
                at
            ])?;
        }
    }
    tx.commit()?;
    Ok(CampaignId(id))
}

/// Records what happened to recipient `seq` of a campaign.
pub fn record_result(
    conn: &Connection,
    campaign: CampaignId,
    seq: usize,
    status: RecipientStatus,
    detail: Option<&str>,
    message_id: Option<&str>,
    now: i64,
) -> Result<(), MailStoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE mail_recipients SET status = ?3, detail = ?4, message_id = ?5, at = ?6
             WHERE campaign_id = ?1 AND seq = ?2",
        )?
        .execute(params![
            campaign.0,
            i64::try_from(seq).unwrap_or(i64::MAX),
            status.as_str(),
            detail,
            message_id,
            now
        ])?;
    if n == 0 {
        return Err(MailStoreError::NotFound);
    }
    Ok(())
}

/// Marks a campaign as done.
pub fn finish_campaign(
    conn: &Connection,
    campaign: CampaignId,
    now: i64,
) -> Result<(), MailStoreError> {
    conn.prepare_cached("UPDATE mail_campaigns SET finished_at = ?2 WHERE id = ?1")?
        .execute(params![campaign.0, now])?;
    Ok(())
}

/// How many recipients are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// All recipients.
    pub total: u32,
    /// Accepted by the SMTP server.
    pub sent: u32,
    /// Failed.
    pub failed: u32,
    /// Skipped (no address).
    pub skipped: u32,
    /// Not done (still sending, or interrupted).
    pub pending: u32,
}

/// A campaign in the send log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// The broker whose customers got it.
    pub broker: String,
    /// Who sent it.
    pub sent_by: String,
    /// When it started.
    pub started_at: i64,
    /// When it finished; `None` while sending or after an interruption.
    pub finished_at: Option<i64>,
    /// The template's key.
    pub template_key: String,
    /// The template's name at the time.
    pub template_name: String,
    /// The subject template as sent.
    pub subject: String,
    /// The body template as sent.
    pub body: String,
    /// The filter's stored form.
    pub filter: String,
    /// The recipient counts.
    pub counts: Counts,
}

/// One recipient in the send log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRecipient {
    /// Position in the campaign.
    pub seq: usize,
    /// The customer's login.
    pub login: String,
    /// The customer's name.
    pub name: String,
    /// The address used, if any.
    pub address: Option<String>,
    /// What happened.
    pub status: RecipientStatus,
    /// Why it failed or was skipped.
    pub detail: Option<String>,
    /// The mail's Message-ID, when sent.
    pub message_id: Option<String>,
    /// When the status was set.
    pub at: Option<i64>,
}

const CAMPAIGN_QUERY: &str = "
    SELECT c.id, c.broker, c.sent_by, c.started_at, c.finished_at, c.template_key,
           c.template_name, c.subject, c.body, c.filter,
           count(r.seq),
           coalesce(sum(r.status = 'sent'), 0),
           coalesce(sum(r.status = 'failed'), 0),
           coalesce(sum(r.status = 'skipped'), 0),
           coalesce(sum(r.status = 'pending'), 0)
    FROM mail_campaigns c LEFT JOIN mail_recipients r ON r.campaign_id = c.id";

fn campaign_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Campaign> {
    Ok(Campaign {
        id: CampaignId(r.get(0)?),
        broker: r.get(1)?,
        sent_by: r.get(2)?,
        started_at: r.get(3)?,
        finished_at: r.get(4)?,
        template_key: r.get(5)?,
        template_name: r.get(6)?,
        subject: r.get(7)?,
        body: r.get(8)?,
        filter: r.get(9)?,
        counts: Counts {
            total: r.get(10)?,
            sent: r.get(11)?,
            failed: r.get(12)?,
            skipped: r.get(13)?,
            pending: r.get(14)?,
        },
    })
}

/// The broker's campaigns, newest first, at most `limit`.
pub fn list_campaigns(
    conn: &Connection,
    broker: &str,
    limit: u32,
) -> Result<Vec<Campaign>, MailStoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CAMPAIGN_QUERY} WHERE c.broker = ?1 GROUP BY c.id ORDER BY c.id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![broker, limit], campaign_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One of the broker's campaigns with its recipients.
pub fn get_campaign(
    conn: &Connection,
    broker: &str,
    id: CampaignId,
) -> Result<(Campaign, Vec<LoggedRecipient>), MailStoreError> {
    let campaign = conn
        .prepare_cached(&format!(
            "{CAMPAIGN_QUERY} WHERE c.id = ?1 AND c.broker = ?2 GROUP BY c.id"
        ))?
        .query_row(params![id.0, broker], campaign_from_row)
        .optional()?
        .ok_or(MailStoreError::NotFound)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, login, name, address, status, detail, message_id, at
         FROM mail_recipients WHERE campaign_id = ?1 ORDER BY seq",
    )?;
    let recipients = stmt
        .query_map([id.0], |r| {
            let seq: i64 = r.get(0)?;
            let status: String = r.get(4)?;
            Ok(LoggedRecipient {
                seq: usize::try_from(seq).unwrap_or(usize::MAX),
                login: r.get(1)?,
                name: r.get(2)?,
                address: r.get(3)?,
                // The CHECK constraint admits only the four values.
                status: RecipientStatus::parse(&status).unwrap_or(RecipientStatus::Failed),
                detail: r.get(5)?,
                message_id: r.get(6)?,
                at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((campaign, recipients))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate(&c).unwrap();
        c
    }

    fn tpl(name: &str) -> MailTemplate {
        MailTemplate::new(name, "Betreff für {{ name }}", "Hallo {{ anrede }}").unwrap()
    }

    fn key(s: &str) -> TemplateKey {
        TemplateKey::parse(s).unwrap()
    }

    #[test]
    fn migrate_is_idempotent_and_leaves_user_version_alone() {
        let c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 7).unwrap();
        migrate(&c).unwrap();
        migrate(&c).unwrap();
        let v: u32 = c
            .query_row("SELECT version FROM mail_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, current_version());
        let uv: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(uv, 7);
        // Also inside a caller's transaction.
        let c2 = Connection::open_in_memory().unwrap();
        c2.execute_batch("BEGIN").unwrap();
        migrate(&c2).unwrap();
        c2.execute_batch("COMMIT").unwrap();
        let n: i64 = c2
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'mail_recipients'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn migrate_refuses_newer_tables_and_changes_nothing() {
        let c = Connection::open_in_memory().unwrap();
        migrate(&c).unwrap();
        c.execute(
            "UPDATE mail_schema SET version = ?1",
            [current_version() + 1],
        )
        .unwrap();
        let err = migrate(&c).unwrap_err();
        assert!(err.to_string().contains("newer than this server"), "{err}");
        let v: u32 = c
            .query_row("SELECT version FROM mail_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, current_version() + 1);
    }

    #[test]
    fn defaults_until_edited_then_reset() {
        let c = db();
        let list = list_templates(&c, "b1").unwrap();
        assert_eq!(
            list.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["mit-handynummer", "ohne-handynummer"]
        );
        assert!(list.iter().all(|e| e.is_default && !e.modified));
        assert_eq!(list[0].name, defaults::WITH_PHONE.name);

        let k = key("mit-handynummer");
        save_template(
            &c,
            "b1",
            &k,
            &tpl("Geändert"),
            "mitarbeiter@example.de",
            100,
        )
        .unwrap();
        let e = get_template(&c, "b1", &k).unwrap();
        assert_eq!(e.name, "Geändert");
        assert!(e.is_default && e.modified);
        assert_eq!(e.updated_at, Some(100));
        assert_eq!(e.updated_by.as_deref(), Some("mitarbeiter@example.de"));
        // Another broker still sees the default.
        assert_eq!(
            get_template(&c, "b2", &k).unwrap().name,
            defaults::WITH_PHONE.name
        );
        // The list keeps the default's position.
        assert_eq!(list_templates(&c, "b1").unwrap()[0].name, "Geändert");

        assert!(reset_template(&c, "b1", &k).unwrap());
        assert!(!reset_template(&c, "b1", &k).unwrap());
        let e = get_template(&c, "b1", &k).unwrap();
        assert_eq!(e.body, defaults::WITH_PHONE.body);
        assert!(!e.modified);
        assert!(matches!(
            delete_template(&c, "b1", &k),
            Err(MailStoreError::IsDefault)
        ));
    }

    #[test]
    fn own_templates() {
        let c = db();
        let k1 = create_template(&c, "b1", &tpl("Zweite"), "b1", 1).unwrap();
        let k2 = create_template(&c, "b1", &tpl("Erste"), "b1", 2).unwrap();
        assert_eq!(k1.as_str(), "eigene-1");
        assert_eq!(k2.as_str(), "eigene-2");
        let names: Vec<_> = list_templates(&c, "b1")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names[2..], ["Erste", "Zweite"]);
        assert_eq!(list_templates(&c, "b2").unwrap().len(), 2);
        save_template(&c, "b1", &k1, &tpl("Neu"), "b1", 3).unwrap();
        assert_eq!(get_template(&c, "b1", &k1).unwrap().name, "Neu");
        // Not the other broker's, and no saving to a key that does not exist.
        assert!(matches!(
            get_template(&c, "b2", &k1),
            Err(MailStoreError::NotFound)
        ));
        assert!(matches!(
            save_template(&c, "b2", &k1, &tpl("x"), "b2", 3),
            Err(MailStoreError::NotFound)
        ));
        assert!(matches!(
            reset_template(&c, "b1", &k1),
            Err(MailStoreError::NotDefault)
        ));
        delete_template(&c, "b1", &k1).unwrap();
        assert!(matches!(
            delete_template(&c, "b1", &k1),
            Err(MailStoreError::NotFound)
        ));
        // Numbers are not reused while a higher one exists.
        assert_eq!(
            create_template(&c, "b1", &tpl("x"), "b1", 4)
                .unwrap()
                .as_str(),
            "eigene-3"
        );
    }

    #[test]
    fn template_keys() {
        assert!(TemplateKey::parse("eigene-12").is_ok());
        for bad in ["", "Eigene", "a b", "../x", &"a".repeat(41)] {
            assert_eq!(TemplateKey::parse(bad), Err(TemplateKeyError), "{bad:?}");
        }
    }

    #[test]
    fn send_log_counts_and_scoping() {
        let c = db();
        let t = tpl("Rundmail");
        let k = key("mit-handynummer");
        let planned = |login: &str, status, detail: Option<&str>| PlannedRecipient {
            login: login.into(),
            name: format!("Kunde {login}"),
            address: (status == RecipientStatus::Pending).then(|| format!("{login}@example.de")),
            status,
            detail: detail.map(str::to_owned),
        };
        let id = start_campaign(
            &c,
            &NewCampaign {
                broker: "b1",
                sent_by: "m1",
                template_key: &k,
                template: &t,
                filter: "phone=with",
                now: 10,
            },
            &[
                planned("a", RecipientStatus::Pending, None),
                planned("b", RecipientStatus::Skipped, Some("keine E-Mail-Adresse")),
                planned("c", RecipientStatus::Pending, None),
            ],
        )
        .unwrap();
        let (camp, rows) = get_campaign(&c, "b1", id).unwrap();
        assert_eq!(camp.finished_at, None);
        assert_eq!(
            camp.counts,
            Counts {
                total: 3,
                sent: 0,
                failed: 0,
                skipped: 1,
                pending: 2
            }
        );
        assert_eq!(rows[1].at, Some(10));
        assert_eq!(rows[0].at, None);

        record_result(
            &c,
            id,
            0,
            RecipientStatus::Sent,
            None,
            Some("<x@example.de>"),
            11,
        )
        .unwrap();
        record_result(
            &c,
            id,
            2,
            RecipientStatus::Failed,
            Some("550 nein"),
            None,
            12,
        )
        .unwrap();
        finish_campaign(&c, id, 13).unwrap();
        assert!(matches!(
            record_result(&c, id, 9, RecipientStatus::Sent, None, None, 12),
            Err(MailStoreError::NotFound)
        ));

        let (camp, rows) = get_campaign(&c, "b1", id).unwrap();
        assert_eq!(camp.finished_at, Some(13));
        assert_eq!(camp.sent_by, "m1");
        assert_eq!(camp.template_name, "Rundmail");
        assert_eq!(camp.subject, "Betreff für {{ name }}");
        assert_eq!(
            camp.counts,
            Counts {
                total: 3,
                sent: 1,
                failed: 1,
                skipped: 1,
                pending: 0
            }
        );
        assert_eq!(rows[0].status, RecipientStatus::Sent);
        assert_eq!(rows[0].message_id.as_deref(), Some("<x@example.de>"));
        assert_eq!(rows[1].status, RecipientStatus::Skipped);
        assert_eq!(rows[1].detail.as_deref(), Some("keine E-Mail-Adresse"));
        assert_eq!(rows[2].status, RecipientStatus::Failed);
        assert_eq!(rows[2].address.as_deref(), Some("c@example.de"));

        // Another broker sees nothing of it.
        assert!(matches!(
            get_campaign(&c, "b2", id),
            Err(MailStoreError::NotFound)
        ));
        assert!(list_campaigns(&c, "b2", 10).unwrap().is_empty());

        // Newest first; an empty campaign has zero counts.
        let id2 = start_campaign(
            &c,
            &NewCampaign {
                broker: "b1",
                sent_by: "b1",
                template_key: &k,
                template: &t,
                filter: "",
                now: 20,
            },
            &[],
        )
        .unwrap();
        let list = list_campaigns(&c, "b1", 10).unwrap();
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [id2, id]);
        assert_eq!(list[0].counts, Counts::default());
        assert_eq!(list_campaigns(&c, "b1", 1).unwrap().len(), 1);
    }
}
