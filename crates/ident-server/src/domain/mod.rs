//! The service's vocabulary as parsed types.
//!
//! Everything that arrives over HTTP or the command line is parsed into one of
//! these at the edge; handlers and the store rely on their invariants.

pub mod interval;
pub mod login;
pub mod money;
pub mod phone;
pub mod role;

pub use interval::TwoFactorInterval;
pub use login::LoginName;
pub use money::{Cents, VatRate};
pub use phone::PhoneNumber;
pub use role::Role;
