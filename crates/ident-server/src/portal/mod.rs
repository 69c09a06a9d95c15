//! The reference portal: a platform login with Ident as its second factor, and
//! the broker's internal area (devices, 2FA interval, customers, mail, SMS costs).
//!
//! The portal is a relying party like any other: everything it knows about
//! users, devices, logins and SMS it asks the relying-party API for, over HTTP,
//! with its own API key and the `Ident-Actor` header naming the logged-in user.
//! It never reaches into [`crate::store`] or [`crate::services`]; its own data
//! (sessions, mail templates, the send log) lives in its own SQLite file.

pub mod mail;
