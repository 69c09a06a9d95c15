//! Shared test harness: a real server on 127.0.0.1 port 0 with a fresh
//! database, a manual clock, an API key and a reqwest client. An enrolled
//! phone is in [`phone`], the portal as a browser sees it in [`portal`].

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ident_core::ports::ManualClock;
use ident_server::config::Config;
use ident_server::startup::Application;
use ident_server::state::AppState;
use ident_server::store::SqliteStore;

pub mod phone;
pub mod portal;

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A valid API key.
    pub api_key: String,
    /// The server's clock; tests move it.
    pub clock: Arc<ManualClock>,
    /// The server's state (store access for assertions).
    pub state: AppState,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    /// Keeps the database directory alive.
    pub dir: tempfile::TempDir,
}

/// Starts a server with `edit` applied to the default test configuration.
pub async fn spawn_app_with(edit: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        db: dir.path().join("ident.db"),
        listen: "127.0.0.1:0".parse().unwrap(),
        // Empty: derived from the bound port.
        public_url: String::new(),
        sms_outbox: Some(dir.path().join("sms.jsonl")),
        ..Config::default()
    };
    edit(&mut config);
    let store = Arc::new(SqliteStore::open(&config.db, false).unwrap());
    let clock = Arc::new(ManualClock::at(1_800_000_000));
    let api_key =
        ident_server::admin::create_api_key(store.as_ref(), "test-portal", 1_800_000_000).unwrap();
    if config.portal.enabled && config.portal.api_key.is_none() {
        // The reference portal gets its own key, as a real deployment would.
        let key = ident_server::admin::create_api_key(store.as_ref(), "FondsKontor", 1_800_000_000)
            .unwrap();
        config.portal.api_key = Some(ident_server::sms_gateway::BearerToken::new(
            key.key.to_string(),
        ));
    }
    let app = Application::build_with(config, store, clock.clone())
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        base: format!("http://{addr}"),
        api_key: api_key.key.to_string(),
        clock,
        state,
        http: reqwest::Client::new(),
        dir,
    }
}

/// A server (settings edited by `edit`) with broker 1000, Maklerbüro
/// Schmidt, mobile number on file: who the login tests log in as.
pub async fn spawn_app_with_broker(edit: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(edit).await;
    let broker = portal::user(
        "1000",
        "Maklerbüro Schmidt",
        ident_server::domain::Role::Broker,
        None,
        Some("0151 11111111"),
        None,
    );
    ident_server::admin::create_user(app.state.store.as_ref(), &broker, 1_800_000_000).unwrap();
    app
}

/// `POST /api/v1/auth` for broker 1000 with `method` from a fixed browser.
pub async fn start_auth(app: &TestApp, method: &str) -> reqwest::Response {
    app.rp(reqwest::Method::POST, "/api/v1/auth")
        .json(&serde_json::json!({"login": "1000", "method": method,
                      "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 Firefox/140.0"}}))
        .send()
        .await
        .unwrap()
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

impl TestApp {
    /// An authenticated request to the relying-party API.
    pub fn rp(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
    }
}

/// The JSON body of `r`, which must have answered `status` (else the test
/// fails with the body).
pub async fn json(r: reqwest::Response, status: u16) -> serde_json::Value {
    let got = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Sends `request` and returns its JSON body, which must have come with
/// `status`.
pub async fn send_json(request: reqwest::RequestBuilder, status: u16) -> serde_json::Value {
    json(request.send().await.unwrap(), status).await
}

/// One blocking transport for the whole test binary (reqwest's blocking
/// client must not be built or dropped on an async thread), for the app's
/// client (`ident_core::protocol::Client`) playing a device.
pub fn transport() -> Arc<dyn ident_core::ports::HttpTransport> {
    static T: std::sync::OnceLock<Arc<ident_core::ports::ReqwestTransport>> =
        std::sync::OnceLock::new();
    let t = T.get_or_init(|| {
        std::thread::spawn(|| Arc::new(ident_core::ports::ReqwestTransport::new().unwrap()))
            .join()
            .unwrap()
    });
    Arc::clone(t) as Arc<dyn ident_core::ports::HttpTransport>
}

/// A portal's long poll of login `txn`'s status (`wait=30`) at the server
/// `base` with `api_key`, running in the background: its JSON and how long
/// it took.
pub fn spawn_status_poll(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    txn: &str,
) -> tokio::task::JoinHandle<(serde_json::Value, std::time::Duration)> {
    let (http, url, key) = (
        http.clone(),
        format!("{base}/api/v1/auth/{txn}?wait=30"),
        api_key.to_owned(),
    );
    tokio::spawn(async move {
        let t = std::time::Instant::now();
        let v: serde_json::Value = http
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (v, t.elapsed())
    })
}
