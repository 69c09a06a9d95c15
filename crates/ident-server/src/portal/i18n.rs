//! The portal's words in German (first) and English.
//!
//! Every text is one row `(key, German, English)` of a catalogue; a page
//! module keeps its own rows next to its code (`pub const TEXTS: &[Text]`) and
//! `portal::TEXTS` lists all catalogues, so two pages never edit one file to
//! add words. Templates see the texts of the request's language as `t`
//! (`{{ t.login_title }}`); an unknown key fails the render (strict
//! undefined), and the unit tests check that every key has both languages and
//! the same `{placeholders}` in each.
//!
//! The language comes from the `portal_lang` cookie that the switcher link
//! sets; without it the portal speaks German, as the platform's users do.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use serde::Serialize;

/// One text: `(key, German, English)`. `{name}` marks a value filled in with [`fill`].
pub type Text = (&'static str, &'static str, &'static str);

/// The cookie that holds the chosen language (`de` or `en`).
pub const LANG_COOKIE: &str = "portal_lang";

/// A language of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// German, the default.
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// The language tag (`de`, `en`), also the cookie value and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Parses a tag; anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: its `portal_lang` cookie, else German.
    pub fn from_jar(jar: &CookieJar) -> Lang {
        jar.get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .unwrap_or_default()
    }

    /// The other language (the switcher offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_jar(&CookieJar::from_headers(&parts.headers)))
    }
}

/// The words every page shares: the frame, the login, the second factor,
/// the home page, the app setup, errors.
pub const CORE: &[Text] = &[
    // The frame.
    ("skip_to_content", "Zum Inhalt springen", "Skip to content"),
    ("nav_label", "Hauptnavigation", "Main navigation"),
    ("nav_home", "Übersicht", "Overview"),
    ("nav_security", "Meine Sicherheit", "My security"),
    ("nav_customers", "Meine Kunden", "My customers"),
    ("nav_mail", "Kundenmail", "Customer mail"),
    ("nav_sms_costs", "SMS-Kosten", "SMS costs"),
    ("nav_setup", "App einrichten", "Set up the app"),
    ("logout", "Abmelden", "Log out"),
    ("lang_switch", "English", "Deutsch"),
    (
        "lang_switch_label",
        "Sprache wechseln: English",
        "Switch language: Deutsch",
    ),
    (
        "tagline",
        "Die Plattform für Fondsvermittler und ihre Kunden",
        "The platform for fund brokers and their customers",
    ),
    (
        "footer_text",
        "Zwei-Faktor-Anmeldung mit Ident. Ihre Daten bleiben bei uns.",
        "Two-factor login with Ident. Your data stays with us.",
    ),
    ("internal_area", "Interner Bereich", "Internal area"),
    ("signed_in_as", "Angemeldet als", "Signed in as"),
    ("role_broker", "Makler", "Broker"),
    ("role_employee", "Mitarbeiter", "Employee"),
    ("role_sub_broker", "Untervermittler", "Sub-broker"),
    ("role_customer", "Endkunde", "Customer"),
    // The login.
    ("login_title", "Anmelden", "Log in"),
    (
        "login_intro",
        "Melden Sie sich mit Ihrem Loginnamen und Passwort an. Danach bestätigen Sie die Anmeldung in der Ident-App.",
        "Log in with your login name and password. Then confirm the login in the Ident app.",
    ),
    ("login_name", "Loginname", "Login name"),
    (
        "login_name_hint",
        "Ihre Nummer oder E-Mail-Adresse",
        "Your number or e-mail address",
    ),
    ("password", "Passwort", "Password"),
    ("login_submit", "Weiter", "Continue"),
    (
        "login_missing",
        "Bitte geben Sie Loginname und Passwort ein.",
        "Please enter your login name and password.",
    ),
    (
        "login_wrong",
        "Loginname oder Passwort ist falsch.",
        "The login name or password is wrong.",
    ),
    (
        "login_too_many",
        "Zu viele Fehlversuche. Bitte warten Sie {minutes} Minuten und versuchen Sie es dann erneut.",
        "Too many failed attempts. Please wait {minutes} minutes and try again.",
    ),
    (
        "login_unavailable",
        "Die Anmeldung ist gerade nicht möglich. Bitte versuchen Sie es in einigen Minuten erneut.",
        "Logging in is not possible right now. Please try again in a few minutes.",
    ),
    (
        "logged_out",
        "Sie wurden abgemeldet.",
        "You have been logged out.",
    ),
    (
        "session_expired",
        "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
        "Your session has expired. Please log in again.",
    ),
    (
        "too_many_open",
        "Es sind bereits mehrere Anmeldungen offen. Bitte warten Sie zwei Minuten und versuchen Sie es dann erneut.",
        "Several logins are already waiting. Please wait two minutes and try again.",
    ),
    (
        "sms_rate_limited",
        "In der letzten Stunde wurden zu viele SMS gesendet. Bitte versuchen Sie es in {minutes} Minuten erneut.",
        "Too many text messages were sent in the last hour. Please try again in {minutes} minutes.",
    ),
    (
        "sms_send_failed",
        "Die SMS konnte nicht gesendet werden. Bitte versuchen Sie es später erneut.",
        "The text message could not be sent. Please try again later.",
    ),
    ("back_to_login", "Zurück zur Anmeldung", "Back to the login"),
    ("cancel_login", "Abbrechen", "Cancel"),
    // Push: the wait page.
    ("push_title", "Anmeldung bestätigen", "Confirm the login"),
    (
        "push_intro",
        "Wir haben eine Anfrage an Ihre Ident-App gesendet. Öffnen Sie die App und geben Sie diese Zahl ein:",
        "We sent a request to your Ident app. Open the app and enter this number:",
    ),
    ("push_number_label", "Ihre Zahl", "Your number"),
    (
        "push_number_announce",
        "Geben Sie in der App die Zahl {number} ein.",
        "Enter the number {number} in the app.",
    ),
    (
        "push_expires",
        "Die Anfrage ist noch {time} gültig.",
        "The request is valid for another {time}.",
    ),
    (
        "push_waiting",
        "Warten auf Ihre Bestätigung …",
        "Waiting for your confirmation …",
    ),
    (
        "push_no_push",
        "Keine Mitteilung erhalten? Öffnen Sie die Ident-App direkt – die Anfrage wird dort angezeigt.",
        "No notification? Open the Ident app directly – the request is shown there.",
    ),
    ("push_check", "Status prüfen", "Check status"),
    (
        "push_use_sms",
        "Code per SMS erhalten",
        "Get a code by text message",
    ),
    (
        "push_approved",
        "Bestätigt. Sie werden angemeldet …",
        "Confirmed. Logging you in …",
    ),
    (
        "push_denied",
        "Die Anmeldung wurde in der App abgelehnt. Wenn Sie das nicht selbst waren, ändern Sie bitte Ihr Passwort.",
        "The login was denied in the app. If that was not you, please change your password.",
    ),
    (
        "push_expired",
        "Die Anfrage ist abgelaufen, ohne dass sie bestätigt wurde.",
        "The request expired before it was confirmed.",
    ),
    (
        "push_locked",
        "Anmeldungen per App sind für Ihr Konto vorübergehend gesperrt, weil Anfragen abgelehnt wurden. Ihr Makler kann die Sperre aufheben. Sie können sich per SMS-Code anmelden.",
        "App logins are locked for your account because requests were denied. Your broker can lift the lock. You can log in with a code by text message.",
    ),
    ("try_again", "Erneut anmelden", "Log in again"),
    // SMS.
    (
        "sms_title",
        "Code aus der SMS eingeben",
        "Enter the code from the text message",
    ),
    (
        "sms_intro",
        "Wir haben Ihnen einen 6-stelligen Code per SMS an {phone} gesendet. Er ist 5 Minuten gültig.",
        "We sent a 6-digit code by text message to {phone}. It is valid for 5 minutes.",
    ),
    ("sms_code", "SMS-Code", "Code"),
    ("sms_code_hint", "6 Ziffern", "6 digits"),
    ("sms_submit", "Anmelden", "Log in"),
    (
        "sms_malformed",
        "Bitte geben Sie die 6 Ziffern aus der SMS ein.",
        "Please enter the 6 digits from the text message.",
    ),
    (
        "sms_wrong",
        "Der Code ist falsch. Sie haben noch {tries} Versuche.",
        "The code is wrong. You have {tries} tries left.",
    ),
    (
        "sms_wrong_one",
        "Der Code ist falsch. Sie haben noch einen Versuch.",
        "The code is wrong. You have one try left.",
    ),
    (
        "sms_expired",
        "Der Code ist abgelaufen oder wurde zu oft falsch eingegeben. Bitte fordern Sie einen neuen Code an.",
        "The code has expired or was entered wrongly too often. Please request a new code.",
    ),
    ("sms_resend", "Neuen Code senden", "Send a new code"),
    (
        "sms_decided",
        "Diese Anmeldung ist bereits abgeschlossen. Bitte melden Sie sich erneut an.",
        "This login is already finished. Please log in again.",
    ),
    // No second factor possible.
    (
        "no_factor_title",
        "Mobilfunknummer fehlt",
        "Mobile number missing",
    ),
    (
        "no_factor_intro",
        "Für die Anmeldung ist ein zweiter Faktor vorgeschrieben: die Ident-App oder ein Code per SMS. Für beides muss Ihre Mobilfunknummer hinterlegt sein – bei Ihrem Zugang ist noch keine eingetragen.",
        "Logging in requires a second factor: the Ident app or a code by text message. Both need your mobile number on file – none is entered for your account yet.",
    ),
    (
        "no_factor_customer",
        "Seit dem 01.08.2023 kann nur Ihr Vermittler Ihre Mobilfunknummer eintragen. Bitte wenden Sie sich an ihn; danach können Sie sich per SMS-Code anmelden und die Ident-App einrichten.",
        "Since 1 August 2023 only your broker can enter your mobile number. Please contact your broker; then you can log in with a code by text message and set up the Ident app.",
    ),
    (
        "no_factor_staff",
        "Bitte bitten Sie Ihren Makler, Ihre Mobilfunknummer im internen Bereich einzutragen. Danach können Sie sich per SMS-Code anmelden und die Ident-App einrichten.",
        "Please ask your broker to enter your mobile number in the internal area. Then you can log in with a code by text message and set up the Ident app.",
    ),
    (
        "no_factor_broker",
        "Bitte wenden Sie sich an den Plattform-Support, damit Ihre Mobilfunknummer hinterlegt wird. Danach können Sie sich per SMS-Code anmelden und die Ident-App einrichten.",
        "Please contact the platform support to have your mobile number entered. Then you can log in with a code by text message and set up the Ident app.",
    ),
    // Home.
    ("home_title", "Übersicht", "Overview"),
    ("home_welcome", "Willkommen, {name}", "Welcome, {name}"),
    (
        "home_intro",
        "Hier verwalten Sie Ihre Zwei-Faktor-Anmeldung und – als Vermittler – die Ihrer Kunden.",
        "Here you manage your two-factor login and – as a broker – that of your customers.",
    ),
    (
        "home_intro_customer",
        "Hier sehen Sie den Stand Ihrer Zwei-Faktor-Anmeldung und richten die Ident-App ein.",
        "Here you see the state of your two-factor login and set up the Ident app.",
    ),
    ("home_status", "Ihr Zugang", "Your account"),
    ("status_phone", "Mobilfunknummer", "Mobile number"),
    ("status_none", "nicht hinterlegt", "not on file"),
    ("status_app", "Ident-App", "Ident app"),
    ("status_enrolled", "eingerichtet", "set up"),
    (
        "status_not_enrolled",
        "noch nicht eingerichtet",
        "not set up yet",
    ),
    ("status_interval", "2FA-Abfrage", "2FA prompt"),
    ("interval_always", "bei jeder Anmeldung", "at every login"),
    ("interval_days", "alle {days} Tage", "every {days} days"),
    ("interval_one_day", "jeden Tag", "every day"),
    (
        "status_locked",
        "Push-Anmeldung gesperrt",
        "Push login locked",
    ),
    (
        "home_setup_hint",
        "Richten Sie jetzt die Ident-App ein, damit Sie Anmeldungen mit einem Fingertipp bestätigen können.",
        "Set up the Ident app now so you can confirm logins with a tap.",
    ),
    (
        "card_security",
        "Geräte, vertrauenswürdige Browser und wie oft die 2FA abgefragt wird.",
        "Devices, trusted browsers and how often 2FA is asked.",
    ),
    (
        "card_customers",
        "Mobilfunknummern und 2FA-Stand Ihrer Kunden.",
        "Your customers' mobile numbers and 2FA status.",
    ),
    (
        "card_mail",
        "Rundmails an Ihre Kunden, z. B. zur Einführung der 2FA.",
        "Circular mails to your customers, e.g. about the 2FA launch.",
    ),
    (
        "card_sms_costs",
        "SMS-Versand und Quartalsabrechnung.",
        "Text messages sent and quarterly statements.",
    ),
    (
        "card_setup",
        "Ident-App auf dem Smartphone einrichten.",
        "Set up the Ident app on your smartphone.",
    ),
    ("open", "Öffnen", "Open"),
    // Set up the app.
    (
        "setup_title",
        "Ident-App einrichten",
        "Set up the Ident app",
    ),
    (
        "setup_intro",
        "Mit der Ident-App bestätigen Sie künftig jede Anmeldung mit Fingerabdruck, Gesichtserkennung oder der Geräte-PIN.",
        "With the Ident app you confirm every login with your fingerprint, face or device PIN.",
    ),
    ("setup_step1_title", "App installieren", "Install the app"),
    (
        "setup_step1",
        "Laden Sie die Ident-App aus dem App Store (ab iOS 15.4) oder von Google Play (ab Android 7.0) und erlauben Sie Mitteilungen.",
        "Get the Ident app from the App Store (iOS 15.4 or later) or Google Play (Android 7.0 or later) and allow notifications.",
    ),
    ("setup_step2_title", "QR-Code scannen", "Scan the QR code"),
    (
        "setup_step2",
        "Tippen Sie in der App auf „Konto hinzufügen“ und scannen Sie diesen Code. Sind Sie am Smartphone? Dann tippen Sie auf „Auf diesem Gerät öffnen“.",
        "In the app, tap “Add account” and scan this code. On your smartphone? Tap “Open on this device” instead.",
    ),
    (
        "setup_step3_title",
        "Entsperrung festlegen",
        "Choose how to unlock",
    ),
    (
        "setup_step3",
        "Bestätigen Sie mit Face ID, Touch ID, Fingerabdruck oder Ihrer Geräte-PIN.",
        "Confirm with Face ID, Touch ID, your fingerprint or your device PIN.",
    ),
    ("setup_step4_title", "Fertig", "Done"),
    (
        "setup_step4",
        "Sobald die App verbunden ist, erscheint hier eine Bestätigung.",
        "As soon as the app is connected, a confirmation appears here.",
    ),
    (
        "setup_qr_alt",
        "QR-Code zur Einrichtung der Ident-App",
        "QR code to set up the Ident app",
    ),
    (
        "setup_open_link",
        "Auf diesem Gerät öffnen",
        "Open on this device",
    ),
    (
        "setup_qr_valid",
        "Der Code ist 10 Minuten gültig und nur einmal verwendbar. Zeigen Sie ihn niemandem.",
        "The code is valid for 10 minutes and works once. Do not show it to anyone.",
    ),
    (
        "setup_waiting",
        "Warten auf die App …",
        "Waiting for the app …",
    ),
    (
        "setup_done",
        "Die Ident-App ist eingerichtet. Ab jetzt bestätigen Sie Anmeldungen in der App.",
        "The Ident app is set up. From now on you confirm logins in the app.",
    ),
    (
        "setup_expired",
        "Der Code ist abgelaufen. Laden Sie die Seite neu, um einen neuen Code zu erhalten.",
        "The code has expired. Reload the page to get a new one.",
    ),
    ("setup_new_code", "Neuen Code anzeigen", "Show a new code"),
    (
        "setup_already",
        "Auf Ihrem Zugang ist bereits ein Gerät mit der Ident-App eingerichtet.",
        "A device with the Ident app is already set up for your account.",
    ),
    (
        "setup_another",
        "Weiteres Gerät einrichten",
        "Set up another device",
    ),
    (
        "setup_no_phone",
        "Bevor Sie die Ident-App einrichten können, muss Ihre Mobilfunknummer hinterlegt sein.",
        "Before you can set up the Ident app, your mobile number must be on file.",
    ),
    // Errors.
    ("error_title", "Das hat nicht geklappt", "That did not work"),
    (
        "error_forbidden",
        "Dieser Bereich ist für Ihren Zugang nicht freigegeben.",
        "This area is not available for your account.",
    ),
    (
        "error_account_gone",
        "Ihren Zugang gibt es nicht mehr, Sie sind abgemeldet. Bei Fragen wenden Sie sich bitte an Ihren Vermittler.",
        "Your account no longer exists; you have been logged out. If you have questions, please contact your broker.",
    ),
    (
        "error_not_found",
        "Diese Seite gibt es nicht.",
        "This page does not exist.",
    ),
    (
        "error_csrf",
        "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "The form has expired or did not come from this site. Please reload the page and try again.",
    ),
    (
        "error_api",
        "Der Anmeldedienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.",
        "The login service cannot be reached right now. Please try again in a few minutes.",
    ),
    (
        "error_internal",
        "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.",
        "An internal error occurred. Please try again later.",
    ),
    ("to_home", "Zur Übersicht", "To the overview"),
    // A withdrawn login and the QR code as PNG.
    (
        "push_withdrawn",
        "Diese Anmeldung wurde abgebrochen. Bitte melden Sie sich neu an.",
        "This login was cancelled. Please log in again.",
    ),
    (
        "setup_qr_png",
        "QR-Code als Bild speichern (PNG)",
        "Save the QR code as an image (PNG)",
    ),
];

/// Every catalogue merged, per language (built once).
static MERGED: LazyLock<[BTreeMap<&'static str, &'static str>; 2]> = LazyLock::new(|| {
    let mut de = BTreeMap::new();
    let mut en = BTreeMap::new();
    for catalogue in super::TEXTS {
        for (key, g, e) in *catalogue {
            de.insert(*key, *g);
            en.insert(*key, *e);
        }
    }
    [de, en]
});

fn merged(lang: Lang) -> &'static BTreeMap<&'static str, &'static str> {
    match lang {
        Lang::De => &MERGED[0],
        Lang::En => &MERGED[1],
    }
}

/// The text `key` in `lang`; the key itself when it is unknown (a bug the
/// tests catch, shown rather than hidden).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    merged(lang).get(key).copied().unwrap_or(key)
}

/// The text `key` in `lang` with each `{name}` replaced by its value.
pub fn tf(lang: Lang, key: &'static str, values: &[(&str, &str)]) -> String {
    fill(t(lang, key), values)
}

/// Replaces each `{name}` in `text` by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// All texts of `lang` as a template value (`t` in templates).
pub fn catalogue(lang: Lang) -> minijinja::Value {
    static VALUES: LazyLock<[minijinja::Value; 2]> = LazyLock::new(|| {
        [
            minijinja::Value::from_serialize(merged(Lang::De)),
            minijinja::Value::from_serialize(merged(Lang::En)),
        ]
    });
    match lang {
        Lang::De => VALUES[0].clone(),
        Lang::En => VALUES[1].clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `{name}` placeholders of a text, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_key_has_both_languages_once_with_the_same_placeholders() {
        let mut seen = std::collections::HashSet::new();
        for catalogue in crate::portal::TEXTS {
            for (key, de, en) in *catalogue {
                assert!(seen.insert(*key), "the key {key} is defined twice");
                assert!(!de.trim().is_empty(), "{key} has no German text");
                assert!(!en.trim().is_empty(), "{key} has no English text");
                assert_eq!(
                    placeholders(de),
                    placeholders(en),
                    "{key}: the placeholders differ"
                );
                assert!(
                    key.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{key}: keys are snake_case (templates read them as t.{key})"
                );
            }
        }
        assert_eq!(merged(Lang::De).len(), seen.len());
        assert_eq!(merged(Lang::En).len(), seen.len());
    }

    #[test]
    fn lookups_and_placeholders() {
        assert_eq!(t(Lang::De, "logout"), "Abmelden");
        assert_eq!(t(Lang::En, "logout"), "Log out");
        assert_eq!(t(Lang::En, "no_such_key"), "no_such_key");
        assert_eq!(
            tf(Lang::De, "sms_wrong", &[("tries", "2")]),
            "Der Code ist falsch. Sie haben noch 2 Versuche."
        );
        assert_eq!(fill("{a} und {a}", &[("a", "x")]), "x und x");
        assert_eq!(placeholders("a {x} b {y}"), ["x", "y"]);
    }

    #[test]
    fn language_from_cookie_defaults_to_german() {
        use axum::http::{HeaderMap, HeaderValue, header};
        let jar = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_str(v).unwrap());
            CookieJar::from_headers(&h)
        };
        assert_eq!(Lang::from_jar(&jar("portal_lang=en")), Lang::En);
        assert_eq!(Lang::from_jar(&jar("portal_lang=de")), Lang::De);
        assert_eq!(Lang::from_jar(&jar("portal_lang=fr")), Lang::De);
        assert_eq!(Lang::from_jar(&jar("other=1")), Lang::De);
        assert_eq!(Lang::En.other(), Lang::De);
    }
}
