//! Devices, enrollments and the proof replay window.

use super::StoreError;

/// Storage of devices: see the module docs.
pub trait DeviceStore {
    #[doc(hidden)]
    fn _devices_placeholder(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
