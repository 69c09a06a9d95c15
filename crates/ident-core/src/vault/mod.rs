//! The vault: one encrypted SQLite file with every account and secret the app
//! holds, opened with the app PIN or the platform key store.
//!
//! The product promises that everything on disk is encrypted, that the app
//! opens with biometrics or a PIN, and that wrong PINs back off and lock. This
//! module is where those promises are kept. docs/vault.md describes the file
//! precisely enough to write an independent decoder.
//!
//! # Key hierarchy
//! - A random 32-byte **vault key** encrypts everything with AES-256-GCM
//!   (the `seal` module): each account's metadata (name, issuer, OTP
//!   parameters, push details, as JSON) and, separately, its secret (OTP seed or
//!   device key PKCS#8). Associated data binds each blob to its row and purpose.
//! - The vault key is **wrapped by the PIN**: Argon2id (parameters and salt in
//!   the file, [`KdfParams`]) then HMAC-SHA-256 gives a wrapping key and a PIN
//!   check value.
//! - Optionally the vault key is also **wrapped by the platform key store**
//!   (FaceID / fingerprint): [`Vault::enable_keystore_unlock`].
//!
//! # What is not encrypted, and why
//! The header row must be read before any key is known: KDF parameters and
//! salt, the wrapped keys (themselves ciphertext), the PIN and key check
//! values (HMAC outputs), the key store alias, the wrong-PIN counter and the
//! time of the last attempt. Per account: the row id (part of the AAD), the
//! position (so reordering does not re-encrypt anything), and the kind (`otp`
//! / `push`, which reveals how many accounts of each kind exist — and the row
//! count reveals that anyway). No timestamps are stored per account. Opening
//! decrypts the metadata only; a secret is decrypted when it is used (a code,
//! a signature) and zeroized right after.
//!
//! # Integrity limits
//! Each blob is authenticated, but the set of rows is not: someone who can
//! write the file can delete rows, reorder accounts, roll the whole file back
//! (e.g. an HOTP counter) or reset the wrong-PIN counter. Such an attacker can
//! also copy the file and guess PINs offline at the Argon2id cost, so the
//! counter protects against guessing through the app, and the PIN must be
//! long enough for the threat (the UI should push for more than 4 digits on
//! desktop, where there is no key store).
//!
//! # Wrong PINs and the key store
//! See [`lockout`] for the schedule. The counter is committed before each PIN
//! check. Unlocking with the key store neither consults nor resets the PIN
//! counter: a biometric success says nothing about who typed the wrong PINs,
//! and resetting would hand a thief a fresh set of guesses every time the owner
//! uses FaceID. It is allowed during a back-off (biometrics are rate-limited by
//! the OS), but not after the permanent lock, which erases every wrapping of
//! the vault key and every account: the data is then gone, not just hidden
//! behind a flag that someone could edit. Changing the PIN checks the old PIN
//! through the same counter, so it is no side door for guessing.
//!
//! # Crashes
//! Every write is one SQLite transaction (WAL journal, `synchronous = FULL`),
//! so a crash at any point leaves the vault as of the last commit. The HOTP
//! counter is committed before its code is computed, so no code is ever shown
//! twice. Deleted rows are overwritten (`secure_delete`), and the WAL is
//! truncated after a removal.
//!
//! One process uses a vault at a time; the account list is cached in memory.

mod accounts;
mod answers;
mod error;
mod header;
mod kdf;
pub mod lockout;
mod pin;
mod record;
mod schema;
mod seal;
mod unlock;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

pub use answers::{AnswerOutcome, MAX_ANSWERS_PER_ACCOUNT, RecentAnswer};
pub use error::VaultError;
pub use kdf::{ARGON2_VERSION, KdfParams, SALT_LEN};
pub use pin::{
    MAX_PIN_CHARS, MIN_PIN_CHARS, NewPinRefusal, PinWeakness, check_new_pin, pin_weaknesses,
    validate_pin,
};
pub use schema::{APPLICATION_ID, CURRENT_VERSION};

use crate::account::Account;
use crate::ports::Clock;
use crate::secret::{SecretKey32, SecretString};
use header::Header;

/// The longest account name or issuer, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// What the UI needs to know before asking for the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultStatus {
    /// Whether a vault has been set up at this path.
    pub exists: bool,
    /// Wrong PINs still allowed before the permanent lock.
    pub attempts_left: u32,
    /// Seconds until a PIN may be tried (0: now).
    pub wait_seconds: u64,
    /// The vault was locked for good and must be set up again.
    pub locked_forever: bool,
    /// Whether the key store (biometric) unlock is set up.
    pub keystore_unlock: bool,
}

/// An unlocked vault. Holds the vault key in memory until dropped.
pub struct Vault {
    path: PathBuf,
    conn: Connection,
    key: SecretKey32,
    vault_id: [u8; 16],
    accounts: Vec<Account>,
    keystore_enabled: bool,
    /// Set when this handle saw the vault locked for good (through
    /// [`Vault::change_pin`]); every further operation is refused.
    erased: bool,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("accounts", &self.accounts.len())
            .field("keystore_unlock", &self.keystore_enabled)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Sets up a new, empty vault at `path` protected by `pin`, with the given
    /// Argon2id cost (use [`KdfParams::RECOMMENDED`] in the app).
    ///
    /// The file may be absent, empty, or left over from a set-up that crashed
    /// before it finished; an existing vault is never overwritten.
    pub fn create(
        path: &Path,
        pin: &SecretString,
        kdf: KdfParams,
        clock: &dyn Clock,
    ) -> Result<Vault, VaultError> {
        validate_pin(pin)?;
        let mut conn = schema::connect(path, true)?;
        schema::migrate(&mut conn)?;
        if Header::read(&conn)?.is_some() {
            return Err(VaultError::AlreadyExists);
        }
        let key = SecretKey32::new(seal::random::<32>()?);
        let vault_id = seal::random::<16>()?;
        let salt = seal::random::<SALT_LEN>()?;
        let pin_keys = kdf::derive(pin, kdf, &salt)?;
        let wrapped = seal::seal_with(&pin_keys.wrap, &seal::aad_pin_wrap(), key.expose())?;

        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if Header::read(&tx)?.is_some() {
            return Err(VaultError::AlreadyExists);
        }
        // Leftovers of an interrupted set-up cannot hold accounts (they need a
        // header to be written), but make sure.
        tx.execute_batch("DELETE FROM secrets; DELETE FROM accounts;")?;
        tx.execute(
            "INSERT INTO vault (id, vault_id, created_at, kdf_algorithm, kdf_version,
                                kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt,
                                pin_check, pin_wrapped_key, key_check)
             VALUES (1, ?1, ?2, 'argon2id', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                vault_id.as_slice(),
                clock.now().secs(),
                ARGON2_VERSION,
                kdf.memory_kib(),
                kdf.iterations(),
                kdf.parallelism(),
                salt.as_slice(),
                pin_keys.check_value().as_slice(),
                wrapped,
                header::key_check(&key),
            ],
        )?;
        tx.commit()?;
        Ok(Vault {
            path: path.to_owned(),
            conn,
            key,
            vault_id,
            accounts: Vec::new(),
            keystore_enabled: false,
            erased: false,
        })
    }

    /// Opens the vault with the app PIN.
    ///
    /// Refuses without trying the PIN while a back-off is running
    /// ([`VaultError::BackOff`]) or after the permanent lock
    /// ([`VaultError::LockedForever`]). A wrong PIN is counted before it is
    /// checked and reported with the attempts left ([`VaultError::WrongPin`]).
    pub fn open(path: &Path, pin: &SecretString, clock: &dyn Clock) -> Result<Vault, VaultError> {
        let mut conn = Self::connect_existing(path)?;
        let key = unlock::with_pin(&mut conn, pin, clock)?;
        Self::finish_open(path, conn, key)
    }

    /// Opens the vault with the key the platform key store wraps (biometric
    /// unlock). Does not touch the wrong-PIN counter; see the module docs.
    pub fn open_with_keystore(
        path: &Path,
        keystore: &dyn crate::ports::KeyStore,
    ) -> Result<Vault, VaultError> {
        let mut conn = Self::connect_existing(path)?;
        let key = unlock::with_keystore(&mut conn, keystore)?;
        Self::finish_open(path, conn, key)
    }

    /// Lockout and set-up state, read without a PIN (for the unlock screen).
    pub fn status(path: &Path, clock: &dyn Clock) -> Result<VaultStatus, VaultError> {
        let absent = VaultStatus {
            exists: false,
            attempts_left: lockout::MAX_FAILURES,
            wait_seconds: 0,
            locked_forever: false,
            keystore_unlock: false,
        };
        if !path.exists() {
            return Ok(absent);
        }
        let conn = Self::connect_existing(path)?;
        let Some(h) = Header::read(&conn)? else {
            return Ok(absent);
        };
        let locked = h.locked_forever || h.failed_attempts >= lockout::MAX_FAILURES;
        Ok(VaultStatus {
            exists: true,
            attempts_left: if locked {
                0
            } else {
                lockout::attempts_left(h.failed_attempts)
            },
            wait_seconds: if locked {
                0
            } else {
                lockout::remaining_wait(h.failed_attempts, h.last_attempt_at, clock.now().secs())
            },
            locked_forever: locked,
            keystore_unlock: !locked && h.keystore_wrapped_key.is_some(),
        })
    }

    /// Deletes the vault at `path` (the reset after a permanent lock, or
    /// "delete all data"). Drop any open [`Vault`] on it first.
    ///
    /// Before the files are removed, the key wrappings and accounts are erased
    /// inside the file (best effort), so that the unlinked blocks hold nothing
    /// usable. A key store key for this vault, if any, should be deleted by the
    /// host through [`Vault::disable_keystore_unlock`] before, or is left
    /// orphaned (harmless: nothing refers to it any more).
    pub fn destroy(path: &Path) -> Result<(), VaultError> {
        if let Ok(conn) = schema::connect(path, false) {
            if Header::read(&conn).ok().flatten().is_some() {
                // Best effort: a damaged file is removed all the same.
                let _ = header::erase(&conn);
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(PathBuf::from(p)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VaultError::Io(e.to_string())),
            }
        }
        Ok(())
    }

    /// The file this vault lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the key store (biometric) unlock is set up.
    pub fn keystore_unlock_enabled(&self) -> bool {
        self.keystore_enabled
    }

    fn connect_existing(path: &Path) -> Result<Connection, VaultError> {
        let mut conn = schema::connect(path, false)?;
        schema::migrate(&mut conn)?;
        Ok(conn)
    }

    fn finish_open(
        path: &Path,
        mut conn: Connection,
        key: SecretKey32,
    ) -> Result<Vault, VaultError> {
        let h = Header::read(&conn)?.ok_or(VaultError::NotFound)?;
        let accounts = accounts::load_all(&mut conn, &key)?;
        Ok(Vault {
            path: path.to_owned(),
            conn,
            key,
            vault_id: h.vault_id,
            accounts,
            keystore_enabled: h.keystore_wrapped_key.is_some(),
            erased: false,
        })
    }

    /// Refuses every operation once this handle has seen the vault erased.
    fn ensure_open(&self) -> Result<(), VaultError> {
        if self.erased {
            Err(VaultError::LockedForever)
        } else {
            Ok(())
        }
    }
}
