//! RS256 JWT verification for webhook `Authorization` headers (feature `jwt`).

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::VerifyError;

/// The claims of a verified token.
pub type JwtClaims = Map<String, Value>;

/// Verifies RS256-signed JWTs with one or more public keys (for rotation).
///
/// - The algorithm is pinned to RS256: `none`, HS256 (including HS256 "signed" with the
///   public key) and every other algorithm are rejected before any key is tried.
/// - `exp` and `nbf` are checked when present (with a leeway, default 60 s). Make `exp`
///   mandatory with [`JwtVerifier::require_exp`].
/// - `iss` and `aud` are checked only when configured; then they are required.
/// - The header may be `Bearer <jwt>` or the bare token.
#[derive(Clone)]
pub struct JwtVerifier {
    keys: Vec<DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.keys.len())
            .field("iss", &self.validation.iss)
            .field("aud", &self.validation.aud)
            .field("leeway_s", &self.validation.leeway)
            .finish()
    }
}

impl JwtVerifier {
    /// A verifier for RSA public keys in PEM (`-----BEGIN PUBLIC KEY-----` or
    /// `-----BEGIN RSA PUBLIC KEY-----`). Errors name the index of the bad key.
    pub fn from_rsa_pems<I, P>(pems: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let keys = pems
            .into_iter()
            .enumerate()
            .map(|(i, pem)| {
                DecodingKey::from_rsa_pem(pem.as_ref())
                    .map_err(|e| format!("public key #{i} is not an RSA PEM key: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("at least one public key is required".into());
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Ok(Self { keys, validation })
    }

    /// Requires `iss` to be one of `issuers`.
    pub fn issuer<I: IntoIterator<Item = S>, S: ToString>(mut self, issuers: I) -> Self {
        self.validation.set_issuer(&issuers.into_iter().map(|s| s.to_string()).collect::<Vec<_>>());
        self.validation.required_spec_claims.insert("iss".into());
        self
    }

    /// Requires `aud` to contain one of `audiences`.
    pub fn audience<I: IntoIterator<Item = S>, S: ToString>(mut self, audiences: I) -> Self {
        self.validation.set_audience(&audiences.into_iter().map(|s| s.to_string()).collect::<Vec<_>>());
        self.validation.validate_aud = true;
        self.validation.required_spec_claims.insert("aud".into());
        self
    }

    /// Requires an `exp` claim.
    pub fn require_exp(mut self) -> Self {
        self.validation.required_spec_claims.insert("exp".into());
        self
    }

    /// Accepts tokens without an `exp` claim again (undoes [`JwtVerifier::require_exp`]).
    pub fn allow_missing_exp(mut self) -> Self {
        self.validation.required_spec_claims.remove("exp");
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// Verifies an `Authorization` header value (`Bearer <jwt>` or `<jwt>`).
    pub fn verify(&self, authorization: Option<&str>) -> Result<JwtClaims, VerifyError> {
        let value = authorization
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(VerifyError::MissingHeader("authorization"))?;
        let token = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            Some(_) => {
                return Err(VerifyError::Malformed {
                    header: "authorization",
                    reason: "expected `Bearer <jwt>` or a bare JWT",
                });
            }
            None => value,
        };
        self.verify_token(token)
    }

    /// Verifies a bare token.
    pub fn verify_token(&self, token: &str) -> Result<JwtClaims, VerifyError> {
        let header = decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName => {
                VerifyError::InvalidToken("algorithm not accepted (only RS256)".into())
            }
            _ => VerifyError::InvalidToken(format!("malformed token: {e}")),
        })?;
        if header.alg != Algorithm::RS256 {
            return Err(VerifyError::InvalidToken(format!(
                "algorithm {:?} not accepted (only RS256)",
                header.alg
            )));
        }
        let mut last = VerifyError::InvalidToken("signature does not verify with any configured key".into());
        for key in &self.keys {
            match decode::<JwtClaims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => match e.kind() {
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidKeyFormat
                    | ErrorKind::InvalidRsaKey(_) => continue,
                    _ => {
                        last = map_error(e.kind());
                        break;
                    }
                },
            }
        }
        Err(last)
    }
}

fn map_error(kind: &ErrorKind) -> VerifyError {
    match kind {
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
        ErrorKind::InvalidIssuer => VerifyError::ClaimMismatch("iss"),
        ErrorKind::InvalidAudience => VerifyError::ClaimMismatch("aud"),
        ErrorKind::MissingRequiredClaim(claim) => {
            VerifyError::InvalidToken(format!("missing required claim `{claim}`"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            VerifyError::InvalidToken(format!("claim `{claim}` has the wrong type"))
        }
        ErrorKind::InvalidAlgorithm => {
            VerifyError::InvalidToken("algorithm not accepted (only RS256)".into())
        }
        other => VerifyError::InvalidToken(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const PRIV_A: &str = include_str!("../../tests/keys/test-rsa-a.pem");
    const PUB_A: &str = include_str!("../../tests/keys/test-rsa-a.pub.pem");
    const PRIV_B: &str = include_str!("../../tests/keys/test-rsa-b.pem");
    const PUB_B: &str = include_str!("../../tests/keys/test-rsa-b.pub.pem");

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn rs256(private_pem: &str, claims: &Value) -> String {
        encode(
            &Header::new(Algorithm::RS256),
            claims,
            &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::from_rsa_pems([PUB_A]).unwrap()
    }

    #[test]
    fn valid_rs256_passes_bearer_or_bare() {
        let token = rs256(PRIV_A, &json!({"sub": "alvaria", "exp": now() + 300}));
        let claims = verifier().verify(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(claims["sub"], "alvaria");
        assert!(verifier().verify(Some(&token)).is_ok());
        // No exp at all: accepted unless required.
        let no_exp = rs256(PRIV_A, &json!({"sub": "x"}));
        assert!(verifier().verify_token(&no_exp).is_ok());
        assert!(matches!(verifier().require_exp().verify_token(&no_exp), Err(VerifyError::InvalidToken(_))));
        assert!(verifier().require_exp().allow_missing_exp().verify_token(&no_exp).is_ok());
    }

    #[test]
    fn alg_none_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "x", "exp": now() + 300}).to_string());
        for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            assert!(matches!(verifier().verify_token(&token), Err(VerifyError::InvalidToken(_))), "{token}");
        }
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let token = encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "x", "exp": now() + 300}),
            &EncodingKey::from_secret(PUB_A.as_bytes()),
        )
        .unwrap();
        let err = verifier().verify_token(&token).unwrap_err();
        assert!(matches!(&err, VerifyError::InvalidToken(m) if m.contains("only RS256")), "{err}");
    }

    #[test]
    fn expired_and_not_yet_valid_are_rejected() {
        let expired = rs256(PRIV_A, &json!({"exp": now() - 3600}));
        assert_eq!(verifier().verify_token(&expired), Err(VerifyError::Expired));
        let future = rs256(PRIV_A, &json!({"nbf": now() + 3600, "exp": now() + 7200}));
        assert_eq!(verifier().verify_token(&future), Err(VerifyError::NotYetValid));
        // Within the leeway.
        let just = rs256(PRIV_A, &json!({"exp": now() - 5}));
        assert!(verifier().verify_token(&just).is_ok());
        assert_eq!(verifier().leeway(Duration::ZERO).verify_token(&just), Err(VerifyError::Expired));
    }

    #[test]
    fn wrong_key_is_rejected_and_rotation_accepts_both() {
        let by_b = rs256(PRIV_B, &json!({"exp": now() + 300}));
        assert!(matches!(verifier().verify_token(&by_b), Err(VerifyError::InvalidToken(_))));
        let both = JwtVerifier::from_rsa_pems([PUB_A, PUB_B]).unwrap();
        assert!(both.verify_token(&by_b).is_ok());
        assert!(both.verify_token(&rs256(PRIV_A, &json!({}))).is_ok());
        // Tampered payload.
        let token = rs256(PRIV_A, &json!({"sub": "a"}));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"b"}"#);
        parts[1] = &forged;
        assert!(verifier().verify_token(&parts.join(".")).is_err());
    }

    #[test]
    fn issuer_and_audience_are_opt_in_and_then_required() {
        let token = rs256(PRIV_A, &json!({"iss": "alvaria", "aud": ["me"]}));
        assert!(verifier().issuer(["alvaria"]).audience(["me"]).verify_token(&token).is_ok());
        assert_eq!(verifier().issuer(["other"]).verify_token(&token), Err(VerifyError::ClaimMismatch("iss")));
        assert_eq!(verifier().audience(["you"]).verify_token(&token), Err(VerifyError::ClaimMismatch("aud")));
        let bare = rs256(PRIV_A, &json!({}));
        assert!(verifier().issuer(["alvaria"]).verify_token(&bare).is_err());
    }

    #[test]
    fn header_forms_and_bad_keys() {
        assert_eq!(verifier().verify(None), Err(VerifyError::MissingHeader("authorization")));
        assert!(matches!(verifier().verify(Some("Basic abc")), Err(VerifyError::Malformed { .. })));
        assert!(matches!(verifier().verify(Some("Bearer not.a.jwt")), Err(VerifyError::InvalidToken(_))));
        assert!(JwtVerifier::from_rsa_pems(["nope"]).unwrap_err().contains("#0"));
        assert!(JwtVerifier::from_rsa_pems(Vec::<&str>::new()).is_err());
    }
}
