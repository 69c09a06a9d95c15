//! SQLite: login transactions, challenges, answers, denials and trusted browsers.

use super::SqliteStore;
use crate::store::AuthStore;

impl AuthStore for SqliteStore {}
