//! The vault's single header row (`vault` table): KDF parameters, the wrapped
//! vault key, the key store wrapping and the wrong-PIN counter.
//!
//! All of this must be readable before the PIN is known, so none of it is
//! encrypted under the vault key; the secret parts (the wrapped keys) are
//! encrypted under the PIN-derived key or by the platform key store.

use ring::hmac;
use rusqlite::{Connection, OptionalExtension, params};

use super::VaultError;
use super::kdf::{ARGON2_VERSION, KdfParams};
use crate::secret::SecretKey32;

/// The header row as stored.
pub(crate) struct Header {
    pub(crate) vault_id: [u8; 16],
    pub(crate) kdf: KdfParams,
    pub(crate) salt: Vec<u8>,
    pub(crate) pin_check: Option<Vec<u8>>,
    pub(crate) pin_wrapped_key: Option<Vec<u8>>,
    pub(crate) key_check: Option<Vec<u8>>,
    pub(crate) keystore_alias: Option<String>,
    pub(crate) keystore_wrapped_key: Option<Vec<u8>>,
    pub(crate) failed_attempts: u32,
    pub(crate) last_attempt_at: i64,
    pub(crate) locked_forever: bool,
}

const CORRUPT_KDF: VaultError = VaultError::Corrupt {
    what: "the key derivation parameters",
};

impl Header {
    /// Reads the header, or `None` when the file has none (not set up yet).
    pub(crate) fn read(conn: &Connection) -> Result<Option<Header>, VaultError> {
        let row = conn
            .query_row(
                "SELECT vault_id, kdf_version, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                        kdf_salt, pin_check, pin_wrapped_key, key_check, keystore_alias,
                        keystore_wrapped_key, failed_attempts, last_attempt_at, locked_forever
                 FROM vault WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        (
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, i64>(4)?,
                        ),
                        r.get::<_, Vec<u8>>(5)?,
                        (
                            r.get::<_, Option<Vec<u8>>>(6)?,
                            r.get::<_, Option<Vec<u8>>>(7)?,
                            r.get::<_, Option<Vec<u8>>>(8)?,
                        ),
                        (
                            r.get::<_, Option<String>>(9)?,
                            r.get::<_, Option<Vec<u8>>>(10)?,
                        ),
                        (
                            r.get::<_, i64>(11)?,
                            r.get::<_, i64>(12)?,
                            r.get::<_, i64>(13)?,
                        ),
                    ))
                },
            )
            .optional()?;
        let Some((vault_id, version, (m, t, p), salt, checks, keystore, counter)) = row else {
            return Ok(None);
        };
        let vault_id =
            <[u8; 16]>::try_from(vault_id.as_slice()).map_err(|_| VaultError::Corrupt {
                what: "the vault id",
            })?;
        if version != i64::from(ARGON2_VERSION) {
            return Err(CORRUPT_KDF);
        }
        let small = |v: i64| u32::try_from(v).map_err(|_| CORRUPT_KDF);
        let kdf = KdfParams::new(small(m)?, small(t)?, small(p)?).map_err(|_| CORRUPT_KDF)?;
        if salt.len() < 8 {
            return Err(CORRUPT_KDF);
        }
        let (pin_check, pin_wrapped_key, key_check) = checks;
        let (keystore_alias, keystore_wrapped_key) = keystore;
        let (failed, last_attempt_at, locked) = counter;
        Ok(Some(Header {
            vault_id,
            kdf,
            salt,
            pin_check,
            pin_wrapped_key,
            key_check,
            keystore_alias,
            keystore_wrapped_key,
            // A negative counter can only come from tampering: treat it as locked.
            failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
            last_attempt_at,
            locked_forever: locked != 0,
        }))
    }

    /// The platform key store alias of this vault's key.
    pub(crate) fn alias_for(vault_id: &[u8; 16]) -> String {
        let hex: String = vault_id.iter().map(|b| format!("{b:02x}")).collect();
        format!("ident-vault-{hex}")
    }
}

/// `HMAC-SHA-256(vault key, "ident-vault-v1|key-check")`: recognises the vault
/// key after it comes back from the key store (or from the PIN wrapping).
pub(crate) fn key_check(key: &SecretKey32) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key.expose());
    hmac::sign(&k, b"ident-vault-v1|key-check")
        .as_ref()
        .to_vec()
}

/// Whether `stored` is the check value of `key` (constant time).
pub(crate) fn key_check_matches(key: &SecretKey32, stored: Option<&[u8]>) -> bool {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key.expose());
    stored.is_some_and(|s| hmac::verify(&k, b"ident-vault-v1|key-check", s).is_ok())
}

/// Records an attempt: failures + 1 at `now`. Committed by the caller before
/// the PIN is checked.
pub(crate) fn count_attempt(conn: &Connection, failures: u32, now: i64) -> Result<(), VaultError> {
    conn.execute(
        "UPDATE vault SET failed_attempts = ?1, last_attempt_at = ?2 WHERE id = 1",
        params![i64::from(failures), now],
    )?;
    Ok(())
}

/// Moves the last-attempt time (after the clock was found set back).
pub(crate) fn set_last_attempt(conn: &Connection, now: i64) -> Result<(), VaultError> {
    conn.execute("UPDATE vault SET last_attempt_at = ?1 WHERE id = 1", [now])?;
    Ok(())
}

/// Resets the wrong-PIN counter after a correct PIN.
pub(crate) fn reset_attempts(conn: &Connection) -> Result<(), VaultError> {
    conn.execute("UPDATE vault SET failed_attempts = 0 WHERE id = 1", [])?;
    Ok(())
}

/// Locks the vault for good: erases every wrapping of the vault key, every
/// account and every recorded answer (`secure_delete` zeroes the freed
/// pages), keeping only the header row that says so. (`answers` goes last:
/// [`super::Vault::destroy`] may run this on a version-1 file without that
/// table, and the statements before it must still run.)
pub(crate) fn erase(conn: &Connection) -> Result<(), VaultError> {
    conn.execute_batch(
        "UPDATE vault SET pin_check = NULL, pin_wrapped_key = NULL, keystore_wrapped_key = NULL,
                          key_check = NULL, locked_forever = 1,
                          failed_attempts = max(failed_attempts, 10)
         WHERE id = 1;
         DELETE FROM secrets;
         DELETE FROM accounts;
         DELETE FROM answers;",
    )?;
    Ok(())
}
