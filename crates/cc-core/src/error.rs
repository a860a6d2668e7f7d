//! [`VendorError`]: what every vendor crate's error can tell, whatever the vendor, and the
//! vendor-neutral [`ChannelErrorKind`] it comes down to.

/// The questions a caller asks of any vendor error: the HTTP status, the vendor's code and
/// message, the tracking id to quote to the vendor's support, and what kind of failure it is
/// for vendor-neutral code. Every vendor crate's `Error` implements it; so does
/// `cc_core::http::Error` (feature `client`), to which the vendor errors delegate.
///
/// A vendor error usually wraps the transport's error: it names it in [`VendorError::inner`]
/// and the other answers default to the inner error's.
pub trait VendorError: std::error::Error + Send + Sync + 'static {
    /// The error this one wraps and answers for (the HTTP error of a failed call), if any.
    fn inner(&self) -> Option<&dyn VendorError> {
        None
    }

    /// The HTTP status, when the vendor answered.
    fn status(&self) -> Option<u16> {
        self.inner()?.status()
    }

    /// The vendor's error code (`409-100`, `invalid_grant`), when the answer had one.
    fn vendor_code(&self) -> Option<&str> {
        self.inner()?.vendor_code()
    }

    /// The vendor's own message, when the answer had one.
    fn message(&self) -> Option<&str> {
        self.inner()?.message()
    }

    /// The tracking or correlation id of the failed call, when the vendor gave one.
    fn tracking_id(&self) -> Option<&str> {
        self.inner()?.tracking_id()
    }

    /// The kind of failure, where this error knows more than the status tells (a session
    /// that ended, input refused before sending, a connection that broke). `None` (default):
    /// the inner error's kind, else judged by the status.
    fn kind(&self) -> Option<ChannelErrorKind> {
        None
    }

    /// The kind of failure: [`VendorError::kind`], else the inner error's, else
    /// [`ChannelErrorKind::from_status`].
    fn channel_kind(&self) -> ChannelErrorKind {
        match (self.kind(), self.inner()) {
            (Some(kind), _) => kind,
            (None, Some(inner)) => inner.channel_kind(),
            (None, None) => ChannelErrorKind::from_status(self.status()),
        }
    }
}

/// What kind of failure a channel call met, so vendor-neutral code can react.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelErrorKind {
    /// Credentials were refused.
    Unauthorized,
    /// The vendor throttled the call and retries ran out.
    RateLimited,
    /// The conversation does not exist or is over.
    ConversationClosed,
    /// The input was refused before or by the vendor.
    InvalidInput,
    /// The vendor could not be reached or failed.
    Unavailable,
    /// Anything else.
    Other,
}

impl ChannelErrorKind {
    /// The kind an HTTP status means, the one table every vendor crate shares: 401/403
    /// unauthorized, 429 rate limited, 404/410 conversation closed, 400/405/409/413/415/422
    /// invalid input, 408 and 5xx unavailable; anything else (or no status) other.
    pub fn from_status(status: Option<u16>) -> Self {
        match status {
            Some(401 | 403) => Self::Unauthorized,
            Some(429) => Self::RateLimited,
            Some(404 | 410) => Self::ConversationClosed,
            Some(400 | 405 | 409 | 413 | 415 | 422) => Self::InvalidInput,
            Some(408 | 500..=599) => Self::Unavailable,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("http {0}")]
    struct Http(u16);

    impl VendorError for Http {
        fn status(&self) -> Option<u16> {
            Some(self.0)
        }
        fn vendor_code(&self) -> Option<&str> {
            Some("E-1")
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum Vendor {
        #[error(transparent)]
        Http(Http),
        #[error("session over")]
        Ended,
    }

    impl VendorError for Vendor {
        fn inner(&self) -> Option<&dyn VendorError> {
            match self {
                Self::Http(e) => Some(e),
                Self::Ended => None,
            }
        }
        fn kind(&self) -> Option<ChannelErrorKind> {
            matches!(self, Self::Ended).then_some(ChannelErrorKind::ConversationClosed)
        }
    }

    #[test]
    fn answers_come_from_the_inner_error_and_the_kind_from_one_table() {
        let e = Vendor::Http(Http(429));
        assert_eq!((e.status(), e.vendor_code(), e.message()), (Some(429), Some("E-1"), None));
        assert_eq!(e.channel_kind(), ChannelErrorKind::RateLimited);
        assert_eq!(Vendor::Ended.channel_kind(), ChannelErrorKind::ConversationClosed);
        assert_eq!(Vendor::Ended.status(), None);
        let table = [
            (401, ChannelErrorKind::Unauthorized),
            (403, ChannelErrorKind::Unauthorized),
            (404, ChannelErrorKind::ConversationClosed),
            (409, ChannelErrorKind::InvalidInput),
            (422, ChannelErrorKind::InvalidInput),
            (408, ChannelErrorKind::Unavailable),
            (503, ChannelErrorKind::Unavailable),
            (302, ChannelErrorKind::Other),
        ];
        for (status, kind) in table {
            assert_eq!(Vendor::Http(Http(status)).channel_kind(), kind, "{status}");
        }
        assert_eq!(ChannelErrorKind::from_status(None), ChannelErrorKind::Other);
    }
}
