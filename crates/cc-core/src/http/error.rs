//! Errors of HTTP calls, and decoding vendors' error bodies.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::auth::AuthError;
use crate::de::JsonError;

/// What a vendor said in an error body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The vendor's error code (`409-100`, `invalid_grant`, `400`…).
    pub code: Option<String>,
    /// The vendor's message.
    pub message: Option<String>,
    /// A tracking/correlation id found in the body.
    pub tracking_id: Option<String>,
}

/// Reads a vendor's error body. Each vendor crate gives its executor a decoder that knows its
/// shapes (usually a [`JsonErrorDecoder`]); the default, [`GenericErrorDecoder`], knows only
/// the shapes no vendor owns (OAuth2's, a bare `code`/`message`).
pub trait ErrorDecoder: Send + Sync {
    /// Extracts code, message and tracking id. Must not fail: an unreadable body gives
    /// `ErrorBody::default()`.
    fn decode(&self, status: u16, body: &[u8]) -> ErrorBody;
}

/// An error decoder described by data: JSON pointers tried in order for each field (the
/// first that holds a string or a number wins), and XML element names for XML bodies.
#[derive(Clone, Copy, Debug)]
pub struct JsonErrorDecoder {
    /// Pointers to the code (`/code`, `/error/key`).
    pub code: &'static [&'static str],
    /// Pointers to the message.
    pub message: &'static [&'static str],
    /// Pointers to a tracking id.
    pub tracking_id: &'static [&'static str],
    /// Element names read from a non-JSON body: code, message (in order), tracking id.
    pub xml: XmlErrorElements,
}

/// Element names a [`JsonErrorDecoder`] reads from an XML error body.
#[derive(Clone, Copy, Debug)]
pub struct XmlErrorElements {
    /// The code's element names, in order.
    pub code: &'static [&'static str],
    /// The message's element names, in order.
    pub message: &'static [&'static str],
    /// The tracking id's element names, in order.
    pub tracking_id: &'static [&'static str],
}

impl ErrorDecoder for JsonErrorDecoder {
    fn decode(&self, _status: u16, body: &[u8]) -> ErrorBody {
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            let first = |pointers: &[&str]| pointers.iter().find_map(|p| json.pointer(p).and_then(scalar));
            return ErrorBody {
                code: first(self.code),
                message: first(self.message),
                tracking_id: first(self.tracking_id),
            };
        }
        let text = String::from_utf8_lossy(body);
        let first = |names: &[&str]| names.iter().find_map(|name| xml_element(&text, name));
        ErrorBody {
            code: first(self.xml.code),
            message: first(self.xml.message),
            tracking_id: first(self.xml.tracking_id),
        }
    }
}

/// The shapes no vendor owns (first match wins per field):
/// - JSON `code` | `errorCode` | `error` (a string, as OAuth2 sends);
/// - JSON `message` | `error_description` | `description`;
/// - JSON `trackingId` | `tracking_id`;
/// - XML `<code>`, `<message>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericErrorDecoder;

impl GenericErrorDecoder {
    const SHAPES: JsonErrorDecoder = JsonErrorDecoder {
        code: &["/code", "/errorCode", "/error"],
        message: &["/message", "/error_description", "/description"],
        tracking_id: &["/trackingId", "/tracking_id"],
        xml: XmlErrorElements { code: &["code"], message: &["message"], tracking_id: &["trackingId"] },
    };
}

impl ErrorDecoder for GenericErrorDecoder {
    fn decode(&self, status: u16, body: &[u8]) -> ErrorBody {
        Self::SHAPES.decode(status, body)
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
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
    pub vendor: ErrorBody,
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

impl crate::VendorError for Error {
    fn status(&self) -> Option<u16> {
        Error::status(self)
    }

    fn vendor_code(&self) -> Option<&str> {
        Error::vendor_code(self)
    }

    fn message(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.vendor.message.as_deref(),
            Self::Auth(AuthError::Rejected { description, .. }) => description.as_deref(),
            _ => None,
        }
    }

    fn tracking_id(&self) -> Option<&str> {
        Error::tracking_id(self)
    }

    fn kind(&self) -> Option<crate::ChannelErrorKind> {
        use crate::ChannelErrorKind as K;
        match self {
            Self::Transport { .. } => Some(K::Unavailable),
            // A token endpoint refusing the credentials (400 `invalid_grant`, 401).
            Self::Auth(AuthError::Rejected { status: 400 | 401 | 403, .. }) => Some(K::Unauthorized),
            Self::Auth(AuthError::Rejected { .. }) | Self::Auth(AuthError::Transport(_)) => {
                Some(K::Unavailable)
            }
            Self::Auth(_) => Some(K::Unauthorized),
            Self::InvalidRequest(_) => Some(K::InvalidInput),
            Self::Decode { .. } | Self::TooLarge { .. } => Some(K::Other),
            Self::Api(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &str) -> ErrorBody {
        GenericErrorDecoder.decode(400, body.as_bytes())
    }

    #[test]
    fn the_generic_decoder_knows_the_shapes_no_vendor_owns() {
        let plain = decode(r#"{"code":400,"message":"Bad Request"}"#);
        assert_eq!((plain.code.as_deref(), plain.message.as_deref()), (Some("400"), Some("Bad Request")));
        let oauth = decode(r#"{"error":"invalid_grant","error_description":"expired"}"#);
        assert_eq!(
            (oauth.code.as_deref(), oauth.message.as_deref()),
            (Some("invalid_grant"), Some("expired"))
        );
        let xml = decode(
            "<?xml version=\"1.0\"?><error><code>403-1</code><ns:message lang=\"en\"> Forbidden </ns:message></error>",
        );
        assert_eq!((xml.code.as_deref(), xml.message.as_deref()), (Some("403-1"), Some("Forbidden")));
        // Vendor shapes are the vendor crates' decoders' business.
        assert_eq!(decode(r#"{"developerMessage":"x"}"#).message, None);
        // Nothing usable.
        assert_eq!(decode(""), ErrorBody::default());
        assert_eq!(decode("<html><body>502</body></html>"), ErrorBody::default());
        assert_eq!(decode("[1,2]"), ErrorBody::default());
    }

    #[test]
    fn a_json_decoder_tries_its_pointers_in_order() {
        const WEBEX: JsonErrorDecoder = JsonErrorDecoder {
            code: &["/error/key"],
            message: &["/error/message/0/description", "/error/message"],
            tracking_id: &["/trackingId"],
            xml: XmlErrorElements { code: &[], message: &[], tracking_id: &[] },
        };
        let wx = WEBEX.decode(
            429,
            br#"{"trackingId":"T1","error":{"key":429,"message":[{"description":"Too many"}]}}"#,
        );
        assert_eq!(
            (wx.code.as_deref(), wx.message.as_deref(), wx.tracking_id.as_deref()),
            (Some("429"), Some("Too many"), Some("T1"))
        );
        let flat = WEBEX.decode(400, br#"{"error":{"key":"400","message":"plain"}}"#);
        assert_eq!(flat.message.as_deref(), Some("plain"));
        assert_eq!(WEBEX.decode(502, b"<html/>"), ErrorBody::default());
    }

    #[test]
    fn display_names_status_code_message_and_tracking() {
        let e = ApiError {
            operation: "ece.start_conversation",
            status: 409,
            vendor: ErrorBody {
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
