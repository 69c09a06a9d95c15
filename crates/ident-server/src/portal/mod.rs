//! The reference portal: a platform login with Ident as its second factor, and
//! the broker's internal area (devices, 2FA interval, customers, mail, SMS costs).
//!
//! The portal is a relying party like any other: everything it knows about
//! users, devices, logins and SMS it asks the relying-party API for, over HTTP,
//! with its own API key and the `Ident-Actor` header naming the logged-in user.
//! It never reaches into [`crate::store`] or [`crate::services`]; its own data
//! (sessions, mail templates, the send log) lives in its own SQLite file.
//!
//! Map of the module:
//! - [`api`]: the typed client of the relying-party API.
//! - [`store`]: the portal's own database; [`session`]: sessions and the
//!   [`session::LoggedIn`] extractor; [`csrf`]: tokens and [`csrf::CsrfForm`].
//! - [`i18n`]: German and English texts; [`render`]: templates and the
//!   headers of every response; [`error`]: the error pages.
//! - [`login`]: password, push, SMS, logout; [`home`]: the overview;
//!   [`setup`]: setting up the app; [`mail`]: the customer mail;
//!   [`security`], [`customers`], [`sms_costs`]: "Meine Sicherheit", "Meine
//!   Kunden", "SMS-Kosten", with [`internal`] what these three share.
//!
//! Adding a page of the internal area: a module with a `router()`, its
//! templates in `TEMPLATES` and its texts in `TEXTS` below, and an [`Area`]
//! (see `/work/briefs/portal-foundation-ready.md` and `docs/portal.md`).

pub mod api;
pub mod client_ip;
pub mod csrf;
pub mod customers;
pub mod error;
pub mod home;
pub mod i18n;
pub mod internal;
pub mod login;
pub mod mail;
pub mod render;
pub mod security;
pub mod session;
pub mod setup;
pub mod sms_costs;
pub mod store;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use ident_core::ports::Clock;
use serde::Deserialize;
use thiserror::Error;

use crate::config::PortalConfig;
use crate::domain::Role;
use api::ApiClient;
use error::PortalError;
use i18n::Lang;
use store::PortalStore;

/// Every template, by name (`include_str!` keeps them in the binary).
/// A new page adds its files here.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("error.html", include_str!("templates/error.html")),
    ("login.html", include_str!("templates/login.html")),
    ("push.html", include_str!("templates/push.html")),
    ("sms.html", include_str!("templates/sms.html")),
    ("no_factor.html", include_str!("templates/no_factor.html")),
    ("home.html", include_str!("templates/home.html")),
    ("setup.html", include_str!("templates/setup.html")),
    (
        "mail_index.html",
        include_str!("mail/templates/mail_index.html"),
    ),
    (
        "mail_edit.html",
        include_str!("mail/templates/mail_edit.html"),
    ),
    (
        "mail_send.html",
        include_str!("mail/templates/mail_send.html"),
    ),
    (
        "mail_log.html",
        include_str!("mail/templates/mail_log.html"),
    ),
    ("security.html", include_str!("templates/security.html")),
    ("customers.html", include_str!("templates/customers.html")),
    ("customer.html", include_str!("templates/customer.html")),
    ("sms_costs.html", include_str!("templates/sms_costs.html")),
    (
        "security_remove.html",
        include_str!("templates/security_remove.html"),
    ),
];

/// Every text catalogue (see [`i18n`]). A new page adds its `TEXTS` here.
pub const TEXTS: &[&[i18n::Text]] = &[
    i18n::CORE,
    mail::pages::TEXTS,
    internal::TEXTS,
    security::TEXTS,
    customers::TEXTS,
    sms_costs::TEXTS,
];

/// The parts of the internal area, in the order of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// The overview (`/portal/`).
    Home,
    /// "Meine Sicherheit": devices, trusted browsers, 2FA interval.
    Security,
    /// "Meine Kunden": a broker's customers.
    Customers,
    /// "Kundenmail": mail to customers.
    Mail,
    /// "SMS-Kosten": the SMS ledger and statements.
    SmsCosts,
    /// "App einrichten": the enrollment QR code.
    Setup,
}

impl Area {
    /// All areas, in navigation order.
    pub const ALL: [Area; 6] = [
        Area::Home,
        Area::Security,
        Area::Customers,
        Area::Mail,
        Area::SmsCosts,
        Area::Setup,
    ];

    /// The area's path.
    pub fn path(self) -> &'static str {
        match self {
            Area::Home => "/portal/",
            Area::Security => "/portal/security",
            Area::Customers => "/portal/customers",
            Area::Mail => "/portal/mail",
            Area::SmsCosts => "/portal/sms-costs",
            Area::Setup => "/portal/setup",
        }
    }

    /// The i18n key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            Area::Home => "nav_home",
            Area::Security => "nav_security",
            Area::Customers => "nav_customers",
            Area::Mail => "nav_mail",
            Area::SmsCosts => "nav_sms_costs",
            Area::Setup => "nav_setup",
        }
    }

    /// The i18n key of its one-line description (the overview's cards).
    pub fn card_key(self) -> &'static str {
        match self {
            Area::Home => "home_intro",
            Area::Security => "card_security",
            Area::Customers => "card_customers",
            Area::Mail => "card_mail",
            Area::SmsCosts => "card_sms_costs",
            Area::Setup => "card_setup",
        }
    }

    /// A stable element id for its navigation link (`nav-security`).
    pub fn id(self) -> &'static str {
        match self {
            Area::Home => "nav-home",
            Area::Security => "nav-security",
            Area::Customers => "nav-customers",
            Area::Mail => "nav-mail",
            Area::SmsCosts => "nav-sms-costs",
            Area::Setup => "nav-setup",
        }
    }

    /// Whether a user of `role` may use it. The API enforces the real rules
    /// (`Ident-Actor`); this only hides what would be refused anyway.
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Area::Home | Area::Security | Area::Setup => true,
            Area::Customers | Area::Mail | Area::SmsCosts => {
                matches!(role, Role::Broker | Role::Employee)
            }
        }
    }
}

/// Why the portal could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PortalSetupError {
    /// The portal is enabled without an API key.
    #[error("the portal needs an API key (portal.api_key or IDENT_PORTAL_API_KEY)")]
    NoApiKey,
    /// The API client could not be made.
    #[error(transparent)]
    Api(#[from] api::CallError),
    /// The portal database could not be opened.
    #[error(transparent)]
    Store(#[from] store::PortalStoreError),
}

/// What every portal handler shares (cheap to clone).
#[derive(Clone)]
pub struct PortalState {
    /// The relying-party API.
    pub api: ApiClient,
    /// The portal's own database.
    pub store: Arc<PortalStore>,
    /// The time (the server's clock; tests move it).
    pub clock: Arc<dyn Clock>,
    /// The settings.
    pub config: Arc<PortalConfig>,
}

impl std::fmt::Debug for PortalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalState")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

static PORTAL_NAME: OnceLock<String> = OnceLock::new();

/// The platform's name shown in titles (`portal.name`; the first portal
/// started in a process names it).
pub fn portal_name() -> &'static str {
    PORTAL_NAME.get().map_or("FondsKontor", String::as_str)
}

impl PortalState {
    /// Opens the portal database (`config.db`, default next to `server_db`)
    /// and makes the API client for `api_base` (the configured `api_url`, or
    /// this server's own address).
    pub fn open(
        config: &PortalConfig,
        server_db: &std::path::Path,
        bound: SocketAddr,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PortalSetupError> {
        let key = config.api_key.clone().ok_or(PortalSetupError::NoApiKey)?;
        let base = if config.api_url.is_empty() {
            own_url(bound)
        } else {
            config.api_url.clone()
        };
        let api = ApiClient::new(&base, key)?;
        let store = PortalStore::open(&config.db_path(server_db))?;
        let _ = PORTAL_NAME.set(config.name.trim().to_owned());
        Ok(Self {
            api,
            store: Arc::new(store),
            clock,
            config: Arc::new(config.clone()),
        })
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now().secs()
    }
}

/// `http://<addr>`, with a wildcard address replaced by loopback.
fn own_url(bound: SocketAddr) -> String {
    let mut addr = bound;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}")
}

/// The portal's routes, ready to merge into the server's router: all under
/// `/portal/`, and `/` leads there.
pub fn router(state: PortalState) -> Router {
    Router::new()
        .merge(login::router())
        .merge(home::router())
        .merge(setup::router())
        .merge(mail::pages::router())
        .merge(internal::router())
        .merge(security::router())
        .merge(customers::router())
        .merge(sms_costs::router())
        .route("/portal/static/portal.css", get(css))
        .route("/portal/static/portal.js", get(js))
        .route("/portal/static/logo.svg", get(logo))
        .route("/portal/lang/{lang}", get(switch_lang))
        .route("/portal", get(|| async { Redirect::to("/portal/") }))
        .route("/portal/{*rest}", get(not_found).post(not_found))
        .route("/", get(|| async { Redirect::to("/portal/") }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            render::finish,
        ))
        .with_state(state)
}

async fn not_found() -> PortalError {
    PortalError::NotFound
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("static/portal.css"))
}

async fn js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/portal.js"),
    )
}

async fn logo() -> Response {
    static_file("image/svg+xml", include_str!("static/logo.svg"))
}

#[derive(Deserialize)]
struct Back {
    #[serde(default)]
    back: String,
}

/// `GET /portal/lang/{de|en}?back=/portal/…`: remembers the language in a
/// cookie and goes back (only to a portal path: no open redirect).
async fn switch_lang(
    Path(lang): Path<String>,
    Query(back): Query<Back>,
    jar: CookieJar,
) -> Response {
    let Some(lang) = Lang::parse(&lang) else {
        return PortalError::NotFound.into_response();
    };
    let cookie = Cookie::build((i18n::LANG_COOKIE, lang.code()))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    (jar.add(cookie), Redirect::to(local_path(&back.back))).into_response()
}

/// `path` when it is a path of the portal, else the portal's start page.
pub fn local_path(path: &str) -> &str {
    let ok = path.starts_with("/portal")
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if ok { path } else { "/portal/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_by_role() {
        use Role::*;
        let allowed = |role| Area::ALL.iter().filter(|a| a.allowed(role)).count();
        assert_eq!(allowed(Broker), 6);
        assert_eq!(allowed(Employee), 6);
        assert_eq!(allowed(SubBroker), 3);
        assert_eq!(allowed(Customer), 3);
        assert!(!Area::Customers.allowed(Customer));
        assert!(Area::SmsCosts.allowed(Employee));
        assert!(!Area::SmsCosts.allowed(SubBroker));
    }

    #[test]
    fn only_portal_paths_are_redirect_targets() {
        assert_eq!(local_path("/portal/setup"), "/portal/setup");
        assert_eq!(local_path("https://evil.example/"), "/portal/");
        assert_eq!(local_path("//evil.example/portal"), "/portal/");
        assert_eq!(local_path("/portal//evil.example"), "/portal/");
        assert_eq!(local_path("/portal\\x"), "/portal/");
        assert_eq!(local_path(""), "/portal/");
    }

    #[test]
    fn own_url_prefers_loopback() {
        assert_eq!(
            own_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            own_url("192.0.2.1:80".parse().unwrap()),
            "http://192.0.2.1:80"
        );
    }
}
