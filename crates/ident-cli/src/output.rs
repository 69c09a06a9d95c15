//! The one place that writes to the terminal.
//!
//! The workspace warns about `print!`/`eprint!` so that libraries never write
//! to the terminal behind the host's back; a command-line program must, and
//! routing every write through here keeps that exception in one module. In
//! `--json` mode stdout carries exactly one JSON document per command (JSON
//! lines for `watch`); human text then goes nowhere, hints go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

/// How results are written.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// `--json`: machine output on stdout.
    pub json: bool,
}

impl Out {
    /// A line of human output (stdout), skipped in JSON mode.
    pub fn line(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    /// A JSON document (one line) on stdout, only in JSON mode.
    pub fn json(&self, value: &serde_json::Value) {
        if self.json {
            println!("{value}");
            let _ = std::io::stdout().flush();
        }
    }

    /// A note or warning for the person at the terminal (stderr), in both modes.
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A prompt on stderr without a newline.
    pub fn prompt(&self, text: &str) {
        eprint!("{text}");
        let _ = std::io::stderr().flush();
    }
}

/// Writes an error: JSON on stdout in JSON mode, otherwise `ident: …` on stderr.
pub fn error(json: bool, value: &serde_json::Value, message: &str) {
    if json {
        println!("{value}");
    } else {
        eprintln!("ident: {message}");
    }
}
