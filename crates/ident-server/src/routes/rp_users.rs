//! The relying-party management API: users (create, show, edit, delete,
//! password), mobile numbers, 2FA intervals, a broker's customer list, push
//! unlocks, a user's audit log, and the first-factor password check.
//!
//! Every route needs the portal's API key. A call that carries
//! `Ident-Actor: <login>` acts for that portal user and gets exactly that
//! user's rights ([`crate::services::authz`] decides, nowhere else); without
//! the header it is the portal's administrative context. Request bodies are
//! parsed field by field ([`JsonObject`]) so that a refusal names the field and
//! never repeats the value (it may be a password or a phone number).
//!
//! A change of one user loads its target, checks the rule and writes inside
//! one write transaction ([`atomically`]), so no other writer (a role
//! change, a deletion) comes between the check and the change. A phone or interval
//! change first revokes the user's trusted browsers and then writes the
//! change and its audit entry, each step a savepoint: if the second fails,
//! the user is merely asked for the second factor again, never trusted under
//! an old setting.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};

use crate::admin::{self, AdminError, UserSpec};
use crate::domain::{LoginName, PhoneNumber, Role, TwoFactorInterval};
use crate::password;
use crate::problem::{ApiError, ProblemBody};
use crate::routes::api_key::RpClient;
use crate::services::authz::{self, Denied, PasswordChange};
use crate::state::AppState;
use crate::store::{
    AttemptVerdict, AuditEntry, ChangedBy, CustomerFilter, Deletion, ProfileChange, Store,
    StoreError, User, UserId, UserWithDevices,
};

/// The header naming the portal user a call acts for.
pub const ACTOR_HEADER: &str = "Ident-Actor";

/// Wrong passwords per login within [`PASSWORD_WINDOW_SECS`] before
/// `POST /api/v1/login/password` answers 429.
pub const MAX_PASSWORD_ATTEMPTS: u32 = 5;

/// The window of [`MAX_PASSWORD_ATTEMPTS`]: 15 minutes.
pub const PASSWORD_WINDOW_SECS: i64 = 15 * 60;

/// Most audit entries one call returns; the default is 50.
pub const MAX_AUDIT_LIMIT: u32 = 500;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", post(create_user))
        .route(
            "/api/v1/users/{login}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/api/v1/users/{login}/password", put(change_password))
        .route(
            "/api/v1/users/{login}/phone",
            put(set_phone).delete(delete_phone),
        )
        .route("/api/v1/users/{login}/interval", put(set_interval))
        .route("/api/v1/users/{login}/push-unlock", post(push_unlock))
        .route("/api/v1/users/{login}/audit", get(audit_log))
        .route("/api/v1/brokers/{login}/customers", get(list_customers))
        .route(
            "/api/v1/brokers/{login}/customers/interval",
            put(set_customers_interval),
        )
        .route("/api/v1/login/password", post(check_password))
}

/// The OpenAPI description of this module's paths (merged by
/// [`crate::routes::openapi`]).
#[derive(OpenApi)]
#[openapi(
    paths(
        create_user,
        get_user,
        update_user,
        change_password,
        delete_user,
        set_phone,
        delete_phone,
        set_interval,
        set_customers_interval,
        list_customers,
        push_unlock,
        audit_log,
        check_password
    ),
    components(schemas(
        CreateUserBody,
        UpdateUserBody,
        PasswordChangeBody,
        PhoneBody,
        IntervalBody,
        PasswordBody,
        UserView,
        PasswordOk,
        CustomerList,
        BulkIntervalResult,
        AuditList,
        AuditEntryView,
        Role
    )),
    tags((name = "users", description = "Users, mobile numbers, 2FA intervals, push locks, audit log")),
)]
pub struct RpUsersApi;

// ---------------------------------------------------------------------------
// The acting user

/// A relying-party call and the portal user it acts for, if any.
#[derive(Debug, Clone)]
pub struct RpCaller {
    /// The authenticated portal.
    pub client: RpClient,
    /// The user named by `Ident-Actor`; `None`: the portal's administrative context.
    pub actor: Option<User>,
}

impl RpCaller {
    /// Who the audit log names for changes made by this call.
    pub fn changed_by(&self) -> ChangedBy {
        match &self.actor {
            Some(u) => ChangedBy {
                actor: format!("user:{}", u.login),
                via: Some(self.client.name.clone()),
            },
            None => ChangedBy {
                actor: self.client.actor(),
                via: None,
            },
        }
    }
}

impl FromRequestParts<AppState> for RpCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The API key first: without one, the answer is 401 whatever the header says.
        let client = RpClient::from_request_parts(parts, state).await?;
        let Some(value) = parts.headers.get(ACTOR_HEADER) else {
            return Ok(Self {
                client,
                actor: None,
            });
        };
        let login = value
            .to_str()
            .ok()
            .and_then(|s| LoginName::parse(s).ok())
            .ok_or_else(ApiError::actor_unknown)?;
        let actor = state
            .db(move |s| s.user_by_login(&login))
            .await?
            .ok_or_else(ApiError::actor_unknown)?;
        Ok(Self {
            client,
            actor: Some(actor),
        })
    }
}

// ---------------------------------------------------------------------------
// Request bodies

/// A JSON object request body, taken apart field by field so each refusal
/// names its field and never echoes a value.
struct JsonObject(Map<String, Value>);

impl JsonObject {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::validation_failed(
                "body",
                "the body must be a JSON object",
            )),
            Err(_) => Err(ApiError::bad_request("The body is not valid JSON.")),
        }
    }

    /// An optional string field (`null` counts as absent).
    fn opt_str(&mut self, field: &'static str) -> Result<Option<String>, ApiError> {
        match self.0.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::validation_failed(field, "must be a string")),
        }
    }

    /// A string field that may be `null`: absent → `None`, `null` →
    /// `Some(None)`, a string → `Some(Some(..))` (for edits that can remove a value).
    fn nullable_str(&mut self, field: &'static str) -> Result<Option<Option<String>>, ApiError> {
        match self.0.remove(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s))),
            Some(_) => Err(ApiError::validation_failed(
                field,
                "must be a string or null",
            )),
        }
    }

    fn str(&mut self, field: &'static str) -> Result<String, ApiError> {
        self.opt_str(field)?
            .ok_or_else(|| ApiError::validation_failed(field, "is required"))
    }

    fn days(&mut self, field: &'static str) -> Result<TwoFactorInterval, ApiError> {
        let why = "must be a whole number of days from 0 (always ask) to 90";
        match self.0.remove(field) {
            None | Some(Value::Null) => Err(ApiError::validation_failed(field, "is required")),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .and_then(|d| TwoFactorInterval::days(d).ok())
                .ok_or_else(|| ApiError::validation_failed(field, why)),
            Some(_) => Err(ApiError::validation_failed(field, why)),
        }
    }

    /// Refuses fields nobody asked for (typos would otherwise pass silently).
    fn finish(self) -> Result<(), ApiError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(k) => {
                let k: String = k.chars().take(40).collect();
                Err(ApiError::validation_failed(
                    "body",
                    format!("unknown field `{k}`"),
                ))
            }
        }
    }
}

/// `POST /api/v1/users`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body; it is parsed by `JsonObject`
pub struct CreateUserBody {
    /// A number (up to 20 digits) or an e-mail address.
    #[schema(example = "max.mustermann@example.de")]
    login: String,
    /// Name to show; defaults to the login.
    display_name: Option<String>,
    /// The role.
    role: Role,
    /// The login of the user's broker; required unless the role is `broker`.
    #[schema(example = "1000")]
    broker: Option<String>,
    /// E-mail address for customer mail.
    email: Option<String>,
    /// Mobile number; German numbers need no country code. Stored as E.164.
    #[schema(example = "0151 23456789")]
    phone: Option<String>,
    /// 8 to 256 characters; stored as an Argon2id hash.
    password: String,
}

/// `PATCH /api/v1/users/{login}`: at least one field.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UpdateUserBody {
    /// Name to show; `null` or empty: the login.
    display_name: Option<String>,
    /// E-mail address for customer mail; `null` or empty removes it.
    email: Option<String>,
    /// `employee`, `sub_broker` or `customer`; only by the user's broker or
    /// the administrative context, never to or from `broker`.
    role: Option<Role>,
}

/// `PUT /api/v1/users/{login}/password`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PasswordChangeBody {
    /// The new password: 8 to 256 characters.
    password: String,
    /// The current password; required when users change their own
    /// (`Ident-Actor` is the user), not needed in the administrative context.
    current_password: Option<String>,
}

/// `PUT /api/v1/users/{login}/phone`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PhoneBody {
    /// A mobile number; German numbers need no country code.
    #[schema(example = "0151 23456789")]
    phone: String,
}

/// `PUT …/interval`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct IntervalBody {
    /// Days a known browser is not asked again: 0 (always ask) to 90.
    #[schema(minimum = 0, maximum = 90, example = 30)]
    days: u32,
}

/// `POST /api/v1/login/password`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PasswordBody {
    /// The login name.
    login: String,
    /// The password.
    password: String,
}

// ---------------------------------------------------------------------------
// Responses

/// A user as the relying-party API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Login name (normalised: e-mail addresses lower-cased).
    pub login: String,
    /// Name to show.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The broker's login; `null` for brokers.
    pub broker: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Mobile number in E.164, `null` when none is on file.
    pub phone: Option<String>,
    /// 2FA interval in days (0 = always ask).
    pub interval_days: u32,
    /// Whether push logins are locked (after "not me" or repeated denials).
    pub push_locked: bool,
    /// When push was locked.
    pub push_locked_at: Option<i64>,
    /// Why: `not_me` or `denials`.
    pub push_lock_reason: Option<String>,
    /// Whether the user has an active (enrolled) device.
    pub enrolled: bool,
    /// Creation time (Unix seconds).
    pub created_at: i64,
}

/// The answer to a correct password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordOk {
    /// The user.
    pub user: UserView,
}

/// A broker's customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    /// How many matched.
    pub count: usize,
    /// The customers, by login.
    pub customers: Vec<UserView>,
}

/// The result of setting the interval of all of a broker's customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkIntervalResult {
    /// How many customers had a different interval and were changed.
    pub changed: usize,
    /// The interval every customer of the broker now has.
    pub interval_days: u32,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Increasing id.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: `user:<login>`, `api-key:<name>`, `device:<id>`, `system`, `admin-cli`.
    pub actor: String,
    /// What, e.g. `phone.changed`, `interval.changed`, `push.unlocked`.
    pub action: String,
    /// Extra facts (never secrets; phone numbers masked).
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// A user's audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// The entries.
    pub entries: Vec<AuditEntryView>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// Runs `f` on the blocking pool (storage and Argon2id must not block the
/// async threads), with `ApiError` as the error.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, ApiError> + Send + 'static,
{
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            ApiError::internal()
        })?
}

/// [`blocking`], with `f` inside one write transaction (the store's group):
/// what it loads and checks is what it changes. The acting user is read
/// again inside it too (the extractor read them before), so a role change
/// or deletion of the actor cannot slip in either. Each store call in `f` is
/// a savepoint; a refusal returned after some of them keeps those.
async fn atomically<T, F>(state: &AppState, caller: RpCaller, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store, &RpCaller) -> Result<T, ApiError> + Send + 'static,
{
    blocking(state, move |s| {
        let mut f = Some(f);
        let mut out = None;
        s.group(&mut || {
            if let Some(f) = f.take() {
                out = Some(fresh_actor(s, &caller).and_then(|caller| f(s, &caller)));
            }
        })?;
        out.unwrap_or_else(|| Err(ApiError::internal()))
    })
    .await
}

/// `caller` with its acting user as stored now: `actor-unknown` if they
/// were deleted meanwhile.
fn fresh_actor(s: &dyn Store, caller: &RpCaller) -> Result<RpCaller, ApiError> {
    let actor = match &caller.actor {
        None => None,
        Some(a) => Some(s.user(a.id)?.ok_or_else(ApiError::actor_unknown)?),
    };
    Ok(RpCaller {
        client: caller.client.clone(),
        actor,
    })
}

/// Counts a password attempt for `login` before the password is checked
/// (the login's check and a user's own password change share the limit):
/// `too-many-attempts` when [`MAX_PASSWORD_ATTEMPTS`] are already counted
/// within [`PASSWORD_WINDOW_SECS`].
fn count_password_attempt(s: &dyn Store, login: &LoginName, now: i64) -> Result<(), ApiError> {
    match s.begin_password_attempt(login, now, PASSWORD_WINDOW_SECS, MAX_PASSWORD_ATTEMPTS)? {
        AttemptVerdict::Allowed => Ok(()),
        AttemptVerdict::Refused { retry_after } => Err(ApiError::too_many_attempts(
            u64::try_from(retry_after).unwrap_or(1),
        )),
    }
}

fn forbidden(d: Denied) -> ApiError {
    ApiError::forbidden(d)
}

fn path_login(login: &str) -> Result<LoginName, ApiError> {
    LoginName::parse(login).map_err(|_| ApiError::not_found("The user"))
}

fn load(store: &dyn Store, login: &LoginName) -> Result<UserWithDevices, ApiError> {
    store
        .user_with_devices(login)?
        .ok_or_else(|| ApiError::not_found("The user"))
}

fn load_broker(store: &dyn Store, login: &LoginName) -> Result<User, ApiError> {
    store
        .user_by_login(login)?
        .filter(|u| u.role == Role::Broker)
        .ok_or_else(|| ApiError::not_found("The broker"))
}

fn view(store: &dyn Store, u: UserWithDevices) -> Result<UserView, ApiError> {
    let broker = match u.user.broker_id {
        Some(id) => store.user(id)?.map(|b| b.login.to_string()),
        None => None,
    };
    let user = u.user;
    Ok(UserView {
        login: user.login.to_string(),
        display_name: user.display_name,
        role: user.role,
        broker,
        email: user.email,
        phone: user.phone.map(String::from),
        interval_days: user.interval.get(),
        push_locked: user.push_locked_at.is_some(),
        push_locked_at: user.push_locked_at,
        push_lock_reason: user.push_lock_reason,
        enrolled: u.enrolled,
        created_at: user.created_at,
    })
}

fn reload(store: &dyn Store, login: &LoginName) -> Result<UserView, ApiError> {
    let u = load(store, login)?;
    view(store, u)
}

/// Revokes every trusted browser of `user` (after a phone or interval change);
/// audited by the trust service.
fn revoke_trust(store: &dyn Store, user: UserId, now: i64, reason: &str) -> Result<(), StoreError> {
    crate::services::trust::revoke_all(store, user, now, reason).map(|_| ())
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::Invalid { field, message } => ApiError::validation_failed(field, message),
        AdminError::NoSuchBroker(_) => {
            ApiError::validation_failed("broker", "there is no broker with this login")
        }
        AdminError::LoginTaken(_) => ApiError::login_taken(),
        AdminError::LoginRetired(_) => ApiError::login_retired(),
        AdminError::Store(e) => ApiError::from(e),
    }
}

fn parse_query(raw: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned()
}

// ---------------------------------------------------------------------------
// Handlers

/// Create a user.
///
/// In the administrative context any user; acting as a broker, the broker's
/// own customers, employees and sub-brokers; acting as an employee, the
/// broker's customers. Brokers are created only in the administrative context.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    params(("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for")),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`login-taken`: another user has the login, or a deleted user had it", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: the detail names the field", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn create_user(
    State(state): State<AppState>,
    caller: RpCaller,
    body: Bytes,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let login = obj.str("login")?;
    let name = obj.opt_str("display_name")?;
    let role = obj.str("role")?;
    let role = Role::parse(&role).ok_or_else(|| {
        ApiError::validation_failed("role", "must be broker, employee, sub_broker or customer")
    })?;
    let broker = obj.opt_str("broker")?;
    let email = obj.opt_str("email")?;
    let phone = obj.opt_str("phone")?;
    let password = zeroize::Zeroizing::new(obj.str("password")?);
    obj.finish()?;
    let spec = UserSpec {
        login,
        name,
        role,
        broker,
        phone,
        email,
        password,
    };
    let checked = spec.check().map_err(admin_error)?;
    let now = state.now();
    let view = blocking(&state, move |s| {
        let broker = admin::resolve_broker(s, &checked).map_err(admin_error)?;
        authz::can_create_user(caller.actor.as_ref(), checked.role, broker.as_ref())
            .map_err(forbidden)?;
        admin::insert_user(
            s,
            &checked,
            broker.as_ref(),
            &spec.password,
            &caller.changed_by(),
            now,
        )
        .map_err(admin_error)?;
        reload(s, &checked.login)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Show a user.
#[utoipa::path(
    get, path = "/api/v1/users/{login}", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn get_user(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let login = path_login(&login)?;
    let view = blocking(&state, move |s| {
        let target = load(s, &login)?;
        authz::can_view_user(caller.actor.as_ref(), &target.user).map_err(forbidden)?;
        view(s, target)
    })
    .await?;
    Ok(Json(view))
}

/// Change a user's display name, e-mail address or role.
///
/// Name and e-mail: the user and whoever is responsible for them. Role: only
/// the user's broker (or the administrative context), and only between
/// `employee`, `sub_broker` and `customer`. The change is audited
/// (`user.updated`, naming the fields, never their values).
#[utoipa::path(
    patch, path = "/api/v1/users/{login}", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The user as changed", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: the detail names the field", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn update_user(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let name = obj.nullable_str("display_name")?;
    let email = obj.nullable_str("email")?;
    let role = obj
        .opt_str("role")?
        .map(|r| {
            Role::parse(&r).ok_or_else(|| {
                ApiError::validation_failed("role", "must be employee, sub_broker or customer")
            })
        })
        .transpose()?;
    obj.finish()?;
    if name.is_none() && email.is_none() && role.is_none() {
        return Err(ApiError::validation_failed(
            "body",
            "give at least one of `display_name`, `email` and `role`",
        ));
    }
    let email = email
        .map(|e| admin::check_email(e.as_deref()))
        .transpose()
        .map_err(admin_error)?;
    let login = path_login(&login)?;
    let now = state.now();
    let view = atomically(&state, caller, move |s, caller| {
        let target = load(s, &login)?.user;
        if name.is_some() || email.is_some() {
            authz::can_edit_profile(caller.actor.as_ref(), &target).map_err(forbidden)?;
        }
        if let Some(role) = role {
            authz::can_change_role(caller.actor.as_ref(), &target, role).map_err(forbidden)?;
        }
        let display_name = name
            .map(|n| admin::check_display_name(n.as_deref(), &target.login))
            .transpose()
            .map_err(admin_error)?;
        let change = ProfileChange {
            display_name,
            email,
            role,
        };
        s.change_profile(target.id, &change, &caller.changed_by(), now)?;
        reload(s, &login)
    })
    .await?;
    Ok(Json(view))
}

/// Change a user's password.
///
/// Users change their own (`Ident-Actor` is the user) and must give the
/// current one; wrong current passwords count toward the same limit as the
/// password check (five in 15 minutes). The administrative context resets
/// any user's password without it. Nobody else may: a broker who knew a
/// customer's password could log in as them. A change revokes the user's
/// trusted browsers and is audited (`password.changed`).
#[utoipa::path(
    put, path = "/api/v1/users/{login}/password", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    request_body = PasswordChangeBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "`credentials-invalid`: the current password is wrong; `api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: `password` too short or long, `current_password` missing", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-attempts`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn change_password(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let new = zeroize::Zeroizing::new(obj.str("password")?);
    let current = obj
        .opt_str("current_password")?
        .map(zeroize::Zeroizing::new);
    obj.finish()?;
    admin::check_password_length(&new).map_err(admin_error)?;
    let login = path_login(&login)?;
    let now = state.now();
    blocking(&state, move |s| {
        let target = load(s, &login)?.user;
        let rule = authz::can_change_password(caller.actor.as_ref(), &target).map_err(forbidden)?;
        if rule == PasswordChange::WithCurrent {
            let Some(current) = current else {
                return Err(ApiError::validation_failed(
                    "current_password",
                    "is required to change one's own password",
                ));
            };
            count_password_attempt(s, &login, now)?;
            let hash = s.password_hash(target.id)?;
            if !hash.is_some_and(|h| password::verify(&current, &h)) {
                return Err(ApiError::credentials_invalid());
            }
        }
        let hash = password::hash(&new).map_err(|e| ApiError::validation_failed("password", e))?;
        s.change_password(target.id, &hash, &caller.changed_by(), now)?;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a user.
///
/// For whoever is responsible for the user (a broker their staff and
/// customers, an employee the broker's customers) and the administrative
/// context; brokers only in the administrative context, and only once no
/// user and no SMS charge refers to them (`broker-in-use`, 409). Nobody
/// deletes their own login. The user's devices, enrollment codes, logins
/// and trusted browsers go with them (open status and challenge polls end
/// at once); the SMS ledger keeps its rows (login and masked number) for
/// the statements, and the audit log keeps its entries plus `user.deleted`.
/// The login is retired: no new user gets it (`login-taken`).
#[utoipa::path(
    delete, path = "/api/v1/users/{login}", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`broker-in-use`: the broker still has users or SMS charges", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn delete_user(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<StatusCode, ApiError> {
    let login = path_login(&login)?;
    let now = state.now();
    let deletion = atomically(&state, caller, move |s, caller| {
        let target = load(s, &login)?.user;
        authz::can_delete_user(caller.actor.as_ref(), &target).map_err(forbidden)?;
        Ok(s.delete_user(target.id, &caller.changed_by(), now)?)
    })
    .await?;
    match deletion {
        Deletion::Deleted {
            pending_txns,
            devices,
        } => {
            for t in &pending_txns {
                state.wakeups.notify_txn(t);
            }
            for d in &devices {
                state.wakeups.notify_device(d);
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Deletion::HasUsers(n) => Err(ApiError::broker_in_use(format!(
            "The broker still has {n} user(s); delete them first."
        ))),
        Deletion::HasCharges(n) => Err(ApiError::broker_in_use(format!(
            "The SMS ledger holds {n} charge(s) to this broker, which are kept for ten years."
        ))),
    }
}

async fn change_phone(
    state: AppState,
    caller: RpCaller,
    login: String,
    phone: Option<String>,
) -> Result<Json<UserView>, ApiError> {
    let login = path_login(&login)?;
    let now = state.now();
    let view = atomically(&state, caller, move |s, caller| {
        let target = load(s, &login)?;
        authz::can_set_phone(caller.actor.as_ref(), &target.user).map_err(forbidden)?;
        let phone = phone
            .as_deref()
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| ApiError::validation_failed("phone", e))?;
        if target.user.phone != phone {
            revoke_trust(s, target.user.id, now, "phone_changed")?;
            s.change_phone(target.user.id, phone.as_ref(), &caller.changed_by(), now)?;
        }
        reload(s, &login)
    })
    .await?;
    Ok(Json(view))
}

/// Set or change a user's mobile number.
///
/// A customer's number can be set only by the customer's broker or the
/// broker's employees (or in the administrative context), never by the
/// customer. Other users may set their own. A change revokes the user's
/// trusted browsers and is audited with the numbers masked.
#[utoipa::path(
    put, path = "/api/v1/users/{login}/phone", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    request_body = PhoneBody,
    responses(
        (status = 200, description = "The user with the new number", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: not a (mobile) number", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn set_phone(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let phone = obj.str("phone")?;
    obj.finish()?;
    change_phone(state, caller, login, Some(phone)).await
}

/// Remove a user's mobile number. Same rules as setting it.
#[utoipa::path(
    delete, path = "/api/v1/users/{login}/phone", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The user without a number", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn delete_phone(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    change_phone(state, caller, login, None).await
}

/// Set one user's 2FA interval.
///
/// Every user may set their own; brokers for their users, employees for the
/// broker's customers. A change revokes the user's trusted browsers.
#[utoipa::path(
    put, path = "/api/v1/users/{login}/interval", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    request_body = IntervalBody,
    responses(
        (status = 200, description = "The user with the new interval", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: `days` out of 0–90", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn set_interval(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    body: Bytes,
) -> Result<Json<UserView>, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let interval = obj.days("days")?;
    obj.finish()?;
    let login = path_login(&login)?;
    let now = state.now();
    let view = atomically(&state, caller, move |s, caller| {
        let target = load(s, &login)?;
        authz::can_set_interval(caller.actor.as_ref(), &target.user).map_err(forbidden)?;
        if target.user.interval != interval {
            revoke_trust(s, target.user.id, now, "interval_changed")?;
            s.change_interval(target.user.id, interval, &caller.changed_by(), now)?;
        }
        reload(s, &login)
    })
    .await?;
    Ok(Json(view))
}

/// Set the 2FA interval of all of a broker's customers at once.
///
/// Allowed for the broker, the broker's employees and the administrative
/// context. Changes only this broker's customers (not the broker's staff);
/// each changed customer's trusted browsers are revoked and the change audited.
/// Unlike the changes of one user this is not one transaction: a broker may
/// have thousands of customers, and logins must not wait for all of them.
#[utoipa::path(
    put, path = "/api/v1/brokers/{login}/customers/interval", tag = "users",
    params(
        ("login" = String, Path, description = "The broker's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    request_body = IntervalBody,
    responses(
        (status = 200, description = "How many customers changed", body = BulkIntervalResult),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such broker", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: `days` out of 0–90", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn set_customers_interval(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    body: Bytes,
) -> Result<Json<BulkIntervalResult>, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let interval = obj.days("days")?;
    obj.finish()?;
    let login = path_login(&login)?;
    let now = state.now();
    let changed = blocking(&state, move |s| {
        let broker = load_broker(s, &login)?;
        authz::can_manage_customers_of(caller.actor.as_ref(), &broker).map_err(forbidden)?;
        let before: Vec<UserId> = s
            .customers_of(broker.id, CustomerFilter::default())?
            .into_iter()
            .filter(|c| c.user.interval != interval)
            .map(|c| c.user.id)
            .collect();
        for id in &before {
            revoke_trust(s, *id, now, "interval_changed")?;
        }
        let changed =
            s.change_customers_interval(broker.id, interval, &caller.changed_by(), now)?;
        // A customer changed between the two steps: revoke after the fact.
        for id in changed.iter().filter(|id| !before.contains(id)) {
            revoke_trust(s, *id, now, "interval_changed")?;
        }
        Ok(changed.len())
    })
    .await?;
    Ok(Json(BulkIntervalResult {
        changed,
        interval_days: interval.get(),
    }))
}

/// Which customers to list (both optional).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is parsed by hand
pub struct CustomerQuery {
    /// `with`: only customers with a mobile number; `without`: only those without.
    #[param(pattern = "^(with|without)$")]
    phone: Option<String>,
    /// `yes`: only customers with an enrolled device; `no`: only those without.
    #[param(pattern = "^(yes|no)$")]
    enrolled: Option<String>,
}

/// List a broker's customers, optionally filtered (e.g. for mail to the
/// customers *with* a mobile number who have not enrolled yet).
#[utoipa::path(
    get, path = "/api/v1/brokers/{login}/customers", tag = "users",
    params(
        ("login" = String, Path, description = "The broker's login"),
        CustomerQuery,
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The customers", body = CustomerList),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such broker", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: a filter value", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn list_customers(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<CustomerList>, ApiError> {
    let mut filter = CustomerFilter::default();
    for (k, v) in parse_query(query.as_deref()) {
        match (k.as_str(), v.as_str()) {
            ("phone", "with") => filter.has_phone = Some(true),
            ("phone", "without") => filter.has_phone = Some(false),
            ("phone", _) => {
                return Err(ApiError::validation_failed(
                    "phone",
                    "must be `with` or `without`",
                ));
            }
            ("enrolled", "yes") => filter.enrolled = Some(true),
            ("enrolled", "no") => filter.enrolled = Some(false),
            ("enrolled", _) => {
                return Err(ApiError::validation_failed(
                    "enrolled",
                    "must be `yes` or `no`",
                ));
            }
            _ => {
                return Err(ApiError::validation_failed(
                    "query",
                    "only `phone` and `enrolled` are known",
                ));
            }
        }
    }
    let login = path_login(&login)?;
    let customers = blocking(&state, move |s| {
        let broker = load_broker(s, &login)?;
        authz::can_manage_customers_of(caller.actor.as_ref(), &broker).map_err(forbidden)?;
        s.customers_of(broker.id, filter)?
            .into_iter()
            .map(|c| view(s, c))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Json(CustomerList {
        count: customers.len(),
        customers,
    }))
}

/// Lift a user's push lock (set after "this was not me" or repeated denials).
///
/// Allowed for the user's broker, for customers the broker's employees, and
/// the administrative context; not for the locked user. Unlocking an unlocked
/// user changes nothing.
#[utoipa::path(
    post, path = "/api/v1/users/{login}/push-unlock", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The user, unlocked", body = UserView),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn push_unlock(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let login = path_login(&login)?;
    let now = state.now();
    let view = atomically(&state, caller, move |s, caller| {
        let target = load(s, &login)?;
        authz::can_unlock_push(caller.actor.as_ref(), &target.user).map_err(forbidden)?;
        s.unlock_push_audited(target.user.id, &caller.changed_by(), now)?;
        reload(s, &login)
    })
    .await?;
    Ok(Json(view))
}

/// A user's audit entries, newest first.
///
/// For the user, the user's broker (for customers also the broker's
/// employees) and the administrative context.
#[utoipa::path(
    get, path = "/api/v1/users/{login}/audit", tag = "users",
    params(
        ("login" = String, Path, description = "The user's login"),
        ("limit" = Option<u32>, Query, description = "At most this many entries (1–500, default 50)"),
        ("Ident-Actor" = Option<String>, Header, description = "Login of the portal user this call acts for"),
    ),
    responses(
        (status = 200, description = "The entries", body = AuditList),
        (status = 401, description = "`api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`, `actor-unknown`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`: `limit`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn audit_log(
    State(state): State<AppState>,
    caller: RpCaller,
    Path(login): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditList>, ApiError> {
    let mut limit = 50;
    for (k, v) in parse_query(query.as_deref()) {
        if k != "limit" {
            return Err(ApiError::validation_failed(
                "query",
                "only `limit` is known",
            ));
        }
        limit = v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_AUDIT_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::validation_failed("limit", "must be a number from 1 to 500")
            })?;
    }
    let login = path_login(&login)?;
    let entries = blocking(&state, move |s| {
        let target = load(s, &login)?;
        authz::can_view_audit(caller.actor.as_ref(), &target.user).map_err(forbidden)?;
        Ok(s.audit_log(Some(target.user.id), limit)?)
    })
    .await?;
    Ok(Json(AuditList {
        entries: entries.into_iter().map(AuditEntryView::from).collect(),
    }))
}

/// Check a login name and password (the portal's first factor).
///
/// Wrong or unknown login and wrong password get the same answer after the
/// same Argon2id work. Five wrong passwords for a login within 15 minutes
/// refuse further tries for it (429 with `Retry-After`) until the oldest
/// leaves the window; attempts are counted before the password is checked.
#[utoipa::path(
    post, path = "/api/v1/login/password", tag = "users",
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Correct", body = PasswordOk),
        (status = 401, description = "`credentials-invalid`, `api-key-invalid`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`validation-failed`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-attempts`", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
async fn check_password(
    State(state): State<AppState>,
    _client: RpClient,
    body: Bytes,
) -> Result<Json<PasswordOk>, ApiError> {
    let mut obj = JsonObject::parse(&body)?;
    let login = obj.str("login")?;
    let password = zeroize::Zeroizing::new(obj.str("password")?);
    obj.finish()?;
    let login = LoginName::parse(&login).map_err(|e| ApiError::validation_failed("login", e))?;
    let now = state.now();
    let user = blocking(&state, move |s| {
        // Made before the lookup so that its one-time cost is not tied to unknown logins.
        let dummy = password::dummy_hash();
        count_password_attempt(s, &login, now)?;
        let user = s.user_with_devices(&login)?;
        let hash = match &user {
            Some(u) => s.password_hash(u.user.id)?,
            None => None,
        };
        let ok = password::verify(&password, hash.as_deref().unwrap_or(dummy));
        match user {
            Some(u) if ok && hash.is_some() => {
                s.clear_password_attempts(&login)?;
                view(s, u)
            }
            _ => Err(ApiError::credentials_invalid()),
        }
    })
    .await?;
    Ok(Json(PasswordOk { user }))
}
