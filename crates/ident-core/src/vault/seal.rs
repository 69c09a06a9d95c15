//! AES-256-GCM under the vault key, and the associated data that binds every
//! ciphertext to its place in the file.
//!
//! Every blob is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)` with a fresh
//! random nonce per encryption. With random 96-bit nonces NIST SP 800-38D
//! allows 2^32 encryptions per key; a vault makes a handful per user action,
//! so it never comes close. The associated data (AAD) names the row and the
//! purpose (`ident-vault-v1|account|17|secret`), so a blob copied into another
//! row or column fails to decrypt instead of being taken for something else.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::VaultError;
use crate::account::AccountId;
use crate::secret::{SecretBytes, SecretKey32};

/// Length of the authentication tag appended to every ciphertext.
pub(crate) const TAG_LEN: usize = 16;

/// The prefix of every AAD string: the format and its version.
const AAD_PREFIX: &str = "ident-vault-v1";

/// AAD of the vault key wrapped under the PIN-derived key.
pub(crate) fn aad_pin_wrap() -> String {
    format!("{AAD_PREFIX}|vault-key|pin")
}

/// AAD of an account's encrypted metadata (name, issuer, OTP parameters, push details).
pub(crate) fn aad_meta(id: AccountId) -> String {
    format!("{AAD_PREFIX}|account|{}|meta", id.0)
}

/// AAD of an account's encrypted secret (OTP seed or device key PKCS#8).
pub(crate) fn aad_secret(id: AccountId) -> String {
    format!("{AAD_PREFIX}|account|{}|secret", id.0)
}

/// AAD of a recorded answer: its row, and the account it belongs to (so a
/// record moved to another account's list does not decrypt).
pub(crate) fn aad_answer(row: i64, account: AccountId) -> String {
    format!("{AAD_PREFIX}|answer|{row}|account|{}", account.0)
}

fn cipher(key: &[u8; 32]) -> Result<LessSafeKey, VaultError> {
    // AES-256 takes any 32 bytes; this cannot fail, but stays typed.
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Corrupt { what: "bad key" })
}

/// Fills a new random buffer of `N` bytes from the system generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| VaultError::Random)?;
    Ok(out)
}

/// Encrypts `plaintext` under `key` bound to `aad`: `nonce ‖ ciphertext ‖ tag`.
pub(crate) fn seal_with(
    key: &[u8; 32],
    aad: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let nonce = random::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher(key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_bytes()),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| VaultError::Random)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypts a blob made by [`seal_with`] under the same key and AAD. Any
/// mismatch — wrong key, wrong row, a flipped bit — is `None`.
pub(crate) fn open_with(key: &[u8; 32], aad: &str, blob: &[u8]) -> Option<SecretBytes> {
    if blob.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    // Decrypt in a zeroizing buffer so the plaintext never lingers in a plain Vec.
    let mut buf = Zeroizing::new(sealed.to_vec());
    let len = cipher(key)
        .ok()?
        .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(SecretBytes::new(std::mem::take(&mut *buf)))
}

/// Encrypts under the vault key.
pub(crate) fn seal(key: &SecretKey32, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    seal_with(key.expose(), aad, plaintext)
}

/// Decrypts under the vault key; a failure means the file was damaged or
/// tampered with (the vault key itself is known to be right).
pub(crate) fn open(
    key: &SecretKey32,
    aad: &str,
    blob: &[u8],
    what: &'static str,
) -> Result<SecretBytes, VaultError> {
    open_with(key.expose(), aad, blob).ok_or(VaultError::Corrupt { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SecretKey32::new([7; 32]);
        let blob = seal(&key, &aad_meta(AccountId(1)), b"hello").unwrap();
        assert_eq!(blob.len(), NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(
            open(&key, &aad_meta(AccountId(1)), &blob, "x")
                .unwrap()
                .expose(),
            b"hello"
        );
        // Another row, another purpose, another key, a flipped bit: all refused.
        assert!(open(&key, &aad_meta(AccountId(2)), &blob, "x").is_err());
        assert!(open(&key, &aad_secret(AccountId(1)), &blob, "x").is_err());
        assert!(
            open(
                &SecretKey32::new([8; 32]),
                &aad_meta(AccountId(1)),
                &blob,
                "x"
            )
            .is_err()
        );
        let mut flipped = blob.clone();
        flipped[NONCE_LEN] ^= 1;
        assert!(open(&key, &aad_meta(AccountId(1)), &flipped, "x").is_err());
        assert!(open(&key, &aad_meta(AccountId(1)), &blob[..20], "x").is_err());
    }

    #[test]
    fn nonces_are_fresh() {
        let key = SecretKey32::new([7; 32]);
        let a = seal(&key, "a", b"same").unwrap();
        let b = seal(&key, "a", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn aad_strings_are_as_documented() {
        assert_eq!(aad_pin_wrap(), "ident-vault-v1|vault-key|pin");
        assert_eq!(aad_meta(AccountId(42)), "ident-vault-v1|account|42|meta");
        assert_eq!(
            aad_secret(AccountId(42)),
            "ident-vault-v1|account|42|secret"
        );
    }
}
