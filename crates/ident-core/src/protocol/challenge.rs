//! Login challenges: what the server signs when someone tries to log in, and
//! what the device must check before it shows anything to the user.
//!
//! The server signs with [`sign_challenge`]. The device checks with
//! [`verify_challenge`] against the server key it pinned at enrollment — never
//! a key named by the token — and gets a [`VerifiedChallenge`], the only thing
//! an answer can be built from. So an answer can exist only for a challenge
//! whose signature, type, issuer, audience and time were checked.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::MAX_CHALLENGE_LIFETIME_SECS;
use crate::account::{ChallengeId, DeviceId, ServerUrl};
use crate::jose::{self, EcKeyPair, Jwk, JwsError};
use crate::ports::UnixTime;

/// `typ` of a challenge.
pub const CHALLENGE_TYP: &str = "ident-challenge+jwt";

/// The longest `service`, `login` or `location` shown to the user, in characters.
pub const MAX_CONTEXT_FIELD_CHARS: usize = 200;
/// The longest `user_agent` shown to the user, in characters.
pub const MAX_USER_AGENT_CHARS: usize = 1024;

/// Who is trying to log in, where: shown to the user before they decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeContext {
    /// The portal ("Beispiel-Bank Maklerportal").
    pub service: String,
    /// The login name being used.
    pub login: String,
    /// The browser's IP address.
    pub ip: IpAddr,
    /// The browser's user agent.
    pub user_agent: String,
    /// A coarse location derived from the IP, if the server knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// The claims of a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeClaims {
    /// The server's base URL, exactly as in the enrollment link (normalised).
    pub iss: ServerUrl,
    /// The device the challenge is for.
    pub aud: DeviceId,
    /// The challenge id.
    pub jti: ChallengeId,
    /// Issued at (server clock).
    pub iat: i64,
    /// Expires at (server clock).
    pub exp: i64,
    /// What to show the user.
    pub ctx: ChallengeContext,
    /// Whether the user must type the number shown on the login page.
    pub nm: bool,
}

/// Why a challenge was refused. The device shows nothing for a refused
/// challenge; it may log the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Malformed, wrong `alg` or `typ`, or not signed by the pinned server key.
    #[error("the login request is not validly signed by the server: {0}")]
    Jws(JwsError),
    /// The claims are not those of a challenge.
    #[error("the login request is malformed")]
    Claims,
    /// `iss` is not the server this account is enrolled with.
    #[error("the login request comes from another server")]
    WrongIssuer,
    /// `aud` is another device.
    #[error("the login request is meant for another device")]
    WrongAudience,
    /// `exp` has passed (beyond the clock-skew tolerance).
    #[error("the login request has expired")]
    Expired,
    /// `iat` is in the future (beyond the clock-skew tolerance).
    #[error("the login request is dated in the future; check the device's clock")]
    NotYetValid,
    /// `exp` is not after `iat`, or the lifetime exceeds the maximum.
    #[error("the login request has an implausible lifetime")]
    Lifetime,
    /// A context field is empty where it must not be, too long, or contains
    /// control or bidirectional-override characters.
    #[error("the login request's details are malformed")]
    Context,
}

/// Server side: signs `claims` with the server key, header
/// `{alg: ES256, typ: ident-challenge+jwt, kid}`.
pub fn sign_challenge(
    server_key: &EcKeyPair,
    kid: &str,
    claims: &ChallengeClaims,
) -> Result<String, JwsError> {
    jose::sign(server_key, CHALLENGE_TYP, Some(kid), claims)
}

/// A challenge that passed every check of [`verify_challenge`]. Only that
/// function makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChallenge {
    claims: ChallengeClaims,
}

impl VerifiedChallenge {
    /// The challenge id.
    pub fn id(&self) -> &ChallengeId {
        &self.claims.jti
    }

    /// The server that issued it (equal to the account's server).
    pub fn issuer(&self) -> &ServerUrl {
        &self.claims.iss
    }

    /// The device it is for (equal to the account's device id).
    pub fn audience(&self) -> &DeviceId {
        &self.claims.aud
    }

    /// What to show the user.
    pub fn context(&self) -> &ChallengeContext {
        &self.claims.ctx
    }

    /// Whether the user must type the number from the login page.
    pub fn number_required(&self) -> bool {
        self.claims.nm
    }

    /// Issued at (server clock).
    pub fn issued_at(&self) -> UnixTime {
        UnixTime(self.claims.iat)
    }

    /// Expires at (server clock).
    pub fn expires_at(&self) -> UnixTime {
        UnixTime(self.claims.exp)
    }

    /// All verified claims.
    pub fn claims(&self) -> &ChallengeClaims {
        &self.claims
    }
}

impl ChallengeContext {
    /// Whether a device would show this context: the same check
    /// [`verify_challenge`] makes, so a server can refuse to sign a challenge
    /// every device would drop.
    pub fn is_displayable(&self) -> bool {
        context_ok(self)
    }
}

/// `s` without control and bidirectional-formatting characters, cut at `max`
/// characters: makes text a server only passes on (a browser's user agent)
/// displayable instead of refusing it.
pub fn displayable_text(s: &str, max: usize) -> String {
    s.chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .take(max)
        .collect()
}

fn text_ok(s: &str, max: usize, may_be_empty: bool) -> bool {
    (may_be_empty || !s.trim().is_empty())
        && s.chars().count() <= max
        && !s.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// Bidirectional formatting characters, which can make text display as
/// something else than it is ("Bank" shown for "knaB").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn context_ok(ctx: &ChallengeContext) -> bool {
    text_ok(&ctx.service, MAX_CONTEXT_FIELD_CHARS, false)
        && text_ok(&ctx.login, MAX_CONTEXT_FIELD_CHARS, false)
        && text_ok(&ctx.user_agent, MAX_USER_AGENT_CHARS, true)
        && ctx
            .location
            .as_deref()
            .is_none_or(|l| text_ok(l, MAX_CONTEXT_FIELD_CHARS, true))
}

/// Device side: checks `token` against the pinned `server_jwk` and returns the
/// challenge if, in this order: it is a valid ES256 JWS of type
/// `ident-challenge+jwt` signed by that key; its claims parse; `iss` equals
/// `expected_iss`; `aud` equals `device_id`; `exp > iat` and `exp - iat` is at
/// most [`MAX_CHALLENGE_LIFETIME_SECS`]; `iat <= now + skew`; `now < exp + skew`;
/// and its context is displayable. `skew` is in seconds (negative counts as 0);
/// use [`CHALLENGE_SKEW_SECS`](super::CHALLENGE_SKEW_SECS).
pub fn verify_challenge(
    token: &str,
    server_jwk: &Jwk,
    expected_iss: &ServerUrl,
    device_id: &DeviceId,
    now: UnixTime,
    skew: i64,
) -> Result<VerifiedChallenge, ChallengeError> {
    let skew = skew.max(0);
    let verified = jose::verify(token, server_jwk, CHALLENGE_TYP).map_err(ChallengeError::Jws)?;
    let claims: ChallengeClaims = verified.claims().map_err(|_| ChallengeError::Claims)?;
    if &claims.iss != expected_iss {
        return Err(ChallengeError::WrongIssuer);
    }
    if &claims.aud != device_id {
        return Err(ChallengeError::WrongAudience);
    }
    if claims.exp <= claims.iat
        || claims.exp.saturating_sub(claims.iat) > MAX_CHALLENGE_LIFETIME_SECS
    {
        return Err(ChallengeError::Lifetime);
    }
    if claims.iat > now.secs().saturating_add(skew) {
        return Err(ChallengeError::NotYetValid);
    }
    if now.secs() >= claims.exp.saturating_add(skew) {
        return Err(ChallengeError::Expired);
    }
    if !context_ok(&claims.ctx) {
        return Err(ChallengeError::Context);
    }
    Ok(VerifiedChallenge { claims })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> ChallengeClaims {
        ChallengeClaims {
            iss: ServerUrl::parse("https://id.example.de").unwrap(),
            aud: DeviceId::parse("dev-1").unwrap(),
            jti: ChallengeId::parse("c-1").unwrap(),
            iat: now,
            exp: now + 120,
            ctx: ChallengeContext {
                service: "Portal".into(),
                login: "12345".into(),
                ip: "203.0.113.7".parse().unwrap(),
                user_agent: "Firefox".into(),
                location: None,
            },
            nm: true,
        }
    }

    fn check(c: &ChallengeClaims, now: i64) -> Result<VerifiedChallenge, ChallengeError> {
        let k = EcKeyPair::generate().unwrap().0;
        let t = sign_challenge(&k, "srv-1", c).unwrap();
        verify_challenge(
            &t,
            &k.public_jwk(),
            &c.iss.clone(),
            &DeviceId::parse("dev-1").unwrap(),
            UnixTime(now),
            30,
        )
    }

    #[test]
    fn skew_edges() {
        let c = claims(1_000);
        assert!(check(&c, 1_000).is_ok());
        assert!(check(&c, 970).is_ok());
        assert_eq!(check(&c, 969).unwrap_err(), ChallengeError::NotYetValid);
        assert!(check(&c, 1_149).is_ok());
        assert_eq!(check(&c, 1_150).unwrap_err(), ChallengeError::Expired);
    }

    #[test]
    fn lifetime_and_context_checked() {
        let mut c = claims(1_000);
        c.exp = c.iat;
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Lifetime);
        c.exp = c.iat + MAX_CHALLENGE_LIFETIME_SECS + 1;
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Lifetime);
        let mut c = claims(1_000);
        c.ctx.service = "Bank\u{202e}knaB".into();
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Context);
        c.ctx.service = "Bank\n".into();
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Context);
        let mut c = claims(1_000);
        c.ctx.login = " ".into();
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Context);
        let mut c = claims(1_000);
        c.ctx.location = Some("x".repeat(MAX_CONTEXT_FIELD_CHARS + 1));
        assert_eq!(check(&c, 1_000).unwrap_err(), ChallengeError::Context);
        assert!(!c.ctx.is_displayable());
        c.ctx.location = None;
        assert!(c.ctx.is_displayable());
        assert_eq!(displayable_text("Fire\u{202e}fox\n", 5), "Firef");
    }
}
