//! The one error type of the vault.
//!
//! Each variant is something the UI must react to differently (ask again, show
//! a countdown, offer a reset, report a damaged file), so they are precise.
//! Display texts are plain English sentences for the CLI and logs; the UI maps
//! the variants to German. No variant carries a secret: not a PIN, not a key,
//! not an account name.

use thiserror::Error;

use crate::account::AccountId;
use crate::ports::KeyStoreError;

/// Why a vault operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The PIN was wrong; the failure has been counted.
    #[error(
        "The PIN is wrong. {attempts_left} attempts are left before the vault is locked for good."
    )]
    WrongPin {
        /// Wrong PINs still allowed before the vault locks for good.
        attempts_left: u32,
    },
    /// Too many wrong PINs recently: the PIN was not tried at all.
    #[error("Too many wrong PINs. Wait {wait_seconds} seconds before trying again.")]
    BackOff {
        /// Seconds until the next attempt is allowed.
        wait_seconds: u64,
    },
    /// Ten wrong PINs in a row: the vault key has been erased.
    #[error(
        "The vault is locked for good after too many wrong PINs. It must be set up again, \
         and push accounts must be enrolled again."
    )]
    LockedForever,
    /// There is no vault at this path (or it was never completely set up).
    #[error("There is no vault here yet.")]
    NotFound,
    /// `create` was asked to overwrite an existing vault.
    #[error("A vault already exists here.")]
    AlreadyExists,
    /// The file is not an Ident vault, or it has been damaged or tampered with.
    #[error("The vault file is damaged ({what}).")]
    Corrupt {
        /// What did not check out (never secret).
        what: &'static str,
    },
    /// The file was written by a newer version of the app.
    #[error(
        "The vault was written by a newer version of Ident (format {found}, this version reads up to {supported}). Update the app."
    )]
    NewerVersion {
        /// The file's schema version.
        found: u32,
        /// The newest schema version this build understands.
        supported: u32,
    },
    /// No account with this id.
    #[error("There is no account {0}.")]
    AccountNotFound(AccountId),
    /// The operation needs an account of another kind (an OTP code of a push account).
    #[error("Account {id} is not {expected} account.")]
    WrongAccountKind {
        /// The account.
        id: AccountId,
        /// "an OTP" or "a push".
        expected: &'static str,
    },
    /// A name or issuer that cannot be stored.
    #[error("The {field} {reason}.")]
    InvalidName {
        /// "name" or "issuer".
        field: &'static str,
        /// Why: "is empty", "is longer than 200 characters", ….
        reason: &'static str,
    },
    /// A new PIN that is too short or too long.
    #[error("The PIN must be {min} to {max} characters long.")]
    InvalidPin {
        /// Minimum length in characters.
        min: usize,
        /// Maximum length in characters.
        max: usize,
    },
    /// Argon2id parameters out of the accepted range.
    #[error("The key derivation parameters are out of range ({what}).")]
    InvalidKdfParams {
        /// Which parameter.
        what: &'static str,
    },
    /// A position outside the list.
    #[error("Position {index} is outside the list of {len} accounts.")]
    IndexOutOfRange {
        /// The requested position.
        index: usize,
        /// The number of accounts.
        len: usize,
    },
    /// The device key given for a push account is not a P-256 PKCS#8 key or
    /// does not match the account's public key.
    #[error("The device key does not belong to this push account.")]
    InvalidDeviceKey,
    /// An HOTP counter at its maximum.
    #[error("The HOTP counter of account {0} is exhausted.")]
    CounterExhausted(AccountId),
    /// Biometric unlock is not set up for this vault.
    #[error("Unlocking with the device's key store is not set up.")]
    KeyStoreNotEnabled,
    /// The platform key store failed or refused (user cancelled, key lost).
    #[error("The device's key store could not unlock the vault: {0}")]
    KeyStore(KeyStoreError),
    /// The system random number generator failed.
    #[error("The system random number generator failed.")]
    Random,
    /// A file operation failed.
    #[error("A file operation on the vault failed: {0}")]
    Io(String),
    /// SQLite reported an error.
    #[error("The vault database reported an error: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => VaultError::Corrupt {
                what: "not an SQLite database",
            },
            Some(ErrorCode::DatabaseCorrupt) => VaultError::Corrupt {
                what: "the database structure is damaged",
            },
            _ => VaultError::Sqlite(e.to_string()),
        }
    }
}

impl From<KeyStoreError> for VaultError {
    fn from(e: KeyStoreError) -> Self {
        VaultError::KeyStore(e)
    }
}
