//! `ident-server demo`: the seeded data works over HTTP as printed, both
//! through the library function and through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn seeded_demo_data_works_over_http() {
    let app = common::spawn_app().await;
    let store = app.state.store.clone();
    let demo = tokio::task::spawn_blocking(move || {
        ident_server::admin::seed_demo(store.as_ref(), 1_800_000_000).unwrap()
    })
    .await
    .unwrap();
    let key = demo.api_key.as_str().to_owned();
    let rp = |method: Method, path: &str| {
        app.http
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(&key)
    };
    // every printed login/password pair passes the first factor
    for u in &demo.users {
        let password = u.password.as_ref().unwrap().as_str();
        let r = rp(Method::POST, "/api/v1/login/password")
            .json(&json!({"login": u.login, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", u.login);
    }
    // the employee sees one customer without a phone and enters it
    let r: Value = rp(Method::GET, "/api/v1/brokers/1000/customers?phone=without")
        .header("Ident-Actor", "1001")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["count"], 1);
    let customer = r["customers"][0]["login"].as_str().unwrap().to_owned();
    let r = rp(Method::PUT, &format!("/api/v1/users/{customer}/phone"))
        .header("Ident-Actor", "1001")
        .json(&json!({"phone": "0151 98765432"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // the customer cannot change it back
    let r = rp(Method::DELETE, &format!("/api/v1/users/{customer}/phone"))
        .header("Ident-Actor", customer.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// Kills the demo server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ident-server demo` on a free port; returns it, the base URL, the
/// API key and all of stdout up to "Stop with Ctrl-C.".
fn start_demo(db: &std::path::Path) -> (Running, String, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ident-server"))
        .args(["demo", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut text = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Stop with Ctrl-C") {
            break;
        }
    }
    let base = text
        .lines()
        .find_map(|l| l.strip_prefix("Ident demo server: "))
        .unwrap_or_else(|| panic!("no base URL in:\n{text}"))
        .to_owned();
    let key = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("ik_"))
        .unwrap()
        .to_owned();
    (running, base, key, text)
}

#[tokio::test]
async fn the_demo_binary_prints_what_is_needed_and_does_not_reseed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let http = reqwest::Client::new();
    {
        let (_server, base, key, text) = start_demo(&db);
        for needle in [
            "Maklerbüro Schmidt",
            "1000",
            "@example.de",
            "curl",
            "Ident-Actor",
            "password: ",
        ] {
            assert!(text.contains(needle), "{needle} missing in:\n{text}");
        }
        let r = http
            .get(format!("{base}/api/v1/users/1000"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["display_name"], "Maklerbüro Schmidt");
    }
    // the same database again: no new users, a new key that works
    let (_server, base, key, text) = start_demo(&db);
    assert!(text.contains("already had users"), "{text}");
    let r: Value = http
        .get(format!("{base}/api/v1/brokers/1000/customers"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["count"], 2);
}

/// Sends SIGTERM to `pid` through the shell's built-in `kill` (no extra
/// crate, and `sh` is on every Debian system).
fn sigterm(pid: u32) {
    let ok = Command::new("sh")
        .args(["-c", "kill -TERM \"$0\""])
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM {pid} failed");
}

#[tokio::test]
async fn sigterm_answers_open_long_polls_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let (mut server, base, key, _) = start_demo(&db);
    let http = reqwest::Client::new();
    // An SMS login for the broker, and the portal long-polling its status.
    let r = http
        .post(format!("{base}/api/v1/auth"))
        .bearer_auth(&key)
        .json(&json!({"login": "1000", "method": "sms",
                      "context": {"ip": "203.0.113.9", "user_agent": "Firefox"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let txn = r.json::<Value>().await.unwrap()["txn"]
        .as_str()
        .unwrap()
        .to_owned();
    let poll = {
        let (http, url, key) = (
            http.clone(),
            format!("{base}/api/v1/auth/{txn}?wait=60"),
            key.clone(),
        );
        tokio::spawn(async move {
            let r = http.get(url).bearer_auth(key).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sent = std::time::Instant::now();
    sigterm(server.0.id());

    // The poll is answered at once with what there is, instead of being
    // cut off or held for the rest of its 60 s…
    let (status, body) = poll.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "pending");
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(10),
        "the poll was held {:?} after SIGTERM",
        sent.elapsed()
    );
    // …and the process ends by itself, successfully, well before the poll's 60 s.
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            sent.elapsed() < std::time::Duration::from_secs(30),
            "still running after SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert!(http.get(format!("{base}/health")).send().await.is_err());
    // Nothing is lost: the login is in the database as it was (committed
    // before the signal; the WAL is checkpointed or kept, either way readable).
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: String = conn
        .query_row("SELECT status FROM auth_txns WHERE id = ?1", [&txn], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, "pending");
}
