//! What makes an app PIN acceptable, and hints about weak ones.
//!
//! The hard rule is only a length (4 to 128 characters): the vault must not
//! refuse a PIN the user's organisation prescribes. Everything else is a hint
//! the UI shows while the PIN is typed ("avoid 123456"), because an attacker
//! who copies the vault file tries the common PINs first.

use super::VaultError;
use crate::secret::SecretString;

/// The shortest PIN accepted, in characters.
pub const MIN_PIN_CHARS: usize = 4;
/// The longest PIN (or passphrase) accepted, in characters.
pub const MAX_PIN_CHARS: usize = 128;

/// Checks a new PIN: [`MIN_PIN_CHARS`] to [`MAX_PIN_CHARS`] characters.
pub fn validate_pin(pin: &SecretString) -> Result<(), VaultError> {
    let n = pin.expose().chars().count();
    if (MIN_PIN_CHARS..=MAX_PIN_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(VaultError::InvalidPin {
            min: MIN_PIN_CHARS,
            max: MAX_PIN_CHARS,
        })
    }
}

/// Why a PIN the user is choosing now was refused by [`check_new_pin`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewPinRefusal {
    /// Shorter than [`MIN_PIN_CHARS`] or longer than [`MAX_PIN_CHARS`].
    Length {
        /// Minimum length in characters.
        min: usize,
        /// Maximum length in characters.
        max: usize,
    },
    /// Easy to guess: every weakness found, in the order of [`pin_weaknesses`].
    Weak(Vec<PinWeakness>),
}

/// Checks a PIN the user is choosing now (setting up the vault, changing the
/// PIN): the length rule of [`validate_pin`] and none of the
/// [`pin_weaknesses`]. The vault itself enforces only the length, so a vault
/// whose PIN was set elsewhere still opens; the bridges (app, CLI) refuse
/// weak *new* PINs through this one function, so they agree on what is weak.
pub fn check_new_pin(pin: &SecretString) -> Result<(), NewPinRefusal> {
    if validate_pin(pin).is_err() {
        return Err(NewPinRefusal::Length {
            min: MIN_PIN_CHARS,
            max: MAX_PIN_CHARS,
        });
    }
    let weak = pin_weaknesses(pin);
    if weak.is_empty() {
        Ok(())
    } else {
        Err(NewPinRefusal::Weak(weak))
    }
}

/// A reason a PIN is easy to guess. The UI turns these into German hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinWeakness {
    /// Fewer than 6 characters: 10,000 four-digit PINs fall to an offline
    /// attack on a copied file within hours.
    Short,
    /// One character repeated ("000000").
    Repeated,
    /// Digits counting up or down ("123456", "987654").
    Sequence,
    /// A short pattern repeated ("121212", "123123").
    Pattern,
}

/// The weaknesses of `pin`, empty when none is found. Does not log or keep it.
pub fn pin_weaknesses(pin: &SecretString) -> Vec<PinWeakness> {
    let chars: Vec<char> = pin.expose().chars().collect();
    let mut out = Vec::new();
    if chars.len() < 6 {
        out.push(PinWeakness::Short);
    }
    if chars.len() < 2 {
        return out;
    }
    if chars.iter().all(|&c| c == chars[0]) {
        out.push(PinWeakness::Repeated);
        return out;
    }
    let digits: Option<Vec<i32>> = chars
        .iter()
        .map(|c| c.to_digit(10).and_then(|d| i32::try_from(d).ok()))
        .collect();
    if let Some(d) = digits {
        let steps: Vec<i32> = d.windows(2).map(|w| (w[1] - w[0]).rem_euclid(10)).collect();
        if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == 9) {
            out.push(PinWeakness::Sequence);
        }
    }
    let n = chars.len();
    let periodic = (1..=n / 2)
        .filter(|p| n % p == 0)
        .any(|p| chars.iter().enumerate().all(|(i, &c)| c == chars[i % p]));
    if periodic {
        out.push(PinWeakness::Pattern);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<PinWeakness> {
        pin_weaknesses(&SecretString::from(s))
    }

    #[test]
    fn hints() {
        use PinWeakness::*;
        assert_eq!(w("1234"), [Short, Sequence]);
        assert_eq!(w("000000"), [Repeated]);
        assert_eq!(w("123456"), [Sequence]);
        assert_eq!(w("987654"), [Sequence]);
        assert_eq!(w("890123"), [Sequence]);
        assert_eq!(w("121212"), [Pattern]);
        assert_eq!(w("123123"), [Pattern]);
        assert!(w("246810").is_empty());
        assert!(w("830571").is_empty());
        assert!(w("correct horse").is_empty());
    }

    #[test]
    fn new_pin_check() {
        let check = |s: &str| check_new_pin(&SecretString::from(s));
        assert_eq!(check("830571"), Ok(()));
        assert_eq!(check("correct horse"), Ok(()));
        assert_eq!(
            check("123"),
            Err(NewPinRefusal::Length {
                min: MIN_PIN_CHARS,
                max: MAX_PIN_CHARS
            })
        );
        assert_eq!(
            check("1357"),
            Err(NewPinRefusal::Weak(vec![PinWeakness::Short]))
        );
        assert_eq!(
            check("123456"),
            Err(NewPinRefusal::Weak(vec![PinWeakness::Sequence]))
        );
        assert!(check(&"7".repeat(129)).is_err());
    }

    #[test]
    fn length_rule() {
        assert!(validate_pin(&SecretString::from("1234")).is_ok());
        assert!(validate_pin(&SecretString::from("123")).is_err());
        assert!(validate_pin(&SecretString::from("ääää")).is_ok());
        assert!(validate_pin(&SecretString::from("1".repeat(129).as_str())).is_err());
    }
}
