//! The crate's error type.

use cc_core::de::JsonError;
use cc_core::webhook::VerifyError;

use crate::model::{ErrorDetail, ErrorResponse, SessionId};

/// What went wrong. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error (status, `code`, `message`, `errors[]` via
    /// [`Error::vendor_errors`]) or could not be reached.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(#[from] cc_core::http::Error),
    /// The session ended (SESSION_END received, or deleted): its id must not be used again.
    #[error("session {session} has ended{}", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    SessionEnded {
        /// The session.
        session: SessionId,
        /// Who or what ended it, when known.
        reason: Option<String>,
    },
    /// The session is older than the 4-hour limit: Alvaria has disconnected it.
    #[error("session {session} is older than its {limit_minutes}-minute lifetime; start a new one")]
    SessionExpired {
        /// The session.
        session: SessionId,
        /// The lifetime in minutes.
        limit_minutes: u64,
    },
    /// NEW_SESSION SUCCESS has not arrived yet: the session is provisional.
    #[error(
        "session {session} is not confirmed yet (no NEW_SESSION SUCCESS callback); wait_confirmed() first"
    )]
    NotConfirmed {
        /// The session.
        session: SessionId,
    },
    /// NEW_SESSION said FAILED.
    #[error("session {session} could not be created: {}", .status_message.as_deref().unwrap_or("no reason given"))]
    SessionFailed {
        /// The session.
        session: SessionId,
        /// Alvaria's `statusMessage`.
        status_message: Option<String>,
    },
    /// No NEW_SESSION callback within the time given.
    #[error(
        "no NEW_SESSION callback for session {session} within {waited_ms} ms; is the callback URL wired to AlvariaClient::observe?"
    )]
    ConfirmationTimeout {
        /// The session.
        session: SessionId,
        /// How long we waited.
        waited_ms: u64,
    },
    /// This client knows no such session.
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    /// A callback's JWT did not verify.
    #[error("callback refused: {0}")]
    Verify(VerifyError),
    /// A callback body is malformed.
    #[error(transparent)]
    Parse(JsonError),
    /// The configuration is unusable (a bad public key, a bad URL).
    #[error("configuration: {0}")]
    Config(String),
    /// The session table could not be saved to or read from its store (feature `store`).
    #[error("session store: {0}")]
    Store(String),
}

impl Error {
    /// HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.status(),
            _ => None,
        }
    }

    /// The `errors[]` of Alvaria's error body (`scope`, `reason`, `message`).
    pub fn vendor_errors(&self) -> Vec<ErrorDetail> {
        self.error_response().map(|r| r.errors).unwrap_or_default()
    }

    /// Alvaria's whole error body, when the API answered with one.
    pub fn error_response(&self) -> Option<ErrorResponse> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.as_api().and_then(|api| serde_json::from_str(&api.body).ok()),
            _ => None,
        }
    }
}

/// Alvaria's error bodies: `{"code": 400, "message": "…", "errors": [{"scope", "reason", "message"}]}`.
#[cfg(feature = "client")]
pub const ERROR_DECODER: cc_core::http::JsonErrorDecoder = cc_core::http::JsonErrorDecoder {
    code: &["/code", "/error"],
    message: &["/message", "/errors/0/message", "/error_description"],
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

    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        use cc_core::ChannelErrorKind as K;
        match self {
            Self::SessionEnded { .. } | Self::SessionExpired { .. } | Self::UnknownSession(_) => {
                Some(K::ConversationClosed)
            }
            Self::SessionFailed { .. } | Self::NotConfirmed { .. } | Self::ConfirmationTimeout { .. } => {
                Some(K::Unavailable)
            }
            // Our choice, kept from the channel's earlier mapping: a 404 counts as refused
            // input (a wrong organization or path); a session known to have ended is
            // reported as `SessionEnded` above, not as a 404.
            #[cfg(feature = "client")]
            Self::Http(e) if e.status() == Some(404) => Some(K::InvalidInput),
            _ => None,
        }
    }
}
