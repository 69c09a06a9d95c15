//! The JSON document stored, encrypted, in `accounts.meta`.
//!
//! This is the vault's own on-disk shape, written out field by field instead
//! of serializing [`Account`] directly: the file format must not change when
//! someone refactors an in-memory type, and an independent decoder needs a
//! fixed description (docs/vault.md). Exactly one of `otp` and `push` is set.
//!
//! ```json
//! {"name": "alice@example.com", "issuer": "GitHub",
//!  "otp": {"algorithm": "SHA1", "digits": 6, "type": "totp", "period": 30}}
//! {"name": "Depot", "issuer": null,
//!  "push": {"server": "https://id.example.de", "device_id": "d1", "login": "12345",
//!           "server_jwk": {…}, "device_jwk": {…}}}
//! ```

use serde::{Deserialize, Serialize};

use super::VaultError;
use crate::account::{Account, AccountDetails, AccountId, DeviceId, PushAccount, ServerUrl};
use crate::jose::Jwk;
use crate::otp::{Algorithm, Digits, OtpKind, OtpParams, Period};

/// The value of the plaintext `accounts.kind` column for an OTP account.
pub(crate) const KIND_OTP: &str = "otp";
/// The value of the plaintext `accounts.kind` column for a push account.
pub(crate) const KIND_PUSH: &str = "push";

#[derive(Serialize, Deserialize)]
struct MetaRecord {
    name: String,
    issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    otp: Option<OtpRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    push: Option<PushRecord>,
}

#[derive(Serialize, Deserialize)]
struct OtpRecord {
    algorithm: String,
    digits: u8,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct PushRecord {
    server: String,
    device_id: String,
    login: String,
    server_jwk: Jwk,
    device_jwk: Jwk,
}

const BAD: VaultError = VaultError::Corrupt {
    what: "account metadata",
};

/// The plaintext `kind` column value of an account.
pub(crate) fn kind_of(details: &AccountDetails) -> &'static str {
    match details {
        AccountDetails::Otp(_) => KIND_OTP,
        AccountDetails::Push(_) => KIND_PUSH,
    }
}

/// Serializes an account's metadata (everything but its id and secret).
pub(crate) fn encode(account: &Account) -> Result<Vec<u8>, VaultError> {
    let (otp, push) = match &account.details {
        AccountDetails::Otp(p) => {
            let (kind, period, counter) = match p.kind {
                OtpKind::Totp { period } => ("totp", Some(period.get()), None),
                OtpKind::Hotp { counter } => ("hotp", None, Some(counter)),
            };
            let algorithm = match p.algorithm {
                Algorithm::Sha1 => "SHA1",
                Algorithm::Sha256 => "SHA256",
                Algorithm::Sha512 => "SHA512",
            };
            let otp = OtpRecord {
                algorithm: algorithm.to_owned(),
                digits: p.digits.get(),
                kind: kind.to_owned(),
                period,
                counter,
            };
            (Some(otp), None)
        }
        AccountDetails::Push(p) => {
            let push = PushRecord {
                server: p.server.as_str().to_owned(),
                device_id: p.device_id.as_str().to_owned(),
                login: p.login.clone(),
                server_jwk: p.server_jwk.clone(),
                device_jwk: p.device_jwk.clone(),
            };
            (None, Some(push))
        }
    };
    let record = MetaRecord {
        name: account.name.clone(),
        issuer: account.issuer.clone(),
        otp,
        push,
    };
    serde_json::to_vec(&record).map_err(|_| BAD)
}

/// Parses decrypted metadata back into an account; `kind` is the plaintext
/// column, which must agree with the encrypted document.
pub(crate) fn decode(id: AccountId, kind: &str, json: &[u8]) -> Result<Account, VaultError> {
    let record: MetaRecord = serde_json::from_slice(json).map_err(|_| BAD)?;
    let details = match (record.otp, record.push, kind) {
        (Some(o), None, KIND_OTP) => AccountDetails::Otp(otp_params(&o)?),
        (None, Some(p), KIND_PUSH) => AccountDetails::Push(PushAccount {
            server: ServerUrl::parse(&p.server).map_err(|_| BAD)?,
            device_id: DeviceId::parse(&p.device_id).map_err(|_| BAD)?,
            login: p.login,
            server_jwk: p.server_jwk,
            device_jwk: p.device_jwk,
        }),
        _ => return Err(BAD),
    };
    Ok(Account {
        id,
        name: record.name,
        issuer: record.issuer,
        details,
    })
}

fn otp_params(o: &OtpRecord) -> Result<OtpParams, VaultError> {
    let algorithm = match o.algorithm.as_str() {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        _ => return Err(BAD),
    };
    let digits = Digits::new(o.digits).map_err(|_| BAD)?;
    let kind = match (o.kind.as_str(), o.period, o.counter) {
        ("totp", Some(p), None) => OtpKind::Totp {
            period: Period::new(p).map_err(|_| BAD)?,
        },
        ("hotp", None, Some(counter)) => OtpKind::Hotp { counter },
        _ => return Err(BAD),
    };
    Ok(OtpParams {
        algorithm,
        digits,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::EcKeyPair;

    fn otp_account(kind: OtpKind) -> Account {
        Account {
            id: AccountId(3),
            name: "alice@example.com".into(),
            issuer: Some("GitHub".into()),
            details: AccountDetails::Otp(OtpParams {
                algorithm: Algorithm::Sha256,
                digits: Digits::new(8).unwrap(),
                kind,
            }),
        }
    }

    #[test]
    fn otp_round_trip_and_shape() {
        let a = otp_account(OtpKind::Totp {
            period: Period::new(60).unwrap(),
        });
        let json = encode(&a).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "alice@example.com", "issuer": "GitHub",
                "otp": {"algorithm": "SHA256", "digits": 8, "type": "totp", "period": 60}})
        );
        assert_eq!(decode(AccountId(3), KIND_OTP, &json).unwrap(), a);
        assert!(
            decode(AccountId(3), KIND_PUSH, &json).is_err(),
            "kind column must agree"
        );

        let h = otp_account(OtpKind::Hotp { counter: u64::MAX });
        let json = encode(&h).unwrap();
        assert_eq!(decode(AccountId(3), KIND_OTP, &json).unwrap(), h);
    }

    #[test]
    fn push_round_trip() {
        let (k1, _) = EcKeyPair::generate().unwrap();
        let (k2, _) = EcKeyPair::generate().unwrap();
        let a = Account {
            id: AccountId(9),
            name: "Depot".into(),
            issuer: None,
            details: AccountDetails::Push(PushAccount {
                server: ServerUrl::parse("https://id.example.de").unwrap(),
                device_id: DeviceId::parse("dev-1").unwrap(),
                login: "12345".into(),
                server_jwk: k1.public_jwk(),
                device_jwk: k2.public_jwk(),
            }),
        };
        let json = encode(&a).unwrap();
        assert_eq!(decode(AccountId(9), KIND_PUSH, &json).unwrap(), a);
    }

    #[test]
    fn malformed_documents_are_corrupt() {
        for bad in [
            r#"{"name":"a","issuer":null}"#,
            r#"{"name":"a","issuer":null,"otp":{"algorithm":"MD5","digits":6,"type":"totp","period":30}}"#,
            r#"{"name":"a","issuer":null,"otp":{"algorithm":"SHA1","digits":9,"type":"totp","period":30}}"#,
            r#"{"name":"a","issuer":null,"otp":{"algorithm":"SHA1","digits":6,"type":"hotp","period":30}}"#,
            r#"not json"#,
        ] {
            assert_eq!(
                decode(AccountId(1), KIND_OTP, bad.as_bytes()),
                Err(BAD),
                "{bad}"
            );
        }
    }
}
