//! What every request handler shares.

use std::sync::Arc;

use ident_core::account::ServerUrl;
use ident_core::jose::EcKeyPair;
use ident_core::ports::Clock;
use ident_core::secret::SecretBytes;
use ring::aead::{self, LessSafeKey, UnboundKey};
use ring::hkdf;

use crate::config::Config;
use crate::problem::ApiError;
use crate::store::{Store, StoreError};

/// The server's signing key and its id.
#[derive(Debug)]
pub struct ServerKey {
    /// Key id (`kid` in JWS headers and the JWK).
    pub kid: String,
    /// The key pair.
    pub pair: EcKeyPair,
    /// AES-256-GCM key derived from the signing key (HKDF-SHA256), for
    /// secrets the service must keep and repeat but not store in clear (the
    /// trust token of an approved login: `services::trust::seal`). Derived
    /// once here instead of per request; a new server key makes a new one.
    pub seal: LessSafeKey,
}

/// HKDF salt and info of [`ServerKey::seal`]; a new purpose gets new labels.
const SEAL_SALT: &[u8] = b"ident at-rest seal v1";
const SEAL_INFO: &[u8] = b"aes-256-gcm";

fn seal_key(pkcs8: &SecretBytes) -> Result<LessSafeKey, StoreError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SEAL_SALT).extract(pkcs8.expose());
    let info = [SEAL_INFO];
    let okm = prk
        .expand(&info, &aead::AES_256_GCM)
        .map_err(|_| StoreError::Db("cannot derive the seal key".into()))?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

impl ServerKey {
    /// Loads the active key from the store, generating and storing one on first start.
    pub fn load_or_create(store: &dyn Store, now: i64) -> Result<Self, StoreError> {
        if let Some((kid, pkcs8)) = store.active_server_key()? {
            let pkcs8 = SecretBytes::new(pkcs8);
            let pair = EcKeyPair::from_pkcs8(&pkcs8)
                .map_err(|e| StoreError::Corrupt(format!("server key: {e}")))?;
            let seal = seal_key(&pkcs8)?;
            return Ok(Self { kid, pair, seal });
        }
        let (pair, pkcs8) =
            EcKeyPair::generate().map_err(|e| StoreError::Db(format!("server key: {e}")))?;
        let kid = pair.public_jwk().thumbprint().to_string()[..16].to_owned();
        store.insert_server_key(&kid, pkcs8.expose(), now)?;
        let seal = seal_key(&pkcs8)?;
        Ok(Self { kid, pair, seal })
    }
}

/// Shared state: cheap to clone (everything is behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<Config>,
    /// `config.public_url`, parsed.
    pub public_url: ServerUrl,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The signing key.
    pub server_key: Arc<ServerKey>,
    /// Where SMS go (file outbox, HTTP provider or log only; see `sms_gateway`).
    pub sms: Arc<dyn crate::sms_gateway::SmsGateway>,
    /// Where pushes go (`NoPush` unless FCM/APNs are configured; see `push`).
    pub push: Arc<dyn crate::push::PushGateway>,
    /// Wake-ups for long polls (see `wakeup`).
    pub wakeups: Arc<crate::wakeup::Wakeups>,
    /// Runs [`AppState::db`]'s operations, committing concurrent ones
    /// together (see `group_commit`).
    pub committer: Arc<crate::group_commit::GroupCommitter>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now().secs()
    }

    /// Runs a storage operation, committed together with the operations of
    /// concurrent requests (`group_commit`); returns once its changes are
    /// committed.
    ///
    /// It runs on the async worker, not on the blocking pool: every store
    /// operation is short (tens of microseconds), and handing each to
    /// another thread and back cost more than the work itself. Work that
    /// really blocks (Argon2id, file I/O) must not go through here: it would
    /// hold up every other request's store operations. It uses
    /// `tokio::task::spawn_blocking` itself.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.committer.run(f).await.map_err(ApiError::from)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("The requested item"),
            StoreError::Retired => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "This was used before and is not given again.",
            ),
            StoreError::Conflict(_) => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "This already exists.",
            ),
            other => {
                tracing::error!(error = %other, "storage failed");
                ApiError::internal()
            }
        }
    }
}
