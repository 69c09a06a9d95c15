//! The harness of the end-to-end tests in `tests/tests/`: real processes on
//! loopback. It builds and starts `ident-server` (a fresh database, an API
//! key and a broker made with `ident-server admin`, a TOML config, an SMS
//! outbox, a port chosen by the OS), drives the `ident` CLI as a user would,
//! and acts as the portal through the relying-party API.
//!
//! Every wait has a deadline: a process that hangs is killed and the test
//! fails with what the process printed. Failures panic with context (this is
//! a test harness; a panic is how a test fails), so the helpers return plain
//! values and the tests stay short.
//!
//! The binaries are built by `cargo build` from the first test that needs
//! them (a no-op when they are fresh) and found next to the test executable
//! (`target/<profile>/`).
#![allow(clippy::panic)]

use std::fmt::Display;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The vault PIN of every test vault.
pub const PIN: &str = "739154";
/// The broker every test server has (login, with a mobile number).
pub const BROKER: &str = "1000";
/// The password of the users the harness creates.
pub const PASSWORD: &str = "Sehr-geheimes-Passwort-1";
/// The browser context of logins started by the tests.
pub const BROWSER_IP: &str = "203.0.113.9";
/// The user agent of logins started by the tests.
pub const BROWSER_UA: &str = "Mozilla/5.0 (E2E)";
/// How long one CLI or admin command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Turns a failure into a test failure with context.
pub trait OrFail<T> {
    /// The value, or a panic naming `what` failed and why.
    fn or_fail(self, what: &str) -> T;
}

impl<T, E: Display> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> T {
        self.unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

impl<T> OrFail<T> for Option<T> {
    fn or_fail(self, what: &str) -> T {
        self.unwrap_or_else(|| panic!("{what}: nothing there"))
    }
}

/// `target/<profile>/`, where cargo puts the binaries.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().or_fail("the test executable");
    exe.parent()
        .and_then(Path::parent)
        .or_fail("target/<profile>/")
        .to_owned()
}

/// Removes the variables cargo sets for a running test (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, …) from `cmd`'s environment. Build scripts (ring's,
/// through the cc crate) declare `rerun-if-env-changed` on them, and cargo
/// compares them with its *own* environment: a cargo started from a test
/// with them set would rebuild ring and everything above it, every time.
pub fn without_test_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let test_var = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&name);
        if test_var {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn build_binaries() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        without_test_env(&mut cmd)
            .args(["build", "-p", "ident-server", "-p", "ident-cli"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if bin_dir().file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().or_fail("cargo build");
        assert!(status.success(), "building the binaries failed");
    });
}

/// The path of a workspace binary (`ident`, `ident-server`), built if needed.
pub fn bin(name: &str) -> PathBuf {
    build_binaries();
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} not found", p.display());
    p
}

/// A free loopback port (the OS picks it; it is free again when this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .or_fail("a free port")
        .port()
}

/// Calls `done` every 50 ms until it is true; fails after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a finished process printed.
#[derive(Debug)]
pub struct Out {
    /// The exit code (-1: killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Stdout as the one JSON document `--json` prints.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): stdout {:?}, stderr {:?}",
                self.stdout, self.stderr
            )
        })
    }

    /// Fails unless the exit code is `code`.
    pub fn expect_code(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "{what}: stdout {:?}, stderr {:?}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Reads a pipe to its end on a thread.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for a spawned child with piped stdout/stderr; kills it after `timeout`.
pub fn finish(mut child: Child, timeout: Duration, what: &str) -> Out {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().or_fail(what) {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Out {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "{what} did not finish within {timeout:?}: stdout {:?}, stderr {:?}",
        out.stdout,
        out.stderr
    );
    out
}

/// Runs `cmd` with `stdin` as its input, within [`COMMAND_TIMEOUT`].
pub fn run(cmd: &mut Command, stdin: &str, what: &str) -> Out {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .or_fail(what);
    if let Some(mut pipe) = child.stdin.take() {
        // The child may exit without reading; that is its answer, not ours.
        let _ = pipe.write_all(stdin.as_bytes());
    }
    finish(child, COMMAND_TIMEOUT, what)
}

/// A running `ident-server serve` with its own directory (database, config,
/// SMS outbox, log), killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// The base URL (`http://127.0.0.1:<port>`), also the public URL.
    pub base: String,
    /// The port, kept across restarts.
    pub port: u16,
    /// The portal's API key.
    pub api_key: String,
    /// The database file.
    pub db: PathBuf,
    /// The SMS outbox (JSON lines).
    pub outbox: PathBuf,
    config: PathBuf,
    log: PathBuf,
    http: reqwest::blocking::Client,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Server {
    /// A server with the default configuration.
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// A server with `config` as its TOML file (top-level keys first, then
    /// tables such as `[policy]`), a broker [`BROKER`] with a mobile number,
    /// and an API key.
    pub fn start_with(config: &str) -> Self {
        let dir = tempfile::tempdir().or_fail("a temporary directory");
        let db = dir.path().join("ident.db");
        let config_path = dir.path().join("ident.toml");
        std::fs::write(&config_path, config).or_fail("writing the config");
        let port = free_port();
        let mut server = Self {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            port,
            api_key: String::new(),
            outbox: dir.path().join("sms.jsonl"),
            log: dir.path().join("server.log"),
            config: config_path,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .or_fail("an HTTP client"),
            db,
            dir,
        };
        server.api_key = server.admin(&["create-api-key", "--name", "E2E-Portal"], "");
        server.create_user(BROKER, "broker", None, Some("0151 12345678"));
        server.spawn();
        server
    }

    /// The server's own directory (for extra files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the process (again) on the same database, port and config,
    /// and waits until `/health` answers.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .or_fail("the server log");
        let child = Command::new(bin("ident-server"))
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .arg("--db")
            .arg(&self.db)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--public-url", &self.base])
            .arg("--sms-outbox")
            .arg(&self.outbox)
            .args(["--log-format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .or_fail("starting ident-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = self
                .http
                .get(format!("{}/health", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if up {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("the server did not start ({exited:?}); its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process at once (SIGKILL: no graceful shutdown) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs `ident-server admin --db <db> ARGS` with `stdin`; returns its stdout.
    pub fn admin(&self, args: &[&str], stdin: &str) -> String {
        let out = run(
            Command::new(bin("ident-server"))
                .arg("admin")
                .arg("--db")
                .arg(&self.db)
                .args(args),
            stdin,
            "ident-server admin",
        );
        out.expect_code(0, &format!("admin {args:?}"));
        out.stdout.trim().to_owned()
    }

    /// Creates a user with [`PASSWORD`] through `ident-server admin`.
    pub fn create_user(&self, login: &str, role: &str, broker: Option<&str>, phone: Option<&str>) {
        let mut args = vec!["create-user", "--login", login, "--role", role];
        if let Some(b) = broker {
            args.extend(["--broker", b]);
        }
        if let Some(p) = phone {
            args.extend(["--phone", p]);
        }
        args.push("--password-stdin");
        self.admin(&args, PASSWORD);
    }

    /// An API call with the API key; returns (HTTP status, JSON body or null).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).or_fail("an HTTP method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().or_fail(&format!("calling {path}"));
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// `POST` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }

    /// `PUT` with a JSON body; fails unless 200.
    pub fn put_ok(&self, path: &str, body: &Value) -> Value {
        let (status, v) = self.call("PUT", path, Some(body));
        assert_eq!(status, 200, "PUT {path}: {v}");
        v
    }

    /// `GET`; fails unless 200.
    pub fn get(&self, path: &str) -> Value {
        let (status, v) = self.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// A new enrollment code (`ident://enroll?…`) for `login`.
    pub fn enrollment_uri(&self, login: &str) -> String {
        let (status, body) = self.post(&format!("/api/v1/users/{login}/enrollments"), &json!({}));
        assert_eq!(status, 201, "{body}");
        body["uri"]
            .as_str()
            .or_fail("the enrollment uri")
            .to_owned()
    }

    /// `POST /api/v1/auth` for `login` with `method` (and a trust token);
    /// returns (HTTP status, body).
    pub fn start_auth(&self, login: &str, method: &str, trust_token: Option<&str>) -> (u16, Value) {
        let mut body = json!({"login": login, "method": method,
                              "context": {"ip": BROWSER_IP, "user_agent": BROWSER_UA}});
        if let Some(t) = trust_token {
            body["trust_token"] = json!(t);
        }
        self.post("/api/v1/auth", &body)
    }

    /// Starts a push login; returns (txn, number shown on the login page).
    pub fn login(&self, login: &str) -> (String, String) {
        let (status, body) = self.start_auth(login, "push", None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["method"], "push", "{body}");
        (
            body["txn"].as_str().or_fail("txn").to_owned(),
            body["number"].as_str().or_fail("number").to_owned(),
        )
    }

    /// `GET /api/v1/auth/{txn}`.
    pub fn status_view(&self, txn: &str) -> Value {
        self.get(&format!("/api/v1/auth/{txn}"))
    }

    /// The status of a login (`pending`, `approved`, …).
    pub fn status(&self, txn: &str) -> String {
        self.status_view(txn)["status"]
            .as_str()
            .or_fail("status")
            .to_owned()
    }

    /// Every SMS the server "sent" (the outbox lines: `{to, text, time}`).
    pub fn sms(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).or_fail("an outbox line"))
            .collect()
    }

    /// The code in the last SMS (its 6-digit word).
    pub fn last_sms_code(&self) -> Option<String> {
        sms_code(self.sms().last()?)
    }
}

/// The 6-digit code in an outbox line.
pub fn sms_code(line: &Value) -> Option<String> {
    line["text"]
        .as_str()?
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_owned)
}

/// A number of the same length that is not `number`.
pub fn wrong_number(number: &str) -> String {
    let d = if number.starts_with('9') { "1" } else { "9" };
    d.repeat(number.len())
}

/// `ident` with the test environment: `vault`, the fast test KDF, English.
pub fn ident_command(vault: &Path) -> Command {
    let mut cmd = Command::new(bin("ident"));
    cmd.env("IDENT_VAULT", vault)
        .env("IDENT_TEST_FAST_KDF", "1")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("IDENT_LANG");
    cmd
}

/// Runs `ident ARGS` on `vault` with `stdin`.
pub fn ident(vault: &Path, args: &[&str], stdin: &str) -> Out {
    run(
        ident_command(vault).args(args),
        stdin,
        &format!("ident {args:?}"),
    )
}

/// Runs `ident --pin-stdin --json ARGS` with the PIN; fails unless it exits 0.
pub fn ident_ok(vault: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--pin-stdin", "--json"];
    all.extend_from_slice(args);
    let out = ident(vault, &all, &format!("{PIN}\n"));
    out.expect_code(0, &format!("ident {args:?}"));
    out.json()
}

/// A new vault `vault.db` in `dir` with [`PIN`].
pub fn new_vault(dir: &Path) -> PathBuf {
    let v = dir.join("vault.db");
    ident(&v, &["--pin-stdin", "init"], &format!("{PIN}\n")).expect_code(0, "ident init");
    v
}

/// The vault's accounts (`ident list --json`).
pub fn accounts(vault: &Path) -> Vec<Value> {
    ident_ok(vault, &["list"])["accounts"]
        .as_array()
        .or_fail("accounts")
        .clone()
}

/// Enrolls `login` of `server` into `vault` with `ident enroll`; answers the
/// SMS step from the outbox when the server asks for it (the CLI reads the
/// code as the next stdin line). Returns the enrolled account (JSON).
pub fn enroll(server: &Server, login: &str, vault: &Path) -> Value {
    let uri = server.enrollment_uri(login);
    let sms_before = server.sms().len();
    let mut child = ident_command(vault)
        .args([
            "--pin-stdin",
            "--json",
            "enroll",
            &uri,
            "--name",
            "E2E-Laptop",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .or_fail("ident enroll");
    let mut stdin = child.stdin.take().or_fail("stdin");
    stdin
        .write_all(format!("{PIN}\n").as_bytes())
        .or_fail("writing the PIN");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sms = server.sms();
        if sms.len() > sms_before {
            let code = sms.last().and_then(sms_code).or_fail("the SMS code");
            let _ = stdin.write_all(format!("{code}\n").as_bytes());
            break;
        }
        if child.try_wait().or_fail("ident enroll").is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let out = finish(child, COMMAND_TIMEOUT, "ident enroll");
    out.expect_code(0, "ident enroll");
    let v = out.json();
    assert_eq!(v["account"]["kind"], "push", "{v}");
    assert_eq!(v["account"]["login"], login, "{v}");
    v["account"].clone()
}

/// The open login requests of every push account (`ident pending --json`).
pub fn pending(vault: &Path) -> Vec<Value> {
    let v = ident_ok(vault, &["pending"]);
    assert_eq!(v["failures"], json!([]), "{v}");
    v["challenges"].as_array().or_fail("challenges").clone()
}

/// The id of the only open login request.
pub fn only_pending(vault: &Path) -> String {
    let challenges = pending(vault);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    challenges[0]["id"].as_str().or_fail("id").to_owned()
}

/// `ident answer ID approve --number N` with the PIN (not checked).
pub fn approve(vault: &Path, challenge: &str, number: &str) -> Out {
    ident(
        vault,
        &[
            "--pin-stdin",
            "--json",
            "answer",
            challenge,
            "approve",
            "--number",
            number,
        ],
        &format!("{PIN}\n"),
    )
}
