//! SQLite: devices, enrollments and the proof replay window.

use super::SqliteStore;
use crate::store::DeviceStore;

impl DeviceStore for SqliteStore {}
