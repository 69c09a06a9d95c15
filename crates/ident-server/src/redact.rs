//! What `Debug` shows of a secret: that it is there, never what it is.
//!
//! Codes, trust tokens and push tokens sit in plain `String`s where serde and
//! the store need them; the types that carry them implement `Debug` by hand
//! and show such fields through [`optional`].

/// `Some([REDACTED])` or `None`, for `f.field(name, &optional(..))`.
pub fn optional(secret: Option<&String>) -> std::fmt::Arguments<'static> {
    if secret.is_some() {
        format_args!("Some([REDACTED])")
    } else {
        format_args!("None")
    }
}
