//! Settings: built-in defaults, overridden by a TOML file (`--config`), then by
//! `IDENT_*` environment variables and command-line flags (see `main.rs`).
//!
//! Every setting has a safe default so that `ident-server serve --db x.db`
//! works; the policy values are the ones protocol.md and product.md name.

use std::net::SocketAddr;
use std::path::PathBuf;

use ident_core::account::ServerUrl;
use serde::Deserialize;
use thiserror::Error;

use crate::telemetry::LogFormat;

/// Why the configuration was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("the configuration file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid setting `{name}`: {message}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// All settings of a running server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// SQLite database file.
    pub db: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The base URL devices and portals use to reach this server (goes into QR
    /// codes). Empty: `http://<bound address>`, for local use and tests.
    pub public_url: String,
    /// JSON-lines file the development SMS gateway writes to; `None` with no
    /// `sms_http_url` means no SMS can be sent (each fails, nothing is charged).
    pub sms_outbox: Option<PathBuf>,
    /// URL of an HTTP SMS provider (`POST {to, text}` with a bearer token; see
    /// `sms_gateway::HttpSmsGateway`). https, or http to loopback only.
    /// Exclusive with `sms_outbox`.
    pub sms_http_url: Option<String>,
    /// Bearer token for `sms_http_url`; required with it. Never logged.
    pub sms_http_token: Option<crate::sms_gateway::BearerToken>,
    /// Log format.
    pub log_format: LogFormat,
    /// fsync every commit (survives power loss, slower). Off: survives process crashes.
    pub durable_power_loss: bool,
    /// The login and enrollment rules.
    pub policy: Policy,
    /// Who runs the service, as the app shows it next to each account
    /// (`account.issuer` of an enrollment), e.g. "Beispiel-Bank".
    pub issuer: String,
    /// Push delivery (FCM / APNs); nothing set: devices long-poll.
    pub push: crate::push::PushConfig,
    /// The reference portal under `/portal/` (off unless enabled).
    pub portal: PortalConfig,
    /// How long finished logins and the audit log are kept.
    pub retention: RetentionConfig,
}

/// The `[retention]` section: how long records the service no longer needs
/// are kept before the hourly purge deletes them (`services::retention`).
/// The SMS ledger is never purged: it is the accounting record (kept ten
/// years under German law).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days a finished login (its transaction, challenges and SMS code) is
    /// kept after its expiry and decision; also used and expired enrollments
    /// and expired or revoked trusted browsers. 0 keeps them for ever.
    /// `IDENT_RETENTION_LOGIN_DAYS` overrides it.
    pub login_days: u32,
    /// Days the audit log is kept; 0 (the default) keeps it for ever — it is
    /// the evidence of who did what, and the recent sign-ins the portal
    /// shows. `IDENT_RETENTION_AUDIT_DAYS` overrides it.
    pub audit_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            login_days: 90,
            audit_days: 0,
        }
    }
}

/// Longest retention accepted (about 30 years): a bigger number is a typo.
pub const MAX_RETENTION_DAYS: u32 = 10_950;

impl RetentionConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, days) in [
            ("retention.login_days", self.login_days),
            ("retention.audit_days", self.audit_days),
        ] {
            if days > MAX_RETENTION_DAYS {
                return Err(ConfigError::Invalid {
                    name,
                    message: format!("must be 0 (keep for ever) to {MAX_RETENTION_DAYS} days"),
                });
            }
        }
        Ok(())
    }
}

/// The `[portal]` section: the reference portal served under `/portal/`, a
/// relying party that calls this server's API over HTTP with its own key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// Serve the portal (default: off).
    pub enabled: bool,
    /// The portal's API key (`ik_…`); required when enabled. The variable
    /// `IDENT_PORTAL_API_KEY` overrides it. Never logged.
    pub api_key: Option<crate::sms_gateway::BearerToken>,
    /// Where the portal reaches the API. Empty: this server's own bound
    /// address (`http://127.0.0.1:<port>` when it listens on all addresses).
    pub api_url: String,
    /// The portal's own SQLite file (sessions, mail templates, send log).
    /// Default: `ident-portal.db` next to `db`.
    pub db: Option<PathBuf>,
    /// The platform's name in page titles and the header.
    pub name: String,
    /// SMTP server for the customer mail: `smtps://user:pass@host:465`,
    /// `smtp://host:587?tls=required`, or plain `smtp://127.0.0.1:2525` on
    /// loopback only. May hold a password: it prints without it.
    pub smtp_url: Option<crate::portal::mail::SmtpUrl>,
    /// Sender address of the customer mail (`Name <address>` or `address`).
    pub mail_from: Option<String>,
    /// The portal's address as customers open it (the customer mail's
    /// `{{ portal_url }}`). Empty: the server's `public_url` + `/portal/`.
    pub public_url: String,
    /// Reverse proxies (addresses or networks, e.g. `["127.0.0.1"]`) whose
    /// `X-Forwarded-For` names the browser's address; empty (the default):
    /// the connection's own address is the browser's.
    /// `IDENT_PORTAL_TRUSTED_PROXIES` (comma-separated) overrides it.
    pub trusted_proxies: crate::portal::client_ip::TrustedProxies,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            api_key: None,
            api_url: String::new(),
            db: None,
            name: "FondsKontor".into(),
            smtp_url: None,
            mail_from: None,
            public_url: String::new(),
            trusted_proxies: crate::portal::client_ip::TrustedProxies::default(),
        }
    }
}

impl PortalConfig {
    /// The portal database: `db`, or `ident-portal.db` next to the server's `server_db`.
    pub fn db_path(&self, server_db: &std::path::Path) -> PathBuf {
        self.db.clone().unwrap_or_else(|| {
            server_db
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join("ident-portal.db")
        })
    }

    /// Checks the settings that matter when the portal is enabled.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, message: &str| ConfigError::Invalid {
            name,
            message: message.into(),
        };
        if !self.enabled {
            return Ok(());
        }
        match &self.api_key {
            None => {
                return Err(invalid(
                    "portal.api_key",
                    "is required when the portal is enabled (or set IDENT_PORTAL_API_KEY)",
                ));
            }
            Some(k) if !k.is_valid() => {
                return Err(invalid(
                    "portal.api_key",
                    "must be 1 to 4096 visible ASCII characters",
                ));
            }
            Some(_) => {}
        }
        if !self.api_url.is_empty() {
            let url = url::Url::parse(&self.api_url)
                .map_err(|_| invalid("portal.api_url", "is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid("portal.api_url", "must be an http(s) URL"));
            }
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(invalid(
                "portal.name",
                "must be 1 to 60 characters without control characters",
            ));
        }
        Ok(())
    }
}

/// The rules the service enforces; defaults from protocol.md and product.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Digits of the number-matching number (2–6).
    pub number_length: u8,
    /// Seconds a challenge is valid.
    pub challenge_ttl_secs: i64,
    /// Seconds an enrollment QR code is valid.
    pub enrollment_ttl_secs: i64,
    /// Whether completing an enrollment needs a code sent by SMS.
    pub enrollment_sms_confirmation: bool,
    /// Most open challenges per user.
    pub max_open_challenges: u32,
    /// Denials or wrong numbers within `denial_window_secs` that lock push.
    pub max_denials: u32,
    /// The window for `max_denials`.
    pub denial_window_secs: i64,
    /// Seconds an SMS login code is valid.
    pub sms_code_ttl_secs: i64,
    /// Tries per SMS code.
    pub sms_code_tries: u32,
    /// Most SMS per user per hour.
    pub sms_per_user_per_hour: u32,
    /// Net price of one SMS in cents (0.10 EUR).
    pub sms_net_cents: i64,
    /// VAT in basis points (1900 = 19 %).
    pub vat_basis_points: u32,
    /// Longest long poll in seconds (at most 60).
    pub max_wait_secs: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            number_length: 2,
            challenge_ttl_secs: 120,
            enrollment_ttl_secs: 600,
            enrollment_sms_confirmation: false,
            max_open_challenges: 3,
            max_denials: 3,
            denial_window_secs: 600,
            sms_code_ttl_secs: 300,
            sms_code_tries: 3,
            sms_per_user_per_hour: 5,
            sms_net_cents: 10,
            vat_basis_points: 1900,
            max_wait_secs: 60,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db: PathBuf::from("ident.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            sms_outbox: None,
            sms_http_url: None,
            sms_http_token: None,
            log_format: LogFormat::Pretty,
            durable_power_loss: false,
            policy: Policy::default(),
            issuer: "Ident".into(),
            push: crate::push::PushConfig::default(),
            portal: PortalConfig::default(),
            retention: RetentionConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks ranges and parses the public URL.
    pub fn validate(&self) -> Result<ServerUrl, ConfigError> {
        let p = &self.policy;
        let invalid = |name, message: &str| ConfigError::Invalid {
            name,
            message: message.into(),
        };
        if !(2..=6).contains(&p.number_length) {
            return Err(invalid("policy.number_length", "must be 2 to 6"));
        }
        if !(10..=600).contains(&p.challenge_ttl_secs) {
            return Err(invalid("policy.challenge_ttl_secs", "must be 10 to 600"));
        }
        if !(60..=86_400).contains(&p.enrollment_ttl_secs) {
            return Err(invalid("policy.enrollment_ttl_secs", "must be 60 to 86400"));
        }
        if p.max_open_challenges == 0 || p.max_denials == 0 || p.sms_code_tries == 0 {
            return Err(invalid("policy", "limits must be at least 1"));
        }
        if p.max_wait_secs > 60 {
            return Err(invalid("policy.max_wait_secs", "must be at most 60"));
        }
        if !(1..=86_400).contains(&p.denial_window_secs) {
            return Err(invalid("policy.denial_window_secs", "must be 1 to 86400"));
        }
        self.retention.validate()?;
        self.validate_sms()?;
        self.portal.validate()?;
        ServerUrl::parse(&self.public_url).map_err(|e| ConfigError::Invalid {
            name: "public_url",
            message: e.to_string(),
        })
    }
}

impl Config {
    /// The SMS settings: prices, limits and at most one gateway, complete.
    fn validate_sms(&self) -> Result<(), ConfigError> {
        let p = &self.policy;
        let invalid = |name, message: String| ConfigError::Invalid { name, message };
        if !(60..=3_600).contains(&p.sms_code_ttl_secs) {
            return Err(invalid(
                "policy.sms_code_ttl_secs",
                "must be 60 to 3600".into(),
            ));
        }
        if p.sms_code_tries > 10 {
            return Err(invalid("policy.sms_code_tries", "must be 1 to 10".into()));
        }
        if p.sms_per_user_per_hour == 0 {
            return Err(invalid(
                "policy.sms_per_user_per_hour",
                "must be at least 1".into(),
            ));
        }
        if !(0..=100_000).contains(&p.sms_net_cents) {
            return Err(invalid(
                "policy.sms_net_cents",
                "must be 0 to 100000".into(),
            ));
        }
        if p.vat_basis_points > 10_000 {
            return Err(invalid(
                "policy.vat_basis_points",
                "must be 0 to 10000".into(),
            ));
        }
        match (&self.sms_http_url, &self.sms_http_token) {
            (Some(_), _) if self.sms_outbox.is_some() => Err(invalid(
                "sms_http_url",
                "choose one SMS gateway: sms_http_url or sms_outbox, not both".into(),
            )),
            (Some(url), Some(token)) => {
                crate::sms_gateway::check_gateway_url(url)
                    .map_err(|m| invalid("sms_http_url", m))?;
                if token.is_valid() {
                    Ok(())
                } else {
                    Err(invalid(
                        "sms_http_token",
                        "must be 1 to 4096 visible ASCII characters".into(),
                    ))
                }
            }
            (Some(_), None) => Err(invalid(
                "sms_http_token",
                "is required with sms_http_url".into(),
            )),
            (None, Some(_)) => Err(invalid(
                "sms_http_token",
                "is set but sms_http_url is not".into(),
            )),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_file_overrides() {
        assert!(Config::default().validate().is_ok());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ident.toml");
        std::fs::write(
            &f,
            "public_url = \"https://id.example.de\"\n[policy]\nnumber_length = 3\n",
        )
        .unwrap();
        let c = Config::from_file(&f).unwrap();
        assert_eq!(c.policy.number_length, 3);
        assert_eq!(c.policy.challenge_ttl_secs, 120);
        assert_eq!(c.validate().unwrap().as_str(), "https://id.example.de");
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ident.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            Config::from_file(&f),
            Err(ConfigError::Parse { .. })
        ));
        let mut c = Config::default();
        c.policy.number_length = 7;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.policy.max_wait_secs = 60;
        assert!(c.validate().is_ok());
        c.policy.max_wait_secs = 61;
        assert!(c.validate().is_err(), "long polls are held 60 s at most");
        let c = Config {
            public_url: "http://id.example.de".into(),
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn portal_settings() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ident.toml");
        std::fs::write(
            &f,
            "[portal]\nenabled = true\napi_key = \"ik_abc\"\nsmtp_url = \"smtp://127.0.0.1:2525\"\n",
        )
        .unwrap();
        let c = Config::from_file(&f).unwrap();
        assert!(c.portal.enabled);
        assert!(c.validate().is_ok());
        assert_eq!(
            c.portal
                .db_path(std::path::Path::new("/var/lib/ident/ident.db")),
            PathBuf::from("/var/lib/ident/ident-portal.db")
        );
        assert!(!format!("{c:?}").contains("ik_abc"));
        let mut c = Config::default();
        c.portal.enabled = true;
        assert!(c.validate().is_err(), "enabled without a key");
        c.portal.api_key = Some(crate::sms_gateway::BearerToken::new("ik_abc".into()));
        c.portal.api_url = "ftp://x".into();
        assert!(c.validate().is_err());
        c.portal.api_url = "http://127.0.0.1:9000".into();
        assert!(c.validate().is_ok());
        c.portal.name = " ".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn sms_gateway_settings() {
        let f = |edit: fn(&mut Config)| {
            let mut c = Config::default();
            edit(&mut c);
            c.validate()
        };
        assert!(
            f(|c| {
                c.sms_http_url = Some("https://sms.example.de/send".into());
                c.sms_http_token = Some(crate::sms_gateway::BearerToken::new("tok".into()));
            })
            .is_ok()
        );
        assert!(f(|c| c.sms_http_url = Some("https://sms.example.de/send".into())).is_err());
        assert!(
            f(|c| c.sms_http_token = Some(crate::sms_gateway::BearerToken::new("t".into())))
                .is_err()
        );
        assert!(
            f(|c| {
                c.sms_http_url = Some("http://sms.example.de/send".into());
                c.sms_http_token = Some(crate::sms_gateway::BearerToken::new("tok".into()));
            })
            .is_err()
        );
        assert!(
            f(|c| {
                c.sms_http_url = Some("https://sms.example.de/send".into());
                c.sms_http_token = Some(crate::sms_gateway::BearerToken::new("t o k".into()));
            })
            .is_err()
        );
        assert!(
            f(|c| {
                c.sms_outbox = Some("sms.jsonl".into());
                c.sms_http_url = Some("https://sms.example.de/send".into());
                c.sms_http_token = Some(crate::sms_gateway::BearerToken::new("tok".into()));
            })
            .is_err()
        );
        assert!(f(|c| c.policy.sms_per_user_per_hour = 0).is_err());
        assert!(f(|c| c.policy.sms_net_cents = -1).is_err());
    }

    #[test]
    fn retention_settings() {
        let c = Config::default();
        assert_eq!((c.retention.login_days, c.retention.audit_days), (90, 0));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ident.toml");
        std::fs::write(&f, "[retention]\nlogin_days = 30\naudit_days = 3650\n").unwrap();
        let c = Config::from_file(&f).unwrap();
        assert_eq!((c.retention.login_days, c.retention.audit_days), (30, 3650));
        assert!(c.validate().is_ok());
        std::fs::write(&f, "[retention]\nlogin_days = -1\n").unwrap();
        assert!(matches!(
            Config::from_file(&f),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::write(&f, "[retention]\nsms_ledger_days = 1\n").unwrap();
        assert!(matches!(
            Config::from_file(&f),
            Err(ConfigError::Parse { .. })
        ));
        let with = |edit: fn(&mut Config)| {
            let mut c = Config::default();
            edit(&mut c);
            c.validate()
        };
        assert!(with(|c| c.retention.login_days = 0).is_ok());
        assert!(with(|c| c.retention.audit_days = MAX_RETENTION_DAYS).is_ok());
        assert!(matches!(
            with(|c| c.retention.login_days = MAX_RETENTION_DAYS + 1),
            Err(ConfigError::Invalid {
                name: "retention.login_days",
                ..
            })
        ));
        assert!(matches!(
            with(|c| c.retention.audit_days = u32::MAX),
            Err(ConfigError::Invalid {
                name: "retention.audit_days",
                ..
            })
        ));
        // The denial purge keeps the counting window: it must be sane.
        assert!(with(|c| c.policy.denial_window_secs = 0).is_err());
        assert!(with(|c| c.policy.denial_window_secs = -600).is_err());
    }
}
