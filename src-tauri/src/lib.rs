//! The Ident app shell: Tauri 2 around `ident-core`.
//!
//! The web view (`ui/`) calls the commands of docs/ipc.md and listens to its
//! events; this crate turns them into calls of the core's facade and vault
//! and gives the core its platform ports: HTTP (reqwest + rustls), the clock,
//! system notifications, and on mobile the biometric prompt and key store.
//! No rule of the product lives here (ARCHITECTURE.md, "Thin bridges").
//!
//! Map:
//! - [`ipc`]: the `#[tauri::command]` wrappers (off the main thread).
//! - [`commands`]: the commands as plain functions over [`state::AppState`].
//! - [`state`]: the open vault, client, settings, known requests.
//! - [`poller`]: the background long poll, events and notifications.
//! - [`error`]: core errors → `IpcError`.
//! - [`views`]: core types → the JSON of the contract.
//! - [`settings`], [`verifier`], [`keystore`], [`qr`], [`save`]: the small
//!   parts.

pub mod commands;
pub mod error;
pub mod ipc;
pub mod keystore;
pub mod poller;
pub mod qr;
pub mod save;
pub mod settings;
pub mod state;
#[cfg(test)]
mod test_support;
pub mod verifier;
pub mod views;

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use ident_core::ports::{Notification, Notifier, ReqwestTransport, SystemClock, UserVerifier};
use ident_core::vault::KdfParams;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::{NotificationExt, PermissionState};

use crate::ipc::Shared;
use crate::poller::{EventSink, PollConfig, ShellEvent};
use crate::state::{AppState, Config, NotificationPermission, Ports};
use crate::views::{NotificationState, PlatformName};

/// How often the idle lock and request expiry are checked.
const TICK: Duration = Duration::from_secs(5);

/// Events to the main window.
struct WindowEvents<R: Runtime>(AppHandle<R>);

impl<R: Runtime> EventSink for WindowEvents<R> {
    fn emit(&self, event: ShellEvent) {
        if self.0.emit(event.name(), event.payload()).is_err() {
            log::warn!("could not emit {}", event.name());
        }
    }
}

/// System notifications through tauri-plugin-notification.
struct SystemNotifier<R: Runtime>(AppHandle<R>);

/// A stable 31-bit id for a notification (the plugin wants an `i32`).
fn notification_id(id: &str) -> i32 {
    let h = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    i32::try_from(h & 0x7fff_ffff).unwrap_or(0)
}

impl<R: Runtime> Notifier for SystemNotifier<R> {
    fn notify(&self, n: Notification) {
        let shown = self
            .0
            .notification()
            .builder()
            .id(notification_id(&n.id))
            .title(n.title)
            .body(n.body)
            .show();
        if shown.is_err() {
            log::warn!("could not show a notification");
        }
    }

    fn clear(&self, id: &str) {
        #[cfg(mobile)]
        {
            let _ = self
                .0
                .notification()
                .remove_active(vec![notification_id(id)]);
        }
        // Desktop notification servers expire them on their own.
        #[cfg(desktop)]
        let _ = id;
    }
}

impl<R: Runtime> NotificationPermission for SystemNotifier<R> {
    fn state(&self, request: bool) -> NotificationState {
        let n = self.0.notification();
        let state = if request {
            n.request_permission()
        } else {
            n.permission_state()
        };
        match state {
            Ok(PermissionState::Granted) => NotificationState::Granted,
            Ok(PermissionState::Denied) => NotificationState::Denied,
            Ok(_) => NotificationState::Prompt,
            Err(_) => NotificationState::Unsupported,
        }
    }
}

/// The Argon2id cost: the recommended one, except in debug builds run with
/// `IDENT_TEST_FAST_KDF=1` (end-to-end tests; a PIN behind it falls in
/// seconds). Release builds ignore the variable.
fn kdf() -> KdfParams {
    let fast = cfg!(debug_assertions)
        && std::env::var("IDENT_TEST_FAST_KDF").is_ok_and(|v| v.trim() == "1");
    if fast {
        KdfParams::insecure_for_tests()
    } else {
        KdfParams::RECOMMENDED
    }
}

fn device_name() -> String {
    let name = gethostname::gethostname().to_string_lossy().into_owned();
    let name = if name.trim().is_empty() {
        "Ident".to_owned()
    } else {
        name
    };
    name.chars().take(100).collect()
}

fn biometric<R: Runtime>(_app: &AppHandle<R>) -> Option<Arc<dyn UserVerifier>> {
    #[cfg(mobile)]
    {
        let v = verifier::BiometricVerifier::new(_app.clone());
        if v.available() {
            return Some(Arc::new(v));
        }
    }
    None
}

/// Where exports are saved: the platform's Downloads folder (Android: the
/// app's own one). Linux without an XDG `DOWNLOAD` entry: `~/Downloads`,
/// created when needed, as browsers do.
fn downloads_dir<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    let paths = app.path();
    paths
        .download_dir()
        .ok()
        .or_else(|| paths.home_dir().ok().map(|home| home.join("Downloads")))
}

/// Builds the state from the app's paths and plugins.
fn build_state<R: Runtime>(app: &AppHandle<R>) -> Result<AppState, Box<dyn std::error::Error>> {
    let data_dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&data_dir)?;
    let http = ReqwestTransport::new()?;
    let notifier = Arc::new(SystemNotifier(app.clone()));
    let config = Config {
        data_dir,
        kdf: kdf(),
        platform: PlatformName::current(),
        device_name: device_name(),
        system_locale: sys_locale::get_locale(),
        poll: PollConfig::default(),
        export_dir: downloads_dir(app),
    };
    let ports = Ports {
        http: Arc::new(http),
        clock: Arc::new(SystemClock),
        notifier: notifier.clone(),
        events: Arc::new(WindowEvents(app.clone())),
        permission: notifier,
        keystore: keystore::platform_keystore(app),
        biometric: biometric(app),
    };
    Ok(AppState::new(config, ports))
}

/// Checks the idle lock and request expiry until the state is gone.
fn start_ticker(state: Weak<AppState>) {
    let spawned = std::thread::Builder::new()
        .name("ident-tick".into())
        .spawn(move || {
            while let Some(st) = state.upgrade() {
                st.tick();
                drop(st);
                std::thread::sleep(TICK);
            }
        });
    if spawned.is_err() {
        log::warn!("could not start the idle-lock thread");
    }
}

/// Runs the app until its window closes.
pub fn run() {
    let builder = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_biometric::init())
        .plugin(tauri_plugin_barcode_scanner::init());
    let result = builder
        .setup(|app| {
            let state = Arc::new(build_state(app.handle())?);
            start_ticker(Arc::downgrade(&state));
            app.manage(Shared(state));
            // The window is created only now (`"create": false` in
            // tauri.conf.json): Tauri builds configured windows before this
            // hook, and the page's first `app_status` would race `manage`.
            for config in app.config().app.windows.iter().filter(|w| !w.create) {
                tauri::WebviewWindowBuilder::from_config(app.handle(), config)?.build()?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            ipc::app_status,
            ipc::setup_vault,
            ipc::unlock,
            ipc::unlock_biometric,
            ipc::lock,
            ipc::list_accounts,
            ipc::otp_code,
            ipc::add_from_text,
            ipc::add_from_qr_image,
            ipc::confirm_enrollment,
            ipc::import_export_file,
            ipc::export_vault,
            ipc::rename_account,
            ipc::move_account,
            ipc::remove_account,
            ipc::pending_challenges,
            ipc::answer_challenge,
            ipc::recent_answers,
            ipc::change_pin,
            ipc::set_biometric,
            ipc::set_language,
            ipc::set_lock_timeout,
            ipc::request_notifications,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        // There is no window to show this in any more.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("Ident stopped with an error: {e}");
        }
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_ids_are_stable_and_positive() {
        assert_eq!(notification_id("chal-1"), notification_id("chal-1"));
        assert_ne!(notification_id("chal-1"), notification_id("chal-2"));
        assert!(notification_id("x") >= 0);
    }
}
