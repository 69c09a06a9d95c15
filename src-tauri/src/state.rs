//! What the shell holds while it runs: the open vault (behind a mutex), the
//! protocol client, the settings, the enrollments waiting for an SMS code,
//! the known login requests and the poll threads.
//!
//! [`AppState`] knows nothing of Tauri: the window, notifications and the
//! platform's key store and biometrics come in as ports ([`Ports`]), so the
//! commands can be tested with a temporary directory and an in-memory server.
//!
//! Lock order, to stay free of deadlocks: `vault` → `poller` → the book.
//! Poll threads take only the book.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ident_core::authenticator as auth;
use ident_core::ports::{Clock, HttpTransport, KeyStore, Notifier, UserVerifier};
use ident_core::protocol::{Client, PendingEnrollment};
use ident_core::vault::{KdfParams, Vault};

use crate::error::IpcError;
use crate::poller::{Dispatcher, EventSink, PollConfig, Poller, ShellEvent, lock};
use crate::settings::{self, Lang, Settings};
use crate::views::{AppStatus, NotificationState, PlatformName};

/// The vault's file name in the app data directory.
pub const VAULT_FILE: &str = "vault.db";
/// The settings' file name in the app data directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// Notification permission, asked of the platform.
pub trait NotificationPermission: Send + Sync {
    /// The current state; with `request`, asks the user first where the
    /// platform asks.
    fn state(&self, request: bool) -> NotificationState;
}

/// Where the state lives and how it behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app data directory (vault and settings).
    pub data_dir: PathBuf,
    /// The Argon2id cost of a new vault and an export.
    pub kdf: KdfParams,
    /// Where the app runs.
    pub platform: PlatformName,
    /// The device name told to servers at enrollment.
    pub device_name: String,
    /// The system's locale (`"de-DE"`), if known.
    pub system_locale: Option<String>,
    /// Poll loop timing.
    pub poll: PollConfig,
    /// Where `export_vault` saves the export: the platform's Downloads
    /// folder (none: exporting reports `internal` / `storage`).
    pub export_dir: Option<PathBuf>,
}

/// The platform behind the ports.
pub struct Ports {
    /// HTTP (reqwest + rustls in the app).
    pub http: Arc<dyn HttpTransport>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// System notifications.
    pub notifier: Arc<dyn Notifier>,
    /// Events to the web view.
    pub events: Arc<dyn EventSink>,
    /// Notification permission.
    pub permission: Arc<dyn NotificationPermission>,
    /// The key store for biometric unlock (none on desktop).
    pub keystore: Option<Arc<dyn KeyStore>>,
    /// The biometric prompt (none on desktop).
    pub biometric: Option<Arc<dyn UserVerifier>>,
}

/// The shell's state, shared by every command.
pub struct AppState {
    pub(crate) vault_path: PathBuf,
    settings_path: PathBuf,
    pub(crate) kdf: KdfParams,
    pub(crate) platform: PlatformName,
    pub(crate) device_name: String,
    pub(crate) export_dir: Option<PathBuf>,
    system_locale: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) client: Client,
    pub(crate) keystore: Option<Arc<dyn KeyStore>>,
    pub(crate) biometric: Option<Arc<dyn UserVerifier>>,
    permission: Arc<dyn NotificationPermission>,
    pub(crate) dispatch: Dispatcher,
    vault: Mutex<Option<Vault>>,
    settings: Mutex<Settings>,
    pub(crate) enrollments: Mutex<HashMap<String, PendingEnrollment>>,
    next_pending: AtomicU64,
    last_activity: AtomicI64,
    poller: Mutex<Option<Poller>>,
    poll: PollConfig,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault_path", &self.vault_path)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state for `config`, over `ports`. Reads the settings file; the
    /// vault stays locked.
    pub fn new(config: Config, ports: Ports) -> AppState {
        let settings_path = config.data_dir.join(SETTINGS_FILE);
        let settings = Settings::load(&settings_path);
        let lang = settings::effective_language(settings.language, config.system_locale.as_deref());
        let client = Client::new(ports.http, ports.clock.clone());
        let now = ports.clock.now().secs();
        AppState {
            vault_path: config.data_dir.join(VAULT_FILE),
            settings_path,
            kdf: config.kdf,
            platform: config.platform,
            device_name: config.device_name,
            export_dir: config.export_dir,
            system_locale: config.system_locale,
            clock: ports.clock,
            client,
            keystore: ports.keystore,
            biometric: ports.biometric,
            permission: ports.permission,
            dispatch: Dispatcher::new(ports.events, ports.notifier, lang),
            vault: Mutex::new(None),
            settings: Mutex::new(settings),
            enrollments: Mutex::new(HashMap::new()),
            next_pending: AtomicU64::new(1),
            last_activity: AtomicI64::new(now),
            poller: Mutex::new(None),
            poll: config.poll,
        }
    }

    /// The vault file.
    pub fn vault_path(&self) -> &Path {
        &self.vault_path
    }

    /// Runs `f` on the open vault; `cancelled`/`locked` when it is locked.
    pub fn with_vault<T>(
        &self,
        f: impl FnOnce(&mut Vault) -> Result<T, IpcError>,
    ) -> Result<T, IpcError> {
        let mut guard = lock(&self.vault);
        let vault = guard.as_mut().ok_or_else(IpcError::locked)?;
        f(vault)
    }

    /// Whether the vault is open.
    pub fn is_unlocked(&self) -> bool {
        lock(&self.vault).is_some()
    }

    /// Installs a freshly opened vault and starts polling its push accounts.
    pub fn open_session(&self, vault: Vault) {
        let mut guard = lock(&self.vault);
        self.restart_poller(&vault);
        *guard = Some(vault);
        self.touch();
    }

    /// Locks: closes the vault, stops the poll threads, forgets pending
    /// enrollments and known requests.
    pub fn lock_now(&self) {
        let mut guard = lock(&self.vault);
        self.stop_poller();
        *guard = None;
        lock(&self.enrollments).clear();
    }

    /// Restarts the poll threads for the push accounts of `vault` (after
    /// unlocking, enrolling or removing).
    pub fn restart_poller(&self, vault: &Vault) {
        let mut poller = lock(&self.poller);
        if let Some(p) = poller.take() {
            p.stop();
        }
        let generation = lock(&self.dispatch.book).reset();
        match auth::push_handles(vault) {
            Ok(handles) if !handles.is_empty() => {
                *poller = Some(Poller::start(
                    handles,
                    &self.client,
                    &self.dispatch,
                    self.clock.clone(),
                    generation,
                    self.poll,
                ));
            }
            Ok(_) => {}
            Err(_) => log::warn!("could not read the push accounts; not polling"),
        }
    }

    fn stop_poller(&self) {
        if let Some(p) = lock(&self.poller).take() {
            p.stop();
        }
        lock(&self.dispatch.book).reset();
    }

    /// How many poll threads run now.
    pub fn polling_threads(&self) -> usize {
        lock(&self.poller).as_ref().map_or(0, Poller::threads)
    }

    /// Notes user activity (any command but the passive ones).
    pub fn touch(&self) {
        self.last_activity
            .store(self.clock.now().secs(), Ordering::SeqCst);
    }

    /// Called periodically: locks the app when it has been idle longer than
    /// the timeout (emitting `locked`), and closes expired requests.
    /// Returns whether it locked.
    pub fn tick(&self) -> bool {
        let now = self.clock.now();
        let events = lock(&self.dispatch.book).expire(now);
        self.dispatch.deliver(events, true);
        let timeout = lock(&self.settings).lock_timeout_seconds;
        let idle = now.secs() - self.last_activity.load(Ordering::SeqCst);
        let due = timeout > 0 && idle >= i64::try_from(timeout).unwrap_or(i64::MAX);
        if due && self.is_unlocked() {
            self.lock_now();
            self.dispatch.emit(ShellEvent::Locked);
            return true;
        }
        false
    }

    /// A new handle for a pending enrollment.
    pub fn next_pending_id(&self) -> String {
        format!("p{}", self.next_pending.fetch_add(1, Ordering::SeqCst))
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Changes the settings with `f` and saves them.
    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) -> Result<(), IpcError> {
        let mut s = lock(&self.settings);
        let mut next = s.clone();
        f(&mut next);
        if let Some(dir) = self.settings_path.parent() {
            std::fs::create_dir_all(dir).map_err(|_| {
                IpcError::with_detail(crate::error::IpcErrorKind::Internal, "storage")
            })?;
        }
        next.save(&self.settings_path)
            .map_err(|_| IpcError::with_detail(crate::error::IpcErrorKind::Internal, "storage"))?;
        *s = next;
        self.dispatch.set_lang(self.language_of(&s));
        Ok(())
    }

    fn language_of(&self, s: &Settings) -> Lang {
        settings::effective_language(s.language, self.system_locale.as_deref())
    }

    /// What the unlock screen and the settings need.
    pub fn status(&self) -> Result<AppStatus, IpcError> {
        let unlocked = lock(&self.vault)
            .as_ref()
            .map(|v| (true, v.keystore_unlock_enabled()));
        let vs = Vault::status(&self.vault_path, self.clock.as_ref())?;
        let s = self.settings();
        Ok(AppStatus {
            vault_exists: vs.exists,
            unlocked: unlocked.is_some(),
            attempts_left: vs.exists.then_some(vs.attempts_left),
            wait_seconds: vs.wait_seconds,
            locked_forever: vs.locked_forever,
            biometric_available: self.keystore.is_some(),
            biometric_enabled: unlocked.map_or(vs.keystore_unlock, |(_, ks)| ks),
            notifications: self.permission.state(false),
            language: self.language_of(&s),
            language_setting: s.language,
            lock_timeout_seconds: s.lock_timeout_seconds,
            platform: self.platform,
        })
    }

    /// Asks for notification permission, then reports the status.
    pub fn request_notifications(&self) -> Result<AppStatus, IpcError> {
        self.permission.state(true);
        self.status()
    }
}
