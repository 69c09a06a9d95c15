//! Types that carry secrets through the program.
//!
//! A secret must never end up in a log line, a panic message, `Debug` output or
//! the web view. These wrappers make that the default: their `Debug` prints a
//! redaction marker, they have no `Display`, they are not `Serialize`, and the
//! memory they own is overwritten when they are dropped. Code that needs the
//! bytes asks for them explicitly with `expose()`, which is easy to grep for.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Secret bytes: an OTP seed, a private key, a vault key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when the value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret. The caller stays responsible for its copy.
    pub fn copy_from(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes. Keep the borrow short and never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

/// A secret string: a PIN, a passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Takes ownership of `s`; it is zeroized when the value is dropped.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The secret text. Keep the borrow short and never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        Self::new(s.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([REDACTED])")
    }
}

/// A fixed-size secret key, e.g. the 32-byte vault key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey32(Box<[u8; 32]>);

impl SecretKey32 {
    /// Wraps `bytes`; they are zeroized when the value is dropped.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Box::new(bytes))
    }

    /// The key bytes. Keep the borrow short and never log it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for SecretKey32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let bytes = SecretBytes::copy_from(b"hunter2-secret");
        let text = SecretString::from("4711-pin");
        let key = SecretKey32::new([0xAB; 32]);
        let printed = format!("{bytes:?} {text:?} {key:?} {:#?}", (&bytes, &text, &key));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("4711"), "{printed}");
        assert!(!printed.to_lowercase().contains("ab, ab"), "{printed}");
        assert!(!printed.contains("171"), "{printed}");
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn expose_returns_the_secret() {
        assert_eq!(SecretBytes::copy_from(b"abc").expose(), b"abc");
        assert_eq!(SecretString::from("1234").expose(), "1234");
        assert_eq!(SecretKey32::new([7; 32]).expose(), &[7; 32]);
    }
}
