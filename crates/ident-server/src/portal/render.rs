//! Turning a template and a context into an HTML response, and the headers
//! every portal response carries.
//!
//! Templates are minijinja files in `portal/templates/`, compiled into the
//! binary (`portal::TEMPLATES`) and rendered with HTML auto-escaping and
//! strict undefined values, so a typo in a variable or text key fails loudly
//! in the tests instead of printing nothing. Every page extends
//! `layout.html` and gets the same base context (see [`PortalState::page`]).
//!
//! [`finish`] wraps every portal response: a strict Content-Security-Policy
//! (no inline script or style anywhere), `nosniff`, no referrer, no framing,
//! `Cache-Control: no-store` unless the handler chose otherwise, and the
//! error page in the user's language for responses marked by `PortalError`.

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use minijinja::value::Kwargs;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::csrf::CsrfToken;
use super::error::{ErrorPage, PortalError};
use super::i18n::{self, Lang};
use super::session::PortalUser;
use super::{Area, PortalState};

/// The Content-Security-Policy of every portal response.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
                       form-action 'self'; base-uri 'none'";

/// What a page needs besides its own values: language, CSRF token, user and
/// the navigation entry to mark. Pages of the internal area get it from
/// `LoggedIn::view`; the login pages build it themselves.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The language.
    pub lang: Lang,
    /// The session's CSRF token, for forms (`{{ csrf_field }}`).
    pub csrf: Option<&'a CsrfToken>,
    /// The logged-in user (shows the navigation).
    pub user: Option<&'a PortalUser>,
    /// The navigation entry to mark as current.
    pub active: Option<Area>,
}

impl<'a> View<'a> {
    /// A page for someone not logged in.
    pub fn anonymous(lang: Lang, csrf: Option<&'a CsrfToken>) -> Self {
        Self {
            lang,
            csrf,
            user: None,
            active: None,
        }
    }
}

/// The compiled templates (once per process).
static TEMPLATES: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("fill", fill_filter);
    for (name, source) in super::TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(env)
});

/// `{{ t.sms_wrong | fill(tries=2) }}`: replaces `{tries}` by 2.
fn fill_filter(text: String, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let mut out = text;
    for key in kwargs.args() {
        let value: Value = kwargs.get(key)?;
        out = out.replace(&format!("{{{key}}}"), &value.to_string());
    }
    Ok(out)
}

/// One entry of the navigation.
#[derive(Debug, Serialize)]
struct NavItem {
    id: &'static str,
    path: &'static str,
    label: &'static str,
    active: bool,
}

/// The user as templates see it.
#[derive(Debug, Serialize)]
struct UserValue<'a> {
    login: &'a str,
    display_name: &'a str,
    role: &'static str,
    role_label: &'static str,
    broker: Option<&'a str>,
}

/// The key of a role's name.
pub fn role_key(role: crate::domain::Role) -> &'static str {
    match role {
        crate::domain::Role::Broker => "role_broker",
        crate::domain::Role::Employee => "role_employee",
        crate::domain::Role::SubBroker => "role_sub_broker",
        crate::domain::Role::Customer => "role_customer",
    }
}

/// Renders `template` with `ctx` merged over the base context (tests and
/// callers that need the text).
pub fn render_to_string(
    name: &str,
    view: &View<'_>,
    here: &str,
    ctx: Value,
) -> Result<String, PortalError> {
    let env = TEMPLATES
        .as_ref()
        .map_err(|e| PortalError::Render(e.clone()))?;
    let lang = view.lang;
    let nav: Vec<NavItem> = match view.user {
        Some(user) => Area::ALL
            .iter()
            .filter(|a| a.allowed(user.role))
            .map(|a| NavItem {
                id: a.id(),
                path: a.path(),
                label: i18n::t(lang, a.label_key()),
                active: view.active == Some(*a),
            })
            .collect(),
        None => Vec::new(),
    };
    let user = view.user.map(|u| UserValue {
        login: &u.login,
        display_name: &u.display_name,
        role: u.role.as_str(),
        role_label: i18n::t(lang, role_key(u.role)),
        broker: u.broker.as_deref(),
    });
    let here = if here.starts_with("/portal") {
        here
    } else {
        "/portal/"
    };
    let base = context! {
        lang => lang.code(),
        t => i18n::catalogue(lang),
        csrf => view.csrf.map(CsrfToken::form_value).unwrap_or_default(),
        user => Value::from_serialize(&user),
        nav => Value::from_serialize(&nav),
        portal_name => super::portal_name(),
        lang_switch => format!(
            "/portal/lang/{}?back={}",
            lang.other().code(),
            percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC)
        ),
        other_lang => lang.other().code(),
    };
    let template = env
        .get_template(name)
        .map_err(|e| PortalError::Render(e.to_string()))?;
    template
        .render(context! { ..ctx, ..base })
        .map_err(|e| PortalError::Render(format!("{name}: {e:#}")))
}

impl PortalState {
    /// A page: `template` with `ctx` over the base context, status 200.
    /// `ctx` is usually `minijinja::context! { … }`.
    pub fn page(&self, view: &View<'_>, template: &str, ctx: Value) -> Response {
        self.page_with_status(StatusCode::OK, view, template, ctx)
    }

    /// Like [`PortalState::page`] with another status (a form with errors).
    pub fn page_with_status(
        &self,
        status: StatusCode,
        view: &View<'_>,
        template: &str,
        ctx: Value,
    ) -> Response {
        let here = view.active.map_or("/portal/login", Area::path);
        self.page_at(status, view, here, template, ctx)
    }

    /// Like [`PortalState::page_with_status`] for a page at `here` (the
    /// language switcher comes back to it).
    pub fn page_at(
        &self,
        status: StatusCode,
        view: &View<'_>,
        here: &str,
        template: &str,
        ctx: Value,
    ) -> Response {
        match render_to_string(template, view, here, ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// The response layer of every portal route (see the module docs).
pub async fn finish(State(state): State<PortalState>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let lang = Lang::from_jar(&jar);
    let mut response = next.run(request).await;
    if let Some(page) = response.extensions().get::<ErrorPage>().copied() {
        if page.message == super::error::ACCOUNT_GONE {
            // The user was deleted while logged in: the session goes too,
            // so the next page is the login, not this error again.
            if let Err(e) = state.end_session_of_cookie(&jar) {
                tracing::error!(error = %e, "portal: cannot end a deleted user's session");
            }
        }
        let status = response.status();
        let view = View::anonymous(lang, None);
        let ctx = context! { message => i18n::t(lang, page.message), status => status.as_u16() };
        let mut rendered = match render_to_string("error.html", &view, "/portal/", ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "portal: the error page failed");
                (status, i18n::t(lang, page.message)).into_response()
            }
        };
        // Keep what the handler set besides the body (cookies, Retry-After).
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rendered.headers_mut().append(name, value.clone());
            }
        }
        response = rendered;
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn every_template_compiles() {
        let env = TEMPLATES.as_ref().unwrap();
        for (name, _) in crate::portal::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn pages_escape_and_show_the_navigation_by_role() {
        let user = PortalUser {
            login: "max@example.de".into(),
            display_name: "<Max & Co>".into(),
            role: Role::Customer,
            broker: Some("1000".into()),
        };
        let csrf = CsrfToken::generate().unwrap();
        let view = View {
            lang: Lang::De,
            csrf: Some(&csrf),
            user: Some(&user),
            active: Some(Area::Setup),
        };
        let html = render_to_string(
            "error.html",
            &view,
            "/portal/setup",
            context! { status => 403, message => "x" },
        )
        .unwrap();
        assert!(html.contains("&lt;Max &amp; Co&gt;"), "{html}");
        assert!(!html.contains("<Max & Co>"));
        assert!(html.contains("App einrichten"));
        assert!(
            !html.contains("Meine Kunden"),
            "customers have no customers"
        );
        assert!(html.contains(&csrf.form_value()));
        assert!(html.contains("lang=\"de\""));
        assert!(!html.contains("style="), "no inline styles under the CSP");
        let en = render_to_string(
            "error.html",
            &View {
                lang: Lang::En,
                ..view
            },
            "/portal/setup",
            context! { status => 403, message => "x" },
        )
        .unwrap();
        assert!(en.contains("Set up the app"));
        // auto-escaping writes `/` as `&#x2f;` in attributes (browsers read it back)
        assert!(
            en.contains("&#x2f;portal&#x2f;lang&#x2f;de?back=%2Fportal%2Fsetup"),
            "{en}"
        );
    }

    #[test]
    fn an_unknown_text_key_fails_the_render() {
        // the error template reads t.<key> for its texts; a context that lacks
        // a variable the template needs is an error, not an empty string
        let view = View::anonymous(Lang::De, None);
        assert!(render_to_string("error.html", &view, "/portal/", context! {}).is_err());
    }
}
