//! App settings that are not secret: the UI language and the idle lock
//! timeout, kept as a small JSON file (`settings.json`) next to the vault.
//!
//! A missing or unreadable file means the defaults; the file is written
//! through a temporary file and a rename, so a crash leaves the old or the
//! new settings, never half of them.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// German, the default.
    De,
    /// English.
    En,
}

/// The language setting: a language, or the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LanguageSetting {
    /// German.
    De,
    /// English.
    En,
    /// Follow the system language.
    #[default]
    System,
}

/// The idle lock timeout when none is set: five minutes.
pub const DEFAULT_LOCK_TIMEOUT_SECS: u64 = 300;
/// The shortest idle lock timeout accepted (0, "never", is accepted too).
pub const MIN_LOCK_TIMEOUT_SECS: u64 = 30;
/// The longest idle lock timeout accepted: one day.
pub const MAX_LOCK_TIMEOUT_SECS: u64 = 86_400;

/// The settings file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The language setting.
    pub language: LanguageSetting,
    /// Idle seconds before the vault is locked; 0 never locks.
    pub lock_timeout_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            language: LanguageSetting::System,
            lock_timeout_seconds: DEFAULT_LOCK_TIMEOUT_SECS,
        }
    }
}

impl Settings {
    /// Reads the settings at `path`; the defaults when it is missing or damaged.
    pub fn load(path: &Path) -> Settings {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Settings>(&b).ok())
            .map(Settings::sanitised)
            .unwrap_or_default()
    }

    /// Writes the settings to `path` (temporary file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    }

    /// A timeout out of range (a hand-edited file) becomes the nearest allowed one.
    fn sanitised(mut self) -> Settings {
        self.lock_timeout_seconds = clamp_timeout(self.lock_timeout_seconds);
        self
    }
}

/// 0 (never), or the timeout within [`MIN_LOCK_TIMEOUT_SECS`]..=[`MAX_LOCK_TIMEOUT_SECS`].
pub fn clamp_timeout(secs: u64) -> u64 {
    if secs == 0 {
        0
    } else {
        secs.clamp(MIN_LOCK_TIMEOUT_SECS, MAX_LOCK_TIMEOUT_SECS)
    }
}

/// The language the UI speaks: the setting, else the system's when it is
/// English, else German (the product speaks German first).
pub fn effective_language(setting: LanguageSetting, system_locale: Option<&str>) -> Lang {
    match setting {
        LanguageSetting::De => Lang::De,
        LanguageSetting::En => Lang::En,
        LanguageSetting::System => match system_locale {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::De,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_setting_then_system() {
        use LanguageSetting as S;
        assert_eq!(effective_language(S::En, Some("de-DE")), Lang::En);
        assert_eq!(effective_language(S::De, Some("en-US")), Lang::De);
        assert_eq!(effective_language(S::System, Some("en-GB")), Lang::En);
        assert_eq!(effective_language(S::System, Some("de-AT")), Lang::De);
        assert_eq!(effective_language(S::System, Some("fr-FR")), Lang::De);
        assert_eq!(effective_language(S::System, None), Lang::De);
    }

    #[test]
    fn round_trip_defaults_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.json");
        assert_eq!(Settings::load(&p), Settings::default());
        let s = Settings {
            language: LanguageSetting::En,
            lock_timeout_seconds: 600,
        };
        s.save(&p).unwrap();
        assert_eq!(Settings::load(&p), s);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"lockTimeoutSeconds\": 600"), "{text}");
        std::fs::write(&p, b"{not json").unwrap();
        assert_eq!(Settings::load(&p), Settings::default());
        std::fs::write(&p, br#"{"lockTimeoutSeconds": 1}"#).unwrap();
        assert_eq!(
            Settings::load(&p).lock_timeout_seconds,
            MIN_LOCK_TIMEOUT_SECS
        );
    }

    #[test]
    fn timeouts_are_clamped() {
        assert_eq!(clamp_timeout(0), 0);
        assert_eq!(clamp_timeout(5), MIN_LOCK_TIMEOUT_SECS);
        assert_eq!(clamp_timeout(120), 120);
        assert_eq!(clamp_timeout(u64::MAX), MAX_LOCK_TIMEOUT_SECS);
    }
}
