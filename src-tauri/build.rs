//! Tauri's build step: reads tauri.conf.json and capabilities/, generates the
//! access-control manifest for the app's own commands, and sets the
//! `desktop` / `mobile` cfg flags used throughout the crate.

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let commands: &[&str] = &[
        "app_status",
        "setup_vault",
        "unlock",
        "unlock_biometric",
        "lock",
        "list_accounts",
        "otp_code",
        "add_from_text",
        "add_from_qr_image",
        "confirm_enrollment",
        "import_export_file",
        "export_vault",
        "rename_account",
        "move_account",
        "remove_account",
        "pending_challenges",
        "answer_challenge",
        "recent_answers",
        "change_pin",
        "set_biometric",
        "set_language",
        "set_lock_timeout",
        "request_notifications",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )?;
    Ok(())
}
