//! The server starts on a free port, answers its health check, and refuses
//! unauthenticated relying-party calls, unknown paths, wrong methods and
//! oversized bodies with problem+json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[tokio::test]
async fn health_is_ok() {
    let app = common::spawn_app().await;
    let r = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

/// The problem `type` slug of `r`, after checking its status and media type.
async fn problem(r: reqwest::Response, status: u16) -> (String, reqwest::header::HeaderMap) {
    assert_eq!(r.status(), status);
    let headers = r.headers().clone();
    assert_eq!(headers["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    let slug = body["type"].as_str().unwrap();
    (
        slug.trim_start_matches("urn:ident:problem:").to_owned(),
        headers,
    )
}

#[tokio::test]
async fn refusals_axum_makes_are_problems_too() {
    let app = common::spawn_app().await;
    let url = |p: &str| format!("{}{p}", app.base);
    // Unknown paths.
    for p in ["/nope", "/api/v1/nope", "/device/v1/nope"] {
        let r = app.http.get(url(p)).send().await.unwrap();
        assert_eq!(problem(r, 404).await.0, "not-found", "{p}");
    }
    // A method the path does not take.
    let r = app.http.put(url("/api/v1/auth")).send().await.unwrap();
    let (slug, headers) = problem(r, 405).await;
    assert_eq!(slug, "method-not-allowed");
    assert!(headers.contains_key("allow"));
    // Bodies over 64 KiB: refused before they are parsed, nothing started.
    let big = format!(r#"{{"login": "{}"}}"#, "x".repeat(70 * 1024));
    let requests = [
        app.rp(reqwest::Method::POST, "/api/v1/auth"),
        app.http.post(url("/device/v1/enroll")),
    ];
    for r in requests {
        let r = r
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(problem(r, 413).await.0, "payload-too-large");
    }
    let audit = app.state.store.audit_log(None, 10).unwrap();
    assert!(
        audit.iter().all(|e| !e.action.starts_with("auth.")),
        "{audit:?}"
    );
}
