//! The platform key store that wraps the vault key for biometric unlock.
//!
//! Desktop has none: [`platform_keystore`] returns `None`, the status says
//! `biometricAvailable: false`, and the vault opens with the app PIN only.
//!
//! Mobile needs native code that this workspace cannot build (no Android
//! NDK/Gradle, no Xcode). [`NativeKeyStore`] is the Rust half: it forwards
//! `wrap`, `unwrap` and `delete` to a mobile plugin named `identKeystore`,
//! which the `android/` and `ios/` glue must provide:
//!
//! - **Android** (Kotlin, `app.tauri.plugin.Plugin`): an AES-256-GCM key in
//!   the Android Keystore under `alias`, created with
//!   `setUserAuthenticationRequired(true)`,
//!   `setInvalidatedByBiometricEnrollment(true)` and, where available,
//!   `setIsStrongBoxBacked(true)`; `wrap` encrypts after a `BiometricPrompt`
//!   with a `CryptoObject` (so the key is usable only after the user
//!   authenticated), returning `iv ‖ ciphertext` base64; `unwrap` reverses it;
//!   `delete` removes the key. Errors: user cancel → `"notVerified"`,
//!   `KeyPermanentlyInvalidatedException` / missing key → `"keyLost"`,
//!   `AEADBadTagException` → `"corrupt"`.
//!   (tauri-plugin-biometric 2.5's Android-only `biometric_cipher` does the
//!   encryption half of this and may serve as the starting point.)
//! - **iOS** (Swift): a P-256 key in the Secure Enclave
//!   (`kSecAttrTokenIDSecureEnclave`, access control
//!   `.biometryCurrentSet` + `.privateKeyUsage`, `WhenUnlockedThisDeviceOnly`)
//!   under the tag `alias`; `wrap` uses
//!   `SecKeyCreateEncryptedData(.eciesEncryptionCofactorVariableIVX963SHA256AESGCM)`
//!   with the public key, `unwrap` `SecKeyCreateDecryptedData` (which shows
//!   the FaceID/TouchID prompt), `delete` `SecItemDelete`; the same error
//!   strings.
//!
//! Until that plugin exists, every call fails with a platform error and
//! `biometricAvailable` stays false on mobile too.

use std::sync::Arc;

use ident_core::ports::KeyStore;
#[cfg(mobile)]
use ident_core::ports::KeyStoreError;
#[cfg(mobile)]
use ident_core::secret::SecretBytes;

/// The key store of this platform: `None` on desktop.
#[cfg(desktop)]
pub fn platform_keystore<R: tauri::Runtime>(
    _app: &tauri::AppHandle<R>,
) -> Option<Arc<dyn KeyStore>> {
    None
}

/// The key store of this platform: the native plugin on mobile, once it is
/// registered (see the module docs); `None` until then.
#[cfg(mobile)]
pub fn platform_keystore<R: tauri::Runtime>(
    _app: &tauri::AppHandle<R>,
) -> Option<Arc<dyn KeyStore>> {
    // Return Some(Arc::new(NativeKeyStore::new(handle))) once the native
    // `identKeystore` plugin is registered with
    // `register_android_plugin("de.ident.authenticator", "KeystorePlugin")` /
    // `register_ios_plugin(init_plugin_ident_keystore)`.
    None
}

/// The Rust half of the native key store plugin (mobile only).
#[cfg(mobile)]
pub struct NativeKeyStore<R: tauri::Runtime> {
    handle: tauri::plugin::PluginHandle<R>,
}

#[cfg(mobile)]
impl<R: tauri::Runtime> NativeKeyStore<R> {
    /// Wraps the registered plugin handle.
    pub fn new(handle: tauri::plugin::PluginHandle<R>) -> Self {
        Self { handle }
    }

    fn call(
        &self,
        method: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, KeyStoreError> {
        self.handle
            .run_mobile_plugin::<serde_json::Value>(method, args)
            .map_err(|e| match e.to_string().as_str() {
                s if s.contains("notVerified") => KeyStoreError::NotVerified,
                s if s.contains("keyLost") => KeyStoreError::KeyLost,
                s if s.contains("corrupt") => KeyStoreError::Corrupt,
                _ => KeyStoreError::Platform("native key store".into()),
            })
    }
}

#[cfg(mobile)]
impl<R: tauri::Runtime> KeyStore for NativeKeyStore<R> {
    fn wrap(&self, alias: &str, secret: &SecretBytes) -> Result<Vec<u8>, KeyStoreError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let plain = zeroize::Zeroizing::new(b64.encode(secret.expose()));
        let out = self.call(
            "wrap",
            serde_json::json!({"alias": alias, "data": plain.as_str()}),
        )?;
        let s = out
            .get("data")
            .and_then(|v| v.as_str())
            .ok_or(KeyStoreError::Corrupt)?;
        b64.decode(s).map_err(|_| KeyStoreError::Corrupt)
    }

    fn unwrap(&self, alias: &str, wrapped: &[u8]) -> Result<SecretBytes, KeyStoreError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let out = self.call(
            "unwrap",
            serde_json::json!({"alias": alias, "data": b64.encode(wrapped)}),
        )?;
        let s = out
            .get("data")
            .and_then(|v| v.as_str())
            .ok_or(KeyStoreError::Corrupt)?;
        b64.decode(s)
            .map(SecretBytes::new)
            .map_err(|_| KeyStoreError::Corrupt)
    }

    fn delete(&self, alias: &str) -> Result<(), KeyStoreError> {
        self.call("delete", serde_json::json!({"alias": alias}))
            .map(|_| ())
    }
}
