//! The customer-mail pages over real HTTP, as a browser uses them: log in
//! (SMS as second factor), edit a letter with its preview, pick recipients,
//! confirm, and read what arrived at a real SMTP server (aiosmtpd on
//! 127.0.0.1) and what the send log says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `common` (shared harness) sets config fields after `Config::default()`.
#![allow(clippy::field_reassign_with_default)]

mod common;
mod portal_mail_smtp;

use std::time::{Duration, Instant};

use common::TestApp;
use common::portal::{Browser, Page, between, spawn_portal, unescape, user};
use ident_server::domain::Role;
use ident_server::portal::mail::SmtpUrl;
use portal_mail_smtp::SmtpSink;
use reqwest::StatusCode;
use serde_json::Value;

/// A server with the portal (mail to `smtp` when given) and: broker 1000
/// "Maklerbüro Schmidt" (makler@example.de), employee 1001, customers
/// max@example.de (phone, e-mail), 100300 (phone, no e-mail),
/// erika@example.de (no phone, e-mail); broker 2000 with customer
/// fremd@example.de (phone, e-mail).
async fn portal(smtp: Option<&SmtpSink>) -> TestApp {
    let url = smtp.map(SmtpSink::url);
    let users = [
        user(
            "1000",
            "Maklerbüro Schmidt",
            Role::Broker,
            None,
            Some("0151 11111111"),
            Some("makler@example.de"),
        ),
        user(
            "1001",
            "Anna Becker",
            Role::Employee,
            Some("1000"),
            Some("0160 12345678"),
            None,
        ),
        user(
            "max@example.de",
            "Max Müller",
            Role::Customer,
            Some("1000"),
            Some("0171 2345678"),
            Some("max@example.de"),
        ),
        user(
            "100300",
            "Jürgen Weiß",
            Role::Customer,
            Some("1000"),
            Some("0172 9876543"),
            None,
        ),
        user(
            "erika@example.de",
            "Erika Öztürk",
            Role::Customer,
            Some("1000"),
            None,
            Some("erika@example.de"),
        ),
        user(
            "2000",
            "Andere Finanz GmbH",
            Role::Broker,
            None,
            Some("0151 22222222"),
            None,
        ),
        user(
            "fremd@example.de",
            "Fritz Fremd",
            Role::Customer,
            Some("2000"),
            Some("0173 1111111"),
            Some("fremd@example.de"),
        ),
    ];
    spawn_portal(
        move |c| {
            if let Some(url) = url {
                c.portal.smtp_url = Some(SmtpUrl::parse(&url).unwrap());
                c.portal.mail_from = Some("FondsKontor Kundenservice <portal@example.de>".into());
            }
        },
        &users,
    )
    .await
}

/// Logs `login` in (password, then the SMS code from the outbox) in a
/// browser whose form posts carry their `Origin`.
async fn login(app: &TestApp, login: &str) -> Browser {
    Browser::new(app).with_origin().sms_login(app, login).await
}

/// The editor's fields as they are on the page.
fn editor_fields(page: &Page) -> (String, String, String) {
    let name = page.attr("id=\"mail-name\" name=\"name\" value=\"");
    let subject = page.attr("id=\"mail-subject\" name=\"subject\" value=\"");
    let body = between(
        &page.body,
        "aria-describedby=\"mail-body-hint\">",
        "</textarea>",
    )
    .or_else(|| between(&page.body, "aria-invalid=\"true\">", "</textarea>"))
    .map(|v| unescape(&v))
    .unwrap();
    (name, subject, body)
}

/// Waits until the campaign's log page says it is no longer running.
async fn finished_log(b: &Browser, path: &str) -> Page {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if !page.body.contains("data-state=\"running\"") {
            return page;
        }
        assert!(Instant::now() < deadline, "the send did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_employee_edits_the_letter_checks_the_recipients_and_sends() {
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let app = portal(Some(&smtp)).await;
    let b = login(&app, "1001").await;

    // The overview: both shipped letters, no log yet, mail is set up.
    let index = b.get("/portal/mail").await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains("id=\"template-mit-handynummer\""));
    assert!(index.body.contains("id=\"template-ohne-handynummer\""));
    assert!(index.body.contains(
        "Wichtig! Die 2-Faktor-Authentifizierung kommt! (für Endkunden MIT hinterlegter Handynummer)"
    ));
    assert!(index.body.contains("id=\"mail-log-empty\""));
    assert!(!index.body.contains("id=\"mail-problem\""));

    // The editor shows the letter and a preview for a sample customer,
    // signed with the broker's name (which the employee may not read).
    let edit = b.get("/portal/mail/templates/mit-handynummer").await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("id=\"preview-body\""));
    assert!(
        edit.body.contains("Guten Tag Max Mustermann,"),
        "{}",
        edit.body
    );
    assert!(
        edit.body
            .contains("Mit freundlichen Grüßen\nMaklerbüro Schmidt")
    );
    assert!(
        edit.body
            .contains("<code>{{ handynummer_maskiert }}</code>")
    );
    let (name, _, body) = editor_fields(&edit);
    let csrf = edit.csrf();

    // An unknown placeholder is refused when saving, with a plain sentence,
    // and nothing is stored.
    let bad_body = format!("{body}\nIhr Passwort: {{{{ passwort }}}}\n");
    let r = b
        .post(
            "/portal/mail/templates/mit-handynummer",
            &[
                ("csrf", &csrf),
                ("name", &name),
                ("subject", "Hallo"),
                ("body", &bad_body),
                ("aktion", "speichern"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unescape(&r.body).contains(
            "Nicht gespeichert. Der Text verwendet den unbekannten Platzhalter „passwort“."
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Ihr Passwort:"),
        "the text is kept for fixing"
    );
    let again = b.get("/portal/mail/templates/mit-handynummer").await;
    assert_eq!(editor_fields(&again).2, body);

    // The live preview (what mail.js asks for) for one of the broker's customers…
    let preview = b
        .post(
            "/portal/mail/preview",
            &[
                ("csrf", &csrf),
                ("name", &name),
                ("subject", "Wichtig für {{ name }}"),
                (
                    "body",
                    "{{ anrede }}, Ihre Nummer: {{ handynummer_maskiert }}",
                ),
                ("kunde", "max@example.de"),
            ],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let p: Value = serde_json::from_str(&preview.body).unwrap();
    assert_eq!(p["ok"], true);
    assert_eq!(p["subject"], "Wichtig für Max Müller");
    assert_eq!(p["body"], "Guten Tag Max Müller, Ihre Nummer: +49 ••• 678");
    assert_eq!(p["to"], "max@example.de");
    // …but not for another broker's customer, and errors are sentences.
    let p: Value = serde_json::from_str(
        &b.post(
            "/portal/mail/preview",
            &[
                ("csrf", &csrf),
                ("name", &name),
                ("subject", "x"),
                ("body", "x"),
                ("kunde", "fremd@example.de"),
            ],
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(p["ok"], false);
    assert_eq!(p["error"], "„fremd@example.de“ ist keiner Ihrer Kunden.");
    let p: Value = serde_json::from_str(
        &b.post(
            "/portal/mail/preview",
            &[
                ("csrf", &csrf),
                ("name", &name),
                ("subject", "x"),
                ("body", "{{ name "),
            ],
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(p["ok"], false);
    assert!(
        p["error"]
            .as_str()
            .unwrap()
            .starts_with("Der Text enthält einen Syntaxfehler in Zeile 1")
    );

    // Save an edit.
    let r = b
        .post(
            "/portal/mail/templates/mit-handynummer",
            &[
                ("csrf", &csrf),
                ("name", &name),
                (
                    "subject",
                    "Wichtig für {{ name }}: Die 2-Faktor-Authentifizierung kommt!",
                ),
                ("body", &body),
                ("aktion", "speichern"),
            ],
        )
        .await;
    assert_eq!(
        r.location(),
        "/portal/mail/templates/mit-handynummer?gespeichert=1"
    );
    let saved = b.follow(r).await;
    assert!(saved.body.contains("Die Vorlage wurde gespeichert."));
    assert!(
        saved
            .body
            .contains("Wichtig für Max Mustermann: Die 2-Faktor-Authentifizierung kommt!")
    );
    assert!(
        b.get("/portal/mail")
            .await
            .body
            .contains("data-state=\"modified\"")
    );

    // Choose the recipients: customers with a mobile number. One has no address.
    let list = b
        .get("/portal/mail/send?vorlage=mit-handynummer&gruppe=mit-handy&anzeigen=1")
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains("data-total=\"2\" data-sending=\"1\" data-skipped=\"1\""),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains("data-login=\"max@example.de\" data-skip=\"0\"")
    );
    assert!(list.body.contains("data-login=\"100300\" data-skip=\"1\""));
    assert!(
        !list.body.contains("erika@example.de"),
        "no phone: not in this group"
    );
    assert!(
        !list.body.contains("fremd@example.de"),
        "another broker's customer"
    );
    assert!(list.body.contains("Keine E-Mail-Adresse hinterlegt"));
    assert!(
        list.body
            .contains("Wichtig für Max Müller: Die 2-Faktor-Authentifizierung kommt!")
    );
    let token = list.attr("name=\"token\" value=\"");
    let csrf = list.csrf();
    let confirm = |token: String, confirmed: &'static str| {
        let csrf = csrf.clone();
        let b = &b;
        async move {
            b.post(
                "/portal/mail/send",
                &[
                    ("csrf", csrf.as_str()),
                    ("vorlage", "mit-handynummer"),
                    ("gruppe", "mit-handy"),
                    ("token", token.as_str()),
                    ("bestaetigt", confirmed),
                ],
            )
            .await
        }
    };

    // Without the confirmation nothing is sent (and the token is used up).
    let r = confirm(token.clone(), "").await;
    assert_eq!(
        r.location(),
        "/portal/mail/send?vorlage=mit-handynummer&gruppe=mit-handy&anzeigen=1"
    );
    let r = confirm(token, "ja").await;
    assert!(
        r.location().starts_with("/portal/mail/send?"),
        "a used token sends nothing"
    );

    // Confirmed with a fresh list: sent.
    let list = b
        .get("/portal/mail/send?vorlage=mit-handynummer&gruppe=mit-handy&anzeigen=1")
        .await;
    let token = list.attr("name=\"token\" value=\"");
    let r = confirm(token.clone(), "ja").await;
    assert!(r.location().starts_with("/portal/mail/log/"), "{}", r.body);
    let log_path = r.location().to_owned();
    let log = finished_log(&b, &log_path).await;
    assert!(log.body.contains("data-state=\"done\""), "{}", log.body);
    assert!(
        log.body
            .contains("data-sent=\"1\" data-failed=\"0\" data-skipped=\"1\" data-pending=\"0\"")
    );
    assert!(
        log.body
            .contains("data-login=\"max@example.de\" data-status=\"sent\"")
    );
    assert!(
        log.body
            .contains("data-login=\"100300\" data-status=\"skipped\"")
    );
    // who sent it, by name (the log keeps the login)
    assert!(log.body.contains("<dd id=\"log-by\">Anna Becker</dd>"));
    assert!(log.body.contains("Kunden mit hinterlegter Handynummer"));

    // What arrived.
    let got = smtp.wait_for(1);
    assert_eq!(got.len(), 1, "{got:#?}");
    let m = &got[0];
    assert_eq!(m.rcpt_to, "max@example.de");
    assert_eq!(m.to, "Max Müller <max@example.de>");
    assert_eq!(m.from, "\"FondsKontor Kundenservice\" <portal@example.de>");
    assert_eq!(
        m.reply_to.as_deref(),
        Some("Maklerbüro Schmidt <makler@example.de>")
    );
    assert_eq!(
        m.subject,
        "Wichtig für Max Müller: Die 2-Faktor-Authentifizierung kommt!"
    );
    assert!(
        m.body.starts_with("Guten Tag Max Müller,\n\n"),
        "{}",
        m.body
    );
    assert!(m.body.contains("Handynummer +49 ••• 678 hinterlegt"));
    assert!(
        m.body.contains(&format!(
            "Melden Sie sich wie gewohnt an: {}/portal/\n",
            app.base
        )),
        "{}",
        m.body
    );
    assert!(m.body.contains("Ihr Loginname: max@example.de\n"));
    assert!(
        m.body
            .contains("Mit freundlichen Grüßen\nMaklerbüro Schmidt")
    );

    // Sending the same confirmation again sends nothing more.
    let r = confirm(token, "ja").await;
    assert!(r.location().starts_with("/portal/mail/send?"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);

    // The overview lists the send; the broker sees the same log and letter.
    let index = b.get("/portal/mail").await;
    assert!(
        index
            .body
            .contains("1 gesendet, 0 fehlgeschlagen, 1 übersprungen"),
        "{}",
        index.body
    );
    let broker = login(&app, "1000").await;
    let index = broker.get("/portal/mail").await;
    assert!(
        index
            .body
            .contains("1 gesendet, 0 fehlgeschlagen, 1 übersprungen")
    );
    assert!(
        broker
            .get(&log_path)
            .await
            .body
            .contains("data-status=\"sent\"")
    );
    // Another broker sees neither.
    let other = login(&app, "2000").await;
    assert_eq!(other.get(&log_path).await.status, StatusCode::NOT_FOUND);
    assert!(
        other
            .get("/portal/mail")
            .await
            .body
            .contains("id=\"mail-log-empty\"")
    );
}

#[tokio::test]
async fn customers_without_a_number_and_own_letters() {
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let app = portal(Some(&smtp)).await;
    let b = login(&app, "1000").await;

    // The letter for customers without a number goes to that group by default.
    let list = b
        .get("/portal/mail/send?vorlage=ohne-handynummer&anzeigen=1")
        .await;
    assert!(
        list.body.contains("<option value=\"ohne-handy\" selected>"),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains("data-total=\"1\" data-sending=\"1\" data-skipped=\"0\"")
    );
    let token = list.attr("name=\"token\" value=\"");
    let r = b
        .post(
            "/portal/mail/send",
            &[
                ("csrf", &list.csrf()),
                ("vorlage", "ohne-handynummer"),
                ("gruppe", "ohne-handy"),
                ("token", &token),
                ("bestaetigt", "ja"),
            ],
        )
        .await;
    let log_path = r.location().to_owned();
    assert!(
        finished_log(&b, &log_path)
            .await
            .body
            .contains("data-state=\"done\"")
    );
    let got = smtp.wait_for(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, "erika@example.de");
    assert!(got[0].body.starts_with("Guten Tag Erika Öztürk,"));
    assert!(
        got[0]
            .body
            .contains("Für Ihren Zugang (erika@example.de) ist bisher keine hinterlegt."),
        "{}",
        got[0].body
    );

    // An own letter: created, listed, sent to SMS users, deleted.
    let new = b.get("/portal/mail/new").await;
    assert_eq!(new.status, 200);
    let r = b
        .post(
            "/portal/mail/new",
            &[
                ("csrf", &new.csrf()),
                ("name", "Erinnerung SMS-Nutzer"),
                ("subject", "Tipp: Die Ident-App ist bequemer als SMS"),
                ("body", "{{ anrede }},\n\nstatt SMS-Codes geht es mit der App schneller.\n\n{{ vermittler }}\n"),
                ("aktion", "speichern"),
            ],
        )
        .await;
    assert_eq!(
        r.location(),
        "/portal/mail/templates/eigene-1?gespeichert=1"
    );
    assert!(
        b.get("/portal/mail")
            .await
            .body
            .contains("data-key=\"eigene-1\" data-state=\"own\"")
    );
    let list = b
        .get("/portal/mail/send?vorlage=eigene-1&gruppe=sms&anzeigen=1")
        .await;
    assert!(
        list.body.contains("data-total=\"2\" data-sending=\"1\""),
        "{}",
        list.body
    );
    let edit = b.get("/portal/mail/templates/eigene-1").await;
    assert!(edit.body.contains("id=\"mail-delete\""));
    assert!(!edit.body.contains("id=\"mail-reset\""));
    let r = b
        .post(
            "/portal/mail/templates/eigene-1/delete",
            &[("csrf", &edit.csrf())],
        )
        .await;
    assert_eq!(r.location(), "/portal/mail");
    assert_eq!(
        b.get("/portal/mail/templates/eigene-1").await.status,
        StatusCode::NOT_FOUND
    );

    // Reset an edited shipped letter.
    let edit = b.get("/portal/mail/templates/ohne-handynummer").await;
    let (name, subject, _) = editor_fields(&edit);
    b.post(
        "/portal/mail/templates/ohne-handynummer",
        &[
            ("csrf", &edit.csrf()),
            ("name", &name),
            ("subject", &subject),
            ("body", "Kurz: {{ anrede }}"),
        ],
    )
    .await;
    let edited = b.get("/portal/mail/templates/ohne-handynummer").await;
    assert_eq!(editor_fields(&edited).2, "Kurz: {{ anrede }}");
    let r = b
        .post(
            "/portal/mail/templates/ohne-handynummer/reset",
            &[("csrf", &edited.csrf())],
        )
        .await;
    let reset = b.follow(r).await;
    assert!(reset.body.contains("auf den Standardtext zurückgesetzt"));
    assert!(
        editor_fields(&reset)
            .2
            .contains("Dafür brauchen wir Ihre Handynummer")
    );
}

#[tokio::test]
async fn only_brokers_and_employees_and_only_with_a_valid_form() {
    let app = portal(None).await;
    // A customer has no customer mail.
    let customer = login(&app, "max@example.de").await;
    assert_eq!(
        customer.get("/portal/mail").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        customer
            .get("/portal/mail/templates/mit-handynummer")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let b = login(&app, "1000").await;
    // Without SMTP settings the pages say so and offer no send button.
    let index = b.get("/portal/mail").await;
    assert!(index.body.contains("id=\"mail-problem\""));
    assert!(
        index
            .body
            .contains("Der E-Mail-Versand ist noch nicht eingerichtet")
    );
    let list = b
        .get("/portal/mail/send?vorlage=mit-handynummer&anzeigen=1")
        .await;
    assert!(list.body.contains("data-sending=\"1\""));
    assert!(!list.body.contains("id=\"send-confirm\""));

    // A save without the CSRF token changes nothing.
    let edit = b.get("/portal/mail/templates/mit-handynummer").await;
    let (name, _, body) = editor_fields(&edit);
    let r = b
        .post(
            "/portal/mail/templates/mit-handynummer",
            &[
                ("name", name.as_str()),
                ("subject", "Gekapert"),
                ("body", body.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post(
            "/portal/mail/templates/mit-handynummer",
            &[
                ("csrf", "falsch"),
                ("name", name.as_str()),
                ("subject", "Gekapert"),
                ("body", body.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        !b.get("/portal/mail/templates/mit-handynummer")
            .await
            .body
            .contains("Gekapert")
    );
    // Unknown letters and campaigns are 404; bad keys too.
    assert_eq!(
        b.get("/portal/mail/templates/gibt-es-nicht").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/portal/mail/templates/..%2Fx").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/portal/mail/log/999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/portal/mail/log/abc").await.status,
        StatusCode::NOT_FOUND
    );

    // English, with the same refusal as a sentence.
    let r = b.get("/portal/lang/en?back=/portal/mail").await;
    assert!(r.status.is_redirection());
    let index = b.get("/portal/mail").await;
    assert!(
        index
            .body
            .contains("<h1 id=\"page-title\">Customer mail</h1>"),
        "{}",
        index.body
    );
    assert!(index.body.contains("Sending e-mail is not set up yet"));
    let edit = b.get("/portal/mail/templates/mit-handynummer").await;
    let r = b
        .post(
            "/portal/mail/templates/mit-handynummer",
            &[
                ("csrf", &edit.csrf()),
                ("name", &name),
                ("subject", "{{ code }}"),
                ("body", &body),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unescape(&r.body).contains("Not saved. The subject uses the unknown placeholder \"code\"."),
        "{}",
        r.body
    );
}
