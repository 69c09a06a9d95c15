//! SMS login codes, the SMS ledger and quarterly statements.

use super::StoreError;

/// Storage of sms: see the module docs.
pub trait SmsStore {
    #[doc(hidden)]
    fn _sms_placeholder(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
