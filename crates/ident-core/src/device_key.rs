//! The device key: one P-256 key per push account, made on the device, that
//! signs request proofs and answers to login challenges.
//!
//! Proofs (`Ident-Proof` headers) are signed silently: the app must be able to
//! poll in the background. Answers — the approval or denial of a login — can only
//! be signed with a [`UserVerified`] token, so no code path can approve a login
//! without having asked the user first.
//!
//! On desktop the private key is PKCS#8 encrypted in the vault. On mobile the
//! vault key itself is wrapped by the platform key store; a later step moves the
//! device key into the Secure Enclave / Android Keystore behind the same API.

use serde::Serialize;

use crate::jose::{self, EcKeyPair, Jwk, JwsError, KeyError, Thumbprint};
use crate::ports::UserVerified;
use crate::secret::SecretBytes;

/// `typ` of a request proof.
pub const PROOF_TYP: &str = "ident-proof+jwt";
/// `typ` of an answer to a challenge.
pub const ANSWER_TYP: &str = "ident-answer+jwt";

/// A push account's device key.
#[derive(Debug)]
pub struct DeviceKey(EcKeyPair);

impl DeviceKey {
    /// Makes a new key. Returns it with its PKCS#8 encoding for the vault.
    pub fn generate() -> Result<(Self, SecretBytes), KeyError> {
        let (pair, pkcs8) = EcKeyPair::generate()?;
        Ok((Self(pair), pkcs8))
    }

    /// Loads a key from the PKCS#8 encoding the vault stored.
    pub fn from_pkcs8(pkcs8: &SecretBytes) -> Result<Self, KeyError> {
        EcKeyPair::from_pkcs8(pkcs8).map(Self)
    }

    /// The public key, as sent to the server at enrollment.
    pub fn public_jwk(&self) -> Jwk {
        self.0.public_jwk()
    }

    /// The public key's RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> Thumbprint {
        self.0.public_jwk().thumbprint()
    }

    /// Signs a request proof (`typ: ident-proof+jwt`). `kid` is the device id,
    /// absent only in the enrollment request, before the server has assigned one.
    pub fn sign_proof<C: Serialize>(
        &self,
        kid: Option<&str>,
        claims: &C,
    ) -> Result<String, JwsError> {
        jose::sign(&self.0, PROOF_TYP, kid, claims)
    }

    /// Signs an answer to a challenge (`typ: ident-answer+jwt`). Requires proof
    /// that the user was verified just now.
    pub fn sign_answer<C: Serialize>(
        &self,
        kid: &str,
        claims: &C,
        _verified: &UserVerified,
    ) -> Result<String, JwsError> {
        jose::sign(&self.0, ANSWER_TYP, Some(kid), claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{FixedVerifier, VerificationPrompt, verify_user};
    use serde_json::json;

    #[test]
    fn proofs_and_answers_verify_under_the_public_key() {
        let (key, pkcs8) = DeviceKey::generate().unwrap();
        let jwk = key.public_jwk();
        let proof = key.sign_proof(None, &json!({"htm": "POST"})).unwrap();
        assert!(jose::verify(&proof, &jwk, PROOF_TYP).is_ok());
        assert!(jose::verify(&proof, &jwk, ANSWER_TYP).is_err());

        let uv = verify_user(
            &FixedVerifier::approving(),
            &VerificationPrompt { reason: "t".into() },
        )
        .unwrap();
        let answer = key
            .sign_answer("dev1", &json!({"decision": "approve"}), &uv)
            .unwrap();
        let v = jose::verify(&answer, &jwk, ANSWER_TYP).unwrap();
        assert_eq!(v.header.kid.as_deref(), Some("dev1"));

        let reloaded = DeviceKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(reloaded.thumbprint(), key.thumbprint());
    }
}
