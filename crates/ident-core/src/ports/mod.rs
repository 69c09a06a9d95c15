//! Ports: the traits through which the core reaches the platform.
//!
//! The core never reads the system clock, opens a socket, touches a key store,
//! shows a biometric prompt or posts a notification by itself. It calls one of
//! these traits, and each host supplies an implementation: the Tauri shell
//! (biometric plugin, Android Keystore / Secure Enclave), the uniffi bindings,
//! the `ident` CLI (PIN prompt, reqwest) and the tests (the in-memory
//! implementations in this module). This keeps the core deterministic under
//! test and lets every platform decide how it does I/O.

pub mod clock;
pub mod http;
pub mod keystore;
pub mod notifier;
#[cfg(feature = "reqwest-transport")]
pub mod reqwest_transport;
pub mod verifier;

pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use http::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
pub use keystore::{KeyStore, KeyStoreError, MemoryKeyStore};
pub use notifier::{MemoryNotifier, Notification, Notifier};
#[cfg(feature = "reqwest-transport")]
pub use reqwest_transport::ReqwestTransport;
pub use verifier::{
    FixedVerifier, UserVerificationError, UserVerified, UserVerifier, VerificationPrompt,
    verify_user,
};
