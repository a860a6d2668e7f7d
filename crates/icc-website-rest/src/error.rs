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
