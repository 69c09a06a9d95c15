//! API keys of relying parties (hashed) and the server's signing keys.

use serde::Serialize;

use super::StoreError;

/// An API key as stored (its hash never leaves the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    /// Database id.
    pub id: i64,
    /// A name for people ("Portal FinanceCloud").
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// Storage of API keys and server keys.
pub trait KeyStore {
    /// Stores a new API key by its SHA-256 hash.
    fn create_api_key(&self, name: &str, key_hash: &[u8; 32], now: i64) -> Result<i64, StoreError>;
    /// The unrevoked API key with this hash.
    fn api_key_by_hash(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Revokes an API key.
    fn revoke_api_key(&self, id: i64, now: i64) -> Result<(), StoreError>;
    /// The active server signing key: `(kid, pkcs8)`.
    fn active_server_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError>;
    /// Whether there is an active server key, without reading it (the
    /// health check: a cheap read that proves the database answers).
    fn has_active_server_key(&self) -> Result<bool, StoreError>;
    /// Makes `kid` the active server key, retiring the previous one.
    fn insert_server_key(&self, kid: &str, pkcs8: &[u8], now: i64) -> Result<(), StoreError>;
}
