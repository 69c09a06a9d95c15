//! SQLite: sMS login codes, the SMS ledger and quarterly statements.

use super::SqliteStore;
use crate::store::SmsStore;

impl SmsStore for SqliteStore {}
