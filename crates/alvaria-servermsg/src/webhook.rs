//! Receiving callbacks: verify the RS256 JWT in `Authorization`, then parse. With feature
//! `server`, an axum route that drops redeliveries and answers 200 once your handler took
//! the callback.

use std::time::Duration;

use cc_core::webhook::{JwtClaims, JwtVerifier, VerifyError};

use crate::error::Error;
use crate::model::Callback;

/// How long Alvaria keeps redelivering a callback: event ids are remembered this long.
pub const REDELIVERY_WINDOW: Duration = Duration::from_secs(4 * 3600);

/// Verifies callback JWTs with Alvaria's public key(s).
///
/// The algorithm is pinned to RS256 (`none`, HS256 and the rest are refused); `exp` is
/// required and checked (a token without one could be replayed for ever; opt out with
/// [`AlvariaWebhook::allow_missing_exp`] if your tenant's tokens lack it), `nbf` is
/// checked when present. Alvaria does not document its claims, so `iss`/`aud` checks are
/// opt-in ([`AlvariaWebhook::issuer`], [`AlvariaWebhook::audience`]).
#[derive(Clone, Debug)]
pub struct AlvariaWebhook {
    jwt: JwtVerifier,
}

impl AlvariaWebhook {
    /// Verifies with these PEM public keys (several during a key rotation).
    pub fn from_public_keys<I, P>(pems: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        Ok(Self { jwt: JwtVerifier::from_rsa_pems(pems).map_err(Error::Config)?.require_exp() })
    }

    /// Accepts tokens without `exp` (not recommended: such a token never expires, so a
    /// captured one can be replayed).
    pub fn allow_missing_exp(mut self) -> Self {
        self.jwt = self.jwt.allow_missing_exp();
        self
    }

    /// Requires `iss` to be one of `issuers`.
    pub fn issuer<I: IntoIterator<Item = S>, S: ToString>(mut self, issuers: I) -> Self {
        self.jwt = self.jwt.issuer(issuers);
        self
    }

    /// Requires `aud` to contain one of `audiences`.
    pub fn audience<I: IntoIterator<Item = S>, S: ToString>(mut self, audiences: I) -> Self {
        self.jwt = self.jwt.audience(audiences);
        self
    }

    /// Checks an `Authorization` value (`Bearer <jwt>` or the bare JWT).
    pub fn verify(&self, authorization: Option<&str>) -> Result<JwtClaims, VerifyError> {
        self.jwt.verify(authorization)
    }

    /// Verifies, then parses `body`.
    pub fn verify_and_parse(&self, authorization: Option<&str>, body: &[u8]) -> Result<Callback, Error> {
        self.verify(authorization).map_err(Error::Verify)?;
        Callback::parse(body).map_err(Error::Parse)
    }
}

#[cfg(feature = "server")]
mod server {
    use axum::http::HeaderMap;
    use axum::http::header::AUTHORIZATION;
    use cc_core::webhook::server::{
        Deduplicate, DeliveryKeys, EventHandler, Inbound, ReceiverConfig, header_text, receiver,
    };
    use cc_core::webhook::{DuplicateFilter, ParseError, VerifyError};

    use super::{AlvariaWebhook, REDELIVERY_WINDOW};
    use crate::model::Callback;

    impl Inbound for AlvariaWebhook {
        type Event = Callback;

        fn verify_headers(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
            AlvariaWebhook::verify(self, header_text(headers, &AUTHORIZATION)).map(|_| ())
        }

        fn parse(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Callback, ParseError> {
            Ok(Callback::parse(body)?)
        }

        /// `eventId`; the session orders.
        fn keys(&self, callback: &Callback) -> DeliveryKeys {
            DeliveryKeys {
                ids: callback.event_id().map(|id| id.to_string()).into_iter().collect(),
                conversation: callback.session_id().map(|id| id.to_string()),
                order: None,
            }
        }
    }

    impl AlvariaWebhook {
        /// An axum POST route for the callback URL: verifies the JWT (401, handler not
        /// called), parses (400 naming the field), drops redeliveries by `eventId` (answered
        /// 200 so Alvaria stops retrying), hands the callback to `handler` and answers 200
        /// once it accepted; 503 if it refused (Alvaria retries).
        pub fn into_route<H, S>(self, handler: H) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Callback>,
            S: Clone + Send + Sync + 'static,
        {
            self.into_route_with(handler, ReceiverConfig::default())
        }

        /// [`AlvariaWebhook::into_route`] with explicit settings (body limit and read
        /// deadline, success status).
        pub fn into_route_with<H, S>(
            self,
            handler: H,
            config: ReceiverConfig,
        ) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Callback>,
            S: Clone + Send + Sync + 'static,
        {
            let filter = DuplicateFilter::new(100_000, REDELIVERY_WINDOW);
            let dedupe = Deduplicate::new(handler, |c: &Callback| c.event_id(), filter);
            receiver::<_, _, S>(self, dedupe, config)
        }
    }
}
