//! Receiving notifications: verify the raw bytes (signature, account id, client id), then
//! parse. With feature `server`, an axum route that enqueues before answering 200.

use cc_core::Secret;
use cc_core::auth::{HmacAlgorithm, SignatureEncoding};
use cc_core::de::JsonError;
use cc_core::webhook::{HmacVerifier, VerifyError};

use crate::model::{Notification, parse_notification};

/// Header with the account (brand) id.
pub const ACCOUNT_ID_HEADER: &str = "x-liveperson-account-id";
/// Header with the app's client id.
pub const CLIENT_ID_HEADER: &str = "x-liveperson-client-id";
/// Header with the body signature (`sha1=<base64>`).
pub const SIGNATURE_HEADER: &str = "x-liveperson-signature";

/// The three LivePerson headers of a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct LpHeaders<'a> {
    /// `x-liveperson-account-id`.
    pub account_id: Option<&'a str>,
    /// `x-liveperson-client-id`.
    pub client_id: Option<&'a str>,
    /// `x-liveperson-signature`.
    pub signature: Option<&'a str>,
}

impl<'a> LpHeaders<'a> {
    /// Reads the headers through a lookup by (lower-case) name, whatever HTTP stack you use.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use lp_notifications::webhook::LpHeaders;
    ///
    /// let sent: HashMap<&str, &str> =
    ///     [("x-liveperson-account-id", "42"), ("x-liveperson-signature", "sha1=abc")].into();
    /// let headers = LpHeaders::from_lookup(|name| sent.get(name).copied());
    /// assert_eq!(headers.account_id, Some("42"));
    /// assert_eq!(headers.client_id, None);
    /// assert_eq!(headers.signature, Some("sha1=abc"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            account_id: lookup(ACCOUNT_ID_HEADER),
            client_id: lookup(CLIENT_ID_HEADER),
            signature: lookup(SIGNATURE_HEADER),
        }
    }
}

/// Verification settings of one LivePerson app installation.
///
/// ```
/// use cc_core::Secret;
/// use lp_notifications::webhook::{LpHeaders, LpWebhook};
/// let hook = LpWebhook::new("42257269", "81fad476-88af-4d08-bc0e-20bc69439ed4", Secret::from("rl9hacst6kqilbofup64n11ga3"));
/// let body = br#"{"kind":"notification","body":{"changes":[{"originatorId":"2969e404f3be1c8cdda63f0b72d205ab5afb3fe3e3d7d72ab58245f564fdfd91","originatorMetadata":{"id":"2969e404f3be1c8cdda63f0b72d205ab5afb3fe3e3d7d72ab58245f564fdfd91","role":"CONSUMER"},"event":{"type":"ChatStateEvent","chatState":"PAUSE"},"conversationId":"b8b83fe9-75f0-46f2-baaa-2930f7192cfb","dialogId":"b8b83fe9-75f0-46f2-baaa-2930f7192cfb"}]},"type":"ms.MessagingEventNotification"}"#;
/// let headers = LpHeaders {
///     account_id: Some("42257269"),
///     client_id: Some("81fad476-88af-4d08-bc0e-20bc69439ed4"),
///     signature: Some("sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI="),
/// };
/// let notification = hook.verify(&headers, body).unwrap().parse().unwrap();
/// assert_eq!(notification.changes.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct LpWebhook {
    account_id: String,
    client_id: String,
    verifier: HmacVerifier,
}

impl LpWebhook {
    /// Expects `sha1=` signatures (LivePerson's default) made with `secret`, Base64 or hex.
    pub fn new(account_id: impl Into<String>, client_id: impl Into<String>, secret: Secret<String>) -> Self {
        Self::with_secrets(account_id, client_id, vec![secret])
    }

    /// Accepts any of `secrets`: keep the old one while rotating.
    pub fn with_secrets(
        account_id: impl Into<String>,
        client_id: impl Into<String>,
        secrets: Vec<Secret<String>>,
    ) -> Self {
        Self {
            account_id: account_id.into(),
            client_id: client_id.into(),
            verifier: HmacVerifier::new(HmacAlgorithm::Sha1, secrets).header_name(SIGNATURE_HEADER),
        }
    }

    /// Also accepts `sha256=` signatures (accounts configured for SHA-256).
    pub fn accept_sha256(mut self) -> Self {
        self.verifier = self.verifier.accept(HmacAlgorithm::Sha256);
        self
    }

    /// Fixes the signature encoding (default: Base64 or hex, told apart by length).
    pub fn encoding(mut self, encoding: SignatureEncoding) -> Self {
        self.verifier = self.verifier.encoding(encoding);
        self
    }

    /// Checks the account id, the client id and the signature over the raw `body`.
    pub fn verify<'b>(&self, headers: &LpHeaders<'_>, body: &'b [u8]) -> Result<Verified<'b>, VerifyError> {
        self.verify_sender(headers)?;
        self.verifier.verify(body, headers.signature)?;
        Ok(Verified { body })
    }

    /// Checks the account id and the client id: what can be checked before the body is read.
    pub fn verify_sender(&self, headers: &LpHeaders<'_>) -> Result<(), VerifyError> {
        check_header(headers.account_id, &self.account_id, ACCOUNT_ID_HEADER)?;
        check_header(headers.client_id, &self.client_id, CLIENT_ID_HEADER)
    }
}

impl LpWebhook {
    /// [`LpWebhook::verify`] then [`Verified::parse`], with one error type.
    pub fn verify_and_parse(
        &self,
        headers: &LpHeaders<'_>,
        body: &[u8],
    ) -> Result<Notification, crate::Error> {
        Ok(self.verify(headers, body)?.parse()?)
    }
}

fn check_header(value: Option<&str>, expected: &str, name: &'static str) -> Result<(), VerifyError> {
    match value.map(str::trim) {
        None | Some("") => Err(VerifyError::MissingHeader(name)),
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(VerifyError::HeaderMismatch(name)),
    }
}

/// A body whose signature checked out: the only way to a parsed notification on the
/// receiving side.
#[derive(Clone, Copy, Debug)]
pub struct Verified<'b> {
    body: &'b [u8],
}

impl Verified<'_> {
    /// The verified bytes.
    pub fn body(&self) -> &[u8] {
        self.body
    }

    /// Parses the verified bytes.
    pub fn parse(&self) -> Result<Notification, JsonError> {
        parse_notification(self.body)
    }
}

#[cfg(feature = "server")]
mod server {
    use axum::http::{HeaderMap, HeaderName};
    use cc_core::webhook::server::{
        DeliveryKeys, EventHandler, Inbound, ReceiverConfig, header_text, receiver,
    };
    use cc_core::webhook::{ParseError, VerifyError};

    use super::{ACCOUNT_ID_HEADER, CLIENT_ID_HEADER, LpHeaders, LpWebhook, SIGNATURE_HEADER};
    use crate::model::Notification;

    // Looked up by `HeaderName` (see `header_text`).
    const ACCOUNT_ID: HeaderName = HeaderName::from_static(ACCOUNT_ID_HEADER);
    const CLIENT_ID: HeaderName = HeaderName::from_static(CLIENT_ID_HEADER);
    const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

    impl Inbound for LpWebhook {
        type Event = Notification;

        fn verify_headers(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
            self.verify_sender(&LpHeaders {
                account_id: header_text(headers, &ACCOUNT_ID),
                client_id: header_text(headers, &CLIENT_ID),
                signature: None,
            })
        }

        fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
            self.verifier.verify(body, header_text(headers, &SIGNATURE))
        }

        fn parse(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Notification, ParseError> {
            Ok(crate::model::parse_notification(body)?)
        }

        /// `<dialogId>:<sequence>` of each sequenced messaging change (chat states have
        /// none: a body of only those dedupes by its hash); the first dialog orders, by its
        /// lowest sequence; a conversation snapshot is ordered by its conversation.
        fn keys(&self, notification: &Notification) -> DeliveryKeys {
            use crate::model::Change;
            let mut keys = DeliveryKeys::default();
            for change in &notification.changes {
                match change {
                    Change::Messaging(m) => {
                        let dialog = m.dialog_id.as_str();
                        if keys.conversation.is_none() {
                            keys.conversation = Some(format!("dialog:{dialog}"));
                        }
                        if let Some(seq) = m.sequence {
                            keys.ids.push(format!("{dialog}:{seq}"));
                            if keys.conversation.as_deref() == Some(&format!("dialog:{dialog}")) {
                                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                                keys.order = Some(keys.order.map_or(seq, |o| o.min(seq)));
                            }
                        }
                    }
                    Change::Conversation(c) if keys.conversation.is_none() => {
                        keys.conversation = Some(format!("conversation:{}", c.result.conv_id));
                    }
                    _ => {}
                }
            }
            keys
        }
    }

    impl LpWebhook {
        /// An axum POST route: verifies, parses, hands the notification to `handler` (a
        /// queue) and only then answers 200; 401 when a check fails (the handler never sees
        /// the request), 400 naming the field path of a malformed body, 413 over 1 MiB, 503
        /// when the handler refuses (LivePerson will retry).
        ///
        /// Mount it at your webhook path:
        /// `Router::new().route("/lp", webhook.into_route(queue_sender))`.
        pub fn into_route<H, S>(self, handler: H) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Notification>,
            S: Clone + Send + Sync + 'static,
        {
            receiver(self, handler, ReceiverConfig::default())
        }

        /// [`LpWebhook::into_route`] with explicit settings (body limit and read deadline, success status).
        pub fn into_route_with<H, S>(
            self,
            handler: H,
            config: ReceiverConfig,
        ) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Notification>,
            S: Clone + Send + Sync + 'static,
        {
            receiver(self, handler, config)
        }
    }
}
