//! Constant-time Basic credentials check.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::VerifyError;
use crate::Secret;
use crate::auth::parse_basic_authorization;

/// Checks `Authorization: Basic …` against configured credentials.
///
/// Both sides are hashed with SHA-256 before a constant-time comparison, so neither the
/// content nor the length of the expected credentials leaks through timing.
///
/// ```
/// use cc_core::{Secret, auth::basic_authorization, webhook::BasicVerifier};
/// let v = BasicVerifier::new("ece", Secret::from("s3cret"));
/// let good = basic_authorization("ece", &Secret::from("s3cret"));
/// assert!(v.verify(Some(good.expose_secret())).is_ok());
/// assert!(v.verify(Some("Basic ZWNlOndyb25n")).is_err());
/// ```
#[derive(Clone)]
pub struct BasicVerifier {
    expected: [u8; 32],
}

impl std::fmt::Debug for BasicVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicVerifier([redacted])")
    }
}

fn digest(user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(user.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl BasicVerifier {
    /// Accepts exactly `user` with `password`.
    pub fn new(user: &str, password: Secret<String>) -> Self {
        Self { expected: digest(user, password.expose_secret()) }
    }

    /// Checks an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<(), VerifyError> {
        let header = authorization.ok_or(VerifyError::MissingHeader("authorization"))?;
        let (user, password) = parse_basic_authorization(header).ok_or(VerifyError::Malformed {
            header: "authorization",
            reason: "expected `Basic base64(user:password)`",
        })?;
        let presented = digest(&user, password.expose_secret());
        if bool::from(presented.ct_eq(&self.expected)) {
            Ok(())
        } else {
            Err(VerifyError::CredentialsMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::basic_authorization;

    #[test]
    fn accepts_only_exact_credentials() {
        let v = BasicVerifier::new("user", Secret::from("pa:ss"));
        let header = |u: &str, p: &str| basic_authorization(u, &Secret::from(p)).into_exposed();
        assert_eq!(v.verify(Some(&header("user", "pa:ss"))), Ok(()));
        // The NUL separator keeps "us" + "er:pa:ss" from matching "user" + "pa:ss".
        assert_eq!(v.verify(Some(&header("us", "er:pa:ss"))), Err(VerifyError::CredentialsMismatch));
        assert_eq!(v.verify(Some(&header("user", "pa:sS"))), Err(VerifyError::CredentialsMismatch));
        assert_eq!(v.verify(None), Err(VerifyError::MissingHeader("authorization")));
        assert!(matches!(v.verify(Some("Bearer x")), Err(VerifyError::Malformed { .. })));
        assert_eq!(format!("{v:?}"), "BasicVerifier([redacted])");
    }
}
