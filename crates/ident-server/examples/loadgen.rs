//! Load generator: complete push logins per second against the real
//! `ident-server serve` binary, in its own process, on loopback.
//!
//! Why this shape: the figures must be the server's. The server runs as the
//! release binary an operator would run (its own runtime, its own log file);
//! this process plays the relying party and the device fleet with async
//! reqwest, and spends as little CPU as it can in the measured window — a
//! real fleet verifies and signs on its own phones, not on the server's
//! cores. So each device's `Ident-Proof`s for the long poll are signed before
//! the window, challenges are only decoded (not verified: that is the
//! phone's time), and only what cannot exist earlier is signed live: the
//! answer and the proof for its URL (both name the fresh challenge id; the
//! app's client still sends that proof for older servers, so this does too,
//! though the server now ignores it — the answer is its own proof).
//! It runs on one thread (a current-thread runtime), so it takes at most
//! one core and wakes no other thread of its own (measured: 5–15 % less of
//! its CPU per login than tokio's multi-thread runtime).
//! Both processes still share this machine's cores, so the table also shows
//! the server's own CPU time per login (from `/proc`), which does not depend
//! on how much the load generator takes.
//!
//! Each of N clients owns one user with one enrolled device and loops the
//! way a portal and the app do: the device holds a long poll
//! (`GET /device/v1/challenges?wait=10`), the portal starts the login
//! (`POST /api/v1/auth`, push) and long-polls its status
//! (`GET /api/v1/auth/{txn}?wait=10`), the device gets the challenge, signs
//! an approval with the number and posts it, and the portal's status returns
//! `approved`. Measured: logins/s, answer → approved status (from just
//! before the answer is sent to the status response) and the whole login
//! (start → approved status). A `GET /health` run with the same concurrency,
//! in the same run, is the baseline the logins are compared to.
//!
//! Each row is either closed (`32`: every client starts its next login the
//! moment the last one is approved, so the row finds the most logins per
//! second, and its latency is mostly queueing once the cores are saturated)
//! or paced (`32@500`: the 32 clients together start 500 logins per second,
//! evenly spread, which shows the latency a service sees at that load). A
//! paced client that falls behind starts its next login at once, so the
//! achieved rate in the table tells whether the target was held.
//!
//! ```text
//! cargo build --release -p ident-server --bin ident-server --example loadgen
//! target/release/examples/loadgen [clients[@rate],…] [seconds] [max_logins]
//! ```
//! Defaults: `1,8,32`, 5 s per row, 50 000 logins per row. The server binary
//! is looked up next to `examples/` (override with `IDENT_SERVER_BIN`, e.g.
//! to compare two builds in one session); the database is prepared with that
//! binary's own `admin` commands, so any version can be measured. Its log
//! goes to a file in the run's temporary directory. The server's pid is
//! printed, so it can be profiled during a run (`perf record -g -p <pid>`).
//! Set `LOADGEN_KEEP=1` to keep the temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A command-line report: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ident_core::account::{ChallengeId, PushAccount};
use ident_core::device_key::DeviceKey;
use ident_core::enroll_link::EnrollLink;
use ident_core::jose::b64;
use ident_core::ports::{
    Clock, FixedVerifier, HttpTransport, Method, ReqwestTransport, SystemClock, VerificationPrompt,
    verify_user,
};
use ident_core::protocol::{
    AnswerClaims, AnswerRequest, ChallengesResponse, Client, DecisionKind, EnrollOutcome,
    MatchNumber, PROOF_HEADER, Platform, build_proof, paths,
};
use serde_json::{Value, json};

/// Seconds a long poll may be held (well above any expected latency).
const WAIT: u32 = 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: Vec<RowSpec> = args
        .get(1)
        .map(|a| a.split(',').map(RowSpec::parse).collect())
        .unwrap_or_else(|| [1, 8, 32].map(RowSpec::closed).to_vec());
    let seconds: u64 = args.get(2).map_or(5, |a| a.parse().unwrap());
    let max_logins: u64 = args.get(3).map_or(50_000, |a| a.parse().unwrap());
    assert!(
        seconds <= 40,
        "the presigned proofs are valid for 60 s: keep each row under 40 s"
    );
    let most = rows.iter().map(|r| r.clients).max().unwrap_or(1);

    let dir = tempfile::tempdir().unwrap();
    let bin = server_binary();
    let api_key = prepare_database(&bin, &dir.path().join("load.db"), most);
    let server = ServerProcess::start(&bin, dir.path());
    let devices = enroll(&server.base, &api_key, most);
    println!(
        "ident-server pid {} at {} (log: {}); {} CPUs; {seconds} s per row",
        server.pid,
        server.base,
        server.log.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // One thread: see the module docs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows: Vec<Row> = rows
        .iter()
        .map(|spec| {
            runtime.block_on(run_row(
                &server,
                &api_key,
                &devices[..spec.clients],
                spec.rate,
                Duration::from_secs(seconds),
                max_logins,
            ))
        })
        .collect();
    print_table(&rows);
    if std::env::var_os("LOADGEN_KEEP").is_some() {
        println!("kept {}", dir.keep().display());
    }
}

/// One row of the table as asked for on the command line.
#[derive(Clone, Copy)]
struct RowSpec {
    clients: usize,
    /// Logins per second the clients start together; `None`: closed loop.
    rate: Option<f64>,
}

impl RowSpec {
    const fn closed(clients: usize) -> Self {
        Self {
            clients,
            rate: None,
        }
    }

    /// `"32"` or `"32@500"`.
    fn parse(arg: &str) -> Self {
        let (clients, rate) = match arg.trim().split_once('@') {
            Some((c, r)) => (c, Some(r.parse::<f64>().expect("a rate in logins/s"))),
            None => (arg.trim(), None),
        };
        let clients = clients.parse().expect("a number of clients");
        assert!(clients > 0, "at least one client");
        assert!(rate.is_none_or(|r| r > 0.0), "a positive rate");
        Self { clients, rate }
    }
}

// ---------------------------------------------------------------------------
// Setup (not measured)

/// Creates the database with an API key and `n` users through the server
/// binary's own `admin` commands (so any build of the server can be measured
/// against the database schema it writes); returns the key.
fn prepare_database(bin: &Path, db: &Path, n: usize) -> String {
    let admin = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("admin")
            .arg("--db")
            .arg(db)
            .args(args)
            .env("IDENT_PASSWORD", "load-passwort")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ident-server admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let key = admin(&["create-api-key", "--name", "loadgen"])
        .trim()
        .to_owned();
    for i in 0..n {
        admin(&[
            "create-user",
            "--login",
            &login(i),
            "--role",
            "broker",
            "--phone",
            "0151 11111111",
        ]);
    }
    key
}

fn login(i: usize) -> String {
    format!("{}", 100_000 + i)
}

/// The server as a child process; killed when dropped.
struct ServerProcess {
    child: Child,
    pid: u32,
    base: String,
    log: PathBuf,
}

/// The server binary: `IDENT_SERVER_BIN`, else `ident-server` next to
/// `examples/` in the same target directory.
fn server_binary() -> PathBuf {
    let bin = std::env::var_os("IDENT_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent()
                .and_then(Path::parent)
                .unwrap()
                .join("ident-server")
        });
    assert!(
        bin.exists(),
        "{} not found: build it first (cargo build --release -p ident-server --bin ident-server) or set IDENT_SERVER_BIN",
        bin.display()
    );
    bin
}

impl ServerProcess {
    fn start(bin: &Path, dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let log = dir.join("server.log");
        let child = Command::new(bin)
            .arg("serve")
            .arg("--db")
            .arg(dir.join("load.db"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &base])
            .env_remove("IDENT_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Self {
            pid: child.id(),
            child,
            base,
            log,
        };
        let http = reqwest::blocking::Client::new();
        let started = Instant::now();
        loop {
            if http
                .get(format!("{}/health", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the server did not answer /health; see {}",
                server.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// User plus system CPU time the server has used so far.
    fn cpu(&self) -> Option<Duration> {
        process_cpu(&format!("/proc/{}/stat", self.pid))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks of 10 ms (Linux's
/// USER_HZ is 100 on every architecture the project builds for).
fn process_cpu(stat: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = text.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A simulated device: its user's login, its account and key.
struct Device {
    login: String,
    account: PushAccount,
    key: DeviceKey,
}

/// Enrolls one device per user (the app's own protocol client, blocking).
fn enroll(base: &str, api_key: &str, n: usize) -> Vec<Arc<Device>> {
    let http = reqwest::blocking::Client::new();
    let transport: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new().unwrap());
    let client = Client::new(transport, Arc::new(SystemClock));
    (0..n)
        .map(|i| {
            let e: Value = http
                .post(format!("{base}/api/v1/users/{}/enrollments", login(i)))
                .bearer_auth(api_key)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
            let enrolled = match client.enroll(&link, "load", Platform::Linux, None).unwrap() {
                EnrollOutcome::Enrolled(e) => e,
                EnrollOutcome::SmsRequired(_) => panic!("SMS confirmation is off"),
            };
            Arc::new(Device {
                login: login(i),
                key: DeviceKey::from_pkcs8(&enrolled.device_key).unwrap(),
                account: enrolled.account,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Measurement

struct Row {
    clients: usize,
    /// The paced rate asked for, if any.
    target: Option<f64>,
    health_rate: f64,
    health_cpu_us: Option<f64>,
    logins: usize,
    login_rate: f64,
    login_cpu_us: Option<f64>,
    /// This process's CPU per login (portal and devices), for comparison.
    client_cpu_us: Option<f64>,
    answer: Percentiles,
    whole: Percentiles,
}

struct Percentiles {
    p50: Duration,
    p99: Duration,
}

impl Percentiles {
    fn of(mut v: Vec<Duration>) -> Self {
        v.sort();
        let at = |p: f64| {
            if v.is_empty() {
                return Duration::ZERO;
            }
            let i = ((v.len() as f64 - 1.0) * p).round() as usize;
            v[i.min(v.len() - 1)]
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

fn cpu_per(server: &ServerProcess, before: Option<Duration>, n: f64) -> Option<f64> {
    let spent = server.cpu()?.checked_sub(before?)?;
    (n > 0.0).then(|| spent.as_secs_f64() * 1e6 / n)
}

async fn run_row(
    server: &ServerProcess,
    api_key: &str,
    devices: &[Arc<Device>],
    rate: Option<f64>,
    window: Duration,
    max_logins: u64,
) -> Row {
    let clients = devices.len();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(4 * clients)
        .build()
        .unwrap();

    // Baseline: GET /health with the same concurrency.
    let count = Arc::new(AtomicU64::new(0));
    let cpu0 = server.cpu();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, n) = (
                http.clone(),
                format!("{}/health", server.base),
                Arc::clone(&count),
            );
            tokio::spawn(async move {
                while t0.elapsed() < window {
                    let r = http.get(&url).send().await.unwrap();
                    assert!(r.status().is_success());
                    r.bytes().await.unwrap();
                    n.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let health = count.load(Ordering::Relaxed) as f64;
    let health_rate = health / t0.elapsed().as_secs_f64();
    let health_cpu_us = cpu_per(server, cpu0, health);

    // Proofs for the long polls, signed before the window (the phones' work).
    // At most what the row can use; a device that runs out signs live.
    let per_device = (usize::try_from(max_logins).unwrap_or(usize::MAX) / clients + 2)
        .min(2_500 * usize::try_from(window.as_secs()).unwrap_or(1));
    let proofs: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            let url = d.account.server.join(paths::CHALLENGES).unwrap();
            let now = SystemClock.now();
            (0..per_device)
                .map(|_| {
                    build_proof(&d.key, Some(&d.account.device_id), Method::Get, &url, now).unwrap()
                })
                .collect()
        })
        .collect();

    // Push logins.
    let done = Arc::new(AtomicU64::new(0));
    let cpu0 = server.cpu();
    let own0 = process_cpu("/proc/self/stat");
    let t0 = Instant::now();
    // Paced: client i starts its k-th login at (k + i/clients) · period.
    let period = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
    let tasks: Vec<_> = devices
        .iter()
        .zip(proofs)
        .enumerate()
        .map(|(i, (dev, proofs))| {
            let job = Job {
                http: http.clone(),
                base: server.base.clone(),
                api_key: api_key.to_owned(),
                dev: Arc::clone(dev),
                proofs,
            };
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut job = job;
                let mut k = 0u32;
                while t0.elapsed() < window && done.load(Ordering::Relaxed) < max_logins {
                    if let Some(period) = period {
                        let at = period.mul_f64(f64::from(k) + i as f64 / clients as f64);
                        tokio::time::sleep_until((t0 + at).into()).await;
                        k += 1;
                        if t0.elapsed() >= window {
                            break;
                        }
                    }
                    lat.push(job.one_login().await);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let logins = lat.len();
    let login_cpu_us = cpu_per(server, cpu0, logins as f64);
    let client_cpu_us = process_cpu("/proc/self/stat")
        .zip(own0)
        .and_then(|(b, a)| b.checked_sub(a))
        .filter(|_| logins > 0)
        .map(|d| d.as_secs_f64() * 1e6 / logins as f64);
    let (answer, whole): (Vec<_>, Vec<_>) = lat.into_iter().unzip();
    Row {
        clients,
        target: rate,
        health_rate,
        health_cpu_us,
        logins,
        login_rate: logins as f64 / elapsed,
        login_cpu_us,
        client_cpu_us,
        answer: Percentiles::of(answer),
        whole: Percentiles::of(whole),
    }
}

/// One client: a portal and the device of its user.
struct Job {
    http: reqwest::Client,
    base: String,
    api_key: String,
    dev: Arc<Device>,
    proofs: Vec<String>,
}

impl Job {
    fn proof(&mut self, method: Method, url: &url::Url) -> String {
        match (method, self.proofs.pop()) {
            (Method::Get, Some(p)) => p,
            _ => build_proof(
                &self.dev.key,
                Some(&self.dev.account.device_id),
                method,
                url,
                SystemClock.now(),
            )
            .unwrap(),
        }
    }

    /// One complete push login; returns (answer → approved, start → approved).
    async fn one_login(&mut self) -> (Duration, Duration) {
        let challenges_url = self.dev.account.server.join(paths::CHALLENGES).unwrap();
        // The device is already waiting when the login starts (as the app does).
        let poll = {
            let proof = self.proof(Method::Get, &challenges_url);
            let req = self
                .http
                .get(format!("{challenges_url}?wait={WAIT}"))
                .header(PROOF_HEADER, proof);
            tokio::spawn(async move {
                let r = req.send().await.unwrap();
                assert!(r.status().is_success(), "challenges: {}", r.status());
                r.json::<ChallengesResponse>().await.unwrap()
            })
        };
        let started_at = Instant::now();
        let r = self
            .http
            .post(format!("{}/api/v1/auth", self.base))
            .bearer_auth(&self.api_key)
            .json(&json!({"login": self.dev.login, "method": "push",
                          "context": {"ip": "198.51.100.7", "user_agent": "loadgen"}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "start: {}", r.status());
        let s: Value = r.json().await.unwrap();
        let txn = s["txn"].as_str().unwrap().to_owned();
        let number = MatchNumber::parse(s["number"].as_str().unwrap()).unwrap();
        // The portal long-polls the status while the user decides.
        let status = {
            let req = self
                .http
                .get(format!("{}/api/v1/auth/{txn}?wait={WAIT}", self.base))
                .bearer_auth(&self.api_key);
            tokio::spawn(async move {
                let r = req.send().await.unwrap();
                assert!(r.status().is_success(), "status: {}", r.status());
                let v: Value = r.json().await.unwrap();
                (v, Instant::now())
            })
        };
        let list = poll.await.unwrap();
        let token = list.challenges.first().expect("a challenge");
        // Decoded, not verified: verifying is the phone's time, not the server's.
        let payload = b64::decode(token.split('.').nth(1).unwrap()).unwrap();
        let claims: Value = serde_json::from_slice(&payload).unwrap();
        let id = ChallengeId::parse(claims["jti"].as_str().unwrap()).unwrap();
        let verified = verify_user(
            &FixedVerifier::approving(),
            &VerificationPrompt {
                reason: "load".into(),
            },
        )
        .unwrap();
        let answer = self
            .dev
            .key
            .sign_answer(
                self.dev.account.device_id.as_str(),
                &AnswerClaims {
                    jti: id.clone(),
                    aud: self.dev.account.server.clone(),
                    iat: SystemClock.now().secs(),
                    decision: DecisionKind::Approve,
                    nm: Some(number),
                    reason: None,
                },
                &verified,
            )
            .unwrap();
        let answer_url = self.dev.account.server.join(&paths::answer(&id)).unwrap();
        let proof = self.proof(Method::Post, &answer_url);
        let sent = Instant::now();
        let r = self
            .http
            .post(answer_url.as_str())
            .header(PROOF_HEADER, proof)
            .json(&AnswerRequest { answer })
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "answer: {}", r.status());
        r.bytes().await.unwrap();
        let (st, approved_at) = status.await.unwrap();
        assert_eq!(st["status"], "approved");
        (
            approved_at.saturating_duration_since(sent),
            approved_at.saturating_duration_since(started_at),
        )
    }
}

fn print_table(rows: &[Row]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let us = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"));
    println!();
    println!(
        "| clients | /health req/s | logins/s (paced at) | ratio | answer→approved p50 / p99 ms | whole login p50 / p99 ms | server CPU µs per login / per /health | loadgen CPU µs per login |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {:.0}{} | {:.3} | {:.2} / {:.2} | {:.2} / {:.2} | {} / {} | {} |",
            r.clients,
            r.health_rate,
            r.login_rate,
            r.target.map_or_else(String::new, |t| format!(" ({t:.0})")),
            r.login_rate / r.health_rate,
            ms(r.answer.p50),
            ms(r.answer.p99),
            ms(r.whole.p50),
            ms(r.whole.p99),
            us(r.login_cpu_us),
            us(r.health_cpu_us),
            us(r.client_cpu_us),
        );
    }
    println!();
    println!(
        "logins per row: {}",
        rows.iter()
            .map(|r| r.logins.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
