//! Fuzzes `otp::uri::parse` (the `otpauth://` QR payload) and checks that
//! whatever it accepts survives a round trip through `to_uri`.
#![no_main]

use ident_core::otp::uri::{parse, to_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entry) = parse(text) {
        let again = parse(to_uri(&entry).expose());
        assert_eq!(again.as_ref(), Ok(&entry), "round trip changed the entry");
    }
});
