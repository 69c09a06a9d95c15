//! User verification before an answer is signed or an account removed.
//!
//! Desktop: the app PIN, sent with the command, is checked by opening the
//! vault with it — exactly as the `ident` CLI does. That goes through the
//! vault's wrong-PIN counter and back-off, so approving is no side door for
//! guessing PINs, and a wrong PIN is reported as the vault reports it
//! (`wrongPin` with the attempts left, `backOff`).
//!
//! Mobile: the biometric plugin's system prompt (FaceID, TouchID,
//! fingerprint, or the device credential). It is a yes/no answer from the
//! OS; it binds no key (see `keystore.rs` for the key-bound unlock).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ident_core::ports::{Clock, UserVerificationError, UserVerifier, VerificationPrompt};
use ident_core::secret::SecretString;
use ident_core::vault::{Vault, VaultError};

use crate::poller::lock;

/// Verifies the user by opening the vault with the PIN they typed.
pub struct PinVerifier {
    path: PathBuf,
    pin: SecretString,
    clock: Arc<dyn Clock>,
    error: Mutex<Option<VaultError>>,
}

impl PinVerifier {
    /// A verifier for the vault at `path` and the typed `pin`.
    pub fn new(path: &Path, pin: SecretString, clock: Arc<dyn Clock>) -> Self {
        Self {
            path: path.to_owned(),
            pin,
            clock,
            error: Mutex::new(None),
        }
    }

    /// The vault's reason for a failed check (wrong PIN, back-off), if any.
    pub fn vault_error(&self) -> Option<VaultError> {
        lock(&self.error).take()
    }
}

impl UserVerifier for PinVerifier {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<(), UserVerificationError> {
        match Vault::open(&self.path, &self.pin, self.clock.as_ref()) {
            Ok(_) => Ok(()),
            Err(e) => {
                *lock(&self.error) = Some(e);
                Err(UserVerificationError::Failed)
            }
        }
    }
}

/// The biometric prompt of tauri-plugin-biometric (Android, iOS).
#[cfg(mobile)]
pub struct BiometricVerifier<R: tauri::Runtime> {
    app: tauri::AppHandle<R>,
}

#[cfg(mobile)]
impl<R: tauri::Runtime> BiometricVerifier<R> {
    /// A verifier prompting through `app`'s biometric plugin.
    pub fn new(app: tauri::AppHandle<R>) -> Self {
        Self { app }
    }

    /// Whether the device can verify with biometrics now.
    pub fn available(&self) -> bool {
        use tauri_plugin_biometric::BiometricExt;
        self.app
            .biometric()
            .status()
            .map(|s| s.is_available)
            .unwrap_or(false)
    }
}

#[cfg(mobile)]
impl<R: tauri::Runtime> UserVerifier for BiometricVerifier<R> {
    fn verify(&self, prompt: &VerificationPrompt) -> Result<(), UserVerificationError> {
        use tauri_plugin_biometric::{AuthOptions, BiometricExt};
        let options = AuthOptions {
            // The device PIN counts as user verification (product rule 4).
            allow_device_credential: true,
            ..AuthOptions::default()
        };
        self.app
            .biometric()
            .authenticate(prompt.reason.clone(), options)
            .map_err(|_| UserVerificationError::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ident_core::ports::ManualClock;
    use ident_core::vault::KdfParams;

    #[test]
    fn pin_verifier_counts_wrong_pins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(1_750_000_000));
        Vault::create(
            &path,
            &SecretString::from("830571"),
            KdfParams::insecure_for_tests(),
            clock.as_ref(),
        )
        .unwrap();
        let prompt = VerificationPrompt { reason: "t".into() };
        let ok = PinVerifier::new(&path, SecretString::from("830571"), clock.clone());
        assert_eq!(ok.verify(&prompt), Ok(()));
        let bad = PinVerifier::new(&path, SecretString::from("000111"), clock.clone());
        assert_eq!(bad.verify(&prompt), Err(UserVerificationError::Failed));
        assert_eq!(
            bad.vault_error(),
            Some(VaultError::WrongPin { attempts_left: 9 })
        );
        assert_eq!(
            Vault::status(&path, clock.as_ref()).unwrap().attempts_left,
            9
        );
    }
}
