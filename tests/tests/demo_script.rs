//! `scripts/demo`, the README's first command, keeps working: run with
//! `IDENT_DEMO_EXIT_AFTER=1` on a port the OS picks, it starts ident-server
//! with demo data, enrolls a demo vault with `ident`, logs Max in through
//! the API with curl, approves the login with `ident answer`, prints the
//! approved status, and on exit stops the server and removes its temporary
//! directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ident_e2e::{bin, bin_dir, finish, without_test_env};

#[test]
fn the_demo_approves_a_login_and_cleans_up() {
    // Build first, so the script's own `cargo build` finds everything fresh.
    bin("ident-server");
    bin("ident");
    if Command::new("curl").arg("--version").output().is_err() {
        panic!("the demo needs curl (scripts/demo installs it; here it is missing)");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target_dir = bin_dir().parent().unwrap().to_owned();
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(cargo_dir) = std::env::var_os("CARGO")
        .as_deref()
        .and_then(|c| Path::new(c).parent())
    {
        let mut p = cargo_dir.as_os_str().to_owned();
        p.push(":");
        p.push(&path);
        path = p;
    }
    let child = without_test_env(&mut Command::new(root.join("scripts/demo")))
        .env("IDENT_DEMO_EXIT_AFTER", "1")
        .env("IDENT_DEMO_LISTEN", "127.0.0.1:0")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("PATH", path)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("IDENT_LANG")
        .env_remove("IDENT_VAULT")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(child, Duration::from_secs(120), "scripts/demo");
    out.expect_code(0, "scripts/demo");
    let text = &out.stdout;

    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{text}"))
            .to_owned()
    };
    let base = line("server: ");
    let base = base["server: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(line("Push account ").contains("max.mustermann@example.de"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("Login ") && l.ends_with(" approved.")),
        "the CLI approved: {text}"
    );
    assert!(line("{\"status\":\"approved\"").contains("\"method\":\"push\""));
    assert!(line("demo: login ").ends_with(" approved / Anmeldung bestätigt"));

    // Stopped: the temporary directory is gone and nothing listens any more.
    let stopped = line("demo: stopped; removed ");
    let work = Path::new(&stopped["demo: stopped; removed ".len()..]);
    assert!(!work.exists(), "{} is still there", work.display());
    let addr = base.trim_start_matches("http://");
    assert!(
        TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).is_err(),
        "the demo server still listens on {addr}"
    );
}
