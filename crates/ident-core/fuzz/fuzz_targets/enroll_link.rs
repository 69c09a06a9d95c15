//! Fuzzes `EnrollLink::parse`, the enrollment QR code / link parser.
#![no_main]

use ident_core::enroll_link::EnrollLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = EnrollLink::parse(text);
    }
});
