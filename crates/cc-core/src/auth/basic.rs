//! HTTP Basic credentials (RFC 7617).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Secret;

/// Builds the `Authorization` header value `Basic base64(user:password)`.
///
/// ```
/// use cc_core::{Secret, auth::basic_authorization};
/// let value = basic_authorization("key", &Secret::from("secret"));
/// assert_eq!(value.expose_secret(), "Basic a2V5OnNlY3JldA==");
/// ```
pub fn basic_authorization(user: &str, password: &Secret<String>) -> Secret<String> {
    let raw = format!("{user}:{}", password.expose_secret());
    Secret::new(format!("Basic {}", STANDARD.encode(raw)))
}

/// Splits an `Authorization: Basic …` value into user and password.
///
/// Returns `None` if the scheme is not Basic (case-insensitive), the Base64 is invalid, the
/// decoded text is not UTF-8 or has no `:`.
pub fn parse_basic_authorization(header: &str) -> Option<(String, Secret<String>)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), Secret::new(password.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_colon_in_password() {
        let value = basic_authorization("u", &Secret::from("p:w"));
        let (user, pass) = parse_basic_authorization(value.expose_secret()).unwrap();
        assert_eq!((user.as_str(), pass.expose_secret().as_str()), ("u", "p:w"));
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        for bad in ["Bearer abc", "Basic !!!", "Basic", "Basic dXNlcg==", ""] {
            assert!(parse_basic_authorization(bad).is_none(), "{bad}");
        }
        assert!(parse_basic_authorization("basic dTpw").is_some());
    }
}
