//! The Ident authenticator's brain: everything the app does that is not UI or
//! platform.
//!
//! The crate is plain Rust. Whatever touches the outside world — the clock, the
//! network, the platform key store, biometrics, notifications — comes in through
//! a port (a trait in [`ports`]) so that the Tauri shell, the uniffi bindings and
//! the `ident` CLI plug in their own implementations and tests use the in-memory
//! ones. The one exception is the vault file itself, which is SQLite on every
//! platform.
//!
//! Map of the crate:
//! - [`secret`]: types that hold secrets (redacted `Debug`, zeroized on drop).
//! - [`ports`]: the platform traits and their in-memory implementations.
//! - [`otp`]: HOTP/TOTP and the `otpauth://` / Google Authenticator import parsers.
//! - [`jose`]: base64url, JWK (P-256) and JWS ES256, strict.
//! - [`device_key`]: the per-account P-256 key that answers challenges.
//! - [`account`]: what an account is (OTP or push) and its identifiers.
//! - [`vault`]: the encrypted SQLite vault: PIN, lockout, accounts, secrets.
//! - [`enroll_link`]: the `ident://enroll` QR payload and its `https` link form.
//! - [`protocol`]: the push protocol client (enroll, challenges, answers, proofs).
//! - [`authenticator`]: the operations that combine vault and client, shared by
//!   the CLI, the app and the bindings.
//! - [`export`]: the passphrase-encrypted export file (`docs/export.md`).

pub mod account;
pub mod authenticator;
pub mod device_key;
pub mod enroll_link;
pub mod export;
pub mod jose;
pub mod otp;
pub mod ports;
pub mod protocol;
pub mod secret;
pub mod vault;
