//! OAuth2 grants described without I/O: client credentials, authorization code (with the
//! authorize URL and its `state`), refresh token.
//!
//! A [`TokenEndpoint`] turns a [`Grant`] into a [`TokenRequest`] (URL, form, headers).
//! With feature `client`, `cc_core::http::Executor::fetch_token` sends it.

use std::fmt;

use subtle::ConstantTimeEq;

use super::{AuthError, basic_authorization};
use crate::Secret;
use crate::secret::MaybeSecret;

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` (ECE, Alvaria).
    #[default]
    Basic,
    /// `client_id` and `client_secret` as form fields (Webex).
    Form,
}

/// A grant to exchange for a token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Grant {
    /// `grant_type=client_credentials`.
    ClientCredentials,
    /// `grant_type=authorization_code` with the code from the redirect.
    AuthorizationCode {
        /// The `code` query parameter of the redirect.
        code: Secret<String>,
        /// The same redirect URI the authorize request used.
        redirect_uri: String,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// The current refresh token.
        refresh_token: Secret<String>,
    },
}

impl Grant {
    /// The `grant_type` value.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
        }
    }

    /// Whether sending this grant twice is harmless. A refresh grant is not: vendors that
    /// rotate refresh tokens reject the second use of the old one.
    pub fn is_idempotent(&self) -> bool {
        matches!(self, Self::ClientCredentials)
    }
}

/// A token endpoint and the client's credentials for it.
#[derive(Clone, Debug)]
pub struct TokenEndpoint {
    url: String,
    client_id: String,
    client_secret: Secret<String>,
    client_auth: ClientAuth,
    extra: Vec<(String, String)>,
}

impl TokenEndpoint {
    /// A token endpoint at `url` (absolute, may carry its own query such as `?forceLogin=yes`).
    pub fn new(url: impl Into<String>, client_id: impl Into<String>, client_secret: Secret<String>) -> Self {
        Self {
            url: url.into(),
            client_id: client_id.into(),
            client_secret,
            client_auth: ClientAuth::Basic,
            extra: Vec::new(),
        }
    }

    /// How the client authenticates (default [`ClientAuth::Basic`]).
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Adds a form field sent with every grant, e.g. `scope` or Alvaria's `realm`.
    pub fn extra_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Describes the token request for `grant`, without sending it.
    pub fn request(&self, grant: &Grant) -> TokenRequest {
        let mut fields: Vec<(String, MaybeSecret)> =
            vec![("grant_type".into(), MaybeSecret::Plain(grant.grant_type().into()))];
        match grant {
            Grant::ClientCredentials => {}
            Grant::AuthorizationCode { code, redirect_uri } => {
                fields.push(("code".into(), MaybeSecret::Secret(code.clone())));
                fields.push(("redirect_uri".into(), MaybeSecret::Plain(redirect_uri.clone())));
            }
            Grant::RefreshToken { refresh_token } => {
                fields.push(("refresh_token".into(), MaybeSecret::Secret(refresh_token.clone())));
            }
        }
        let authorization = match self.client_auth {
            ClientAuth::Basic => Some(basic_authorization(&self.client_id, &self.client_secret)),
            ClientAuth::Form => {
                fields.push(("client_id".into(), MaybeSecret::Plain(self.client_id.clone())));
                fields.push(("client_secret".into(), MaybeSecret::Secret(self.client_secret.clone())));
                None
            }
        };
        fields.extend(self.extra.iter().map(|(k, v)| (k.clone(), MaybeSecret::Plain(v.clone()))));
        TokenRequest { url: self.url.clone(), fields, authorization, idempotent: grant.is_idempotent() }
    }
}

/// A token request described without I/O: `POST url` with a form body.
///
/// `Debug` and [`TokenRequest::describe`] show secret fields as `[redacted]`.
#[derive(Clone)]
pub struct TokenRequest {
    url: String,
    fields: Vec<(String, MaybeSecret)>,
    authorization: Option<Secret<String>>,
    idempotent: bool,
}

impl TokenRequest {
    /// The URL to POST to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `application/x-www-form-urlencoded` body (holds secrets).
    pub fn form_body(&self) -> Secret<String> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.fields {
            form.append_pair(name, value.expose());
        }
        Secret::new(form.finish())
    }

    /// The `Authorization` header, when the client authenticates with Basic.
    pub fn authorization(&self) -> Option<&Secret<String>> {
        self.authorization.as_ref()
    }

    /// Whether sending it twice is harmless (see [`Grant::is_idempotent`]).
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// One line per part, secrets redacted: for logs and snapshot tests.
    pub fn describe(&self) -> String {
        let mut out = format!("POST {}\n", self.url);
        if self.authorization.is_some() {
            out.push_str("authorization: Basic [redacted]\n");
        }
        out.push_str("content-type: application/x-www-form-urlencoded\n");
        for (name, value) in &self.fields {
            out.push_str(&format!("{name}={}\n", value.shown()));
        }
        out
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The `state` of an authorization-code flow: 128 random bits, checked in constant time.
#[derive(Clone)]
pub struct State(Secret<String>);

impl State {
    /// A fresh random state from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| AuthError::Other(format!("no randomness for OAuth state: {e}")))?;
        Ok(Self(Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect())))
    }

    /// A state you generated and stored yourself (e.g. in a session cookie).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(Secret::new(value.into()))
    }

    /// The value to put in the authorize URL and to store until the redirect.
    pub fn as_secret(&self) -> &Secret<String> {
        &self.0
    }

    /// Checks the `state` that came back, in constant time.
    pub fn verify(&self, returned: &str) -> Result<(), AuthError> {
        let ok: bool = self.0.expose_secret().as_bytes().ct_eq(returned.as_bytes()).into();
        if ok { Ok(()) } else { Err(AuthError::StateMismatch) }
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

/// Builds the URL that sends a user to the vendor's consent page.
#[derive(Clone, Debug)]
pub struct AuthorizeUrl {
    authorize_endpoint: String,
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    extra: Vec<(String, String)>,
}

impl AuthorizeUrl {
    /// `authorize_endpoint` is e.g. `https://webexapis.com/v1/authorize`.
    pub fn new(
        authorize_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            authorize_endpoint: authorize_endpoint.into(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Adds scopes (sent space separated).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Adds another query parameter.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The URL for `state`. Keep the state until the redirect comes back.
    pub fn build(&self, state: &State) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri);
        if !self.scopes.is_empty() {
            query.append_pair("scope", &self.scopes.join(" "));
        }
        query.append_pair("state", state.as_secret().expose_secret());
        for (k, v) in &self.extra {
            query.append_pair(k, v);
        }
        let sep = if self.authorize_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.authorize_endpoint, query.finish())
    }
}

/// Reads the redirect's query string (`code=…&state=…` or `error=…&error_description=…`),
/// checks `state`, and returns the authorization code.
///
/// ```
/// use cc_core::auth::{State, parse_redirect};
/// let state = State::from_stored("s1");
/// let code = parse_redirect("code=abc&state=s1", &state).unwrap();
/// assert_eq!(code.expose_secret(), "abc");
/// assert!(parse_redirect("code=abc&state=other", &state).is_err());
/// ```
pub fn parse_redirect(query: &str, expected: &State) -> Result<Secret<String>, AuthError> {
    let query = query.split_once('?').map_or(query, |(_, q)| q);
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    expected.verify(state.as_deref().unwrap_or_default())?;
    if let Some(error) = error {
        return Err(AuthError::Denied { error, description });
    }
    code.filter(|c| !c.is_empty())
        .map(Secret::new)
        .ok_or_else(|| AuthError::InvalidResponse("redirect has neither `code` nor `error`".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_basic_with_extra_fields() {
        let ep = TokenEndpoint::new("https://id.example/token", "cid", Secret::from("cs"))
            .extra_field("scope", "servermessagingapi")
            .extra_field("realm", "org1");
        let req = ep.request(&Grant::ClientCredentials);
        assert_eq!(
            req.form_body().expose_secret(),
            "grant_type=client_credentials&scope=servermessagingapi&realm=org1"
        );
        assert_eq!(req.authorization().unwrap().expose_secret(), "Basic Y2lkOmNz");
        assert!(req.is_idempotent());
    }

    #[test]
    fn refresh_with_form_client_auth_redacts_secrets() {
        let ep = TokenEndpoint::new("https://id.example/token", "cid", Secret::from("cs"))
            .client_auth(ClientAuth::Form);
        let req = ep.request(&Grant::RefreshToken { refresh_token: Secret::from("r t") });
        assert_eq!(
            req.form_body().expose_secret(),
            "grant_type=refresh_token&refresh_token=r+t&client_id=cid&client_secret=cs"
        );
        assert!(req.authorization().is_none());
        assert!(!req.is_idempotent());
        let described = format!("{req:?}");
        assert!(!described.contains("cs\n") && !described.contains("r t"), "{described}");
        assert!(described.contains("client_secret=[redacted]"));
    }

    #[test]
    fn authorize_url_and_state() {
        let state = State::generate().unwrap();
        assert_eq!(state.as_secret().expose_secret().len(), 32);
        assert_ne!(state.as_secret().expose_secret(), State::generate().unwrap().as_secret().expose_secret());
        let url = AuthorizeUrl::new("https://webexapis.com/v1/authorize", "C1", "https://app/cb")
            .scopes(["cjp:config_read", "cjp:user"])
            .build(&State::from_stored("xyz"));
        assert_eq!(
            url,
            "https://webexapis.com/v1/authorize?response_type=code&client_id=C1&redirect_uri=https%3A%2F%2Fapp%2Fcb&scope=cjp%3Aconfig_read+cjp%3Auser&state=xyz"
        );
        assert_eq!(format!("{state:?}"), "State([redacted])");
    }

    #[test]
    fn redirect_errors() {
        let st = State::from_stored("s");
        assert!(matches!(
            parse_redirect("https://app/cb?error=access_denied&error_description=no&state=s", &st),
            Err(AuthError::Denied { error, description: Some(d) }) if error == "access_denied" && d == "no"
        ));
        assert!(matches!(parse_redirect("code=c", &st), Err(AuthError::StateMismatch)));
        assert!(matches!(parse_redirect("state=s", &st), Err(AuthError::InvalidResponse(_))));
    }
}
