//! User verification: biometrics or a PIN, before anything is signed.
//!
//! Signing an answer to a login requires a [`UserVerified`] token, and the only
//! way to get one is [`verify_user`], which asks the host's [`UserVerifier`]. The
//! type system therefore guarantees that no approval is signed without the
//! user having been asked.

use thiserror::Error;

/// What the user is asked to confirm, shown in the biometric prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationPrompt {
    /// A short sentence for the prompt, e.g. "Anmeldung bei Beispiel-Bank bestätigen".
    pub reason: String,
}

/// Why the user could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UserVerificationError {
    /// The user cancelled the prompt.
    #[error("the user cancelled the verification")]
    Cancelled,
    /// Biometrics did not match or the PIN was wrong.
    #[error("the user could not be verified")]
    Failed,
    /// The device offers no verification method (no biometrics enrolled, no PIN set).
    #[error("this device has no way to verify the user: {0}")]
    Unavailable(String),
}

/// The host's way of verifying the user: a biometric prompt, the device PIN, or
/// the app PIN on desktop.
pub trait UserVerifier: Send + Sync {
    /// Asks the user; `Ok(())` only if they were verified just now.
    fn verify(&self, prompt: &VerificationPrompt) -> Result<(), UserVerificationError>;
}

/// Proof that the user was verified. Only [`verify_user`] makes one.
#[derive(Debug)]
pub struct UserVerified {
    _private: (),
}

/// Asks `verifier` and, if the user is verified, returns the token that signing
/// requires.
pub fn verify_user(
    verifier: &dyn UserVerifier,
    prompt: &VerificationPrompt,
) -> Result<UserVerified, UserVerificationError> {
    verifier.verify(prompt)?;
    Ok(UserVerified { _private: () })
}

/// A verifier for tests that always gives the same answer and counts how often
/// it was asked.
#[derive(Debug)]
pub struct FixedVerifier {
    answer: Result<(), UserVerificationError>,
    asked: std::sync::atomic::AtomicUsize,
}

impl FixedVerifier {
    /// A verifier that always says yes.
    pub fn approving() -> Self {
        Self::answering(Ok(()))
    }

    /// A verifier that always refuses with `err`.
    pub fn refusing(err: UserVerificationError) -> Self {
        Self::answering(Err(err))
    }

    fn answering(answer: Result<(), UserVerificationError>) -> Self {
        Self {
            answer,
            asked: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many times the user was asked.
    pub fn times_asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl UserVerifier for FixedVerifier {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<(), UserVerificationError> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.answer.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> VerificationPrompt {
        VerificationPrompt {
            reason: "test".into(),
        }
    }

    #[test]
    fn token_only_when_verifier_agrees() {
        let yes = FixedVerifier::approving();
        assert!(verify_user(&yes, &prompt()).is_ok());
        let no = FixedVerifier::refusing(UserVerificationError::Cancelled);
        assert_eq!(
            verify_user(&no, &prompt()).unwrap_err(),
            UserVerificationError::Cancelled
        );
        assert_eq!(yes.times_asked(), 1);
        assert_eq!(no.times_asked(), 1);
    }
}
