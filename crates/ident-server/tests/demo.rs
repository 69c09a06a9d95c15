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
