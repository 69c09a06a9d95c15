//! `ident-server`: serve the identity service, bootstrap it, or run a demo.

// A command-line program: messages for the operator go to stderr.
#![allow(clippy::print_stderr)]

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ident_core::ports::{Clock, SystemClock};
use ident_server::admin::{self, UserSpec};
use ident_server::config::Config;
use ident_server::domain::Role;
use ident_server::services::retention as retention_service;
use ident_server::startup::Application;
use ident_server::store::SqliteStore;
use ident_server::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(name = "ident-server", version, about = "The Ident identity service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Bootstrap: API keys and users, written straight into the database.
    Admin {
        /// The database file.
        #[arg(long, env = "IDENT_DB")]
        db: PathBuf,
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Serve with demo data: a broker (Maklerbüro Schmidt, login 1000), an
    /// employee, a sub-broker, two customers and an API key, printed to stdout,
    /// and the reference portal at /portal/ with its own API key.
    Demo(DemoArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The database file (default: a fresh one in a new temporary directory).
    /// A database that already has users is not seeded again.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Write SMS to this JSON-lines file (default: sms-outbox.jsonl next to the database).
    #[arg(long)]
    sms_outbox: Option<PathBuf>,
    /// Also write the demo's facts (URL, API key, users and their passwords)
    /// to this file once the server listens, as shell-quoted `NAME='value'`
    /// lines for `source` (mode 0600; `scripts/demo` reads it).
    #[arg(long)]
    facts: Option<PathBuf>,
    /// Send the portal's customer mail through this SMTP server, e.g.
    /// `smtp://127.0.0.1:2525` (a local sink; `scripts/demo` starts one).
    #[arg(long, env = "IDENT_PORTAL_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of the customer mail (default: the demo platform's address).
    #[arg(long, env = "IDENT_PORTAL_MAIL_FROM")]
    mail_from: Option<String>,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A TOML configuration file (flags and IDENT_* variables override it).
    #[arg(long, env = "IDENT_CONFIG")]
    config: Option<PathBuf>,
    /// The database file.
    #[arg(long, env = "IDENT_DB")]
    db: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "IDENT_LISTEN")]
    listen: Option<SocketAddr>,
    /// Base URL devices and portals use to reach this server.
    #[arg(long, env = "IDENT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Write SMS to this JSON-lines file instead of sending them.
    #[arg(long, env = "IDENT_SMS_OUTBOX")]
    sms_outbox: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "IDENT_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(flatten)]
    retention: RetentionArgs,
}

/// Overrides of the `[retention]` settings.
#[derive(clap::Args)]
struct RetentionArgs {
    /// Days finished logins are kept (0: for ever).
    #[arg(long, env = "IDENT_RETENTION_LOGIN_DAYS")]
    retention_login_days: Option<u32>,
    /// Days the audit log is kept (0: for ever).
    #[arg(long, env = "IDENT_RETENTION_AUDIT_DAYS")]
    retention_audit_days: Option<u32>,
}

impl RetentionArgs {
    fn apply(&self, config: &mut Config) {
        if let Some(v) = self.retention_login_days {
            config.retention.login_days = v;
        }
        if let Some(v) = self.retention_audit_days {
            config.retention.audit_days = v;
        }
    }
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an API key for a portal; the key is printed once.
    CreateApiKey {
        /// A name for people, e.g. the portal's name.
        #[arg(long)]
        name: String,
    },
    /// Create a user.
    CreateUser {
        /// Login name: a number or an e-mail address.
        #[arg(long)]
        login: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Role: broker, employee, sub_broker or customer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The login of the user's broker (not for brokers).
        #[arg(long)]
        broker: Option<String>,
        /// Mobile number (German numbers without country code are fine).
        #[arg(long)]
        phone: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (otherwise IDENT_PASSWORD).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete finished logins, old denials and attempts (and audit entries,
    /// if a retention is set) now, as the server does every hour; prints the
    /// counts. The SMS ledger is never purged.
    Purge {
        /// The TOML configuration file with the `[retention]` settings.
        #[arg(long, env = "IDENT_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        retention: RetentionArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "the role must be broker, employee, sub_broker or customer".into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ident-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Admin { db, action } => admin_cmd(&db, action),
        Command::Demo(args) => demo(args),
    }
}

fn demo(args: DemoArgs) -> Result<(), String> {
    let now = SystemClock.now().secs();
    let db = match args.db {
        Some(db) => db,
        None => {
            let dir = std::env::temp_dir().join(format!("ident-demo-{}-{now}", std::process::id()));
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            dir.join("ident.db")
        }
    };
    let sms_outbox = args.sms_outbox.unwrap_or_else(|| {
        db.parent()
            .unwrap_or_else(|| std::path::Path::new("."))
            .join("sms-outbox.jsonl")
    });
    let config = Config {
        db: db.clone(),
        listen: args.listen,
        // Empty: derived from the bound address (so `--listen 127.0.0.1:0` works).
        public_url: String::new(),
        sms_outbox: Some(sms_outbox.clone()),
        ..Config::default()
    };
    telemetry::init(config.log_format);
    let store = SqliteStore::open(&db, false).map_err(|e| e.to_string())?;
    let data = admin::seed_demo(&store, now).map_err(|e| e.to_string())?;
    // The reference portal, with its own API key (its name is the service
    // the app shows on each login request).
    let portal_key =
        admin::create_api_key(&store, &config.portal.name, now).map_err(|e| e.to_string())?;
    let mut config = config;
    config.portal.enabled = true;
    config.portal.api_key = Some(ident_server::sms_gateway::BearerToken::new(
        portal_key.key.to_string(),
    ));
    if let Some(url) = args.smtp_url {
        config.portal.smtp_url = Some(
            ident_server::portal::mail::SmtpUrl::parse(&url)
                .map_err(|e| format!("--smtp-url: {e}"))?,
        );
        config.portal.mail_from = Some(
            args.mail_from
                .unwrap_or_else(|| "FondsKontor Service <service@fondskontor.example>".into()),
        );
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let app = Application::build_with(config, Arc::new(store), Arc::new(SystemClock))
            .await
            .map_err(|e| e.to_string())?;
        let base = app.state().public_url.as_str().to_owned();
        let portal_url = format!("{base}/portal/");
        if let Some(path) = &args.facts {
            let mut text = demo_facts(&data, &base, &db, &sms_outbox);
            text.push_str(&format!("IDENT_PORTAL_URL={}\n", shell_quote(&portal_url)));
            write_private(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        #[allow(clippy::print_stdout)]
        {
            println!("{}", data.instructions(&base));
            println!("Portal ({}): {portal_url}", ident_server::portal::portal_name());
            println!(
                "  Log in there as one of the demo users above (login and password); the second\n  \
                 factor goes to the Ident app, or by SMS (written to the outbox below) without one.\n"
            );
            println!("Database:   {}", db.display());
            println!("SMS outbox: {}", sms_outbox.display());
            println!("Stop with Ctrl-C.");
        }
        app.run().await.map_err(|e| e.to_string())
    })
}

/// `'value'` for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// The facts of a demo run as shell-quoted `NAME='value'` lines:
/// `IDENT_URL`, `IDENT_API_KEY`, `IDENT_DB`, `IDENT_SMS_OUTBOX`,
/// (`IDENT_PORTAL_URL` is added by the caller),
/// `IDENT_USER_COUNT`, and per user `i` (0 = the broker)
/// `IDENT_USER_<i>_LOGIN`, `…_ROLE`, `…_NAME`, `…_PASSWORD` (empty when the
/// database already had the user).
fn demo_facts(
    data: &admin::DemoData,
    base: &str,
    db: &std::path::Path,
    sms_outbox: &std::path::Path,
) -> zeroize::Zeroizing<String> {
    use std::fmt::Write as _;
    let mut out = zeroize::Zeroizing::new(String::new());
    let mut put = |name: &str, value: &str| {
        let _ = writeln!(out, "{name}={}", shell_quote(value));
    };
    put("IDENT_URL", base);
    put("IDENT_API_KEY", data.api_key.as_str());
    put("IDENT_DB", &db.display().to_string());
    put("IDENT_SMS_OUTBOX", &sms_outbox.display().to_string());
    put("IDENT_USER_COUNT", &data.users.len().to_string());
    for (i, u) in data.users.iter().enumerate() {
        put(&format!("IDENT_USER_{i}_LOGIN"), &u.login);
        put(&format!("IDENT_USER_{i}_ROLE"), u.role.as_str());
        put(&format!("IDENT_USER_{i}_NAME"), &u.display_name);
        put(
            &format!("IDENT_USER_{i}_PASSWORD"),
            u.password.as_ref().map_or("", |p| p.as_str()),
        );
    }
    out
}

/// Writes `text` to `path` readable by the owner only, replacing it
/// atomically (a reader never sees half a file).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The settings that also come from `IDENT_*` variables without a flag —
/// chiefly secrets (API key, gateway and push tokens), which are better
/// given by the environment than written into the configuration file.
fn apply_secret_env(
    config: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    use ident_server::sms_gateway::BearerToken;
    if let Some(key) = var("IDENT_PORTAL_API_KEY") {
        config.portal.api_key = Some(BearerToken::new(key));
    }
    if let Some(url) = var("IDENT_PORTAL_SMTP_URL") {
        config.portal.smtp_url = Some(
            ident_server::portal::mail::SmtpUrl::parse(&url)
                .map_err(|e| format!("IDENT_PORTAL_SMTP_URL: {e}"))?,
        );
    }
    if let Some(from) = var("IDENT_PORTAL_MAIL_FROM") {
        config.portal.mail_from = Some(from);
    }
    if let Some(list) = var("IDENT_PORTAL_TRUSTED_PROXIES") {
        config.portal.trusted_proxies =
            ident_server::portal::client_ip::TrustedProxies::parse(list.split(','))
                .map_err(|e| format!("IDENT_PORTAL_TRUSTED_PROXIES: {e}"))?;
    }
    if let Some(url) = var("IDENT_SMS_HTTP_URL") {
        config.sms_http_url = Some(url);
    }
    if let Some(token) = var("IDENT_SMS_HTTP_TOKEN") {
        config.sms_http_token = Some(BearerToken::new(token));
    }
    if let Some(token) = var("IDENT_FCM_TOKEN") {
        config.push.fcm_token = Some(BearerToken::new(token));
    }
    if let Some(token) = var("IDENT_APNS_TOKEN") {
        config.push.apns_token = Some(BearerToken::new(token));
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(v) = args.db {
        config.db = v;
    }
    if let Some(v) = args.listen {
        config.listen = v;
    }
    if let Some(v) = args.public_url {
        config.public_url = v;
    }
    if let Some(v) = args.sms_outbox {
        config.sms_outbox = Some(v);
    }
    if let Some(v) = args.log_format {
        config.log_format = v;
    }
    args.retention.apply(&mut config);
    apply_secret_env(&mut config, |name| std::env::var(name).ok())?;
    telemetry::init(config.log_format);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let app = Application::build(config)
            .await
            .map_err(|e| e.to_string())?;
        let addr = app.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, public_url = %app.state().public_url, "ident-server listening");
        app.run().await.map_err(|e| e.to_string())
    })
}

fn admin_cmd(db: &std::path::Path, action: AdminAction) -> Result<(), String> {
    let store = SqliteStore::open(db, false).map_err(|e| e.to_string())?;
    let now = SystemClock.now().secs();
    match action {
        AdminAction::CreateApiKey { name } => {
            let key = admin::create_api_key(&store, &name, now).map_err(|e| e.to_string())?;
            #[allow(clippy::print_stdout)]
            {
                println!("{}", key.key.as_str());
            }
            eprintln!(
                "API key {} created. It is shown only this once; store it now.",
                key.id
            );
            Ok(())
        }
        AdminAction::CreateUser {
            login,
            name,
            role,
            broker,
            phone,
            email,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| format!("cannot read the password: {e}"))?;
                zeroize::Zeroizing::new(s.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                zeroize::Zeroizing::new(std::env::var("IDENT_PASSWORD").map_err(|_| {
                    "give the password on standard input with --password-stdin or in IDENT_PASSWORD"
                        .to_owned()
                })?)
            };
            let spec = UserSpec {
                login,
                name,
                role,
                broker,
                phone,
                email,
                password,
            };
            let id = admin::create_user(&store, &spec, now).map_err(|e| e.to_string())?;
            eprintln!("User {} created (id {}).", spec.login, id.0);
            Ok(())
        }
        AdminAction::Purge { config, retention } => {
            let mut config = match &config {
                Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
                None => Config::default(),
            };
            retention.apply(&mut config);
            config.retention.validate().map_err(|e| e.to_string())?;
            // A short pause between batches leaves a running server the database.
            let counts =
                retention_service::run_once(&store, &config, now, "admin-cli", &mut || {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    true
                })
                .map_err(|e| e.to_string())?;
            #[allow(clippy::print_stdout)]
            {
                println!("{}", retention_service::describe(&counts));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, apply_secret_env, shell_quote};

    #[test]
    fn secrets_come_from_the_environment() {
        let vars = [
            ("IDENT_SMS_HTTP_URL", "https://sms.example.de/v1"),
            ("IDENT_SMS_HTTP_TOKEN", "sms-secret"),
            ("IDENT_FCM_TOKEN", "fcm-secret"),
            ("IDENT_APNS_TOKEN", "apns-secret"),
            ("IDENT_PORTAL_API_KEY", "ik_portal"),
            ("IDENT_PORTAL_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ];
        let mut c = Config::default();
        apply_secret_env(&mut c, |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap();
        assert_eq!(c.sms_http_url.as_deref(), Some("https://sms.example.de/v1"));
        assert_eq!(
            c.sms_http_token.as_ref().map(|t| t.expose()),
            Some("sms-secret")
        );
        assert_eq!(
            c.push.fcm_token.as_ref().map(|t| t.expose()),
            Some("fcm-secret")
        );
        assert_eq!(
            c.push.apns_token.as_ref().map(|t| t.expose()),
            Some("apns-secret")
        );
        assert_eq!(
            c.portal.api_key.as_ref().map(|t| t.expose()),
            Some("ik_portal")
        );
        assert!(!c.portal.trusted_proxies.is_empty());
        assert!(!format!("{c:?}").contains("secret"), "never in Debug");
        let bad = apply_secret_env(&mut Config::default(), |n| {
            (n == "IDENT_PORTAL_TRUSTED_PROXIES").then(|| "nginx".to_owned())
        });
        assert!(bad.unwrap_err().contains("IDENT_PORTAL_TRUSTED_PROXIES"));
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("abc"), "'abc'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME `x`"), "'$HOME `x`'");
    }
}
