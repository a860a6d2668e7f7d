//! The crate's error type.

use cc_core::de::JsonError;

use crate::csv::CsvError;

/// What went wrong talking to the legacy API. Never contains the API key or the signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 401: the signature, the From login or the tenant id was refused.
    #[cfg(feature = "client")]
    #[error(
        "HTTP 401 from {operation}: the API refused the credentials. Sent `Authorization: \
         Base64(HMAC-SHA1(API key, From))` followed by `{separator}tenantId={tenant_id}` and \
         `From: {from}`. Check that the API key belongs to {from}, that From matches the \
         login exactly, and the tenant id.{}",
        body_hint(.body)
    )]
    Unauthorized {
        /// The operation.
        operation: &'static str,
        /// The From login sent.
        from: String,
        /// The tenant id sent.
        tenant_id: String,
        /// The separator before `tenantId=`.
        separator: &'static str,
        /// The start of the response body.
        body: String,
    },
    /// Any other HTTP failure: status, vendor message, body, or a transport error.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(cc_core::http::Error),
    /// The CSV result is malformed.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// The JSON result does not have the expected shape.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The response has a shape this client does not know.
    #[error("unexpected response from {operation}: {message}")]
    UnexpectedResponse {
        /// The operation.
        operation: &'static str,
        /// What was found.
        message: String,
    },
}

#[cfg(feature = "client")]
fn body_hint(body: &str) -> String {
    if body.trim().is_empty() { String::new() } else { format!(" Response: {}", body.trim()) }
}

impl Error {
    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "client")]
            Self::Unauthorized { .. } => Some(401),
            #[cfg(feature = "client")]
            Self::Http(e) => e.status(),
            _ => None,
        }
    }
}

/// The legacy API's error bodies: `{"error": "Unauthorized", "message": "…"}`.
#[cfg(feature = "client")]
pub const ERROR_DECODER: cc_core::http::JsonErrorDecoder = cc_core::http::JsonErrorDecoder {
    code: &["/error", "/code"],
    message: &["/message"],
    tracking_id: &[],
    xml: cc_core::http::XmlErrorElements { code: &[], message: &[], tracking_id: &[] },
};

impl cc_core::VendorError for Error {
    fn inner(&self) -> Option<&dyn cc_core::VendorError> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => Some(e),
            _ => None,
        }
    }

    fn status(&self) -> Option<u16> {
        Error::status(self)
    }
}
