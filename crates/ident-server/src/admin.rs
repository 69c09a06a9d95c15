//! Bootstrap operations run from the command line (`ident-server admin …`,
//! `ident-server demo`): API keys and users, written straight into the
//! database. The same rules as the API apply (parsed types, audit entries).

use ident_core::jose::b64;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;
use thiserror::Error;

use crate::domain::{LoginName, PhoneNumber, Role};
use crate::password;
use crate::store::{NewAuditEntry, NewUser, Store, StoreError, UserId};

/// Why an admin operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdminError {
    /// An argument is invalid; the text says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The named broker does not exist or is not a broker.
    #[error("there is no broker with the login {0}")]
    NoSuchBroker(String),
    /// The login is taken.
    #[error("the login {0} is already taken")]
    LoginTaken(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
        return Err(AdminError::Invalid(
            "an API key needs a name of 1 to 100 characters".into(),
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

/// What `create_user` needs, as typed on the command line.
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

/// Creates a user.
pub fn create_user(store: &dyn Store, spec: &UserSpec, now: i64) -> Result<UserId, AdminError> {
    let login = LoginName::parse(&spec.login).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let phone = spec
        .phone
        .as_deref()
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let broker_id = match (&spec.broker, spec.role) {
        (Some(_), Role::Broker) => {
            return Err(AdminError::Invalid("a broker has no broker".into()));
        }
        (None, r) if r.needs_broker() => {
            return Err(AdminError::Invalid(format!(
                "a user with the role {} needs --broker",
                r.as_str()
            )));
        }
        (None, _) => None,
        (Some(b), _) => {
            let bl = LoginName::parse(b).map_err(|_| AdminError::NoSuchBroker(b.clone()))?;
            let broker = store
                .user_by_login(&bl)?
                .filter(|u| u.role == Role::Broker)
                .ok_or_else(|| AdminError::NoSuchBroker(b.clone()))?;
            Some(broker.id)
        }
    };
    let password_hash =
        password::hash(&spec.password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = NewUser {
        display_name: spec.name.clone().unwrap_or_else(|| login.to_string()),
        login: login.clone(),
        password_hash,
        role: spec.role,
        broker_id,
        email: spec.email.clone(),
        phone,
    };
    let id = store.create_user(&user, now).map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::LoginTaken(login.to_string()),
        other => AdminError::Store(other),
    })?;
    store.audit(
        &NewAuditEntry {
            actor: "admin-cli".into(),
            action: "user.created",
            user_id: Some(id),
            detail: json!({"login": login.as_str(), "role": spec.role.as_str(),
                           "has_phone": user.phone.is_some()}),
        },
        now,
    )?;
    Ok(id)
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
        assert_eq!(s.api_key_by_hash(&api_key_hash(&k.key)).unwrap().unwrap().id, k.id);
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
            Err(AdminError::Invalid(_))
        ));
        assert!(matches!(
            create_user(&s, &spec("1000", Role::Broker, None), 1),
            Err(AdminError::LoginTaken(_))
        ));
        let mut bad_phone = spec("2003", Role::Customer, Some("1000"));
        bad_phone.phone = Some("030 1234567".into());
        assert!(matches!(create_user(&s, &bad_phone, 1), Err(AdminError::Invalid(_))));
        let u = s
            .user_by_login(&LoginName::parse("2000").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(u.phone.unwrap().as_str(), "+4915112345678");
        assert_eq!(s.audit_log(None, 10).unwrap().len(), 2);
    }
}
