//! The crate's error type.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The WebSite answered with an error or could not be reached.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(#[from] cc_core::http::Error),
    /// A value was refused before sending.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// The WebSite's error bodies. **Assumption:** the API is ASP.NET Web API, whose errors are `{"Message": "…"}`; a lower-case `message` is read too.
#[cfg(feature = "client")]
pub const ERROR_DECODER: cc_core::http::JsonErrorDecoder = cc_core::http::JsonErrorDecoder {
    code: &["/code"],
    message: &["/Message", "/message"],
    tracking_id: &[],
    xml: cc_core::http::XmlErrorElements { code: &[], message: &[], tracking_id: &[] },
};

impl cc_core::VendorError for Error {
    fn inner(&self) -> Option<&dyn cc_core::VendorError> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => Some(e),
            Self::Invalid { .. } => None,
        }
    }

    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        matches!(self, Self::Invalid { .. }).then_some(cc_core::ChannelErrorKind::InvalidInput)
    }
}
