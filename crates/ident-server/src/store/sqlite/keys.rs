//! SQLite: API keys and server keys.

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::{ApiKeyRecord, KeyStore, StoreError};

impl KeyStore for SqliteStore {
    fn create_api_key(&self, name: &str, key_hash: &[u8; 32], now: i64) -> Result<i64, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO api_keys (name, key_hash, created_at) VALUES (?1, ?2, ?3)",
                params![name, key_hash.as_slice(), now],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn api_key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id, name, created_at FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
            )?
            .query_row(
                [key_hash.as_slice()],
                |r| {
                    Ok(ApiKeyRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn revoke_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
    }

    fn active_server_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT kid, pkcs8 FROM server_keys WHERE retired_at IS NULL")?
                    .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?,
            )
        })
    }

    fn has_active_server_key(&self) -> Result<bool, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM server_keys WHERE retired_at IS NULL)",
            )?
            .query_row([], |r| r.get(0))?)
        })
    }

    fn insert_server_key(&self, kid: &str, pkcs8: &[u8], now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE server_keys SET retired_at = ?1 WHERE retired_at IS NULL",
                [now],
            )?;
            tx.execute(
                "INSERT INTO server_keys (kid, pkcs8, created_at) VALUES (?1, ?2, ?3)",
                params![kid, pkcs8, now],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_found_by_hash_until_revoked() {
        let s = SqliteStore::open_in_memory().unwrap();
        let id = s.create_api_key("portal", &[1; 32], 5).unwrap();
        assert_eq!(s.api_key_by_hash(&[1; 32]).unwrap().unwrap().name, "portal");
        assert!(s.api_key_by_hash(&[2; 32]).unwrap().is_none());
        s.revoke_api_key(id, 6).unwrap();
        assert!(s.api_key_by_hash(&[1; 32]).unwrap().is_none());
        assert!(matches!(s.revoke_api_key(id, 7), Err(StoreError::NotFound)));
    }

    #[test]
    fn one_active_server_key() {
        let s = SqliteStore::open_in_memory().unwrap();
        assert!(s.active_server_key().unwrap().is_none());
        assert!(!s.has_active_server_key().unwrap());
        s.insert_server_key("k1", b"one", 1).unwrap();
        s.insert_server_key("k2", b"two", 2).unwrap();
        assert!(s.has_active_server_key().unwrap());
        assert_eq!(
            s.active_server_key().unwrap(),
            Some(("k2".to_owned(), b"two".to_vec()))
        );
    }
}
