//! Load generator: complete push logins per second against an in-process
//! server on loopback, with a `GET /health` baseline from the same run so the
//! figures can be compared across machines as ratios.
//!
//! Each of N clients owns one user with one enrolled device (the app's own
//! protocol client over reqwest) and loops: `POST /api/v1/auth` (push) →
//! device long-poll fetch → signed answer with the number → `GET
//! /api/v1/auth/{txn}` says approved. Latency is measured from just before the
//! answer is sent to the approved status. Bounded in time and count.
//!
//! `cargo run --release -p ident-server --example loadgen -- [clients] [seconds] [max_logins]`
//! (defaults 8, 5, 20000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A command-line report: printing is its job.
#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ident_core::device_key::DeviceKey;
use ident_core::enroll_link::EnrollLink;
use ident_core::ports::{
    Clock, FixedVerifier, HttpTransport, ReqwestTransport, SystemClock, VerificationPrompt,
    verify_user,
};
use ident_core::protocol::{Client, Decision, EnrollOutcome, MatchNumber, Platform};
use ident_server::admin::{self, UserSpec};
use ident_server::config::Config;
use ident_server::domain::Role;
use ident_server::startup::Application;
use ident_server::store::SqliteStore;
use serde_json::{Value, json};

fn transport() -> Arc<dyn HttpTransport> {
    static T: OnceLock<Arc<ReqwestTransport>> = OnceLock::new();
    let t = T.get_or_init(|| {
        std::thread::spawn(|| Arc::new(ReqwestTransport::new().unwrap()))
            .join()
            .unwrap()
    });
    Arc::clone(t) as Arc<dyn HttpTransport>
}

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let clients = arg(1, 8) as usize;
    let seconds = arg(2, 5);
    let max_logins = arg(3, 20_000);

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        db: dir.path().join("load.db"),
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: String::new(),
        ..Config::default()
    };
    config.policy.max_wait_secs = 10;
    let store = Arc::new(SqliteStore::open(&config.db, false).unwrap());
    let now = SystemClock.now().secs();
    let key = admin::create_api_key(store.as_ref(), "loadgen", now)
        .unwrap()
        .key
        .to_string();
    for i in 0..clients {
        let spec = UserSpec {
            login: format!("{}", 100_000 + i),
            name: None,
            role: Role::Broker,
            broker: None,
            phone: Some("0151 11111111".into()),
            email: None,
            password: zeroize::Zeroizing::new("load-passwort".into()),
        };
        admin::create_user(store.as_ref(), &spec, now).unwrap();
    }
    let app = Application::build_with(config, store, Arc::new(SystemClock))
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run_until(std::future::pending()));
    let http = reqwest::Client::new();

    // Enroll one device per user.
    let mut devices = Vec::new();
    for i in 0..clients {
        let e: Value = http
            .post(format!("{base}/api/v1/users/{}/enrollments", 100_000 + i))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let link = EnrollLink::parse(e["uri"].as_str().unwrap()).unwrap();
        let enrolled = tokio::task::spawn_blocking(move || {
            let c = Client::new(transport(), Arc::new(SystemClock));
            match c.enroll(&link, "load", Platform::Linux, None).unwrap() {
                EnrollOutcome::Enrolled(e) => e,
                EnrollOutcome::SmsRequired(_) => panic!("SMS confirmation is off"),
            }
        })
        .await
        .unwrap();
        devices.push(Arc::new(enrolled));
    }

    // Baseline: GET /health with the same concurrency.
    let window = Duration::from_secs(seconds);
    let health = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, n) = (http.clone(), format!("{base}/health"), Arc::clone(&health));
        tasks.push(tokio::spawn(async move {
            while t0.elapsed() < window {
                let r = http.get(&url).send().await.unwrap();
                assert!(r.status().is_success());
                n.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let health_rate = health.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();

    // Push logins.
    let done = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (i, dev) in devices.iter().enumerate() {
        let (http, base, key, dev, done) = (
            http.clone(),
            base.clone(),
            key.clone(),
            Arc::clone(dev),
            Arc::clone(&done),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while t0.elapsed() < window && done.load(Ordering::Relaxed) < max_logins {
                let s: Value = http
                    .post(format!("{base}/api/v1/auth"))
                    .bearer_auth(&key)
                    .json(
                        &json!({"login": format!("{}", 100_000 + i), "method": "push",
                                  "context": {"ip": "198.51.100.7", "user_agent": "loadgen"}}),
                    )
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let txn = s["txn"].as_str().unwrap().to_owned();
                let number = MatchNumber::parse(s["number"].as_str().unwrap()).unwrap();
                let d = Arc::clone(&dev);
                let sent = tokio::task::spawn_blocking(move || {
                    let c = Client::new(transport(), Arc::new(SystemClock));
                    let key = DeviceKey::from_pkcs8(&d.device_key).unwrap();
                    let list = c.pending_challenges(&d.account, &key, Some(5)).unwrap();
                    let ch = list.into_iter().next().unwrap().unwrap();
                    let ok = verify_user(
                        &FixedVerifier::approving(),
                        &VerificationPrompt {
                            reason: "load".into(),
                        },
                    )
                    .unwrap();
                    let sent = Instant::now();
                    c.answer(
                        &d.account,
                        &key,
                        &ch,
                        &Decision::Approve {
                            number: Some(number),
                        },
                        &ok,
                    )
                    .unwrap();
                    sent
                })
                .await
                .unwrap();
                let st: Value = http
                    .get(format!("{base}/api/v1/auth/{txn}"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(st["status"], "approved");
                lat.push(sent.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = t0.elapsed().as_secs_f64();
    lat.sort();
    let logins = lat.len() as f64;
    let login_rate = logins / elapsed;
    println!(
        "clients: {clients}, window: {seconds} s (debug builds are much slower: use --release)"
    );
    println!("baseline GET /health: {health_rate:.0} req/s");
    println!(
        "push logins: {logins:.0} in {elapsed:.1} s = {login_rate:.1} logins/s ({:.4} of the baseline)",
        login_rate / health_rate
    );
    println!(
        "answer -> approved status: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
}
