//! ECE in vendor-neutral terms: callback messages as [`ConversationEvent`]s, and (feature
//! `client`) [`EceChannel`], the [`MessagingChannel`](cc_core::MessagingChannel).

use cc_core::conversation::{Attachment, Message as NeutralMessage, Participant, ReceiptKind, Role};
use cc_core::{ConversationEvent, MessageId as NeutralMessageId};

use crate::model::{CallbackMessage, MessageType, SenderType};

/// What a callback message means.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EceEvent<'a> {
    /// `assigned`: an agent took the chat.
    Assigned,
    /// `text/plain` or `text/html` from an agent (or the system).
    Text {
        /// Whether the content is HTML.
        html: bool,
        /// The content.
        content: &'a str,
    },
    /// `startTyping` (true) or `endTyping` (false).
    Typing(bool),
    /// `complete`: the chat is over (terminal, once per conversation).
    Complete,
    /// Any other type, known or not.
    Other(&'a MessageType),
}

/// Classifies a callback message.
pub fn classify(message: &CallbackMessage) -> EceEvent<'_> {
    match &message.kind.value {
        MessageType::Assigned => EceEvent::Assigned,
        MessageType::TextPlain | MessageType::TextHtml => EceEvent::Text {
            html: message.kind.value == MessageType::TextHtml,
            content: message.content.as_deref().unwrap_or(""),
        },
        MessageType::StartTyping => EceEvent::Typing(true),
        MessageType::EndTyping => EceEvent::Typing(false),
        MessageType::Complete => EceEvent::Complete,
        other => EceEvent::Other(other),
    }
}

fn sender(message: &CallbackMessage) -> Participant {
    let role = match message.sender.kind {
        SenderType::User => Role::Agent,
        SenderType::System => Role::System,
        _ => Role::Unknown(message.sender.kind.as_str().to_owned()),
    };
    let mut participant = Participant::role(role);
    if let Some(user) = message.agent().filter(|_| message.sender.kind == SenderType::User) {
        participant.name = user.screen_name.clone().or_else(|| user.name.clone());
        participant.id = user.name.clone().map(Into::into);
    }
    participant
}

/// The neutral event of a callback message: `assigned` → agent joined (screen name as name,
/// login name as id); text → message (HTML kept in `html`); typing → typing; `complete` →
/// ended; `delivered`/`read` → receipts; `error` → a failed receipt with ECE's words as
/// `detail`; `uploadAttachment` → a message with `attachments` (`contentUrl` as the URL; the
/// content, if any, as text); `geolocation` → a message whose text is a `geo:lat,long` URI
/// (RFC 5870), else the address, else the URL; `transfer` → transferred (each time it comes;
/// `to` is the content, else the agent named); anything else — `pagePush`,
/// `acceptAttachment`, `rejectAttachment`, a payload the assumed shapes do not read — →
/// `Other` (`ece:<type>`) with the raw message.
pub fn conversation_event(message: &CallbackMessage) -> ConversationEvent {
    let conversation = message.conversation.id.clone();
    let at = message.time_stamp;
    match classify(message) {
        EceEvent::Assigned => {
            let user = message.kind.user.as_ref().or(message.sender.user.as_ref());
            let mut agent = Participant::role(Role::Agent);
            if let Some(user) = user {
                agent.name = user.screen_name.clone().or_else(|| user.name.clone());
                agent.id = user.name.clone().map(Into::into);
            }
            ConversationEvent::AgentJoined { conversation, agent, at }
        }
        EceEvent::Text { html, content } => ConversationEvent::Message {
            conversation,
            message: NeutralMessage {
                id: Some(NeutralMessageId::new(message.id.as_str())),
                sender: sender(message),
                text: (!html).then(|| content.to_owned()),
                html: html.then(|| content.to_owned()),
                attachments: vec![],
            },
            at,
        },
        EceEvent::Typing(on) => ConversationEvent::Typing { conversation, who: sender(message), on, at },
        EceEvent::Complete => ConversationEvent::Ended {
            conversation,
            by: Some(Role::Agent),
            reason: message.content.clone(),
            at,
        },
        EceEvent::Other(MessageType::UploadAttachment) if !message.attachment_list().is_empty() => {
            ConversationEvent::Message {
                conversation,
                message: NeutralMessage {
                    id: Some(NeutralMessageId::new(message.id.as_str())),
                    sender: sender(message),
                    text: message.content.clone().filter(|c| !c.is_empty()),
                    html: None,
                    attachments: message
                        .attachment_list()
                        .into_iter()
                        .map(|a| Attachment {
                            url: a.content_url.unwrap_or_default(),
                            name: a.file_name,
                            content_type: a.content_type,
                            size: a.size,
                        })
                        .collect(),
                },
                at,
            }
        }
        EceEvent::Other(MessageType::Geolocation)
            if message.location().and_then(|l| l.as_text()).is_some() =>
        {
            ConversationEvent::Message {
                conversation,
                message: NeutralMessage {
                    id: Some(NeutralMessageId::new(message.id.as_str())),
                    sender: sender(message),
                    text: message.location().and_then(|l| l.as_text()),
                    html: None,
                    attachments: vec![],
                },
                at,
            }
        }
        EceEvent::Other(MessageType::Transfer) => {
            ConversationEvent::Transferred {
                conversation,
                to: message.content.clone().filter(|c| !c.is_empty()).or_else(|| {
                    message.agent().and_then(|u| u.screen_name.clone().or_else(|| u.name.clone()))
                }),
                at,
            }
        }
        EceEvent::Other(MessageType::Error) => ConversationEvent::Receipt {
            conversation,
            kind: ReceiptKind::Failed,
            messages: vec![],
            by: Some(sender(message)),
            detail: message.content.clone(),
            at,
        },
        EceEvent::Other(MessageType::Delivered | MessageType::Read) => ConversationEvent::Receipt {
            conversation,
            kind: if message.kind.value == MessageType::Read {
                ReceiptKind::Read
            } else {
                ReceiptKind::Delivered
            },
            messages: vec![],
            by: Some(sender(message)),
            detail: None,
            at,
        },
        EceEvent::Other(kind) => ConversationEvent::Other {
            conversation: Some(conversation),
            kind: format!("ece:{kind}"),
            raw: serde_json::to_value(message).unwrap_or(serde_json::Value::Null),
        },
    }
}

#[cfg(feature = "client")]
pub use self::channel_impl::EceChannel;

#[cfg(feature = "client")]
mod channel_impl {
    use async_trait::async_trait;
    use cc_core::conversation::{
        Availability, ChannelError, StartConversation as NeutralStart, StartedConversation,
    };
    use cc_core::{ConversationId, MessageId, MessagingChannel};

    use crate::client::EceClient;
    use crate::error::Error;
    use crate::model::EntryPointId;
    use crate::start::{CustomerLookup, StartConversation};

    const VENDOR: &str = "ece-messaging";

    /// [`MessagingChannel`] over an [`EceClient`]. `start` uses `route` as the entry point
    /// (or the default one), looks the customer up by `customer_email` (anonymous without
    /// one), splits `customer_name` into first and last name at the last space, and passes
    /// `subject`, the attributes and `typing_notifications`. ECE returns no message ids.
    #[derive(Clone, Debug)]
    pub struct EceChannel {
        client: EceClient,
        default_entry_point: EntryPointId,
    }

    impl EceChannel {
        /// A channel starting conversations on `default_entry_point` unless told otherwise.
        pub fn new(client: EceClient, default_entry_point: impl Into<EntryPointId>) -> Self {
            Self { client, default_entry_point: default_entry_point.into() }
        }
    }

    fn wrap(error: Error) -> ChannelError {
        ChannelError::from_vendor(VENDOR, error)
    }

    #[async_trait]
    impl MessagingChannel for EceChannel {
        async fn start(&self, request: NeutralStart) -> Result<StartedConversation, ChannelError> {
            let lookup = match &request.customer_email {
                Some(email) => CustomerLookup::Email(email.clone()),
                None => CustomerLookup::Anonymous,
            };
            let entry_point = request
                .route
                .clone()
                .map(EntryPointId::new)
                .unwrap_or_else(|| self.default_entry_point.clone());
            let mut start = StartConversation::new(entry_point, lookup)
                .typing_notifications(request.typing_notifications);
            if let Some(name) = &request.customer_name {
                let (first, last) = name.rsplit_once(' ').unwrap_or((name.as_str(), ""));
                start = start.names(first, last);
            }
            if let Some(subject) = &request.subject {
                start = start.subject(subject.clone());
            }
            for (name, value) in &request.attributes {
                start = start.attribute(name.clone(), value.clone());
            }
            let started = self.client.start(&start).await.map_err(wrap)?;
            let mut vendor_ids = std::collections::BTreeMap::new();
            vendor_ids.insert("activity".to_owned(), started.activity.to_string());
            vendor_ids.insert("case".to_owned(), started.case.to_string());
            Ok(StartedConversation { id: started.conversation, vendor_ids })
        }

        async fn send_text(
            &self,
            conversation: &ConversationId,
            text: &str,
        ) -> Result<Option<MessageId>, ChannelError> {
            self.client.send_text(conversation, text).await.map_err(wrap)?;
            Ok(None)
        }

        async fn typing(&self, conversation: &ConversationId, on: bool) -> Result<(), ChannelError> {
            let result = if on {
                self.client.start_typing(conversation).await
            } else {
                self.client.end_typing(conversation).await
            };
            result.map_err(wrap)
        }

        /// From the chat web-service API's capacity: free slots → available with the count,
        /// zero → unavailable; a server without that API (404, 405, 501) → unknown.
        async fn availability(&self, route: Option<&str>) -> Result<Availability, ChannelError> {
            let entry_point =
                route.map(EntryPointId::new).unwrap_or_else(|| self.default_entry_point.clone());
            match self.client.capacity(&entry_point).await {
                Ok(0) => Ok(Availability::Unavailable {
                    reason: Some("no agent has a free chat slot (capacity 0)".into()),
                }),
                Ok(slots) => Ok(Availability::Available { slots: Some(slots) }),
                Err(e) if matches!(e.status(), Some(404 | 405 | 501)) => Ok(Availability::Unknown),
                Err(e) => Err(wrap(e)),
            }
        }

        async fn end(&self, conversation: &ConversationId) -> Result<(), ChannelError> {
            self.client.end(conversation).await.map_err(wrap)
        }
    }
}
