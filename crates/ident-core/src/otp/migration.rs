//! Google Authenticator's export: `otpauth-migration://offline?data=…`, one or
//! more QR codes that carry a batch of accounts as a base64 protobuf.
//!
//! Most users who switch to Ident come from Google Authenticator, whose only
//! way out is this export, so Ident reads it. The payload is untrusted: the
//! text is length-capped, every decoding step returns a typed
//! [`MigrationError`], and nothing panics. One account that Ident cannot use
//! (MD5, an unknown type, an empty secret) does not spoil the others: it is
//! listed in [`MigrationBatch::skipped`] with the reason, and the rest import.
//!
//! The protobuf schema is Google's (`MigrationPayload`/`OtpParameters`), written
//! out by hand as prost structs, so there is no build script and no `protoc`.
//! The rules:
//! - The scheme and host (`offline`) are case-insensitive; `data` is required
//!   exactly once, other parameters are ignored.
//! - `data` is standard base64, percent-encoded, with or without padding. A
//!   space in it is read as `+` (something decoded the URI as an HTML form),
//!   and the URL-safe alphabet (`-`, `_`) is accepted too.
//! - The name may carry an `Issuer:` prefix as in `otpauth://` labels; the
//!   issuer field wins. An account without a name is named after its issuer.
//! - Names and issuers follow the same limits as in `otpauth://` URIs (at
//!   most [`super::uri::MAX_NAME_LEN`] bytes, no control characters), so every
//!   imported account can be exported again with [`super::uri::to_uri`].
//! - Unspecified algorithm means SHA1, unspecified digits mean 6; the period is
//!   always 30 seconds (the format cannot say otherwise).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::percent_decode_str;
use prost::Message as _;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use super::uri::{OtpUriError, check_name, split_label};
use super::{Algorithm, Digits, OtpEntry, OtpKind, OtpParamError, OtpParams, OtpSecret, Period};
use crate::secret::SecretBytes;

/// The longest export URI accepted, in bytes (64 KiB). One QR code holds at
/// most about 3 KB; this leaves room for a pasted export of many accounts.
pub const MAX_MIGRATION_URI_LEN: usize = 64 * 1024;

/// One QR code's worth of imported accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationBatch {
    /// The accounts that can be used, in export order.
    pub entries: Vec<OtpEntry>,
    /// The accounts that cannot, each with the reason.
    pub skipped: Vec<SkippedAccount>,
    /// The export format version (1 as of 2024).
    pub version: i32,
    /// How many QR codes the whole export has (0 when the exporter did not say).
    pub batch_size: i32,
    /// Which of them this is, from 0.
    pub batch_index: i32,
    /// An id shared by all QR codes of one export, to tell exports apart.
    pub batch_id: i32,
}

impl MigrationBatch {
    /// Whether this is the last QR code of its export (also when the export
    /// does not say how many there are).
    pub fn is_last(&self) -> bool {
        self.batch_index.saturating_add(1) >= self.batch_size
    }
}

/// An account in the export that Ident cannot import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedAccount {
    /// The account name as exported (without the issuer prefix), for the
    /// message to the user; may be empty.
    pub name: String,
    /// The issuer, if the export names one.
    pub issuer: Option<String>,
    /// Why it was skipped.
    pub reason: MigrationAccountError,
}

/// Why the whole export was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// Longer than [`MAX_MIGRATION_URI_LEN`].
    #[error("the text is too long to be a Google Authenticator export")]
    TooLong,
    /// Not `otpauth-migration://offline?…`.
    #[error("the text is not a Google Authenticator export (otpauth-migration://offline)")]
    NotMigration,
    /// No `data` parameter, or an empty one.
    #[error("the export contains no data")]
    MissingData,
    /// `data` given twice.
    #[error("the export contains its data twice")]
    DuplicateData,
    /// `data` is not base64.
    #[error("the export data is not valid base64")]
    Base64,
    /// The decoded data is not the protobuf message expected.
    #[error("the export data is damaged or not in Google Authenticator's format")]
    Protobuf,
    /// The payload decodes but lists no accounts.
    #[error("the export contains no accounts")]
    NoAccounts,
}

/// Why one account of an export was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MigrationAccountError {
    /// MD5, or an algorithm number this version does not know.
    #[error("the account uses an unsupported algorithm ({0})")]
    Algorithm(String),
    /// A digit count other than 6 or 8.
    #[error("the account uses an unsupported number of digits")]
    Digits,
    /// Neither TOTP nor HOTP.
    #[error("the account is neither time-based (TOTP) nor counter-based (HOTP)")]
    Type,
    /// An HOTP counter below zero.
    #[error("the account's counter is negative")]
    Counter,
    /// The secret is empty.
    #[error("the account's secret is empty")]
    EmptySecret,
    /// The secret is longer than [`OtpSecret::MAX_LEN`].
    #[error("the account's secret is too long")]
    SecretTooLong,
    /// Neither a name nor an issuer.
    #[error("the account has no name")]
    NoName,
    /// The name or issuer is longer than [`super::uri::MAX_NAME_LEN`] bytes.
    #[error("the account's name or issuer is too long")]
    NameTooLong,
    /// The name or issuer contains a control character.
    #[error("the account's name or issuer contains control characters")]
    ControlCharacter,
}

/// Parses one `otpauth-migration://offline?data=…` URI.
///
/// Surrounding whitespace is ignored. Whole-export failures are an `Err`;
/// per-account problems land in [`MigrationBatch::skipped`].
pub fn parse(uri: &str) -> Result<MigrationBatch, MigrationError> {
    if uri.len() > MAX_MIGRATION_URI_LEN {
        return Err(MigrationError::TooLong);
    }
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once("://").ok_or(MigrationError::NotMigration)?;
    if !scheme.eq_ignore_ascii_case("otpauth-migration") {
        return Err(MigrationError::NotMigration);
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !host.trim_end_matches('/').eq_ignore_ascii_case("offline") {
        return Err(MigrationError::NotMigration);
    }
    let mut data = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key.eq_ignore_ascii_case("data") && data.replace(value).is_some() {
            return Err(MigrationError::DuplicateData);
        }
    }
    let data = data
        .filter(|d| !d.is_empty())
        .ok_or(MigrationError::MissingData)?;
    let bytes = decode_data(data)?;
    let payload =
        MigrationPayload::decode(bytes.as_slice()).map_err(|_| MigrationError::Protobuf)?;
    from_payload(payload)
}

/// Standard base64 that tolerates both padded and unpadded input.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Percent-decodes and base64-decodes `data`, in zeroized buffers (the payload
/// holds every secret of the export).
fn decode_data(raw: &str) -> Result<Zeroizing<Vec<u8>>, MigrationError> {
    // Percent-decoding only shrinks, so this never reallocates.
    let mut text = Zeroizing::new(Vec::with_capacity(raw.len()));
    text.extend(percent_decode_str(raw).filter_map(|b| match b {
        b' ' => Some(b'+'),
        b'-' => Some(b'+'),
        b'_' => Some(b'/'),
        b'\r' | b'\n' | b'\t' => None,
        b => Some(b),
    }));
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 4 * 3 + 3));
    BASE64
        .decode_vec(text.as_slice(), &mut out)
        .map_err(|_| MigrationError::Base64)?;
    Ok(out)
}

fn from_payload(mut payload: MigrationPayload) -> Result<MigrationBatch, MigrationError> {
    if payload.otp_parameters.is_empty() {
        return Err(MigrationError::NoAccounts);
    }
    let mut entries = Vec::with_capacity(payload.otp_parameters.len());
    let mut skipped = Vec::new();
    for mut account in payload.otp_parameters.drain(..) {
        let issuer_field = Some(account.issuer.as_str());
        let (issuer, label) = split_label(&account.name, issuer_field);
        let label = if label.is_empty() {
            issuer.clone().unwrap_or_default()
        } else {
            label
        };
        match convert(&mut account, issuer.as_deref(), &label) {
            Ok((secret, params)) => entries.push(OtpEntry {
                issuer,
                label,
                secret,
                params,
            }),
            Err(reason) => skipped.push(SkippedAccount {
                name: label,
                issuer,
                reason,
            }),
        }
    }
    Ok(MigrationBatch {
        entries,
        skipped,
        version: payload.version,
        batch_size: payload.batch_size,
        batch_index: payload.batch_index,
        batch_id: payload.batch_id,
    })
}

/// Checks one account's parameters and moves its secret out.
fn convert(
    account: &mut OtpParameters,
    issuer: Option<&str>,
    label: &str,
) -> Result<(OtpSecret, OtpParams), MigrationAccountError> {
    let algorithm = match ProtoAlgorithm::try_from(account.algorithm) {
        Ok(ProtoAlgorithm::Unspecified | ProtoAlgorithm::Sha1) => Algorithm::Sha1,
        Ok(ProtoAlgorithm::Sha256) => Algorithm::Sha256,
        Ok(ProtoAlgorithm::Sha512) => Algorithm::Sha512,
        Ok(ProtoAlgorithm::Md5) => return Err(MigrationAccountError::Algorithm("MD5".into())),
        Err(_) => {
            return Err(MigrationAccountError::Algorithm(format!(
                "number {}",
                account.algorithm
            )));
        }
    };
    let digits = match DigitCount::try_from(account.digits) {
        Ok(DigitCount::Unspecified | DigitCount::Six) => Digits::SIX,
        Ok(DigitCount::Eight) => Digits::new(8).map_err(|_| MigrationAccountError::Digits)?,
        Err(_) => return Err(MigrationAccountError::Digits),
    };
    let kind = match OtpType::try_from(account.r#type) {
        Ok(OtpType::Totp) => OtpKind::Totp {
            period: Period::THIRTY,
        },
        Ok(OtpType::Hotp) => OtpKind::Hotp {
            counter: u64::try_from(account.counter).map_err(|_| MigrationAccountError::Counter)?,
        },
        Ok(OtpType::Unspecified) | Err(_) => return Err(MigrationAccountError::Type),
    };
    if label.is_empty() {
        return Err(MigrationAccountError::NoName);
    }
    for name in issuer.into_iter().chain([label]) {
        check_name(name).map_err(|e| match e {
            OtpUriError::NameTooLong => MigrationAccountError::NameTooLong,
            _ => MigrationAccountError::ControlCharacter,
        })?;
    }
    let secret = OtpSecret::from_bytes(SecretBytes::new(std::mem::take(&mut account.secret)))
        .map_err(|e| match e {
            OtpParamError::SecretTooLong(_) => MigrationAccountError::SecretTooLong,
            _ => MigrationAccountError::EmptySecret,
        })?;
    Ok((
        secret,
        OtpParams {
            algorithm,
            digits,
            kind,
        },
    ))
}

/// `MigrationPayload` from Google Authenticator's schema.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct MigrationPayload {
    /// The accounts.
    #[prost(message, repeated, tag = "1")]
    pub(crate) otp_parameters: Vec<OtpParameters>,
    /// Format version.
    #[prost(int32, tag = "2")]
    pub(crate) version: i32,
    /// Number of QR codes in the export.
    #[prost(int32, tag = "3")]
    pub(crate) batch_size: i32,
    /// Index of this QR code.
    #[prost(int32, tag = "4")]
    pub(crate) batch_index: i32,
    /// Id of the export.
    #[prost(int32, tag = "5")]
    pub(crate) batch_id: i32,
}

/// `MigrationPayload.OtpParameters`. `Debug` is written by hand (redacted) and
/// the secret is zeroized on drop.
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct OtpParameters {
    /// The raw secret.
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) secret: Vec<u8>,
    /// `account` or `Issuer:account`.
    #[prost(string, tag = "2")]
    pub(crate) name: String,
    /// The issuer.
    #[prost(string, tag = "3")]
    pub(crate) issuer: String,
    /// A [`ProtoAlgorithm`].
    #[prost(enumeration = "ProtoAlgorithm", tag = "4")]
    pub(crate) algorithm: i32,
    /// A [`DigitCount`].
    #[prost(enumeration = "DigitCount", tag = "5")]
    pub(crate) digits: i32,
    /// An [`OtpType`].
    #[prost(enumeration = "OtpType", tag = "6")]
    pub(crate) r#type: i32,
    /// The HOTP counter.
    #[prost(int64, tag = "7")]
    pub(crate) counter: i64,
}

impl Drop for OtpParameters {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl std::fmt::Debug for OtpParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtpParameters")
            .field("secret", &format_args!("[REDACTED; {}]", self.secret.len()))
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("type", &self.r#type)
            .field("counter", &self.counter)
            .finish()
    }
}

/// `MigrationPayload.Algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub(crate) enum ProtoAlgorithm {
    Unspecified = 0,
    Sha1 = 1,
    Sha256 = 2,
    Sha512 = 3,
    Md5 = 4,
}

/// `MigrationPayload.DigitCount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub(crate) enum DigitCount {
    Unspecified = 0,
    Six = 1,
    Eight = 2,
}

/// `MigrationPayload.OtpType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub(crate) enum OtpType {
    Unspecified = 0,
    Hotp = 1,
    Totp = 2,
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    fn account(name: &str, issuer: &str, secret: &[u8]) -> OtpParameters {
        OtpParameters {
            secret: secret.to_vec(),
            name: name.into(),
            issuer: issuer.into(),
            algorithm: ProtoAlgorithm::Sha1 as i32,
            digits: DigitCount::Six as i32,
            r#type: OtpType::Totp as i32,
            counter: 0,
        }
    }

    fn payload(accounts: Vec<OtpParameters>) -> MigrationPayload {
        MigrationPayload {
            otp_parameters: accounts,
            version: 1,
            batch_size: 2,
            batch_index: 1,
            batch_id: -1_234_567,
        }
    }

    /// The URI as Google Authenticator writes it: padded standard base64,
    /// every non-alphanumeric character percent-encoded.
    fn uri(p: &MigrationPayload) -> String {
        let b64 = STANDARD.encode(p.encode_to_vec());
        format!(
            "otpauth-migration://offline?data={}",
            utf8_percent_encode(&b64, NON_ALPHANUMERIC)
        )
    }

    #[test]
    fn reads_a_prost_encoded_payload() {
        let mut hotp = account("Bank:alice", "", b"\x00\x01\x02");
        hotp.r#type = OtpType::Hotp as i32;
        hotp.counter = 42;
        hotp.algorithm = ProtoAlgorithm::Sha512 as i32;
        hotp.digits = DigitCount::Eight as i32;
        let p = payload(vec![
            account("alice@example.com", "GitHub", b"12345678901234567890"),
            hotp,
        ]);
        let batch = parse(&uri(&p)).unwrap();
        assert_eq!(batch.version, 1);
        assert_eq!(
            (batch.batch_size, batch.batch_index, batch.batch_id),
            (2, 1, -1_234_567)
        );
        assert!(batch.is_last());
        assert!(batch.skipped.is_empty());
        assert_eq!(batch.entries.len(), 2);

        let e = &batch.entries[0];
        assert_eq!(e.issuer.as_deref(), Some("GitHub"));
        assert_eq!(e.label, "alice@example.com");
        assert_eq!(e.secret.expose(), b"12345678901234567890");
        assert_eq!(e.params, OtpParams::default());

        let e = &batch.entries[1];
        assert_eq!(e.issuer.as_deref(), Some("Bank"));
        assert_eq!(e.label, "alice");
        assert_eq!(e.secret.expose(), b"\x00\x01\x02");
        assert_eq!(e.params.algorithm, Algorithm::Sha512);
        assert_eq!(e.params.digits.get(), 8);
        assert_eq!(e.params.kind, OtpKind::Hotp { counter: 42 });
    }

    #[test]
    fn issuer_field_wins_over_the_name_prefix() {
        let p = payload(vec![account("Old:alice", "New", b"k")]);
        let e = &parse(&uri(&p)).unwrap().entries[0];
        assert_eq!(
            (e.issuer.as_deref(), e.label.as_str()),
            (Some("New"), "alice")
        );
        let p = payload(vec![account("", "OnlyIssuer", b"k")]);
        let e = &parse(&uri(&p)).unwrap().entries[0];
        assert_eq!(
            (e.issuer.as_deref(), e.label.as_str()),
            (Some("OnlyIssuer"), "OnlyIssuer")
        );
    }

    #[test]
    fn unspecified_algorithm_and_digits_are_the_defaults() {
        let mut a = account("a", "", b"k");
        a.algorithm = 0;
        a.digits = 0;
        let e = &parse(&uri(&payload(vec![a]))).unwrap().entries[0];
        assert_eq!(e.params, OtpParams::default());
    }

    #[test]
    fn bad_accounts_are_skipped_not_fatal() {
        let mut md5 = account("md5", "X", b"k");
        md5.algorithm = ProtoAlgorithm::Md5 as i32;
        let mut unknown_alg = account("alg9", "", b"k");
        unknown_alg.algorithm = 9;
        let mut digits = account("seven", "", b"k");
        digits.digits = 3;
        let mut no_type = account("notype", "", b"k");
        no_type.r#type = 0;
        let mut weird_type = account("type7", "", b"k");
        weird_type.r#type = 7;
        let mut negative = account("neg", "", b"k");
        negative.r#type = OtpType::Hotp as i32;
        negative.counter = -1;
        let empty = account("empty", "", b"");
        let long = account("long", "", &[7; 1025]);
        let nameless = account("", "", b"k");
        let control = account("a\nb", "", b"k");
        let long_name = account(&"n".repeat(257), "", b"k");
        let long_issuer = account("x", &"i".repeat(257), b"k");
        let good = account("good", "", b"k");
        let p = payload(vec![
            md5,
            unknown_alg,
            digits,
            no_type,
            weird_type,
            negative,
            empty,
            long,
            nameless,
            control,
            long_name,
            long_issuer,
            good,
        ]);
        let batch = parse(&uri(&p)).unwrap();
        assert_eq!(batch.entries.len(), 1);
        assert_eq!(batch.entries[0].label, "good");
        let reasons: Vec<(&str, &MigrationAccountError)> = batch
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), &s.reason))
            .collect();
        use MigrationAccountError as E;
        assert_eq!(
            reasons,
            vec![
                ("md5", &E::Algorithm("MD5".into())),
                ("alg9", &E::Algorithm("number 9".into())),
                ("seven", &E::Digits),
                ("notype", &E::Type),
                ("type7", &E::Type),
                ("neg", &E::Counter),
                ("empty", &E::EmptySecret),
                ("long", &E::SecretTooLong),
                ("", &E::NoName),
                ("a\nb", &E::ControlCharacter),
                (&"n".repeat(257), &E::NameTooLong),
                ("x", &E::NameTooLong),
            ]
        );
        assert_eq!(batch.skipped[0].issuer.as_deref(), Some("X"));
        assert_eq!(
            batch.skipped[0].reason.to_string(),
            "the account uses an unsupported algorithm (MD5)"
        );
    }

    #[test]
    fn base64_spellings() {
        let p = payload(vec![account("a", "", b"\xfb\xff\xfe secret")]);
        let bytes = p.encode_to_vec();
        let padded = STANDARD.encode(&bytes);
        let unpadded = STANDARD_NO_PAD.encode(&bytes);
        assert!(padded.contains('+') || padded.contains('/') || padded.ends_with('='));
        for data in [
            utf8_percent_encode(&padded, NON_ALPHANUMERIC).to_string(),
            padded.clone(),
            unpadded.clone(),
            padded.replace('+', " "),
            padded.replace('+', "%20"),
            padded.replace('+', "-").replace('/', "_"),
        ] {
            let batch = parse(&format!("otpauth-migration://offline?data={data}"))
                .unwrap_or_else(|e| panic!("{data}: {e}"));
            assert_eq!(
                batch.entries[0].secret.expose(),
                b"\xfb\xff\xfe secret",
                "{data}"
            );
        }
        let batch = parse(&format!(
            "  OTPAUTH-MIGRATION://OFFLINE/?x=1&DATA={unpadded}#f\n"
        ));
        assert_eq!(batch.unwrap().entries.len(), 1);
    }

    #[test]
    fn whole_export_refusals() {
        use MigrationError as E;
        let good = uri(&payload(vec![account("a", "", b"k")]));
        let data = good.split_once("data=").unwrap().1.to_owned();
        let cases: Vec<(String, MigrationError)> = vec![
            ("otpauth://totp/a?secret=AA".into(), E::NotMigration),
            (
                format!("otpauth-migration://online?data={data}"),
                E::NotMigration,
            ),
            (
                format!("otpauth-migration:offline?data={data}"),
                E::NotMigration,
            ),
            ("otpauth-migration://offline".into(), E::MissingData),
            ("otpauth-migration://offline?data=".into(), E::MissingData),
            (format!("{good}&data={data}"), E::DuplicateData),
            ("otpauth-migration://offline?data=!!!!".into(), E::Base64),
            ("otpauth-migration://offline?data=A".into(), E::Base64),
            // Field 1 declared 16 bytes long, but only 2 present.
            (
                format!(
                    "otpauth-migration://offline?data={}",
                    STANDARD.encode([0x0a, 0x10, 1, 2])
                ),
                E::Protobuf,
            ),
            // A bare varint key with wire type 7 (invalid).
            (
                format!(
                    "otpauth-migration://offline?data={}",
                    STANDARD.encode([0x0f])
                ),
                E::Protobuf,
            ),
            (uri(&payload(vec![])), E::NoAccounts),
            (
                format!(
                    "otpauth-migration://offline?data={}",
                    "A".repeat(MAX_MIGRATION_URI_LEN)
                ),
                E::TooLong,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(&text), Err(want), "{text}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let a = account("a", "", b"topsecretbytes");
        assert!(!format!("{a:?}").contains("116"), "{a:?}");
        let batch = parse(&uri(&payload(vec![a]))).unwrap();
        let printed = format!("{batch:?}");
        assert!(
            !printed.contains("topsecret") && !printed.contains("116, 111"),
            "{printed}"
        );
    }

    /// The fixture written by `tests/fixtures/make_migration_fixture.py`, which
    /// encodes the protobuf by hand, independently of prost.
    #[test]
    fn parses_the_independently_encoded_fixture() {
        let text = include_str!("../../tests/fixtures/migration_fixture.json");
        let fixture: serde_json::Value = serde_json::from_str(text).unwrap();
        let batch = parse(fixture["uri"].as_str().unwrap()).unwrap();
        assert_eq!(batch.version, fixture["version"].as_i64().unwrap() as i32);
        assert_eq!(
            batch.batch_size,
            fixture["batch_size"].as_i64().unwrap() as i32
        );
        assert_eq!(
            batch.batch_index,
            fixture["batch_index"].as_i64().unwrap() as i32
        );
        assert_eq!(batch.batch_id, fixture["batch_id"].as_i64().unwrap() as i32);

        let expected = fixture["accounts"].as_array().unwrap();
        assert_eq!(batch.entries.len(), expected.len());
        for (entry, want) in batch.entries.iter().zip(expected) {
            assert_eq!(entry.label, want["label"].as_str().unwrap());
            assert_eq!(entry.issuer.as_deref(), want["issuer"].as_str());
            let secret = data_encoding::HEXLOWER
                .decode(want["secret_hex"].as_str().unwrap().as_bytes())
                .unwrap();
            assert_eq!(entry.secret.expose(), &secret[..]);
            let alg = match want["algorithm"].as_str().unwrap() {
                "SHA1" => Algorithm::Sha1,
                "SHA256" => Algorithm::Sha256,
                "SHA512" => Algorithm::Sha512,
                other => panic!("{other}"),
            };
            assert_eq!(entry.params.algorithm, alg);
            assert_eq!(
                u64::from(entry.params.digits.get()),
                want["digits"].as_u64().unwrap()
            );
            let kind = match want["type"].as_str().unwrap() {
                "totp" => OtpKind::Totp {
                    period: Period::THIRTY,
                },
                "hotp" => OtpKind::Hotp {
                    counter: want["counter"].as_u64().unwrap(),
                },
                other => panic!("{other}"),
            };
            assert_eq!(entry.params.kind, kind);
            // The fixture pins the first code so the secret is known to be usable.
            if let Some(code) = want["code_at_59"].as_str() {
                let got =
                    crate::otp::code(&entry.secret, &entry.params, crate::ports::UnixTime(59));
                assert_eq!(got.as_str(), code);
            }
        }
        let skipped = fixture["skipped"].as_array().unwrap();
        assert_eq!(batch.skipped.len(), skipped.len());
        for (s, want) in batch.skipped.iter().zip(skipped) {
            assert_eq!(s.name, want["name"].as_str().unwrap());
            assert_eq!(s.reason.to_string(), want["reason"].as_str().unwrap());
        }
    }

    fn proto_accounts() -> impl Strategy<Value = OtpParameters> {
        (
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<String>(),
            any::<String>(),
            -1i32..6,
            -1i32..4,
            -1i32..4,
            any::<i64>(),
        )
            .prop_map(
                |(secret, name, issuer, algorithm, digits, r#type, counter)| OtpParameters {
                    secret,
                    name,
                    issuer,
                    algorithm,
                    digits,
                    r#type,
                    counter,
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip_generated_payloads(
            accounts in proptest::collection::vec(proto_accounts(), 1..8),
            version in any::<i32>(),
            batch_size in any::<i32>(),
            batch_index in any::<i32>(),
            batch_id in any::<i32>(),
        ) {
            let p = MigrationPayload { otp_parameters: accounts.clone(), version, batch_size, batch_index, batch_id };
            let batch = parse(&uri(&p)).unwrap();
            prop_assert_eq!(batch.entries.len() + batch.skipped.len(), accounts.len());
            prop_assert_eq!((batch.version, batch.batch_size, batch.batch_index, batch.batch_id),
                (version, batch_size, batch_index, batch_id));
            // Every account lands in exactly one list, in order, and a usable one
            // keeps its secret and parameters.
            let mut entries = batch.entries.iter();
            let mut skipped = batch.skipped.iter();
            for a in &accounts {
                let usable = (0..=3).contains(&a.algorithm)
                    && (0..=2).contains(&a.digits)
                    && (a.r#type == 2 || (a.r#type == 1 && a.counter >= 0))
                    && !a.secret.is_empty()
                    && {
                        let (issuer, label) = split_label(&a.name, Some(&a.issuer));
                        let label = if label.is_empty() { issuer.clone().unwrap_or_default() } else { label };
                        !label.is_empty()
                            && issuer.iter().chain([&label]).all(|n| check_name(n).is_ok())
                    };
                if usable {
                    let e = entries.next().unwrap();
                    prop_assert_eq!(e.secret.expose(), &a.secret[..]);
                    prop_assert_eq!(e.params.digits.get(), if a.digits == 2 { 8 } else { 6 });
                    let kind = if a.r#type == 1 {
                        OtpKind::Hotp { counter: a.counter as u64 }
                    } else {
                        OtpKind::Totp { period: Period::THIRTY }
                    };
                    prop_assert_eq!(e.params.kind, kind);
                    prop_assert!(!e.label.is_empty());
                    // Every imported account can be exported and re-imported.
                    let exported = crate::otp::uri::to_uri(e);
                    prop_assert!(exported.expose().len() <= crate::otp::uri::MAX_URI_LEN);
                    let reimported = crate::otp::uri::parse(exported.expose());
                    prop_assert_eq!(reimported.as_ref(), Ok(e));
                } else {
                    prop_assert!(skipped.next().is_some());
                }
            }
        }

        #[test]
        fn never_panics_on_arbitrary_text(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_arbitrary_payload_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = format!("otpauth-migration://offline?data={}", STANDARD.encode(&bytes));
            let _ = parse(&text);
        }
    }
}
