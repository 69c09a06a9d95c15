//! The `ident` binary against temporary vaults: every offline command, the
//! JSON shapes of docs/cli.md, exit codes, and German vs English messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

const PIN: &str = "739154";
/// RFC 6238's SHA-1 seed "12345678901234567890" in base32.
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

fn ident(vault: &Path, args: &[&str], stdin: &str, lang: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ident"))
        .args(args)
        .env("IDENT_VAULT", vault)
        .env("IDENT_TEST_FAST_KDF", "1")
        .env_remove("IDENT_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading its input (no vault yet) may close
    // stdin first; that broken pipe is the command's business, not a failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs with the PIN on stdin, English, and expects success.
fn ok(vault: &Path, args: &[&str], extra_stdin: &str) -> Run {
    let mut a = vec!["--pin-stdin"];
    a.extend_from_slice(args);
    let r = ident(vault, &a, &format!("{PIN}\n{extra_stdin}"), "C");
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r
}

fn new_vault(dir: &Path, name: &str) -> PathBuf {
    let v = dir.join(name);
    let r = ident(
        &v,
        &["--pin-stdin", "--json", "init"],
        &format!("{PIN}\n"),
        "C",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["created"], true);
    v
}

/// A Google Authenticator export of two TOTP accounts, encoded by hand
/// (protobuf) so the test does not depend on the parser under test.
fn migration_uri() -> String {
    fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, u8::try_from(bytes.len()).unwrap()];
        v.extend_from_slice(bytes);
        v
    }
    let account = |name: &str, issuer: &str| {
        let mut p = field(0x0a, b"12345678901234567890");
        p.extend(field(0x12, name.as_bytes()));
        p.extend(field(0x1a, issuer.as_bytes()));
        p.extend([0x20, 1, 0x28, 1, 0x30, 2]);
        field(0x0a, &p)
    };
    let mut payload = account("bob@example.com", "Example");
    payload.extend(account("carol", "Fonds AG"));
    payload.extend([0x10, 1]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
    let enc = b64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!("otpauth-migration://offline?data={enc}")
}

#[test]
fn otp_without_vault_matches_rfc6238() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("none.db");
    let uri = format!("otpauth://totp/T?secret={SEED}&digits=8");
    for (at, want) in [("59", "94287082"), ("1111111109", "07081804")] {
        let r = ident(&v, &["otp", "--uri", &uri, "--at", at], "", "C");
        assert_eq!((r.code, r.stdout.trim()), (0, want));
    }
    let r = ident(&v, &["--json", "otp", "--uri", &uri, "--at", "59"], "", "C");
    let j = r.json();
    assert_eq!(j["code"], "94287082");
    assert_eq!(j["valid_from"], 30);
    assert_eq!(j["valid_until"], 60);
    assert!(!v.exists(), "otp must not create a vault");
    let bad = ident(&v, &["otp", "--uri", "otpauth://totp/x"], "", "C");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.starts_with("ident: "), "{}", bad.stderr);
}

#[test]
fn accounts_lifecycle_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let v = new_vault(dir.path(), "v.db");
    let r = ok(
        &v,
        &[
            "--json",
            "import",
            &format!("otpauth://totp/GitHub:alice?secret={SEED}&issuer=GitHub"),
        ],
        "",
    );
    assert_eq!(r.json()["added"], serde_json::json!([1]));
    let r = ok(&v, &["--json", "import", &migration_uri()], "");
    assert_eq!(r.json()["added"], serde_json::json!([2, 3]));
    // A HOTP account through enroll (an otpauth URI is an OTP account).
    ok(
        &v,
        &[
            "enroll",
            &format!("otpauth://hotp/Counter?secret={SEED}&counter=0"),
        ],
        "",
    );

    let list = ok(&v, &["--json", "list"], "").json();
    let accounts = list["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    assert_eq!(accounts[0]["id"], 1);
    assert_eq!(accounts[0]["position"], 0);
    assert_eq!(accounts[0]["kind"], "otp");
    assert_eq!(accounts[0]["name"], "alice");
    assert_eq!(accounts[0]["issuer"], "GitHub");
    assert_eq!(accounts[0]["otp"]["type"], "totp");
    assert_eq!(accounts[0]["otp"]["algorithm"], "SHA1");
    assert_eq!(accounts[0]["otp"]["digits"], 6);
    assert_eq!(accounts[0]["otp"]["period"], 30);
    assert_eq!(accounts[1]["name"], "bob@example.com");
    assert_eq!(accounts[2]["issuer"], "Fonds AG");
    assert_eq!(accounts[3]["otp"]["type"], "hotp");

    // HOTP: RFC 4226 counter 0 then 1.
    let c = ok(&v, &["--json", "code", "Counter"], "").json();
    assert_eq!(c["codes"][0]["code"], "755224");
    assert_eq!(c["codes"][0]["valid_until"], Value::Null);
    let c = ok(&v, &["code", "4"], "");
    assert_eq!(c.stdout.trim(), "287082");
    // Without an account: every TOTP code, HOTP untouched.
    let all = ok(&v, &["--json", "code"], "").json();
    assert_eq!(all["codes"].as_array().unwrap().len(), 3);
    assert_eq!(all["codes"][0]["code"].as_str().unwrap().len(), 6);

    // Ambiguous query lists the candidates, exit 2.
    ok(&v, &["rename", "carol", "Depot Carol"], "");
    let amb = ident(&v, &["--pin-stdin", "code", "o"], &format!("{PIN}\n"), "C");
    assert_eq!(amb.code, 2, "{}", amb.stderr);
    assert!(
        amb.stderr.contains("Several accounts match"),
        "{}",
        amb.stderr
    );
    assert!(amb.stderr.contains("2 (bob@example.com)"), "{}", amb.stderr);
    let amb = ident(
        &v,
        &["--pin-stdin", "--json", "code", "o"],
        &format!("{PIN}\n"),
        "C",
    );
    assert_eq!(amb.json()["error"]["kind"], "ambiguous");
    assert_eq!(amb.json()["error"]["exit_code"], 2);
    let none = ident(
        &v,
        &["--pin-stdin", "code", "zzz"],
        &format!("{PIN}\n"),
        "C",
    );
    assert_eq!(none.code, 2);

    let r = ok(&v, &["--json", "rename", "bob", "Bob"], "").json();
    assert_eq!(
        (r["id"].clone(), r["name"].clone()),
        (2.into(), "Bob".into())
    );
    let r = ok(&v, &["--json", "move", "Depot Carol", "0"], "").json();
    assert_eq!(r["position"], 0);
    let bad = ident(
        &v,
        &["--pin-stdin", "move", "Bob", "9"],
        &format!("{PIN}\n"),
        "C",
    );
    assert_eq!(bad.code, 2);
    let list = ok(&v, &["--json", "list"], "").json();
    let names: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Depot Carol", "alice", "Bob", "Counter"]);

    let r = ok(&v, &["--json", "remove", "alice"], "").json();
    assert_eq!(r["removed"], 1);
    assert_eq!(r["server_unenrolled"], Value::Null);
    assert_eq!(
        ok(&v, &["--json", "list"], "").json()["accounts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn export_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let a = new_vault(dir.path(), "a.db");
    ok(
        &a,
        &[
            "import",
            &format!("otpauth://totp/GitHub:alice?secret={SEED}&issuer=GitHub"),
        ],
        "",
    );
    ok(&a, &["import", &migration_uri()], "");
    let file = dir.path().join("export.json");
    let r = ok(
        &a,
        &["--json", "export", "--out", file.to_str().unwrap()],
        "korrekt pferd batterie\n",
    )
    .json();
    assert_eq!(r["otp_accounts"], 3);
    assert_eq!(r["push_accounts_listed"], 0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"format\": \"ident-export\""));
    assert!(!text.contains(SEED) && !text.contains("alice"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the export is private");
    }
    // Short passphrase refused.
    let short = ident(
        &a,
        &[
            "--pin-stdin",
            "export",
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ],
        &format!("{PIN}\nkurz\n"),
        "C",
    );
    assert_eq!(short.code, 2, "{}", short.stderr);

    let b = new_vault(dir.path(), "b.db");
    let wrong = ident(
        &b,
        &["--pin-stdin", "import", file.to_str().unwrap()],
        &format!("{PIN}\nfalsches passwort\n"),
        "C",
    );
    assert_eq!(wrong.code, 3, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("passphrase is wrong"),
        "{}",
        wrong.stderr
    );
    let r = ok(
        &b,
        &["--json", "import", file.to_str().unwrap()],
        "korrekt pferd batterie\n",
    )
    .json();
    assert_eq!(r["added"].as_array().unwrap().len(), 3);
    let codes_a = ok(&a, &["--json", "code", "alice"], "").json();
    let codes_b = ok(&b, &["--json", "code", "alice"], "").json();
    assert_eq!(codes_a["codes"][0]["code"], codes_b["codes"][0]["code"]);
}

#[test]
fn pins_locale_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v.db");
    // No vault yet.
    let r = ident(&v, &["--pin-stdin", "list"], "123\n", "de_DE.UTF-8");
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("ident init"), "{}", r.stderr);
    // Weak PINs are refused with reasons, in German and English.
    let r = ident(&v, &["--pin-stdin", "init"], "123456\n", "de_DE.UTF-8");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Zahlenfolge"), "{}", r.stderr);
    let r = ident(&v, &["--pin-stdin", "init"], "1111\n", "en_US.UTF-8");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("too short"), "{}", r.stderr);
    // A request id may start with '-' (base64url): it is an id, not an option.
    let w = new_vault(dir.path(), "hyphen.db");
    let r = ident(
        &w,
        &["--pin-stdin", "answer", "-Hx3_id", "approve"],
        &format!("{PIN}\n"),
        "C",
    );
    assert!(!r.stderr.contains("unexpected argument"), "{}", r.stderr);
    assert_ne!(r.code, 2, "{}", r.stderr);
    // Shorter than the vault accepts at all: the length rule, stated plainly.
    let r = ident(&v, &["--pin-stdin", "init"], "12\n", "en_US.UTF-8");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("characters long"), "{}", r.stderr);
    assert!(!v.exists() || ident(&v, &["--pin-stdin", "list"], "x\n", "C").code == 3);

    let v = new_vault(dir.path(), "w.db");
    // No terminal and no --pin-stdin: a usage error, not a hang.
    let r = ident(&v, &["list"], "", "C");
    assert_eq!(r.code, 2);
    // A second init refuses.
    let r = ident(&v, &["--pin-stdin", "init"], &format!("{PIN}\n"), "C");
    assert_eq!(r.code, 3);
    // Wrong PIN: exit 3, attempts left, by language; never the PIN itself.
    let de = ident(&v, &["--pin-stdin", "list"], "000000\n", "de_DE.UTF-8");
    assert_eq!(de.code, 3);
    assert!(de.stderr.contains("Die PIN ist falsch"), "{}", de.stderr);
    assert!(de.stderr.contains("Noch 9 Versuche"), "{}", de.stderr);
    assert!(!de.stderr.contains("000000"));
    let en = ident(&v, &["--pin-stdin", "list"], "000001\n", "en_US.UTF-8");
    assert!(en.stderr.contains("The PIN is wrong"), "{}", en.stderr);
    assert!(en.stderr.contains("8 attempts"), "{}", en.stderr);
    // IDENT_LANG wins over LANG.
    let mut cmd_out = Command::new(env!("CARGO_BIN_EXE_ident"))
        .args(["--pin-stdin", "--json", "list"])
        .env("IDENT_VAULT", &v)
        .env("IDENT_LANG", "de")
        .env("LANG", "en_US.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    cmd_out
        .stdin
        .take()
        .unwrap()
        .write_all(b"000002\n")
        .unwrap();
    let out = cmd_out.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["error"]["kind"], "wrong_pin");
    assert_eq!(j["error"]["exit_code"], 3);
    assert!(j["error"]["message"].as_str().unwrap().contains("Noch 7"));
    // The third wrong PIN starts a back-off: the right PIN is not even tried.
    let r = ident(&v, &["--pin-stdin", "list"], &format!("{PIN}\n"), "C");
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("Wait"), "{}", r.stderr);
    // Usage errors from clap are exit 2.
    assert_eq!(ident(&v, &["frobnicate"], "", "C").code, 2);
    assert_eq!(ident(&v, &["--help"], "", "C").code, 0);
}

#[test]
fn enroll_from_a_qr_image() {
    let dir = tempfile::tempdir().unwrap();
    let v = new_vault(dir.path(), "v.db");
    let uri = format!("otpauth://totp/Scan:me?secret={SEED}&issuer=Scan");
    let qr = qrcode::QrCode::new(uri.as_bytes()).unwrap();
    let w = qr.width();
    let colors = qr.to_colors();
    let scale = 8;
    let quiet = 4;
    let side = u32::try_from((w + 2 * quiet) * scale).unwrap();
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x as usize / scale, y as usize / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < w + quiet
            && my < w + quiet
            && colors[(my - quiet) * w + (mx - quiet)] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let png = dir.path().join("qr.png");
    img.save(&png).unwrap();
    let r = ok(&v, &["--json", "enroll", "--qr", png.to_str().unwrap()], "").json();
    assert_eq!(r["added"], serde_json::json!([1]));
    let bad = dir.path().join("not.png");
    std::fs::write(&bad, b"not an image").unwrap();
    let r = ident(
        &v,
        &["--pin-stdin", "enroll", "--qr", bad.to_str().unwrap()],
        &format!("{PIN}\n"),
        "C",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn enroll_link_errors_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let v = new_vault(dir.path(), "v.db");
    let r = ident(
        &v,
        &[
            "--pin-stdin",
            "enroll",
            "ident://enroll?v=1&s=http://example.com&t=x&fp=y",
        ],
        &format!("{PIN}\n"),
        "de_DE.UTF-8",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("ident: "));
    // Pending with no push accounts: nothing to ask, exit 0.
    let r = ok(&v, &["--json", "pending"], "").json();
    assert_eq!(r["challenges"], serde_json::json!([]));
    assert_eq!(r["failures"], serde_json::json!([]));
}
