//! Computing codes: HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC-SHA-1,
//! -SHA-256 or -SHA-512 and 6 to 8 digits.
//!
//! This is the part of the offline-code feature that runs every time the user
//! looks at an OTP account, so it is small, allocation-light and total: every
//! input produces a code, nothing here can panic. The HMAC comes from `ring`,
//! the crate's only cryptography dependency.
//!
//! Time is taken as an argument (a [`UnixTime`] from the caller's
//! [`Clock`](crate::ports::Clock)), never read here, so tests are exact.

use std::fmt;

use ring::hmac;
use zeroize::Zeroizing;

use super::{Algorithm, Digits, OtpKind, OtpParams, OtpSecret, Period};
use crate::ports::UnixTime;

/// A generated one-time code: its decimal digits (zero-padded to the account's
/// length) and, for TOTP, the window of time in which it is the current code.
///
/// A code is a short-lived credential, so `Debug` does not print the digits and
/// the text is zeroized on drop. Show it with [`OtpCode::as_str`].
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode {
    digits: Zeroizing<String>,
    window: Option<(UnixTime, UnixTime)>,
}

impl OtpCode {
    /// The code as shown to the user, e.g. `"007423"`.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The code as shown to the user; the same as [`OtpCode::as_str`].
    pub fn code(&self) -> &str {
        &self.digits
    }

    /// For TOTP, the first second in which this is the current code (the start
    /// of its time step); `None` for HOTP.
    pub fn valid_from(&self) -> Option<UnixTime> {
        self.window.map(|(from, _)| from)
    }

    /// For TOTP, the first second in which this code is no longer current (the
    /// start of the next time step, exclusive); `None` for HOTP. A countdown
    /// shows `valid_until - now`.
    pub fn valid_until(&self) -> Option<UnixTime> {
        self.window.map(|(_, until)| until)
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpCode")
            .field("digits", &format_args!("[REDACTED; {}]", self.digits.len()))
            .field("valid_from", &self.valid_from())
            .field("valid_until", &self.valid_until())
            .finish()
    }
}

/// The HOTP code (RFC 4226) for `counter`.
///
/// Every `u64` counter is valid; the counter is hashed as 8 big-endian bytes.
pub fn hotp(secret: &OtpSecret, algorithm: Algorithm, digits: Digits, counter: u64) -> OtpCode {
    OtpCode {
        digits: render(truncate(secret, algorithm, counter), digits),
        window: None,
    }
}

/// The TOTP code (RFC 6238) at time `now`, with time steps of `period`
/// seconds counted from the Unix epoch (T0 = 0).
///
/// A time before the epoch (a device with a broken clock) counts as time step
/// 0, so it yields the code of 1970-01-01T00:00:00Z and a window of
/// `[0, period)` that does not contain `now`. Codes never panic, even at
/// `i64::MAX`; the end of the window then saturates at `i64::MAX`.
pub fn totp(
    secret: &OtpSecret,
    algorithm: Algorithm,
    digits: Digits,
    period: Period,
    now: UnixTime,
) -> OtpCode {
    let period_secs = i64::from(period.get());
    // `Period` is 1..=3600, so the division cannot be by zero; `max(1)` keeps
    // that true even if the type's invariant ever changed.
    let step = now.secs().max(0) / period_secs.max(1);
    let valid_from = step.saturating_mul(period_secs);
    let valid_until = valid_from.saturating_add(period_secs);
    let counter = u64::try_from(step).unwrap_or(0);
    OtpCode {
        digits: render(truncate(secret, algorithm, counter), digits),
        window: Some((UnixTime(valid_from), UnixTime(valid_until))),
    }
}

/// The current code of an account: the TOTP code at `now`, or the HOTP code at
/// the counter stored in `params.kind` (the vault increments and persists the
/// counter before it calls this; `now` is then unused).
pub fn code(secret: &OtpSecret, params: &OtpParams, now: UnixTime) -> OtpCode {
    match params.kind {
        OtpKind::Totp { period } => totp(secret, params.algorithm, params.digits, period, now),
        OtpKind::Hotp { counter } => hotp(secret, params.algorithm, params.digits, counter),
    }
}

/// The `ring` HMAC algorithm for an OTP algorithm.
fn hmac_algorithm(algorithm: Algorithm) -> hmac::Algorithm {
    match algorithm {
        Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Algorithm::Sha256 => hmac::HMAC_SHA256,
        Algorithm::Sha512 => hmac::HMAC_SHA512,
    }
}

/// HMAC of the big-endian counter followed by RFC 4226 dynamic truncation: the
/// 31-bit number that the decimal code is taken from.
fn truncate(secret: &OtpSecret, algorithm: Algorithm, counter: u64) -> u32 {
    let key = hmac::Key::new(hmac_algorithm(algorithm), secret.expose());
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    dynamic_truncation(tag.as_ref())
}

/// RFC 4226 section 5.3: the low nibble of the last byte picks an offset, and
/// the four bytes there (top bit cleared) are the result. Every HMAC output is
/// at least 20 bytes, so `offset + 3 <= 18` is always in range; a shorter slice
/// (impossible here) yields 0 instead of a panic.
fn dynamic_truncation(mac: &[u8]) -> u32 {
    let offset = mac.last().map_or(0, |b| usize::from(b & 0x0f));
    match mac.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a & 0x7f, b, c, d]),
        _ => 0,
    }
}

/// The last `digits` decimal digits of `value`, zero-padded.
fn render(value: u32, digits: Digits) -> Zeroizing<String> {
    let width = usize::from(digits.get());
    let modulus = 10u32.pow(u32::from(digits.get()));
    let mut out = Zeroizing::new(String::with_capacity(width));
    // Write straight into the zeroized buffer (no temporary String). Writing to
    // a String cannot fail.
    let _ = fmt::Write::write_fmt(&mut *out, format_args!("{:0width$}", value % modulus));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretBytes;

    fn secret(bytes: &[u8]) -> OtpSecret {
        OtpSecret::from_bytes(SecretBytes::copy_from(bytes)).unwrap()
    }

    fn digits(n: u8) -> Digits {
        Digits::new(n).unwrap()
    }

    /// RFC 4226 Appendix D: the secret is the ASCII string "12345678901234567890".
    const RFC4226_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let s = secret(RFC4226_SECRET);
        for (counter, want) in expected.iter().enumerate() {
            let c = hotp(&s, Algorithm::Sha1, Digits::SIX, counter as u64);
            assert_eq!(c.as_str(), *want, "counter {counter}");
            assert_eq!(c.valid_from(), None);
            assert_eq!(c.valid_until(), None);
        }
    }

    #[test]
    fn rfc4226_appendix_d_intermediate_values() {
        // (HMAC-SHA-1 in hex, truncated value in decimal) for counts 0..=9.
        let table: [(&str, u32); 10] = [
            ("cc93cf18508d94934c64b65d8ba7667fb7cde4b0", 1_284_755_224),
            ("75a48a19d4cbe100644e8ac1397eea747a2d33ab", 1_094_287_082),
            ("0bacb7fa082fef30782211938bc1c5e70416ff44", 137_359_152),
            ("66c28227d03a2d5529262ff016a1e6ef76557ece", 1_726_969_429),
            ("a904c900a64b35909874b33e61c5938a8e15ed1c", 1_640_338_314),
            ("a37e783d7b7233c083d4f62926c7a25f238d0316", 868_254_676),
            ("bc9cd28561042c83f219324d3c607256c03272ae", 1_918_287_922),
            ("a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", 82_162_583),
            ("1b3c89f65e6c9e883012052823443f048b4332db", 673_399_871),
            ("1637409809a679dc698207310c8c7fc07290d9e5", 645_520_489),
        ];
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, RFC4226_SECRET);
        for (counter, (hex, truncated)) in table.iter().enumerate() {
            let tag = hmac::sign(&key, &(counter as u64).to_be_bytes());
            let got: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(&got, hex, "HMAC for counter {counter}");
            assert_eq!(
                dynamic_truncation(tag.as_ref()),
                *truncated,
                "counter {counter}"
            );
            assert_eq!(
                truncate(&secret(RFC4226_SECRET), Algorithm::Sha1, counter as u64),
                *truncated
            );
        }
    }

    #[test]
    fn rfc4226_section_5_4_truncation_example() {
        // The worked example in RFC 4226 section 5.4.
        let mac = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19,
            0xda, 0x8e, 0x94, 0x5b, 0x55, 0x5a,
        ];
        assert_eq!(dynamic_truncation(&mac), 0x50ef_7f19);
        assert_eq!(render(0x50ef_7f19, Digits::SIX).as_str(), "872921");
    }

    /// RFC 6238 Appendix B seeds: "12345678901234567890" repeated to the hash's
    /// output length (20, 32 and 64 bytes).
    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc6238_appendix_b_all_rows() {
        // (time, SHA-1, SHA-256, SHA-512), 8 digits, 30-second steps.
        let table: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        assert_eq!(SEED_SHA256.len(), 32);
        assert_eq!(SEED_SHA512.len(), 64);
        let eight = digits(8);
        for (time, sha1, sha256, sha512) in table {
            let now = UnixTime(time);
            let run = |seed: &[u8], alg| totp(&secret(seed), alg, eight, Period::THIRTY, now);
            assert_eq!(
                run(SEED_SHA1, Algorithm::Sha1).as_str(),
                sha1,
                "SHA1 at {time}"
            );
            assert_eq!(
                run(SEED_SHA256, Algorithm::Sha256).as_str(),
                sha256,
                "SHA256 at {time}"
            );
            assert_eq!(
                run(SEED_SHA512, Algorithm::Sha512).as_str(),
                sha512,
                "SHA512 at {time}"
            );
        }
    }

    #[test]
    fn six_and_seven_digits_are_the_low_digits_of_the_same_value() {
        // RFC 6238 row T = 59: SHA-1 8-digit code 94287082.
        let s = secret(SEED_SHA1);
        let at = |n| totp(&s, Algorithm::Sha1, digits(n), Period::THIRTY, UnixTime(59));
        assert_eq!(at(6).as_str(), "287082");
        assert_eq!(at(7).as_str(), "4287082");
        assert_eq!(at(8).as_str(), "94287082");
        // RFC 4226 counter 1 is the same HMAC input as time step 1.
        assert_eq!(hotp(&s, Algorithm::Sha1, digits(7), 1).as_str(), "4287082");
    }

    #[test]
    fn leading_zeros_are_kept() {
        // RFC 6238 row T = 1111111109, SHA-1: 07081804.
        let s = secret(SEED_SHA1);
        let c = totp(
            &s,
            Algorithm::Sha1,
            digits(8),
            Period::THIRTY,
            UnixTime(1_111_111_109),
        );
        assert_eq!(c.as_str(), "07081804");
        assert_eq!(c.code(), "07081804");
        // A truncated value below 10^5 still renders six characters.
        assert_eq!(render(42, Digits::SIX).as_str(), "000042");
        assert_eq!(render(0, digits(8)).as_str(), "00000000");
    }

    #[test]
    fn non_default_period_uses_its_own_steps() {
        let s = secret(SEED_SHA1);
        let sixty = Period::new(60).unwrap();
        // 60-second steps: t = 119 is step 1, i.e. RFC 4226 counter 1.
        let c = totp(&s, Algorithm::Sha1, Digits::SIX, sixty, UnixTime(119));
        assert_eq!(c.as_str(), "287082");
        assert_eq!(c.valid_from(), Some(UnixTime(60)));
        assert_eq!(c.valid_until(), Some(UnixTime(120)));
        // t = 120 is step 2: RFC 4226 counter 2.
        let c = totp(&s, Algorithm::Sha1, Digits::SIX, sixty, UnixTime(120));
        assert_eq!(c.as_str(), "359152");
        // 1-second steps: the step is the time itself.
        let one = Period::new(1).unwrap();
        let c = totp(&s, Algorithm::Sha1, Digits::SIX, one, UnixTime(9));
        assert_eq!(c.as_str(), "520489");
        assert_eq!(c.valid_from(), Some(UnixTime(9)));
        assert_eq!(c.valid_until(), Some(UnixTime(10)));
    }

    #[test]
    fn validity_window_brackets_now() {
        let s = secret(SEED_SHA1);
        let at = |t| {
            totp(
                &s,
                Algorithm::Sha1,
                Digits::SIX,
                Period::THIRTY,
                UnixTime(t),
            )
        };
        // 1234567890 is a multiple of 30, so 1234567900 lies 10 s into a step.
        let c = at(1_234_567_900);
        assert_eq!(c.valid_from(), Some(UnixTime(1_234_567_890)));
        assert_eq!(c.valid_until(), Some(UnixTime(1_234_567_920)));
        // Same code for every second of the window, different ones around it.
        assert_eq!(c, at(1_234_567_890));
        assert_eq!(c, at(1_234_567_919));
        assert_ne!(c.as_str(), at(1_234_567_889).as_str());
        assert_ne!(c.as_str(), at(1_234_567_920).as_str());
        // RFC 6238: T = 1234567890 is SHA-1 8-digit 89005924, so 6 digits 005924.
        assert_eq!(c.as_str(), "005924");
    }

    #[test]
    fn time_before_the_epoch_is_step_zero() {
        let s = secret(SEED_SHA1);
        let zero = totp(
            &s,
            Algorithm::Sha1,
            Digits::SIX,
            Period::THIRTY,
            UnixTime(0),
        );
        assert_eq!(zero.as_str(), "755224"); // RFC 4226 counter 0
        for t in [-1, -29, -31, -1_000_000, i64::MIN] {
            let c = totp(
                &s,
                Algorithm::Sha1,
                Digits::SIX,
                Period::THIRTY,
                UnixTime(t),
            );
            assert_eq!(c, zero, "t = {t}");
            assert_eq!(c.valid_from(), Some(UnixTime(0)));
            assert_eq!(c.valid_until(), Some(UnixTime(30)));
        }
    }

    #[test]
    fn extreme_times_and_counters_do_not_panic() {
        let s = secret(SEED_SHA1);
        for period in [1, 30, 3600] {
            let p = Period::new(period).unwrap();
            let c = totp(&s, Algorithm::Sha512, digits(8), p, UnixTime(i64::MAX));
            assert_eq!(c.as_str().len(), 8);
            let from = c.valid_from().unwrap().secs();
            assert!(i64::MAX - from < i64::from(period));
            assert_eq!(
                c.valid_until(),
                Some(UnixTime(from.saturating_add(i64::from(period))))
            );
        }
        for counter in [u64::MAX, u64::MAX - 1, 1 << 63] {
            for alg in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
                assert_eq!(hotp(&s, alg, digits(7), counter).as_str().len(), 7);
            }
        }
        // The counter is hashed as 8 bytes, so the high bits matter.
        assert_ne!(
            hotp(&s, Algorithm::Sha1, digits(8), 1 << 32),
            hotp(&s, Algorithm::Sha1, digits(8), 0)
        );
    }

    #[test]
    fn code_dispatches_on_kind() {
        let s = secret(SEED_SHA1);
        let totp_params = OtpParams {
            algorithm: Algorithm::Sha1,
            digits: digits(8),
            kind: OtpKind::Totp {
                period: Period::THIRTY,
            },
        };
        let c = code(&s, &totp_params, UnixTime(59));
        assert_eq!(c.as_str(), "94287082");
        assert_eq!(c.valid_until(), Some(UnixTime(60)));

        let hotp_params = OtpParams {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            kind: OtpKind::Hotp { counter: 9 },
        };
        let c = code(&s, &hotp_params, UnixTime(1_000_000));
        assert_eq!(c.as_str(), "520489");
        assert_eq!(c.valid_from(), None);
    }

    #[test]
    fn algorithms_give_different_codes_for_the_same_key() {
        let s = secret(SEED_SHA1);
        let c = |alg| hotp(&s, alg, digits(8), 1).as_str().to_owned();
        assert_ne!(c(Algorithm::Sha1), c(Algorithm::Sha256));
        assert_ne!(c(Algorithm::Sha256), c(Algorithm::Sha512));
    }

    #[test]
    fn debug_does_not_show_the_code() {
        let s = secret(RFC4226_SECRET);
        let c = hotp(&s, Algorithm::Sha1, Digits::SIX, 0);
        let printed = format!("{c:?}");
        assert!(!printed.contains("755224"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }
}
