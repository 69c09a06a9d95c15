//! Base64url without padding (RFC 4648 §5), the only encoding JOSE uses.
//!
//! Decoding is strict: padding, whitespace, characters of the standard alphabet
//! and non-zero trailing bits are all refused, so every byte string has exactly
//! one accepted encoding and a token cannot be altered without changing its
//! signed bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

/// The input was not canonical base64url without padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("not valid base64url")]
pub struct B64Error;

/// Encodes `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding.
pub fn decode(s: &str) -> Result<Vec<u8>, B64Error> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| B64Error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_vectors_in_url_alphabet() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn refuses_non_canonical_input() {
        for bad in ["Zg==", "Zm9v\n", "+/8", "Zh", "Z", "Zm9v Yg", "Zm9v="] {
            assert_eq!(decode(bad), Err(B64Error), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(s in ".{0,100}") {
            let _ = decode(&s);
        }
    }
}
