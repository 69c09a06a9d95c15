//! The reqwest transport against a tiny HTTP/1.1 server on 127.0.0.1, written
//! here with std::net so every byte the server sends is under the test's control.
#![cfg(feature = "reqwest-transport")]
// Test and benchmark helpers fail loudly on purpose; clippy.toml only
// exempts #[test] functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ident_core::ports::{HttpRequest, HttpTransport, Method, ReqwestTransport, TransportError};
use url::Url;

/// Reads one request (headers and a Content-Length body) and returns it as text.
fn read_request(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Serves one connection: reads the request, sends it to the test, waits
/// `delay`, writes `response`.
fn serve_once(response: Vec<u8>, delay: Duration) -> (Url, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let req = read_request(&mut stream);
        let _ = tx.send(req);
        thread::sleep(delay);
        let _ = stream.write_all(&response);
        let _ = stream.flush();
    });
    (
        Url::parse(&format!("http://127.0.0.1:{port}/device/v1/challenges")).unwrap(),
        rx,
    )
}

fn request(url: Url, timeout: Duration) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![
            ("Ident-Proof".into(), "a.b.c".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(br#"{"answer":"x"}"#.to_vec()),
        timeout,
    }
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn ok_json_response_and_request_as_sent() {
    let (url, rx) = serve_once(
        response("200 OK", "application/json", br#"{"challenges":[]}"#),
        Duration::ZERO,
    );
    let t = ReqwestTransport::new().unwrap();
    let resp = t.send(request(url, Duration::from_secs(5))).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type.as_deref(), Some("application/json"));
    assert_eq!(resp.body, br#"{"challenges":[]}"#);
    let seen = rx.recv().unwrap();
    assert!(
        seen.starts_with("POST /device/v1/challenges HTTP/1.1\r\n"),
        "{seen}"
    );
    assert!(
        seen.to_ascii_lowercase().contains("ident-proof: a.b.c"),
        "{seen}"
    );
    assert!(seen.ends_with(r#"{"answer":"x"}"#), "{seen}");
}

#[test]
fn problem_json_4xx_is_a_response_not_an_error() {
    let body = br#"{"type":"urn:ident:problem:proof-expired","title":"The request proof has expired.","status":401}"#;
    let (url, _rx) = serve_once(
        response("401 Unauthorized", "application/problem+json", body),
        Duration::ZERO,
    );
    let resp = ReqwestTransport::new()
        .unwrap()
        .send(request(url, Duration::from_secs(5)))
        .unwrap();
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.content_type.as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(resp.body, body);
    let p = ident_core::protocol::Problem::parse(resp.status, &resp.body).unwrap();
    assert!(p.is(ident_core::protocol::ProblemType::ProofExpired));
}

#[test]
fn a_slow_server_times_out() {
    let (url, _rx) = serve_once(
        response("200 OK", "application/json", b"{}"),
        Duration::from_secs(3),
    );
    let started = Instant::now();
    let err = ReqwestTransport::new()
        .unwrap()
        .send(request(url, Duration::from_millis(300)))
        .unwrap_err();
    assert_eq!(err, TransportError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_refused_connection_is_unreachable() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let err = ReqwestTransport::new()
        .unwrap()
        .send(request(url, Duration::from_secs(5)))
        .unwrap_err();
    assert!(matches!(err, TransportError::Unreachable(_)), "{err:?}");
}

#[test]
fn oversize_bodies_are_refused_with_or_without_content_length() {
    let t = ReqwestTransport::new().unwrap().with_max_body(1024);
    // Declared too large.
    let (url, _rx) = serve_once(
        response("200 OK", "application/json", &[b'a'; 2048]),
        Duration::ZERO,
    );
    assert_eq!(
        t.send(request(url, Duration::from_secs(5))).unwrap_err(),
        TransportError::TooLarge
    );
    // Undeclared length, streamed until close.
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
    raw.extend_from_slice(&[b'a'; 5000]);
    let (url, _rx) = serve_once(raw, Duration::ZERO);
    assert_eq!(
        t.send(request(url, Duration::from_secs(5))).unwrap_err(),
        TransportError::TooLarge
    );
    // Exactly the cap is fine.
    let (url, _rx) = serve_once(
        response("200 OK", "application/json", &[b'a'; 1024]),
        Duration::ZERO,
    );
    assert_eq!(
        t.send(request(url, Duration::from_secs(5)))
            .unwrap()
            .body
            .len(),
        1024
    );
}

#[test]
fn redirects_are_returned_not_followed() {
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!(
        "http://127.0.0.1:{}/steal",
        elsewhere.local_addr().unwrap().port()
    );
    let raw = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (url, _rx) = serve_once(raw.into_bytes(), Duration::ZERO);
    let resp = ReqwestTransport::new()
        .unwrap()
        .send(request(url, Duration::from_secs(5)))
        .unwrap();
    assert_eq!(resp.status, 307);
    elsewhere.set_nonblocking(true).unwrap();
    assert!(
        matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the redirect target was contacted"
    );
}
