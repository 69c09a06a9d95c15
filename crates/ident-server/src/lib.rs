//! The Ident reference identity service.
//!
//! Portals (relying parties) call it to put a second factor in front of their
//! logins; the Ident app (devices) enrolls with it and answers its challenges.
//! The crate is an axum application over a storage trait, with SQLite as the
//! embedded default.
//!
//! Map of the crate:
//! - [`admin`]: bootstrap operations (API keys, users) for the command line.
//! - [`password`]: Argon2id password hashes.
//! - [`config`]: settings from file, `IDENT_*` environment and flags.
//! - [`startup`]: builds the router and runs the server with graceful shutdown.
//! - [`telemetry`]: structured logs.
//! - [`state`]: what every handler shares (store, keys, gateways, wake-ups).
//! - [`problem`]: RFC 9457 problem+json errors with stable type slugs.
//! - [`domain`]: parsed types: login names, roles, phone numbers, intervals, money.
//! - [`store`]: the storage trait and its SQLite implementation.
//! - [`group_commit`]: the store thread that lets concurrent requests share commits.
//! - [`routes`]: the HTTP API — health, device API, relying-party API.
//! - [`portal`]: the reference portal (login pages, internal area), a client of the API.

pub mod admin;
pub mod config;
pub mod domain;
pub mod group_commit;
pub mod password;
pub mod portal;
pub mod problem;
pub mod push;
pub mod redact;
pub mod routes;
pub mod services;
pub mod sms_gateway;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod wakeup;
