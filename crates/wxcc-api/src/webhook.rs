//! Receiving webhook events from subscriptions: verify the raw bytes (the subscription's
//! HMAC-SHA256 signature, and for V2 subscriptions the signed timestamp), then parse. With
//! feature `server`, an axum route that drops redeliveries by event id and answers 200 once
//! your handler took the event.
//!
//! The rules, and which of them are assumptions, are in `docs/vendors/wxcc.md` ("Receiving
//! events").

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cc_core::auth::{HmacAlgorithm, SignatureEncoding};
use cc_core::de::JsonError;
use cc_core::webhook::{HmacVerifier, VerifyError};
use cc_core::{EpochMillis, Secret};
use serde::Deserialize;
use serde_json::Value;

use crate::model::events::{Event, parse_event, subscription_of};

/// The body signature: hex HMAC-SHA256 of the raw body under the subscription's secret.
pub const SIGNATURE_HEADER: &str = "x-webexcc-signature";
/// V2 subscriptions: the dispatch time, epoch milliseconds, equal to the body's
/// `comciscotimestamp`.
pub const TIMESTAMP_HEADER: &str = "x-webexcc-timestamp";
/// V2 subscriptions: the resource version (`agent:1.0.0`).
pub const VERSION_HEADER: &str = "x-webexcc-webhook-version";

/// Default tolerance between a signed timestamp and now, either way (Cisco's sample: 5 min).
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The headers of a delivery that verification reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct WxccHeaders<'a> {
    /// `X-WebexCC-Signature`.
    pub signature: Option<&'a str>,
    /// `X-WebExCC-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-WebexCC-Webhook-Version`.
    pub version: Option<&'a str>,
}

impl<'a> WxccHeaders<'a> {
    /// Reads the headers through a lookup by (lower-case) name, whatever HTTP stack you use.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use wxcc_api::webhook::WxccHeaders;
    ///
    /// let sent: HashMap<&str, &str> =
    ///     [("x-webexcc-signature", "sig"), ("x-webexcc-timestamp", "1700000000000")].into();
    /// let headers = WxccHeaders::from_lookup(|name| sent.get(name).copied());
    /// assert_eq!(headers.signature, Some("sig"));
    /// assert_eq!(headers.timestamp, Some("1700000000000"));
    /// assert_eq!(headers.version, None);
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            signature: lookup(SIGNATURE_HEADER),
            timestamp: lookup(TIMESTAMP_HEADER),
            version: lookup(VERSION_HEADER),
        }
    }
}

/// The secrets of your subscriptions, by subscription id. Clones share one table, so a
/// receiver that is already serving sees a secret added or removed. Several secrets per
/// subscription are all accepted: when you rotate a secret (PATCH the subscription with a
/// new one), add the new one first and remove the old one once no delivery signed with it
/// can arrive — the vendor documents no overlap window.
#[derive(Clone, Default)]
pub struct Secrets {
    table: Arc<RwLock<HashMap<String, Keys>>>,
}

/// One subscription's secrets, and cc-core's verifier over them (hex HMAC-SHA256, every
/// secret tried); shared so a lookup copies a pointer.
#[derive(Clone)]
struct Keys {
    secrets: Vec<Secret<String>>,
    verifier: Arc<HmacVerifier>,
}

impl Keys {
    fn new(secrets: Vec<Secret<String>>) -> Self {
        let verifier = HmacVerifier::new(HmacAlgorithm::Sha256, secrets.clone())
            .encoding(SignatureEncoding::Hex)
            .header_name(SIGNATURE_HEADER);
        Self { secrets, verifier: Arc::new(verifier) }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        let counts: HashMap<&str, usize> = table.iter().map(|(k, v)| (k.as_str(), v.secrets.len())).collect();
        f.debug_struct("Secrets").field("secrets_per_subscription", &counts).finish()
    }
}

impl Secrets {
    /// No subscriptions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One subscription's secret.
    pub fn with(self, subscription_id: impl Into<String>, secret: Secret<String>) -> Self {
        self.add(subscription_id, secret);
        self
    }

    /// Accepts `secret` for `subscription_id`, besides those it has.
    pub fn add(&self, subscription_id: impl Into<String>, secret: Secret<String>) {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        let id = subscription_id.into();
        let mut secrets = table.get(&id).map(|k| k.secrets.clone()).unwrap_or_default();
        secrets.push(secret);
        table.insert(id, Keys::new(secrets));
    }

    /// Replaces the secrets of `subscription_id` (an empty list removes it).
    pub fn set(&self, subscription_id: impl Into<String>, secrets: Vec<Secret<String>>) {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        let id = subscription_id.into();
        if secrets.is_empty() {
            table.remove(&id);
        } else {
            table.insert(id, Keys::new(secrets));
        }
    }

    /// Stops accepting deliveries of `subscription_id`.
    pub fn remove(&self, subscription_id: &str) {
        self.table.write().unwrap_or_else(|e| e.into_inner()).remove(subscription_id);
    }

    fn verifier(&self, subscription_id: &str) -> Option<Arc<HmacVerifier>> {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner());
        table.get(subscription_id).map(|k| Arc::clone(&k.verifier))
    }
}

/// The receiver's settings: the secrets, the replay window, and what a V1 or an unsigned
/// delivery may do.
///
/// ```
/// use cc_core::{EpochMillis, Secret};
/// use cc_core::auth::{hmac, HmacAlgorithm, SignatureEncoding};
/// use wxcc_api::webhook::{Secrets, WxccHeaders, WxccWebhook};
///
/// let secret = "my-32-plus-character-long-secret-value";
/// let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(secret)));
/// let body = br#"{"id":"e-1","type":"agent:login","source":"/com/cisco/wxcc/sub-1",
///   "comciscotimestamp":"1697211697694","data":{"agentId":"a-1"}}"#;
/// let signature = SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, secret.as_bytes(), body));
/// let headers = WxccHeaders { signature: Some(&signature), timestamp: Some("1697211697694"), version: None };
/// let now = EpochMillis::new(1_697_211_700_000);
/// let event = hook.verify_at(&headers, body, now).unwrap().parse().unwrap();
/// assert_eq!(event.subscription_id(), "sub-1");
/// ```
#[derive(Clone, Debug)]
pub struct WxccWebhook {
    secrets: Secrets,
    replay_window: Duration,
    require_timestamp: bool,
    accept_unsigned: bool,
    dedupe_capacity: usize,
    dedupe_ttl: Duration,
}

impl WxccWebhook {
    /// Verifies deliveries with `secrets`; a delivery of a subscription without a secret is
    /// refused.
    pub fn new(secrets: Secrets) -> Self {
        Self {
            secrets,
            replay_window: DEFAULT_REPLAY_WINDOW,
            require_timestamp: false,
            accept_unsigned: false,
            dedupe_capacity: 100_000,
            dedupe_ttl: Duration::from_secs(24 * 3600),
        }
    }

    /// How far a signed timestamp may be from now, either way (default 5 minutes).
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.replay_window = window;
        self
    }

    /// Refuses deliveries without `X-WebExCC-Timestamp` (V1 subscriptions send none; default
    /// off). Turn it on when all your subscriptions are V2: replay protection then holds for
    /// every delivery.
    pub fn require_timestamp(mut self, yes: bool) -> Self {
        self.require_timestamp = yes;
        self
    }

    /// Accepts deliveries without a signature (a subscription registered without a secret;
    /// default off). Anyone who knows the URL can then post events: use it only behind
    /// another check.
    pub fn accept_unsigned(mut self, yes: bool) -> Self {
        self.accept_unsigned = yes;
        self
    }

    /// How many event ids the route remembers, and for how long, to drop redeliveries
    /// (default 100,000 for 24 hours).
    pub fn dedupe(mut self, capacity: usize, ttl: Duration) -> Self {
        self.dedupe_capacity = capacity;
        self.dedupe_ttl = ttl;
        self
    }

    /// The secrets, shared with the route.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// [`WxccWebhook::verify_at`] now.
    pub fn verify<'b>(&self, headers: &WxccHeaders<'_>, body: &'b [u8]) -> Result<Verified<'b>, VerifyError> {
        self.verify_at(headers, body, EpochMillis::now())
    }

    /// Checks a delivery as of `now`, in this order:
    ///
    /// 1. the body names its subscription (`source`, `/com/cisco/wxcc/{id}`): a body without
    ///    one cannot be attributed, so it is refused like a bad signature;
    /// 2. the subscription has a secret here ([`VerifyError::UnknownSender`] otherwise);
    /// 3. `X-WebexCC-Signature` is the hex (either case) HMAC-SHA256 of the raw body under
    ///    one of its secrets, compared in constant time;
    /// 4. where `X-WebExCC-Timestamp` or `X-WebexCC-Webhook-Version` is present (V2), or a
    ///    timestamp is required: the header equals the body's `comciscotimestamp` (a string
    ///    or a number) and lies within the replay window of `now`, either way.
    pub fn verify_at<'b>(
        &self,
        headers: &WxccHeaders<'_>,
        body: &'b [u8],
        now: EpochMillis,
    ) -> Result<Verified<'b>, VerifyError> {
        #[derive(Deserialize)]
        struct Head {
            source: Option<String>,
            comciscotimestamp: Option<Value>,
        }
        let unattributed =
            VerifyError::Malformed { header: "source", reason: "the body names no subscription in `source`" };
        let head: Head = serde_json::from_slice(body).map_err(|_| unattributed.clone())?;
        let source = head.source.ok_or_else(|| unattributed.clone())?;
        let subscription = subscription_of(&source);
        if subscription.is_empty() {
            return Err(unattributed);
        }
        let signature = headers.signature.map(str::trim).filter(|s| !s.is_empty());
        match (self.secrets.verifier(subscription), signature) {
            (_, None) if self.accept_unsigned => {}
            (None, _) => return Err(VerifyError::UnknownSender(subscription.to_owned())),
            (Some(verifier), signature) => verifier.verify(body, signature)?,
        }
        let v2 = headers.timestamp.is_some() || headers.version.is_some();
        if v2 || self.require_timestamp {
            let header = headers
                .timestamp
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
            let signed: i64 = header.parse().map_err(|_| VerifyError::Malformed {
                header: TIMESTAMP_HEADER,
                reason: "not epoch milliseconds",
            })?;
            let in_body = head.comciscotimestamp.and_then(|v| serde_json::from_value::<EpochMillis>(v).ok());
            if in_body.map(EpochMillis::as_i64) != Some(signed) {
                return Err(VerifyError::BodyMismatch {
                    header: TIMESTAMP_HEADER,
                    member: "comciscotimestamp",
                });
            }
            let window = i64::try_from(self.replay_window.as_millis()).unwrap_or(i64::MAX);
            if now.as_i64().abs_diff(signed) > window.unsigned_abs() {
                return Err(VerifyError::OutsideWindow(TIMESTAMP_HEADER));
            }
        }
        Ok(Verified { body })
    }

    /// [`WxccWebhook::verify`] then [`Verified::parse`], with one error type.
    pub fn verify_and_parse(&self, headers: &WxccHeaders<'_>, body: &[u8]) -> Result<Event, crate::Error> {
        Ok(self.verify(headers, body)?.parse()?)
    }
}

/// A body whose checks passed: the only way to a parsed event on the receiving side.
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
    pub fn parse(&self) -> Result<Event, JsonError> {
        parse_event(self.body)
    }
}

#[cfg(feature = "server")]
mod server {
    use axum::http::{HeaderMap, HeaderName};
    use cc_core::webhook::server::{
        Deduplicate, DeliveryKeys, EventHandler, Inbound, ReceiverConfig, header_text, receiver,
    };
    use cc_core::webhook::{DuplicateFilter, ParseError, VerifyError};

    use super::{SIGNATURE_HEADER, TIMESTAMP_HEADER, VERSION_HEADER, WxccHeaders, WxccWebhook};
    use crate::model::events::{Event, EventId, parse_event};

    // Looked up by `HeaderName` (see `header_text`).
    const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);
    const TIMESTAMP: HeaderName = HeaderName::from_static(TIMESTAMP_HEADER);
    const VERSION: HeaderName = HeaderName::from_static(VERSION_HEADER);

    fn wxcc_headers(headers: &HeaderMap) -> WxccHeaders<'_> {
        WxccHeaders {
            signature: header_text(headers, &SIGNATURE),
            timestamp: header_text(headers, &TIMESTAMP),
            version: header_text(headers, &VERSION),
        }
    }

    impl Inbound for WxccWebhook {
        type Event = Event;

        fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
            WxccWebhook::verify(self, &wxcc_headers(headers), body).map(|_| ())
        }

        fn parse(&self, _headers: &HeaderMap, body: &[u8]) -> Result<Event, ParseError> {
            Ok(parse_event(body)?)
        }

        /// The event `id`; the task (else the agent) it is about orders. Events carry no
        /// sequence, so arrival order within it (the tracker orders by event time).
        fn keys(&self, event: &Event) -> DeliveryKeys {
            let agent = match &event.data {
                crate::model::events::EventData::Agent(d) => d.agent_id.clone().map(|a| format!("agent:{a}")),
                _ => None,
            };
            let task = event.data.task_id().map(|t| format!("task:{t}"));
            DeliveryKeys { ids: vec![event.id.to_string()], conversation: task.or(agent), order: None }
        }
    }

    impl WxccWebhook {
        /// An axum POST route for the subscriptions' `destinationUrl`: 401 naming the failed
        /// check (signature, unknown subscription, timestamp missing, mismatched or outside
        /// the window; the handler never sees the request), 400 naming the field of a
        /// malformed event, 413 over 1 MiB, 408 when the body is slow; a redelivered event id
        /// is acknowledged without reaching `handler` again; otherwise 200 once `handler`
        /// accepted, 503 if it refused (the vendor may redeliver). Accept fast: the vendor
        /// waits 5 seconds.
        pub fn into_route<H, S>(self, handler: H) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Event>,
            S: Clone + Send + Sync + 'static,
        {
            self.into_route_with(handler, ReceiverConfig::default())
        }

        /// [`WxccWebhook::into_route`] with explicit settings (body limit and read deadline,
        /// success status).
        pub fn into_route_with<H, S>(
            self,
            handler: H,
            config: ReceiverConfig,
        ) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<Event>,
            S: Clone + Send + Sync + 'static,
        {
            let filter = DuplicateFilter::new(self.dedupe_capacity, self.dedupe_ttl);
            let key = |event: &Event| -> Option<EventId> { Some(event.id.clone()) };
            receiver::<_, _, S>(self, Deduplicate::new(handler, key, filter), config)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cc_core::auth::hmac;

    const SECRET: &str = "my-32-plus-character-long-secret-value";
    const NOW: i64 = 1_697_211_700_000;

    fn body(ts: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"e-1","type":"agent:login","source":"/com/cisco/wxcc/sub-1","comciscotimestamp":{ts},"data":{{}}}}"#
        )
        .into_bytes()
    }

    fn sign(secret: &str, body: &[u8]) -> String {
        SignatureEncoding::Hex.encode(&hmac(HmacAlgorithm::Sha256, secret.as_bytes(), body))
    }

    fn check(
        hook: &WxccWebhook,
        body: &[u8],
        sig: Option<&str>,
        ts: Option<&str>,
    ) -> Result<(), VerifyError> {
        let headers = WxccHeaders { signature: sig, timestamp: ts, version: None };
        hook.verify_at(&headers, body, EpochMillis::new(NOW)).map(|_| ())
    }

    #[test]
    fn the_signature_matrix() {
        let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(SECRET)));
        let b = body("\"1697211697694\"");
        let good = sign(SECRET, &b);
        let ts = Some("1697211697694");
        assert_eq!(check(&hook, &b, Some(&good), ts), Ok(()), "valid");
        assert_eq!(check(&hook, &b, Some(&good.to_uppercase()), ts), Ok(()), "upper-case hex");
        assert_eq!(
            check(&hook, &body("1697211697694"), Some(&sign(SECRET, &body("1697211697694"))), ts),
            Ok(()),
            "numeric timestamp"
        );
        let tampered = String::from_utf8(b.clone()).unwrap().replace("e-1", "e-2").into_bytes();
        assert_eq!(
            check(&hook, &tampered, Some(&good), ts),
            Err(VerifyError::SignatureMismatch),
            "tampered body"
        );
        assert_eq!(
            check(&hook, &b, Some(&sign("another-secret-of-32-characters!!", &b)), ts),
            Err(VerifyError::SignatureMismatch),
            "wrong secret"
        );
        assert_eq!(
            check(&hook, &b, None, ts),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER)),
            "missing header"
        );
        assert!(matches!(
            check(&hook, &b, Some("sha256=zz"), ts),
            Err(VerifyError::Malformed { header: SIGNATURE_HEADER, .. })
        ));
        // Rotation: the new secret is accepted alongside the old one.
        hook.secrets().add("sub-1", Secret::from("the-new-secret-of-thirty-two-chars"));
        assert_eq!(
            check(&hook, &b, Some(&sign("the-new-secret-of-thirty-two-chars", &b)), ts),
            Ok(()),
            "rotated"
        );
        assert_eq!(check(&hook, &b, Some(&good), ts), Ok(()), "the old one still");
        hook.secrets().set("sub-1", vec![Secret::from("the-new-secret-of-thirty-two-chars")]);
        assert_eq!(check(&hook, &b, Some(&good), ts), Err(VerifyError::SignatureMismatch), "old one retired");
    }

    #[test]
    fn timestamps_guard_against_replay() {
        let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(SECRET)));
        let at = |ms: i64| {
            let b = body(&format!("\"{ms}\""));
            let sig = sign(SECRET, &b);
            check(&hook, &b, Some(&sig), Some(&ms.to_string()))
        };
        assert_eq!(at(NOW - 4 * 60_000), Ok(()));
        assert_eq!(at(NOW - 6 * 60_000), Err(VerifyError::OutsideWindow(TIMESTAMP_HEADER)), "stale");
        assert_eq!(at(NOW + 6 * 60_000), Err(VerifyError::OutsideWindow(TIMESTAMP_HEADER)), "future");
        let b = body("\"1697211697694\"");
        let sig = sign(SECRET, &b);
        assert_eq!(
            check(&hook, &b, Some(&sig), Some("1697211697695")),
            Err(VerifyError::BodyMismatch { header: TIMESTAMP_HEADER, member: "comciscotimestamp" }),
            "header and body disagree"
        );
        assert!(matches!(check(&hook, &b, Some(&sig), Some("soon")), Err(VerifyError::Malformed { .. })));
        // A version header without a timestamp is a V2 delivery missing its timestamp.
        let headers = WxccHeaders { signature: Some(&sig), timestamp: None, version: Some("agent:1.0.0") };
        assert_eq!(
            hook.verify_at(&headers, &b, EpochMillis::new(NOW)).map(|_| ()),
            Err(VerifyError::MissingHeader(TIMESTAMP_HEADER))
        );
        // V1: no timestamp, accepted unless required.
        assert_eq!(check(&hook, &b, Some(&sig), None), Ok(()));
        let strict = hook.clone().require_timestamp(true);
        assert_eq!(check(&strict, &b, Some(&sig), None), Err(VerifyError::MissingHeader(TIMESTAMP_HEADER)));
    }

    #[test]
    fn deliveries_are_attributed_before_anything_else() {
        let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(SECRET)));
        let other = br#"{"id":"e","type":"agent:login","source":"/com/cisco/wxcc/sub-2","data":{}}"#;
        assert_eq!(
            check(&hook, other, Some(&sign(SECRET, other)), None),
            Err(VerifyError::UnknownSender("sub-2".into()))
        );
        for bad in [&b"not json"[..], br#"{"id":"e"}"#, br#"{"source":"/com/cisco/wxcc/"}"#] {
            assert!(matches!(
                check(&hook, bad, Some(&sign(SECRET, bad)), None),
                Err(VerifyError::Malformed { header: "source", .. })
            ));
        }
        let open = WxccWebhook::new(Secrets::new()).accept_unsigned(true);
        assert_eq!(check(&open, other, None, None), Ok(()), "unsigned allowed when configured");
        assert!(
            check(&open, other, Some(&sign(SECRET, other)), None).is_err(),
            "a signature without a secret is not waved through"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let hook = WxccWebhook::new(Secrets::new().with("sub-1", Secret::from(SECRET)));
        let text = format!("{hook:?}");
        assert!(!text.contains(SECRET) && text.contains("sub-1"), "{text}");
    }
}
