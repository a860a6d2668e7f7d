//! The crate's error: a request that failed verification or did not parse.

use cc_core::webhook::VerifyError;

/// Why a webhook request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Signature or identity headers failed; says which check, never the expected value.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// The verified body is not a notification; names the field path.
    #[error(transparent)]
    Parse(#[from] cc_core::de::JsonError),
}

impl cc_core::VendorError for Error {
    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        Some(match self {
            Self::Verify(_) => cc_core::ChannelErrorKind::Unauthorized,
            Self::Parse(_) => cc_core::ChannelErrorKind::InvalidInput,
        })
    }
}
