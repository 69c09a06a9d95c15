//! SQLite: the audit log.

use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::store::{AuditEntry, AuditStore, NewAuditEntry, StoreError, UserId};

/// Appends an audit entry inside an open transaction, so it commits or rolls
/// back with the change it describes. Every area's store writes its audit
/// rows through here.
pub(super) fn audit_in(tx: &Connection, e: &NewAuditEntry, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit (at, actor, action, user_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now,
        e.actor,
        e.action,
        e.user_id.map(|u| u.0),
        e.detail.to_string()
    ])?;
    Ok(())
}

impl AuditStore for SqliteStore {
    fn audit(&self, e: &NewAuditEntry, now: i64) -> Result<(), StoreError> {
        self.write(|tx| audit_in(tx, e, now))
    }

    fn audit_log(&self, user: Option<UserId>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, actor, action, user_id, detail FROM audit
                 WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![user.map(|u| u.0), limit], |r| {
                let detail: String = r.get(5)?;
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    user_id: r.get(4)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_filtered_by_user() {
        let s = SqliteStore::open_in_memory().unwrap();
        for (i, u) in [(1, Some(UserId(7))), (2, None), (3, Some(UserId(7)))] {
            s.audit(
                &NewAuditEntry {
                    actor: "system".into(),
                    action: "test.event",
                    user_id: u,
                    detail: serde_json::json!({"i": i}),
                },
                i,
            )
            .unwrap();
        }
        let all = s.audit_log(None, 10).unwrap();
        assert_eq!(all.iter().map(|e| e.at).collect::<Vec<_>>(), vec![3, 2, 1]);
        let mine = s.audit_log(Some(UserId(7)), 10).unwrap();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].detail["i"], 3);
        assert_eq!(s.audit_log(None, 1).unwrap().len(), 1);
    }
}
