//! Getting the vault key back: with the PIN (counted, backed off, locked after
//! ten failures) or from the platform key store; and changing what wraps it.

use rusqlite::{Connection, TransactionBehavior, params};

use super::header::{self, Header};
use super::kdf;
use super::lockout::{self, MAX_FAILURES};
use super::seal;
use super::{SALT_LEN, Vault, VaultError, validate_pin};
use crate::ports::{Clock, KeyStore};
use crate::secret::{SecretBytes, SecretKey32, SecretString};

/// Checks `pin` under the lockout rules and returns the vault key.
///
/// 1. Under the write lock: refuse if locked for good or backing off;
///    otherwise count the attempt and commit.
/// 2. Derive and compare (slow). A wrong PIN stays counted; the tenth erases
///    the vault. A right PIN resets the counter.
pub(crate) fn with_pin(
    conn: &mut Connection,
    pin: &SecretString,
    clock: &dyn Clock,
) -> Result<SecretKey32, VaultError> {
    let now = clock.now().secs();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let h = Header::read(&tx)?.ok_or(VaultError::NotFound)?;
    if h.locked_forever || h.failed_attempts >= MAX_FAILURES {
        // Reaching here unlocked means the app died during the tenth check:
        // finish the job.
        if !h.locked_forever {
            header::erase(&tx)?;
            tx.commit()?;
        }
        return Err(VaultError::LockedForever);
    }
    let mut last = h.last_attempt_at;
    if now < last {
        // The clock was set back: restart the waiting period from now rather
        // than making the user wait until the clock catches up.
        header::set_last_attempt(&tx, now)?;
        last = now;
    }
    let wait = lockout::remaining_wait(h.failed_attempts, last, now);
    if wait > 0 {
        tx.commit()?;
        return Err(VaultError::BackOff { wait_seconds: wait });
    }
    let failures = h.failed_attempts + 1;
    header::count_attempt(&tx, failures, now)?;
    tx.commit()?;

    let (Some(pin_check), Some(wrapped)) = (&h.pin_check, &h.pin_wrapped_key) else {
        return Err(VaultError::Corrupt {
            what: "the PIN wrapping is missing",
        });
    };
    let keys = kdf::derive(pin, h.kdf, &h.salt)?;
    if !keys.matches(pin_check) {
        if failures >= MAX_FAILURES {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            header::erase(&tx)?;
            tx.commit()?;
            return Err(VaultError::LockedForever);
        }
        return Err(VaultError::WrongPin {
            attempts_left: lockout::attempts_left(failures),
        });
    }
    // The PIN is right: whatever happens next is not the user's fault.
    header::reset_attempts(conn)?;
    let raw =
        seal::open_with(&keys.wrap, &seal::aad_pin_wrap(), wrapped).ok_or(VaultError::Corrupt {
            what: "the wrapped vault key",
        })?;
    let key = to_key(&raw)?;
    if !header::key_check_matches(&key, h.key_check.as_deref()) {
        return Err(VaultError::Corrupt {
            what: "the vault key check",
        });
    }
    Ok(key)
}

/// Asks the key store for the vault key. Leaves the PIN counter alone.
pub(crate) fn with_keystore(
    conn: &mut Connection,
    keystore: &dyn KeyStore,
) -> Result<SecretKey32, VaultError> {
    let h = Header::read(conn)?.ok_or(VaultError::NotFound)?;
    if h.locked_forever || h.failed_attempts >= MAX_FAILURES {
        if !h.locked_forever {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            header::erase(&tx)?;
            tx.commit()?;
        }
        return Err(VaultError::LockedForever);
    }
    let (Some(alias), Some(wrapped)) = (&h.keystore_alias, &h.keystore_wrapped_key) else {
        return Err(VaultError::KeyStoreNotEnabled);
    };
    let raw = keystore.unwrap(alias, wrapped)?;
    let key = to_key(&raw)?;
    if !header::key_check_matches(&key, h.key_check.as_deref()) {
        return Err(VaultError::Corrupt {
            what: "the key from the key store does not open this vault",
        });
    }
    Ok(key)
}

fn to_key(raw: &SecretBytes) -> Result<SecretKey32, VaultError> {
    let bytes = <[u8; 32]>::try_from(raw.expose()).map_err(|_| VaultError::Corrupt {
        what: "the vault key has the wrong length",
    })?;
    Ok(SecretKey32::new(bytes))
}

impl Vault {
    /// Changes the app PIN. The old PIN is checked under the same counter and
    /// back-off as [`Vault::open`] (a wrong one counts). Only the vault key is
    /// re-wrapped, under a new salt and the file's Argon2id parameters; no
    /// account data is re-encrypted.
    pub fn change_pin(
        &mut self,
        old: &SecretString,
        new: &SecretString,
        clock: &dyn Clock,
    ) -> Result<(), VaultError> {
        self.ensure_open()?;
        validate_pin(new)?;
        let checked = match with_pin(&mut self.conn, old, clock) {
            Err(VaultError::LockedForever) => {
                self.erased = true;
                self.accounts.clear();
                return Err(VaultError::LockedForever);
            }
            other => other?,
        };
        if checked != self.key {
            return Err(VaultError::Corrupt {
                what: "the vault key changed on disk",
            });
        }
        let h = Header::read(&self.conn)?.ok_or(VaultError::NotFound)?;
        let salt = seal::random::<SALT_LEN>()?;
        let keys = kdf::derive(new, h.kdf, &salt)?;
        let wrapped = seal::seal_with(&keys.wrap, &seal::aad_pin_wrap(), self.key.expose())?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE vault SET kdf_salt = ?1, pin_check = ?2, pin_wrapped_key = ?3 WHERE id = 1",
            params![salt.as_slice(), keys.check_value().as_slice(), wrapped],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Also wraps the vault key with the platform key store, so that
    /// [`Vault::open_with_keystore`] works. Replaces an earlier wrapping.
    pub fn enable_keystore_unlock(&mut self, keystore: &dyn KeyStore) -> Result<(), VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let alias = Header::alias_for(&self.vault_id);
        let wrapped = keystore.wrap(&alias, &SecretBytes::copy_from(key.expose()))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE vault SET keystore_alias = ?1, keystore_wrapped_key = ?2 WHERE id = 1",
            params![alias, wrapped],
        )?;
        tx.commit()?;
        self.keystore_enabled = true;
        Ok(())
    }

    /// Removes the key store wrapping and then deletes the key store's key.
    ///
    /// The file stops referring to the key first; if deleting the key then
    /// fails, it is left orphaned, which is harmless, so that is not an error.
    pub fn disable_keystore_unlock(&mut self, keystore: &dyn KeyStore) -> Result<(), VaultError> {
        self.ensure_open()?;
        let alias = Header::alias_for(&self.vault_id);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE vault SET keystore_alias = NULL, keystore_wrapped_key = NULL WHERE id = 1",
            [],
        )?;
        tx.commit()?;
        self.keystore_enabled = false;
        let _ = keystore.delete(&alias);
        Ok(())
    }
}
