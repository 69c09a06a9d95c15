//! A push login from end to end, with real processes: `ident-server serve`,
//! users made with `ident-server admin`, an enrollment made by the portal API
//! and completed with `ident enroll`, logins started through
//! `POST /api/v1/auth`, answered with `ident answer`, and their status read
//! back as the portal would.
//!
//! The binaries are built by `cargo build` from the test (a no-op when they
//! are fresh) and found next to the test executable (`target/<profile>/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PIN: &str = "739154";
const BROKER: &str = "1000";
const PASSWORD: &str = "Sehr-geheimes-Passwort-1";

/// `target/<profile>/`, where cargo puts the binaries.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    deps.parent().unwrap().to_owned()
}

fn build_binaries() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "ident-server", "-p", "ident-cli"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the binaries failed");
    });
}

fn bin(name: &str) -> PathBuf {
    build_binaries();
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} not found", p.display());
    p
}

struct Server {
    child: Child,
    base: String,
    api_key: String,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin(db: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(bin("ident-server"))
        .arg("admin")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn start_server(sms_confirmation: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ident.db");
    let outbox = dir.path().join("sms.jsonl");
    let api_key = admin(&db, &["create-api-key", "--name", "E2E-Portal"], "");
    admin(
        &db,
        &[
            "create-user",
            "--login",
            BROKER,
            "--name",
            "Maklerbüro Schmidt",
            "--role",
            "broker",
            "--phone",
            "0151 12345678",
            "--password-stdin",
        ],
        PASSWORD,
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("ident.toml");
    std::fs::write(
        &config,
        format!("[policy]\nenrollment_sms_confirmation = {sms_confirmation}\n"),
    )
    .unwrap();
    let child = Command::new(bin("ident-server"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(&db)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", &base])
        .arg("--sms-outbox")
        .arg(&outbox)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base,
        api_key,
        outbox,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if reqwest::blocking::get(format!("{}/health", server.base))
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Server {
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .json(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> Value {
        reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn enrollment_uri(&self, login: &str) -> String {
        let (status, body) = self.post(&format!("/api/v1/users/{login}/enrollments"), &json!({}));
        assert_eq!(status, 201, "{body}");
        body["uri"].as_str().unwrap().to_owned()
    }

    /// Starts a push login; returns (txn, number).
    fn login(&self, login: &str) -> (String, Option<String>) {
        let (status, body) = self.post(
            "/api/v1/auth",
            &json!({"login": login, "method": "push",
                    "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (E2E)"}}),
        );
        assert_eq!(status, 200, "{body}");
        (
            body["txn"].as_str().unwrap().to_owned(),
            body["number"].as_str().map(str::to_owned),
        )
    }

    fn status(&self, txn: &str) -> String {
        self.get(&format!("/api/v1/auth/{txn}"))["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The last SMS code sent (6 digits in the outbox's last line).
    fn last_sms_code(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.outbox).ok()?;
        let line: Value = serde_json::from_str(text.lines().last()?).ok()?;
        let sms = line["text"].as_str()?;
        sms.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .map(str::to_owned)
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ident(vault: &Path, args: &[&str], stdin: &str) -> Out {
    let mut child = Command::new(bin("ident"))
        .args(args)
        .env("IDENT_VAULT", vault)
        .env("IDENT_TEST_FAST_KDF", "1")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("IDENT_LANG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json_of(o: &Out) -> Value {
    serde_json::from_str(o.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} / {}", o.stdout, o.stderr))
}

fn vault_with_pin(dir: &Path) -> PathBuf {
    let v = dir.join("vault.db");
    let o = ident(&v, &["--pin-stdin", "init"], &format!("{PIN}\n"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    v
}

/// Enrolls the broker; answers the SMS step from the outbox when the server
/// asks for it (the CLI reads the code as the next stdin line).
fn enroll(server: &Server, vault: &Path) -> Value {
    let uri = server.enrollment_uri(BROKER);
    let mut child = Command::new(bin("ident"))
        .args([
            "--pin-stdin",
            "--json",
            "enroll",
            &uri,
            "--name",
            "E2E-Laptop",
        ])
        .env("IDENT_VAULT", vault)
        .env("LANG", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(code) = server.last_sms_code() {
            let _ = stdin.write_all(format!("{code}\n").as_bytes());
            break;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert_eq!(o.code, 0, "enroll: {} / {}", o.stdout, o.stderr);
    json_of(&o)
}

fn pending_ids(vault: &Path) -> Vec<Value> {
    let o = ident(
        vault,
        &["--pin-stdin", "--json", "pending"],
        &format!("{PIN}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    json_of(&o)["challenges"].as_array().unwrap().clone()
}

#[test]
fn approve_deny_wrong_number_replay_and_remove() {
    let server = start_server(false);
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_pin(dir.path());
    let enrolled = enroll(&server, &vault);
    assert_eq!(enrolled["account"]["kind"], "push");
    assert_eq!(enrolled["account"]["login"], BROKER);

    // Approve with the number shown on the login page.
    let (txn, number) = server.login(BROKER);
    let challenges = pending_ids(&vault);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    let c = &challenges[0];
    assert_eq!(c["ip"], "203.0.113.9");
    assert_eq!(c["user_agent"], "Mozilla/5.0 (E2E)");
    let id = c["id"].as_str().unwrap().to_owned();
    let mut args = vec!["--pin-stdin", "--json", "answer", &id, "approve"];
    if let Some(n) = number.as_deref() {
        assert_eq!(c["number_required"], true);
        args.extend(["--number", n]);
    }
    let o = ident(&vault, &args, &format!("{PIN}\n"));
    assert_eq!(o.code, 0, "{} / {}", o.stdout, o.stderr);
    assert_eq!(json_of(&o)["status"], "approved");
    assert_eq!(server.status(&txn), "approved");

    // The same answer again: the request is gone (exit 4), nothing changes.
    let o = ident(&vault, &args, &format!("{PIN}\n"));
    assert_eq!(o.code, 4, "{} / {}", o.stdout, o.stderr);
    assert_eq!(server.status(&txn), "approved");

    // Wrong number: the approval counts as a denial, exit 1.
    let (txn, number) = server.login(BROKER);
    if let Some(n) = number {
        let wrong = if n.starts_with('9') {
            "1".repeat(n.len())
        } else {
            "9".repeat(n.len())
        };
        let id = pending_ids(&vault)[0]["id"].as_str().unwrap().to_owned();
        let o = ident(
            &vault,
            &["--pin-stdin", "answer", &id, "approve", "--number", &wrong],
            &format!("{PIN}\n"),
        );
        assert_eq!(o.code, 1, "{} / {}", o.stdout, o.stderr);
        assert_eq!(server.status(&txn), "denied");
    }

    // A wrong PIN at the answer: exit 3, nothing sent.
    let (txn, number) = server.login(BROKER);
    let id = pending_ids(&vault)[0]["id"].as_str().unwrap().to_owned();
    let mut args = vec!["--pin-stdin", "answer", &id, "approve"];
    if let Some(n) = number.as_deref() {
        args.extend(["--number", n]);
    }
    let o = ident(&vault, &args, "000000\n");
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(server.status(&txn), "pending");

    let o = ident(
        &vault,
        &["--pin-stdin", "answer", &id, "deny"],
        &format!("{PIN}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    // Deny as "not me".
    let (txn, _) = server.login(BROKER);
    let id = pending_ids(&vault)[0]["id"].as_str().unwrap().to_owned();
    let o = ident(
        &vault,
        &[
            "--pin-stdin",
            "--json",
            "answer",
            &id,
            "deny",
            "--reason",
            "not_me",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(o.code, 0, "{} / {}", o.stdout, o.stderr);
    // "Not me" denies and locks push for the user at once.
    let status = server.status(&txn);
    assert!(status == "denied" || status == "locked", "{status}");
    let (code, body) = server.post(
        "/api/v1/auth",
        &json!({"login": BROKER, "method": "push",
                "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (E2E)"}}),
    );
    assert_eq!(code, 423, "{body}");

    // Removing the account unenrolls the device at the server.
    let o = ident(
        &vault,
        &["--pin-stdin", "--json", "remove", BROKER],
        &format!("{PIN}\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(json_of(&o)["server_unenrolled"], true);
    let user = server.get(&format!("/api/v1/users/{BROKER}"));
    assert_eq!(user["enrolled"], false, "{user}");
}

#[test]
fn enrollment_with_sms_code_from_the_outbox() {
    let server = start_server(true);
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_pin(dir.path());
    let enrolled = enroll(&server, &vault);
    assert_eq!(enrolled["account"]["login"], BROKER);
    assert!(server.last_sms_code().is_some(), "an SMS was sent");
    let (txn, number) = server.login(BROKER);
    let id = pending_ids(&vault)[0]["id"].as_str().unwrap().to_owned();
    let mut args = vec!["--pin-stdin", "answer", &id, "approve"];
    if let Some(n) = number.as_deref() {
        args.extend(["--number", n]);
    }
    assert_eq!(ident(&vault, &args, &format!("{PIN}\n")).code, 0);
    assert_eq!(server.status(&txn), "approved");
}
