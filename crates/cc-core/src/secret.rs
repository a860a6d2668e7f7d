//! [`Secret`]: a value that never shows up in `Debug`, `Display`, logs or errors.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret value: passwords, client secrets, API keys, access and refresh tokens.
///
/// `Debug` and `Display` print `[redacted]`. The only way to read the value is
/// [`Secret::expose_secret`], so every place that handles the plain value is easy to find.
/// `Secret` deserializes from the inner type (configuration files, token responses) but
/// deliberately does not implement `Serialize`: writing a secret out must be explicit.
///
/// ```
/// use cc_core::Secret;
/// let key = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// assert_eq!(key.expose_secret(), "hunter2");
/// ```
#[derive(Clone, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Reads the value. Call it only where the plain value is needed on the wire.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<Vec<u8>> for Secret<Vec<u8>> {
    fn from(value: Vec<u8>) -> Self {
        Self(value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// Whether a header or field named `name` carries a credential by its name alone:
/// `authorization`, `cookie`, `set-cookie`, and any name holding `token`, `secret`,
/// `password`, `passwd`, `api-key`/`api_key`/`apikey`, `assertion`, `signature` or `session`
/// (case-insensitive). Such values are redacted in logs and printed output even when the
/// code that set them did not mark them secret.
///
/// ```
/// use cc_core::secret::looks_secret;
/// assert!(looks_secret("Cookie") && looks_secret("id_token") && looks_secret("x-api-key"));
/// assert!(!looks_secret("accept") && !looks_secret("expires_in"));
/// ```
pub fn looks_secret(name: &str) -> bool {
    const EXACT: &[&str] = &["authorization", "proxy-authorization", "cookie", "set-cookie"];
    const PARTS: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "api-key",
        "api_key",
        "apikey",
        "assertion",
        "signature",
        "session",
    ];
    let name = name.to_ascii_lowercase();
    EXACT.contains(&name.as_str()) || PARTS.iter().any(|p| name.contains(p))
}

/// A text value that may be secret (a header, a form field): the plain text goes on the wire,
/// [`MaybeSecret::shown`] goes in logs and descriptions.
#[derive(Clone, Debug)]
pub(crate) enum MaybeSecret {
    Plain(String),
    Secret(Secret<String>),
}

impl MaybeSecret {
    /// A header value: secret when the header's name says so ([`looks_secret`]).
    #[cfg(feature = "client")]
    pub(crate) fn for_header(name: &str, value: String) -> Self {
        if looks_secret(name) { Self::Secret(Secret::new(value)) } else { Self::Plain(value) }
    }

    /// The value for the wire.
    pub(crate) fn expose(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret(v) => v.expose_secret(),
        }
    }

    /// The value for logs: `[redacted]` when secret.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret(_) => "[redacted]",
        }
    }

    #[cfg(feature = "client")]
    pub(crate) fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // fields are read through Debug only
    struct Config {
        user: String,
        password: Secret<String>,
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let config = Config { user: "alice".into(), password: Secret::from("p@ss") };
        assert_eq!(format!("{config:?}"), r#"Config { user: "alice", password: [redacted] }"#);
        assert_eq!(format!("{:#?}", Secret::from("p@ss")), "[redacted]");
        assert_eq!(Secret::from("p@ss").to_string(), "[redacted]");
    }

    #[test]
    fn deserializes_from_inner_value() {
        let s: Secret<String> = serde_json::from_str(r#""tok""#).unwrap();
        assert_eq!(s.expose_secret(), "tok");
        assert_eq!(s.into_exposed(), "tok");
    }
}
