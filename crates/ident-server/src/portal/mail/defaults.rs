//! The two templates every broker starts with, in German.
//!
//! When two-factor login becomes mandatory, a broker's customers fall into two
//! groups: those whose mobile number is on file can set up the app (or get SMS
//! codes) right away; those without one cannot log in at all until their
//! broker enters a number, because only the broker may do that. Each group
//! gets its own letter. A broker may edit either; the stored copy then
//! replaces the default for that broker only, and "reset" brings the default
//! back.
//!
//! Paragraphs are single lines: mail programs wrap them to the screen, where
//! hard line breaks at 72 characters look ragged on a phone.

use super::store::TemplateKey;

/// A shipped template: its key, name, subject and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultTemplate {
    /// The stable key (`mit-handynummer`, `ohne-handynummer`).
    pub key: &'static str,
    /// The name shown in the template list.
    pub name: &'static str,
    /// The subject template.
    pub subject: &'static str,
    /// The body template.
    pub body: &'static str,
}

impl DefaultTemplate {
    /// The key as a [`TemplateKey`].
    pub fn template_key(&self) -> TemplateKey {
        TemplateKey::from_static(self.key)
    }
}

/// For customers with a mobile number on file.
pub const WITH_PHONE: DefaultTemplate = DefaultTemplate {
    key: "mit-handynummer",
    name: "Wichtig! Die 2-Faktor-Authentifizierung kommt! (für Endkunden MIT hinterlegter Handynummer)",
    subject: "Wichtig! Die 2-Faktor-Authentifizierung kommt!",
    body: r#"{{ anrede }},

Ihr Online-Zugang wird noch besser geschützt: Künftig bestätigen Sie jede Anmeldung zusätzlich mit Ihrem Smartphone. Diese Zwei-Faktor-Authentifizierung (2FA) sorgt dafür, dass nur Sie selbst sich mit Ihrem Zugang anmelden können – selbst dann, wenn jemand anderes Ihr Passwort kennen sollte. Sie gilt für alle Nutzer und bei jeder Anmeldung.

Für Ihren Zugang ist die Handynummer {{ handynummer_maskiert }} hinterlegt.

{% if app_eingerichtet %}
Sie haben die Ident-App bereits eingerichtet – Sie müssen nichts weiter tun.
{% else %}
So bereiten Sie sich in wenigen Minuten vor:

1. Laden Sie die kostenlose App „Ident“ auf Ihr Smartphone (iPhone ab iOS 15.4, Android ab Version 7.0).
2. Melden Sie sich wie gewohnt an: {{ portal_url }}
   Ihr Loginname: {{ login }}
3. Wählen Sie „App einrichten“ und scannen Sie den angezeigten QR-Code mit der App.
4. Erlauben Sie der App, Mitteilungen zu senden – sonst erreichen Sie die Anmeldeanfragen nicht.
{% endif %}

Bei jeder Anmeldung zeigt Ihnen die App dann, wer sich gerade anmelden möchte. Sie tippen die Zahl von der Anmeldeseite ein und bestätigen mit Face ID, Touch ID oder der Entsperr-PIN Ihres Smartphones. In einer App können Sie beliebig viele Zugänge verwalten.

Sie besitzen kein Smartphone? Dann erhalten Sie bei der Anmeldung einen Code per SMS an die hinterlegte Nummer und geben ihn auf der Anmeldeseite ein.

Ist die Nummer nicht mehr aktuell, teilen Sie uns bitte Ihre neue Handynummer mit. Aus Sicherheitsgründen können nur wir als Ihr betreuender Vermittler sie für Sie ändern.

Bei Fragen sind wir gern für Sie da.

Mit freundlichen Grüßen
{{ vermittler }}
"#,
};

/// For customers without a mobile number on file.
pub const WITHOUT_PHONE: DefaultTemplate = DefaultTemplate {
    key: "ohne-handynummer",
    name: "Wichtig! Die 2-Faktor-Authentifizierung kommt! (für Endkunden OHNE hinterlegte Handynummer)",
    subject: "Wichtig! Die 2-Faktor-Authentifizierung kommt – bitte teilen Sie uns Ihre Handynummer mit",
    body: r#"{{ anrede }},

Ihr Online-Zugang wird noch besser geschützt: Künftig bestätigen Sie jede Anmeldung zusätzlich mit Ihrem Smartphone oder mit einem Code per SMS. Diese Zwei-Faktor-Authentifizierung (2FA) sorgt dafür, dass nur Sie selbst sich mit Ihrem Zugang anmelden können – selbst dann, wenn jemand anderes Ihr Passwort kennen sollte.

Dafür brauchen wir Ihre Handynummer: Für Ihren Zugang ({{ login }}) ist bisher keine hinterlegt. Ohne Handynummer ist eine Anmeldung nach der Umstellung nicht mehr möglich.

Bitte teilen Sie uns Ihre Handynummer mit – am einfachsten als Antwort auf diese E-Mail oder telefonisch. Aus Sicherheitsgründen können nur wir als Ihr betreuender Vermittler die Nummer für Sie hinterlegen; Sie selbst können sie nicht eintragen.

Sobald Ihre Nummer hinterlegt ist, haben Sie zwei Möglichkeiten:

• Mit Smartphone: Laden Sie die kostenlose App „Ident“ (iPhone ab iOS 15.4, Android ab Version 7.0), melden Sie sich unter {{ portal_url }} an, wählen Sie „App einrichten“ und scannen Sie den QR-Code mit der App. Danach bestätigen Sie jede Anmeldung in der App mit Face ID, Touch ID oder der Entsperr-PIN Ihres Smartphones.

• Ohne Smartphone: Sie erhalten bei jeder Anmeldung einen Code per SMS und geben ihn auf der Anmeldeseite ein.

Bei Fragen sind wir gern für Sie da.

Mit freundlichen Grüßen
{{ vermittler }}
"#,
};

/// Every shipped template, in list order.
pub const DEFAULTS: &[DefaultTemplate] = &[WITH_PHONE, WITHOUT_PHONE];

/// The shipped template with this key, if there is one.
pub fn find(key: &str) -> Option<&'static DefaultTemplate> {
    DEFAULTS.iter().find(|d| d.key == key)
}

#[cfg(test)]
mod tests {
    use super::super::recipient::Recipient;
    use super::super::template::{MailContext, MailTemplate};
    use super::*;

    fn customer(phone: bool, enrolled: bool) -> Recipient {
        Recipient {
            login: "100234".into(),
            name: "Jürgen Weiß".into(),
            email: Some("j.weiss@example.de".into()),
            phone_masked: phone.then(|| "+49…678".into()),
            enrolled,
            broker_name: "Müller Finanzberatung".into(),
        }
    }

    #[test]
    fn defaults_are_valid_templates() {
        for d in DEFAULTS {
            let t = MailTemplate::new(d.name, d.subject, d.body).unwrap();
            assert_eq!(t.name(), d.name);
            assert!(d.template_key().is_default());
        }
    }

    #[test]
    fn with_phone_letter_fills_in_the_customer() {
        let t = MailTemplate::new(WITH_PHONE.name, WITH_PHONE.subject, WITH_PHONE.body).unwrap();
        let out = t
            .render(&MailContext::for_recipient(
                &customer(true, false),
                "https://portal.example.de/portal/",
            ))
            .unwrap();
        assert_eq!(
            out.subject,
            "Wichtig! Die 2-Faktor-Authentifizierung kommt!"
        );
        assert!(out.body.starts_with("Guten Tag Jürgen Weiß,\n"));
        assert!(out.body.contains("Handynummer +49…678 hinterlegt"));
        assert!(out.body.contains("https://portal.example.de/portal/"));
        assert!(out.body.contains("Ihr Loginname: 100234"));
        assert!(
            out.body
                .contains("Mit freundlichen Grüßen\nMüller Finanzberatung\n")
        );
        assert!(!out.body.contains("{{"));
        // Already enrolled: no set-up steps.
        let done = t
            .render(&MailContext::for_recipient(&customer(true, true), "u"))
            .unwrap();
        assert!(done.body.contains("bereits eingerichtet"));
        assert!(!done.body.contains("QR-Code"));
    }

    #[test]
    fn without_phone_letter_asks_for_the_number() {
        let t = MailTemplate::new(
            WITHOUT_PHONE.name,
            WITHOUT_PHONE.subject,
            WITHOUT_PHONE.body,
        )
        .unwrap();
        let out = t
            .render(&MailContext::for_recipient(&customer(false, false), "u"))
            .unwrap();
        assert!(out.body.contains("Für Ihren Zugang (100234) ist"));
        assert!(out.body.contains("teilen Sie uns Ihre Handynummer mit"));
        assert!(out.body.contains("Code per SMS"));
    }

    #[test]
    fn find_by_key() {
        assert_eq!(find("ohne-handynummer"), Some(&WITHOUT_PHONE));
        assert_eq!(find("eigene-1"), None);
    }
}
