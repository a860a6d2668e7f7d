//! Signature and header checks on raw bytes, with LivePerson's own vectors.

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding, hmac};
use cc_core::webhook::VerifyError;
use lp_notifications::webhook::{LpHeaders, Webhook};

const SECRET: &str = "rl9hacst6kqilbofup64n11ga3";
const ACCOUNT: &str = "42257269";
const CLIENT: &str = "81fad476-88af-4d08-bc0e-20bc69439ed4";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/lp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn headers(signature: &str) -> LpHeaders<'_> {
    LpHeaders { account_id: Some(ACCOUNT), client_id: Some(CLIENT), signature: Some(signature) }
}

fn hook() -> Webhook {
    Webhook::new(ACCOUNT, CLIENT, Secret::from(SECRET))
}

/// The two vectors of `../shared/reference/samples/liveperson/signature-vectors.json`.
const VECTORS: [(&str, &str); 2] = [
    (
        "ms.MessagingEventNotification.ChatStateEvent.PAUSE.consumer.signed.json",
        "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
    ),
    (
        "cqm.ExConversationChangeNotification.UPSERT.close-by-consumer.signed.json",
        "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E=",
    ),
];

#[test]
fn reference_vectors_verify_and_parse() {
    for (file, signature) in VECTORS {
        let body = fixture(file);
        let notification = hook().verify(&headers(signature), &body).unwrap().parse().unwrap();
        assert_eq!(notification.changes.len(), 1, "{file}");
    }
}

#[test]
fn any_one_byte_change_fails() {
    for (file, signature) in VECTORS {
        let body = fixture(file);
        for i in 0..body.len() {
            let mut changed = body.clone();
            changed[i] = changed[i].wrapping_add(1);
            assert_eq!(
                hook().verify(&headers(signature), &changed).unwrap_err(),
                VerifyError::SignatureMismatch,
                "{file}: byte {i}"
            );
        }
    }
}

#[test]
fn reserialized_json_fails_the_check() {
    // The classic mistake: verifying a re-serialization of the parsed body.
    let (file, signature) = VECTORS[0];
    let body = fixture(file);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let reserialized = serde_json::to_vec_pretty(&value).unwrap();
    assert!(hook().verify(&headers(signature), &reserialized).is_err());
}

#[test]
fn emoji_bodies_are_signed_over_utf8_bytes() {
    let body = "{\"kind\":\"notification\",\"body\":{\"changes\":[]},\"type\":\"ms.MessagingEventNotification\",\"x\":\"🙏 é\"}";
    let sig = format!(
        "sha1={}",
        SignatureEncoding::Base64.encode(&hmac(HmacAlgorithm::Sha1, SECRET.as_bytes(), body.as_bytes()))
    );
    assert!(hook().verify(&headers(&sig), body.as_bytes()).is_ok());
}

#[test]
fn sha256_and_hex_variants() {
    let (file, _) = VECTORS[1];
    let body = fixture(file);
    let sha256_hex = format!(
        "sha256={}",
        SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, SECRET.as_bytes(), &body))
    );
    assert_eq!(
        hook().verify(&headers(&sha256_hex), &body).unwrap_err(),
        VerifyError::AlgorithmNotAccepted("sha256".into()),
        "sha256 must be enabled explicitly"
    );
    assert!(hook().accept_sha256().verify(&headers(&sha256_hex), &body).is_ok());
    let sha1_hex = format!(
        "sha1={}",
        SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha1, SECRET.as_bytes(), &body))
    );
    assert!(hook().verify(&headers(&sha1_hex), &body).is_ok());
    assert!(hook().encoding(SignatureEncoding::Base64).verify(&headers(&sha1_hex), &body).is_err());
}

#[test]
fn rotated_secrets_and_identity_headers() {
    let (file, signature) = VECTORS[0];
    let body = fixture(file);
    let rotating =
        Webhook::with_secrets(ACCOUNT, CLIENT, vec![Secret::from("new-secret"), Secret::from(SECRET)]);
    assert!(rotating.verify(&headers(signature), &body).is_ok());

    let wrong_account = LpHeaders { account_id: Some("1"), ..headers(signature) };
    assert_eq!(
        hook().verify(&wrong_account, &body).unwrap_err(),
        VerifyError::HeaderMismatch("x-liveperson-account-id")
    );
    let wrong_client = LpHeaders { client_id: Some("other"), ..headers(signature) };
    assert_eq!(
        hook().verify(&wrong_client, &body).unwrap_err(),
        VerifyError::HeaderMismatch("x-liveperson-client-id")
    );
    let missing = LpHeaders { signature: None, ..headers(signature) };
    assert_eq!(
        hook().verify(&missing, &body).unwrap_err(),
        VerifyError::MissingHeader("x-liveperson-signature")
    );
    assert_eq!(
        hook().verify(&LpHeaders::default(), &body).unwrap_err(),
        VerifyError::MissingHeader("x-liveperson-account-id")
    );

    // Failures never show the expected signature or the secret.
    let wrong = Webhook::new(ACCOUNT, CLIENT, Secret::from("not-it"));
    let err = wrong.verify_and_parse(&headers(signature), &body).unwrap_err();
    for text in [err.to_string(), format!("{err:?}"), format!("{wrong:?}"), format!("{:?}", hook())] {
        assert!(
            !text.contains("e/TfS0wv1HbvEsMqcBMmFLcMslI")
                && !text.contains(SECRET)
                && !text.contains("not-it"),
            "{text}"
        );
    }
}
