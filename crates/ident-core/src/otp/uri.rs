//! The Key URI Format (`otpauth://totp/Issuer:alice?secret=…`), the QR code
//! payload with which practically every service hands out an OTP account.
//!
//! The text comes from a camera, a pasted link or an image file, so it is
//! untrusted: [`parse`] caps its length, never panics, and turns it into an
//! [`OtpEntry`] or an [`OtpUriError`] that says in a plain sentence what is
//! wrong (and never repeats the secret). [`to_uri`] is the inverse, for export;
//! its output contains the secret and is therefore a [`SecretString`].
//!
//! The format has no formal specification beyond Google Authenticator's wiki
//! page, and generators differ. The choices made here:
//! - The scheme and the type (`totp`/`hotp`) are case-insensitive; parameter
//!   names too. Unknown parameters (`image`, `color`, …) are ignored; a known
//!   parameter given twice is refused, because which one wins is ambiguous.
//! - The label is `account` or `Issuer:account`, the colon literal or `%3A`,
//!   optionally followed by spaces. When an `issuer` parameter exists it wins
//!   over the label prefix, also when the two disagree.
//! - Percent-encoding is decoded in the label and in every value. A `+` is a
//!   literal plus sign everywhere (this is RFC 3986, not an HTML form), so
//!   `issuer=A+B` is the issuer "A+B"; write a space as `%20`.
//! - The secret is base32 (RFC 4648), case-insensitive, with or without `=`
//!   padding, spaces ignored; unused trailing bits are ignored.
//! - Defaults: SHA1, 6 digits, 30 seconds. HOTP requires `counter`.
//! - A fragment (`#…`) is ignored.
//! - The issuer and the account name are at most [`MAX_NAME_LEN`] bytes each
//!   and contain no control characters (a newline or NUL in a name is never
//!   intended and breaks displays). With the secret capped at
//!   [`OtpSecret::MAX_LEN`], this guarantees that [`to_uri`] of every parsed
//!   entry fits in [`MAX_URI_LEN`] again, so an export can always be
//!   re-imported.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use thiserror::Error;
use zeroize::Zeroizing;

use super::{Algorithm, Digits, OtpEntry, OtpKind, OtpParamError, OtpParams, OtpSecret, Period};
use crate::secret::{SecretBytes, SecretString};

/// The longest URI accepted, in bytes (4 KiB); anything longer is refused
/// unread. Real ones are well under 300.
pub const MAX_URI_LEN: usize = 4096;

/// The longest issuer or account name accepted, in bytes (UTF-8).
pub const MAX_NAME_LEN: usize = 256;

/// Why an `otpauth://` URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OtpUriError {
    /// Longer than [`MAX_URI_LEN`].
    #[error("the text is too long to be an otpauth:// URI")]
    TooLong,
    /// Not `otpauth://…`.
    #[error("the text is not an otpauth:// URI")]
    NotOtpauth,
    /// An `otpauth-migration://` export, which [`super::migration`] reads.
    #[error(
        "this is a Google Authenticator export (otpauth-migration://), not a single account; import it as an export"
    )]
    MigrationExport,
    /// The type is neither `totp` nor `hotp`.
    #[error("the OTP type must be totp or hotp")]
    UnknownType,
    /// No account name in the label.
    #[error("the account name is missing")]
    EmptyLabel,
    /// The label or a value is not UTF-8 after percent-decoding.
    #[error("the account name or a parameter is not valid text")]
    Encoding,
    /// The issuer or account name is longer than [`MAX_NAME_LEN`].
    #[error("the account name or issuer is too long")]
    NameTooLong,
    /// The issuer or account name contains a control character.
    #[error("the account name or issuer contains control characters")]
    ControlCharacter,
    /// No `secret` parameter.
    #[error("the secret is missing")]
    MissingSecret,
    /// A `secret` parameter without a value.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is not base32.
    #[error("the secret is not valid base32")]
    InvalidSecret,
    /// The secret decodes to more than [`OtpSecret::MAX_LEN`] bytes.
    #[error("the secret is too long")]
    SecretTooLong,
    /// An `algorithm` other than SHA1, SHA256 or SHA512.
    #[error("the algorithm must be SHA1, SHA256 or SHA512")]
    Algorithm,
    /// `digits` is not 6, 7 or 8.
    #[error("the number of digits must be 6, 7 or 8")]
    Digits,
    /// `period` is not a whole number from 1 to 3600.
    #[error("the period must be a whole number of seconds from 1 to 3600")]
    Period,
    /// An HOTP URI without `counter`.
    #[error("an HOTP account needs a counter")]
    MissingCounter,
    /// `counter` is not a whole number that fits in 64 bits.
    #[error("the counter must be a whole number from 0 to 18446744073709551615")]
    Counter,
    /// A known parameter appears more than once.
    #[error("the parameter {0} appears more than once")]
    DuplicateParameter(&'static str),
}

/// Parses an `otpauth://totp/…` or `otpauth://hotp/…` URI into an account.
///
/// Surrounding whitespace (a newline from a QR scanner) is ignored. See the
/// module documentation for the exact rules.
pub fn parse(uri: &str) -> Result<OtpEntry, OtpUriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(OtpUriError::TooLong);
    }
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once("://").ok_or(OtpUriError::NotOtpauth)?;
    if scheme.eq_ignore_ascii_case("otpauth-migration") {
        return Err(OtpUriError::MigrationExport);
    }
    if !scheme.eq_ignore_ascii_case("otpauth") {
        return Err(OtpUriError::NotOtpauth);
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let is_hotp = if kind.eq_ignore_ascii_case("totp") {
        false
    } else if kind.eq_ignore_ascii_case("hotp") {
        true
    } else {
        return Err(OtpUriError::UnknownType);
    };

    let q = Query::parse(query)?;

    let label = decode_text(raw_label)?;
    let issuer_param = match q.issuer {
        Some(raw) => Some(decode_text(raw)?),
        None => None,
    };
    let (issuer, account) = split_label(&label, issuer_param.as_deref());
    if account.is_empty() {
        return Err(OtpUriError::EmptyLabel);
    }
    for name in issuer.iter().chain([&account]) {
        check_name(name)?;
    }

    let secret = decode_secret(q.secret.ok_or(OtpUriError::MissingSecret)?)?;
    let algorithm = match q.algorithm {
        None => Algorithm::Sha1,
        Some(raw) => parse_algorithm(raw)?,
    };
    let digits = match q.digits {
        None => Digits::SIX,
        Some(raw) => parse_number(raw)
            .and_then(|n| u8::try_from(n).ok())
            .and_then(|n| Digits::new(n).ok())
            .ok_or(OtpUriError::Digits)?,
    };
    let kind = if is_hotp {
        let raw = q.counter.ok_or(OtpUriError::MissingCounter)?;
        let counter = parse_number(raw).ok_or(OtpUriError::Counter)?;
        OtpKind::Hotp { counter }
    } else {
        let period = match q.period {
            None => Period::THIRTY,
            Some(raw) => parse_number(raw)
                .and_then(|n| u32::try_from(n).ok())
                .and_then(|n| Period::new(n).ok())
                .ok_or(OtpUriError::Period)?,
        };
        OtpKind::Totp { period }
    };

    Ok(OtpEntry {
        issuer,
        label: account,
        secret,
        params: OtpParams {
            algorithm,
            digits,
            kind,
        },
    })
}

/// Writes `entry` as an `otpauth://` URI that [`parse`] reads back to the same
/// entry. Every parameter is explicit (no reliance on defaults); the issuer is
/// both the label prefix and the `issuer` parameter, as Google recommends; the
/// secret is unpadded upper-case base32.
///
/// An account name containing a colon without an issuer gets an empty prefix
/// (`otpauth://totp/:a%3Ab?…`) so that it is not mistaken for `Issuer:account`.
/// Names are written as they are; [`parse`] trims surrounding whitespace.
/// For every entry that [`parse`] or the migration import produced, the URI is
/// at most [`MAX_URI_LEN`] bytes; an entry built elsewhere with names longer
/// than [`MAX_NAME_LEN`] or with control characters yields a URI that
/// [`parse`] refuses.
pub fn to_uri(entry: &OtpEntry) -> SecretString {
    let issuer = entry.issuer.as_deref().filter(|i| !i.is_empty());
    let secret = entry.secret.expose();
    // Reserve an upper bound up front: the buffer holds the secret, and a
    // reallocation would leave an unzeroized copy behind.
    let capacity = 160
        + 3 * (2 * issuer.map_or(0, str::len) + entry.label.len())
        + data_encoding::BASE32_NOPAD.encode_len(secret.len());
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    out.push_str("otpauth://");
    out.push_str(match entry.params.kind {
        OtpKind::Totp { .. } => "totp/",
        OtpKind::Hotp { .. } => "hotp/",
    });
    match issuer {
        Some(issuer) => {
            out.extend(utf8_percent_encode(issuer, COMPONENT));
            out.push(':');
        }
        None if entry.label.contains(':') => out.push(':'),
        None => {}
    }
    out.extend(utf8_percent_encode(&entry.label, COMPONENT));
    out.push_str("?secret=");
    data_encoding::BASE32_NOPAD.encode_append(secret, &mut out);
    if let Some(issuer) = issuer {
        out.push_str("&issuer=");
        out.extend(utf8_percent_encode(issuer, COMPONENT));
    }
    out.push_str("&algorithm=");
    out.push_str(match entry.params.algorithm {
        Algorithm::Sha1 => "SHA1",
        Algorithm::Sha256 => "SHA256",
        Algorithm::Sha512 => "SHA512",
    });
    push_display(&mut out, "&digits=", entry.params.digits.get());
    match entry.params.kind {
        OtpKind::Totp { period } => push_display(&mut out, "&period=", period.get()),
        OtpKind::Hotp { counter } => push_display(&mut out, "&counter=", counter),
    }
    SecretString::new(std::mem::take(&mut *out))
}

/// Splits a decoded label into (issuer, account name), both trimmed.
///
/// With an issuer parameter, a label prefix equal to it is removed (so an
/// issuer that itself contains a colon works); any other `prefix:` is dropped
/// in favour of the parameter. Without one, the text before the first colon
/// is the issuer (none if it is empty). Shared with the migration import,
/// whose account names follow the same convention.
pub(crate) fn split_label(label: &str, issuer_param: Option<&str>) -> (Option<String>, String) {
    let issuer_param = issuer_param.map(str::trim).filter(|i| !i.is_empty());
    if let Some(issuer) = issuer_param {
        if let Some(account) = label
            .trim_start()
            .strip_prefix(issuer)
            .and_then(|rest| rest.strip_prefix(':'))
        {
            return (Some(issuer.to_owned()), account.trim().to_owned());
        }
    }
    let (prefix, account) = match label.split_once(':') {
        Some((prefix, account)) => (Some(prefix.trim()).filter(|p| !p.is_empty()), account),
        None => (None, label),
    };
    let issuer = issuer_param.or(prefix).map(str::to_owned);
    (issuer, account.trim().to_owned())
}

/// Checks the length and characters of an issuer or account name.
pub(crate) fn check_name(name: &str) -> Result<(), OtpUriError> {
    if name.len() > MAX_NAME_LEN {
        Err(OtpUriError::NameTooLong)
    } else if name.chars().any(char::is_control) {
        Err(OtpUriError::ControlCharacter)
    } else {
        Ok(())
    }
}

/// RFC 3986 unreserved characters stay as they are; everything else is
/// percent-encoded (including `:`, `/`, `?`, `&`, `=`, `+`, `%` and spaces).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The raw (still percent-encoded) values of the parameters Ident reads.
#[derive(Default)]
struct Query<'a> {
    secret: Option<&'a str>,
    issuer: Option<&'a str>,
    algorithm: Option<&'a str>,
    digits: Option<&'a str>,
    period: Option<&'a str>,
    counter: Option<&'a str>,
}

impl<'a> Query<'a> {
    fn parse(query: &'a str) -> Result<Self, OtpUriError> {
        let mut q = Query::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (slot, name) = if key.eq_ignore_ascii_case("secret") {
                (&mut q.secret, "secret")
            } else if key.eq_ignore_ascii_case("issuer") {
                (&mut q.issuer, "issuer")
            } else if key.eq_ignore_ascii_case("algorithm") {
                (&mut q.algorithm, "algorithm")
            } else if key.eq_ignore_ascii_case("digits") {
                (&mut q.digits, "digits")
            } else if key.eq_ignore_ascii_case("period") {
                (&mut q.period, "period")
            } else if key.eq_ignore_ascii_case("counter") {
                (&mut q.counter, "counter")
            } else {
                continue;
            };
            if slot.replace(value).is_some() {
                return Err(OtpUriError::DuplicateParameter(name));
            }
        }
        Ok(q)
    }
}

/// Percent-decodes `raw` as UTF-8 text. `+` stays a plus sign.
fn decode_text(raw: &str) -> Result<String, OtpUriError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| OtpUriError::Encoding)
}

/// Percent-decodes and base32-decodes the secret, keeping every intermediate
/// copy in zeroized memory.
fn decode_secret(raw: &str) -> Result<OtpSecret, OtpUriError> {
    // Percent-decoding only shrinks, so this never reallocates.
    let mut text = Zeroizing::new(Vec::with_capacity(raw.len()));
    text.extend(percent_decode_str(raw));
    let bytes = decode_base32(&text)?;
    OtpSecret::from_bytes(bytes).map_err(|e| match e {
        OtpParamError::SecretTooLong(_) => OtpUriError::SecretTooLong,
        _ => OtpUriError::EmptySecret,
    })
}

/// Lenient RFC 4648 base32: either case, whitespace anywhere, optional `=`
/// padding at the end (any amount), unused trailing bits ignored. A length
/// that cannot come from whole bytes (1, 3 or 6 characters in the last group)
/// is refused.
pub(crate) fn decode_base32(text: &[u8]) -> Result<SecretBytes, OtpUriError> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 8 * 5 + 5));
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    let mut symbols: usize = 0;
    let mut padding = false;
    for &c in text {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            b'=' => {
                padding = true;
                continue;
            }
            c if c.is_ascii_whitespace() => continue,
            _ => return Err(OtpUriError::InvalidSecret),
        };
        if padding {
            return Err(OtpUriError::InvalidSecret);
        }
        symbols += 1;
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if symbols == 0 {
        return Err(OtpUriError::EmptySecret);
    }
    if matches!(symbols % 8, 1 | 3 | 6) {
        return Err(OtpUriError::InvalidSecret);
    }
    Ok(SecretBytes::new(std::mem::take(&mut *out)))
}

fn parse_algorithm(raw: &str) -> Result<Algorithm, OtpUriError> {
    let name = percent_decode_str(raw).decode_utf8_lossy();
    if name.eq_ignore_ascii_case("SHA1") {
        Ok(Algorithm::Sha1)
    } else if name.eq_ignore_ascii_case("SHA256") {
        Ok(Algorithm::Sha256)
    } else if name.eq_ignore_ascii_case("SHA512") {
        Ok(Algorithm::Sha512)
    } else {
        Err(OtpUriError::Algorithm)
    }
}

/// A non-negative decimal number: ASCII digits only (no sign, no spaces, no
/// exponent), leading zeros allowed, at most `u64::MAX`.
fn parse_number(raw: &str) -> Option<u64> {
    let text = percent_decode_str(raw).decode_utf8().ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn push_display(out: &mut String, prefix: &str, value: impl std::fmt::Display) {
    out.push_str(prefix);
    // Writing to a String cannot fail.
    let _ = std::fmt::Write::write_fmt(out, format_args!("{value}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET_BYTES: &[u8] = b"Hello!\xde\xad\xbe\xef";

    fn ok(uri: &str) -> OtpEntry {
        parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"))
    }

    fn err(uri: &str) -> OtpUriError {
        match parse(uri) {
            Ok(entry) => panic!("{uri} parsed as {entry:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn google_example_with_all_defaults() {
        let e =
            ok("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
        assert_eq!(e.issuer.as_deref(), Some("Example"));
        assert_eq!(e.label, "alice@google.com");
        assert_eq!(e.secret.expose(), SECRET_BYTES);
        assert_eq!(e.params, OtpParams::default());
    }

    #[test]
    fn every_parameter_is_read() {
        let e = ok(
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\
             &issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60",
        );
        assert_eq!(e.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(e.label, "john.doe@email.com");
        assert_eq!(e.secret.expose().len(), 20);
        assert_eq!(e.params.algorithm, Algorithm::Sha512);
        assert_eq!(e.params.digits.get(), 8);
        assert_eq!(
            e.params.kind,
            OtpKind::Totp {
                period: Period::new(60).unwrap()
            }
        );

        let e = ok(
            "otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615&digits=7&algorithm=sha256",
        );
        assert_eq!(e.issuer, None);
        assert_eq!(e.params.kind, OtpKind::Hotp { counter: u64::MAX });
        assert_eq!(e.params.digits.get(), 7);
        assert_eq!(e.params.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn issuer_prefix_forms() {
        for uri in [
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/GitHub%3Aalice?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/GitHub%3aalice?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/GitHub:%20%20alice?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/GitHub%3A%20alice?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
            "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        ] {
            let e = ok(uri);
            assert_eq!(e.issuer.as_deref(), Some("GitHub"), "{uri}");
            assert_eq!(e.label, "alice", "{uri}");
        }
    }

    #[test]
    fn issuer_parameter_wins_over_a_different_prefix() {
        let e = ok("otpauth://totp/Old%20Name:alice?secret=JBSWY3DPEHPK3PXP&issuer=New%20Name");
        assert_eq!(e.issuer.as_deref(), Some("New Name"));
        assert_eq!(e.label, "alice");
        // An issuer containing a colon is recognised as the prefix as a whole.
        let e = ok("otpauth://totp/A%3AB:alice?secret=JBSWY3DPEHPK3PXP&issuer=A%3AB");
        assert_eq!(e.issuer.as_deref(), Some("A:B"));
        assert_eq!(e.label, "alice");
        // An empty issuer parameter counts as absent.
        let e = ok("otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=");
        assert_eq!(e.issuer.as_deref(), Some("Bank"));
        // An empty prefix is no issuer.
        let e = ok("otpauth://totp/:a:b?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(e.issuer, None);
        assert_eq!(e.label, "a:b");
    }

    #[test]
    fn plus_is_literal_and_utf8_is_decoded() {
        let e = ok("otpauth://totp/A+B:c+d?secret=JBSWY3DPEHPK3PXP&issuer=A+B");
        assert_eq!(e.issuer.as_deref(), Some("A+B"));
        assert_eq!(e.label, "c+d");
        let e = ok("otpauth://totp/B%C3%B6rse%20AG:j%C3%BCrgen?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(e.issuer.as_deref(), Some("Börse AG"));
        assert_eq!(e.label, "jürgen");
    }

    #[test]
    fn secret_spellings() {
        for secret in [
            "JBSWY3DPEHPK3PXP",
            "jbswy3dpehpk3pxp",
            "JBSW%20Y3DP%20EHPK%203PXP",
            "JBSW Y3DP EHPK 3PXP",
            "JBSWY3DPEHPK3PXP======",
        ] {
            let e = ok(&format!("otpauth://totp/a?secret={secret}"));
            assert_eq!(e.secret.expose(), SECRET_BYTES, "{secret}");
        }
        // Padded and unpadded 1-byte secret ("MY" = "f").
        assert_eq!(ok("otpauth://totp/a?secret=MY======").secret.expose(), b"f");
        assert_eq!(ok("otpauth://totp/a?secret=my").secret.expose(), b"f");
    }

    #[test]
    fn base32_decoder_matches_rfc4648_vectors() {
        // RFC 4648 section 10.
        for (plain, encoded) in [
            (&b"f"[..], "MY======"),
            (b"fo", "MZXQ===="),
            (b"foo", "MZXW6==="),
            (b"foob", "MZXW6YQ="),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI======"),
        ] {
            assert_eq!(decode_base32(encoded.as_bytes()).unwrap().expose(), plain);
            let bare = encoded.trim_end_matches('=');
            assert_eq!(decode_base32(bare.as_bytes()).unwrap().expose(), plain);
        }
    }

    #[test]
    fn defaults_and_case_insensitivity() {
        let e = ok("OTPAUTH://TOTP/a?SECRET=JBSWY3DPEHPK3PXP");
        assert_eq!(e.params, OtpParams::default());
        let e = ok("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=06&period=030");
        assert_eq!(e.params, OtpParams::default());
        // Unknown parameters, a fragment and surrounding whitespace are ignored.
        let e = ok(
            "  otpauth://totp/a?image=https%3A%2F%2Fx&secret=JBSWY3DPEHPK3PXP&&color=red#frag\n",
        );
        assert_eq!(e.label, "a");
        // TOTP ignores counter, HOTP ignores period.
        let e = ok("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&counter=x");
        assert_eq!(
            e.params.kind,
            OtpKind::Totp {
                period: Period::THIRTY
            }
        );
        let e = ok("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=0&period=0");
        assert_eq!(e.params.kind, OtpKind::Hotp { counter: 0 });
    }

    #[test]
    fn refusals_name_the_problem() {
        use OtpUriError as E;
        let cases: &[(&str, OtpUriError)] = &[
            ("https://totp/a?secret=JBSWY3DPEHPK3PXP", E::NotOtpauth),
            ("otpauth:totp/a?secret=JBSWY3DPEHPK3PXP", E::NotOtpauth),
            ("", E::NotOtpauth),
            ("otpauth-migration://offline?data=CgA", E::MigrationExport),
            ("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", E::UnknownType),
            ("otpauth:///a?secret=JBSWY3DPEHPK3PXP", E::UnknownType),
            ("otpauth://totp/?secret=JBSWY3DPEHPK3PXP", E::EmptyLabel),
            ("otpauth://totp?secret=JBSWY3DPEHPK3PXP", E::EmptyLabel),
            (
                "otpauth://totp/Issuer:?secret=JBSWY3DPEHPK3PXP",
                E::EmptyLabel,
            ),
            ("otpauth://totp/%20?secret=JBSWY3DPEHPK3PXP", E::EmptyLabel),
            ("otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP", E::Encoding),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=%C3",
                E::Encoding,
            ),
            ("otpauth://totp/a", E::MissingSecret),
            ("otpauth://totp/a?issuer=x", E::MissingSecret),
            ("otpauth://totp/a?secret=", E::EmptySecret),
            ("otpauth://totp/a?secret=%20=", E::EmptySecret),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PX1", E::InvalidSecret),
            (
                "otpauth://totp/a?secret=JBSWY3DP=EHPK3PXP",
                E::InvalidSecret,
            ),
            ("otpauth://totp/a?secret=JBS", E::InvalidSecret),
            ("otpauth://totp/a?secret=J", E::InvalidSecret),
            ("otpauth://totp/a?secret=%FF%FE", E::InvalidSecret),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
                E::Algorithm,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=",
                E::Algorithm,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5",
                E::Digits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=9",
                E::Digits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=+6",
                E::Digits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=262",
                E::Digits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0",
                E::Period,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=3601",
                E::Period,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30",
                E::Period,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=4294967326",
                E::Period,
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP",
                E::MissingCounter,
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=",
                E::Counter,
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=-1",
                E::Counter,
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616",
                E::Counter,
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=1e3",
                E::Counter,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=GEZDGNBV",
                E::DuplicateParameter("secret"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&Issuer=a&issuer=b",
                E::DuplicateParameter("issuer"),
            ),
        ];
        for (uri, want) in cases {
            assert_eq!(&err(uri), want, "{uri}");
        }
    }

    #[test]
    fn secret_length_limits() {
        // 1024 bytes is the maximum; 1025 is refused.
        let max = data_encoding::BASE32_NOPAD.encode(&[0x42; 1024]);
        assert_eq!(
            ok(&format!("otpauth://totp/a?secret={max}"))
                .secret
                .expose()
                .len(),
            1024
        );
        let over = data_encoding::BASE32_NOPAD.encode(&[0x42; 1025]);
        assert_eq!(
            err(&format!("otpauth://totp/a?secret={over}")),
            OtpUriError::SecretTooLong
        );
        let long = format!("otpauth://totp/a?secret={}", "A".repeat(MAX_URI_LEN));
        assert_eq!(err(&long), OtpUriError::TooLong);
    }

    #[test]
    fn names_are_limited_in_length_and_characters() {
        let name = "n".repeat(MAX_NAME_LEN);
        let e = ok(&format!(
            "otpauth://totp/{name}:{name}?secret=JBSWY3DPEHPK3PXP"
        ));
        assert_eq!(e.label.len(), MAX_NAME_LEN);
        let long = "n".repeat(MAX_NAME_LEN + 1);
        for uri in [
            format!("otpauth://totp/{long}?secret=JBSWY3DPEHPK3PXP"),
            format!("otpauth://totp/{long}:a?secret=JBSWY3DPEHPK3PXP"),
            format!("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer={long}"),
        ] {
            assert_eq!(err(&uri), OtpUriError::NameTooLong);
        }
        for uri in [
            "otpauth://totp/a%0Ab?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/a\u{0}b?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=x%7Fy",
            "otpauth://totp/x%C2%85y:a?secret=JBSWY3DPEHPK3PXP",
        ] {
            assert_eq!(err(uri), OtpUriError::ControlCharacter, "{uri:?}");
        }
    }

    #[test]
    fn the_largest_entry_still_exports_to_a_parsable_uri() {
        // Every byte of the names needs percent-encoding (x3), the issuer is
        // written twice, the secret is as long as allowed: the worst case.
        let entry = OtpEntry {
            issuer: Some("&".repeat(MAX_NAME_LEN)),
            label: "&".repeat(MAX_NAME_LEN),
            secret: OtpSecret::from_bytes(SecretBytes::new(vec![0xff; OtpSecret::MAX_LEN]))
                .unwrap(),
            params: OtpParams {
                algorithm: Algorithm::Sha512,
                digits: Digits::new(8).unwrap(),
                kind: OtpKind::Hotp { counter: u64::MAX },
            },
        };
        let uri = to_uri(&entry);
        assert!(uri.expose().len() <= MAX_URI_LEN, "{}", uri.expose().len());
        assert_eq!(parse(uri.expose()), Ok(entry));
    }

    #[test]
    fn errors_never_echo_the_secret() {
        let secret = "JBSWY3DPEHPK3PX1";
        let uris = [
            format!("otpauth://totp/a?secret={secret}"),
            format!("otpauth://totp/a?secret={secret}&algorithm={secret}"),
            format!("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits={secret}"),
        ];
        for uri in uris {
            let e = err(&uri);
            for text in [e.to_string(), format!("{e:?}")] {
                assert!(!text.contains("JBSWY3DP"), "{text}");
            }
        }
        let entry = ok("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP");
        assert!(!format!("{entry:?}").contains("Hello"));
    }

    #[test]
    fn to_uri_writes_every_parameter() {
        let entry =
            ok("otpauth://totp/ACME%20Co:j%C3%BCrgen%2Bx?secret=jbswy3dpehpk3pxp&issuer=ACME%20Co");
        assert_eq!(
            to_uri(&entry).expose(),
            "otpauth://totp/ACME%20Co:j%C3%BCrgen%2Bx?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co\
             &algorithm=SHA1&digits=6&period=30"
        );
        let hotp = ok("otpauth://hotp/a%3Ab?secret=JBSWY3DPEHPK3PXP&counter=7&issuer=");
        assert_eq!(hotp.issuer.as_deref(), Some("a"));
        let no_issuer = OtpEntry {
            issuer: None,
            label: "a:b".into(),
            ..hotp
        };
        let uri = to_uri(&no_issuer);
        assert_eq!(
            uri.expose(),
            "otpauth://hotp/:a%3Ab?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&counter=7"
        );
        assert_eq!(parse(uri.expose()).unwrap(), no_issuer);
        assert!(format!("{uri:?}").contains("REDACTED"));
    }

    fn trimmed_text() -> impl Strategy<Value = String> {
        "\\PC{1,80}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty, not too long", |s| {
                !s.is_empty() && s.len() <= MAX_NAME_LEN
            })
    }

    fn entries() -> impl Strategy<Value = OtpEntry> {
        let algorithm = prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ];
        let kind = prop_oneof![
            (1u32..=3600).prop_map(|p| OtpKind::Totp {
                period: Period::new(p).unwrap()
            }),
            any::<u64>().prop_map(|counter| OtpKind::Hotp { counter }),
        ];
        (
            proptest::option::of(trimmed_text()),
            trimmed_text(),
            proptest::collection::vec(any::<u8>(), 1..=64),
            algorithm,
            6u8..=8,
            kind,
        )
            .prop_map(
                |(issuer, label, secret, algorithm, digits, kind)| OtpEntry {
                    issuer,
                    label,
                    secret: OtpSecret::from_bytes(SecretBytes::new(secret)).unwrap(),
                    params: OtpParams {
                        algorithm,
                        digits: Digits::new(digits).unwrap(),
                        kind,
                    },
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip_through_to_uri(entry in entries()) {
            let uri = to_uri(&entry);
            prop_assert_eq!(parse(uri.expose()), Ok(entry));
        }

        #[test]
        fn never_panics_on_arbitrary_text(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_uri_shaped_text(
            kind in "(totp|hotp|TOTP|x|)",
            label in "[a-zA-Z0-9%:+ ]{0,20}",
            params in proptest::collection::vec(
                ("(secret|issuer|algorithm|digits|period|counter|x)", "[A-Za-z0-9%= +-]{0,24}"),
                0..6,
            ),
        ) {
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let uri = format!("otpauth://{kind}/{label}?{}", query.join("&"));
            if let Ok(entry) = parse(&uri) {
                // Whatever parses also survives a round trip.
                prop_assert_eq!(parse(to_uri(&entry).expose()), Ok(entry));
            }
        }

        #[test]
        fn base32_agrees_with_data_encoding(bytes in proptest::collection::vec(any::<u8>(), 1..80)) {
            let upper = data_encoding::BASE32.encode(&bytes);
            let decoded = decode_base32(upper.as_bytes()).unwrap();
            prop_assert_eq!(decoded.expose(), &bytes[..]);
            let lower = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
            let decoded = decode_base32(lower.as_bytes()).unwrap();
            prop_assert_eq!(decoded.expose(), &bytes[..]);
        }
    }
}
