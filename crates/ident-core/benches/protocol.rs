//! What the protocol costs on top of the raw cryptography: verifying a
//! challenge (the device's work per login) and signing an answer, next to a
//! bare ring ECDSA P-256 verify and sign of a message of similar size as the
//! baseline in the same run.
#![allow(missing_docs)]
// Test and benchmark helpers fail loudly on purpose; clippy.toml only
// exempts #[test] functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ident_core::account::{ChallengeId, DeviceId, ServerUrl};
use ident_core::device_key::DeviceKey;
use ident_core::ports::{FixedVerifier, UnixTime, VerificationPrompt, verify_user};
use ident_core::protocol::{
    CHALLENGE_SKEW_SECS, ChallengeClaims, ChallengeContext, Decision, MatchNumber, build_answer,
    sign_challenge, verify_challenge,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

const T0: i64 = 1_750_000_000;

fn bench(c: &mut Criterion) {
    let server = ident_core::jose::EcKeyPair::generate().unwrap().0;
    let server_jwk = server.public_jwk();
    let iss = ServerUrl::parse("https://id.example.de").unwrap();
    let device = DeviceId::parse("dev-0123456789").unwrap();
    let claims = ChallengeClaims {
        iss: iss.clone(),
        aud: device.clone(),
        jti: ChallengeId::parse("chal-0123456789abcdef").unwrap(),
        iat: T0,
        exp: T0 + 120,
        ctx: ChallengeContext {
            service: "Beispiel-Bank Maklerportal".into(),
            login: "max.mustermann@example.de".into(),
            ip: "203.0.113.9".parse().unwrap(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
                .into(),
            location: Some("Frankfurt am Main".into()),
        },
        nm: true,
    };
    let token = sign_challenge(&server, "srv-1", &claims).unwrap();
    let (device_key, _) = DeviceKey::generate().unwrap();
    let verified = verify_challenge(&token, &server_jwk, &iss, &device, UnixTime(T0), 30).unwrap();
    let uv = verify_user(
        &FixedVerifier::approving(),
        &VerificationPrompt { reason: "b".into() },
    )
    .unwrap();
    let decision = Decision::Approve {
        number: Some(MatchNumber::parse("42").unwrap()),
    };

    // Baseline: ring alone, over a message as long as the challenge's signing input.
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let message = vec![b'x'; token.rfind('.').unwrap()];
    let sig = pair.sign(&rng, &message).unwrap();
    let public = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref().to_vec(),
    );

    let mut g = c.benchmark_group("protocol");
    g.bench_function("baseline_ring_p256_verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(&message), black_box(sig.as_ref()))
                .unwrap()
        })
    });
    g.bench_function("baseline_ring_p256_sign", |b| {
        b.iter(|| pair.sign(&rng, black_box(&message)).unwrap())
    });
    g.bench_function("verify_challenge", |b| {
        b.iter(|| {
            verify_challenge(
                black_box(&token),
                &server_jwk,
                &iss,
                &device,
                UnixTime(T0 + 1),
                CHALLENGE_SKEW_SECS,
            )
            .unwrap()
        })
    });
    g.bench_function("build_answer", |b| {
        b.iter(|| {
            build_answer(
                &device_key,
                &device,
                black_box(&verified),
                &decision,
                UnixTime(T0 + 1),
                &uv,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
