//! A real SMTP server for the customer-mail tests: Python's aiosmtpd on
//! 127.0.0.1, writing what it accepts into a Maildir the test then reads.
//!
//! Recipients whose address starts with `abgelehnt` are refused at RCPT TO
//! with a 550, so a test can make one recipient of a campaign fail.
//! Without python3 the tests that need it skip with a message; with python3
//! but without aiosmtpd they fail and say how to install it
//! (`scripts/ensure-aiosmtpd`).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailparse::MailHeaderMap;

const HANDLER: &str = r#"
from aiosmtpd.handlers import Mailbox


class RefusingMailbox(Mailbox):
    """A Maildir that refuses recipients starting with 'abgelehnt'."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("abgelehnt"):
            return "550 5.1.1 Postfach unbekannt"
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

/// A running aiosmtpd; killed on drop.
pub struct SmtpSink {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The Maildir.
    pub maildir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// The `To` header, decoded.
    pub to: String,
    /// The `From` header, decoded.
    pub from: String,
    /// The `Reply-To` header, if any.
    pub reply_to: Option<String>,
    /// The `Subject` header, decoded.
    pub subject: String,
    /// The `Message-ID` header.
    pub message_id: String,
    /// The envelope recipients aiosmtpd saw (`X-RcptTo`).
    pub rcpt_to: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// Whether a `Cc` or `Bcc` header is present.
    pub has_cc_or_bcc: bool,
    /// The decoded body with `\n` line ends.
    pub body: String,
}

fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl SmtpSink {
    /// Starts the server, or returns `None` (after saying so) when python3 is
    /// not installed.
    pub fn start() -> Option<Self> {
        if !python_available() {
            eprintln!("SKIPPED: python3 is not installed; the SMTP tests need it (and aiosmtpd)");
            return None;
        }
        let has_aiosmtpd = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            has_aiosmtpd,
            "python3 cannot import aiosmtpd: run scripts/ensure-aiosmtpd (python3 -m pip install aiosmtpd)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("refusing_mailbox.py"), HANDLER).unwrap();
        let maildir = dir.path().join("Maildir");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "refusing_mailbox.RefusingMailbox"])
            .arg(&maildir)
            .env("PYTHONPATH", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("aiosmtpd exited ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpSink {
            port,
            maildir,
            child,
            _dir: dir,
        })
    }

    /// The URL for the mail settings.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages delivered so far, sorted by `To`.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut out: Vec<Received> = entries
            .map(|e| parse(&std::fs::read(e.unwrap().path()).unwrap()))
            .collect();
        out.sort_by(|a, b| a.to.cmp(&b.to));
        out
    }

    /// Waits (up to 10 s) until `n` messages have arrived and returns them.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse(raw: &[u8]) -> Received {
    let mail = mailparse::parse_mail(raw).unwrap();
    let h = &mail.headers;
    Received {
        to: h.get_first_value("To").unwrap_or_default(),
        from: h.get_first_value("From").unwrap_or_default(),
        reply_to: h.get_first_value("Reply-To"),
        subject: h.get_first_value("Subject").unwrap_or_default(),
        message_id: h.get_first_value("Message-ID").unwrap_or_default(),
        rcpt_to: h.get_first_value("X-RcptTo").unwrap_or_default(),
        content_type: h.get_first_value("Content-Type").unwrap_or_default(),
        has_cc_or_bcc: h.get_first_header("Cc").is_some() || h.get_first_header("Bcc").is_some(),
        body: mail.get_body().unwrap().replace("\r\n", "\n"),
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
