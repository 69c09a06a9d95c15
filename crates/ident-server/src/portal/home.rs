//! The overview (`/portal/`): the user's 2FA status at a glance and a card
//! for each part of the internal area the role may use.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use minijinja::context;
use serde::Serialize;

use super::error::PortalError;
use super::i18n;
use super::internal::{interval_hint, interval_label, phone_masked};
use super::session::LoggedIn;
use super::{Area, PortalState};

/// The routes of the overview.
pub fn router() -> Router<PortalState> {
    Router::new().route("/portal/", get(home))
}

#[derive(Serialize)]
struct Card {
    id: &'static str,
    path: &'static str,
    title: &'static str,
    text: &'static str,
}

/// `GET /portal/`.
async fn home(State(state): State<PortalState>, me: LoggedIn) -> Result<Response, PortalError> {
    let user = state
        .api
        .acting(&me.user.login)
        .user(&me.user.login)
        .await?;
    let lang = me.lang;
    let cards: Vec<Card> = Area::ALL
        .iter()
        .filter(|a| **a != Area::Home && a.allowed(me.user.role))
        .map(|a| Card {
            id: a.id(),
            path: a.path(),
            title: i18n::t(lang, a.label_key()),
            text: i18n::t(lang, a.card_key()),
        })
        .collect();
    Ok(state.page(
        &me.view(Area::Home),
        "home.html",
        context! {
            welcome => i18n::tf(lang, "home_welcome", &[("name", &user.display_name)]),
            phone => user.phone.as_deref().map(phone_masked),
            enrolled => user.enrolled,
            push_locked => user.push_locked,
            interval => interval_label(lang, user.interval_days),
            interval_hint => interval_hint(lang, user.interval_days),
            intro => i18n::t(lang, match me.user.role {
                crate::domain::Role::Broker | crate::domain::Role::Employee => "home_intro",
                _ => "home_intro_customer",
            }),
            cards => minijinja::Value::from_serialize(&cards),
        },
    ))
}
