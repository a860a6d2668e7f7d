//! [`Error`]: why a SimProt call failed, for the external app and the agent client alike.

use std::time::Duration;

use cc_core::ChannelErrorKind;

use crate::connection::ConnectionError;
use crate::framing::FrameError;
use crate::model::TooLong;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The first connection failed (a client only starts connected).
    #[error("could not connect: {0}")]
    Connect(ConnectionError),
    /// Not connected right now (reconnecting); try again.
    #[error("not connected to the SimProt server: {0}")]
    Disconnected(String),
    /// No echo within the timeout: the sentence counts as not sent. Retrying with the same
    /// sentence re-sends the same ID.
    #[error("no SE_CHAT_SENTENCE echo for sentence `{id}` within {timeout:?}")]
    NoEcho {
        /// The sentence ID.
        id: String,
        /// The wait.
        timeout: Duration,
    },
    /// No SE_CHAT_RESPONSE / SE_MESSAGE_RECEIVED within the timeout.
    #[error("no {0} within {1:?}")]
    NoResponse(&'static str, Duration),
    /// No answer of this name within the timeout.
    #[error("no {0} within {1:?}")]
    NoReply(String, Duration),
    /// The server could not process the inbound message (SE_MESSAGE_RECEIVED with Success
    /// false): send it again later, or report the failure to the counterparty.
    #[error("the server did not process inbound message `{request_id}`")]
    NotProcessed {
        /// The RequestId.
        request_id: String,
    },
    /// The ES_MESSAGE_SENT answer is past the limit; it was not sent (the server retries).
    #[error(
        "ES_MESSAGE_SENT for message {message_id} is {elapsed:?} after SE_MESSAGE_SENDING; the limit is {limit:?}"
    )]
    TooLate {
        /// The MessageId.
        message_id: String,
        /// Time since SE_MESSAGE_SENDING arrived.
        elapsed: Duration,
        /// The limit.
        limit: Duration,
    },
    /// The message breaks a length limit of the seed; nothing was sent.
    #[error("not sent: {0}")]
    Invalid(#[from] TooLong),
    /// The message cannot be framed (larger than the frame limit); nothing was sent.
    #[error("not sent: {0}")]
    NotEncodable(FrameError),
    /// A required member is missing; nothing was sent.
    #[error("not sent: {0}")]
    Missing(&'static str),
    /// The client was shut down.
    #[error("the SimProt client has stopped")]
    Stopped,
}

impl cc_core::VendorError for Error {
    fn kind(&self) -> Option<ChannelErrorKind> {
        Some(match self {
            Error::Invalid(_) | Error::Missing(_) | Error::NotEncodable(_) => ChannelErrorKind::InvalidInput,
            Error::TooLate { .. } => ChannelErrorKind::Other,
            _ => ChannelErrorKind::Unavailable,
        })
    }
}
