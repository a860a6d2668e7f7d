//! HMAC body signatures.

use super::VerifyError;
use crate::Secret;
use crate::auth::hmac::PreparedKey;
use crate::auth::{HmacAlgorithm, SignatureEncoding};

/// Verifies an HMAC signature header over the raw body bytes.
///
/// The header may carry an algorithm prefix (`sha1=…`, `sha256=…`); without one, the
/// default algorithm applies. Only algorithms in the accepted list pass. The signature may be
/// Base64 or hex ([`SignatureEncoding::Auto`] by default). Every configured secret is tried,
/// so a secret can be rotated without dropping deliveries. Comparisons are constant time.
///
/// ```
/// use cc_core::{Secret, auth::{hmac, HmacAlgorithm, SignatureEncoding}, webhook::HmacVerifier};
/// let body = br#"{"kind":"notification"}"#;
/// let sig = SignatureEncoding::Base64.encode(&hmac(HmacAlgorithm::Sha1, b"s", body));
/// let v = HmacVerifier::new(HmacAlgorithm::Sha1, vec![Secret::from("old"), Secret::from("s")]);
/// assert!(v.verify(body, Some(&format!("sha1={sig}"))).is_ok());
/// assert!(v.verify(b"{}", Some(&format!("sha1={sig}"))).is_err());
/// ```
#[derive(Clone)]
pub struct HmacVerifier {
    default_algorithm: HmacAlgorithm,
    accepted: Vec<HmacAlgorithm>,
    encoding: SignatureEncoding,
    /// One per secret; the secrets themselves are not kept.
    keys: Vec<PreparedKey>,
    header: &'static str,
}

impl std::fmt::Debug for HmacVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacVerifier")
            .field("default_algorithm", &self.default_algorithm)
            .field("accepted", &self.accepted)
            .field("encoding", &self.encoding)
            .field("secrets", &self.keys.len())
            .field("header", &self.header)
            .finish()
    }
}

impl HmacVerifier {
    /// Accepts signatures made with `algorithm` under any of `secrets` (UTF-8 bytes).
    pub fn new(algorithm: HmacAlgorithm, secrets: Vec<Secret<String>>) -> Self {
        Self {
            default_algorithm: algorithm,
            accepted: vec![algorithm],
            encoding: SignatureEncoding::Auto,
            keys: secrets.iter().map(|s| PreparedKey::new(s.expose_secret().as_bytes())).collect(),
            header: "signature",
        }
    }

    /// Also accepts signatures whose prefix names `algorithm`.
    pub fn accept(mut self, algorithm: HmacAlgorithm) -> Self {
        if !self.accepted.contains(&algorithm) {
            self.accepted.push(algorithm);
        }
        self
    }

    /// Fixes the encoding instead of detecting it by length.
    pub fn encoding(mut self, encoding: SignatureEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The header name used in error messages (default `signature`).
    pub fn header_name(mut self, header: &'static str) -> Self {
        self.header = header;
        self
    }

    /// Checks `signature` (the header value) against `body`.
    pub fn verify(&self, body: &[u8], signature: Option<&str>) -> Result<(), VerifyError> {
        let header = self.header;
        let value =
            signature.map(str::trim).filter(|v| !v.is_empty()).ok_or(VerifyError::MissingHeader(header))?;
        let (algorithm, encoded) = match value.split_once('=') {
            // An algorithm name is short; the Base64 of a digest runs 27+ characters before
            // its `=` padding, so the two cannot be confused.
            Some((prefix, rest))
                if (1..=10).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                let algorithm = HmacAlgorithm::from_prefix(prefix)
                    .ok_or_else(|| VerifyError::AlgorithmNotAccepted(prefix.to_owned()))?;
                (algorithm, rest)
            }
            _ => (self.default_algorithm, value),
        };
        if !self.accepted.contains(&algorithm) {
            return Err(VerifyError::AlgorithmNotAccepted(algorithm.prefix().to_owned()));
        }
        let presented = self.encoding.decode(encoded, algorithm).ok_or(VerifyError::Malformed {
            header,
            reason: "not a Base64 or hex digest of the expected length",
        })?;
        // Try every secret: the time spent does not depend on which one matched.
        let matched = self.keys.iter().fold(false, |acc, key| key.matches(algorithm, body, &presented) | acc);
        if matched { Ok(()) } else { Err(VerifyError::SignatureMismatch) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hmac;

    fn sign(alg: HmacAlgorithm, key: &str, body: &[u8], enc: SignatureEncoding) -> String {
        enc.encode(&hmac(alg, key.as_bytes(), body))
    }

    #[test]
    fn prefixes_encodings_and_rotation() {
        let body = "{\"text\":\"héllo 👋\"}".as_bytes();
        let v =
            HmacVerifier::new(HmacAlgorithm::Sha1, vec![Secret::from("new")]).accept(HmacAlgorithm::Sha256);
        for alg in [HmacAlgorithm::Sha1, HmacAlgorithm::Sha256] {
            for enc in [SignatureEncoding::Base64, SignatureEncoding::Hex] {
                let sig = sign(alg, "new", body, enc);
                assert_eq!(
                    v.verify(body, Some(&format!("{}={sig}", alg.prefix()))),
                    Ok(()),
                    "{alg:?} {enc:?}"
                );
            }
        }
        // No prefix: the default algorithm.
        assert_eq!(
            v.verify(body, Some(&sign(HmacAlgorithm::Sha1, "new", body, SignatureEncoding::Base64))),
            Ok(())
        );
        // Upper-case hex and prefix.
        let upper = sign(HmacAlgorithm::Sha1, "new", body, SignatureEncoding::Hex).to_uppercase();
        assert_eq!(v.verify(body, Some(&format!("SHA1={upper}"))), Ok(()));
    }

    #[test]
    fn failures_name_the_check_not_the_expected_value() {
        let body = b"payload";
        let expected = sign(HmacAlgorithm::Sha1, "k", body, SignatureEncoding::Base64);
        let v = HmacVerifier::new(HmacAlgorithm::Sha1, vec![Secret::from("k")]).header_name("x-sig");
        assert_eq!(v.verify(body, None), Err(VerifyError::MissingHeader("x-sig")));
        assert_eq!(v.verify(body, Some("  ")), Err(VerifyError::MissingHeader("x-sig")));
        assert_eq!(v.verify(body, Some("md5=abc")), Err(VerifyError::AlgorithmNotAccepted("md5".into())));
        let sha256 = sign(HmacAlgorithm::Sha256, "k", body, SignatureEncoding::Base64);
        assert_eq!(
            v.verify(body, Some(&format!("sha256={sha256}"))),
            Err(VerifyError::AlgorithmNotAccepted("sha256".into()))
        );
        assert!(matches!(
            v.verify(body, Some("sha1=!!!")),
            Err(VerifyError::Malformed { header: "x-sig", .. })
        ));
        let wrong = sign(HmacAlgorithm::Sha1, "other", body, SignatureEncoding::Base64);
        let err = v.verify(body, Some(&format!("sha1={wrong}"))).unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch);
        for text in [err.to_string(), format!("{err:?}"), format!("{v:?}")] {
            assert!(!text.contains(&expected), "{text}");
        }
        assert_eq!(
            v.verify(b"payloaD", Some(&format!("sha1={expected}"))),
            Err(VerifyError::SignatureMismatch)
        );
    }
}
