//! From the app PIN to the key that wraps the vault key: Argon2id.
//!
//! A PIN has little entropy, so whoever copies the vault file can try PINs
//! offline; the only defence there is making each guess expensive. Argon2id
//! (RFC 9106) is memory-hard, which takes away most of the advantage of GPUs
//! and ASICs. The parameters are stored in the file so that they can be raised
//! in a later version without breaking existing vaults, and they are an
//! explicit input of [`Vault::create`](super::Vault::create) so tests can use
//! cheap ones.
//!
//! One Argon2id output `K` (32 bytes) is split with HMAC-SHA-256 into two
//! independent values: the key that wraps the vault key
//! (`HMAC(K, "ident-vault-v1|pin-wrap")`) and a PIN check value stored in the
//! file (`HMAC(K, "ident-vault-v1|pin-check")`). The check value lets the vault
//! tell a wrong PIN from a damaged wrapped key, so a correct PIN never counts as
//! a failure. It gives an offline attacker nothing new: the wrapped key already
//! lets them test a guess at the same Argon2id cost.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::hmac;
use zeroize::Zeroizing;

use super::VaultError;
use crate::secret::SecretString;

/// The Argon2 version this vault uses: 0x13 (19), the current one.
pub const ARGON2_VERSION: u32 = 0x13;
/// Length of the random salt stored in the file.
pub const SALT_LEN: usize = 16;

/// Argon2id cost parameters.
///
/// Values read from a file are checked against the same bounds as new ones,
/// so a tampered file cannot make the app allocate gigabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// The production default: m = 64 MiB, t = 3, p = 1.
    ///
    /// This is RFC 9106's second recommended option (section 4: 64 MiB, t = 3,
    /// for memory-constrained environments) and well above OWASP's Password
    /// Storage Cheat Sheet minimums (m = 19 MiB, t = 2 or m = 46 MiB, t = 1).
    /// 64 MiB fits on the low-end Android phones we support; `p = 1` because
    /// the `argon2` crate computes lanes one after another, so more lanes would
    /// cost us the same time and give an attacker parallelism for free. It
    /// takes a few hundred milliseconds on a phone, once per unlock.
    pub const RECOMMENDED: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// The smallest memory cost accepted (Argon2 needs 8 KiB per lane).
    pub const MIN_MEMORY_KIB: u32 = 8;
    /// The largest memory cost accepted: 1 GiB.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The largest iteration count accepted.
    pub const MAX_ITERATIONS: u32 = 64;
    /// The largest lane count accepted.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Parameters `m` (KiB), `t` and `p`, if they are within the accepted bounds.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, VaultError> {
        if !(1..=Self::MAX_PARALLELISM).contains(&parallelism) {
            return Err(VaultError::InvalidKdfParams {
                what: "parallelism",
            });
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&iterations) {
            return Err(VaultError::InvalidKdfParams { what: "iterations" });
        }
        let min_memory = Self::MIN_MEMORY_KIB.saturating_mul(parallelism);
        if !(min_memory..=Self::MAX_MEMORY_KIB).contains(&memory_kib) {
            return Err(VaultError::InvalidKdfParams { what: "memory" });
        }
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    /// Cheap parameters (256 KiB, t = 1) for tests and benchmarks only: a PIN
    /// behind them can be brute-forced in seconds. Never use them in the app.
    pub const fn insecure_for_tests() -> Self {
        Self {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// Memory cost in KiB.
    pub fn memory_kib(self) -> u32 {
        self.memory_kib
    }

    /// Number of passes over the memory.
    pub fn iterations(self) -> u32 {
        self.iterations
    }

    /// Number of lanes.
    pub fn parallelism(self) -> u32 {
        self.parallelism
    }
}

/// What the PIN yields: the key that wraps the vault key and the PIN check value.
pub(crate) struct PinKeys {
    /// Key for AES-256-GCM over the vault key.
    pub(crate) wrap: Zeroizing<[u8; 32]>,
    check: Zeroizing<[u8; 32]>,
}

impl PinKeys {
    /// The value stored in the file to recognise this PIN.
    pub(crate) fn check_value(&self) -> &[u8; 32] {
        &self.check
    }

    /// Whether `stored` is this PIN's check value, compared in constant time.
    pub(crate) fn matches(&self, stored: &[u8]) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"ident-vault-v1|pin-check-compare");
        // Comparing MACs of both sides is a constant-time comparison with the
        // primitives ring exposes.
        let mine = hmac::sign(&key, self.check.as_slice());
        hmac::verify(&key, stored, mine.as_ref()).is_ok() && stored.len() == 32
    }
}

/// Runs Argon2id over the PIN and splits the result.
pub(crate) fn derive(
    pin: &SecretString,
    params: KdfParams,
    salt: &[u8],
) -> Result<PinKeys, VaultError> {
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|_| VaultError::InvalidKdfParams { what: "argon2" })?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut k = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pin.expose().as_bytes(), salt, k.as_mut_slice())
        .map_err(|_| VaultError::InvalidKdfParams { what: "salt" })?;
    let split = hmac::Key::new(hmac::HMAC_SHA256, k.as_slice());
    let mut wrap = Zeroizing::new([0u8; 32]);
    wrap.copy_from_slice(hmac::sign(&split, b"ident-vault-v1|pin-wrap").as_ref());
    let mut check = Zeroizing::new([0u8; 32]);
    check.copy_from_slice(hmac::sign(&split, b"ident-vault-v1|pin-check").as_ref());
    Ok(PinKeys { wrap, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert!(KdfParams::new(8, 1, 1).is_ok());
        assert!(KdfParams::new(7, 1, 1).is_err());
        assert!(KdfParams::new(8, 1, 2).is_err());
        assert!(KdfParams::new(16, 1, 2).is_ok());
        assert!(KdfParams::new(256, 0, 1).is_err());
        assert!(KdfParams::new(256, 65, 1).is_err());
        assert!(KdfParams::new(256, 1, 0).is_err());
        assert!(KdfParams::new(2 * 1024 * 1024, 1, 1).is_err());
        let r = KdfParams::RECOMMENDED;
        assert_eq!(
            (r.memory_kib(), r.iterations(), r.parallelism()),
            (65536, 3, 1)
        );
        assert_eq!(KdfParams::new(65536, 3, 1).unwrap(), r);
    }

    #[test]
    fn derivation_is_deterministic_and_pin_specific() {
        let p = KdfParams::insecure_for_tests();
        let salt = [1u8; SALT_LEN];
        let a = derive(&SecretString::from("246810"), p, &salt).unwrap();
        let b = derive(&SecretString::from("246810"), p, &salt).unwrap();
        let c = derive(&SecretString::from("246811"), p, &salt).unwrap();
        let d = derive(&SecretString::from("246810"), p, &[2u8; SALT_LEN]).unwrap();
        assert_eq!(*a.wrap, *b.wrap);
        assert!(a.matches(b.check_value()));
        assert!(!a.matches(c.check_value()));
        assert!(!a.matches(d.check_value()));
        assert!(!a.matches(&b.check_value()[..31]));
        assert_ne!(*a.wrap, *a.check, "the two halves are independent");
    }

    #[test]
    fn known_answer() {
        // Argon2id(pwd="246810", salt=16×0x01, m=256, t=1, p=1, v=0x13), then
        // HMAC-SHA-256 with the documented labels. Pinned so that a change
        // of derivation (which would lock every user out) fails a test.
        let keys = derive(
            &SecretString::from("246810"),
            KdfParams::insecure_for_tests(),
            &[1u8; SALT_LEN],
        )
        .unwrap();
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(keys.wrap.as_slice()), KNOWN_WRAP);
        assert_eq!(hex(keys.check_value()), KNOWN_CHECK);
    }

    // Computed independently with Python argon2-cffi + hmac (see docs/vault.md).
    const KNOWN_WRAP: &str = "f0b1e823a9feca0c3d211fbf032844490ceb66d140cb612e574037d94085bfe0";
    const KNOWN_CHECK: &str = "a4f7fdf025e1053444a774cc01ab486c3a320fb71bc53d49389427c6ede6d7ca";
}
