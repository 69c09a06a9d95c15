//! SQLite: login transactions, challenges, answers and denials.
//!
//! See `store::auth` for the rules; each method here is one immediate
//! transaction whose conditional `UPDATE`s make the decision.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;

use super::SqliteStore;
use super::audit::audit_in;
use super::devices::{query_active_devices, query_device};
use super::trust::revoke_all_in;
use super::users::query_user;
use crate::domain::LoginName;
use crate::store::auth::Withdrawal;
use crate::store::auth::{
    AnswerContext, AnswerKind, Applied, ApplyAnswer, ChallengeRow, NewChallenge, NewTxn, StartPush,
    Txn, TxnStatus,
};
use crate::store::devices::Device;
use crate::store::trust::revoked_all_audit;
use crate::store::{AuthStore, NewAuditEntry, StoreError, User, UserId};

const TXN_COLUMNS: &str = "id, user_id, api_key_id, method, status, number, ip, user_agent, \
     created_at, expires_at, decided_at, trust_token_sealed";

fn txn_from_row(r: &Row<'_>) -> rusqlite::Result<Result<Txn, StoreError>> {
    let status: String = r.get(4)?;
    let Some(status) = TxnStatus::parse(&status) else {
        return Ok(Err(StoreError::Corrupt("auth_txns.status".into())));
    };
    Ok(Ok(Txn {
        id: r.get(0)?,
        user_id: UserId(r.get(1)?),
        api_key_id: r.get(2)?,
        method: r.get(3)?,
        status,
        number: r.get(5)?,
        ip: r.get(6)?,
        user_agent: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        decided_at: r.get(10)?,
        trust_token_sealed: r.get(11)?,
    }))
}

fn insert_txn_tx(tx: &Connection, t: &NewTxn) -> Result<(), StoreError> {
    let decided_at = (t.status != TxnStatus::Pending).then_some(t.created_at);
    tx.prepare_cached(
        "INSERT INTO auth_txns (id, user_id, api_key_id, method, status, number, ip, user_agent,
                                service, created_at, expires_at, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        t.id,
        t.user_id.0,
        t.api_key_id,
        t.method,
        t.status.as_str(),
        t.number,
        t.ip,
        t.user_agent,
        t.service,
        t.created_at,
        t.expires_at,
        decided_at
    ])?;
    Ok(())
}

/// Closes the unanswered challenges of `txn` (no decision of their own).
fn close_challenges(tx: &Connection, txn: &str, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE challenges SET answered_at = ?1, decision = 'closed'
         WHERE txn_id = ?2 AND answered_at IS NULL",
    )?
    .execute(params![now, txn])?;
    Ok(())
}

fn query_challenge(c: &Connection, id: &str) -> Result<Option<ChallengeRow>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT c.id, c.txn_id, c.device_id, c.expires_at, c.answered_at, t.user_id, t.number
         FROM challenges c JOIN auth_txns t ON t.id = c.txn_id WHERE c.id = ?1",
    )?
    .query_row([id], |r| {
        Ok(ChallengeRow {
            id: r.get(0)?,
            txn_id: r.get(1)?,
            device_id: r.get(2)?,
            expires_at: r.get(3)?,
            answered_at: r.get(4)?,
            user_id: UserId(r.get(5)?),
            number: r.get(6)?,
        })
    })
    .optional()?)
}

impl AuthStore for SqliteStore {
    fn start_push(
        &self,
        txn: &NewTxn,
        challenges: &[NewChallenge],
        max_open: u32,
        audit: &NewAuditEntry,
    ) -> Result<StartPush, StoreError> {
        self.write(|tx| {
            let locked: Option<i64> = tx
                .prepare_cached("SELECT push_locked_at FROM users WHERE id = ?1")?
                .query_row([txn.user_id.0], |r| r.get(0))?;
            if locked.is_some() {
                return Ok(StartPush::Locked);
            }
            let open: u32 = tx
                .prepare_cached(
                    "SELECT count(*) FROM auth_txns
                     WHERE user_id = ?1 AND method = 'push' AND status = 'pending'
                       AND expires_at >= ?2",
                )?
                .query_row(params![txn.user_id.0, txn.created_at], |r| r.get(0))?;
            if open >= max_open {
                return Ok(StartPush::TooMany);
            }
            insert_txn_tx(tx, txn)?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO challenges (id, txn_id, device_id, token, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for c in challenges {
                insert.execute(params![c.id, txn.id, c.device_id, c.token, c.expires_at])?;
            }
            drop(insert);
            audit_in(tx, audit, txn.created_at)?;
            Ok(StartPush::Started)
        })
    }

    fn insert_txn(&self, txn: &NewTxn, audit: &NewAuditEntry) -> Result<(), StoreError> {
        self.write(|tx| {
            insert_txn_tx(tx, txn)?;
            audit_in(tx, audit, txn.created_at)
        })
    }

    fn delete_txn(&self, id: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM auth_txns WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    fn txn(&self, id: &str) -> Result<Option<Txn>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {TXN_COLUMNS} FROM auth_txns WHERE id = ?1"
            ))?
            .query_row([id], txn_from_row)
            .optional()?
            .transpose()
        })
    }

    fn open_challenges(
        &self,
        device_id: &str,
        now: i64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT c.token FROM challenges c JOIN devices d ON d.id = c.device_id
                 WHERE c.device_id = ?1 AND c.answered_at IS NULL AND c.expires_at >= ?2
                   AND d.status = 'active'
                 ORDER BY c.rowid LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![device_id, now, limit], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
    }

    fn challenge(&self, id: &str) -> Result<Option<ChallengeRow>, StoreError> {
        self.read(|c| query_challenge(c, id))
    }

    fn answer_context(
        &self,
        challenge_id: &str,
        device_id: &str,
    ) -> Result<AnswerContext, StoreError> {
        self.read_snapshot(|c| {
            let challenge = query_challenge(c, challenge_id)?;
            let device = query_device(c, device_id)?;
            let user = match &challenge {
                Some(ch) => query_user(c, "id = ?1", &ch.user_id.0)?,
                None => None,
            };
            Ok(AnswerContext {
                challenge,
                device,
                user,
            })
        })
    }

    fn user_with_active_devices(
        &self,
        login: &LoginName,
    ) -> Result<Option<(User, Vec<Device>)>, StoreError> {
        self.read_snapshot(|c| {
            let Some(user) = query_user(c, "login = ?1", &login.as_str())? else {
                return Ok(None);
            };
            let devices = query_active_devices(c, user.id)?;
            Ok(Some((user, devices)))
        })
    }

    fn apply_answer(&self, a: &ApplyAnswer<'_>, now: i64) -> Result<Applied, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE challenges SET answered_at = ?1, decision = ?2
                     WHERE id = ?3 AND device_id = ?4 AND answered_at IS NULL",
                )?
                .execute(params![now, a.kind.as_str(), a.challenge_id, a.device_id])?;
            if n != 1 {
                return Ok(Applied::Replayed);
            }
            close_challenges(tx, a.txn_id, now)?;
            let mut status = if a.kind == AnswerKind::Approve {
                TxnStatus::Approved
            } else {
                TxnStatus::Denied
            };
            let mut locked = false;
            let mut closed_txns = Vec::new();
            let mut trust_revoked = 0;
            if a.kind != AnswerKind::Approve {
                tx.prepare_cached("INSERT INTO denials (user_id, at, kind) VALUES (?1, ?2, ?3)")?
                    .execute(params![a.user_id.0, now, a.kind.as_str()])?;
                let recent: u32 = tx
                    .prepare_cached("SELECT count(*) FROM denials WHERE user_id = ?1 AND at > ?2")?
                    .query_row(
                        params![a.user_id.0, now.saturating_sub(a.denial_window_secs)],
                        |r| r.get(0),
                    )?;
                let reason = if a.kind == AnswerKind::NotMe {
                    Some("not_me")
                } else if recent >= a.max_denials {
                    Some("denials")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    let n = tx
                        .prepare_cached(
                            "UPDATE users SET push_locked_at = ?1, push_lock_reason = ?2
                             WHERE id = ?3 AND push_locked_at IS NULL",
                        )?
                        .execute(params![now, reason, a.user_id.0])?;
                    status = TxnStatus::Locked;
                    locked = true;
                    if n == 1 {
                        audit_in(
                            tx,
                            &NewAuditEntry {
                                actor: format!("device:{}", a.device_id),
                                action: "push.locked",
                                user_id: Some(a.user_id),
                                detail: json!({"reason": reason, "txn": a.txn_id,
                                               "recent_denials": recent}),
                            },
                            now,
                        )?;
                    }
                    let mut stmt = tx.prepare_cached(
                        "SELECT id FROM auth_txns WHERE user_id = ?1 AND method = 'push'
                           AND status = 'pending' AND id <> ?2",
                    )?;
                    closed_txns = stmt
                        .query_map(params![a.user_id.0, a.txn_id], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()?;
                    drop(stmt);
                    for t in &closed_txns {
                        tx.prepare_cached(
                            "UPDATE auth_txns SET status = 'locked', decided_at = ?1
                             WHERE id = ?2 AND status = 'pending'",
                        )?
                        .execute(params![now, t])?;
                        close_challenges(tx, t, now)?;
                    }
                    if a.kind == AnswerKind::NotMe {
                        let audit = revoked_all_audit(a.user_id, "not_me");
                        trust_revoked = revoke_all_in(tx, a.user_id, now, &audit)?;
                    }
                }
            }
            let token = if status == TxnStatus::Approved {
                a.trust_token_sealed
            } else {
                None
            };
            let n = tx
                .prepare_cached(
                    "UPDATE auth_txns SET status = ?1, decided_at = ?2, trust_token_sealed = ?3
                     WHERE id = ?4 AND status = 'pending'",
                )?
                .execute(params![status.as_str(), now, token, a.txn_id])?;
            if n != 1 {
                // The transaction was already decided: the answer changes nothing.
                return Err(StoreError::Conflict("transaction already decided".into()));
            }
            audit_in(
                tx,
                &NewAuditEntry {
                    actor: format!("device:{}", a.device_id),
                    action: "challenge.answered",
                    user_id: Some(a.user_id),
                    detail: json!({"challenge": a.challenge_id, "txn": a.txn_id,
                                   "answer": a.kind.as_str(), "status": status.as_str()}),
                },
                now,
            )?;
            Ok(Applied::Done {
                status,
                locked,
                closed_txns,
                trust_revoked,
            })
        })
        .or_else(|e| match e {
            StoreError::Conflict(m) if m == "transaction already decided" => Ok(Applied::Replayed),
            other => Err(other),
        })
    }

    fn decide_txn(
        &self,
        id: &str,
        status: TxnStatus,
        trust_token_sealed: Option<&[u8]>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE auth_txns SET status = ?1, decided_at = ?2, trust_token_sealed = ?3
                     WHERE id = ?4 AND status = 'pending' AND expires_at >= ?2",
                )?
                .execute(params![status.as_str(), now, trust_token_sealed, id])?;
            if n == 1 {
                audit_in(tx, audit, now)?;
            }
            Ok(n == 1)
        })
    }

    fn withdraw_txn(
        &self,
        id: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Withdrawal, StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE auth_txns SET status = 'withdrawn', decided_at = ?1
                     WHERE id = ?2 AND status = 'pending' AND expires_at >= ?1",
                )?
                .execute(params![now, id])?;
            if n != 1 {
                return Ok(Withdrawal::NotPending);
            }
            let mut stmt = tx.prepare_cached(
                "SELECT DISTINCT device_id FROM challenges
                 WHERE txn_id = ?1 AND answered_at IS NULL",
            )?;
            let devices = stmt
                .query_map([id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            drop(stmt);
            tx.prepare_cached(
                "UPDATE challenges SET answered_at = ?1, decision = 'withdrawn'
                 WHERE txn_id = ?2 AND answered_at IS NULL",
            )?
            .execute(params![now, id])?;
            audit_in(tx, audit, now)?;
            Ok(Withdrawal::Withdrawn { devices })
        })
    }
}
