//! The Tauri commands: each takes the arguments of docs/ipc.md, wraps
//! secrets at once, and runs the plain function of [`crate::commands`] on
//! Tauri's blocking pool (vault, Argon2id and network never run on the main
//! thread or an async worker).

use std::sync::Arc;

use ident_core::secret::SecretString;
use tauri::State;

use crate::commands::{self, AnswerArgs};
use crate::error::IpcError;
use crate::settings::LanguageSetting;
use crate::state::AppState;
use crate::views::{
    AccountView, AddResult, AnswerResult, AppStatus, ChallengeView, OtpCodeView, RecentAnswer,
    SavedExport,
};

/// The managed state: the shell's [`AppState`], shared with background threads.
pub struct Shared(pub Arc<AppState>);

/// Whether a command counts as user activity for the idle lock. Passive
/// ones (status, the open requests, a code refreshed by a timer) do not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Activity {
    User,
    Passive,
}

async fn run<T: Send + 'static>(
    state: &State<'_, Shared>,
    activity: Activity,
    f: impl FnOnce(&AppState) -> Result<T, IpcError> + Send + 'static,
) -> Result<T, IpcError> {
    let st = state.0.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if activity == Activity::User {
            st.touch();
        }
        f(&st)
    })
    .await
    .map_err(|_| IpcError::internal())?
}

/// `app_status`.
#[tauri::command]
pub async fn app_status(state: State<'_, Shared>) -> Result<AppStatus, IpcError> {
    run(&state, Activity::Passive, commands::app_status).await
}

/// `setup_vault`.
#[tauri::command]
pub async fn setup_vault(state: State<'_, Shared>, pin: String) -> Result<AppStatus, IpcError> {
    let pin = SecretString::new(pin);
    run(&state, Activity::User, move |st| {
        commands::setup_vault(st, &pin)
    })
    .await
}

/// `unlock`.
#[tauri::command]
pub async fn unlock(state: State<'_, Shared>, pin: String) -> Result<AppStatus, IpcError> {
    let pin = SecretString::new(pin);
    run(&state, Activity::User, move |st| commands::unlock(st, &pin)).await
}

/// `unlock_biometric`.
#[tauri::command]
pub async fn unlock_biometric(state: State<'_, Shared>) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, commands::unlock_biometric).await
}

/// `lock`.
#[tauri::command]
pub async fn lock(state: State<'_, Shared>) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, commands::lock_app).await
}

/// `list_accounts`.
#[tauri::command]
pub async fn list_accounts(
    state: State<'_, Shared>,
    query: Option<String>,
) -> Result<Vec<AccountView>, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::list_accounts(st, query.as_deref())
    })
    .await
}

/// `otp_code`.
#[tauri::command]
pub async fn otp_code(state: State<'_, Shared>, id: i64) -> Result<OtpCodeView, IpcError> {
    run(&state, Activity::Passive, move |st| {
        commands::otp_code(st, id)
    })
    .await
}

/// `add_from_text`.
#[tauri::command]
pub async fn add_from_text(state: State<'_, Shared>, text: String) -> Result<AddResult, IpcError> {
    // The text may be an otpauth URI with a seed: zeroized when dropped.
    let text = SecretString::new(text);
    run(&state, Activity::User, move |st| {
        commands::add_from_text(st, text.expose())
    })
    .await
}

/// `add_from_qr_image`.
#[tauri::command]
pub async fn add_from_qr_image(
    state: State<'_, Shared>,
    bytes: Vec<u8>,
) -> Result<AddResult, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::add_from_qr_image(st, &bytes)
    })
    .await
}

/// `confirm_enrollment`.
#[tauri::command]
pub async fn confirm_enrollment(
    state: State<'_, Shared>,
    pending_id: String,
    code: String,
) -> Result<AddResult, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::confirm_enrollment(st, &pending_id, &code)
    })
    .await
}

/// `import_export_file`.
#[tauri::command]
pub async fn import_export_file(
    state: State<'_, Shared>,
    bytes: Vec<u8>,
    passphrase: String,
) -> Result<AddResult, IpcError> {
    let passphrase = SecretString::new(passphrase);
    run(&state, Activity::User, move |st| {
        commands::import_export_file(st, &bytes, &passphrase)
    })
    .await
}

/// `export_vault`: writes the export to the Downloads folder; the UI gets
/// the path, never the bytes.
#[tauri::command]
pub async fn export_vault(
    state: State<'_, Shared>,
    passphrase: String,
) -> Result<SavedExport, IpcError> {
    let passphrase = SecretString::new(passphrase);
    run(&state, Activity::User, move |st| {
        commands::export_vault(st, &passphrase)
    })
    .await
}

/// `rename_account`.
#[tauri::command]
pub async fn rename_account(
    state: State<'_, Shared>,
    id: i64,
    name: String,
) -> Result<AccountView, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::rename_account(st, id, &name)
    })
    .await
}

/// `move_account`.
#[tauri::command]
pub async fn move_account(
    state: State<'_, Shared>,
    id: i64,
    to_index: usize,
) -> Result<Vec<AccountView>, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::move_account(st, id, to_index)
    })
    .await
}

/// `remove_account`.
#[tauri::command]
pub async fn remove_account(
    state: State<'_, Shared>,
    id: i64,
    pin: Option<String>,
) -> Result<Vec<AccountView>, IpcError> {
    let pin = pin.map(SecretString::new);
    run(&state, Activity::User, move |st| {
        commands::remove_account(st, id, pin)
    })
    .await
}

/// `pending_challenges`.
#[tauri::command]
pub async fn pending_challenges(state: State<'_, Shared>) -> Result<Vec<ChallengeView>, IpcError> {
    run(&state, Activity::Passive, commands::pending_challenges).await
}

/// `answer_challenge`.
#[tauri::command]
pub async fn answer_challenge(
    state: State<'_, Shared>,
    challenge_id: String,
    approve: bool,
    number: Option<String>,
    not_me: Option<bool>,
    pin: Option<String>,
) -> Result<AnswerResult, IpcError> {
    let args = AnswerArgs {
        challenge_id,
        approve,
        number,
        not_me: not_me.unwrap_or(false),
        pin: pin.map(SecretString::new),
    };
    run(&state, Activity::User, move |st| {
        commands::answer_challenge(st, args)
    })
    .await
}

/// `recent_answers`.
#[tauri::command]
pub async fn recent_answers(
    state: State<'_, Shared>,
    account_id: i64,
) -> Result<Vec<RecentAnswer>, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::recent_answers(st, account_id)
    })
    .await
}

/// `change_pin`.
#[tauri::command]
pub async fn change_pin(
    state: State<'_, Shared>,
    old_pin: String,
    new_pin: String,
) -> Result<AppStatus, IpcError> {
    let (old, new) = (SecretString::new(old_pin), SecretString::new(new_pin));
    run(&state, Activity::User, move |st| {
        commands::change_pin(st, &old, &new)
    })
    .await
}

/// `set_biometric`.
#[tauri::command]
pub async fn set_biometric(state: State<'_, Shared>, enabled: bool) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::set_biometric(st, enabled)
    })
    .await
}

/// `set_language`.
#[tauri::command]
pub async fn set_language(
    state: State<'_, Shared>,
    language: LanguageSetting,
) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::set_language(st, language)
    })
    .await
}

/// `set_lock_timeout` (an addition the UI uses: idle seconds, 0 = never).
#[tauri::command]
pub async fn set_lock_timeout(
    state: State<'_, Shared>,
    seconds: u64,
) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, move |st| {
        commands::set_lock_timeout(st, seconds)
    })
    .await
}

/// `request_notifications`.
#[tauri::command]
pub async fn request_notifications(state: State<'_, Shared>) -> Result<AppStatus, IpcError> {
    run(&state, Activity::User, commands::request_notifications).await
}
