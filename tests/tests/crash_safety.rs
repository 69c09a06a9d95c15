//! `kill -9` of the CLI leaves a vault that still opens, unchanged or with
//! the whole change:
//! - mid-enrollment: `ident enroll` talks to a "server" that accepts the
//!   connection, reads the request and never answers; the CLI is killed with
//!   SIGKILL while it waits. The vault opens with the PIN, lists exactly what
//!   it listed before, and a real enrollment into it works afterwards.
//! - mid-import: `ident import` of a file with hundreds of accounts is
//!   killed at points spread over the time a whole import takes; after each
//!   kill the vault opens and holds either none or all of that file's
//!   accounts (the import is one transaction).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ident_e2e::{
    BROKER, PIN, Server, accounts, enroll, ident_command, ident_ok, new_vault, wait_until,
};

/// Accepts one connection on `listener` and reads the request head; the
/// connection is kept open (returned) and never answered.
fn accept_and_stall(listener: &TcpListener) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the CLI never connected");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the CLI closed the connection");
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("POST /device/v1/enroll "), "{head}");
    stream
}

#[test]
fn kill_during_enrollment_leaves_the_vault_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    ident_ok(
        &vault,
        &[
            "import",
            "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bank",
        ],
    );
    let before = accounts(&vault);
    assert_eq!(before.len(), 1);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let link = format!(
        "ident://enroll?v=1&s=http%3A%2F%2F127.0.0.1%3A{port}&t={}&fp={}",
        "A".repeat(22),
        "A".repeat(43)
    );
    let mut child = ident_command(&vault)
        .args(["--pin-stdin", "--json", "enroll", &link, "--name", "Stall"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
    }
    let stalled = accept_and_stall(&listener);
    // The request is in flight and unanswered: SIGKILL.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal: {status:?}");
    drop(stalled);

    assert_eq!(accounts(&vault), before, "the vault is unchanged");
    let codes = ident_ok(&vault, &["code", "alice"]);
    assert_eq!(codes["codes"].as_array().unwrap().len(), 1, "{codes}");

    // The vault takes a real enrollment afterwards.
    let server = Server::start();
    let account = enroll(&server, BROKER, &vault);
    let after = accounts(&vault);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], before[0]);
    assert_eq!(after[1]["id"], account["id"]);
}

const PER_FILE: usize = 300;

fn import_file(dir: &Path, round: usize) -> std::path::PathBuf {
    let text: String = (0..PER_FILE)
        .map(|i| {
            format!(
                "otpauth://totp/Runde{round}:konto{i}?secret=JBSWY3DPEHPK3PXP&issuer=Runde{round}\n"
            )
        })
        .collect();
    let path = dir.join(format!("import-{round}.txt"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `ident import FILE`; kills it after `after` (unless it finished).
/// Returns whether it finished on its own.
fn import_killed_after(vault: &Path, file: &Path, after: Duration) -> bool {
    let mut child = ident_command(vault)
        .args(["--pin-stdin", "--json", "import"])
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
    }
    std::thread::sleep(after);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    finished
}

#[test]
fn kill_during_import_keeps_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());

    // How long a whole import takes on this machine (a separate vault).
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = new_vault(probe_dir.path());
    let file = import_file(dir.path(), 0);
    let started = Instant::now();
    let mut took = None;
    {
        let mut child = ident_command(&probe)
            .args(["--pin-stdin", "--json", "import"])
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
        }
        wait_until("the probe import", Duration::from_secs(20), || {
            child.try_wait().unwrap().is_some()
        });
        took.get_or_insert(started.elapsed());
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(accounts(&probe).len(), PER_FILE);
    let took = took.unwrap();

    let mut expected = 0;
    let mut killed = 0;
    for round in 1..=10u32 {
        let file = import_file(dir.path(), round as usize);
        let after = took * round / 10;
        let done = import_killed_after(&vault, &file, after);
        let count = accounts(&vault).len();
        assert!(
            count == expected || count == expected + PER_FILE,
            "round {round} (killed after {after:?}): {count} accounts, expected {expected} or {}",
            expected + PER_FILE
        );
        if count == expected {
            assert!(!done, "a finished import added nothing");
            killed += 1;
        }
        expected = count;
    }
    // The early kills (a tenth of an import's time) always cut it short.
    assert!(
        killed > 0,
        "no import was cut short (a whole one took {took:?})"
    );
}
