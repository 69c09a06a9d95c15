//! The customer-mail service against a real SMTP server on 127.0.0.1
//! (aiosmtpd): a campaign reaches each customer alone, with the placeholders
//! filled in and umlauts intact, and the send log says what happened to
//! whom — also when one recipient is refused or the server is down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod portal_mail_smtp;

use std::sync::Mutex;

use ident_core::ports::ManualClock;
use ident_server::portal::mail::store::{self, RecipientStatus};
use ident_server::portal::mail::{
    CampaignRequest, MailDb, MailSettings, MailTemplate, Mailer, Recipient, RecipientFilter,
    TemplateKey, defaults, send_campaign,
};
use portal_mail_smtp::{SmtpSink, closed_port};
use rusqlite::Connection;

const BROKER: &str = "makler@example.de";
const PORTAL: &str = "https://portal.example.de/portal/";

fn db() -> Mutex<Connection> {
    let c = Connection::open_in_memory().unwrap();
    store::migrate(&c).unwrap();
    Mutex::new(c)
}

fn customer(login: &str, name: &str, email: Option<&str>) -> Recipient {
    Recipient {
        login: login.into(),
        name: name.into(),
        email: email.map(str::to_owned),
        phone_masked: Some("+49…678".into()),
        enrolled: false,
        broker_name: "Müller & Söhne Finanzberatung".into(),
    }
}

fn mailer(url: &str) -> Mailer {
    Mailer::new(&MailSettings::parse(url, "Ident-Portal <portal@example.de>", PORTAL).unwrap())
        .unwrap()
}

#[tokio::test]
async fn campaign_reaches_each_customer_alone_and_is_logged() {
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let db = db();
    let clock = ManualClock::at(1_800_000_000);
    // The broker's employee edits the shipped letter: the stored text is what goes out.
    let key = TemplateKey::parse(defaults::WITH_PHONE.key).unwrap();
    let edited = MailTemplate::new(
        defaults::WITH_PHONE.name,
        "Wichtig für {{ name }}: Die 2-Faktor-Authentifizierung kommt!",
        format!(
            "{}\nPS: Grüße aus dem Büro – Ihr Team.\n",
            defaults::WITH_PHONE.body
        ),
    )
    .unwrap();
    db.with_conn(|c| store::save_template(c, BROKER, &key, &edited, "mitarbeiterin@example.de", 1))
        .unwrap();
    let template = db
        .with_conn(|c| store::get_template(c, BROKER, &key))
        .unwrap()
        .template()
        .unwrap();

    let recipients = [
        customer("100234", "Jürgen Weiß", Some("j.weiss@example.de")),
        customer("100235", "Ohne Adresse", None),
        customer(
            "anna.oezdemir@example.de",
            "Anna Özdemir",
            Some("anna.oezdemir@example.de"),
        ),
    ];
    let report = send_campaign(
        &db,
        &mailer(&smtp.url()),
        &clock,
        CampaignRequest {
            broker: BROKER,
            sent_by: "mitarbeiterin@example.de",
            template_key: &key,
            template: &template,
            filter: RecipientFilter::WITH_PHONE,
            recipients: &recipients,
            reply_to: Some("Müller & Söhne <makler@example.de>".parse().unwrap()),
        },
    )
    .await
    .unwrap();
    assert_eq!(report.counts.total, 3);
    assert_eq!(report.counts.sent, 2);
    assert_eq!(report.counts.skipped, 1);
    assert_eq!(report.counts.failed, 0);

    let got = smtp.wait_for(2);
    assert_eq!(got.len(), 2, "{got:#?}");
    let (anna, juergen) = (&got[0], &got[1]);
    assert_eq!(anna.to, "Anna Özdemir <anna.oezdemir@example.de>");
    assert_eq!(juergen.to, "Jürgen Weiß <j.weiss@example.de>");
    for (m, addr) in [
        (anna, "anna.oezdemir@example.de"),
        (juergen, "j.weiss@example.de"),
    ] {
        // Alone: one envelope recipient, no Cc/Bcc.
        assert_eq!(m.rcpt_to, addr);
        assert!(!m.has_cc_or_bcc);
        assert_eq!(m.from, "Ident-Portal <portal@example.de>");
        assert_eq!(
            m.reply_to.as_deref(),
            Some("Müller & Söhne <makler@example.de>")
        );
        assert!(
            m.content_type.starts_with("text/plain"),
            "{}",
            m.content_type
        );
        assert!(m.message_id.ends_with("@example.de>"), "{}", m.message_id);
        assert!(
            m.body.contains("Handynummer +49…678 hinterlegt"),
            "{}",
            m.body
        );
        assert!(m.body.contains(PORTAL));
        // (SMTP's DATA ends with a line break of its own: compare without trailing ones.)
        assert!(
            m.body.trim_end().ends_with(
                "Mit freundlichen Grüßen\nMüller & Söhne Finanzberatung\n\nPS: Grüße aus dem Büro – Ihr Team."
            ),
            "{:?}",
            m.body
        );
        assert!(!m.body.contains("{{") && !m.body.contains("{%"));
    }
    assert_eq!(
        juergen.subject,
        "Wichtig für Jürgen Weiß: Die 2-Faktor-Authentifizierung kommt!"
    );
    assert!(juergen.body.starts_with("Guten Tag Jürgen Weiß,\n\n"));
    assert!(juergen.body.contains("Ihr Loginname: 100234\n"));
    assert!(anna.body.starts_with("Guten Tag Anna Özdemir,\n\n"));
    assert!(
        anna.body
            .contains("Ihr Loginname: anna.oezdemir@example.de\n")
    );

    // The send log.
    let (campaign, rows) = db
        .with_conn(|c| store::get_campaign(c, BROKER, report.id))
        .unwrap();
    assert_eq!(campaign.sent_by, "mitarbeiterin@example.de");
    assert_eq!(campaign.template_key, "mit-handynummer");
    assert_eq!(campaign.filter, "phone=with");
    assert_eq!(campaign.started_at, 1_800_000_000);
    assert_eq!(campaign.finished_at, Some(1_800_000_000));
    assert_eq!(campaign.counts.sent, 2);
    let statuses: Vec<_> = rows
        .iter()
        .map(|r| (r.login.as_str(), r.status, r.detail.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("100234", RecipientStatus::Sent, None),
            ("100235", RecipientStatus::Skipped, Some("no-address")),
            ("anna.oezdemir@example.de", RecipientStatus::Sent, None),
        ]
    );
    // The logged Message-IDs are the ones that arrived.
    assert_eq!(
        rows[0].message_id.as_deref(),
        Some(juergen.message_id.as_str())
    );
    assert_eq!(
        rows[2].message_id.as_deref(),
        Some(anna.message_id.as_str())
    );
    assert_eq!(rows[0].address.as_deref(), Some("j.weiss@example.de"));
    assert_eq!(rows[1].address, None);
}

#[tokio::test]
async fn a_refused_recipient_does_not_stop_the_others() {
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let db = db();
    let clock = ManualClock::at(1_800_000_000);
    let key = TemplateKey::parse(defaults::WITHOUT_PHONE.key).unwrap();
    let template = MailTemplate::new(
        defaults::WITHOUT_PHONE.name,
        defaults::WITHOUT_PHONE.subject,
        defaults::WITHOUT_PHONE.body,
    )
    .unwrap();
    let mut recipients = vec![
        customer("1", "Erste Kundin", Some("erste@example.de")),
        customer("2", "Abgelehnt", Some("abgelehnt@example.de")),
        customer("3", "Dritter Kunde", Some("dritter@example.de")),
    ];
    for r in &mut recipients {
        r.phone_masked = None;
    }
    let report = send_campaign(
        &db,
        &mailer(&smtp.url()),
        &clock,
        CampaignRequest {
            broker: BROKER,
            sent_by: BROKER,
            template_key: &key,
            template: &template,
            filter: RecipientFilter::WITHOUT_PHONE,
            recipients: &recipients,
            reply_to: None,
        },
    )
    .await
    .unwrap();
    assert_eq!((report.counts.sent, report.counts.failed), (2, 1));

    let got = smtp.wait_for(2);
    let to: Vec<_> = got.iter().map(|m| m.rcpt_to.as_str()).collect();
    assert_eq!(to, ["dritter@example.de", "erste@example.de"]);
    assert!(got[0].body.contains("teilen Sie uns Ihre Handynummer mit"));
    assert_eq!(got[0].reply_to, None);

    let (campaign, rows) = db
        .with_conn(|c| store::get_campaign(c, BROKER, report.id))
        .unwrap();
    assert!(campaign.finished_at.is_some());
    assert_eq!(rows[1].status, RecipientStatus::Failed);
    let detail = rows[1].detail.as_deref().unwrap();
    assert!(detail.contains("550"), "{detail}");
    assert_eq!(rows[2].status, RecipientStatus::Sent);
}

#[tokio::test]
async fn an_unreachable_server_fails_each_recipient_and_the_campaign_still_finishes() {
    let db = db();
    let clock = ManualClock::at(1_800_000_000);
    let key = TemplateKey::parse(defaults::WITH_PHONE.key).unwrap();
    let template = MailTemplate::new("x", "Betreff", "Hallo {{ name }}").unwrap();
    let recipients = [
        customer("1", "Eins", Some("eins@example.de")),
        customer("2", "Zwei", Some("zwei@example.de")),
    ];
    let url = format!("smtp://user:Geheim-42@127.0.0.1:{}", closed_port());
    let report = send_campaign(
        &db,
        &mailer(&url),
        &clock,
        CampaignRequest {
            broker: BROKER,
            sent_by: BROKER,
            template_key: &key,
            template: &template,
            filter: RecipientFilter::ALL,
            recipients: &recipients,
            reply_to: None,
        },
    )
    .await
    .unwrap();
    assert_eq!((report.counts.sent, report.counts.failed), (0, 2));
    let (campaign, rows) = db
        .with_conn(|c| store::get_campaign(c, BROKER, report.id))
        .unwrap();
    assert!(campaign.finished_at.is_some());
    assert_eq!(campaign.counts.pending, 0);
    for r in rows {
        assert_eq!(r.status, RecipientStatus::Failed);
        let detail = r.detail.unwrap();
        assert!(!detail.is_empty());
        // The SMTP password from the URL never reaches the log.
        assert!(!detail.contains("Geheim-42"), "{detail}");
    }
}
