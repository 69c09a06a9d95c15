//! Bootstrap operations run from the command line (`ident-server admin …`,
//! `ident-server demo`): API keys and users, written straight into the
//! database. The same rules as the API apply (parsed types, audit entries):
//! `POST /api/v1/users` uses [`UserSpec::check`], [`resolve_broker`] and
//! [`insert_user`] too. [`seed_demo`] fills a database for `ident-server demo`.

use ident_core::jose::b64;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;
use thiserror::Error;

use crate::domain::{LoginName, PhoneNumber, Role};
use crate::password;
use crate::store::{ChangedBy, NewAuditEntry, NewUser, Store, StoreError, User, UserId};

/// Why an admin operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A value is invalid: `field` names it (`login`, `phone`, …), `message`
    /// says why without repeating the value.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (or command-line option without dashes).
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The named broker does not exist or is not a broker.
    #[error("there is no broker with the login {0}")]
    NoSuchBroker(String),
    /// The login is taken.
    #[error("the login {0} is already taken")]
    LoginTaken(String),
    /// The login was a deleted user's and is not given again.
    #[error("the login {0} belonged to a deleted user and is not given again")]
    LoginRetired(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid {
        field,
        message: message.to_string(),
    }
}

/// A freshly made API key. The key itself is shown once and never stored.
#[derive(Debug)]
pub struct NewApiKey {
    /// Database id.
    pub id: i64,
    /// The key to give the portal (`ik_…`).
    pub key: zeroize::Zeroizing<String>,
}

/// The SHA-256 of an API key, as stored.
pub fn api_key_hash(key: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, key.as_bytes()).as_ref());
    out
}

/// Creates an API key named `name`.
pub fn create_api_key(store: &dyn Store, name: &str, now: i64) -> Result<NewApiKey, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(invalid(
            "name",
            "an API key needs a name of 1 to 100 characters",
        ));
    }
    let mut raw = [0u8; 32];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| StoreError::Db("no randomness".into()))?;
    let key = zeroize::Zeroizing::new(format!("ik_{}", b64::encode(&raw)));
    let id = store.create_api_key(name, &api_key_hash(&key), now)?;
    store.audit(
        &NewAuditEntry {
            actor: "admin-cli".into(),
            action: "api_key.created",
            user_id: None,
            detail: json!({"id": id, "name": name}),
        },
        now,
    )?;
    Ok(NewApiKey { id, key })
}

/// A user to create, as typed on the command line or sent to
/// `POST /api/v1/users`: unparsed text.
#[derive(Debug, Clone)]
pub struct UserSpec {
    /// Login name.
    pub login: String,
    /// Display name (defaults to the login).
    pub name: Option<String>,
    /// Role.
    pub role: Role,
    /// The broker's login (required unless the role is broker).
    pub broker: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Password.
    pub password: zeroize::Zeroizing<String>,
}

/// A [`UserSpec`] whose values are parsed and valid; the broker is not yet
/// looked up and the password not yet hashed.
#[derive(Debug, Clone)]
pub struct CheckedUser {
    /// Login name.
    pub login: LoginName,
    /// Display name, trimmed.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The broker's login; `Some` exactly when the role needs a broker.
    pub broker: Option<LoginName>,
    /// E-mail address, normalised.
    pub email: Option<String>,
    /// Mobile number.
    pub phone: Option<PhoneNumber>,
}

impl UserSpec {
    /// Parses every value; the first bad one is reported by its field name.
    pub fn check(&self) -> Result<CheckedUser, AdminError> {
        let login = LoginName::parse(&self.login).map_err(|e| invalid("login", e))?;
        let display_name = check_display_name(self.name.as_deref(), &login)?;
        let broker = match (&self.broker, self.role) {
            (Some(_), Role::Broker) => return Err(invalid("broker", "a broker has no broker")),
            (None, r) if r.needs_broker() => {
                return Err(invalid(
                    "broker",
                    format!("a user with the role {} needs a broker", r.as_str()),
                ));
            }
            (None, _) => None,
            (Some(b), _) => Some(LoginName::parse(b).map_err(|e| invalid("broker", e))?),
        };
        let email = check_email(self.email.as_deref())?;
        let phone = self
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| invalid("phone", e))?;
        check_password_length(&self.password)?;
        Ok(CheckedUser {
            login,
            display_name,
            role: self.role,
            broker,
            email,
            phone,
        })
    }
}

/// A display name, trimmed: empty or absent means the login; at most 200
/// characters and no control characters.
pub fn check_display_name(name: Option<&str>, login: &LoginName) -> Result<String, AdminError> {
    match name.map(str::trim) {
        None | Some("") => Ok(login.to_string()),
        Some(n) if n.chars().count() > 200 || n.chars().any(char::is_control) => Err(invalid(
            "display_name",
            "a display name has at most 200 characters and no control characters",
        )),
        Some(n) => Ok(n.to_owned()),
    }
}

/// An e-mail address, normalised like a login; empty or absent means none.
pub fn check_email(email: Option<&str>) -> Result<Option<String>, AdminError> {
    email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            LoginName::parse(e)
                .ok()
                .filter(|l| l.as_str().contains('@'))
                .map(String::from)
                .ok_or_else(|| invalid("email", "this is not an e-mail address"))
        })
        .transpose()
}

/// A new password has 8 to 256 characters (checked before the hashing work).
pub fn check_password_length(password: &str) -> Result<(), AdminError> {
    if (8..=256).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(invalid("password", password::PasswordError::Length))
    }
}

/// Looks up the broker `user` names: `NoSuchBroker` unless it is a broker.
pub fn resolve_broker(store: &dyn Store, user: &CheckedUser) -> Result<Option<User>, AdminError> {
    let Some(login) = &user.broker else {
        return Ok(None);
    };
    store
        .user_by_login(login)?
        .filter(|u| u.role == Role::Broker)
        .map(Some)
        .ok_or_else(|| AdminError::NoSuchBroker(login.to_string()))
}

/// Hashes the password (Argon2id: run it off the async threads) and creates
/// the checked user under `broker`, audited as made `by`.
pub fn insert_user(
    store: &dyn Store,
    user: &CheckedUser,
    broker: Option<&User>,
    password: &str,
    by: &ChangedBy,
    now: i64,
) -> Result<UserId, AdminError> {
    let password_hash = password::hash(password).map_err(|e| invalid("password", e))?;
    let new = NewUser {
        login: user.login.clone(),
        display_name: user.display_name.clone(),
        password_hash,
        role: user.role,
        broker_id: broker.map(|b| b.id),
        email: user.email.clone(),
        phone: user.phone.clone(),
    };
    store
        .create_user_audited(&new, by, now)
        .map_err(|e| match e {
            StoreError::Conflict(_) => AdminError::LoginTaken(user.login.to_string()),
            StoreError::Retired => AdminError::LoginRetired(user.login.to_string()),
            StoreError::NotFound => AdminError::NoSuchBroker(
                user.broker
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            other => AdminError::Store(other),
        })
}

/// The audit identity of the command line.
fn cli() -> ChangedBy {
    ChangedBy {
        actor: "admin-cli".into(),
        via: None,
    }
}

/// Creates a user from the command line.
pub fn create_user(store: &dyn Store, spec: &UserSpec, now: i64) -> Result<UserId, AdminError> {
    let user = spec.check()?;
    let broker = resolve_broker(store, &user)?;
    insert_user(store, &user, broker.as_ref(), &spec.password, &cli(), now)
}

/// One user of the demo data.
#[derive(Debug)]
pub struct DemoUser {
    /// Login name.
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Mobile number on file (fictitious).
    pub phone: Option<String>,
    /// The password, when it was made in this run (random; shown once).
    pub password: Option<zeroize::Zeroizing<String>>,
}

/// What [`seed_demo`] made.
#[derive(Debug)]
pub struct DemoData {
    /// A new API key for the demo portal (shown once).
    pub api_key: zeroize::Zeroizing<String>,
    /// Whether the users were created now (`false`: the database already had users).
    pub seeded: bool,
    /// The demo users that exist, broker first.
    pub users: Vec<DemoUser>,
}

/// One row of the demo cast: (login, display name, role, broker login, phone, e-mail).
type DemoRow = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// The demo cast (fictitious people, numbers and addresses).
const DEMO_USERS: [DemoRow; 5] = [
    (
        "1000",
        "Maklerbüro Schmidt",
        Role::Broker,
        None,
        Some("+49 151 23456789"),
        Some("info@maklerbuero-schmidt.example"),
    ),
    (
        "1001",
        "Anna Becker",
        Role::Employee,
        Some("1000"),
        Some("+49 160 12345678"),
        Some("anna.becker@maklerbuero-schmidt.example"),
    ),
    (
        "1002",
        "Jonas Weber (Untervermittler)",
        Role::SubBroker,
        Some("1000"),
        Some("+49 170 1234567"),
        None,
    ),
    (
        "max.mustermann@example.de",
        "Max Mustermann",
        Role::Customer,
        Some("1000"),
        Some("+49 171 2345678"),
        Some("max.mustermann@example.de"),
    ),
    (
        "erika.musterfrau@example.de",
        "Erika Musterfrau",
        Role::Customer,
        Some("1000"),
        None,
        Some("erika.musterfrau@example.de"),
    ),
];

fn random_password() -> Result<zeroize::Zeroizing<String>, AdminError> {
    let mut raw = zeroize::Zeroizing::new([0u8; 12]);
    SystemRandom::new()
        .fill(raw.as_mut())
        .map_err(|_| StoreError::Db("no randomness".into()))?;
    Ok(zeroize::Zeroizing::new(b64::encode(raw.as_ref())))
}

/// Fills an empty database with demo data: a broker (Maklerbüro Schmidt,
/// login 1000), an employee, a sub-broker and two customers (one without a
/// mobile number), each with a fresh random password, and an API key.
/// A database that already has users is not seeded again; it only gets a new
/// API key (the old one cannot be shown: only its hash is stored), and the
/// existing demo users are listed without passwords.
pub fn seed_demo(store: &dyn Store, now: i64) -> Result<DemoData, AdminError> {
    let seeded = store.user_count()? == 0;
    let mut users = Vec::new();
    for (login, name, role, broker, phone, email) in DEMO_USERS {
        let password = if seeded {
            let password = random_password()?;
            let spec = UserSpec {
                login: login.into(),
                name: Some(name.into()),
                role,
                broker: broker.map(str::to_owned),
                phone: phone.map(str::to_owned),
                email: email.map(str::to_owned),
                password: password.clone(),
            };
            let user = spec.check()?;
            let broker = resolve_broker(store, &user)?;
            let by = ChangedBy {
                actor: "demo".into(),
                via: None,
            };
            insert_user(store, &user, broker.as_ref(), &password, &by, now)?;
            Some(password)
        } else {
            None
        };
        let login = LoginName::parse(login).map_err(|e| invalid("login", e))?;
        if let Some(u) = store.user_by_login(&login)? {
            users.push(DemoUser {
                login: u.login.to_string(),
                display_name: u.display_name,
                role: u.role,
                phone: u.phone.map(String::from),
                password,
            });
        }
    }
    let api_key = create_api_key(store, "Demo-Portal", now)?.key;
    Ok(DemoData {
        api_key,
        seeded,
        users,
    })
}

impl DemoData {
    /// How to use the demo, for people: logins, passwords, the API key and
    /// a few `curl` calls against `base_url`.
    pub fn instructions(&self, base_url: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let key = self.api_key.as_str();
        let _ = writeln!(out, "Ident demo server: {base_url}");
        let _ = writeln!(out);
        let _ = writeln!(out, "API key (Authorization: Bearer …):\n  {key}");
        let _ = writeln!(out);
        if self.seeded {
            let _ = writeln!(out, "Demo users (passwords are random and shown only now):");
        } else {
            let _ = writeln!(
                out,
                "The database already had users; nothing was added but a new API key.\n\
                 Demo users found (their passwords were shown when they were created):"
            );
        }
        for u in &self.users {
            let _ = writeln!(
                out,
                "  {:<30} {:<12} {:<32} phone: {:<16} password: {}",
                u.login,
                u.role.as_str(),
                u.display_name,
                u.phone.as_deref().unwrap_or("—"),
                u.password.as_ref().map_or("(unchanged)", |p| p.as_str()),
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Try it:");
        let _ = writeln!(out, "  export IDENT=\"{base_url}\" KEY=\"{key}\"");
        let _ = writeln!(
            out,
            "  # the broker's customers without a mobile number, as the broker's employee\n  \
             curl -s -H \"Authorization: Bearer $KEY\" -H \"Ident-Actor: 1001\" \"$IDENT/api/v1/brokers/1000/customers?phone=without\""
        );
        let _ = writeln!(
            out,
            "  # the employee enters Erika's mobile number (customers cannot)\n  \
             curl -s -X PUT -H \"Authorization: Bearer $KEY\" -H \"Ident-Actor: 1001\" \
             -H \"Content-Type: application/json\" -d '{{\"phone\": \"0151 98765432\"}}' \
             \"$IDENT/api/v1/users/erika.musterfrau@example.de/phone\""
        );
        let _ = writeln!(
            out,
            "  # Max sets his own 2FA interval to 30 days\n  \
             curl -s -X PUT -H \"Authorization: Bearer $KEY\" -H \"Ident-Actor: max.mustermann@example.de\" \
             -H \"Content-Type: application/json\" -d '{{\"days\": 30}}' \
             \"$IDENT/api/v1/users/max.mustermann@example.de/interval\""
        );
        let broker_password = self
            .users
            .first()
            .and_then(|u| u.password.as_ref())
            .map_or("…", |p| p.as_str());
        let _ = writeln!(
            out,
            "  # check the broker's password (the portal's first factor)\n  \
             curl -s -X POST -H \"Authorization: Bearer $KEY\" -H \"Content-Type: application/json\" \
             -d '{{\"login\": \"1000\", \"password\": \"{broker_password}\"}}' \"$IDENT/api/v1/login/password\""
        );
        let _ = writeln!(
            out,
            "  # the whole API\n  curl -s -H \"Authorization: Bearer $KEY\" \"$IDENT/api/v1/openapi.json\""
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditStore, KeyStore, SqliteStore, UserStore};

    fn spec(login: &str, role: Role, broker: Option<&str>) -> UserSpec {
        UserSpec {
            login: login.into(),
            name: None,
            role,
            broker: broker.map(str::to_owned),
            phone: Some("0151 12345678".into()),
            email: None,
            password: zeroize::Zeroizing::new("demo-passwort".into()),
        }
    }

    #[test]
    fn api_key_is_stored_only_as_hash() {
        let s = SqliteStore::open_in_memory().unwrap();
        let k = create_api_key(&s, "Portal", 1).unwrap();
        assert!(k.key.starts_with("ik_"));
        assert_eq!(k.key.len(), 3 + 43);
        assert_eq!(
            s.api_key_by_hash(&api_key_hash(&k.key))
                .unwrap()
                .unwrap()
                .id,
            k.id
        );
        assert!(create_api_key(&s, "  ", 1).is_err());
    }

    #[test]
    fn users_need_the_right_broker() {
        let s = SqliteStore::open_in_memory().unwrap();
        create_user(&s, &spec("1000", Role::Broker, None), 1).unwrap();
        create_user(&s, &spec("2000", Role::Customer, Some("1000")), 1).unwrap();
        assert!(matches!(
            create_user(&s, &spec("2001", Role::Customer, Some("2000")), 1),
            Err(AdminError::NoSuchBroker(_))
        ));
        assert!(matches!(
            create_user(&s, &spec("2002", Role::Customer, None), 1),
            Err(AdminError::Invalid {
                field: "broker",
                ..
            })
        ));
        assert!(matches!(
            create_user(&s, &spec("1000", Role::Broker, None), 1),
            Err(AdminError::LoginTaken(_))
        ));
        let mut bad_phone = spec("2003", Role::Customer, Some("1000"));
        bad_phone.phone = Some("030 1234567".into());
        assert!(matches!(
            create_user(&s, &bad_phone, 1),
            Err(AdminError::Invalid { field: "phone", .. })
        ));
        let u = s
            .user_by_login(&LoginName::parse("2000").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(u.phone.unwrap().as_str(), "+4915112345678");
        assert_eq!(s.audit_log(None, 10).unwrap().len(), 2);
    }

    #[test]
    fn demo_seeds_once_and_prints_how_to_use_it() {
        let s = SqliteStore::open_in_memory().unwrap();
        let d = seed_demo(&s, 1).unwrap();
        assert!(d.seeded);
        assert_eq!(d.users.len(), 5);
        let roles: Vec<Role> = d.users.iter().map(|u| u.role).collect();
        assert_eq!(
            roles,
            [
                Role::Broker,
                Role::Employee,
                Role::SubBroker,
                Role::Customer,
                Role::Customer
            ]
        );
        assert_eq!(d.users[0].display_name, "Maklerbüro Schmidt");
        assert_eq!(d.users[0].login, "1000");
        assert!(d.users[3].login.contains('@') && d.users[3].phone.is_some());
        assert!(d.users[4].login.contains('@') && d.users[4].phone.is_none());
        for u in &d.users {
            let pw = u.password.as_ref().unwrap();
            let user = s
                .user_by_login(&LoginName::parse(&u.login).unwrap())
                .unwrap()
                .unwrap();
            assert!(password::verify(
                pw,
                &s.password_hash(user.id).unwrap().unwrap()
            ));
        }
        assert!(
            s.api_key_by_hash(&api_key_hash(&d.api_key))
                .unwrap()
                .is_some()
        );
        let text = d.instructions("http://127.0.0.1:8080");
        assert!(text.contains(d.api_key.as_str()));
        assert!(
            text.contains("http://127.0.0.1:8080/api/v1/openapi.json")
                || text.contains("$IDENT/api/v1/openapi.json")
        );
        for u in &d.users {
            assert!(text.contains(&u.login));
            assert!(text.contains(u.password.as_ref().unwrap().as_str()));
        }

        // a second run finds users: nothing re-seeded, a new key, no passwords
        let again = seed_demo(&s, 2).unwrap();
        assert!(!again.seeded);
        assert_eq!(s.user_count().unwrap(), 5);
        assert_eq!(again.users.len(), 5);
        assert!(again.users.iter().all(|u| u.password.is_none()));
        assert_ne!(again.api_key.as_str(), d.api_key.as_str());
        assert!(again.instructions("http://x").contains("already had users"));
    }
}
