//! Receiving ECE's callbacks: check `Authorization`, then parse JSON or XML, the
//! `{"message":[…]}` envelope or a bare message. With feature `server`, an axum route that
//! drops redelivered messages by id and answers 200 once your handler took the batch.

use std::sync::Arc;

use cc_core::Secret;
use cc_core::de::{JsonError, parse_json};
use cc_core::webhook::{BasicVerifier, ParseError, VerifyError};
use serde_json::{Map, Value};

use crate::model::{CallbackBatch, CallbackMessage};

/// How ECE authenticates to your webhook (set in ECE under External Apps → Authentication).
#[derive(Clone)]
pub enum WebhookAuth {
    /// No authentication configured (not recommended).
    None,
    /// HTTP Basic with these credentials, compared in constant time.
    Basic(BasicVerifier),
    /// OAuth 2.0: ECE sends `Bearer <token>` from a token URL you configure; how ECE obtains it
    /// is not documented, so the check is yours: the closure gets the token and says yes or no.
    Bearer(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl std::fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic(_) => f.write_str("Basic([redacted])"),
            Self::Bearer(_) => f.write_str("Bearer(<check>)"),
        }
    }
}

impl WebhookAuth {
    /// Basic credentials.
    pub fn basic(user: &str, password: Secret<String>) -> Self {
        Self::Basic(BasicVerifier::new(user, password))
    }

    /// Checks an `Authorization` header value.
    pub fn verify(&self, authorization: Option<&str>) -> Result<(), VerifyError> {
        match self {
            Self::None => Ok(()),
            Self::Basic(verifier) => verifier.verify(authorization),
            Self::Bearer(check) => {
                let header = authorization.ok_or(VerifyError::MissingHeader("authorization"))?;
                let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).ok_or(
                    VerifyError::Malformed { header: "authorization", reason: "expected `Bearer <token>`" },
                )?;
                if check(token.trim()) { Ok(()) } else { Err(VerifyError::CredentialsMismatch) }
            }
        }
    }
}

/// The callback receiver's settings.
#[derive(Clone, Debug)]
pub struct EceWebhook {
    auth: WebhookAuth,
    dedupe_capacity: usize,
    dedupe_ttl: std::time::Duration,
}

/// How many message ids the route remembers by default (about 30 MiB at most).
pub const DEFAULT_DEDUPE_CAPACITY: usize = 1_000_000;
/// How long by default (ECE documents no retry window: our choice, a day).
pub const DEFAULT_DEDUPE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl EceWebhook {
    /// A receiver checking `auth`, remembering [`DEFAULT_DEDUPE_CAPACITY`] ids for
    /// [`DEFAULT_DEDUPE_TTL`].
    pub fn new(auth: WebhookAuth) -> Self {
        Self { auth, dedupe_capacity: DEFAULT_DEDUPE_CAPACITY, dedupe_ttl: DEFAULT_DEDUPE_TTL }
    }

    /// How many message ids the route remembers, and for how long, to drop redeliveries
    /// (each id costs about 30 bytes whatever its length).
    pub fn dedupe(mut self, capacity: usize, ttl: std::time::Duration) -> Self {
        self.dedupe_capacity = capacity;
        self.dedupe_ttl = ttl;
        self
    }

    /// Checks `Authorization`, then parses the body (format from `content_type`, or sniffed).
    pub fn verify_and_parse(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<CallbackBatch, crate::Error> {
        self.auth.verify(authorization).map_err(crate::Error::Verify)?;
        parse_callback(content_type, body).map_err(crate::Error::Parse)
    }
}

/// Parses a callback body: JSON or XML (by `content_type`; without one, a body starting with
/// `<` is XML), as the `{"message":[…]}` envelope, an envelope holding one message object, or
/// one bare message. A malformed body fails naming the field path.
///
/// **Assumption:** ECE's XML callback format is not documented beyond "JSON or XML"; element
/// names are taken to mirror the JSON names (`<message><id>…</id><conversation><id>…`), with
/// repeated `<message>` elements under any root for a batch. Attributes are ignored.
pub fn parse_callback(content_type: Option<&str>, body: &[u8]) -> Result<CallbackBatch, ParseError> {
    let xml = match content_type {
        Some(ct) if ct.contains("xml") => true,
        Some(ct) if ct.contains("json") => false,
        _ => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'),
    };
    if xml {
        let value = xml_to_value(body)?;
        return from_value(value);
    }
    match parse_json::<CallbackBatch>(body) {
        Ok(batch) => Ok(batch),
        Err(envelope_error) => {
            let value: Value = parse_json(body)?;
            match value.get("message") {
                Some(Value::Array(_)) => Err(envelope_error.into()),
                _ => from_value(value),
            }
        }
    }
}

/// A JSON value in one of the three accepted shapes.
fn from_value(value: Value) -> Result<CallbackBatch, ParseError> {
    match value {
        Value::Object(mut map) if map.contains_key("message") && !map.contains_key("conversation") => {
            match map.remove("message") {
                Some(Value::Array(items)) => {
                    let message = items
                        .into_iter()
                        .enumerate()
                        .map(|(i, item)| typed(item, &format!("message[{i}]")))
                        .collect::<Result<_, _>>()?;
                    Ok(CallbackBatch { message })
                }
                Some(single) => Ok(CallbackBatch { message: vec![typed(single, "message")?] }),
                None => Ok(CallbackBatch { message: Vec::new() }),
            }
        }
        single @ Value::Object(_) => Ok(CallbackBatch { message: vec![typed(single, "")?] }),
        _ => Err(ParseError::new("a callback must be a JSON object")),
    }
}

fn typed(value: Value, prefix: &str) -> Result<CallbackMessage, ParseError> {
    message_from_value(value).map_err(|(path, message)| ParseError {
        path: Some(match (prefix.is_empty(), path.as_str()) {
            (true, _) => path,
            (false, ".") => prefix.to_owned(),
            (false, _) => format!("{prefix}.{path}"),
        }),
        message,
    })
}

/// Deserializes a message from a value, returning the failing field path.
fn message_from_value(value: Value) -> Result<CallbackMessage, (String, String)> {
    // Re-serializing a small value keeps cc-core's path reporting in one place.
    let bytes = serde_json::to_vec(&value).map_err(|e| (".".to_owned(), e.to_string()))?;
    parse_json::<CallbackMessage>(&bytes).map_err(|e: JsonError| (e.path, e.message))
}

/// How deep XML callback elements may nest. A real callback nests 4 levels
/// (`message/sender/user/name`); a hostile one nested thousands deep would overflow the
/// stack when the mirrored JSON value is converted or dropped, so deeper documents are
/// refused (400) naming this limit.
pub const MAX_XML_DEPTH: usize = 64;

/// Converts an XML document into the JSON shape it mirrors: elements become keys, repeated
/// elements arrays, leaf text strings. The root element's content is returned.
fn xml_to_value(body: &[u8]) -> Result<Value, ParseError> {
    use quick_xml::events::Event;

    struct Frame {
        name: String,
        children: Map<String, Value>,
        text: String,
    }
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let xml_error =
        |e: &dyn std::fmt::Display, pos: u64| ParseError::new(format!("invalid XML at byte {pos}: {e}"));
    fn close(frame: Frame) -> Value {
        if frame.children.is_empty() {
            Value::String(frame.text.trim().to_owned())
        } else {
            Value::Object(frame.children)
        }
    }
    fn attach(parent: &mut Map<String, Value>, name: String, value: Value) {
        match parent.get_mut(&name) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                parent.insert(name, value);
            }
        }
    }
    loop {
        let position = reader.buffer_position();
        match reader.read_event() {
            Err(e) => return Err(xml_error(&e, position)),
            Ok(Event::Eof) => break,
            Ok(Event::Start(start)) => {
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(ParseError::new(format!(
                        "invalid XML at byte {position}: elements nested deeper than {MAX_XML_DEPTH}"
                    )));
                }
                let name = start.local_name().as_ref().to_owned();
                stack.push(Frame { name, children: Map::new(), text: String::new() });
            }
            Ok(Event::Empty(empty)) => {
                let name = empty.local_name().as_ref().to_owned();
                match stack.last_mut() {
                    Some(parent) => attach(&mut parent.children, name, Value::String(String::new())),
                    None => root = Some(Value::Object(Map::new())),
                }
            }
            Ok(Event::Text(text)) => {
                if let Some(frame) = stack.last_mut() {
                    frame.text.push_str(&text.xml10_content());
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(frame) = stack.last_mut() {
                    frame.text.push_str(&data.xml10_content());
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                if let Some(frame) = stack.last_mut() {
                    // `&#x1F600;`, `&amp;`…: resolved to the character; unknown entities fail.
                    let name: &str = &reference;
                    let entity = format!("&{name};");
                    let resolved =
                        quick_xml::escape::unescape(&entity).map_err(|e| xml_error(&e, position))?;
                    frame.text.push_str(&resolved);
                }
            }
            Ok(Event::End(_)) => {
                let frame = stack.pop().ok_or_else(|| ParseError::new("invalid XML: unbalanced end tag"))?;
                let name = frame.name.clone();
                let value = close(frame);
                match stack.last_mut() {
                    Some(parent) => attach(&mut parent.children, name, value),
                    None => {
                        // The root: a bare <message> is one message; anything else wraps them.
                        root = Some(if name == "message" {
                            let mut wrapper = Map::new();
                            wrapper.insert("message".into(), value);
                            Value::Object(wrapper)
                        } else {
                            value
                        });
                    }
                }
            }
            Ok(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(ParseError::new("invalid XML: the document ends inside an element"));
    }
    root.ok_or_else(|| ParseError::new("invalid XML: no root element"))
}

#[cfg(feature = "server")]
mod server {
    use std::collections::HashSet;
    use std::sync::Arc;

    use async_trait::async_trait;
    use axum::http::HeaderMap;
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
    use cc_core::webhook::claim::DeliveryGate;
    use cc_core::webhook::server::{
        DeliveryKeys, EventHandler, HandlerError, Inbound, ReceiverConfig, header_text, receiver,
    };
    use cc_core::webhook::{DuplicateFilter, Fingerprints, ParseError, VerifyError};

    use super::{EceWebhook, parse_callback};
    use crate::model::CallbackBatch;

    /// Largest body the route accepts: a 1000-message batch with long HTML messages fits.
    pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

    impl Inbound for EceWebhook {
        type Event = CallbackBatch;

        fn verify_headers(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
            self.auth.verify(header_text(headers, &AUTHORIZATION))
        }

        fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<CallbackBatch, ParseError> {
            parse_callback(header_text(headers, &CONTENT_TYPE), body)
        }

        /// The messages' ids; the first message's conversation orders (ECE sends no
        /// sequence: arrival order, and batch order inside a delivery).
        fn keys(&self, batch: &CallbackBatch) -> DeliveryKeys {
            DeliveryKeys {
                ids: batch.message.iter().map(|m| m.id.as_str().trim().to_owned()).collect(),
                conversation: batch.message.first().map(|m| m.conversation.id.to_string()),
                order: None,
            }
        }
    }

    /// Removes messages committed before (by id) from each batch, keeping batch order; a
    /// batch of only duplicates is acknowledged without reaching the handler. The batch's ids
    /// are in flight while the handler runs, committed on its `Ok`, released on an error or
    /// a dropped request (see [`DeliveryGate`]). A message with an empty id has no key: it
    /// is always handed over. Ids are handled as their 128-bit fingerprints (odds in
    /// [`Fingerprints`]), each computed once: no id is copied or hashed again per set.
    struct DropSeen<H> {
        inner: H,
        gate: Arc<DeliveryGate<IdPrint>>,
        prints: Fingerprints,
    }

    /// A message id's fingerprint; both halves feed any hasher, so nothing of it is lost.
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    struct IdPrint([u64; 2]);

    #[async_trait]
    impl<H: EventHandler<CallbackBatch>> EventHandler<CallbackBatch> for DropSeen<H> {
        async fn accept(&self, mut batch: CallbackBatch) -> Result<(), HandlerError> {
            let prints: Vec<Option<IdPrint>> = batch
                .message
                .iter()
                .map(|m| (!m.id.as_str().trim().is_empty()).then(|| IdPrint(self.prints.of(m.id.as_str()))))
                .collect();
            let claim = self.gate.claim(prints.iter().flatten().copied().collect()).await?;
            let duplicates: HashSet<IdPrint> = claim.duplicates().iter().copied().collect();
            let mut in_batch = HashSet::with_capacity(prints.len());
            let mut print = prints.into_iter();
            batch.message.retain(|_| match print.next().flatten() {
                None => true,
                Some(p) => !duplicates.contains(&p) && in_batch.insert(p),
            });
            if batch.message.is_empty() {
                return Ok(());
            }
            // Dropped on error or cancellation: the ids are released for the redelivery.
            self.inner.accept(batch).await?;
            claim.commit();
            Ok(())
        }
    }

    impl EceWebhook {
        /// An axum POST route for the callback URL: 401 on bad credentials (checked before
        /// the body is read; handler not called), 400 naming the field of a malformed body,
        /// 413 over [`BODY_LIMIT`]; messages seen before are dropped (by id, as
        /// [`EceWebhook::dedupe`] sets: by default 1,000,000 ids for 24 hours); the rest of
        /// the batch goes to `handler` in order, and the answer
        /// is 200 once it accepted, 503 if it refused.
        pub fn into_route<H, S>(self, handler: H) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<CallbackBatch>,
            S: Clone + Send + Sync + 'static,
        {
            self.into_route_with(
                handler,
                ReceiverConfig { body_limit: BODY_LIMIT, ..ReceiverConfig::default() },
            )
        }

        /// [`EceWebhook::into_route`] with explicit settings (body limit and read deadline,
        /// success status).
        pub fn into_route_with<H, S>(
            self,
            handler: H,
            config: ReceiverConfig,
        ) -> axum::routing::MethodRouter<S>
        where
            H: EventHandler<CallbackBatch>,
            S: Clone + Send + Sync + 'static,
        {
            let filter = DuplicateFilter::new(self.dedupe_capacity, self.dedupe_ttl);
            let handler =
                DropSeen { inner: handler, gate: DeliveryGate::new(filter), prints: Fingerprints::default() };
            receiver::<_, _, S>(self, handler, config)
        }
    }
}

#[cfg(feature = "server")]
pub use server::BODY_LIMIT;
