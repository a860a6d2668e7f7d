//! The crate's error type.

use cc_core::EpochMillis;
use cc_core::auth::AuthError;
use cc_core::de::JsonError;

use crate::model::GraphQlError;

/// One bad row of a sites CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    /// What is wrong, naming the column.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What went wrong. Never contains a token, a client secret or a pre-signed URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks a documented constraint; it was not sent.
    #[error("invalid request: {field}: {message}")]
    Invalid {
        /// The parameter (wire name).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Obtaining or refreshing a token failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An HTTP failure: status, vendor code and message, tracking id; or a transport error.
    #[cfg(feature = "client")]
    #[error(transparent)]
    Http(#[from] cc_core::http::Error),
    /// A body does not have the documented shape.
    #[error("{operation}: {error}")]
    Decode {
        /// The operation.
        operation: &'static str,
        /// Where and what.
        error: JsonError,
    },
    /// The search API answered with GraphQL errors (possibly with partial `data`).
    #[error("search failed: {}", join(.0))]
    GraphQl(Vec<GraphQlError>),
    /// A window of agent activities reached the API's cap of records per window: records
    /// after the cap are not returned. Split the window (see
    /// [`split_window`](crate::query::split_window)) or use `agent_activities_split`.
    #[error(
        "agent activities from {from} to {to} reached the cap of {cap} records per window; \
         the rest is not returned: split the window"
    )]
    RecordCap {
        /// Window start.
        from: EpochMillis,
        /// Window end.
        to: EpochMillis,
        /// The cap.
        cap: usize,
    },
    /// Paging cannot make progress (more tasks share one `createdTime` than a page holds).
    #[error("{operation}: paging stuck at {at}: {message}")]
    Paging {
        /// The operation.
        operation: &'static str,
        /// Where.
        at: EpochMillis,
        /// What to do.
        message: String,
    },
    /// Rows of a sites CSV are malformed; nothing was sent.
    #[error("{} bad row(s) in the sites CSV: {}", .0.len(), join(.0))]
    Csv(Vec<RowError>),
    /// A download went over [`WxccConfig::download_deadline`](crate::WxccConfig::download_deadline)
    /// or [`WxccConfig::max_download_bytes`](crate::WxccConfig::max_download_bytes); the
    /// partial file was removed.
    #[error("download stopped: {0}")]
    DownloadLimit(String),
    /// A webhook delivery failed verification (signature, subscription, timestamp).
    #[error("webhook refused: {0}")]
    Verify(#[from] cc_core::webhook::VerifyError),
    /// A verified webhook event does not parse.
    #[error("webhook event: {0}")]
    Parse(#[from] JsonError),
    /// The notification socket was closed by a message that ends it (`AGENT_MULTI_LOGIN`:
    /// another login of this user and client type took over); it is not reopened.
    #[cfg(feature = "notification")]
    #[error("notification socket closed by {kind}: another connection took over; not reconnecting")]
    Replaced {
        /// The message that ended it.
        kind: crate::model::notification::MessageType,
    },
    /// The notification socket could not be (re)established within
    /// [`NotificationConfig::give_up_after`](crate::notification::NotificationConfig::give_up_after).
    #[cfg(feature = "notification")]
    #[error("notification socket: no connection for {:.1} s after {attempts} attempt(s); last: {cause}", .after.as_secs_f64())]
    GaveUp {
        /// Since the connection was lost (or the first attempt).
        after: std::time::Duration,
        /// Attempts made.
        attempts: u32,
        /// Why the last attempt failed (never the socket URL, which is a credential).
        cause: String,
    },
    /// Writing a download failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl Error {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.status(),
            Self::Auth(AuthError::Rejected { status, .. }) => Some(*status),
            _ => None,
        }
    }

    /// The tracking id of the failed call (the one sent, unless the API returned another).
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            #[cfg(feature = "client")]
            Self::Http(e) => e.tracking_id(),
            _ => None,
        }
    }
}

/// Webex's error bodies: `{"trackingId": "…", "error": {"key": 429, "message": [{"description": "…"}]}}`, and OAuth2's `{"error", "error_description"}`.
#[cfg(feature = "client")]
pub const ERROR_DECODER: cc_core::http::JsonErrorDecoder = cc_core::http::JsonErrorDecoder {
    code: &["/error/key", "/code", "/error"],
    message: &[
        "/error/message/0/description",
        "/error/message",
        "/message",
        "/error_description",
        "/description",
    ],
    tracking_id: &["/trackingId", "/trackingID", "/error/trackingId"],
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

    fn kind(&self) -> Option<cc_core::ChannelErrorKind> {
        use cc_core::ChannelErrorKind as K;
        match self {
            Self::Auth(_) | Self::Verify(_) => Some(K::Unauthorized),
            Self::Invalid { .. } | Self::Csv(_) | Self::Parse(_) => Some(K::InvalidInput),
            _ => None,
        }
    }
}
