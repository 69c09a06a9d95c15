//! Accounts in the vault: add, list, rename, reorder, search, remove, and the
//! two uses of a secret (an OTP code, a device key for signing).
//!
//! The in-memory list mirrors the `accounts` table in position order and is
//! changed only after the transaction that changes the file has committed.
//! Metadata that a write depends on (the HOTP counter above all) is read back
//! from the file inside the write transaction, never from the cache alone.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::record;
use super::seal::{self, aad_meta, aad_secret};
use super::{MAX_NAME_CHARS, Vault, VaultError};
use crate::account::{Account, AccountDetails, AccountId, PushAccount};
use crate::device_key::DeviceKey;
use crate::otp::{self, OtpCode, OtpEntry, OtpKind, OtpSecret};
use crate::ports::UnixTime;
use crate::secret::{SecretBytes, SecretKey32};

/// Trims a name and checks it: not empty, at most [`MAX_NAME_CHARS`]
/// characters, no control characters.
pub(crate) fn clean_name(field: &'static str, raw: &str) -> Result<String, VaultError> {
    let name = raw.trim();
    let invalid = |reason| VaultError::InvalidName { field, reason };
    if name.is_empty() {
        return Err(invalid("is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid("is longer than 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("contains control characters"));
    }
    Ok(name.to_owned())
}

/// An issuer: like a name, but empty means none.
fn clean_issuer(raw: Option<&str>) -> Result<Option<String>, VaultError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => clean_name("issuer", s).map(Some),
    }
}

/// Reads and decrypts every account's metadata, in position order. Positions
/// that are not exactly 0, 1, 2, … (which no write of ours leaves behind) are
/// renumbered.
pub(crate) fn load_all(
    conn: &mut Connection,
    key: &SecretKey32,
) -> Result<Vec<Account>, VaultError> {
    let mut accounts = Vec::new();
    let mut dense = true;
    {
        let mut stmt =
            conn.prepare("SELECT id, position, kind, meta FROM accounts ORDER BY position, id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id = AccountId(row.get(0)?);
            let position: i64 = row.get(1)?;
            let kind: String = row.get(2)?;
            let blob: Vec<u8> = row.get(3)?;
            dense &= usize::try_from(position).ok() == Some(accounts.len());
            accounts.push(decrypt_meta(key, id, &kind, &blob)?);
        }
    }
    if !dense {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        renumber(&tx, &accounts)?;
        tx.commit()?;
    }
    Ok(accounts)
}

fn decrypt_meta(
    key: &SecretKey32,
    id: AccountId,
    kind: &str,
    blob: &[u8],
) -> Result<Account, VaultError> {
    let json = seal::open(key, &aad_meta(id), blob, "account metadata")?;
    record::decode(id, kind, json.expose())
}

fn renumber(tx: &Transaction<'_>, accounts: &[Account]) -> Result<(), VaultError> {
    let mut stmt = tx.prepare("UPDATE accounts SET position = ?1 WHERE id = ?2")?;
    for (i, a) in accounts.iter().enumerate() {
        stmt.execute(params![position(i)?, a.id.0])?;
    }
    Ok(())
}

fn position(index: usize) -> Result<i64, VaultError> {
    i64::try_from(index).map_err(|_| VaultError::Corrupt {
        what: "too many accounts",
    })
}

/// Inserts one account (metadata and secret) inside `tx` at `index`, and
/// returns it with its new id. Nothing is visible until the caller commits.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    key: &SecretKey32,
    index: usize,
    name: String,
    issuer: Option<String>,
    details: AccountDetails,
    secret: &[u8],
) -> Result<Account, VaultError> {
    // The AAD names the row, so the row must exist before its blobs are made:
    // insert with an empty placeholder, then fill it in (same transaction).
    tx.execute(
        "INSERT INTO accounts (position, kind, meta) VALUES (?1, ?2, x'')",
        params![position(index)?, record::kind_of(&details)],
    )?;
    let id = AccountId(tx.last_insert_rowid());
    let account = Account {
        id,
        name,
        issuer,
        details,
    };
    let meta = seal_meta(key, &account)?;
    tx.execute(
        "UPDATE accounts SET meta = ?1 WHERE id = ?2",
        params![meta, id.0],
    )?;
    let sealed = seal::seal(key, &aad_secret(id), secret)?;
    tx.execute(
        "INSERT INTO secrets (account_id, secret) VALUES (?1, ?2)",
        params![id.0, sealed],
    )?;
    Ok(account)
}

fn seal_meta(key: &SecretKey32, account: &Account) -> Result<Vec<u8>, VaultError> {
    let json = SecretBytes::new(record::encode(account)?);
    seal::seal(key, &aad_meta(account.id), json.expose())
}

/// Reads an account's kind and metadata from the file inside `tx`.
fn read_account(
    tx: &Transaction<'_>,
    key: &SecretKey32,
    id: AccountId,
) -> Result<Account, VaultError> {
    let row: Option<(String, Vec<u8>)> = tx
        .query_row(
            "SELECT kind, meta FROM accounts WHERE id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (kind, blob) = row.ok_or(VaultError::AccountNotFound(id))?;
    decrypt_meta(key, id, &kind, &blob)
}

/// Reads and decrypts an account's secret.
fn read_secret(
    conn: &Connection,
    key: &SecretKey32,
    id: AccountId,
) -> Result<SecretBytes, VaultError> {
    let blob: Option<Vec<u8>> = conn
        .query_row(
            "SELECT secret FROM secrets WHERE account_id = ?1",
            [id.0],
            |r| r.get(0),
        )
        .optional()?;
    let blob = blob.ok_or(VaultError::Corrupt {
        what: "an account's secret is missing",
    })?;
    seal::open(key, &aad_secret(id), &blob, "account secret")
}

impl Vault {
    /// Every account, in the user's order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The account with this id.
    pub fn get(&self, id: AccountId) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The accounts whose name, issuer, login or server contain `query`
    /// (case-insensitive; an empty query matches all), in the user's order.
    pub fn search(&self, query: &str) -> Vec<&Account> {
        self.accounts.iter().filter(|a| a.matches(query)).collect()
    }

    pub(super) fn index_of(&self, id: AccountId) -> Result<usize, VaultError> {
        self.accounts
            .iter()
            .position(|a| a.id == id)
            .ok_or(VaultError::AccountNotFound(id))
    }

    /// Adds an OTP account at the end of the list. Its label becomes the name.
    pub fn add_otp(&mut self, entry: OtpEntry) -> Result<AccountId, VaultError> {
        let ids = self.import_otp(vec![entry])?;
        ids.first().copied().ok_or(VaultError::Corrupt {
            what: "no account was added",
        })
    }

    /// Adds several OTP accounts (a Google Authenticator export) at the end of
    /// the list, all or none: one invalid entry adds nothing.
    pub fn import_otp(&mut self, entries: Vec<OtpEntry>) -> Result<Vec<AccountId>, VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let mut cleaned = Vec::with_capacity(entries.len());
        for e in entries {
            let name = clean_name("name", &e.label)?;
            let issuer = clean_issuer(e.issuer.as_deref())?;
            cleaned.push((name, issuer, e.params, e.secret));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = Vec::with_capacity(cleaned.len());
        for (name, issuer, params, secret) in cleaned {
            let index = self.accounts.len() + added.len();
            let details = AccountDetails::Otp(params);
            added.push(insert(
                &tx,
                key,
                index,
                name,
                issuer,
                details,
                secret.expose(),
            )?);
        }
        tx.commit()?;
        let ids = added.iter().map(|a| a.id).collect();
        self.accounts.extend(added);
        Ok(ids)
    }

    /// Adds a push account at the end of the list, with its device key
    /// (PKCS#8), which must match `push.device_jwk`.
    pub fn add_push(
        &mut self,
        name: &str,
        issuer: Option<&str>,
        push: PushAccount,
        device_key_pkcs8: SecretBytes,
    ) -> Result<AccountId, VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let name = clean_name("name", name)?;
        let issuer = clean_issuer(issuer)?;
        let device_key =
            DeviceKey::from_pkcs8(&device_key_pkcs8).map_err(|_| VaultError::InvalidDeviceKey)?;
        if device_key.public_jwk().thumbprint() != push.device_jwk.thumbprint() {
            return Err(VaultError::InvalidDeviceKey);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let index = self.accounts.len();
        let account = insert(
            &tx,
            key,
            index,
            name,
            issuer,
            AccountDetails::Push(push),
            device_key_pkcs8.expose(),
        )?;
        tx.commit()?;
        let id = account.id;
        self.accounts.push(account);
        Ok(id)
    }

    /// Renames an account (the name is trimmed; 1 to 200 characters).
    pub fn rename(&mut self, id: AccountId, name: &str) -> Result<(), VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let index = self.index_of(id)?;
        let name = clean_name("name", name)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut account = read_account(&tx, key, id)?;
        account.name = name;
        let meta = seal_meta(key, &account)?;
        tx.execute(
            "UPDATE accounts SET meta = ?1 WHERE id = ?2",
            params![meta, id.0],
        )?;
        tx.commit()?;
        self.accounts[index] = account;
        Ok(())
    }

    /// Moves an account to `new_index` in the list (0 is the top); the others
    /// shift to keep positions 0, 1, 2, … dense.
    pub fn move_to(&mut self, id: AccountId, new_index: usize) -> Result<(), VaultError> {
        self.ensure_open()?;
        let from = self.index_of(id)?;
        let len = self.accounts.len();
        if new_index >= len {
            return Err(VaultError::IndexOutOfRange {
                index: new_index,
                len,
            });
        }
        if from == new_index {
            return Ok(());
        }
        let mut reordered = self.accounts.clone();
        let account = reordered.remove(from);
        reordered.insert(new_index, account);
        let (lo, hi) = (from.min(new_index), from.max(new_index));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare("UPDATE accounts SET position = ?1 WHERE id = ?2")?;
            for (i, a) in reordered.iter().enumerate().take(hi + 1).skip(lo) {
                stmt.execute(params![position(i)?, a.id.0])?;
            }
        }
        tx.commit()?;
        self.accounts = reordered;
        Ok(())
    }

    /// Removes an account and its secret. Freed pages are zeroed
    /// (`secure_delete`) and the WAL is truncated afterwards, so the encrypted
    /// secret does not linger in the files.
    ///
    /// For a push account, tell the server first (unenroll); the device key
    /// is gone after this.
    pub fn remove(&mut self, id: AccountId) -> Result<(), VaultError> {
        self.ensure_open()?;
        let index = self.index_of(id)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM secrets WHERE account_id = ?1", [id.0])?;
        tx.execute("DELETE FROM accounts WHERE id = ?1", [id.0])?;
        tx.execute(
            "UPDATE accounts SET position = position - 1 WHERE position > ?1",
            [position(index)?],
        )?;
        tx.commit()?;
        self.accounts.remove(index);
        // Best effort: a reader elsewhere may hold the WAL; the next
        // checkpoint will then overwrite the frames.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(())
    }

    /// The current code of an OTP account at `now`.
    ///
    /// For HOTP, the counter is advanced and committed to the file *before*
    /// the code is computed, so a crash can skip a code but never show one
    /// twice.
    pub fn otp_code(&mut self, id: AccountId, now: UnixTime) -> Result<OtpCode, VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let index = self.index_of(id)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut account = read_account(&tx, key, id)?;
        let AccountDetails::Otp(params) = account.details else {
            return Err(VaultError::WrongAccountKind {
                id,
                expected: "an OTP",
            });
        };
        let secret =
            OtpSecret::from_bytes(read_secret(&tx, key, id)?).map_err(|_| VaultError::Corrupt {
                what: "an OTP secret is empty or too long",
            })?;
        if let OtpKind::Hotp { counter } = params.kind {
            let next = counter
                .checked_add(1)
                .ok_or(VaultError::CounterExhausted(id))?;
            let mut advanced = params;
            advanced.kind = OtpKind::Hotp { counter: next };
            account.details = AccountDetails::Otp(advanced);
            let meta = seal_meta(key, &account)?;
            tx.execute(
                "UPDATE accounts SET meta = ?1 WHERE id = ?2",
                params![meta, id.0],
            )?;
            tx.commit()?;
            self.accounts[index] = account;
        } else {
            drop(tx);
        }
        // `params` still holds the counter of this code (the one before `next`).
        Ok(otp::code(&secret, &params, now))
    }

    /// The seed of an OTP account, decrypted, for the passphrase-encrypted
    /// export (`crate::export`). Nothing else should need it: codes come from
    /// [`Vault::otp_code`].
    pub fn otp_secret(&self, id: AccountId) -> Result<OtpSecret, VaultError> {
        self.ensure_open()?;
        let index = self.index_of(id)?;
        if !matches!(self.accounts[index].details, AccountDetails::Otp(_)) {
            return Err(VaultError::WrongAccountKind {
                id,
                expected: "an OTP",
            });
        }
        OtpSecret::from_bytes(read_secret(&self.conn, &self.key, id)?).map_err(|_| {
            VaultError::Corrupt {
                what: "an OTP secret is empty or too long",
            }
        })
    }

    /// The device key of a push account, decrypted for signing.
    pub fn device_key(&self, id: AccountId) -> Result<DeviceKey, VaultError> {
        self.ensure_open()?;
        let key = &self.key;
        let index = self.index_of(id)?;
        if !matches!(self.accounts[index].details, AccountDetails::Push(_)) {
            return Err(VaultError::WrongAccountKind {
                id,
                expected: "a push",
            });
        }
        let pkcs8 = read_secret(&self.conn, key, id)?;
        DeviceKey::from_pkcs8(&pkcs8).map_err(|_| VaultError::Corrupt {
            what: "a device key",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name("name", "  Depot  ").unwrap(), "Depot");
        assert!(clean_name("name", "   ").is_err());
        assert!(clean_name("name", "a\nb").is_err());
        assert!(clean_name("name", &"ä".repeat(200)).is_ok());
        assert_eq!(
            clean_name("name", &"ä".repeat(201)),
            Err(VaultError::InvalidName {
                field: "name",
                reason: "is longer than 200 characters"
            })
        );
        assert_eq!(clean_issuer(Some("  ")).unwrap(), None);
        assert_eq!(clean_issuer(Some(" X ")).unwrap().as_deref(), Some("X"));
    }

    #[test]
    fn kinds_are_the_documented_strings() {
        assert_eq!((record::KIND_OTP, record::KIND_PUSH), ("otp", "push"));
    }
}
