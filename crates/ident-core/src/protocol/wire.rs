//! The JSON bodies of the device API, exactly as `docs/protocol.md` lists them.
//!
//! One set of types for both ends: the client serialises requests and parses
//! responses with them, the server does the reverse. Fields that arrive from
//! the other side are typed (device ids, JWKs, tokens, codes), so a body that
//! deserialises is already well-formed. Secrets in bodies (the enrollment
//! token, the SMS code) keep a redacted `Debug`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::account::DeviceId;
use crate::enroll_link::EnrollToken;
use crate::jose::Jwk;

/// The device's operating system, as told to the server at enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Platform {
    /// iOS / iPadOS.
    Ios,
    /// Android.
    Android,
    /// macOS desktop.
    Macos,
    /// Windows desktop.
    Windows,
    /// Linux desktop.
    Linux,
    /// Anything else (also what an unknown value from a newer client becomes).
    #[serde(other)]
    Other,
}

/// Which push service delivers "a challenge is waiting" to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushProvider {
    /// Firebase Cloud Messaging (Android).
    Fcm,
    /// Apple Push Notification service.
    Apns,
    /// No push: the device long-polls (desktops, tests).
    None,
}

/// How the server reaches the device by push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRegistration {
    /// The push service.
    pub provider: PushProvider,
    /// The provider's device token; absent with [`PushProvider::None`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `POST /device/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time token from the enrollment link.
    pub token: EnrollToken,
    /// The new device key's public half.
    pub jwk: Jwk,
    /// A name for the device the user recognises ("Max' iPhone").
    pub device_name: String,
    /// The device's platform.
    pub platform: Platform,
    /// Push registration, if the device has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushRegistration>,
}

/// The account the device was enrolled for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Who runs the service ("Beispiel-Bank").
    pub issuer: String,
    /// What the user sees as the account's name.
    pub label: String,
    /// The login name at the relying party.
    pub login: String,
}

/// Server policy told to the device at enrollment. Informational: the device
/// takes number matching from each challenge's `nm`, not from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Whether challenges ask for a number.
    pub number_matching: bool,
    /// How many digits the number has (2 to 6).
    pub number_digits: u8,
    /// Challenge lifetime in seconds.
    pub challenge_lifetime: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            number_matching: true,
            number_digits: 2,
            challenge_lifetime: 120,
        }
    }
}

/// A successful enrollment (response to enroll or enroll/confirm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledBody {
    /// The id the server gave this device.
    pub device_id: DeviceId,
    /// The account enrolled.
    pub account: AccountInfo,
    /// The server's signing key; the device checks it against the link's `fp`.
    pub server_jwk: Jwk,
    /// The server's policy.
    #[serde(default)]
    pub policy: Policy,
}

/// The marker value of [`SmsRequiredBody::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsRequiredStatus {
    /// `"sms_required"`.
    SmsRequired,
}

/// The enrollment waits for the code the server sent by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRequiredBody {
    /// Always `sms_required`.
    pub status: SmsRequiredStatus,
}

/// The response to `POST /device/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnrollResponse {
    /// `{"status": "sms_required"}`.
    SmsRequired(SmsRequiredBody),
    /// `{device_id, account, server_jwk, policy}`.
    Enrolled(EnrolledBody),
}

/// Why an SMS code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the SMS code must be exactly 6 digits")]
pub struct SmsCodeError;

/// A 6-digit SMS code. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    /// Parses exactly 6 ASCII digits (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Self, SmsCodeError> {
        let s = s.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(SmsCodeError)
        }
    }

    /// The digits. Never log them.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmsCode([REDACTED])")
    }
}

impl Serialize for SmsCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SmsCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `POST /device/v1/enroll/confirm`. The token names the pending enrollment;
/// the proof is signed by the key sent in the enroll request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollConfirmRequest {
    /// The same one-time token as in the enroll request.
    pub token: EnrollToken,
    /// The code from the SMS.
    pub code: SmsCode,
}

/// The response to `GET /device/v1/challenges`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengesResponse {
    /// The open challenges, as compact JWS.
    pub challenges: Vec<String>,
}

/// `POST /device/v1/challenges/{id}/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRequest {
    /// The answer, as compact JWS.
    pub answer: String,
}

/// What the server made of an answer it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerOutcome {
    /// The login was approved.
    Approved,
    /// The login was denied (also when the number was wrong).
    Denied,
}

/// The response to an accepted answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerResponse {
    /// The outcome.
    pub status: AnswerOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enroll_response_shapes() {
        let sms: EnrollResponse =
            serde_json::from_value(json!({"status": "sms_required"})).unwrap();
        assert!(matches!(sms, EnrollResponse::SmsRequired(_)));
        let jwk = crate::jose::EcKeyPair::generate().unwrap().0.public_jwk();
        let body = json!({
            "device_id": "dev-1",
            "account": {"issuer": "Bank", "label": "Max", "login": "12345"},
            "server_jwk": jwk,
            "policy": {"number_matching": false}
        });
        let EnrollResponse::Enrolled(e) = serde_json::from_value(body).unwrap() else {
            panic!("not enrolled")
        };
        assert_eq!(e.device_id.as_str(), "dev-1");
        assert!(!e.policy.number_matching);
        assert_eq!(e.policy.number_digits, 2);
        assert!(serde_json::from_value::<EnrollResponse>(json!({"status": "other"})).is_err());
        assert!(serde_json::from_value::<EnrollResponse>(json!({"device_id": "a b"})).is_err());
    }

    #[test]
    fn sms_code_is_six_digits_and_redacted() {
        assert!(SmsCode::parse("123456").is_ok());
        assert!(SmsCode::parse(" 123456\n").is_ok());
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
            assert_eq!(SmsCode::parse(bad), Err(SmsCodeError), "{bad}");
        }
        assert!(!format!("{:?}", SmsCode::parse("987654").unwrap()).contains("987654"));
    }

    #[test]
    fn platform_and_push_wire_names() {
        assert_eq!(
            serde_json::to_value(Platform::Macos).unwrap(),
            json!("macos")
        );
        assert_eq!(
            serde_json::from_value::<Platform>(json!("tvos")).unwrap(),
            Platform::Other
        );
        let p = PushRegistration {
            provider: PushProvider::None,
            token: None,
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"provider": "none"})
        );
    }
}
