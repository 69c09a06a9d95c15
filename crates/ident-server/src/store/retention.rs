//! Retention: deleting what the service no longer needs, in small batches.
//!
//! Without it every table only grows (issue 3): each push login leaves a
//! transaction, one challenge per device with its signed token, audit rows,
//! perhaps denials and SMS codes. The rules (how old is old enough) are made
//! in `services::retention`; this trait deletes one batch of one kind of
//! record at a time, each batch one short write transaction, so a purge
//! never holds the single writer for long — logins keep flowing between
//! batches.
//!
//! The tables are walked in insertion (rowid) order, which is time order:
//! a batch looks at the next few rows after a cursor, deletes those that are
//! due and stops the walk at the first row created after the cutoff. That
//! needs no extra index (no extra cost per login) and never scans more than
//! one batch of rows per transaction. A row stamped with a time ahead of the
//! clock (the clock was set back) only delays the walk until that time has
//! passed.
//!
//! Never purged: the SMS ledger (accounting records, kept ten years under
//! German law), users, devices, API keys, server keys, pending logins and
//! open challenges (a login is only deleted once its expiry, and its
//! decision, lie before the cutoff).

use serde::Serialize;

use super::StoreError;

/// A kind of record the purge deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeTable {
    /// Login transactions whose expiry and decision lie before the cutoff,
    /// with their challenges and SMS codes.
    Logins,
    /// Enrollments used, or expired unused, before the cutoff.
    Enrollments,
    /// Trusted browsers expired or revoked before the cutoff.
    TrustedBrowsers,
    /// Denials recorded before the cutoff.
    Denials,
    /// Counted password attempts before the cutoff.
    PasswordAttempts,
    /// Audit entries written before the cutoff.
    Audit,
}

/// How many records a purge (or one batch of it) deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeCounts {
    /// Login transactions.
    pub logins: u64,
    /// Challenges of those logins.
    pub challenges: u64,
    /// SMS codes of those logins.
    pub sms_codes: u64,
    /// Enrollments.
    pub enrollments: u64,
    /// Trusted browsers.
    pub trusted_browsers: u64,
    /// Denials.
    pub denials: u64,
    /// Password attempts.
    pub password_attempts: u64,
    /// Audit entries.
    pub audit: u64,
}

impl PurgeCounts {
    /// All records deleted.
    pub fn total(&self) -> u64 {
        self.logins
            + self.challenges
            + self.sms_codes
            + self.enrollments
            + self.trusted_browsers
            + self.denials
            + self.password_attempts
            + self.audit
    }
}

impl std::ops::AddAssign for PurgeCounts {
    fn add_assign(&mut self, o: Self) {
        self.logins += o.logins;
        self.challenges += o.challenges;
        self.sms_codes += o.sms_codes;
        self.enrollments += o.enrollments;
        self.trusted_browsers += o.trusted_browsers;
        self.denials += o.denials;
        self.password_attempts += o.password_attempts;
        self.audit += o.audit;
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBatch {
    /// Deleted in this batch.
    pub deleted: PurgeCounts,
    /// Where the next batch starts (pass it as `after`); `None` when the
    /// walk reached rows younger than the cutoff or the end of the table.
    pub next: Option<i64>,
}

/// Deleting old records in batches.
pub trait RetentionStore {
    /// One batch: looks at no more than `limit` rows of `table` after the
    /// cursor `after` (`i64::MIN` to start), in insertion order, and deletes
    /// those due before `before` (Unix seconds; see [`PurgeTable`]). One
    /// transaction.
    fn purge_batch(
        &self,
        table: PurgeTable,
        before: i64,
        after: i64,
        limit: u32,
    ) -> Result<PurgeBatch, StoreError>;
}
