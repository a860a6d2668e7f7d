//! The crate's error type.

use cc_core::webhook::{ParseError, VerifyError};

/// What went wrong. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// ECE answered with an error (status, `code` such as `409-100`, `developerMessage`, from
    /// JSON or XML bodies) or could not be reached.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(#[from] cc_core::http::Error),
    /// The request was refused before sending: the field and why.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The configuration response has no entry for the entry point.
    #[error("ECE returned no configuration for entry point {0}")]
    NoConfiguration(String),
    /// A callback's credentials were refused.
    #[error("callback refused: {0}")]
    Verify(VerifyError),
    /// A callback body is malformed.
    #[error(transparent)]
    Parse(ParseError),
}

impl Error {
    /// HTTP status, when ECE answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.status(),
            _ => None,
        }
    }

    /// ECE's error `code` (`409-100`), when the body had one.
    pub fn code(&self) -> Option<&str> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.vendor_code(),
            _ => None,
        }
    }
}

/// ECE's error bodies: `{"code": "409-100", "developerMessage": "…"}`, in JSON or XML.
#[cfg(feature = "client")]
pub const ERROR_DECODER: cc_core::http::JsonErrorDecoder = cc_core::http::JsonErrorDecoder {
    code: &["/code"],
    message: &["/developerMessage", "/message"],
    tracking_id: &[],
    xml: cc_core::http::XmlErrorElements {
        code: &["code"],
        message: &["developerMessage", "message"],
        tracking_id: &[],
    },
};

impl cc_core::VendorError for Error {
    fn inner(&self) -> Option<&dyn cc_core::VendorError> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => Some(e),
            _ => None,
        }
    }

    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        use cc_core::ChannelErrorKind as K;
        match self {
            // Our choice, kept from the channel's earlier mapping (ECE documents no 403 body):
            // a 403 counts as refused input, since refused credentials get 401 from ECE.
            #[cfg(feature = "client")]
            Self::Http(e) if e.status() == Some(403) => Some(K::InvalidInput),
            Self::Invalid { .. } => Some(K::InvalidInput),
            _ => None,
        }
    }
}
