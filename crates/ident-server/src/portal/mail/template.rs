//! Mail templates: subject and body with placeholders, rendered by minijinja.
//!
//! Brokers edit these texts themselves, so a mistake must surface while they
//! are still looking at the editor, not halfway through a send to three
//! hundred customers. [`MailTemplate::new`] therefore compiles both parts,
//! refuses every name that is not one of the fixed [`PLACEHOLDERS`] (strict:
//! an unknown name or an attribute lookup like `name.foo` is an error, not an
//! empty string), and renders the result against sample customers that cover
//! each placeholder filled and empty. Only a template that passed all of that
//! can be stored or sent. Rendering runs with a fuel budget and an output
//! limit, so a loop in a template cannot stall the portal.
//!
//! The placeholders hold only what the broker may see in any case (name,
//! login, address, the masked mobile number, …). Nothing secret is a
//! placeholder, so no template can put a password, code or token into a mail.

use std::collections::BTreeSet;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use thiserror::Error;

use super::recipient::Recipient;

/// One placeholder a template may use, with what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder {
    /// The name as written in the template, e.g. `anrede` for `{{ anrede }}`.
    pub name: &'static str,
    /// What it holds, in German.
    pub description_de: &'static str,
    /// What it holds, in English.
    pub description_en: &'static str,
}

/// The fixed set of placeholders, in the order the editor lists them.
pub const PLACEHOLDERS: &[Placeholder] = &[
    Placeholder {
        name: "anrede",
        description_de: "Anrede mit Namen, z. B. „Guten Tag Max Mustermann“",
        description_en: "Greeting with the name, e.g. \"Guten Tag Max Mustermann\"",
    },
    Placeholder {
        name: "name",
        description_de: "Name des Kunden",
        description_en: "The customer's name",
    },
    Placeholder {
        name: "login",
        description_de: "Loginname des Kunden (Nummer oder E-Mail-Adresse)",
        description_en: "The customer's login name (number or e-mail address)",
    },
    Placeholder {
        name: "email",
        description_de: "E-Mail-Adresse des Kunden",
        description_en: "The customer's e-mail address",
    },
    Placeholder {
        name: "vermittler",
        description_de: "Name des betreuenden Vermittlers",
        description_en: "The name of the customer's broker",
    },
    Placeholder {
        name: "portal_url",
        description_de: "Adresse des Portals, in dem sich der Kunde anmeldet",
        description_en: "Address of the portal the customer logs in to",
    },
    Placeholder {
        name: "handynummer_maskiert",
        description_de: "Hinterlegte Handynummer, gekürzt (z. B. +49 ••• 678); leer, wenn keine hinterlegt ist",
        description_en: "Mobile number on file, shortened (e.g. +49 ••• 678); empty when there is none",
    },
    Placeholder {
        name: "hat_handynummer",
        description_de: "Wahr, wenn eine Handynummer hinterlegt ist (für {% if hat_handynummer %} … {% endif %})",
        description_en: "True when a mobile number is on file (for {% if hat_handynummer %} … {% endif %})",
    },
    Placeholder {
        name: "app_eingerichtet",
        description_de: "Wahr, wenn der Kunde die Ident-App bereits eingerichtet hat",
        description_en: "True when the customer has already set up the Ident app",
    },
];

/// Longest template name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest subject template, in characters.
pub const MAX_SUBJECT_CHARS: usize = 300;
/// Longest body template, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Longest rendered subject, in characters (longer ones are refused).
pub const MAX_RENDERED_SUBJECT_CHARS: usize = 500;
/// Longest rendered body, in bytes.
pub const MAX_RENDERED_BODY_BYTES: usize = 100_000;
/// Fuel for one render: generous for a letter, far too little for a runaway loop.
const FUEL: u64 = 50_000;

/// Which part of a template an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The template's name (shown in the list, never sent).
    Name,
    /// The subject line.
    Subject,
    /// The body text.
    Body,
}

impl Part {
    fn de(self) -> &'static str {
        match self {
            Part::Name => "Der Name",
            Part::Subject => "Der Betreff",
            Part::Body => "Der Text",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Part::Name => "The name",
            Part::Subject => "The subject",
            Part::Body => "The text",
        }
    }
}

/// Why a template was refused (when saved) or could not be rendered.
///
/// [`Display`](std::fmt::Display) is the English sentence; [`TemplateError::de`]
/// the German one. Neither contains anything but the template's own text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// A part is empty.
    #[error("{} is empty.", .0.en())]
    Empty(Part),
    /// A part is longer than allowed.
    #[error("{} is too long (at most {max} characters).", .part.en())]
    TooLong {
        /// The part.
        part: Part,
        /// The limit in characters.
        max: usize,
    },
    /// The template uses a name that is not a placeholder.
    #[error("{} uses the unknown placeholder \"{name}\". Allowed: {allowed}.", .part.en(), allowed = allowed_list())]
    UnknownPlaceholder {
        /// The part.
        part: Part,
        /// The name as written (`foo` or `name.foo`).
        name: String,
    },
    /// The template does not parse.
    #[error("{} has a syntax error{}: {detail}", .part.en(), line_en(*.line))]
    Syntax {
        /// The part.
        part: Part,
        /// The line, when known.
        line: Option<usize>,
        /// minijinja's description.
        detail: String,
    },
    /// The template parses but fails when rendered (unknown filter, wrong type…).
    #[error("{} cannot be filled in{}: {detail}", .part.en(), line_en(*.line))]
    Render {
        /// The part.
        part: Part,
        /// The line, when known.
        line: Option<usize>,
        /// minijinja's description.
        detail: String,
    },
    /// Rendering ran out of fuel or produced too much text.
    #[error("{} produces too much text or work (a loop?).", .0.en())]
    TooMuchOutput(Part),
}

fn allowed_list() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn line_en(line: Option<usize>) -> String {
    line.map(|l| format!(" in line {l}")).unwrap_or_default()
}

fn line_de(line: Option<usize>) -> String {
    line.map(|l| format!(" in Zeile {l}")).unwrap_or_default()
}

impl TemplateError {
    /// The German sentence for the editor.
    pub fn de(&self) -> String {
        match self {
            TemplateError::Empty(p) => format!("{} ist leer.", p.de()),
            TemplateError::TooLong { part, max } => {
                format!("{} ist zu lang (höchstens {max} Zeichen).", part.de())
            }
            TemplateError::UnknownPlaceholder { part, name } => format!(
                "{} verwendet den unbekannten Platzhalter „{name}“. Erlaubt sind: {}.",
                part.de(),
                allowed_list()
            ),
            TemplateError::Syntax { part, line, detail } => format!(
                "{} enthält einen Syntaxfehler{}: {detail}",
                part.de(),
                line_de(*line)
            ),
            TemplateError::Render { part, line, detail } => format!(
                "{} lässt sich nicht ausfüllen{}: {detail}",
                part.de(),
                line_de(*line)
            ),
            TemplateError::TooMuchOutput(p) => format!(
                "{} erzeugt zu viel Text oder Rechenarbeit (eine Schleife?).",
                p.de()
            ),
        }
    }

    /// The part of the template the error is about.
    pub fn part(&self) -> Part {
        match self {
            TemplateError::Empty(p) | TemplateError::TooMuchOutput(p) => *p,
            TemplateError::TooLong { part, .. }
            | TemplateError::UnknownPlaceholder { part, .. }
            | TemplateError::Syntax { part, .. }
            | TemplateError::Render { part, .. } => *part,
        }
    }
}

/// A template that compiled, uses only known placeholders and rendered for
/// the sample customers: it can be stored and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    name: String,
    subject: String,
    body: String,
}

/// A subject and body filled in for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// One line, whitespace collapsed.
    pub subject: String,
    /// Plain text with `\n` line ends.
    pub body: String,
}

/// The values a template is filled with. Built from a [`Recipient`] and the
/// portal's address; every field is a placeholder of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContext {
    /// `anrede`.
    pub anrede: String,
    /// `name`.
    pub name: String,
    /// `login`.
    pub login: String,
    /// `email`.
    pub email: String,
    /// `vermittler`.
    pub vermittler: String,
    /// `portal_url`.
    pub portal_url: String,
    /// `handynummer_maskiert` (empty when none).
    pub handynummer_maskiert: String,
    /// `hat_handynummer`.
    pub hat_handynummer: bool,
    /// `app_eingerichtet`.
    pub app_eingerichtet: bool,
}

impl MailContext {
    /// The values for `recipient`, with `portal_url` as the login address.
    pub fn for_recipient(recipient: &Recipient, portal_url: &str) -> Self {
        let name = recipient.name.trim().to_owned();
        let anrede = if name.is_empty() {
            "Guten Tag".to_owned()
        } else {
            format!("Guten Tag {name}")
        };
        MailContext {
            anrede,
            name,
            login: recipient.login.clone(),
            email: recipient.email.clone().unwrap_or_default(),
            vermittler: recipient.broker_name.clone(),
            portal_url: portal_url.to_owned(),
            handynummer_maskiert: recipient.phone_masked.clone().unwrap_or_default(),
            hat_handynummer: recipient.phone_masked.is_some(),
            app_eingerichtet: recipient.enrolled,
        }
    }

    fn to_value(&self) -> Value {
        Value::from_iter([
            ("anrede", Value::from(self.anrede.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("login", Value::from(self.login.as_str())),
            ("email", Value::from(self.email.as_str())),
            ("vermittler", Value::from(self.vermittler.as_str())),
            ("portal_url", Value::from(self.portal_url.as_str())),
            (
                "handynummer_maskiert",
                Value::from(self.handynummer_maskiert.as_str()),
            ),
            ("hat_handynummer", Value::from(self.hat_handynummer)),
            ("app_eingerichtet", Value::from(self.app_eingerichtet)),
        ])
    }
}

/// Sample customers for validation and the editor's preview: one with
/// everything filled in, one with nothing optional.
pub fn sample_recipients() -> [Recipient; 2] {
    [
        Recipient {
            login: "max.mustermann@example.de".into(),
            name: "Max Mustermann".into(),
            email: Some("max.mustermann@example.de".into()),
            phone_masked: Some("+49 ••• 678".into()),
            enrolled: true,
            broker_name: "Müller Finanzberatung".into(),
        },
        Recipient {
            login: "100234".into(),
            name: "Jürgen Weiß".into(),
            email: Some("j.weiss@example.de".into()),
            phone_masked: None,
            enrolled: false,
            broker_name: "Müller Finanzberatung".into(),
        },
    ]
}

/// The portal address the samples are rendered with during validation.
const SAMPLE_PORTAL_URL: &str = "https://portal.example.de/portal/";

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Plain text mail: nothing to escape.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(50);
    env.set_keep_trailing_newline(true);
    // Block tags on their own line leave no empty line behind, as in Jinja
    // templates for text.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

fn check_len(part: Part, text: &str, max: usize) -> Result<(), TemplateError> {
    if text.trim().is_empty() {
        return Err(TemplateError::Empty(part));
    }
    if text.chars().count() > max {
        return Err(TemplateError::TooLong { part, max });
    }
    Ok(())
}

fn map_error(part: Part, e: &minijinja::Error) -> TemplateError {
    use minijinja::ErrorKind as K;
    let detail = e
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| e.kind().to_string());
    match e.kind() {
        K::SyntaxError | K::BadEscape => TemplateError::Syntax {
            part,
            line: e.line(),
            detail,
        },
        K::OutOfFuel => TemplateError::TooMuchOutput(part),
        K::UndefinedError => TemplateError::UnknownPlaceholder { part, name: detail },
        _ => TemplateError::Render {
            part,
            line: e.line(),
            detail,
        },
    }
}

/// Compiles `source` and checks that every name it reads is a placeholder.
fn check_source(env: &Environment<'_>, part: Part, source: &str) -> Result<(), TemplateError> {
    let template = env
        .template_from_str(source)
        .map_err(|e| map_error(part, &e))?;
    let allowed: BTreeSet<&str> = PLACEHOLDERS.iter().map(|p| p.name).collect();
    // Nested: `name.foo` is reported as such, and is not a placeholder.
    let mut unknown: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|n| !allowed.contains(n.as_str()))
        .collect();
    unknown.sort();
    match unknown.into_iter().next() {
        Some(name) => Err(TemplateError::UnknownPlaceholder { part, name }),
        None => Ok(()),
    }
}

fn render_part(
    env: &Environment<'_>,
    part: Part,
    source: &str,
    ctx: &Value,
) -> Result<String, TemplateError> {
    let out = env
        .render_str(source, ctx.clone())
        .map_err(|e| map_error(part, &e))?;
    Ok(out)
}

impl MailTemplate {
    /// Checks and builds a template: lengths, syntax, placeholders, and a
    /// trial render for each [`sample_recipients`] entry.
    pub fn new(
        name: impl Into<String>,
        subject: impl Into<String>,
        body: impl Into<String>,
    ) -> Result<Self, TemplateError> {
        let name = name.into().trim().to_owned();
        let subject = subject.into().trim().to_owned();
        // Browsers send CRLF from a textarea; mail bodies are stored with \n.
        let body = body.into().replace("\r\n", "\n");
        check_len(Part::Name, &name, MAX_NAME_CHARS)?;
        check_len(Part::Subject, &subject, MAX_SUBJECT_CHARS)?;
        check_len(Part::Body, &body, MAX_BODY_CHARS)?;
        let env = environment();
        check_source(&env, Part::Subject, &subject)?;
        check_source(&env, Part::Body, &body)?;
        let template = MailTemplate {
            name,
            subject,
            body,
        };
        for sample in sample_recipients() {
            let rendered = template.render_with(
                &env,
                &MailContext::for_recipient(&sample, SAMPLE_PORTAL_URL),
            )?;
            if rendered.subject.is_empty() {
                return Err(TemplateError::Empty(Part::Subject));
            }
            if rendered.body.trim().is_empty() {
                return Err(TemplateError::Empty(Part::Body));
            }
        }
        Ok(template)
    }

    /// The template's name (its title in the list; not sent).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The subject template.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body template.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Fills in the template for one customer.
    pub fn render(&self, ctx: &MailContext) -> Result<RenderedMail, TemplateError> {
        self.render_with(&environment(), ctx)
    }

    fn render_with(
        &self,
        env: &Environment<'_>,
        ctx: &MailContext,
    ) -> Result<RenderedMail, TemplateError> {
        let value = ctx.to_value();
        let subject = render_part(env, Part::Subject, &self.subject, &value)?;
        // A subject is one header line: collapse newlines and runs of spaces.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        if subject.chars().count() > MAX_RENDERED_SUBJECT_CHARS {
            return Err(TemplateError::TooMuchOutput(Part::Subject));
        }
        let body = render_part(env, Part::Body, &self.body, &value)?;
        if body.len() > MAX_RENDERED_BODY_BYTES {
            return Err(TemplateError::TooMuchOutput(Part::Body));
        }
        Ok(RenderedMail { subject, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max() -> MailContext {
        MailContext::for_recipient(&sample_recipients()[0], "https://p.example/portal/")
    }

    #[test]
    fn renders_every_placeholder_with_umlauts() {
        let body = PLACEHOLDERS
            .iter()
            .map(|p| format!("{0}=[{{{{ {0} }}}}]", p.name))
            .collect::<Vec<_>>()
            .join("\n");
        let t = MailTemplate::new("Alle", "Grüße an {{ name }}", body).unwrap();
        let mut r = sample_recipients()[0].clone();
        r.name = "Jürgen Weiß-Öztürk".into();
        let out = t
            .render(&MailContext::for_recipient(&r, "https://p.example/portal/"))
            .unwrap();
        assert_eq!(out.subject, "Grüße an Jürgen Weiß-Öztürk");
        assert_eq!(
            out.body,
            "anrede=[Guten Tag Jürgen Weiß-Öztürk]\n\
             name=[Jürgen Weiß-Öztürk]\n\
             login=[max.mustermann@example.de]\n\
             email=[max.mustermann@example.de]\n\
             vermittler=[Müller Finanzberatung]\n\
             portal_url=[https://p.example/portal/]\n\
             handynummer_maskiert=[+49 ••• 678]\n\
             hat_handynummer=[True]\n\
             app_eingerichtet=[True]"
        );
    }

    #[test]
    fn conditionals_on_the_flags() {
        let t = MailTemplate::new(
            "x",
            "Hallo",
            "{% if hat_handynummer %}Nummer {{ handynummer_maskiert }}{% else %}Keine Nummer{% endif %}",
        )
        .unwrap();
        let [with, without] = sample_recipients();
        let r = |rec: &Recipient| {
            t.render(&MailContext::for_recipient(rec, "u"))
                .unwrap()
                .body
        };
        assert_eq!(r(&with), "Nummer +49 ••• 678");
        assert_eq!(r(&without), "Keine Nummer");
    }

    #[test]
    fn unknown_placeholder_is_refused_at_save() {
        let e = MailTemplate::new("x", "Hallo", "Ihr Passwort: {{ passwort }}").unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownPlaceholder {
                part: Part::Body,
                name: "passwort".into()
            }
        );
        assert!(
            e.de().contains("unbekannten Platzhalter „passwort“"),
            "{}",
            e.de()
        );
        assert!(e.to_string().contains("unknown placeholder \"passwort\""));
        // In the subject too, and attribute lookups on a placeholder.
        let e = MailTemplate::new("x", "{{ code }}", "Text").unwrap_err();
        assert_eq!(e.part(), Part::Subject);
        let e = MailTemplate::new("x", "Hallo", "{{ name.secret }}").unwrap_err();
        assert_eq!(
            e,
            TemplateError::UnknownPlaceholder {
                part: Part::Body,
                name: "name.secret".into()
            }
        );
        // Global functions are not placeholders either.
        assert!(matches!(
            MailTemplate::new("x", "Hallo", "{{ debug() }}"),
            Err(TemplateError::UnknownPlaceholder { .. })
        ));
    }

    #[test]
    fn syntax_errors_are_refused_with_the_line() {
        let e = MailTemplate::new("x", "Hallo", "Zeile 1\nZeile 2 {{ name ").unwrap_err();
        match &e {
            TemplateError::Syntax { part, line, .. } => {
                assert_eq!(*part, Part::Body);
                assert_eq!(*line, Some(2));
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        assert!(
            e.de()
                .starts_with("Der Text enthält einen Syntaxfehler in Zeile 2")
        );
        assert!(matches!(
            MailTemplate::new("x", "Hallo", "{% if name %}offen"),
            Err(TemplateError::Syntax { .. })
        ));
    }

    #[test]
    fn runtime_errors_are_found_at_save() {
        let e = MailTemplate::new("x", "Hallo", "{{ name | gibtsnicht }}").unwrap_err();
        assert!(
            matches!(
                e,
                TemplateError::Render {
                    part: Part::Body,
                    ..
                }
            ),
            "{e:?}"
        );
        // Only on the branch of a customer without a number: the second sample finds it.
        let e = MailTemplate::new(
            "x",
            "Hallo",
            "Hallo{% if not hat_handynummer %}{{ name | gibtsnicht }}{% endif %}",
        )
        .unwrap_err();
        assert!(matches!(e, TemplateError::Render { .. }), "{e:?}");
    }

    #[test]
    fn runaway_loops_run_out_of_fuel() {
        let e = MailTemplate::new(
            "x",
            "Hallo",
            "{% for a in 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{% for b in 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{% for c in 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{{ name }}{% endfor %}{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert_eq!(e, TemplateError::TooMuchOutput(Part::Body));
    }

    #[test]
    fn empty_and_oversized_parts_are_refused() {
        assert_eq!(
            MailTemplate::new(" ", "Hallo", "Text").unwrap_err(),
            TemplateError::Empty(Part::Name)
        );
        assert_eq!(
            MailTemplate::new("x", "  ", "Text").unwrap_err(),
            TemplateError::Empty(Part::Subject)
        );
        assert_eq!(
            MailTemplate::new("x", "Hallo", "\n\n").unwrap_err(),
            TemplateError::Empty(Part::Body)
        );
        let long = "ä".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(
            MailTemplate::new("x", "Hallo", long).unwrap_err(),
            TemplateError::TooLong {
                part: Part::Body,
                max: MAX_BODY_CHARS
            }
        );
        // Exactly at the limit (counted in characters, not bytes) is fine.
        assert!(MailTemplate::new("x", "Hallo", "ä".repeat(MAX_BODY_CHARS)).is_ok());
        // A subject that renders to nothing is refused too.
        assert_eq!(
            MailTemplate::new("x", "{% if false %}x{% endif %}", "Text").unwrap_err(),
            TemplateError::Empty(Part::Subject)
        );
    }

    #[test]
    fn subject_is_one_line_and_body_keeps_its_lines() {
        let t = MailTemplate::new("x", "Hallo\n  {{ name }}", "a\r\nb\r\n\r\nc\n").unwrap();
        assert_eq!(t.body(), "a\nb\n\nc\n");
        let out = t.render(&max()).unwrap();
        assert_eq!(out.subject, "Hallo Max Mustermann");
        assert_eq!(out.body, "a\nb\n\nc\n");
    }

    #[test]
    fn no_html_escaping_in_plain_text() {
        let mut r = sample_recipients()[0].clone();
        r.name = "Anna & Bernd <Müller>".into();
        let t = MailTemplate::new("x", "{{ name }}", "{{ name }}").unwrap();
        let out = t.render(&MailContext::for_recipient(&r, "u")).unwrap();
        assert_eq!(out.body, "Anna & Bernd <Müller>");
    }

    #[test]
    fn anrede_without_a_name() {
        let mut r = sample_recipients()[0].clone();
        r.name = "  ".into();
        assert_eq!(MailContext::for_recipient(&r, "u").anrede, "Guten Tag");
    }
}
