//! Fuzzes `otp::migration::parse` (Google Authenticator's
//! `otpauth-migration://` export) two ways: the input as URI text, and the
//! input as raw protobuf bytes wrapped in a well-formed URI, so the fuzzer
//! reaches the protobuf decoder without having to learn base64 first.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ident_core::otp::migration::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse(text);
    }
    let uri = format!("otpauth-migration://offline?data={}", STANDARD.encode(data));
    if let Ok(batch) = parse(&uri) {
        assert!(!batch.entries.is_empty() || !batch.skipped.is_empty());
    }
});
