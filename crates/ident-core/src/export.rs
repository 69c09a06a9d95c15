//! The encrypted export: every OTP account with its seed, and a list of the
//! push accounts, in one passphrase-protected file (`docs/export.md`).
//!
//! Why it exists: users move to a new computer or phone, and the vault itself
//! cannot follow them (its key may be wrapped by the platform key store, and a
//! PIN is too weak to protect a file that leaves the device). The export is
//! protected by a separate passphrase through Argon2id and AES-256-GCM.
//!
//! Why push keys are not in it: a device key never leaves the device
//! (product rule 5). The export lists each push account (name, issuer, server,
//! login) so the user knows which ones to enroll again on the new device.
//!
//! The format is versioned. A reader refuses a version newer than it knows
//! ([`ExportError::NewerVersion`]) instead of guessing, and the KDF
//! parameters in the file are bounds-checked like the vault's, so a tampered
//! file cannot make the reader allocate unbounded memory.

use std::fmt;

use argon2::{Algorithm as ArgonAlgorithm, Argon2, Params, Version};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::account::AccountDetails;
use crate::jose::b64;
use crate::otp::{OtpEntry, OtpParams, OtpSecret};
use crate::ports::UnixTime;
use crate::secret::{SecretBytes, SecretString};
use crate::vault::{ARGON2_VERSION, KdfParams, SALT_LEN, Vault, VaultError};

/// The `format` member of every export file.
pub const FORMAT: &str = "ident-export";

/// The export format version this build writes and the newest it reads.
pub const VERSION: u32 = 1;

/// The shortest passphrase accepted for a new export, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The largest export file read, in bytes (16 MiB; thousands of accounts).
pub const MAX_EXPORT_BYTES: usize = 16 * 1024 * 1024;

const TAG_LEN: usize = 16;

/// Why an export could not be written or read. No variant carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The file is not an Ident export (not JSON, or another format).
    #[error("the file is not an Ident export")]
    NotAnExport,
    /// The file was written by a newer version.
    #[error(
        "the export was written by a newer version of Ident (format {found}, this version reads up to {supported}); update Ident"
    )]
    NewerVersion {
        /// The file's version.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The file is an export but a member is missing or malformed.
    #[error("the export file is damaged ({what})")]
    Damaged {
        /// What did not check out.
        what: &'static str,
    },
    /// Wrong passphrase, or the ciphertext was changed.
    #[error("the passphrase is wrong or the export file has been changed")]
    WrongPassphrase,
    /// A passphrase too short for a file that leaves the device.
    #[error("the passphrase must be at least {min} characters long")]
    WeakPassphrase {
        /// The minimum length in characters.
        min: usize,
    },
    /// The file is larger than [`MAX_EXPORT_BYTES`].
    #[error("the file is too large to be an Ident export")]
    TooLarge,
    /// Reading the accounts from the vault failed.
    #[error("the vault could not be read: {0}")]
    Vault(#[from] VaultError),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// An OTP account in an export: its details and its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedOtp {
    /// The account, ready for [`Vault::import_otp`] (the name is the label).
    pub entry: OtpEntry,
}

/// A push account in an export: only what the user needs to enroll it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedPush {
    /// The account's name in the vault.
    pub name: String,
    /// The issuer, if known.
    pub issuer: Option<String>,
    /// The server base URL.
    pub server: String,
    /// The login at the relying party.
    pub login: String,
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportContents {
    /// When the export was made (Unix seconds).
    pub created_at: i64,
    /// The OTP accounts, in the vault's order.
    pub otp: Vec<OtpEntry>,
    /// The push accounts, listed only: their keys are never exported.
    pub push: Vec<ExportedPush>,
}

/// The envelope: everything but the ciphertext is readable without the passphrase.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    kdf: KdfBlock,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct KdfBlock {
    algorithm: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

/// The plaintext inside the ciphertext.
#[derive(Serialize, Deserialize)]
struct Payload {
    created_at: i64,
    accounts: Vec<PayloadAccount>,
}

#[derive(Serialize, Deserialize)]
struct PayloadAccount {
    name: String,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    otp: Option<OtpParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<Base32Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    push: Option<PayloadPush>,
}

#[derive(Serialize, Deserialize)]
struct PayloadPush {
    server: String,
    login: String,
}

/// A seed as unpadded base32 text; zeroized on drop, redacted in `Debug`.
struct Base32Secret(String);

impl Drop for Base32Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Base32Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for Base32Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Base32Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Base32Secret)
    }
}

/// The associated data: binds the ciphertext to the format, version and KDF
/// parameters, so none of them can be changed without the file failing to
/// decrypt.
fn aad(kdf: &KdfBlock) -> String {
    format!(
        "{FORMAT}|v{VERSION}|{}|{}|{}|{}|{}|{}",
        kdf.algorithm, kdf.version, kdf.memory_kib, kdf.iterations, kdf.parallelism, kdf.salt
    )
}

fn derive_key(
    passphrase: &SecretString,
    params: KdfParams,
    salt: &[u8],
) -> Result<Zeroizing<[u8; 32]>, ExportError> {
    let argon_params = Params::new(
        params.memory_kib(),
        params.iterations(),
        params.parallelism(),
        Some(32),
    )
    .map_err(|_| ExportError::Damaged {
        what: "key derivation parameters",
    })?;
    let argon = Argon2::new(ArgonAlgorithm::Argon2id, Version::V0x13, argon_params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, key.as_mut_slice())
        .map_err(|_| ExportError::Damaged { what: "salt" })?;
    Ok(key)
}

fn cipher(key: &[u8; 32]) -> Result<LessSafeKey, ExportError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| ExportError::Random)
}

fn random<const N: usize>() -> Result<[u8; N], ExportError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| ExportError::Random)?;
    Ok(out)
}

/// Collects what an export of `vault` holds: every OTP account with its seed
/// (in the vault's order) and the push accounts without their keys.
pub fn collect(vault: &Vault, now: UnixTime) -> Result<ExportContents, ExportError> {
    let mut contents = ExportContents {
        created_at: now.secs(),
        ..ExportContents::default()
    };
    for account in vault.accounts() {
        match &account.details {
            AccountDetails::Otp(params) => contents.otp.push(OtpEntry {
                issuer: account.issuer.clone(),
                label: account.name.clone(),
                secret: vault.otp_secret(account.id)?,
                params: *params,
            }),
            AccountDetails::Push(push) => contents.push.push(ExportedPush {
                name: account.name.clone(),
                issuer: account.issuer.clone(),
                server: push.server.as_str().to_owned(),
                login: push.login.clone(),
            }),
        }
    }
    Ok(contents)
}

/// Encrypts `contents` under `passphrase` (at least [`MIN_PASSPHRASE_CHARS`]
/// characters) with Argon2id at `kdf` cost, and returns the export file.
pub fn encrypt(
    contents: &ExportContents,
    passphrase: &SecretString,
    kdf: KdfParams,
) -> Result<Vec<u8>, ExportError> {
    if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(ExportError::WeakPassphrase {
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    let mut accounts = Vec::with_capacity(contents.otp.len() + contents.push.len());
    for e in &contents.otp {
        accounts.push(PayloadAccount {
            name: e.label.clone(),
            issuer: e.issuer.clone(),
            otp: Some(e.params),
            secret: Some(Base32Secret(
                data_encoding::BASE32_NOPAD.encode(e.secret.expose()),
            )),
            push: None,
        });
    }
    for p in &contents.push {
        accounts.push(PayloadAccount {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            otp: None,
            secret: None,
            push: Some(PayloadPush {
                server: p.server.clone(),
                login: p.login.clone(),
            }),
        });
    }
    let payload = Payload {
        created_at: contents.created_at,
        accounts,
    };
    let mut plaintext =
        Zeroizing::new(
            serde_json::to_vec(&payload).map_err(|_| ExportError::Damaged {
                what: "the accounts could not be encoded",
            })?,
        );
    drop(payload);

    let salt = random::<SALT_LEN>()?;
    let nonce = random::<NONCE_LEN>()?;
    let kdf_block = KdfBlock {
        algorithm: "argon2id".into(),
        version: ARGON2_VERSION,
        memory_kib: kdf.memory_kib(),
        iterations: kdf.iterations(),
        parallelism: kdf.parallelism(),
        salt: b64::encode(&salt),
    };
    let key = derive_key(passphrase, kdf, &salt)?;
    let aad = aad(&kdf_block);
    let tag = cipher(&key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            plaintext.as_mut_slice(),
        )
        .map_err(|_| ExportError::Random)?;
    let mut sealed = plaintext.to_vec();
    sealed.extend_from_slice(tag.as_ref());
    let envelope = Envelope {
        format: FORMAT.into(),
        version: VERSION,
        kdf: kdf_block,
        nonce: b64::encode(&nonce),
        ciphertext: b64::encode(&sealed),
    };
    let mut out = serde_json::to_vec_pretty(&envelope).map_err(|_| ExportError::Damaged {
        what: "the envelope could not be encoded",
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Whether `data` looks like an export file (for telling it apart from a
/// pasted URI); says nothing about its validity.
pub fn looks_like_export(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&data[..data.len().min(256)]);
    let t = text.trim_start();
    t.starts_with('{') && t.contains(FORMAT)
}

/// Decrypts an export file with `passphrase`.
pub fn decrypt(data: &[u8], passphrase: &SecretString) -> Result<ExportContents, ExportError> {
    if data.len() > MAX_EXPORT_BYTES {
        return Err(ExportError::TooLarge);
    }
    let value: serde_json::Value =
        serde_json::from_slice(data).map_err(|_| ExportError::NotAnExport)?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(ExportError::NotAnExport);
    }
    let version = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or(ExportError::Damaged { what: "version" })?;
    if version > u64::from(VERSION) {
        return Err(ExportError::NewerVersion {
            found: u32::try_from(version).unwrap_or(u32::MAX),
            supported: VERSION,
        });
    }
    if version != u64::from(VERSION) {
        return Err(ExportError::Damaged { what: "version" });
    }
    let envelope: Envelope =
        serde_json::from_value(value).map_err(|_| ExportError::Damaged { what: "envelope" })?;
    let k = &envelope.kdf;
    if k.algorithm != "argon2id" || k.version != ARGON2_VERSION {
        return Err(ExportError::Damaged {
            what: "key derivation algorithm",
        });
    }
    let params = KdfParams::new(k.memory_kib, k.iterations, k.parallelism).map_err(|_| {
        ExportError::Damaged {
            what: "key derivation parameters",
        }
    })?;
    let salt = b64::decode(&k.salt).map_err(|_| ExportError::Damaged { what: "salt" })?;
    if salt.len() != SALT_LEN {
        return Err(ExportError::Damaged { what: "salt" });
    }
    let nonce: [u8; NONCE_LEN] = b64::decode(&envelope.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(ExportError::Damaged { what: "nonce" })?;
    let mut sealed = Zeroizing::new(
        b64::decode(&envelope.ciphertext)
            .map_err(|_| ExportError::Damaged { what: "ciphertext" })?,
    );
    if sealed.len() < TAG_LEN {
        return Err(ExportError::Damaged { what: "ciphertext" });
    }
    let key = derive_key(passphrase, params, &salt)?;
    let aad = aad(k);
    let plaintext = cipher(&key)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            sealed.as_mut_slice(),
        )
        .map_err(|_| ExportError::WrongPassphrase)?;
    let payload: Payload = serde_json::from_slice(plaintext).map_err(|_| ExportError::Damaged {
        what: "the accounts",
    })?;
    let mut contents = ExportContents {
        created_at: payload.created_at,
        ..ExportContents::default()
    };
    for a in payload.accounts {
        match (a.otp, &a.secret, a.push) {
            (Some(params), Some(secret), None) => {
                let bytes = data_encoding::BASE32_NOPAD
                    .decode(secret.0.as_bytes())
                    .map_err(|_| ExportError::Damaged { what: "a secret" })?;
                let secret = OtpSecret::from_bytes(SecretBytes::new(bytes))
                    .map_err(|_| ExportError::Damaged { what: "a secret" })?;
                contents.otp.push(OtpEntry {
                    issuer: a.issuer,
                    label: a.name,
                    secret,
                    params,
                });
            }
            (None, None, Some(push)) => contents.push.push(ExportedPush {
                name: a.name,
                issuer: a.issuer,
                server: push.server,
                login: push.login,
            }),
            _ => return Err(ExportError::Damaged { what: "an account" }),
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, Digits, OtpKind};

    fn contents() -> ExportContents {
        ExportContents {
            created_at: 1_750_000_000,
            otp: vec![
                OtpEntry {
                    issuer: Some("GitHub".into()),
                    label: "alice@example.com".into(),
                    secret: OtpSecret::from_bytes(SecretBytes::copy_from(b"12345678901234567890"))
                        .unwrap(),
                    params: OtpParams::default(),
                },
                OtpEntry {
                    issuer: None,
                    label: "Zähler".into(),
                    secret: OtpSecret::from_bytes(SecretBytes::copy_from(&[7u8; 32])).unwrap(),
                    params: OtpParams {
                        algorithm: Algorithm::Sha256,
                        digits: Digits::new(8).unwrap(),
                        kind: OtpKind::Hotp { counter: 17 },
                    },
                },
            ],
            push: vec![ExportedPush {
                name: "Fondsdepot".into(),
                issuer: Some("Beispiel-Bank".into()),
                server: "https://id.example.de".into(),
                login: "12345".into(),
            }],
        }
    }

    fn pass(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn envelope_of(file: &[u8]) -> serde_json::Value {
        serde_json::from_slice(file).unwrap()
    }

    #[test]
    fn round_trip() {
        let c = contents();
        let file = encrypt(
            &c,
            &pass("korrekt pferd batterie"),
            KdfParams::insecure_for_tests(),
        )
        .unwrap();
        let back = decrypt(&file, &pass("korrekt pferd batterie")).unwrap();
        assert_eq!(back, c);
        assert!(looks_like_export(&file));
        // Nothing secret in the clear.
        let text = String::from_utf8(file).unwrap();
        assert!(!text.contains("GEZDGNBV"));
        assert!(!text.contains("alice"));
        let env = envelope_of(text.as_bytes());
        assert_eq!(env["format"], "ident-export");
        assert_eq!(env["version"], 1);
        assert_eq!(env["kdf"]["algorithm"], "argon2id");
        assert_eq!(env["kdf"]["memory_kib"], 256);
    }

    #[test]
    fn wrong_passphrase() {
        let file = encrypt(
            &contents(),
            &pass("richtiges passwort"),
            KdfParams::insecure_for_tests(),
        )
        .unwrap();
        assert_eq!(
            decrypt(&file, &pass("falsches passwort")),
            Err(ExportError::WrongPassphrase)
        );
    }

    #[test]
    fn tampered_ciphertext_and_parameters_are_refused() {
        let file = encrypt(
            &contents(),
            &pass("richtiges passwort"),
            KdfParams::insecure_for_tests(),
        )
        .unwrap();
        let mut env = envelope_of(&file);
        let mut ct = b64::decode(env["ciphertext"].as_str().unwrap()).unwrap();
        ct[3] ^= 1;
        env["ciphertext"] = b64::encode(&ct).into();
        let bad = serde_json::to_vec(&env).unwrap();
        assert_eq!(
            decrypt(&bad, &pass("richtiges passwort")),
            Err(ExportError::WrongPassphrase)
        );
        // Changing a KDF parameter within bounds changes the key and the AAD.
        let mut env = envelope_of(&file);
        env["kdf"]["iterations"] = 2.into();
        let bad = serde_json::to_vec(&env).unwrap();
        assert_eq!(
            decrypt(&bad, &pass("richtiges passwort")),
            Err(ExportError::WrongPassphrase)
        );
        // Out of bounds: refused before any work.
        let mut env = envelope_of(&file);
        env["kdf"]["memory_kib"] = (4u64 * 1024 * 1024).into();
        let bad = serde_json::to_vec(&env).unwrap();
        assert!(matches!(
            decrypt(&bad, &pass("richtiges passwort")),
            Err(ExportError::Damaged { .. })
        ));
    }

    #[test]
    fn newer_version_and_foreign_files_are_refused() {
        let file = encrypt(
            &contents(),
            &pass("richtiges passwort"),
            KdfParams::insecure_for_tests(),
        )
        .unwrap();
        let mut env = envelope_of(&file);
        env["version"] = 2.into();
        let newer = serde_json::to_vec(&env).unwrap();
        assert_eq!(
            decrypt(&newer, &pass("richtiges passwort")),
            Err(ExportError::NewerVersion {
                found: 2,
                supported: 1
            })
        );
        assert_eq!(
            decrypt(b"otpauth://totp/x?secret=AA", &pass("richtiges passwort")),
            Err(ExportError::NotAnExport)
        );
        assert_eq!(
            decrypt(br#"{"format":"other"}"#, &pass("richtiges passwort")),
            Err(ExportError::NotAnExport)
        );
    }

    #[test]
    fn short_passphrases_are_refused() {
        assert_eq!(
            encrypt(&contents(), &pass("kurz"), KdfParams::insecure_for_tests()),
            Err(ExportError::WeakPassphrase { min: 8 })
        );
    }

    #[test]
    fn collect_takes_seeds_but_not_device_keys() {
        let dir = tempfile::tempdir().unwrap();
        let clock = crate::ports::ManualClock::at(1_750_000_000);
        let mut vault = Vault::create(
            &dir.path().join("v.db"),
            &SecretString::from("246810"),
            KdfParams::insecure_for_tests(),
            &clock,
        )
        .unwrap();
        vault.import_otp(contents().otp).unwrap();
        let c = collect(&vault, UnixTime(1_750_000_000)).unwrap();
        assert_eq!(c.otp, contents().otp);
        assert!(c.push.is_empty());
    }
}
