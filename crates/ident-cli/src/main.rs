//! `ident`: a complete push and OTP authenticator for the terminal.
//!
//! It is a thin shell over `ident_core`: it parses arguments into core types,
//! calls `ident_core::authenticator` (or the vault directly for simple list
//! operations), and turns results into German or English text or `--json`.
//! Every rule lives in the core; if one shows up here, it belongs there.
//! Commands, JSON fields and exit codes are documented in `docs/cli.md`.

mod commands;
mod error;
mod i18n;
mod input;
mod output;
mod qr;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::i18n::Lang;

/// Ident: push login approval and one-time codes in the terminal.
#[derive(Parser, Debug)]
#[command(name = "ident", version, about, long_about = None)]
pub struct Cli {
    /// The vault file (default: vault.db in the user's data directory).
    #[arg(long, global = true, env = "IDENT_VAULT")]
    vault: Option<PathBuf>,
    /// Machine-readable output: one JSON document on stdout (see docs/cli.md).
    #[arg(long, global = true)]
    json: bool,
    /// Read the PIN from the first line of standard input (later lines carry
    /// further answers, see docs/cli.md), for scripts.
    #[arg(long, global = true)]
    pin_stdin: bool,
    /// TESTS ONLY: cheap key derivation (a PIN behind it falls in seconds).
    /// Also IDENT_TEST_FAST_KDF=1.
    #[arg(long, global = true, hide = true)]
    kdf_insecure_fast: bool,
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Set up a new vault and choose its PIN.
    Init,
    /// Add an account from an enrollment code (push) or an otpauth:// URI.
    Enroll {
        /// The enrollment code (ident://enroll?… or https://…/e#…) or otpauth:// URI.
        #[arg(required_unless_present = "qr")]
        uri: Option<String>,
        /// Read the code from a QR image (PNG or JPEG) instead.
        #[arg(long, conflicts_with = "uri")]
        qr: Option<PathBuf>,
        /// The device name the server shows (default: this computer's name).
        #[arg(long)]
        name: Option<String>,
        /// The SMS code, if the server asks for one (otherwise it is asked for).
        #[arg(long)]
        sms_code: Option<String>,
    },
    /// Import otpauth://, otpauth-migration:// (text or file) or an Ident export file.
    Import {
        /// A file, or the URI itself.
        source: String,
    },
    /// Write an encrypted export of all accounts (push accounts listed, keys never exported).
    Export {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// List the accounts.
    List,
    /// Show the current code of one OTP account, or of every TOTP account.
    Code {
        /// Account id, name, or a unique part of the name.
        account: Option<String>,
    },
    /// Rename an account.
    Rename {
        /// Account id, name, or a unique part of the name.
        account: String,
        /// The new name.
        new_name: String,
    },
    /// Move an account to a position in the list (0 is the top).
    Move {
        /// Account id, name, or a unique part of the name.
        account: String,
        /// The new position.
        position: usize,
    },
    /// Remove an account (push accounts are unenrolled at the server first).
    Remove {
        /// Account id, name, or a unique part of the name.
        account: String,
    },
    /// The code for an otpauth:// URI, without a vault.
    Otp {
        /// The otpauth:// URI.
        #[arg(long)]
        uri: String,
        /// The time to compute the code for (Unix seconds; default now).
        #[arg(long)]
        at: Option<i64>,
    },
    /// Show the login requests waiting for this vault's push accounts.
    Pending {
        /// Wait up to this many seconds (at most 120) for a request to arrive.
        #[arg(long)]
        wait: Option<u32>,
    },
    /// Approve or deny a login request.
    Answer {
        /// The request id (from `ident pending`). Ids are base64url and may
        /// start with `-`, so a leading hyphen is part of the value here.
        #[arg(allow_hyphen_values = true)]
        challenge: String,
        /// approve or deny.
        #[arg(value_enum)]
        decision: DecisionArg,
        /// The number shown on the login page (asked for when required and missing).
        #[arg(long)]
        number: Option<String>,
        /// With deny: why (`not_me` reports the login as not yours).
        #[arg(long, value_enum)]
        reason: Option<ReasonArg>,
    },
    /// Wait for login requests on every push account and answer them as they come.
    Watch,
}

/// The decision argument.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionArg {
    /// Approve the login.
    Approve,
    /// Deny the login.
    Deny,
}

/// The deny reason argument.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonArg {
    /// "This was not me".
    #[value(name = "not_me", alias = "not-me")]
    NotMe,
}

fn main() -> ExitCode {
    let lang = Lang::from_env();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; everything else is a usage error (2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let json = cli.json;
    match commands::run(cli, lang) {
        Ok(code) => code,
        Err(e) => {
            e.report(json);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Re-exported for the commands module.
pub(crate) type Result<T> = std::result::Result<T, CliError>;
