//! Authentication: Basic, HMAC, OAuth2 grants, the token cache and token stores, and the
//! [`Authenticator`] trait the HTTP executor asks for credentials. No I/O but the file
//! store's: grants go over the wire in `cc_core::http`.

mod basic;
#[cfg(feature = "cache")]
mod cache;
pub(crate) mod hmac;
mod oauth;
mod store;
mod token;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::basic::{basic_authorization, parse_basic_authorization};
#[cfg(feature = "cache")]
pub use self::cache::{CachedToken, RefreshPolicy, TokenCache, TokenSource};
#[cfg(feature = "inbox")]
pub(crate) use self::hmac::sha256_hex;
pub use self::hmac::{HmacAlgorithm, SignatureEncoding, hmac, hmac_matches, hmac_sha1_base64};
pub use self::oauth::{AuthorizeUrl, ClientAuth, Grant, State, TokenEndpoint, TokenRequest, parse_redirect};
#[cfg(feature = "file-store")]
pub use self::store::FileTokenStore;
#[cfg(feature = "inbox")]
pub(crate) use self::store::stored;
pub use self::store::{SharedTokenStore, TokenStore};
pub use self::token::{MAX_TOKEN_LIFETIME, OAuthErrorBody, Token};

use crate::Secret;

/// Why authentication failed. Never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the request.
    #[error("token endpoint answered HTTP {status}{}{}", fmt_opt(": ", .error), fmt_opt(" - ", .description))]
    Rejected {
        /// HTTP status.
        status: u16,
        /// OAuth2 `error` code, when the body had one.
        error: Option<String>,
        /// OAuth2 `error_description` or the vendor's message.
        description: Option<String>,
    },
    /// The token endpoint answered 2xx with a body that is not a token.
    #[error("token endpoint sent an invalid response: {0}")]
    InvalidResponse(String),
    /// The token endpoint could not be reached.
    #[error("token endpoint unreachable: {0}")]
    Transport(String),
    /// The `state` that came back with the redirect is not the one sent.
    #[error("OAuth state mismatch: the redirect does not belong to this authorization request")]
    StateMismatch,
    /// The user or the vendor denied the authorization request.
    #[error("authorization denied: {error}{}", fmt_opt(" - ", .description))]
    Denied {
        /// OAuth2 `error` code from the redirect.
        error: String,
        /// `error_description` from the redirect.
        description: Option<String>,
    },
    /// A refresh is needed but there is no refresh token and no other grant to fall back on.
    #[error("no refresh token available; authorize again")]
    NoRefreshToken,
    /// Loading or saving tokens in a token store failed.
    #[error("token store: {0}")]
    Store(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn fmt_opt(prefix: &str, value: &Option<String>) -> String {
    value.as_ref().map(|v| format!("{prefix}{v}")).unwrap_or_default()
}

/// Headers that authenticate one request, and the identity of the credential so that a
/// 401 invalidates exactly the credential that was rejected.
///
/// Cheap to clone (the headers are shared): authenticators build one per token, not one per
/// request.
#[derive(Clone, Debug)]
pub struct Credential {
    headers: Arc<[(String, Secret<String>)]>,
    generation: u64,
}

impl Credential {
    /// A credential made of headers; `generation` identifies it for [`Authenticator::reject`].
    pub fn new(headers: Vec<(String, Secret<String>)>, generation: u64) -> Self {
        Self { headers: headers.into(), generation }
    }

    /// The headers to add to the request.
    pub fn headers(&self) -> &[(String, Secret<String>)] {
        &self.headers
    }

    /// Identity of the credential within its authenticator.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// Source of request credentials for the HTTP executor.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// Credentials for the next request (may fetch or refresh a token).
    async fn credential(&self) -> Result<Credential, AuthError>;

    /// The server answered 401 to a request sent with `credential`. Returns whether a retry
    /// with a fresh credential can help (a token can be re-fetched; a static key cannot).
    fn reject(&self, credential: &Credential) -> bool;
}

/// Fixed headers: a Basic header, an API key, a precomputed HMAC signature.
/// A 401 cannot be fixed by asking again, so [`Authenticator::reject`] returns `false`.
#[derive(Clone, Debug)]
pub struct StaticAuth {
    credential: Credential,
}

impl StaticAuth {
    /// Sends `headers` with every request.
    pub fn new(headers: Vec<(String, Secret<String>)>) -> Self {
        Self { credential: Credential::new(headers, 0) }
    }

    /// `Authorization: Basic base64(user:password)`.
    pub fn basic(user: &str, password: &Secret<String>) -> Self {
        Self::new(vec![("authorization".into(), basic_authorization(user, password))])
    }
}

#[async_trait]
impl Authenticator for StaticAuth {
    async fn credential(&self) -> Result<Credential, AuthError> {
        Ok(self.credential.clone())
    }

    fn reject(&self, _credential: &Credential) -> bool {
        false
    }
}
