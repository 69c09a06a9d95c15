//! SQLite: trusted browsers.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::audit::audit_in;
use crate::store::trust::{TrustStore, TrustedBrowser};
use crate::store::{NewAuditEntry, StoreError, UserId};

const COLUMNS: &str = "id, user_id, user_agent, ip, created_at, expires_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TrustedBrowser> {
    Ok(TrustedBrowser {
        id: r.get(0)?,
        user_id: UserId(r.get(1)?),
        user_agent: r.get(2)?,
        ip: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

impl TrustStore for SqliteStore {
    fn insert_trusted_browser(&self, b: &TrustedBrowser) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO trusted_browsers (id, user_id, user_agent, ip, created_at, expires_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![b.id, b.user_id.0, b.user_agent, b.ip, b.created_at, b.expires_at, b.revoked_at],
            )?;
            Ok(())
        })
    }

    fn trusted_browser(&self, id: &str) -> Result<Option<TrustedBrowser>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {COLUMNS} FROM trusted_browsers WHERE id = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([id], from_row)
                .optional()?)
        })
    }

    fn trusted_browsers_of(
        &self,
        user: UserId,
        now: i64,
    ) -> Result<Vec<TrustedBrowser>, StoreError> {
        self.read(|c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM trusted_browsers
                 WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
                 ORDER BY created_at DESC, id"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params![user.0, now], from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn revoke_trusted_browser(&self, user: UserId, id: &str, now: i64) -> Result<bool, StoreError> {
        self.write(|tx| {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM trusted_browsers WHERE id = ?1 AND user_id = ?2",
                    params![id, user.0],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_none() {
                return Ok(false);
            }
            tx.execute(
                "UPDATE trusted_browsers SET revoked_at = ?3
                 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                params![id, user.0, now],
            )?;
            Ok(true)
        })
    }

    fn revoke_trusted_browsers(
        &self,
        user: UserId,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<u64, StoreError> {
        self.write(|tx| revoke_all_in(tx, user, now, audit))
    }
}

/// Revokes every trusted browser of `user` inside the caller's transaction;
/// audits `audit` (with the count) when there was one. Also used by the
/// answer that says "not me", so that the lock and the revocation are one
/// commit.
pub(super) fn revoke_all_in(
    tx: &Connection,
    user: UserId,
    now: i64,
    audit: &NewAuditEntry,
) -> Result<u64, StoreError> {
    let n = tx
        .prepare_cached(
            "UPDATE trusted_browsers SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![user.0, now])?;
    if n > 0 {
        let mut audit = audit.clone();
        if let Some(obj) = audit.detail.as_object_mut() {
            obj.insert("count".into(), n.into());
        }
        audit_in(tx, &audit, now)?;
    }
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditStore;

    fn browser(id: &str, user: UserId, created: i64) -> TrustedBrowser {
        TrustedBrowser {
            id: id.into(),
            user_id: user,
            user_agent: "Firefox".into(),
            ip: "192.0.2.1".into(),
            created_at: created,
            expires_at: created + 100,
            revoked_at: None,
        }
    }

    #[test]
    fn list_revoke_one_and_all() {
        let (s, u) = super::super::tests::store_with_broker();
        s.insert_trusted_browser(&browser("a", u, 10)).unwrap();
        s.insert_trusted_browser(&browser("b", u, 20)).unwrap();
        s.insert_trusted_browser(&browser("c", u, 30)).unwrap();
        assert!(matches!(
            s.insert_trusted_browser(&browser("c", u, 30)),
            Err(StoreError::Conflict(_))
        ));
        let ids = |now| -> Vec<String> {
            s.trusted_browsers_of(u, now)
                .unwrap()
                .into_iter()
                .map(|b| b.id)
                .collect()
        };
        assert_eq!(ids(50), ["c", "b", "a"]);
        assert_eq!(ids(115), ["c", "b"]); // "a" expired at 110
        assert!(s.revoke_trusted_browser(u, "b", 60).unwrap());
        assert!(s.revoke_trusted_browser(u, "b", 70).unwrap());
        assert_eq!(
            s.trusted_browser("b").unwrap().unwrap().revoked_at,
            Some(60)
        );
        assert!(!s.revoke_trusted_browser(UserId(u.0 + 1), "c", 60).unwrap());
        assert!(!s.revoke_trusted_browser(u, "zzz", 60).unwrap());
        assert_eq!(ids(60), ["c", "a"]);
        let audit = NewAuditEntry {
            actor: "system".into(),
            action: "trust.revoked_all",
            user_id: Some(u),
            detail: serde_json::json!({"reason": "test"}),
        };
        assert_eq!(s.revoke_trusted_browsers(u, 80, &audit).unwrap(), 2);
        assert_eq!(s.revoke_trusted_browsers(u, 90, &audit).unwrap(), 0);
        assert!(ids(80).is_empty());
        let log = s.audit_log(Some(u), 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].detail["count"], 2);
    }
}
