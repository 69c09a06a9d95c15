//! Forged, replayed, late and misdirected input for every signature check of
//! the protocol: challenges (device side), answers and proofs (server side).
// Test and benchmark helpers fail loudly on purpose; clippy.toml only
// exempts #[test] functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ident_core::account::{ChallengeId, DeviceId, ServerUrl};
use ident_core::device_key::{ANSWER_TYP, DeviceKey, PROOF_TYP};
use ident_core::jose::{self, EcKeyPair, JwsError, b64};
use ident_core::ports::{
    FixedVerifier, Method, UnixTime, UserVerified, VerificationPrompt, verify_user,
};
use ident_core::protocol::{
    AnswerError, CHALLENGE_TYP, ChallengeClaims, ChallengeContext, ChallengeError, Decision,
    DecisionKind, DenyReason, MatchNumber, MemoryReplayCache, ProblemType, ProofError,
    VerifiedChallenge, build_answer, build_proof, sign_challenge, verify_answer, verify_challenge,
    verify_proof,
};
use serde_json::json;
use url::Url;

const T0: i64 = 1_750_000_000;

fn server_url() -> ServerUrl {
    ServerUrl::parse("https://id.example.de").unwrap()
}

fn device() -> DeviceId {
    DeviceId::parse("dev-1").unwrap()
}

fn claims() -> ChallengeClaims {
    ChallengeClaims {
        iss: server_url(),
        aud: device(),
        jti: ChallengeId::parse("chal-1").unwrap(),
        iat: T0,
        exp: T0 + 120,
        ctx: ChallengeContext {
            service: "Portal".into(),
            login: "12345".into(),
            ip: "2001:db8::5".parse().unwrap(),
            user_agent: "Safari".into(),
            location: None,
        },
        nm: true,
    }
}

fn uv() -> UserVerified {
    verify_user(
        &FixedVerifier::approving(),
        &VerificationPrompt { reason: "t".into() },
    )
    .unwrap()
}

/// A token with `header` and `payload` JSON, signed by `key` over exactly those bytes.
fn hand_signed(key: &EcKeyPair, header: serde_json::Value, payload: serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(payload.to_string().as_bytes())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(&sig))
}

// ---------- challenges ----------

fn verify_at(token: &str, key: &EcKeyPair, now: i64) -> Result<VerifiedChallenge, ChallengeError> {
    verify_challenge(
        token,
        &key.public_jwk(),
        &server_url(),
        &device(),
        UnixTime(now),
        30,
    )
}

#[test]
fn genuine_challenge_verifies() {
    let server = EcKeyPair::generate().unwrap().0;
    let t = sign_challenge(&server, "srv-1", &claims()).unwrap();
    let v = verify_at(&t, &server, T0 + 1).unwrap();
    assert_eq!(v.id().as_str(), "chal-1");
    assert_eq!(v.claims(), &claims());
}

#[test]
fn challenge_signed_by_another_key_is_refused() {
    let server = EcKeyPair::generate().unwrap().0;
    let attacker = EcKeyPair::generate().unwrap().0;
    let t = sign_challenge(&attacker, "srv-1", &claims()).unwrap();
    assert_eq!(
        verify_at(&t, &server, T0).unwrap_err(),
        ChallengeError::Jws(JwsError::Signature)
    );
}

#[test]
fn challenge_with_alg_none_or_wrong_typ_is_refused() {
    let server = EcKeyPair::generate().unwrap().0;
    let payload = b64::encode(serde_json::to_string(&claims()).unwrap().as_bytes());
    let none = format!(
        "{}.{payload}.",
        b64::encode(
            json!({"alg": "none", "typ": CHALLENGE_TYP})
                .to_string()
                .as_bytes()
        )
    );
    assert!(matches!(
        verify_at(&none, &server, T0),
        Err(ChallengeError::Jws(_))
    ));
    let none_sig = format!(
        "{}.{payload}.{}",
        b64::encode(
            json!({"alg": "none", "typ": CHALLENGE_TYP})
                .to_string()
                .as_bytes()
        ),
        b64::encode(&[0u8; 64])
    );
    assert_eq!(
        verify_at(&none_sig, &server, T0).unwrap_err(),
        ChallengeError::Jws(JwsError::Algorithm("none".into()))
    );
    // A genuine server signature on another token type (e.g. a proof-typed
    // token) is not a challenge.
    let wrong_typ = jose::sign(&server, PROOF_TYP, Some("srv-1"), &claims()).unwrap();
    assert!(matches!(
        verify_at(&wrong_typ, &server, T0).unwrap_err(),
        ChallengeError::Jws(JwsError::Type { .. })
    ));
}

#[test]
fn challenge_for_another_device_or_from_another_issuer_is_refused() {
    let server = EcKeyPair::generate().unwrap().0;
    let mut c = claims();
    c.aud = DeviceId::parse("dev-2").unwrap();
    let t = sign_challenge(&server, "srv-1", &c).unwrap();
    assert_eq!(
        verify_at(&t, &server, T0).unwrap_err(),
        ChallengeError::WrongAudience
    );
    let mut c = claims();
    c.iss = ServerUrl::parse("https://id.example.de/other").unwrap();
    let t = sign_challenge(&server, "srv-1", &c).unwrap();
    assert_eq!(
        verify_at(&t, &server, T0).unwrap_err(),
        ChallengeError::WrongIssuer
    );
}

#[test]
fn expired_and_future_challenges_are_refused() {
    let server = EcKeyPair::generate().unwrap().0;
    let t = sign_challenge(&server, "srv-1", &claims()).unwrap();
    assert_eq!(
        verify_at(&t, &server, T0 + 150).unwrap_err(),
        ChallengeError::Expired
    );
    assert_eq!(
        verify_at(&t, &server, T0 - 31).unwrap_err(),
        ChallengeError::NotYetValid
    );
    assert!(verify_at(&t, &server, T0 + 149).is_ok());
}

#[test]
fn challenge_without_context_or_with_tampered_payload_is_refused() {
    let server = EcKeyPair::generate().unwrap().0;
    let mut no_ctx = serde_json::to_value(claims()).unwrap();
    no_ctx.as_object_mut().unwrap().remove("ctx");
    let t = hand_signed(
        &server,
        json!({"alg": "ES256", "typ": CHALLENGE_TYP}),
        no_ctx,
    );
    assert_eq!(
        verify_at(&t, &server, T0).unwrap_err(),
        ChallengeError::Claims
    );

    let t = sign_challenge(&server, "srv-1", &claims()).unwrap();
    let parts: Vec<&str> = t.split('.').collect();
    let mut c = claims();
    c.ctx.ip = "198.51.100.66".parse().unwrap();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(serde_json::to_string(&c).unwrap().as_bytes()),
        parts[2]
    );
    assert_eq!(
        verify_at(&tampered, &server, T0).unwrap_err(),
        ChallengeError::Jws(JwsError::Signature)
    );
}

// ---------- answers ----------

struct AnswerCase {
    device_key: DeviceKey,
    challenge: VerifiedChallenge,
}

fn answer_case(nm: bool) -> AnswerCase {
    let server = EcKeyPair::generate().unwrap().0;
    let mut c = claims();
    c.nm = nm;
    let t = sign_challenge(&server, "srv-1", &c).unwrap();
    AnswerCase {
        device_key: DeviceKey::generate().unwrap().0,
        challenge: verify_at(&t, &server, T0).unwrap(),
    }
}

fn check_answer(
    token: &str,
    case: &AnswerCase,
    now: i64,
) -> Result<ident_core::protocol::AnswerClaims, AnswerError> {
    verify_answer(
        token,
        &case.device_key.public_jwk(),
        &device(),
        &ChallengeId::parse("chal-1").unwrap(),
        &server_url(),
        UnixTime(now),
        UnixTime(T0 + 120),
    )
}

#[test]
fn genuine_answers_verify() {
    let case = answer_case(true);
    let n = MatchNumber::parse("42").unwrap();
    let t = build_answer(
        &case.device_key,
        &device(),
        &case.challenge,
        &Decision::Approve {
            number: Some(n.clone()),
        },
        UnixTime(T0 + 5),
        &uv(),
    )
    .unwrap();
    let claims = check_answer(&t, &case, T0 + 6).unwrap();
    assert_eq!(claims.decision(), Decision::Approve { number: Some(n) });
    assert_eq!(claims.aud, server_url());
    let t = build_answer(
        &case.device_key,
        &device(),
        &case.challenge,
        &Decision::Deny {
            reason: Some(DenyReason::NotMe),
        },
        UnixTime(T0 + 5),
        &uv(),
    )
    .unwrap();
    assert_eq!(
        check_answer(&t, &case, T0 + 6).unwrap().decision(),
        Decision::Deny {
            reason: Some(DenyReason::NotMe)
        }
    );
}

#[test]
fn late_answers_are_refused() {
    let case = answer_case(false);
    let t = build_answer(
        &case.device_key,
        &device(),
        &case.challenge,
        &Decision::Approve { number: None },
        UnixTime(T0 + 100),
        &uv(),
    )
    .unwrap();
    assert!(check_answer(&t, &case, T0 + 120).is_ok());
    let err = check_answer(&t, &case, T0 + 121).unwrap_err();
    assert_eq!(err, AnswerError::Late);
    assert_eq!(err.problem_type(), ProblemType::AnswerLate);
}

#[test]
fn answers_for_another_challenge_or_server_are_refused() {
    let case = answer_case(false);
    let key = &case.device_key;
    let other =
        json!({"jti": "chal-2", "aud": "https://id.example.de", "iat": T0, "decision": "approve"});
    let t = key.sign_answer("dev-1", &other, &uv()).unwrap();
    let err = check_answer(&t, &case, T0).unwrap_err();
    assert_eq!(err, AnswerError::WrongChallenge);
    assert_eq!(err.problem_type(), ProblemType::AnswerWrongChallenge);
    let other =
        json!({"jti": "chal-1", "aud": "https://evil.example", "iat": T0, "decision": "approve"});
    let t = key.sign_answer("dev-1", &other, &uv()).unwrap();
    assert_eq!(
        check_answer(&t, &case, T0).unwrap_err(),
        AnswerError::WrongAudience
    );
}

#[test]
fn answers_from_another_device_key_are_refused() {
    let case = answer_case(false);
    let intruder = DeviceKey::generate().unwrap().0;
    // Under the intruder's own kid: another device.
    let t = build_answer(
        &intruder,
        &device(),
        &case.challenge,
        &Decision::Approve { number: None },
        UnixTime(T0),
        &uv(),
    )
    .unwrap();
    let err = check_answer(&t, &case, T0).unwrap_err();
    assert_eq!(err, AnswerError::Jws(JwsError::Signature));
    assert_eq!(err.problem_type(), ProblemType::BadSignature);
    let body =
        json!({"jti": "chal-1", "aud": "https://id.example.de", "iat": T0, "decision": "approve"});
    let t = intruder.sign_answer("dev-9", &body, &uv()).unwrap();
    let err = check_answer(&t, &case, T0).unwrap_err();
    assert_eq!(err, AnswerError::WrongDevice);
    assert_eq!(err.problem_type(), ProblemType::AnswerWrongDevice);
    // A header without kid is not from the device either.
    let t = hand_signed(
        &EcKeyPair::from_pkcs8(&DeviceKey::generate().unwrap().1).unwrap(),
        json!({"alg": "ES256", "typ": ANSWER_TYP}),
        body,
    );
    assert_eq!(
        check_answer(&t, &case, T0).unwrap_err(),
        AnswerError::WrongDevice
    );
}

#[test]
fn malformed_inconsistent_and_stale_answers_are_refused() {
    let case = answer_case(true);
    let key = &case.device_key;
    let base = json!({"jti": "chal-1", "aud": "https://id.example.de", "iat": T0});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key.sign_answer("dev-1", &v, &uv()).unwrap()
    };
    for bad in [
        json!({"decision": "deny", "nm": "42"}),
        json!({"decision": "approve", "reason": "not_me"}),
        json!({"decision": "maybe"}),
        json!({"decision": "approve", "nm": "4"}),
        json!({"decision": "deny", "reason": "bored"}),
        json!({}),
    ] {
        assert_eq!(
            check_answer(&with(bad.clone()), &case, T0).unwrap_err(),
            AnswerError::Claims,
            "{bad}"
        );
    }
    let ok = with(json!({"decision": "deny"}));
    assert_eq!(
        check_answer(&ok, &case, T0).unwrap().decision,
        DecisionKind::Deny
    );
    assert_eq!(
        check_answer(&ok, &case, T0 + 61).unwrap_err(),
        AnswerError::Stale
    );
    assert_eq!(
        check_answer(&ok, &case, T0 - 61).unwrap_err(),
        AnswerError::Stale
    );
    // alg none with the right kid.
    let parts: Vec<&str> = ok.split('.').collect();
    let none = format!(
        "{}.{}.",
        b64::encode(
            json!({"alg": "none", "typ": ANSWER_TYP, "kid": "dev-1"})
                .to_string()
                .as_bytes()
        ),
        parts[1]
    );
    assert!(matches!(
        check_answer(&none, &case, T0).unwrap_err(),
        AnswerError::Jws(_)
    ));
    // A challenge-typed token from the device key is not an answer.
    let wrong_typ = hand_signed(
        &EcKeyPair::generate().unwrap().0,
        json!({"alg": "ES256", "typ": CHALLENGE_TYP, "kid": "dev-1"}),
        base,
    );
    assert!(matches!(
        check_answer(&wrong_typ, &case, T0).unwrap_err(),
        AnswerError::Jws(_)
    ));
}

// ---------- proofs ----------

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

const CHALLENGES: &str = "https://id.example.de/device/v1/challenges";

#[test]
fn genuine_proof_verifies_once() {
    let (key, _) = DeviceKey::generate().unwrap();
    let cache = MemoryReplayCache::new();
    let p = build_proof(
        &key,
        Some(&device()),
        Method::Get,
        &url(&format!("{CHALLENGES}?wait=30")),
        UnixTime(T0),
    )
    .unwrap();
    let c = verify_proof(
        &p,
        &key.public_jwk(),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0),
        &cache,
    )
    .unwrap();
    assert_eq!(c.htu, CHALLENGES);
    let err = verify_proof(
        &p,
        &key.public_jwk(),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0 + 1),
        &cache,
    )
    .unwrap_err();
    assert_eq!(err, ProofError::Replayed);
    assert_eq!(err.problem_type(), ProblemType::ProofReplayed);
}

#[test]
fn proof_time_window_is_60_seconds_each_way() {
    let (key, _) = DeviceKey::generate().unwrap();
    let jwk = key.public_jwk();
    let u = url(CHALLENGES);
    let check = |made: i64, now: i64| {
        let p = build_proof(&key, Some(&device()), Method::Get, &u, UnixTime(made)).unwrap();
        verify_proof(
            &p,
            &jwk,
            Method::Get,
            &u,
            UnixTime(now),
            &MemoryReplayCache::new(),
        )
    };
    assert!(check(T0, T0 + 60).is_ok());
    assert_eq!(check(T0, T0 + 61).unwrap_err(), ProofError::Expired);
    assert!(check(T0 + 60, T0).is_ok());
    assert_eq!(check(T0 + 61, T0).unwrap_err(), ProofError::FromFuture);
    assert_eq!(
        check(T0 + 61, T0).unwrap_err().problem_type(),
        ProblemType::ProofFuture
    );
    assert_eq!(check(i64::MIN, T0).unwrap_err(), ProofError::Expired);
    assert_eq!(check(i64::MAX, T0).unwrap_err(), ProofError::FromFuture);
}

#[test]
fn proof_for_another_method_or_url_is_refused() {
    let (key, _) = DeviceKey::generate().unwrap();
    let jwk = key.public_jwk();
    let cache = MemoryReplayCache::new();
    let p = build_proof(
        &key,
        Some(&device()),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0),
    )
    .unwrap();
    assert_eq!(
        verify_proof(
            &p,
            &jwk,
            Method::Delete,
            &url(CHALLENGES),
            UnixTime(T0),
            &cache
        )
        .unwrap_err(),
        ProofError::Method
    );
    for other in [
        "https://id.example.de/device/v1",
        "https://evil.example/device/v1/challenges",
        "http://id.example.de/device/v1/challenges",
        "https://id.example.de:8443/device/v1/challenges",
    ] {
        assert_eq!(
            verify_proof(&p, &jwk, Method::Get, &url(other), UnixTime(T0), &cache).unwrap_err(),
            ProofError::Url,
            "{other}"
        );
    }
    // Refused proofs were not recorded: the genuine use still works.
    assert!(
        verify_proof(
            &p,
            &jwk,
            Method::Get,
            &url(CHALLENGES),
            UnixTime(T0),
            &cache
        )
        .is_ok()
    );
}

#[test]
fn proof_signed_by_another_key_or_of_another_type_is_refused() {
    let (key, _) = DeviceKey::generate().unwrap();
    let (other, _) = DeviceKey::generate().unwrap();
    let cache = MemoryReplayCache::new();
    let p = build_proof(
        &other,
        Some(&device()),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0),
    )
    .unwrap();
    let err = verify_proof(
        &p,
        &key.public_jwk(),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0),
        &cache,
    )
    .unwrap_err();
    assert_eq!(err, ProofError::Jws(JwsError::Signature));
    assert_eq!(err.problem_type(), ProblemType::BadSignature);
    // An answer-typed token is no proof, even with proof claims.
    let claims =
        json!({"htm": "GET", "htu": CHALLENGES, "iat": T0, "jti": "AAAAAAAAAAAAAAAAAAAAAA"});
    let t = key.sign_answer("dev-1", &claims, &uv()).unwrap();
    let err = verify_proof(
        &t,
        &key.public_jwk(),
        Method::Get,
        &url(CHALLENGES),
        UnixTime(T0),
        &cache,
    )
    .unwrap_err();
    assert!(matches!(err, ProofError::Jws(JwsError::Type { .. })));
    assert_eq!(err.problem_type(), ProblemType::ProofInvalid);
    // A proof with a silly jti is refused before it reaches the cache.
    let t = key
        .sign_proof(
            Some("dev-1"),
            &json!({"htm": "GET", "htu": CHALLENGES, "iat": T0, "jti": "1"}),
        )
        .unwrap();
    assert_eq!(
        verify_proof(
            &t,
            &key.public_jwk(),
            Method::Get,
            &url(CHALLENGES),
            UnixTime(T0),
            &cache
        )
        .unwrap_err(),
        ProofError::Jti
    );
    assert!(cache.is_empty());
}
