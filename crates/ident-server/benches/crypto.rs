//! What the cryptography of one push login costs the server: one request
//! proof verified (the device's long poll; the answer request needs none,
//! the answer is signed itself), the answer verified, one challenge signed —
//! next to a bare ring ECDSA P-256 verify in the same run, the floor no
//! protocol code can go below.
//!
//! Same method as `store.rs`: min and median over rounds (the minimum is
//! what the code costs when nothing else on the machine interferes).
//!
//! `cargo bench -p ident-server --bench crypto [-- rounds]`
#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A report on stdout is this program's output.
#![allow(clippy::print_stdout)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{T0, measure, rounds_arg};

use ident_core::account::{ChallengeId, DeviceId, ServerUrl};
use ident_core::device_key::DeviceKey;
use ident_core::jose::EcKeyPair;
use ident_core::ports::{FixedVerifier, Method, UnixTime, VerificationPrompt, verify_user};
use ident_core::protocol::{
    AnswerClaims, ChallengeClaims, ChallengeContext, DecisionKind, MatchNumber, MemoryReplayCache,
    build_proof, sign_challenge, verify_answer, verify_proof,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

fn main() {
    let rounds = rounds_arg(30);
    let server = EcKeyPair::generate().unwrap().0;
    let iss = ServerUrl::parse("https://id.example.de").unwrap();
    let device_id = DeviceId::parse("dev-0123456789abcdef").unwrap();
    let (device, _) = DeviceKey::generate().unwrap();
    let jwk = device.public_jwk();
    let challenge_id = ChallengeId::parse("chal-0123456789abcdef").unwrap();
    let claims = ChallengeClaims {
        iss: iss.clone(),
        aud: device_id.clone(),
        jti: challenge_id.clone(),
        iat: T0,
        exp: T0 + 120,
        ctx: ChallengeContext {
            service: "Beispiel-Bank Maklerportal".into(),
            login: "max.mustermann@example.de".into(),
            ip: "203.0.113.9".parse().unwrap(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
                .into(),
            location: None,
        },
        nm: true,
    };
    let url = iss.join("/device/v1/challenges").unwrap();
    let proof = build_proof(&device, Some(&device_id), Method::Get, &url, UnixTime(T0)).unwrap();
    let ok = verify_user(
        &FixedVerifier::approving(),
        &VerificationPrompt { reason: "b".into() },
    )
    .unwrap();
    let answer = device
        .sign_answer(
            device_id.as_str(),
            &AnswerClaims {
                jti: challenge_id.clone(),
                aud: iss.clone(),
                iat: T0,
                decision: DecisionKind::Approve,
                nm: Some(MatchNumber::parse("42").unwrap()),
                reason: None,
            },
            &ok,
        )
        .unwrap();

    // Baseline: ring alone, a message as long as the proof's signing input.
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let message = vec![b'x'; proof.rfind('.').unwrap()];
    let sig = pair.sign(&rng, &message).unwrap();
    let public = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref().to_vec(),
    );

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let report = |name: &str, (min, med): (Duration, Duration)| {
        println!("{name:<28} {:8.1} / {:8.1} µs", us(min), us(med));
    };
    println!("{rounds} rounds; per call: min / median");
    let base = measure(rounds, 500, || {
        public
            .verify(black_box(&message), black_box(sig.as_ref()))
            .unwrap()
    });
    report("baseline ring P-256 verify", base);
    report(
        "verify_proof",
        measure(rounds, 500, || {
            // A fresh cache each time: the replay check must pass.
            let cache = MemoryReplayCache::new();
            black_box(verify_proof(&proof, &jwk, Method::Get, &url, UnixTime(T0), &cache).unwrap());
        }),
    );
    report(
        "verify_answer",
        measure(rounds, 500, || {
            black_box(
                verify_answer(
                    &answer,
                    &jwk,
                    &device_id,
                    &challenge_id,
                    &iss,
                    UnixTime(T0),
                    UnixTime(T0 + 120),
                )
                .unwrap(),
            );
        }),
    );
    report(
        "sign_challenge",
        measure(rounds, 500, || {
            black_box(sign_challenge(&server, "srv-1", &claims).unwrap());
        }),
    );
}
