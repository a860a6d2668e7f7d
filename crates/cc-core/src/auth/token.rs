//! OAuth2 token responses, parsed leniently.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::Secret;
use crate::de::lenient_opt_u64;

/// The longest lifetime taken from a token response: larger values (a server's "never
/// expires" as `i64::MAX`, garbage) are read as this, so that adding it to a clock cannot
/// overflow. A token is still renewed early on a 401.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

fn clamped(seconds: u64) -> Duration {
    Duration::from_secs(seconds).min(MAX_TOKEN_LIFETIME)
}

/// An access token as a token endpoint returned it (RFC 6749 §5.1), parsed leniently:
/// expiries may be numbers or strings, `token_type`, `scope` and the refresh fields are
/// optional, unknown fields are kept in [`Token::extra`].
///
/// `Debug` redacts the tokens and shows only the names of extra fields.
#[derive(Clone, Deserialize)]
pub struct Token {
    access_token: Secret<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    expires_in: Option<u64>,
    /// The lifetime to the millisecond, for tokens made here (from a store, a simulator):
    /// whole seconds would make a token restored with 0.9 s left look expired.
    #[serde(skip)]
    lifetime_ms: Option<u64>,
    #[serde(default)]
    refresh_token: Option<Secret<String>>,
    #[serde(default, deserialize_with = "lenient_opt_u64")]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

impl Token {
    /// A bearer token with an optional lifetime (simulators, tests, tokens from a store).
    pub fn bearer(access_token: impl Into<String>, expires_in: Option<Duration>) -> Self {
        Self {
            access_token: Secret::new(access_token.into()),
            token_type: Some("Bearer".into()),
            expires_in: expires_in.map(|d| d.as_secs()),
            lifetime_ms: expires_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            refresh_token: None,
            refresh_token_expires_in: None,
            scope: None,
            extra: BTreeMap::new(),
        }
    }

    /// Sets the refresh token (builder style).
    pub fn with_refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh_token = Some(Secret::new(refresh_token.into()));
        self
    }

    /// Sets the refresh token's lifetime (builder style; tokens restored from a store).
    pub fn with_refresh_token_expires_in(mut self, lifetime: Duration) -> Self {
        self.refresh_token_expires_in = Some(lifetime.as_secs());
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &Secret<String> {
        &self.access_token
    }

    /// `token_type` as sent (often `Bearer`, sometimes lower case, sometimes absent).
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }

    /// Lifetime of the access token from when it was issued, at most [`MAX_TOKEN_LIFETIME`]
    /// (a server that says `expires_in: 9223372036854775807` gets a year, not an overflow).
    pub fn expires_in(&self) -> Option<Duration> {
        match self.lifetime_ms {
            Some(ms) => Some(Duration::from_millis(ms).min(MAX_TOKEN_LIFETIME)),
            None => self.expires_in.map(clamped),
        }
    }

    /// The refresh token, if the grant returned one.
    pub fn refresh_token(&self) -> Option<&Secret<String>> {
        self.refresh_token.as_ref()
    }

    /// Lifetime of the refresh token, if the vendor says; at most [`MAX_TOKEN_LIFETIME`].
    pub fn refresh_token_expires_in(&self) -> Option<Duration> {
        self.refresh_token_expires_in.map(clamped)
    }

    /// Granted scopes, space separated.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Fields beyond RFC 6749's.
    pub fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.extra
    }

    /// The `Authorization` header value: `Bearer <token>` whatever case `token_type` had.
    pub fn authorization(&self) -> Secret<String> {
        Secret::new(format!("Bearer {}", self.access_token.expose_secret()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .field("scope", &self.scope)
            .field("extra_fields", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// An OAuth2 error response (RFC 6749 §5.2): `{"error", "error_description"?}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct OAuthErrorBody {
    /// Error code such as `invalid_grant`.
    pub error: String,
    /// Human-readable text.
    #[serde(default)]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::parse_json;

    #[test]
    fn lenient_token_response() {
        let t: Token = parse_json(
            br#"{"access_token":"a","expires_in":"3599","refresh_token":"r","refresh_token_expires_in":7776000,"id_token":"x"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in(), Some(Duration::from_secs(3599)));
        assert_eq!(t.token_type(), None);
        assert_eq!(t.refresh_token().unwrap().expose_secret(), "r");
        assert_eq!(t.authorization().expose_secret(), "Bearer a");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("\"a\"") && !dbg.contains("\"r\"") && !dbg.contains("\"x\""), "{dbg}");
        assert!(dbg.contains("extra_fields: [\"id_token\"]"), "{dbg}");
    }

    #[test]
    fn access_token_is_required() {
        let err = parse_json::<Token>(br#"{"token_type":"Bearer"}"#).unwrap_err();
        assert!(err.message.contains("access_token"), "{err}");
    }
}
