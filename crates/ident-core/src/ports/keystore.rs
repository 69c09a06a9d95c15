//! The platform key store (Android Keystore, Secure Enclave / Keychain).
//!
//! The vault key can be wrapped by a key that lives in the platform's key store
//! and is usable only after biometric verification; that is what "unlock with
//! FaceID" means. The core only asks the store to wrap and unwrap bytes: the
//! platform key never leaves the store, and desktop builds, which have none,
//! simply do not offer biometric unlock.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;

use crate::secret::{SecretBytes, SecretKey32};

/// Why the key store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The user cancelled or failed the biometric prompt.
    #[error("the user was not verified")]
    NotVerified,
    /// The key is gone: biometrics changed, the app was reinstalled, or it was deleted.
    #[error("the key in the device's key store is no longer available")]
    KeyLost,
    /// The wrapped data did not decrypt under the key.
    #[error("the wrapped key is damaged")]
    Corrupt,
    /// The platform reported something else.
    #[error("key store error: {0}")]
    Platform(String),
}

/// Wraps and unwraps secrets with keys that never leave the platform key store.
pub trait KeyStore: Send + Sync {
    /// Encrypts `secret` under the store's key named `alias`, creating the key
    /// when it does not exist yet.
    fn wrap(&self, alias: &str, secret: &SecretBytes) -> Result<Vec<u8>, KeyStoreError>;
    /// Decrypts what [`KeyStore::wrap`] made. On mobile this shows the biometric prompt.
    fn unwrap(&self, alias: &str, wrapped: &[u8]) -> Result<SecretBytes, KeyStoreError>;
    /// Deletes the key named `alias`; wrapped data under it becomes useless.
    fn delete(&self, alias: &str) -> Result<(), KeyStoreError>;
}

/// An in-memory key store for tests: AES-256-GCM under random keys kept in a map.
/// It can be told to refuse, as a user cancelling the prompt would.
#[derive(Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<String, SecretKey32>>,
    refuse: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryKeyStore").finish_non_exhaustive()
    }
}

impl MemoryKeyStore {
    /// From now on, `unwrap` fails with [`KeyStoreError::NotVerified`] when `refuse` is true.
    pub fn set_refuse(&self, refuse: bool) {
        self.refuse
            .store(refuse, std::sync::atomic::Ordering::SeqCst);
    }

    fn cipher(&self, alias: &str, create: bool) -> Result<LessSafeKey, KeyStoreError> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| KeyStoreError::Platform("poisoned".into()))?;
        if !keys.contains_key(alias) {
            if !create {
                return Err(KeyStoreError::KeyLost);
            }
            let mut k = [0u8; 32];
            SystemRandom::new()
                .fill(&mut k)
                .map_err(|_| KeyStoreError::Platform("no randomness".into()))?;
            keys.insert(alias.to_owned(), SecretKey32::new(k));
        }
        let key = keys.get(alias).ok_or(KeyStoreError::KeyLost)?;
        let unbound = UnboundKey::new(&AES_256_GCM, key.expose())
            .map_err(|_| KeyStoreError::Platform("bad key".into()))?;
        Ok(LessSafeKey::new(unbound))
    }
}

impl KeyStore for MemoryKeyStore {
    fn wrap(&self, alias: &str, secret: &SecretBytes) -> Result<Vec<u8>, KeyStoreError> {
        let cipher = self.cipher(alias, true)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyStoreError::Platform("no randomness".into()))?;
        let mut buf = secret.expose().to_vec();
        cipher
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(alias.as_bytes()),
                &mut buf,
            )
            .map_err(|_| KeyStoreError::Platform("seal failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    fn unwrap(&self, alias: &str, wrapped: &[u8]) -> Result<SecretBytes, KeyStoreError> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(KeyStoreError::NotVerified);
        }
        let cipher = self.cipher(alias, false)?;
        if wrapped.len() < NONCE_LEN {
            return Err(KeyStoreError::Corrupt);
        }
        let (nonce, ct) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyStoreError::Corrupt)?;
        // Decrypt in a zeroizing buffer so the plaintext never sits in a plain Vec.
        let mut plain = zeroize::Zeroizing::new(ct.to_vec());
        let len = cipher
            .open_in_place(nonce, Aad::from(alias.as_bytes()), &mut plain)
            .map_err(|_| KeyStoreError::Corrupt)?
            .len();
        plain.truncate(len);
        Ok(SecretBytes::new(std::mem::take(&mut *plain)))
    }

    fn delete(&self, alias: &str) -> Result<(), KeyStoreError> {
        self.keys
            .lock()
            .map_err(|_| KeyStoreError::Platform("poisoned".into()))?
            .remove(alias);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_round_trip_and_failures() {
        let ks = MemoryKeyStore::default();
        let secret = SecretBytes::copy_from(&[9u8; 32]);
        let wrapped = ks.wrap("vault", &secret).unwrap();
        assert!(!wrapped.windows(32).any(|w| w == [9u8; 32]));
        assert_eq!(ks.unwrap("vault", &wrapped).unwrap(), secret);

        let mut tampered = wrapped.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(ks.unwrap("vault", &tampered), Err(KeyStoreError::Corrupt));
        assert_eq!(ks.unwrap("other", &wrapped), Err(KeyStoreError::KeyLost));

        ks.set_refuse(true);
        assert_eq!(
            ks.unwrap("vault", &wrapped),
            Err(KeyStoreError::NotVerified)
        );
        ks.set_refuse(false);

        ks.delete("vault").unwrap();
        assert_eq!(ks.unwrap("vault", &wrapped), Err(KeyStoreError::KeyLost));
    }
}
