//! A login the portal withdraws (`DELETE /api/v1/auth/{txn}`: the user
//! pressed "Abbrechen" or switched to SMS), with real processes. The device
//! saw the request; afterwards `ident pending` no longer shows it and
//! `ident answer` fails with exit 4 (`challenge_gone`) and a sentence that
//! names the withdrawal as a possible reason. `ident watch`, showing the
//! request while the user decides, reports the refused answer in a sentence
//! and keeps running: the next request arrives and is approved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use ident_e2e::{BROKER, PIN, Server, approve, enroll, ident_command, new_vault, pending};
use serde_json::Value;

fn withdraw(server: &Server, txn: &str) {
    let (status, body) = server.call("DELETE", &format!("/api/v1/auth/{txn}"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "withdrawn", "{body}");
}

#[test]
fn a_withdrawn_request_vanishes_and_cannot_be_answered() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);

    let (txn, number) = server.login(BROKER);
    let challenges = pending(&vault);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    let id = challenges[0]["id"].as_str().unwrap().to_owned();

    withdraw(&server, &txn);
    assert_eq!(pending(&vault), Vec::<Value>::new());
    let out = approve(&vault, &id, &number);
    out.expect_code(4, "answering a withdrawn request");
    let err = &out.json()["error"];
    assert_eq!(err["kind"], "challenge_gone", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(&id), "{message}");
    assert!(message.contains("withdrawn"), "{message}");
    assert_eq!(server.status(&txn), "withdrawn");
}

#[test]
fn watch_survives_a_request_withdrawn_while_the_user_decides() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    enroll(&server, BROKER, &vault);

    let mut child = ident_command(&vault)
        .args(["--pin-stdin", "--json", "watch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{PIN}").unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("`ident watch` printed no {what}"))
    };

    // The request arrives; the user is still deciding when it is withdrawn.
    let (txn, number) = server.login(BROKER);
    let shown = next("challenge");
    assert_eq!(shown["event"], "challenge", "{shown}");
    withdraw(&server, &txn);
    // The user approves with the right number and PIN: refused, in a sentence.
    write!(stdin, "j\n{number}\n{PIN}\n").unwrap();
    let refused = next("error");
    assert_eq!(refused["error"]["kind"], "challenge_gone", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("does not exist"), "{message}");
    assert_eq!(server.status(&txn), "withdrawn");

    // `watch` goes on: the next request is shown and approved.
    let (txn, number) = server.login(BROKER);
    let shown = next("second challenge");
    assert_eq!(shown["event"], "challenge", "{shown}");
    write!(stdin, "j\n{number}\n{PIN}\n").unwrap();
    let answered = next("answer");
    assert_eq!(answered["event"], "answered", "{answered}");
    assert_eq!(answered["status"], "approved", "{answered}");
    assert_eq!(server.status(&txn), "approved");

    // `watch` runs until it is stopped (Ctrl-C).
    drop(stdin);
    child.kill().unwrap();
    child.wait().unwrap();
}
