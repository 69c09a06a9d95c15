//! Where answers come from: the terminal, or standard input for scripts.
//!
//! With `--pin-stdin` every question is answered by the next line of standard
//! input, in the order the command asks (the PIN first; docs/cli.md lists the
//! order per command), so a script can drive any command without a terminal.
//! Otherwise secrets are read from the terminal without echo, and other
//! questions as a plain line. Without either, a question is an error instead
//! of a hang.

use std::io::{BufRead as _, IsTerminal as _};

use ident_core::secret::SecretString;
use zeroize::Zeroizing;

use crate::Result;
use crate::error::CliError;
use crate::i18n::{Lang, tr};
use crate::output::Out;

/// The source of answers.
pub struct Input {
    lang: Lang,
    out: Out,
    lines: Option<Box<dyn Iterator<Item = std::io::Result<String>>>>,
    tty: bool,
}

impl Input {
    /// Reads from standard input when `pin_stdin`, else from the terminal.
    pub fn new(lang: Lang, out: Out, pin_stdin: bool) -> Self {
        let lines: Option<Box<dyn Iterator<Item = std::io::Result<String>>>> = if pin_stdin {
            Some(Box::new(std::io::stdin().lock().lines()))
        } else {
            None
        };
        Self {
            lang,
            out,
            lines,
            tty: std::io::stdin().is_terminal(),
        }
    }

    /// Whether answers come from a person at a terminal.
    pub fn interactive(&self) -> bool {
        self.lines.is_none() && self.tty
    }

    fn next_stdin(&mut self) -> Option<Result<Option<String>>> {
        let lang = self.lang;
        let lines = self.lines.as_mut()?;
        Some(match lines.next() {
            None => Ok(None),
            Some(Ok(l)) => Ok(Some(l.trim_end_matches(['\r', '\n']).to_owned())),
            Some(Err(_)) => Err(CliError::usage(tr!(
                lang,
                "Die Standardeingabe konnte nicht gelesen werden.",
                "Standard input could not be read."
            ))),
        })
    }

    fn no_terminal(&self) -> CliError {
        CliError::usage(tr!(
            self.lang,
            "Keine Eingabe möglich: kein Terminal. Verwenden Sie --pin-stdin für Skripte.",
            "Cannot ask: there is no terminal. Use --pin-stdin in scripts."
        ))
    }

    /// A secret (PIN, passphrase): the next stdin line, or typed without echo.
    pub fn secret(&mut self, prompt: &str) -> Result<SecretString> {
        if let Some(line) = self.next_stdin() {
            return match line? {
                Some(s) => Ok(SecretString::new(s)),
                None => Err(CliError::usage(tr!(
                    self.lang,
                    "Auf der Standardeingabe fehlt eine Zeile (PIN oder Passwort).",
                    "A line (PIN or passphrase) is missing on standard input."
                ))),
            };
        }
        if !self.tty {
            return Err(self.no_terminal());
        }
        let typed = rpassword::prompt_password(prompt).map_err(|_| self.no_terminal())?;
        Ok(SecretString::new(Zeroizing::new(typed).to_string()))
    }

    /// A plain answer: the next stdin line, or a line typed at the terminal.
    /// `None` at the end of standard input.
    pub fn line(&mut self, prompt: &str) -> Result<Option<String>> {
        if let Some(line) = self.next_stdin() {
            return line;
        }
        if !self.tty {
            return Err(self.no_terminal());
        }
        self.out.prompt(prompt);
        let mut s = String::new();
        match std::io::stdin().read_line(&mut s) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(s.trim().to_owned())),
            Err(_) => Err(self.no_terminal()),
        }
    }
}
