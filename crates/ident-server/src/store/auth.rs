//! Login transactions, challenges, answers, denials and trusted browsers.

use super::StoreError;

/// Storage of auth: see the module docs.
pub trait AuthStore {
    #[doc(hidden)]
    fn _auth_placeholder(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
