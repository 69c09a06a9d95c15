//! Money in euro cents, and VAT. Exact integer arithmetic: no floating point
//! ever touches an amount that ends up on a commission statement.

use serde::{Deserialize, Serialize};

/// An amount in euro cents.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Cents(pub i64);

impl Cents {
    /// Formats as German euros: "1.234,56 €" style without the symbol, e.g. "0,10".
    pub fn to_de_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{},{:02}", abs / 100, abs % 100)
    }

    /// Formats as a plain decimal ("0.10"), for CSV and JSON.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A VAT rate in basis points (19 % = 1900).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VatRate(pub u32);

impl VatRate {
    /// Germany's standard rate, 19 %.
    pub const DE_STANDARD: VatRate = VatRate(1900);

    /// The VAT on `net`, rounded half up to the cent (commercial rounding).
    pub fn vat_on(self, net: Cents) -> Cents {
        let num = i128::from(net.0) * i128::from(self.0);
        let rounded = (num.abs() + 5_000) / 10_000;
        let signed = if num < 0 { -rounded } else { rounded };
        Cents(i64::try_from(signed).unwrap_or(i64::MAX))
    }
}

impl Default for VatRate {
    fn default() -> Self {
        Self::DE_STANDARD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_exact_and_rounds_half_up() {
        let r = VatRate::DE_STANDARD;
        assert_eq!(r.vat_on(Cents(10)), Cents(2)); // 1.9 ct -> 2 ct
        assert_eq!(r.vat_on(Cents(1000)), Cents(190)); // 100 SMS
        assert_eq!(r.vat_on(Cents(30)), Cents(6)); // 5.7 -> 6
        assert_eq!(r.vat_on(Cents(50)), Cents(10)); // 9.5 -> 10
        assert_eq!(r.vat_on(Cents(0)), Cents(0));
        assert_eq!(VatRate(700).vat_on(Cents(10)), Cents(1)); // 0.7 -> 1
    }

    #[test]
    fn formatting() {
        assert_eq!(Cents(10).to_de_string(), "0,10");
        assert_eq!(Cents(123_456).to_de_string(), "1234,56");
        assert_eq!(Cents(119).to_decimal_string(), "1.19");
        assert_eq!(Cents(-5).to_decimal_string(), "-0.05");
    }
}
