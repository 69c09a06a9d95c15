//! Refused device requests leave a warning in the log — the problem and the
//! path, never the proof or the answer — so operators see forged, replayed
//! and broken requests. Its own test binary: the log capture is the process's
//! global subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::phone::Phone;
use ident_core::device_key::DeviceKey;
use ident_core::ports::{Clock, Method};
use ident_core::protocol::{build_proof, paths};

/// Everything the server logs, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_forged_proof_is_logged_without_the_proof() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();
    let app = common::spawn_app_with_broker(|_| {}).await;
    let phone = Phone::enroll(&app, "1000").await;
    let url = phone.account.server.join(paths::CHALLENGES).unwrap();
    let (other, _) = DeviceKey::generate().unwrap();
    let forged = build_proof(
        &other,
        Some(&phone.account.device_id),
        Method::Get,
        &url,
        app.clock.now(),
    )
    .unwrap();
    let r = app
        .http
        .get(url.as_str())
        .header("Ident-Proof", &forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("device request refused"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{text}"));
    assert!(
        line.contains("bad-signature") && line.contains(paths::CHALLENGES),
        "{line}"
    );
    assert!(!text.contains(&forged), "the proof itself is never logged");
}
