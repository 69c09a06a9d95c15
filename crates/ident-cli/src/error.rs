//! The CLI's one error: a sentence in the user's language, a stable kind for
//! `--json`, and an exit code (docs/cli.md).
//!
//! Core errors arrive typed and are mapped once, here, through
//! [`ErrorKind`]; the message never contains a secret.

use ident_core::authenticator::{AuthenticatorError, ErrorKind};

use crate::i18n::{self, Lang};
use crate::output;

/// Exit code: the login was denied, or the user cancelled or failed the PIN check.
pub const EXIT_REFUSED: u8 = 1;
/// Exit code: bad usage or input (also an unknown or ambiguous account).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: no vault, wrong PIN, back-off, or locked for good.
pub const EXIT_VAULT: u8 = 3;
/// Exit code: the network or the server failed, or the request is gone.
pub const EXIT_SERVER: u8 = 4;
/// Exit code: a damaged file, an I/O error, anything unexpected.
pub const EXIT_OTHER: u8 = 5;

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    kind: &'static str,
    code: u8,
    message: String,
}

impl CliError {
    /// An error of `kind` (a stable snake_case name) with exit `code`.
    pub fn new(kind: &'static str, code: u8, message: String) -> Self {
        Self {
            kind,
            code,
            message,
        }
    }

    /// Bad usage or input.
    pub fn usage(message: String) -> Self {
        Self::new("invalid_input", EXIT_USAGE, message)
    }

    /// A file that could not be read or written.
    pub fn io(lang: Lang, path: &std::path::Path, e: &std::io::Error) -> Self {
        let p = path.display();
        let detail = e.kind().to_string();
        Self::new(
            "storage",
            EXIT_OTHER,
            crate::i18n::tr!(
                lang,
                "Die Datei {p} konnte nicht gelesen oder geschrieben werden ({detail}).",
                "The file {p} could not be read or written ({detail})."
            ),
        )
    }

    /// A facade error, in `lang`.
    pub fn from_core(lang: Lang, e: &AuthenticatorError) -> Self {
        let (kind, code) = kind_and_code(e.kind());
        Self::new(kind, code, i18n::authenticator(lang, e))
    }

    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        self.code
    }

    /// Writes the error (JSON on stdout with `--json`, a sentence on stderr otherwise).
    pub fn report(&self, json: bool) {
        let value = serde_json::json!({
            "error": {"kind": self.kind, "message": self.message, "exit_code": self.code}
        });
        output::error(json, &value, &self.message);
    }
}

/// The stable kind name and exit code of a core error kind.
pub fn kind_and_code(kind: ErrorKind) -> (&'static str, u8) {
    match kind {
        ErrorKind::WrongPin => ("wrong_pin", EXIT_VAULT),
        ErrorKind::LockedOut => ("locked_out", EXIT_VAULT),
        ErrorKind::VaultState => ("vault_state", EXIT_VAULT),
        ErrorKind::Storage => ("storage", EXIT_OTHER),
        ErrorKind::NotFound => ("not_found", EXIT_USAGE),
        ErrorKind::Ambiguous => ("ambiguous", EXIT_USAGE),
        ErrorKind::InvalidInput => ("invalid_input", EXIT_USAGE),
        ErrorKind::Network => ("network", EXIT_SERVER),
        ErrorKind::Server => ("server", EXIT_SERVER),
        ErrorKind::ChallengeGone => ("challenge_gone", EXIT_SERVER),
        ErrorKind::PushLocked => ("push_locked", EXIT_SERVER),
        ErrorKind::WrongCode => ("wrong_code", EXIT_SERVER),
        ErrorKind::Cancelled => ("cancelled", EXIT_REFUSED),
        _ => ("internal", EXIT_OTHER),
    }
}
