//! The crate's error type.

use cc_core::auth::AuthError;

/// What went wrong. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// LivePerson answered with an error status (its `errorCode` such as `40102` as the
    /// vendor code, `title: details` as the message) or could not be reached.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(#[from] cc_core::http::Error),
    /// No AppJWT could be had from Sentinel (refused, unreachable, or not a token).
    #[error("AppJWT: {0}")]
    AppJwt(#[source] AuthError),
    /// An answer of 200 whose envelope says the request failed (`code` other than OK).
    #[error("{operation}: LivePerson answered code {code}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Rejected {
        /// The operation.
        operation: &'static str,
        /// The envelope's `code` (or `body.errorCode`).
        code: String,
        /// The envelope's words.
        message: Option<String>,
    },
    /// The request was refused before sending: the field and why.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// Domain discovery does not know the account.
    #[error("LivePerson account {account} is unknown to domain discovery (CSDS){}", .status.map(|s| format!(": HTTP {s}")).unwrap_or_default())]
    UnknownAccount {
        /// The account.
        account: String,
        /// CSDS's status, when it answered with an error.
        status: Option<u16>,
    },
    /// Domain discovery lists no domain for a service the call needs.
    #[error("domain discovery (CSDS) lists no `{service}` domain for account {account}")]
    MissingService {
        /// The account.
        account: String,
        /// The service name.
        service: String,
    },
    /// The open-conversation answer has no `conversationId` in any element.
    #[error("LivePerson's answer to the conversation request holds no conversationId")]
    NoConversationId,
    /// The channel does not know which consumer a conversation belongs to (it was not opened
    /// through it, or the process restarted: see `LpChannel::adopt`).
    #[error("conversation {0} was not opened through this channel (adopt it with its consumer)")]
    UnknownConversation(String),
}

impl Error {
    /// HTTP status, when LivePerson answered with one.
    pub fn status(&self) -> Option<u16> {
        cc_core::VendorError::status(self)
    }

    /// LivePerson's error code (`40102`, or an envelope `code`), when it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            other => cc_core::VendorError::vendor_code(other),
        }
    }
}

/// Decodes LivePerson's error bodies:
/// `{"kind":"resp","code":401,"body":{"title":"…","details":"…","errorCode":40104},"type":"…"}`
/// gives the code `40104` and the message `title: details`; other shapes fall back to the
/// generic decoder (`code`, `message`…).
#[cfg(feature = "client")]
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorDecoder;

#[cfg(feature = "client")]
impl cc_core::http::ErrorDecoder for ErrorDecoder {
    fn decode(&self, status: u16, body: &[u8]) -> cc_core::http::ErrorBody {
        match serde_json::from_slice::<crate::model::Resp>(body) {
            // The envelope's `code` only repeats the HTTP status; `errorCode` is the vendor's.
            Ok(resp) if resp.body.is_object() => cc_core::http::ErrorBody {
                code: resp.error_code(),
                message: resp.message(),
                tracking_id: None,
            },
            _ => cc_core::http::ErrorDecoder::decode(&cc_core::http::GenericErrorDecoder, status, body),
        }
    }
}

impl cc_core::VendorError for Error {
    fn inner(&self) -> Option<&dyn cc_core::VendorError> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => Some(e),
            _ => None,
        }
    }

    fn vendor_code(&self) -> Option<&str> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            other => other.inner()?.vendor_code(),
        }
    }

    fn message(&self) -> Option<&str> {
        match self {
            Self::Rejected { message, .. } => message.as_deref(),
            other => other.inner()?.message(),
        }
    }

    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        use cc_core::ChannelErrorKind as K;
        match self {
            Self::AppJwt(_) | Self::UnknownAccount { .. } => Some(K::Unauthorized),
            Self::Invalid { .. } | Self::UnknownConversation(_) => Some(K::InvalidInput),
            Self::MissingService { .. } | Self::NoConversationId => Some(K::Unavailable),
            _ => None,
        }
    }
}
