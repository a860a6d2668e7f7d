//! The vendor-neutral view of an external chat application: [`MessagingChannel`] for
//! [`ExternalApp`] and [`conversation_events`] for what the server sends.
//!
//! The conversation id is the chat's **TrackingId**, the id the external application owns and
//! every ES/SE chat message carries. Mapping of [`StartConversation`] to ES_CHAT_START:
//! `customer_name` → PartyName, `customer_email` → RemoteAddress, `route` → ExtResponse
//! (the string the server's conditions evaluate), attributes `TrackingId` (else a new one),
//! `PreferredCulture` and `UserToken`; `subject` and `typing_notifications` are ignored
//! (SimProt has no such fields; typing always flows).

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use cc_core::conversation::{
    ChannelError, ConversationEvent, Message as NeutralMessage, MessagingChannel, Participant, ReceiptKind,
    Role, StartConversation, StartedConversation,
};
use cc_core::{ConversationId, EpochMillis, MessageId};

use crate::catalogue::{Message, MessageName, Payload};
use crate::client::SimProtEvent;
use crate::error::Error;
use crate::external::ExternalApp;
use crate::model::{ChatCommandInfo, ChatSentenceInfo, ChatServiceInfo, Status, UtcTime};

const VENDOR: &str = "icc-simprot";

fn channel_error(error: Error) -> ChannelError {
    ChannelError::from_vendor(VENDOR, error)
}

/// A new id: milliseconds since the epoch and a process-wide counter (unique per process; add
/// your own `TrackingId` attribute when several processes share a gateway).
fn new_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}", EpochMillis::now().as_i64(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn command(conversation: &ConversationId) -> ChatCommandInfo {
    ChatCommandInfo { tracking_id: Some(conversation.as_str().to_owned()), ..Default::default() }
}

#[async_trait]
impl MessagingChannel for ExternalApp {
    async fn start(&self, request: StartConversation) -> Result<StartedConversation, ChannelError> {
        let attribute = |name: &str| request.attributes.get(name).cloned();
        let tracking_id = attribute("TrackingId").unwrap_or_else(|| new_id("cc"));
        let start = ChatServiceInfo {
            tracking_id: Some(tracking_id.clone()),
            preferred_culture: attribute("PreferredCulture"),
            user_token: attribute("UserToken"),
            ext_response: request.route.clone(),
            party_name: request.customer_name.clone(),
            remote_address: request.customer_email.clone(),
            ..Default::default()
        };
        start.validate().map_err(|e| channel_error(e.into()))?;
        let message =
            Message { name: MessageName::EsChatStart, payload: Payload::ChatServiceInfo(Box::new(start)) };
        self.send(message).await.map_err(channel_error)?;
        Ok(StartedConversation { id: ConversationId::new(tracking_id), vendor_ids: Default::default() })
    }

    async fn send_text(
        &self,
        conversation: &ConversationId,
        text: &str,
    ) -> Result<Option<MessageId>, ChannelError> {
        let id = new_id("m");
        let sentence = ChatSentenceInfo {
            tracking_id: Some(conversation.as_str().to_owned()),
            id: Some(id.clone()),
            text: Some(text.to_owned()),
            time_sent: Some(UtcTime(EpochMillis::now())),
            ..Default::default()
        };
        self.send_sentence(sentence).await.map_err(channel_error)?;
        Ok(Some(MessageId::new(id)))
    }

    async fn typing(&self, conversation: &ConversationId, on: bool) -> Result<(), ChannelError> {
        let typing = ChatCommandInfo { is_typing: Some(on), ..command(conversation) };
        let message =
            Message { name: MessageName::EsChatTyping, payload: Payload::ChatCommandInfo(Box::new(typing)) };
        self.send(message).await.map_err(channel_error)
    }

    async fn end(&self, conversation: &ConversationId) -> Result<(), ChannelError> {
        let stop = Message {
            name: MessageName::EsChatStop,
            payload: Payload::ChatCommandInfo(Box::new(command(conversation))),
        };
        self.send(stop).await.map_err(channel_error)
    }
}

/// The neutral events of one [`SimProtEvent`] (conversation id = TrackingId). SE_CHAT_STATUS
/// gives Started (Pilot, ICR, Waiting, Queue), AgentJoined (Answered with an agent) or Ended
/// (the closed statuses); SE_CHAT_SENTENCE from the agent side (IsOutbound) a Message —
/// echoes of the app's own sentences give nothing; SE_CHAT_TYPING Typing; SE_CHAT_CONFIRM a
/// delivered Receipt. A resync reports the chats that ended while away as Ended. Anything
/// else gives no event.
pub fn conversation_events(event: &SimProtEvent) -> Vec<ConversationEvent> {
    let conversation = |tracking_id: &Option<String>| tracking_id.as_deref().map(ConversationId::new);
    match event {
        SimProtEvent::Message(message) => {
            let Some(conversation) = (match &message.payload {
                Payload::ChatStatusInfo(s) => conversation(&s.tracking_id),
                Payload::ChatSentenceInfo(s) => conversation(&s.tracking_id),
                Payload::ChatCommandInfo(c) => conversation(&c.tracking_id),
                _ => None,
            }) else {
                return Vec::new();
            };
            message_event(conversation, message).into_iter().collect()
        }
        SimProtEvent::Resynced { ended, .. } => ended
            .iter()
            .filter_map(|c| conversation(&c.tracking_id))
            .map(|conversation| ConversationEvent::Ended {
                conversation,
                by: None,
                reason: Some("ended while disconnected".into()),
                at: None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn message_event(conversation: ConversationId, message: &Message) -> Option<ConversationEvent> {
    let at = |t: &Option<UtcTime>| t.map(|t| t.0);
    Some(match (&message.name, &message.payload) {
        (MessageName::SeChatStatus, Payload::ChatStatusInfo(s)) => match s.status.as_ref()? {
            Status::Closed | Status::ClosedByAgent | Status::ClosedByExtApp => ConversationEvent::Ended {
                conversation,
                by: match s.status {
                    Some(Status::ClosedByAgent) => Some(Role::Agent),
                    Some(Status::ClosedByExtApp) => Some(Role::Customer),
                    _ => None,
                },
                reason: s.status.as_ref().map(|s| s.to_string()),
                at: None,
            },
            Status::Answered if s.agent_name.is_some() || s.agent_id.is_some() => {
                let mut agent = Participant::role(Role::Agent);
                agent.id = s.agent_id.as_ref().map(|a| a.as_str().into());
                agent.name = s.agent_name.clone();
                ConversationEvent::AgentJoined { conversation, agent, at: None }
            }
            Status::Pilot | Status::Icr | Status::Waiting | Status::Queue => {
                ConversationEvent::Started { conversation, at: None }
            }
            _ => return None,
        },
        (MessageName::SeChatSentence, Payload::ChatSentenceInfo(s)) if s.is_outbound => {
            ConversationEvent::Message {
                conversation,
                message: NeutralMessage {
                    id: s.id.as_deref().map(MessageId::new),
                    sender: {
                        let mut agent = Participant::role(Role::Agent);
                        agent.name = s.party_name.clone();
                        agent
                    },
                    text: s.text.clone(),
                    html: None,
                    attachments: vec![],
                },
                at: at(&s.time_sent),
            }
        }
        (MessageName::SeChatTyping, Payload::ChatCommandInfo(c)) => ConversationEvent::Typing {
            conversation,
            who: Participant::role(Role::Agent),
            on: c.is_typing.unwrap_or(true),
            at: at(&c.time_stamp),
        },
        (MessageName::SeChatConfirm, Payload::ChatCommandInfo(c)) => ConversationEvent::Receipt {
            conversation,
            kind: ReceiptKind::Delivered,
            messages: c.id.as_deref().map(MessageId::new).into_iter().collect(),
            by: None,
            detail: None,
            at: at(&c.time_stamp),
        },
        _ => return None,
    })
}
