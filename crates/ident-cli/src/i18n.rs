//! German and English messages, chosen by the system locale.
//!
//! Our users are German brokers and their customers, so German comes first;
//! developers and CI get English. The choice follows `IDENT_LANG` (`de` or
//! `en`), then the first set of `LC_ALL`, `LC_MESSAGES`, `LANG` (POSIX order):
//! a value starting with `de` means German, anything else English.
//!
//! Error texts from ident-core are English sentences for logs; here each
//! error is turned into a sentence in the user's language. No message ever
//! contains a PIN, a seed, a key or a passphrase: the core's errors carry
//! none, and nothing here adds one.

use ident_core::authenticator::AuthenticatorError;
use ident_core::enroll_link::EnrollLinkError;
use ident_core::export::ExportError;
use ident_core::otp::{MigrationAccountError, MigrationError, OtpUriError};
use ident_core::ports::{TransportError, UserVerificationError};
use ident_core::protocol::{ChallengeError, ProblemType, ProtocolError};
use ident_core::vault::{PinWeakness, VaultError};

/// The language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Deutsch.
    De,
    /// English.
    En,
}

impl Lang {
    /// The language from `IDENT_LANG`, `LC_ALL`, `LC_MESSAGES`, `LANG`.
    pub fn from_env() -> Lang {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// The same rule over any variable source (for tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(v) = get("IDENT_LANG") {
            let v = v.trim().to_ascii_lowercase();
            if v.starts_with("de") {
                return Lang::De;
            }
            if v.starts_with("en") {
                return Lang::En;
            }
        }
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = get(key).filter(|v| !v.trim().is_empty()) {
                return if v.trim().to_ascii_lowercase().starts_with("de") {
                    Lang::De
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }
}

/// `tr!(lang, "deutsch {x}", "english {x}")`: formats the sentence of `lang`.
/// Both literals capture the same variables from the surrounding scope.
macro_rules! tr {
    ($lang:expr, $de:literal, $en:literal) => {
        match $lang {
            $crate::i18n::Lang::De => format!($de),
            $crate::i18n::Lang::En => format!($en),
        }
    };
}
pub(crate) use tr;

/// A PIN weakness as a sentence.
pub fn pin_weakness(l: Lang, w: PinWeakness) -> String {
    match w {
        PinWeakness::Short => tr!(
            l,
            "Die PIN ist zu kurz: Sie braucht mindestens 6 Zeichen.",
            "The PIN is too short: it needs at least 6 characters."
        ),
        PinWeakness::Repeated => tr!(
            l,
            "Die PIN wiederholt nur ein Zeichen.",
            "The PIN repeats a single character."
        ),
        PinWeakness::Sequence => tr!(
            l,
            "Die PIN ist eine Zahlenfolge (wie 123456).",
            "The PIN is a run of digits (like 123456)."
        ),
        PinWeakness::Pattern => tr!(
            l,
            "Die PIN wiederholt ein kurzes Muster (wie 121212).",
            "The PIN repeats a short pattern (like 121212)."
        ),
        _ => tr!(
            l,
            "Die PIN ist leicht zu erraten.",
            "The PIN is easy to guess."
        ),
    }
}

/// A vault error as a sentence.
pub fn vault(l: Lang, e: &VaultError) -> String {
    match e {
        VaultError::WrongPin { attempts_left } => tr!(
            l,
            "Die PIN ist falsch. Noch {attempts_left} Versuche, dann wird der Tresor endgültig gesperrt.",
            "The PIN is wrong. {attempts_left} attempts are left before the vault is locked for good."
        ),
        VaultError::BackOff { wait_seconds } => tr!(
            l,
            "Zu viele falsche PINs. Bitte warten Sie {wait_seconds} Sekunden.",
            "Too many wrong PINs. Wait {wait_seconds} seconds before trying again."
        ),
        VaultError::LockedForever => tr!(
            l,
            "Der Tresor ist nach zu vielen falschen PINs endgültig gesperrt. Richten Sie ihn neu ein und registrieren Sie Push-Konten erneut.",
            "The vault is locked for good after too many wrong PINs. Set it up again and enroll push accounts again."
        ),
        VaultError::NotFound => tr!(
            l,
            "Es gibt hier noch keinen Tresor. Richten Sie ihn mit „ident init“ ein.",
            "There is no vault here yet. Set it up with `ident init`."
        ),
        VaultError::AlreadyExists => tr!(
            l,
            "Hier gibt es schon einen Tresor.",
            "A vault already exists here."
        ),
        VaultError::NewerVersion { .. } => tr!(
            l,
            "Der Tresor stammt von einer neueren Ident-Version. Bitte aktualisieren Sie Ident.",
            "The vault was written by a newer version of Ident. Please update Ident."
        ),
        VaultError::AccountNotFound(id) => {
            tr!(l, "Es gibt kein Konto {id}.", "There is no account {id}.")
        }
        VaultError::WrongAccountKind { id, expected } => {
            let de = if *expected == "an OTP" {
                "ein Code-Konto (OTP)"
            } else {
                "ein Push-Konto"
            };
            tr!(
                l,
                "Konto {id} ist kein {de}.",
                "Account {id} is not {expected} account."
            )
        }
        VaultError::InvalidName { field, reason } => {
            let (f, r) = (*field, *reason);
            let de_f = if f == "issuer" {
                "Der Aussteller"
            } else {
                "Der Name"
            };
            let de_r = match r {
                "is empty" => "ist leer",
                "is longer than 200 characters" => "ist länger als 200 Zeichen",
                _ => "enthält Steuerzeichen",
            };
            tr!(l, "{de_f} {de_r}.", "The {f} {r}.")
        }
        VaultError::InvalidPin { min, max } => tr!(
            l,
            "Die PIN muss {min} bis {max} Zeichen lang sein.",
            "The PIN must be {min} to {max} characters long."
        ),
        VaultError::IndexOutOfRange { index, len } => {
            let last = len.saturating_sub(1);
            tr!(
                l,
                "Position {index} gibt es nicht; erlaubt ist 0 bis {last}.",
                "There is no position {index}; use 0 to {last}."
            )
        }
        VaultError::Corrupt { .. } => tr!(
            l,
            "Die Tresor-Datei ist beschädigt oder wurde verändert.",
            "The vault file is damaged or has been tampered with."
        ),
        other => {
            let detail = other.to_string();
            tr!(
                l,
                "Der Tresor konnte nicht gelesen oder geschrieben werden ({detail}).",
                "The vault could not be read or written ({detail})."
            )
        }
    }
}

fn transport(l: Lang, e: &TransportError) -> String {
    match e {
        TransportError::Timeout => tr!(
            l,
            "Der Server hat nicht rechtzeitig geantwortet.",
            "The server did not answer in time."
        ),
        TransportError::Tls(_) => tr!(
            l,
            "Die sichere Verbindung zum Server ist fehlgeschlagen.",
            "The secure connection to the server failed."
        ),
        _ => tr!(
            l,
            "Der Server ist nicht erreichbar. Prüfen Sie die Internetverbindung.",
            "The server could not be reached. Check the network connection."
        ),
    }
}

/// A protocol error as a sentence.
pub fn protocol(l: Lang, e: &ProtocolError) -> String {
    match e {
        ProtocolError::Transport(t) => transport(l, t),
        ProtocolError::Problem(p) => {
            let known = match p.problem_type() {
                Some(ProblemType::EnrollTokenInvalid) => Some(tr!(
                    l,
                    "Der Einrichtungscode ist ungültig, schon benutzt oder abgelaufen. Lassen Sie sich im Portal einen neuen anzeigen.",
                    "The enrollment code is invalid, used or expired. Get a new one from the portal."
                )),
                Some(ProblemType::SmsCodeInvalid) => Some(match p.tries_left {
                    Some(1) => tr!(
                        l,
                        "Der SMS-Code ist falsch. Sie haben noch einen Versuch.",
                        "The SMS code is wrong. You have one more try."
                    ),
                    Some(n) => tr!(
                        l,
                        "Der SMS-Code ist falsch. Sie haben noch {n} Versuche.",
                        "The SMS code is wrong. You have {n} more tries."
                    ),
                    None => tr!(l, "Der SMS-Code ist falsch.", "The SMS code is wrong."),
                }),
                Some(ProblemType::SmsCodeExpired) => Some(tr!(
                    l,
                    "Der SMS-Code ist abgelaufen oder zu oft falsch eingegeben. Starten Sie die Einrichtung neu.",
                    "The SMS code has expired or was entered wrongly too often. Start the enrollment again."
                )),
                Some(ProblemType::ChallengeNotFound) => Some(tr!(
                    l,
                    "Diese Anmeldeanfrage gibt es nicht (mehr).",
                    "This login request does not exist (any more)."
                )),
                Some(ProblemType::AnswerLate) => Some(tr!(
                    l,
                    "Die Anmeldeanfrage ist abgelaufen.",
                    "The login request has expired."
                )),
                Some(ProblemType::AnswerReplayed) => Some(tr!(
                    l,
                    "Die Anmeldeanfrage wurde schon beantwortet.",
                    "The login request was already answered."
                )),
                Some(ProblemType::PushLocked) => Some(tr!(
                    l,
                    "Push-Anmeldungen sind für dieses Konto nach mehreren Ablehnungen gesperrt. Ihr Makler oder der Administrator kann sie entsperren.",
                    "Push login is locked for this account after repeated denials. Your broker or the administrator can unlock it."
                )),
                Some(ProblemType::DeviceUnknown) => Some(tr!(
                    l,
                    "Der Server kennt dieses Gerät nicht (mehr). Richten Sie das Konto neu ein.",
                    "The server does not know this device (any more). Enroll the account again."
                )),
                Some(ProblemType::RateLimited | ProblemType::TooManyChallenges) => Some(tr!(
                    l,
                    "Zu viele Anfragen. Bitte versuchen Sie es später erneut.",
                    "Too many requests. Please try again later."
                )),
                Some(ProblemType::ServerError) => Some(tr!(
                    l,
                    "Auf dem Server ist ein Fehler aufgetreten.",
                    "The server failed."
                )),
                _ => None,
            };
            known.unwrap_or_else(|| {
                let text = p.to_string();
                tr!(
                    l,
                    "Der Server hat abgelehnt: {text}",
                    "The server refused: {text}"
                )
            })
        }
        ProtocolError::ServerKeyMismatch => tr!(
            l,
            "Der Schlüssel des Servers passt nicht zum Einrichtungscode. Die Einrichtung wurde abgebrochen; es wurde nichts gespeichert.",
            "The server's key does not match the enrollment code. The enrollment was stopped; nothing was stored."
        ),
        ProtocolError::BadChallenge(c) => challenge(l, c),
        ProtocolError::Answer(ident_core::protocol::BuildAnswerError::NumberRequired) => tr!(
            l,
            "Bitte geben Sie die Zahl ein, die auf der Anmeldeseite angezeigt wird.",
            "Please type the number shown on the login page."
        ),
        ProtocolError::Answer(ident_core::protocol::BuildAnswerError::NumberNotExpected) => tr!(
            l,
            "Diese Anmeldeanfrage verwendet keine Zahl.",
            "This login request does not use a number."
        ),
        ProtocolError::Answer(ident_core::protocol::BuildAnswerError::ChallengeExpired) => tr!(
            l,
            "Die Anmeldeanfrage ist abgelaufen.",
            "The login request has expired."
        ),
        ProtocolError::ServerUrl(_) => tr!(
            l,
            "Die Serveradresse ist nicht zulässig (https ist erforderlich).",
            "The server address is not acceptable (https is required)."
        ),
        other => {
            let detail = other.to_string();
            tr!(
                l,
                "Die Kommunikation mit dem Server ist fehlgeschlagen ({detail}).",
                "Talking to the server failed ({detail})."
            )
        }
    }
}

/// A challenge that failed verification, as a sentence.
pub fn challenge(l: Lang, e: &ChallengeError) -> String {
    match e {
        ChallengeError::Expired => tr!(
            l,
            "Die Anmeldeanfrage ist abgelaufen.",
            "The login request has expired."
        ),
        ChallengeError::NotYetValid => tr!(
            l,
            "Die Anmeldeanfrage ist in der Zukunft datiert; prüfen Sie die Uhr dieses Geräts.",
            "The login request is dated in the future; check this device's clock."
        ),
        _ => tr!(
            l,
            "Eine Anmeldeanfrage war nicht gültig vom Server signiert und wurde verworfen.",
            "A login request was not validly signed by the server and was dropped."
        ),
    }
}

/// An enrollment link error as a sentence.
pub fn enroll_link(l: Lang, e: &EnrollLinkError) -> String {
    match e {
        EnrollLinkError::UnsupportedVersion => tr!(
            l,
            "Der Einrichtungscode ist für eine neuere Ident-Version. Bitte aktualisieren Sie Ident.",
            "The enrollment code is for a newer version of Ident. Please update Ident."
        ),
        EnrollLinkError::Server(_) => tr!(
            l,
            "Die Serveradresse im Einrichtungscode ist nicht zulässig (https ist erforderlich).",
            "The server address in the enrollment code is not acceptable (https is required)."
        ),
        EnrollLinkError::NotAnEnrollLink => tr!(
            l,
            "Das ist kein Ident-Einrichtungscode und keine otpauth://-Adresse.",
            "This is neither an Ident enrollment code nor an otpauth:// URI."
        ),
        _ => tr!(
            l,
            "Der Einrichtungscode ist unvollständig oder beschädigt.",
            "The enrollment code is incomplete or damaged."
        ),
    }
}

fn otp_uri(l: Lang, e: &OtpUriError) -> String {
    let detail = e.to_string();
    tr!(
        l,
        "Die otpauth://-Adresse ist ungültig ({detail}).",
        "The otpauth:// URI is invalid ({detail})."
    )
}

fn migration(l: Lang, e: &MigrationError) -> String {
    let detail = e.to_string();
    tr!(
        l,
        "Der Google-Authenticator-Export ist ungültig ({detail}).",
        "The Google Authenticator export is invalid ({detail})."
    )
}

/// Why one account of a Google Authenticator export was skipped.
pub fn skipped(l: Lang, e: &MigrationAccountError) -> String {
    match e {
        MigrationAccountError::Algorithm(_) => {
            tr!(l, "nicht unterstütztes Verfahren", "unsupported algorithm")
        }
        MigrationAccountError::Digits => tr!(
            l,
            "nicht unterstützte Stellenzahl",
            "unsupported number of digits"
        ),
        MigrationAccountError::Type => tr!(
            l,
            "weder zeit- noch zählerbasiert",
            "neither time- nor counter-based"
        ),
        _ => {
            let detail = e.to_string();
            tr!(l, "ungültig ({detail})", "invalid ({detail})")
        }
    }
}

fn export(l: Lang, e: &ExportError) -> String {
    match e {
        ExportError::WrongPassphrase => tr!(
            l,
            "Das Passwort der Exportdatei ist falsch, oder die Datei wurde verändert.",
            "The export's passphrase is wrong, or the file has been changed."
        ),
        ExportError::WeakPassphrase { min } => tr!(
            l,
            "Das Passwort für den Export muss mindestens {min} Zeichen lang sein.",
            "The export passphrase must be at least {min} characters long."
        ),
        ExportError::NewerVersion { .. } => tr!(
            l,
            "Die Exportdatei stammt von einer neueren Ident-Version. Bitte aktualisieren Sie Ident.",
            "The export was written by a newer version of Ident. Please update Ident."
        ),
        ExportError::NotAnExport => tr!(
            l,
            "Die Datei ist kein Ident-Export.",
            "The file is not an Ident export."
        ),
        ExportError::Vault(v) => vault(l, v),
        _ => tr!(
            l,
            "Die Exportdatei ist beschädigt.",
            "The export file is damaged."
        ),
    }
}

/// A facade error as a sentence.
pub fn authenticator(l: Lang, e: &AuthenticatorError) -> String {
    match e {
        AuthenticatorError::Vault(v) => vault(l, v),
        AuthenticatorError::Protocol(p) => protocol(l, p),
        AuthenticatorError::Export(x) => export(l, x),
        AuthenticatorError::Verification(v) => match v {
            UserVerificationError::Cancelled => {
                tr!(l, "Abgebrochen.", "Cancelled.")
            }
            _ => tr!(
                l,
                "Die PIN-Bestätigung ist fehlgeschlagen; es wurde nichts gesendet.",
                "The PIN check failed; nothing was sent."
            ),
        },
        AuthenticatorError::OtpUri(u) => otp_uri(l, u),
        AuthenticatorError::Migration(m) => migration(l, m),
        AuthenticatorError::UnknownImport => tr!(
            l,
            "Das ist weder eine otpauth://-Adresse noch ein Google-Authenticator-Export noch ein Ident-Export.",
            "This is neither an otpauth:// URI nor a Google Authenticator export nor an Ident export."
        ),
        AuthenticatorError::NoSuchAccount(q) => tr!(
            l,
            "Kein Konto passt zu „{q}“. „ident list“ zeigt alle Konten.",
            "No account matches \"{q}\". `ident list` shows all accounts."
        ),
        AuthenticatorError::Ambiguous { query, candidates } => {
            let list = candidates
                .iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect::<Vec<_>>()
                .join(", ");
            tr!(
                l,
                "Mehrere Konten passen zu „{query}“: {list}. Geben Sie die Nummer an.",
                "Several accounts match \"{query}\": {list}. Give the id instead."
            )
        }
        AuthenticatorError::NotPush(id) => tr!(
            l,
            "Konto {id} ist kein Push-Konto.",
            "Account {id} is not a push account."
        ),
        AuthenticatorError::NoSuchChallenge(id) => tr!(
            l,
            "Es gibt keine offene Anmeldeanfrage {id}. Sie ist vielleicht abgelaufen, schon beantwortet oder zurückgezogen.",
            "There is no open login request {id}. It may have expired, been answered or been withdrawn."
        ),
        AuthenticatorError::ChallengeMismatch(id) => tr!(
            l,
            "Die Anmeldeanfrage gehört nicht zu Konto {id}.",
            "The login request does not belong to account {id}."
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(vars: &[(&str, &str)]) -> Lang {
        Lang::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn locale_rules() {
        assert_eq!(lang(&[]), Lang::En);
        assert_eq!(lang(&[("LANG", "de_DE.UTF-8")]), Lang::De);
        assert_eq!(lang(&[("LANG", "en_US.UTF-8")]), Lang::En);
        assert_eq!(lang(&[("LC_ALL", "C"), ("LANG", "de_DE.UTF-8")]), Lang::En);
        assert_eq!(
            lang(&[("LC_MESSAGES", "de_AT"), ("LANG", "en_GB")]),
            Lang::De
        );
        assert_eq!(lang(&[("IDENT_LANG", "en"), ("LANG", "de_DE")]), Lang::En);
        assert_eq!(lang(&[("IDENT_LANG", "de"), ("LANG", "C")]), Lang::De);
        assert_eq!(lang(&[("LC_ALL", ""), ("LANG", "de_DE")]), Lang::De);
    }

    #[test]
    fn wrong_sms_codes_tell_the_tries_left() {
        let wrong = |tries: Option<u32>| {
            let mut p = ident_core::protocol::Problem::new(ProblemType::SmsCodeInvalid, None);
            p.tries_left = tries;
            ProtocolError::Problem(p)
        };
        assert_eq!(
            protocol(Lang::De, &wrong(Some(2))),
            "Der SMS-Code ist falsch. Sie haben noch 2 Versuche."
        );
        assert_eq!(
            protocol(Lang::De, &wrong(Some(1))),
            "Der SMS-Code ist falsch. Sie haben noch einen Versuch."
        );
        assert_eq!(
            protocol(Lang::En, &wrong(Some(2))),
            "The SMS code is wrong. You have 2 more tries."
        );
        assert_eq!(protocol(Lang::En, &wrong(None)), "The SMS code is wrong.");
    }
}
