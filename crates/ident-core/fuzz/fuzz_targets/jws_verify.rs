//! Fuzzes `jose::verify` with arbitrary token text under a fixed public key.
//! No input can carry a valid signature, so this exercises the splitting,
//! base64url, header and signature-length checks that run before (and
//! around) ring's ECDSA verification, which must refuse everything.
#![no_main]

use ident_core::jose::{Jwk, verify};
use libfuzzer_sys::fuzz_target;

/// The P-256 base point G as an uncompressed SEC1 point: a valid public key
/// whose private key (1) is public, used here only as a fixed verifying key.
const G: [u8; 65] = [
    0x04, // uncompressed
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = Jwk::from_uncompressed(&G) else {
        return;
    };
    for typ in ["ident-challenge+jwt", "ident-answer+jwt"] {
        let verified = verify(token, &key, typ);
        assert!(verified.is_err(), "a forged token verified");
    }
});
