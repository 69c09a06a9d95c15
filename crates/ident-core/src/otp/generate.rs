//! TODO: HOTP/TOTP generation.
use super::{OtpParams, OtpSecret};
use crate::ports::UnixTime;

/// A generated code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode(pub String);

/// HOTP.
pub fn hotp(_secret: &OtpSecret, _params: &OtpParams, _counter: u64) -> OtpCode {
    unimplemented!()
}

/// TOTP.
pub fn totp(_secret: &OtpSecret, _params: &OtpParams, _now: UnixTime) -> OtpCode {
    unimplemented!()
}
