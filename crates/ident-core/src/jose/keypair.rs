//! A P-256 signing key held in memory (ring), for device keys on desktop and for
//! the server's key.
//!
//! The private key exists only as PKCS#8 inside [`SecretBytes`] (for storage in
//! the vault) and inside ring's key object; neither prints.

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use thiserror::Error;

use super::Jwk;
use crate::secret::SecretBytes;

/// Why a key could not be made, loaded or used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The stored PKCS#8 document is not a P-256 private key.
    #[error("the stored private key is damaged")]
    BadKey,
    /// Signing failed.
    #[error("signing failed")]
    Sign,
}

/// A P-256 key pair.
pub struct EcKeyPair {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcKeyPair({:?})", self.public_jwk())
    }
}

impl EcKeyPair {
    /// Generates a new key pair. Returns it with its PKCS#8 encoding, which is
    /// what the vault stores (encrypted).
    pub fn generate() -> Result<(Self, SecretBytes), KeyError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Random)?;
        let pkcs8 = SecretBytes::copy_from(doc.as_ref());
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    /// Loads a key pair from its PKCS#8 encoding.
    pub fn from_pkcs8(pkcs8: &SecretBytes) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.expose(), &rng)
            .map_err(|_| KeyError::BadKey)?;
        Ok(Self { pair, rng })
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        // ring always yields a 65-byte uncompressed point for P-256.
        Jwk::from_uncompressed(self.pair.public_key().as_ref())
            .unwrap_or_else(|_| unreachable_point())
    }

    /// Signs `message` with ECDSA P-256 / SHA-256; the 64-byte `r ‖ s` signature.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64], KeyError> {
        let sig = self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| KeyError::Sign)?;
        <[u8; 64]>::try_from(sig.as_ref()).map_err(|_| KeyError::Sign)
    }
}

#[allow(clippy::panic)]
fn unreachable_point() -> Jwk {
    panic!("ring produced a P-256 public key that is not an uncompressed point")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_load_and_sign() {
        let (k, pkcs8) = EcKeyPair::generate().unwrap();
        let again = EcKeyPair::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(k.public_jwk(), again.public_jwk());
        let sig = k.sign(b"hello").unwrap();
        let pk = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            k.public_jwk().to_uncompressed(),
        );
        assert!(pk.verify(b"hello", &sig).is_ok());
        assert!(pk.verify(b"hellp", &sig).is_err());
        assert!(!format!("{k:?}").contains(&format!("{:?}", pkcs8.expose())));
    }

    #[test]
    fn bad_pkcs8_is_refused() {
        assert_eq!(
            EcKeyPair::from_pkcs8(&SecretBytes::copy_from(b"nope")).unwrap_err(),
            KeyError::BadKey
        );
    }
}
