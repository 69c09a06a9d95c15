//! Helpers shared by the vault integration tests.
// Test helpers may panic on a broken set-up, like the tests that call them.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use ident_core::account::{DeviceId, PushAccount, ServerUrl};
use ident_core::device_key::DeviceKey;
use ident_core::jose::EcKeyPair;
use ident_core::otp::{Algorithm, Digits, OtpEntry, OtpKind, OtpParams, OtpSecret, Period};
use ident_core::ports::ManualClock;
use ident_core::secret::{SecretBytes, SecretString};
use ident_core::vault::{KdfParams, Vault};

/// The RFC 4226 / RFC 6238 SHA-1 test secret.
pub const RFC_SECRET: &[u8] = b"12345678901234567890";

pub fn pin(s: &str) -> SecretString {
    SecretString::from(s)
}

pub fn cheap() -> KdfParams {
    KdfParams::insecure_for_tests()
}

pub fn clock() -> ManualClock {
    ManualClock::at(1_750_000_000)
}

pub struct TempVault {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn temp_path() -> TempVault {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    TempVault { dir, path }
}

pub fn new_vault(p: &str) -> (TempVault, Vault, ManualClock) {
    let t = temp_path();
    let c = clock();
    let v = Vault::create(&t.path, &pin(p), cheap(), &c).unwrap();
    (t, v, c)
}

pub fn totp_entry(label: &str, issuer: Option<&str>, secret: &[u8], digits: u8) -> OtpEntry {
    OtpEntry {
        issuer: issuer.map(str::to_owned),
        label: label.to_owned(),
        secret: OtpSecret::from_bytes(SecretBytes::copy_from(secret)).unwrap(),
        params: OtpParams {
            algorithm: Algorithm::Sha1,
            digits: Digits::new(digits).unwrap(),
            kind: OtpKind::Totp {
                period: Period::THIRTY,
            },
        },
    }
}

pub fn hotp_entry(label: &str, secret: &[u8], counter: u64) -> OtpEntry {
    OtpEntry {
        issuer: None,
        label: label.to_owned(),
        secret: OtpSecret::from_bytes(SecretBytes::copy_from(secret)).unwrap(),
        params: OtpParams {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            kind: OtpKind::Hotp { counter },
        },
    }
}

/// A push account with a fresh device key: (details, PKCS#8).
pub fn push_account(server: &str, device: &str, login: &str) -> (PushAccount, SecretBytes) {
    let (device_key, pkcs8) = DeviceKey::generate().unwrap();
    let (server_key, _) = EcKeyPair::generate().unwrap();
    let push = PushAccount {
        server: ServerUrl::parse(server).unwrap(),
        device_id: DeviceId::parse(device).unwrap(),
        login: login.to_owned(),
        server_jwk: server_key.public_jwk(),
        device_jwk: device_key.public_jwk(),
    };
    (push, pkcs8)
}

pub fn names(v: &Vault) -> Vec<String> {
    v.accounts().iter().map(|a| a.name.clone()).collect()
}
