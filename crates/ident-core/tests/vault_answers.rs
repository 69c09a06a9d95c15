//! The recent answers per account (schema version 2): kept across a reopen,
//! newest first, capped per account, gone with their account, sealed to
//! their row and account.

mod vault_common;

use ident_core::account::AccountId;
use ident_core::ports::UnixTime;
use ident_core::vault::{AnswerOutcome, MAX_ANSWERS_PER_ACCOUNT, RecentAnswer, Vault, VaultError};
use vault_common::*;

const PIN: &str = "468024";

fn answer(n: i64, outcome: AnswerOutcome) -> RecentAnswer {
    RecentAnswer {
        challenge_id: format!("chal-{n}"),
        service: format!("Portal {n}"),
        at: UnixTime(1_795_700_000 + n),
        outcome,
    }
}

fn ids(list: &[RecentAnswer]) -> Vec<String> {
    list.iter().map(|a| a.challenge_id.clone()).collect()
}

#[allow(clippy::unwrap_used)] // a test helper
fn two_push_accounts(v: &mut Vault) -> (AccountId, AccountId) {
    let (p1, k1) = push_account("https://id.example.de", "device-a", "max");
    let (p2, k2) = push_account("https://id.other.example", "device-b", "erika");
    let a = v.add_push("Depot", Some("Bank"), p1, k1).unwrap();
    let b = v.add_push("Portal", None, p2, k2).unwrap();
    (a, b)
}

#[test]
fn answers_survive_a_reopen_newest_first_per_account() {
    let (t, mut v, c) = new_vault(PIN);
    let (a, b) = two_push_accounts(&mut v);
    assert!(v.recent_answers(a).unwrap().is_empty());
    v.record_answer(a, &answer(1, AnswerOutcome::Approved))
        .unwrap();
    v.record_answer(b, &answer(2, AnswerOutcome::Denied))
        .unwrap();
    v.record_answer(a, &answer(3, AnswerOutcome::Denied))
        .unwrap();
    drop(v);

    let v = Vault::open(&t.path, &pin(PIN), &c).unwrap();
    let list = v.recent_answers(a).unwrap();
    assert_eq!(
        list,
        [
            answer(3, AnswerOutcome::Denied),
            answer(1, AnswerOutcome::Approved)
        ]
    );
    assert_eq!(
        v.recent_answers(b).unwrap(),
        [answer(2, AnswerOutcome::Denied)]
    );
    assert_eq!(
        v.recent_answers(AccountId(999)).err(),
        Some(VaultError::AccountNotFound(AccountId(999)))
    );
}

#[test]
fn each_account_keeps_only_its_newest_answers() {
    let (t, mut v, _) = new_vault(PIN);
    let (a, b) = two_push_accounts(&mut v);
    v.record_answer(b, &answer(0, AnswerOutcome::Approved))
        .unwrap();
    let total = i64::try_from(MAX_ANSWERS_PER_ACCOUNT).unwrap() + 5;
    for n in 1..=total {
        v.record_answer(a, &answer(n, AnswerOutcome::Approved))
            .unwrap();
    }
    let list = v.recent_answers(a).unwrap();
    assert_eq!(list.len(), MAX_ANSWERS_PER_ACCOUNT);
    assert_eq!(list[0].challenge_id, format!("chal-{total}"));
    assert_eq!(
        list.last().unwrap().challenge_id,
        format!(
            "chal-{}",
            total - i64::try_from(MAX_ANSWERS_PER_ACCOUNT).unwrap() + 1
        )
    );
    // The other account's answer was not pruned with them.
    assert_eq!(ids(&v.recent_answers(b).unwrap()), ["chal-0"]);
    // The file holds no more rows than the lists show.
    let rows: i64 = rusqlite::Connection::open(&t.path)
        .unwrap()
        .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, i64::try_from(MAX_ANSWERS_PER_ACCOUNT).unwrap() + 1);
}

#[test]
fn removing_an_account_removes_its_answers() {
    let (t, mut v, _) = new_vault(PIN);
    let (a, b) = two_push_accounts(&mut v);
    v.record_answer(a, &answer(1, AnswerOutcome::Approved))
        .unwrap();
    v.record_answer(b, &answer(2, AnswerOutcome::Approved))
        .unwrap();
    v.remove(a).unwrap();
    assert_eq!(
        v.record_answer(a, &answer(3, AnswerOutcome::Approved))
            .err(),
        Some(VaultError::AccountNotFound(a))
    );
    let left: Vec<i64> = rusqlite::Connection::open(&t.path)
        .unwrap()
        .prepare("SELECT account_id FROM answers")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, [b.0]);
}

#[test]
fn a_record_moved_to_another_account_or_row_does_not_decrypt() {
    let (t, mut v, c) = new_vault(PIN);
    let (a, b) = two_push_accounts(&mut v);
    v.record_answer(a, &answer(1, AnswerOutcome::Approved))
        .unwrap();
    v.record_answer(b, &answer(2, AnswerOutcome::Approved))
        .unwrap();
    drop(v);
    // Move a's record under b (as an attacker with write access could).
    rusqlite::Connection::open(&t.path)
        .unwrap()
        .execute(
            "UPDATE answers SET account_id = ?1 WHERE account_id = ?2",
            [b.0, a.0],
        )
        .unwrap();
    let v = Vault::open(&t.path, &pin(PIN), &c).unwrap();
    assert_eq!(
        v.recent_answers(b).err(),
        Some(VaultError::Corrupt {
            what: "answer record"
        })
    );
}
