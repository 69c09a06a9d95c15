//! Password hashing with Argon2id (PHC strings), for the users' portal passwords.
//!
//! Parameters follow OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane);
//! they are stored in each hash, so raising them later only affects new hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a password could not be hashed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is too short or too long.
    #[error("a password must be 8 to 256 characters long")]
    Length,
    /// Randomness or hashing failed.
    #[error("the password could not be hashed")]
    Hash,
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| PasswordError::Hash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` into a PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let len = password.chars().count();
    if !(8..=256).contains(&len) {
        return Err(PasswordError::Length);
    }
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| PasswordError::Hash)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    let phc = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| PasswordError::Hash)?;
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    let password = Zeroizing::new(password.as_bytes().to_vec());
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(&password, &parsed)
        .is_ok()
}

/// A hash that matches no password, to verify against when a login does not
/// exist, so that both cases cost the same Argon2id work. Made once per process
/// from a random password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut pw = [0u8; 24];
        let _ = SystemRandom::new().fill(&mut pw);
        hash(&ident_core::jose::b64::encode(&pw)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("richtig-geheim").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("richtig-geheim", &h));
        assert!(!verify("falsch-geheim", &h));
        assert!(!verify("richtig-geheim", "not a hash"));
        assert!(!verify("richtig-geheim", dummy_hash()));
        assert!(
            PasswordHash::new(dummy_hash()).is_ok(),
            "dummy hash must cost as much as a real one"
        );
        assert!(matches!(hash("kurz"), Err(PasswordError::Length)));
        assert_ne!(hash("richtig-geheim").unwrap(), h, "salted");
    }
}
