//! The commands against a temporary directory and the in-memory server: what
//! each returns, how each fails, and what the background poll emits.

use std::sync::Arc;

use ident_core::ports::{KeyStore, MemoryKeyStore};
use ident_core::secret::SecretString;
use serde_json::json;

use super::*;
use crate::error::IpcErrorKind;
use crate::poller::ShellEvent;
use crate::test_support::{Fake, Harness, PIN, SMS, T0, harness, harness_with};

const TOTP: &str = "otpauth://totp/GitHub:max?secret=JBSWY3DPEHPK3PXP&issuer=GitHub";
const HOTP: &str = "otpauth://hotp/Bank:max?secret=JBSWY3DPEHPK3PXP&issuer=Bank&counter=0";

fn pin(s: &str) -> SecretString {
    SecretString::from(s)
}

fn set_up(h: &Harness) {
    setup_vault(&h.state, &pin(PIN)).unwrap();
}

fn enroll(h: &Harness) -> i64 {
    match add_from_text(&h.state, &h.fake.link(false)).unwrap() {
        AddResult::PushEnrolled { id } => id,
        other => panic!("expected pushEnrolled, got {other:?}"),
    }
}

fn answer(id: &str, approve: bool, number: Option<&str>, p: Option<&str>) -> AnswerArgs {
    AnswerArgs {
        challenge_id: id.into(),
        approve,
        number: number.map(str::to_owned),
        not_me: false,
        pin: p.map(pin),
    }
}

#[test]
fn status_before_and_after_setup() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    let s = serde_json::to_value(app_status(&h.state).unwrap()).unwrap();
    assert_eq!(
        s,
        json!({
            "vaultExists": false, "unlocked": false, "attemptsLeft": null, "waitSeconds": 0,
            "lockedForever": false, "biometricAvailable": false, "biometricEnabled": false,
            "notifications": "granted", "language": "de", "languageSetting": "system",
            "lockTimeoutSeconds": 300, "platform": "linux"
        })
    );
    let s = setup_vault(&h.state, &pin(PIN)).unwrap();
    assert!(s.vault_exists && s.unlocked);
    assert_eq!(s.attempts_left, Some(10));
    assert!(dir.path().join("vault.db").exists());
}

#[test]
fn setup_refuses_weak_pins_and_a_second_vault() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    let e = setup_vault(&h.state, &pin("123456")).unwrap_err();
    assert_eq!(e, IpcError::with_detail(IpcErrorKind::WeakPin, "sequence"));
    let e = setup_vault(&h.state, &pin("12")).unwrap_err();
    assert_eq!(e, IpcError::with_detail(IpcErrorKind::WeakPin, "length"));
    assert!(!app_status(&h.state).unwrap().vault_exists);
    set_up(&h);
    let e = setup_vault(&h.state, &pin(PIN)).unwrap_err();
    assert_eq!(e, IpcError::invalid("vaultExists"));
}

#[test]
fn lock_unlock_and_wrong_pins() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    assert!(!lock_app(&h.state).unwrap().unlocked);
    assert_eq!(
        list_accounts(&h.state, None).unwrap_err(),
        IpcError::locked()
    );
    let e = unlock(&h.state, &pin("999999")).unwrap_err();
    assert_eq!(
        serde_json::to_value(e).unwrap(),
        json!({"kind": "wrongPin", "attemptsLeft": 9})
    );
    assert_eq!(app_status(&h.state).unwrap().attempts_left, Some(9));
    assert!(unlock(&h.state, &pin(PIN)).unwrap().unlocked);
    assert_eq!(app_status(&h.state).unwrap().attempts_left, Some(10));
    let e = unlock_biometric(&h.state).unwrap_err();
    assert_eq!(e, IpcError::invalid("biometricUnavailable"));
}

#[test]
fn back_off_is_reported_with_its_wait() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    lock_app(&h.state).unwrap();
    for _ in 0..3 {
        unlock(&h.state, &pin("999999")).unwrap_err();
    }
    let e = unlock(&h.state, &pin(PIN)).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::BackOff);
    assert!(e.wait_seconds.unwrap() > 0);
    assert!(app_status(&h.state).unwrap().wait_seconds > 0);
}

#[test]
fn otp_accounts_list_code_rename_move() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    let AddResult::OtpAdded { ids, skipped } =
        add_from_text(&h.state, &format!("{TOTP}\n{HOTP}")).unwrap()
    else {
        panic!("otpAdded expected")
    };
    assert_eq!(ids.len(), 2);
    assert!(skipped.is_empty());
    let list = serde_json::to_value(list_accounts(&h.state, None).unwrap()).unwrap();
    assert_eq!(
        list[0],
        json!({"id": ids[0], "kind": "otp", "name": "max", "issuer": "GitHub", "server": null,
               "login": null, "otpType": "totp", "period": 30, "digits": 6})
    );
    assert_eq!(list[1]["otpType"], "hotp");
    assert_eq!(list[1]["period"], json!(null));

    let c = otp_code(&h.state, ids[0]).unwrap();
    assert_eq!(c.code.len(), 6);
    assert_eq!(c.valid_from, Some(T0 - T0 % 30));
    assert_eq!(c.valid_until, Some(T0 - T0 % 30 + 30));
    let h1 = otp_code(&h.state, ids[1]).unwrap();
    let h2 = otp_code(&h.state, ids[1]).unwrap();
    assert_ne!(h1.code, h2.code, "HOTP advances");
    assert_eq!(h1.valid_until, None);

    let found = list_accounts(&h.state, Some("git")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        rename_account(&h.state, ids[0], "Code").unwrap().name,
        "Code"
    );
    assert_eq!(
        rename_account(&h.state, ids[0], "  ").unwrap_err(),
        IpcError::invalid("name")
    );
    let moved = move_account(&h.state, ids[1], 0).unwrap();
    assert_eq!(moved[0].id, ids[1]);
    assert_eq!(
        move_account(&h.state, ids[1], 7).unwrap_err(),
        IpcError::invalid("index")
    );
    assert_eq!(
        otp_code(&h.state, 999).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::NotFound, "account")
    );
}

#[test]
fn bad_text_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    assert_eq!(
        add_from_text(&h.state, "hello").unwrap_err(),
        IpcError::invalid("unknownFormat")
    );
    assert_eq!(
        add_from_text(&h.state, "otpauth://totp/x?secret=!!").unwrap_err(),
        IpcError::invalid("otpauth")
    );
    assert!(list_accounts(&h.state, None).unwrap().is_empty());
}

fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let w = code.width();
    let colors = code.to_colors();
    let (scale, quiet) = (4u32, 4u32);
    let side = (w as u32 + 2 * quiet) * scale;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (
            (x / scale) as i64 - quiet as i64,
            (y / scale) as i64 - quiet as i64,
        );
        let dark = mx >= 0
            && my >= 0
            && (mx as usize) < w
            && (my as usize) < w
            && colors[my as usize * w + mx as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn qr_images_add_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    let r = add_from_qr_image(&h.state, &qr_png(TOTP)).unwrap();
    assert!(matches!(r, AddResult::OtpAdded { ref ids, .. } if ids.len() == 1));
    let r = add_from_qr_image(&h.state, &qr_png(&h.fake.link(false))).unwrap();
    assert!(matches!(r, AddResult::PushEnrolled { .. }));
}

#[test]
fn push_login_is_polled_notified_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    let id = enroll(&h);
    let list = list_accounts(&h.state, None).unwrap();
    assert_eq!(list[0].kind, "push");
    assert_eq!(list[0].server.as_deref(), Some("https://id.example.de"));
    assert_eq!(list[0].login.as_deref(), Some("12345"));
    assert_eq!(h.state.polling_threads(), 1);

    let device = h.fake.devices().pop().unwrap();
    let chal = h.fake.login(&device, Some("42"));
    let ShellEvent::ChallengeArrived(v) = h
        .events
        .wait_for(|e| matches!(e, ShellEvent::ChallengeArrived(_)))
    else {
        unreachable!()
    };
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"challengeId": chal, "accountId": id, "accountName": "Max Mustermann",
               "service": "Beispiel-Bank", "login": "12345", "ip": "203.0.113.9",
               "userAgent": "Firefox", "location": null, "issuedAt": T0,
               "expiresAt": T0 + 120, "numberRequired": true})
    );
    // The notification names the service only.
    let shown = h.notes.shown();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].id, chal);
    assert_eq!(shown[0].title, "Anmeldung bestätigen?");
    assert_eq!(shown[0].body, "Anmeldeanfrage bei Beispiel-Bank");
    assert_eq!(pending_challenges(&h.state).unwrap(), vec![v.clone()]);

    // Verification and number checks come before anything is sent.
    let e = answer_challenge(&h.state, answer(&chal, true, Some("42"), None)).unwrap_err();
    assert_eq!(e, IpcError::invalid("pinRequired"));
    let e = answer_challenge(&h.state, answer(&chal, true, None, Some(PIN))).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::WrongNumberFormat);
    let e = answer_challenge(&h.state, answer(&chal, true, Some("4x"), Some(PIN))).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::WrongNumberFormat);
    let e =
        answer_challenge(&h.state, answer(&chal, true, Some("42"), Some("999999"))).unwrap_err();
    assert_eq!(
        serde_json::to_value(e).unwrap(),
        json!({"kind": "wrongPin", "attemptsLeft": 9})
    );
    assert_eq!(h.fake.outcome(&chal), None);

    let r = answer_challenge(&h.state, answer(&chal, true, Some("42"), Some(PIN))).unwrap();
    assert_eq!(r.outcome, Outcome::Approved);
    assert_eq!(
        h.fake.outcome(&chal),
        Some(ident_core::protocol::AnswerOutcome::Approved)
    );
    assert!(h.notes.shown().is_empty(), "the notification is cleared");
    assert!(pending_challenges(&h.state).unwrap().is_empty());
    let recent = serde_json::to_value(recent_answers(&h.state, id).unwrap()).unwrap();
    assert_eq!(
        recent,
        json!([{"challengeId": chal, "service": "Beispiel-Bank", "at": T0, "outcome": "approved"}])
    );
    assert_eq!(
        recent_answers(&h.state, id + 1).unwrap_err().kind,
        IpcErrorKind::NotFound
    );
    // The list is in the vault: it survives locking (and a restart).
    lock_app(&h.state).unwrap();
    assert_eq!(
        recent_answers(&h.state, id).unwrap_err(),
        IpcError::locked()
    );
    unlock(&h.state, &pin(PIN)).unwrap();
    assert_eq!(
        serde_json::to_value(recent_answers(&h.state, id).unwrap()).unwrap(),
        recent
    );

    let e = answer_challenge(&h.state, answer(&chal, false, None, Some(PIN))).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::ChallengeGone);
}

#[test]
fn wrong_number_is_a_denial_and_not_me_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    enroll(&h);
    let device = h.fake.devices().pop().unwrap();
    let a = h.fake.login(&device, Some("42"));
    let r = answer_challenge(&h.state, answer(&a, true, Some("43"), Some(PIN))).unwrap();
    assert_eq!(r.outcome, Outcome::Denied);
    let b = h.fake.login(&device, None);
    let mut args = answer(&b, false, None, Some(PIN));
    args.not_me = true;
    assert_eq!(
        answer_challenge(&h.state, args).unwrap().outcome,
        Outcome::Denied
    );
    let c = h.fake.login(&device, None);
    let mut args = answer(&c, true, None, Some(PIN));
    args.not_me = true;
    assert_eq!(
        answer_challenge(&h.state, args).unwrap_err(),
        IpcError::invalid("notMeWithApprove")
    );
    assert_eq!(
        answer_challenge(&h.state, answer("bad id!", true, None, Some(PIN))).unwrap_err(),
        IpcError::invalid("challengeId")
    );
    // Both denials are in the recent list, newest first; the refused
    // "not me" approval is not (nothing was sent).
    let account = list_accounts(&h.state, None).unwrap()[0].id;
    let recent: Vec<(String, Outcome)> = recent_answers(&h.state, account)
        .unwrap()
        .into_iter()
        .map(|r| (r.challenge_id, r.outcome))
        .collect();
    assert_eq!(recent, [(b, Outcome::Denied), (a, Outcome::Denied)]);
}

#[test]
fn requests_answered_elsewhere_and_expired_close() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    enroll(&h);
    let device = h.fake.devices().pop().unwrap();
    let a = h.fake.login(&device, None);
    h.events
        .wait_for(|e| matches!(e, ShellEvent::ChallengeArrived(v) if v.challenge_id == a));
    h.fake.withdraw(&a);
    h.events.wait_for(
        |e| matches!(e, ShellEvent::ChallengeClosed { challenge_id } if *challenge_id == a),
    );
    assert!(h.notes.shown().is_empty());

    let b = h.fake.login(&device, None);
    h.events
        .wait_for(|e| matches!(e, ShellEvent::ChallengeArrived(v) if v.challenge_id == b));
    h.fake.clock.set(T0 + 121);
    h.state.touch();
    h.state.tick();
    h.events.wait_for(
        |e| matches!(e, ShellEvent::ChallengeClosed { challenge_id } if *challenge_id == b),
    );
}

/// A set-up vault and an enrollment waiting for its SMS code (its id).
fn waiting_for_sms(dir: &std::path::Path) -> (Harness, String) {
    let h = harness(dir);
    set_up(&h);
    let AddResult::SmsRequired { pending_id } =
        add_from_text(&h.state, &h.fake.link(true)).unwrap()
    else {
        panic!("smsRequired expected")
    };
    (h, pending_id)
}

#[test]
fn sms_enrollment_waits_for_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let (h, pending_id) = waiting_for_sms(dir.path());
    assert!(list_accounts(&h.state, None).unwrap().is_empty());
    assert_eq!(
        confirm_enrollment(&h.state, &pending_id, "12").unwrap_err(),
        IpcError::invalid("smsCodeFormat")
    );
    assert_eq!(
        confirm_enrollment(&h.state, &pending_id, "000000").unwrap_err(),
        IpcError {
            attempts_left: Some(2),
            ..IpcError::new(IpcErrorKind::SmsCodeWrong)
        }
    );
    assert_eq!(
        confirm_enrollment(&h.state, "p999", SMS).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::NotFound, "pendingEnrollment")
    );
    let r = confirm_enrollment(&h.state, &pending_id, SMS).unwrap();
    assert!(matches!(r, AddResult::PushEnrolled { .. }));
    assert_eq!(list_accounts(&h.state, None).unwrap().len(), 1);
    assert!(
        confirm_enrollment(&h.state, &pending_id, SMS).is_err(),
        "used up"
    );
}

#[test]
fn sms_enrollment_ends_after_three_wrong_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (h, pending_id) = waiting_for_sms(dir.path());
    let left = |e: IpcError| (e.kind, e.attempts_left);
    assert_eq!(
        left(confirm_enrollment(&h.state, &pending_id, "000000").unwrap_err()),
        (IpcErrorKind::SmsCodeWrong, Some(2))
    );
    assert_eq!(
        left(confirm_enrollment(&h.state, &pending_id, "000001").unwrap_err()),
        (IpcErrorKind::SmsCodeWrong, Some(1))
    );
    assert_eq!(
        left(confirm_enrollment(&h.state, &pending_id, "000002").unwrap_err()),
        (IpcErrorKind::SmsCodeExpired, None)
    );
    // The enrollment is over: even the right code finds nothing to confirm.
    assert_eq!(
        confirm_enrollment(&h.state, &pending_id, SMS).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::NotFound, "pendingEnrollment")
    );
    assert!(list_accounts(&h.state, None).unwrap().is_empty());
}

#[test]
fn network_failures_map_to_network() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    enroll(&h);
    h.fake.set_offline(true);
    assert_eq!(
        pending_challenges(&h.state).unwrap_err(),
        IpcError::new(IpcErrorKind::Network)
    );
    assert_eq!(
        add_from_text(&h.state, &h.fake.link(false)).unwrap_err(),
        IpcError::new(IpcErrorKind::Network)
    );
}

#[test]
fn remove_needs_the_pin_and_unenrolls() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    let id = enroll(&h);
    let e = remove_account(&h.state, id, Some(pin("999999"))).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::WrongPin);
    assert_eq!(list_accounts(&h.state, None).unwrap().len(), 1);
    assert_eq!(
        remove_account(&h.state, id, None).unwrap_err(),
        IpcError::invalid("pinRequired")
    );
    assert!(
        remove_account(&h.state, id, Some(pin(PIN)))
            .unwrap()
            .is_empty()
    );
    assert!(h.fake.devices().is_empty(), "the server forgot the device");
    assert_eq!(h.state.polling_threads(), 0);
}

#[test]
fn export_and_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    add_from_text(&h.state, TOTP).unwrap();
    enroll(&h);
    let downloads = dir.path().join("Downloads");
    assert_eq!(
        export_vault(&h.state, &pin("short")).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::WeakPin, "passphrase")
    );
    assert!(!downloads.exists(), "a refused export writes nothing");
    let saved = export_vault(&h.state, &pin("a long passphrase")).unwrap();
    assert_eq!(saved.file_name, "ident-export-2025-06-15.identbackup");
    let path = downloads.join(&saved.file_name);
    assert_eq!(saved.path, path.display().to_string());
    // What reaches the web view is the name and the path, never the content.
    let view = serde_json::to_value(&saved).unwrap();
    assert_eq!(view.as_object().unwrap().len(), 2, "{view}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second export the same day is a new file; the first stays.
    let first = std::fs::read(&path).unwrap();
    let again = export_vault(&h.state, &pin("another passphrase")).unwrap();
    assert_eq!(again.file_name, "ident-export-2025-06-15-2.identbackup");
    assert_eq!(std::fs::read(&path).unwrap(), first);
    let bytes = std::fs::read(&path).unwrap();

    let dir2 = tempfile::tempdir().unwrap();
    let h2 = harness(dir2.path());
    set_up(&h2);
    assert_eq!(
        import_export_file(&h2.state, &bytes, &pin("wrong passphrase")).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::WrongPin, "passphrase")
    );
    let r = serde_json::to_value(
        import_export_file(&h2.state, &bytes, &pin("a long passphrase")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["type"], "otpAdded");
    assert_eq!(r["ids"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["skipped"],
        json!([{"name": "Max Mustermann", "reason": "pushMustReenroll"}])
    );
    assert_eq!(
        import_export_file(&h2.state, b"\x00\x01", &pin("x")).unwrap_err(),
        IpcError::invalid("notAnExport")
    );
    let r = import_export_file(&h2.state, TOTP.as_bytes(), &pin("x")).unwrap();
    assert!(matches!(r, AddResult::OtpAdded { .. }));
}

#[test]
fn export_without_a_folder_or_locked_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(dir.path());
    set_up(&h);
    add_from_text(&h.state, TOTP).unwrap();
    // The Downloads "folder" is a file: storage error, nothing written.
    let blocker = dir.path().join("Downloads");
    std::fs::write(&blocker, b"").unwrap();
    assert_eq!(
        export_vault(&h.state, &pin("a long passphrase")).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::Internal, "storage")
    );
    // No folder at all.
    h.state.export_dir = None;
    assert_eq!(
        export_vault(&h.state, &pin("a long passphrase")).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::Internal, "storage")
    );
    // Locked.
    h.state.export_dir = Some(dir.path().join("elsewhere"));
    lock_app(&h.state).unwrap();
    assert_eq!(
        export_vault(&h.state, &pin("a long passphrase")).unwrap_err(),
        IpcError::locked()
    );
    assert!(!dir.path().join("elsewhere").exists());
}

#[test]
fn idle_timeout_locks_and_stops_polling() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    enroll(&h);
    assert_eq!(h.state.polling_threads(), 1);
    h.fake.clock.advance(299);
    assert!(!h.state.tick());
    h.fake.clock.advance(1);
    assert!(h.state.tick());
    assert!(h.events.all().contains(&ShellEvent::Locked));
    assert_eq!(h.state.polling_threads(), 0);
    assert!(!app_status(&h.state).unwrap().unlocked);
    // 0 never locks.
    unlock(&h.state, &pin(PIN)).unwrap();
    set_lock_timeout(&h.state, 0).unwrap();
    h.fake.clock.advance(100_000);
    assert!(!h.state.tick());
}

#[test]
fn change_pin_checks_both_pins() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    assert_eq!(
        change_pin(&h.state, &pin(PIN), &pin("111111")).unwrap_err(),
        IpcError::with_detail(IpcErrorKind::WeakPin, "repeated")
    );
    let e = change_pin(&h.state, &pin("999999"), &pin("271828")).unwrap_err();
    assert_eq!(e.kind, IpcErrorKind::WrongPin);
    change_pin(&h.state, &pin(PIN), &pin("271828")).unwrap();
    lock_app(&h.state).unwrap();
    assert_eq!(
        unlock(&h.state, &pin(PIN)).unwrap_err().kind,
        IpcErrorKind::WrongPin
    );
    assert!(unlock(&h.state, &pin("271828")).unwrap().unlocked);
}

#[test]
fn settings_persist() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    let s = set_language(&h.state, LanguageSetting::En).unwrap();
    assert_eq!(s.language, crate::settings::Lang::En);
    assert_eq!(
        set_lock_timeout(&h.state, 5).unwrap().lock_timeout_seconds,
        30
    );
    let h2 = harness(dir.path());
    let s = app_status(&h2.state).unwrap();
    assert_eq!(s.language, crate::settings::Lang::En);
    assert_eq!(s.language_setting, LanguageSetting::En);
    assert_eq!(s.lock_timeout_seconds, 30);
    assert_eq!(
        set_language(&h2.state, LanguageSetting::System)
            .unwrap()
            .language,
        crate::settings::Lang::De
    );
}

#[test]
fn english_notifications_follow_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    set_language(&h.state, LanguageSetting::En).unwrap();
    enroll(&h);
    let device = h.fake.devices().pop().unwrap();
    h.fake.login(&device, None);
    h.events
        .wait_for(|e| matches!(e, ShellEvent::ChallengeArrived(_)));
    let shown = h.notes.shown();
    assert_eq!(shown[0].title, "Approve login?");
    assert_eq!(shown[0].body, "Login request at Beispiel-Bank");
}

#[test]
fn biometric_unlock_with_a_key_store() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Arc::new(MemoryKeyStore::default());
    let h = harness_with(
        dir.path(),
        Fake::new(),
        Some(ks.clone() as Arc<dyn KeyStore>),
    );
    set_up(&h);
    let s = app_status(&h.state).unwrap();
    assert!(s.biometric_available && !s.biometric_enabled);
    assert!(set_biometric(&h.state, true).unwrap().biometric_enabled);
    lock_app(&h.state).unwrap();
    assert!(app_status(&h.state).unwrap().biometric_enabled);
    ks.set_refuse(true);
    assert_eq!(
        unlock_biometric(&h.state).unwrap_err(),
        IpcError::new(IpcErrorKind::Cancelled)
    );
    ks.set_refuse(false);
    assert!(unlock_biometric(&h.state).unwrap().unlocked);
    assert!(!set_biometric(&h.state, false).unwrap().biometric_enabled);
}

#[test]
fn a_vault_erased_by_wrong_pins_can_be_set_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(dir.path());
    set_up(&h);
    lock_app(&h.state).unwrap();
    for _ in 0..10 {
        // Step past each back-off.
        h.fake.clock.advance(100_000);
        let _ = unlock(&h.state, &pin("999999"));
    }
    let s = app_status(&h.state).unwrap();
    assert!(s.locked_forever);
    assert_eq!(
        unlock(&h.state, &pin(PIN)).unwrap_err(),
        IpcError::new(IpcErrorKind::LockedForever)
    );
    let s = setup_vault(&h.state, &pin("271828")).unwrap();
    assert!(s.unlocked && !s.locked_forever);
}

#[test]
fn date_of_unix_seconds() {
    assert_eq!(date(0), "1970-01-01");
    assert_eq!(date(T0), "2025-06-15");
    assert_eq!(date(951_782_400), "2000-02-29");
}
