//! The answers this device gave to login requests, per push account: the
//! "recent approvals" list the app shows after an answer.
//!
//! Why in the vault: the list is how a user notices a login they did not
//! make ("approved at 03:12?"), so it has to survive a restart of the app,
//! and it says when the user logs in where, so it is encrypted like every
//! other account detail. A record holds the request id, the service, the
//! time and approved/denied — never the matching number, a key or a token.
//! Each account keeps its newest [`MAX_ANSWERS_PER_ACCOUNT`]; older ones are
//! deleted in the same transaction that adds a new one, and removing an
//! account removes its answers (`ON DELETE CASCADE`).
//!
//! On disk (docs/vault.md, table `answers`): one row per answer, the record
//! sealed with AAD `ident-vault-v1|answer|<row id>|account|<account id>`.
//! The plaintext is JSON:
//!
//! ```json
//! {"challenge_id": "aeEeVvJ2vUebiKk5HT7X0A", "service": "Demo-Portal",
//!  "at": 1795710424, "outcome": "approved"}
//! ```

use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::seal::{self, aad_answer};
use super::{MAX_NAME_CHARS, Vault, VaultError};
use crate::account::AccountId;
use crate::ports::UnixTime;
use crate::secret::SecretBytes;

/// How many answers each account keeps (the newest).
pub const MAX_ANSWERS_PER_ACCOUNT: usize = 20;

/// The longest request id kept, in characters (the protocol's are 22).
const MAX_ID_CHARS: usize = 64;

/// How a login request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerOutcome {
    /// Approved.
    Approved,
    /// Denied (also "not me", and a wrong number, which the server counts as
    /// a denial).
    Denied,
}

/// One answer this device gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentAnswer {
    /// The login request's id, as the server named it.
    pub challenge_id: String,
    /// The service that asked (from the signed request).
    pub service: String,
    /// When the answer was given.
    pub at: UnixTime,
    /// How.
    pub outcome: AnswerOutcome,
}

/// The record's on-disk JSON, written field by field (the file format must
/// not follow refactorings of [`RecentAnswer`]).
#[derive(Serialize, Deserialize)]
struct AnswerRecord {
    challenge_id: String,
    service: String,
    at: i64,
    outcome: String,
}

/// What a damaged record is called in [`VaultError::Corrupt`].
const WHAT: &str = "answer record";
const BAD: VaultError = VaultError::Corrupt { what: WHAT };

/// At most `max` characters of `s`, control characters dropped: the text
/// comes from a server, and a list entry needs no more.
fn clip(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn encode(a: &RecentAnswer) -> Result<SecretBytes, VaultError> {
    let record = AnswerRecord {
        challenge_id: clip(&a.challenge_id, MAX_ID_CHARS),
        service: clip(&a.service, MAX_NAME_CHARS),
        at: a.at.secs(),
        outcome: match a.outcome {
            AnswerOutcome::Approved => "approved",
            AnswerOutcome::Denied => "denied",
        }
        .to_owned(),
    };
    serde_json::to_vec(&record)
        .map(SecretBytes::new)
        .map_err(|_| BAD)
}

fn decode(json: &[u8]) -> Result<RecentAnswer, VaultError> {
    let r: AnswerRecord = serde_json::from_slice(json).map_err(|_| BAD)?;
    let outcome = match r.outcome.as_str() {
        "approved" => AnswerOutcome::Approved,
        "denied" => AnswerOutcome::Denied,
        _ => return Err(BAD),
    };
    Ok(RecentAnswer {
        challenge_id: r.challenge_id,
        service: r.service,
        at: UnixTime(r.at),
        outcome,
    })
}

impl Vault {
    /// Records an answer given for `account` and drops that account's
    /// answers beyond the newest [`MAX_ANSWERS_PER_ACCOUNT`], in one
    /// transaction.
    pub fn record_answer(
        &mut self,
        account: AccountId,
        answer: &RecentAnswer,
    ) -> Result<(), VaultError> {
        self.ensure_open()?;
        self.index_of(account)?;
        let json = encode(answer)?;
        let keep = i64::try_from(MAX_ANSWERS_PER_ACCOUNT).map_err(|_| BAD)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The AAD names the row: insert a placeholder, then seal (as accounts do).
        tx.execute(
            "INSERT INTO answers (account_id, record) VALUES (?1, x'')",
            [account.0],
        )?;
        let row = tx.last_insert_rowid();
        let sealed = seal::seal(&self.key, &aad_answer(row, account), json.expose())?;
        tx.execute(
            "UPDATE answers SET record = ?1 WHERE id = ?2",
            params![sealed, row],
        )?;
        tx.execute(
            "DELETE FROM answers WHERE account_id = ?1 AND id NOT IN
                 (SELECT id FROM answers WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2)",
            params![account.0, keep],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The answers recorded for `account`, newest first.
    pub fn recent_answers(&self, account: AccountId) -> Result<Vec<RecentAnswer>, VaultError> {
        self.ensure_open()?;
        self.index_of(account)?;
        let keep = i64::try_from(MAX_ANSWERS_PER_ACCOUNT).map_err(|_| BAD)?;
        let mut stmt = self.conn.prepare(
            "SELECT id, record FROM answers WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![account.0, keep])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            let json = seal::open(&self.key, &aad_answer(id, account), &blob, WHAT)?;
            out.push(decode(json.expose())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_strange_text_is_clipped() {
        let a = RecentAnswer {
            challenge_id: "c".repeat(100),
            service: format!("Bank\u{7}\n{}", "x".repeat(300)),
            at: UnixTime(1_795_710_424),
            outcome: AnswerOutcome::Denied,
        };
        let back = decode(encode(&a).unwrap().expose()).unwrap();
        assert_eq!(back.challenge_id.chars().count(), MAX_ID_CHARS);
        assert!(back.service.starts_with("Bankxxx"));
        assert_eq!(back.service.chars().count(), MAX_NAME_CHARS);
        assert_eq!(back.at, a.at);
        assert_eq!(back.outcome, AnswerOutcome::Denied);
        let json = String::from_utf8(encode(&back).unwrap().expose().to_vec()).unwrap();
        assert!(json.contains("\"outcome\":\"denied\""), "{json}");
    }

    #[test]
    fn unknown_outcomes_and_garbage_are_refused() {
        assert_eq!(
            decode(br#"{"challenge_id":"c","service":"s","at":1,"outcome":"maybe"}"#),
            Err(BAD)
        );
        assert_eq!(decode(b"not json"), Err(BAD));
    }
}
