//! OAuth2 grants sent over HTTP: [`Executor::fetch_token`] and the [`OAuth2Source`] a
//! [`TokenCache`](crate::auth::TokenCache) fetches through. `auth` describes the grants
//! without I/O; this is where they meet the wire.

use async_trait::async_trait;

use super::{Body, Error, Executor, Request};
use crate::auth::{AuthError, Grant, Token, TokenEndpoint, TokenSource};

impl Executor {
    /// Sends `grant` to `endpoint` (without this executor's credentials) and parses the
    /// token. A refresh grant is not idempotent: it is retried only when it provably did not
    /// reach the server or the server asked for a retry.
    pub async fn fetch_token(&self, endpoint: &TokenEndpoint, grant: &Grant) -> Result<Token, AuthError> {
        let described = endpoint.request(grant);
        let mut request = Request::post(described.url())
            .operation("oauth2.token")
            .without_auth()
            .sensitive_response()
            .idempotent(described.is_idempotent())
            .header("accept", "application/json")
            .body(Body::Form(described.form_body()));
        if let Some(authorization) = described.authorization() {
            request = request.secret_header("authorization", authorization.clone());
        }
        self.send_json::<Token>(&request).await.map_err(Error::into_auth_error)
    }
}

impl Error {
    /// This failure of a token endpoint as an [`AuthError`]: a refusal keeps its status, code
    /// and message; an answer that is not a token names the field; the rest is transport.
    pub fn into_auth_error(self) -> AuthError {
        match self {
            Error::Api(api) => AuthError::Rejected {
                status: api.status,
                error: api.vendor.code.clone(),
                description: api.vendor.message.clone(),
            },
            Error::Decode { error, .. } => {
                AuthError::InvalidResponse(format!("at `{}`: {}", error.path, error.message))
            }
            Error::Auth(auth) => auth,
            other => AuthError::Transport(other.to_string()),
        }
    }
}

/// A [`TokenSource`] that uses a [`TokenEndpoint`]: the refresh token when the previous token
/// has one, otherwise the configured first grant (client credentials), otherwise
/// [`AuthError::NoRefreshToken`].
#[derive(Clone, Debug)]
pub struct OAuth2Source {
    endpoint: TokenEndpoint,
    executor: Executor,
    first_grant: Option<Grant>,
}

impl OAuth2Source {
    /// Client-credentials flow (ECE login, Alvaria): every new token comes from the
    /// client-credentials grant, or the refresh token if the vendor issued one.
    pub fn client_credentials(endpoint: TokenEndpoint, executor: Executor) -> Self {
        Self { endpoint, executor, first_grant: Some(Grant::ClientCredentials) }
    }

    /// Authorization-code flow: seed the [`TokenCache`](crate::auth::TokenCache) with the
    /// token from [`Executor::fetch_token`] with [`Grant::AuthorizationCode`] (or from a store);
    /// this source then only refreshes.
    pub fn refresh_only(endpoint: TokenEndpoint, executor: Executor) -> Self {
        Self { endpoint, executor, first_grant: None }
    }
}

#[async_trait]
impl TokenSource for OAuth2Source {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, AuthError> {
        if let Some(refresh_token) = previous.and_then(Token::refresh_token) {
            let grant = Grant::RefreshToken { refresh_token: refresh_token.clone() };
            match (self.executor.fetch_token(&self.endpoint, &grant).await, &self.first_grant) {
                // The refresh token was refused (expired, revoked): start over if we can.
                (Err(AuthError::Rejected { status: 400 | 401, .. }), Some(first)) => {
                    return self.executor.fetch_token(&self.endpoint, first).await;
                }
                (result, _) => return result,
            }
        }
        match &self.first_grant {
            Some(grant) => self.executor.fetch_token(&self.endpoint, grant).await,
            None => Err(AuthError::NoRefreshToken),
        }
    }
}
