//! Errors of HTTP calls, and decoding vendors' error bodies.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::auth::AuthError;
use crate::de::JsonError;

/// What a vendor said in an error body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendorError {
    /// The vendor's error code (`409-100`, `invalid_grant`, `400`…).
    pub code: Option<String>,
    /// The vendor's message.
    pub message: Option<String>,
    /// A tracking/correlation id found in the body.
    pub tracking_id: Option<String>,
}

/// Reads a vendor's error body. Vendor crates supply one that knows their shapes; the
/// default, [`GenericErrorDecoder`], knows the common ones.
pub trait ErrorDecoder: Send + Sync {
    /// Extracts code, message and tracking id. Must not fail: an unreadable body gives
    /// `VendorError::default()`.
    fn decode(&self, status: u16, body: &[u8]) -> VendorError;
}

/// Knows these shapes (first match wins per field):
/// - JSON `code` | `errorCode` | `error.key` | `error` (a string, as OAuth2 sends);
/// - JSON `developerMessage` | `message` | `error_description` | `error.message[0].description`
///   | `error.message` | `errors[0].message` | `description`;
/// - JSON `trackingId` | `trackingID` | `tracking_id` | `error.trackingId`;
/// - XML `<code>`, `<developerMessage>` or `<message>` elements.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericErrorDecoder;

impl ErrorDecoder for GenericErrorDecoder {
    fn decode(&self, _status: u16, body: &[u8]) -> VendorError {
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            return decode_json(&json);
        }
        let text = String::from_utf8_lossy(body);
        VendorError {
            code: xml_element(&text, "code"),
            message: xml_element(&text, "developerMessage").or_else(|| xml_element(&text, "message")),
            tracking_id: xml_element(&text, "trackingId"),
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first(json: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| json.pointer(p).and_then(scalar))
}

fn decode_json(json: &Value) -> VendorError {
    VendorError {
        code: first(json, &["/code", "/errorCode", "/error/key", "/error/code", "/error"]),
        message: first(
            json,
            &[
                "/developerMessage",
                "/message",
                "/error_description",
                "/error/message/0/description",
                "/error/message",
                "/errors/0/message",
                "/description",
            ],
        ),
        tracking_id: first(json, &["/trackingId", "/trackingID", "/tracking_id", "/error/trackingId"]),
    }
}

/// Text of the first `<name>…</name>` (namespace prefixes and attributes tolerated).
fn xml_element(text: &str, name: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let tag_end = rest.find('>')?;
        let tag = &rest[..tag_end];
        let local = tag.split_whitespace().next().unwrap_or("");
        let local = local.rsplit(':').next().unwrap_or(local);
        if local == name && !tag.ends_with('/') {
            let content = &rest[tag_end + 1..];
            let close = content.find("</")?;
            let value = content[..close].trim();
            return (!value.is_empty()).then(|| value.to_owned());
        }
        rest = &rest[tag_end + 1..];
    }
    None
}

/// A non-success HTTP answer.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The operation that failed (`ece.start_conversation`).
    pub operation: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Vendor code, message and tracking id from the body.
    pub vendor: VendorError,
    /// Tracking id from a response header (preferred) or the body.
    pub tracking_id: Option<String>,
    /// The start of the body (at most [`ApiError::MAX_BODY`] bytes, lossy UTF-8), or
    /// `[redacted]` when the response may hold secrets.
    pub body: String,
    /// `Retry-After`, when the vendor sent one.
    pub retry_after: Option<Duration>,
    /// Attempts made, retries included.
    pub attempts: u32,
}

impl ApiError {
    /// How much of the body an error keeps.
    pub const MAX_BODY: usize = 4096;
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("code", &self.vendor.code)
            .field("message", &self.vendor.message)
            .field("tracking_id", &self.tracking_id)
            .field("retry_after", &self.retry_after)
            .field("attempts", &self.attempts)
            .field("body", &self.body)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: HTTP {}", self.operation, self.status)?;
        if let Some(code) = &self.vendor.code {
            write!(f, ", code {code}")?;
        }
        if let Some(message) = &self.vendor.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.tracking_id {
            write!(f, " (tracking id {id})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// How a call failed below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made.
    Connect,
    /// The per-attempt timeout passed.
    Timeout,
    /// The connection broke, or the body was cut short.
    Io,
}

/// The error of an HTTP call. It never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vendor answered with a non-success status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request did not get an answer.
    #[error("{operation} failed: {kind:?} error after {attempts} attempt(s): {message}")]
    Transport {
        /// The operation.
        operation: &'static str,
        /// What went wrong.
        kind: TransportKind,
        /// The underlying error's text.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The vendor answered 2xx with a body that does not match the model.
    #[error("{operation}: HTTP {status} response does not match the model: {error}")]
    Decode {
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Where and why parsing failed.
        error: JsonError,
        /// Tracking id from a response header.
        tracking_id: Option<String>,
    },
    /// Credentials could not be obtained.
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// The response is larger than the executor accepts.
    #[error("{operation}: response body exceeds {limit} bytes")]
    TooLarge {
        /// The operation.
        operation: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The request could not be built (bad URL, bad header value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The HTTP status, when the vendor answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::Decode { status, .. } => Some(*status),
            Self::Auth(AuthError::Rejected { status, .. }) => Some(*status),
            _ => None,
        }
    }

    /// The vendor's error code, when the body had one.
    pub fn vendor_code(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.vendor.code.as_deref(),
            Self::Auth(AuthError::Rejected { error, .. }) => error.as_deref(),
            _ => None,
        }
    }

    /// The tracking id, when the vendor gave one.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.tracking_id.as_deref(),
            Self::Decode { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }

    /// The API error, when the vendor answered with a non-success status.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &str) -> VendorError {
        GenericErrorDecoder.decode(400, body.as_bytes())
    }

    #[test]
    fn decodes_the_vendor_shapes() {
        // ECE (seed 000): 409 on a stale entry-point date.
        let ece = decode(r#"{"code":"409-100","developerMessage":"Entry point has been modified"}"#);
        assert_eq!(
            (ece.code.as_deref(), ece.message.as_deref()),
            (Some("409-100"), Some("Entry point has been modified"))
        );
        // Alvaria: code, message, errors[].
        let alv = decode(
            r#"{"code":400,"message":"Bad Request","errors":[{"scope":"body","reason":"x","message":"workTypeId missing"}]}"#,
        );
        assert_eq!((alv.code.as_deref(), alv.message.as_deref()), (Some("400"), Some("Bad Request")));
        // Webex: {trackingId, error{key, message[{description}]}}.
        let wx = decode(r#"{"trackingId":"T1","error":{"key":429,"message":[{"description":"Too many"}]}}"#);
        assert_eq!(
            (wx.code.as_deref(), wx.message.as_deref(), wx.tracking_id.as_deref()),
            (Some("429"), Some("Too many"), Some("T1"))
        );
        // OAuth2.
        let oauth = decode(r#"{"error":"invalid_grant","error_description":"expired"}"#);
        assert_eq!(
            (oauth.code.as_deref(), oauth.message.as_deref()),
            (Some("invalid_grant"), Some("expired"))
        );
        // XML.
        let xml = decode(
            "<?xml version=\"1.0\"?><error><code>403-1</code><ns:message lang=\"en\"> Forbidden </ns:message></error>",
        );
        assert_eq!((xml.code.as_deref(), xml.message.as_deref()), (Some("403-1"), Some("Forbidden")));
        // Nothing usable.
        assert_eq!(decode(""), VendorError::default());
        assert_eq!(decode("<html><body>502</body></html>"), VendorError::default());
        assert_eq!(decode("[1,2]"), VendorError::default());
    }

    #[test]
    fn display_names_status_code_message_and_tracking() {
        let e = ApiError {
            operation: "ece.start_conversation",
            status: 409,
            vendor: VendorError {
                code: Some("409-100".into()),
                message: Some("stale".into()),
                tracking_id: None,
            },
            tracking_id: Some("T9".into()),
            body: String::new(),
            retry_after: None,
            attempts: 2,
        };
        assert_eq!(
            Error::Api(Box::new(e)).to_string(),
            "ece.start_conversation failed: HTTP 409, code 409-100: stale (tracking id T9) after 2 attempts"
        );
    }
}
