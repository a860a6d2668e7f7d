//! HMAC-SHA1 / HMAC-SHA256 and the encodings vendors put signatures in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// A supported HMAC hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum HmacAlgorithm {
    /// HMAC-SHA1 (LivePerson default, Webex legacy API).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
}

impl HmacAlgorithm {
    /// Length of the digest in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// The prefix vendors put before a signature (`sha1`, `sha256`), without the `=`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }

    /// Parses a prefix such as `sha1` or `SHA256`.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        if prefix.eq_ignore_ascii_case("sha1") {
            Some(Self::Sha1)
        } else if prefix.eq_ignore_ascii_case("sha256") {
            Some(Self::Sha256)
        } else {
            None
        }
    }
}

/// Computes `HMAC(key, message)`.
pub fn hmac(algorithm: HmacAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    match algorithm {
        HmacAlgorithm::Sha1 => mac::<Hmac<Sha1>>(key, message),
        HmacAlgorithm::Sha256 => mac::<Hmac<Sha256>>(key, message),
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

/// A secret prepared as an HMAC key for both algorithms: the padded key blocks are hashed
/// once here, so each check hashes only the message (two compressions fewer per check).
#[derive(Clone)]
pub(crate) struct PreparedKey {
    sha1: Hmac<Sha1>,
    sha256: Hmac<Sha256>,
}

impl PreparedKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        let prepared = "HMAC takes keys of any length";
        Self {
            sha1: <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect(prepared),
            sha256: <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect(prepared),
        }
    }

    /// [`hmac_matches`] with this key.
    pub(crate) fn matches(&self, algorithm: HmacAlgorithm, message: &[u8], expected: &[u8]) -> bool {
        fn check<M: Mac + Clone>(keyed: &M, message: &[u8], expected: &[u8]) -> bool {
            let mut m = keyed.clone();
            m.update(message);
            m.verify_slice(expected).is_ok()
        }
        match algorithm {
            HmacAlgorithm::Sha1 => check(&self.sha1, message, expected),
            HmacAlgorithm::Sha256 => check(&self.sha256, message, expected),
        }
    }
}

/// Checks `HMAC(key, message) == expected` in constant time.
pub fn hmac_matches(algorithm: HmacAlgorithm, key: &[u8], message: &[u8], expected: &[u8]) -> bool {
    fn check<M: Mac + KeyInit>(key: &[u8], message: &[u8], expected: &[u8]) -> bool {
        let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
        m.update(message);
        m.verify_slice(expected).is_ok()
    }
    match algorithm {
        HmacAlgorithm::Sha1 => check::<Hmac<Sha1>>(key, message, expected),
        HmacAlgorithm::Sha256 => check::<Hmac<Sha256>>(key, message, expected),
    }
}

/// How a signature is written as text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum SignatureEncoding {
    /// Standard Base64 with padding.
    Base64,
    /// Hexadecimal, either case.
    Hex,
    /// Decide by length: a digest's Base64 and hex lengths never coincide.
    #[default]
    Auto,
}

/// The SHA-256 of `bytes`, lower-case hex: content keys and fingerprints.
#[cfg(feature = "inbox")]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    SignatureEncoding::Hex.encode(&sha2::Sha256::digest(bytes))
}

impl SignatureEncoding {
    /// Encodes a digest (`Auto` encodes as Base64).
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            Self::Base64 | Self::Auto => STANDARD.encode(bytes),
        }
    }

    /// Decodes a signature of an `algorithm` digest. `None` if it is not valid text of this
    /// encoding or has the wrong length for the digest.
    pub fn decode(self, text: &str, algorithm: HmacAlgorithm) -> Option<Vec<u8>> {
        let text = text.trim();
        let len = algorithm.digest_len();
        let decoded = match self {
            Self::Hex => decode_hex(text),
            Self::Base64 => STANDARD.decode(text).ok(),
            Self::Auto if text.len() == 2 * len => decode_hex(text),
            Self::Auto => STANDARD.decode(text).ok(),
        }?;
        (decoded.len() == len).then_some(decoded)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// `Base64(HMAC-SHA1(key, message))`: the Webex legacy v1 signature over the `From` login.
///
/// ```
/// let sig = cc_core::auth::hmac_sha1_base64(b"myRandomApiKeY", b"userID@portal-controlhub.com");
/// assert_eq!(sig, "yDkJq/aXwm9YYs2xgyWRqRnqgfQ=");
/// ```
pub fn hmac_sha1_base64(key: &[u8], message: &[u8]) -> String {
    STANDARD.encode(hmac(HmacAlgorithm::Sha1, key, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2202_and_4231_vectors() {
        // RFC 2202 test case 2 (SHA-1) and RFC 4231 test case 2 (SHA-256).
        let sha1 = hmac(HmacAlgorithm::Sha1, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(SignatureEncoding::Hex.encode(&sha1), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        let sha256 = hmac(HmacAlgorithm::Sha256, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            SignatureEncoding::Hex.encode(&sha256),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_matches(HmacAlgorithm::Sha256, b"Jefe", b"what do ya want for nothing?", &sha256));
        assert!(!hmac_matches(HmacAlgorithm::Sha256, b"Jeff", b"what do ya want for nothing?", &sha256));
    }

    #[test]
    fn webex_legacy_worked_check() {
        // ../shared/vendor-notes/wxcc.md, "Legacy v1": the seed's worked example.
        assert_eq!(
            hmac_sha1_base64(b"myRandomApiKeY", b"userID@portal-controlhub.com"),
            "yDkJq/aXwm9YYs2xgyWRqRnqgfQ="
        );
    }

    #[test]
    fn decoding_checks_encoding_and_length() {
        let digest = hmac(HmacAlgorithm::Sha1, b"k", b"m");
        let hex = SignatureEncoding::Hex.encode(&digest);
        let b64 = SignatureEncoding::Base64.encode(&digest);
        for enc in [SignatureEncoding::Auto, SignatureEncoding::Hex] {
            assert_eq!(enc.decode(&hex, HmacAlgorithm::Sha1).as_deref(), Some(&digest[..]));
            assert_eq!(enc.decode(&hex.to_uppercase(), HmacAlgorithm::Sha1).as_deref(), Some(&digest[..]));
        }
        for enc in [SignatureEncoding::Auto, SignatureEncoding::Base64] {
            assert_eq!(enc.decode(&b64, HmacAlgorithm::Sha1).as_deref(), Some(&digest[..]));
        }
        assert_eq!(SignatureEncoding::Hex.decode(&b64, HmacAlgorithm::Sha1), None);
        assert_eq!(SignatureEncoding::Auto.decode(&b64, HmacAlgorithm::Sha256), None);
        assert_eq!(SignatureEncoding::Auto.decode("zz", HmacAlgorithm::Sha1), None);
        assert_eq!(SignatureEncoding::Hex.decode("abc", HmacAlgorithm::Sha1), None);
        assert_eq!(SignatureEncoding::Auto.decode("", HmacAlgorithm::Sha1), None);
    }
}
