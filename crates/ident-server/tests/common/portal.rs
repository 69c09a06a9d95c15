//! The reference portal as a browser uses it, for the portal's integration
//! tests: a server with the portal and a set of users, a cookie-holding
//! client that does not follow redirects (the tests look at them), the
//! answer as a page with its CSRF token, and the login with an SMS code from
//! the outbox. Each test file keeps only its own users and assertions.

// A page without what a test looks for fails the test with the page.
#![allow(clippy::panic)]

use ident_server::admin::{self, UserSpec};
use ident_server::config::Config;
use ident_server::domain::Role;
use reqwest::{StatusCode, header};
use serde_json::Value;

use super::TestApp;

/// The server's clock at the start (and the users' creation time).
pub const T0: i64 = 1_800_000_000;
/// Every test user's password.
pub const PASSWORD: &str = "Fonds-Passwort-2027";

/// A user with [`PASSWORD`].
pub fn user(
    login: &str,
    name: &str,
    role: Role,
    broker: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
) -> UserSpec {
    UserSpec {
        login: login.into(),
        name: Some(name.into()),
        role,
        broker: broker.map(str::to_owned),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        password: zeroize::Zeroizing::new(PASSWORD.into()),
    }
}

/// A server with the portal enabled, `edit` applied to the configuration,
/// and `users` created.
pub async fn spawn_portal(edit: impl FnOnce(&mut Config), users: &[UserSpec]) -> TestApp {
    let app = super::spawn_app_with(|c| {
        c.portal.enabled = true;
        edit(c);
    })
    .await;
    for u in users {
        admin::create_user(app.state.store.as_ref(), u, T0).unwrap();
    }
    app
}

/// One answer as the browser sees it.
pub struct Page {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// Where a redirect goes ("" when it is none).
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The value of the first hidden CSRF field.
    pub fn csrf(&self) -> String {
        self.attr("name=\"csrf\" value=\"")
    }

    /// The value after `prefix` up to the next `"`, as the browser reads it.
    pub fn attr(&self, prefix: &str) -> String {
        between(&self.body, prefix, "\"")
            .map(|v| unescape(&v))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{}", self.body))
    }

    /// How often `needle` is in the body.
    pub fn count(&self, needle: &str) -> usize {
        self.body.matches(needle).count()
    }

    /// The portal session cookie this answer sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookie("__Host-portal-session=")
    }

    /// The `Set-Cookie` value whose name and `=` is `prefix`, if any.
    pub fn set_cookie(&self, prefix: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(prefix))
    }
}

/// HTML text or an attribute value as the browser reads it.
pub fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text between the first `start` and the next `end`.
pub fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_owned())
}

/// A browser: cookies kept, redirects not followed.
pub struct Browser {
    /// The client (for requests the helpers do not make).
    pub http: reqwest::Client,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Whether form posts carry `Origin: <base>` as a browser's do.
    origin: bool,
}

impl Browser {
    /// A browser (Firefox's user agent) whose form posts carry no `Origin`:
    /// the portal then judges them by the CSRF token alone.
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(
                    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
                )
                .build()
                .unwrap(),
            base: app.base.clone(),
            origin: false,
        }
    }

    /// The same browser sending its `Origin` with every form post.
    pub fn with_origin(mut self) -> Self {
        self.origin = true;
        self
    }

    /// Sends `r` and reads the answer.
    pub async fn page(&self, r: reqwest::RequestBuilder) -> Page {
        let r = r.send().await.unwrap();
        Page {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Page {
        self.page(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// Posts `form` to `path`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut r = self.http.post(format!("{}{path}", self.base)).form(form);
        if self.origin {
            r = r.header(header::ORIGIN, &self.base);
        }
        self.page(r).await
    }

    /// Follows one redirect (303 → GET).
    pub async fn follow(&self, page: Page) -> Page {
        assert!(
            page.status.is_redirection(),
            "{}: {}",
            page.status,
            page.body
        );
        let to = page.location().to_owned();
        self.get(&to).await
    }

    /// Posts `form` (with the CSRF token of `from`) and follows the redirect.
    pub async fn submit(&self, from: &Page, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = from.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        let r = self.post(path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        self.follow(r).await
    }

    /// Opens the login page and sends login and password; the answer as it
    /// comes (a redirect to the second factor, or the form again).
    pub async fn password(&self, login: &str, password: &str) -> Page {
        let form = self.get("/portal/login").await;
        assert_eq!(form.status, StatusCode::OK);
        self.post(
            "/portal/login",
            &[
                ("csrf", &form.csrf()),
                ("login", login),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs `login` (who has a mobile number but no device) in: password,
    /// then the SMS code from the outbox; ends on the overview's redirect.
    pub async fn sms_login(self, app: &TestApp, login: &str) -> Self {
        let r = self.password(login, PASSWORD).await;
        assert_eq!(r.location(), "/portal/login/sms", "{}", r.body);
        let form = self.follow(r).await;
        let code = outbox_code(app);
        let r = self
            .post(
                "/portal/login/sms",
                &[("csrf", &form.csrf()), ("code", &code)],
            )
            .await;
        assert_eq!(r.location(), "/portal/", "{}", r.body);
        self
    }
}

/// The SMS code last written to the outbox.
pub fn outbox_code(app: &TestApp) -> String {
    let text = std::fs::read_to_string(app.dir.path().join("sms.jsonl")).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let t = last["text"].as_str().unwrap();
    let start = t.find(": ").unwrap() + 2;
    t[start..start + 6].to_owned()
}
