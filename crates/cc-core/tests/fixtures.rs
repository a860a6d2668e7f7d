//! Snapshot tests over `fixtures/core/`: token responses parsed by [`Token`] and signature
//! vectors checked by [`HmacVerifier`]. Run through `cargo xtask test-fixtures`.

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, Token};
use cc_core::de::parse_json;
use cc_core::webhook::HmacVerifier;
use serde_json::{Value, json};

/// What a token response parses into, secrets shown only by length.
fn summarize(token: &Token) -> Value {
    json!({
        "access_token": format!("[redacted, {} chars]", token.access_token().expose_secret().len()),
        "token_type": token.token_type(),
        "expires_in_s": token.expires_in().map(|d| d.as_secs()),
        "refresh_token": token.refresh_token().map(|r| format!("[redacted, {} chars]", r.expose_secret().len())),
        "refresh_token_expires_in_s": token.refresh_token_expires_in().map(|d| d.as_secs()),
        "scope": token.scope(),
        "extra_fields": token.extra().keys().collect::<Vec<_>>(),
        "authorization_scheme": token.authorization().expose_secret().split(' ').next(),
    })
}

#[test]
fn token_responses() {
    insta::glob!("../../../fixtures", "core/token/*.json", |path| {
        let bytes = std::fs::read(path).unwrap();
        let parsed = match parse_json::<Token>(&bytes) {
            Ok(token) => {
                // Debug never shows the token itself.
                let debug = format!("{token:?}");
                let quoted = format!("{:?}", token.access_token().expose_secret());
                assert!(!debug.contains(&quoted) && debug.contains("access_token: [redacted]"), "{debug}");
                summarize(&token)
            }
            Err(err) => json!({ "error": err.to_string(), "path": err.path }),
        };
        insta::assert_json_snapshot!(parsed);
    });
}

#[derive(serde::Deserialize)]
struct Vector {
    algorithm: String,
    secret: String,
    signature: String,
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
    body: String,
}

#[test]
fn signature_vectors() {
    insta::glob!("../../../fixtures", "core/signatures/*.json", |path| {
        let v: Vector = parse_json(&std::fs::read(path).unwrap()).unwrap();
        let algorithm = match v.algorithm.as_str() {
            "sha1" => HmacAlgorithm::Sha1,
            "sha256" => HmacAlgorithm::Sha256,
            other => panic!("unknown algorithm {other}"),
        };
        let body = v.body.as_bytes();
        let verifier = HmacVerifier::new(algorithm, vec![Secret::new(v.secret.clone())]);
        let verified = verifier.verify(body, Some(&v.signature));
        assert_eq!(verified, Ok(()), "{}", path.display());

        // Every single-byte change anywhere in the body fails (first, middle, last byte).
        let mut flipped = Vec::new();
        for i in [0, body.len() / 2, body.len() - 1] {
            let mut changed = body.to_vec();
            changed[i] ^= 0x01;
            let result = verifier.verify(&changed, Some(&v.signature));
            assert!(result.is_err(), "byte {i} changed and still verified");
            flipped.push(result.unwrap_err().to_string());
        }
        // Another secret fails; the same secret among rotated ones passes.
        let wrong = HmacVerifier::new(algorithm, vec![Secret::from("not-the-secret")])
            .verify(body, Some(&v.signature));
        assert!(wrong.is_err());
        let rotated =
            HmacVerifier::new(algorithm, vec![Secret::from("new-secret"), Secret::new(v.secret.clone())]);
        assert_eq!(rotated.verify(body, Some(&v.signature)), Ok(()));

        let report = json!({
            "algorithm": v.algorithm,
            "body_bytes": body.len(),
            "non_ascii_body": !v.body.is_ascii(),
            "headers": v.headers,
            "verified": verified.is_ok(),
            "one_byte_changed": flipped,
            "wrong_secret": wrong.unwrap_err().to_string(),
        });
        insta::assert_json_snapshot!(report);
    });
}
