//! The service's rules, between the routes (HTTP) and the store (SQL).
//!
//! Routes parse requests and render responses; the decisions — may this user
//! enroll, is this answer accepted, does this SMS get sent and charged — are
//! made here, once, and tested without HTTP.

pub mod auth;
pub mod authz;
pub mod enroll;
pub mod ledger;
pub mod retention;
pub mod sms;
pub mod trust;
