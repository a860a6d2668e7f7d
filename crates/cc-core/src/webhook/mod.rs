//! Verifying inbound webhook requests on their raw bytes, before anything parses them.
//!
//! - [`BasicVerifier`]: `Authorization: Basic` compared in constant time (ECE).
//! - [`HmacVerifier`]: body signatures, `sha1=`/`sha256=`, Base64 or hex, several secrets
//!   for rotation (LivePerson).
//! - `JwtVerifier` (feature `jwt`): RS256 bearer tokens, algorithm pinned (Alvaria).
//! - [`DuplicateFilter`]: drops redeliveries by id, bounded by capacity and age.
//! - `claim` (feature `server`): duplicate detection with in-flight, committed and released states.
//! - `server` (feature `server`): axum building blocks that answer 413/408/401/400/503.
//!
//! Errors say which check failed, never the expected value.

mod basic;
#[cfg(feature = "server")]
pub mod claim;
mod dedupe;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(feature = "server")]
pub mod server;
mod signature;

pub use self::basic::BasicVerifier;
pub use self::dedupe::{DuplicateFilter, Fingerprints};
#[cfg(feature = "jwt")]
pub use self::jwt::{JwtClaims, JwtVerifier};
pub use self::signature::HmacVerifier;

/// Why a webhook request was refused. Names the failed check; never holds the expected
/// signature, credentials or key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is absent.
    #[error("missing `{0}` header")]
    MissingHeader(&'static str),
    /// A header is present but not in the expected form.
    #[error("malformed `{header}` header: {reason}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What is wrong with it (never the expected value).
        reason: &'static str,
    },
    /// The signature does not match the body under any configured secret.
    #[error("signature does not match the body")]
    SignatureMismatch,
    /// The signature names an algorithm that is not accepted.
    #[error("signature algorithm `{0}` is not accepted")]
    AlgorithmNotAccepted(String),
    /// The credentials are wrong.
    #[error("credentials do not match")]
    CredentialsMismatch,
    /// A header that identifies the sender has an unexpected value (`x-liveperson-account-id`).
    #[error("`{0}` header does not match the configured value")]
    HeaderMismatch(&'static str),
    /// The token is invalid: bad signature, wrong algorithm, malformed.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// The token's `iss` or `aud` is not the configured one.
    #[error("token claim `{0}` does not match")]
    ClaimMismatch(&'static str),
    /// No secret is configured for the sender the request names (a subscription id).
    #[error("no secret configured for `{0}`")]
    UnknownSender(String),
    /// A signed timestamp is too far from now (a replayed or delayed request).
    #[error("`{0}` is outside the accepted time window")]
    OutsideWindow(&'static str),
    /// A header disagrees with the member of the body it must equal.
    #[error("`{header}` header does not match the body's `{member}`")]
    BodyMismatch {
        /// The header.
        header: &'static str,
        /// The body member.
        member: &'static str,
    },
}

/// Why a verified payload could not be parsed: the field path (when known) and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed payload{}: {message}", .path.as_ref().map(|p| format!(" at `{p}`")).unwrap_or_default())]
pub struct ParseError {
    /// Field path such as `message[2].type.value`.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// A parse error without a field path.
    pub fn new(message: impl Into<String>) -> Self {
        Self { path: None, message: message.into() }
    }
}

impl From<crate::de::JsonError> for ParseError {
    fn from(e: crate::de::JsonError) -> Self {
        Self { path: Some(e.path), message: e.message }
    }
}
