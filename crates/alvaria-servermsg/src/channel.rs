//! Alvaria in vendor-neutral terms: callbacks as [`ConversationEvent`]s, and (feature
//! `client`) [`AlvariaChannel`], the [`MessagingChannel`](cc_core::MessagingChannel).

use cc_core::conversation::{
    Attachment as NeutralAttachment, Message as NeutralMessage, Participant, ReceiptKind, Role,
};
use cc_core::{ConversationEvent, ConversationId};

use crate::model::{Callback, Status};

/// `senderId` of messages Alvaria itself sends.
pub const SYSTEM_SENDER: &str = "SYSTEM";

/// The neutral event of a callback.
///
/// NEW_SESSION SUCCESS → `Started`; AGENT_JOINED → `AgentJoined` (the alias is the agent's
/// first name); MESSAGE → `Message` (sender `SYSTEM` is the system, anyone else an agent);
/// MESSAGE_STATUS FAILED → a `Failed` receipt for the message; SESSION_REROUTE →
/// `Transferred`; SESSION_END → `Ended` (by the system when `from` is SYSTEM). NEW_SESSION
/// FAILED and unknown events become `Other`.
pub fn conversation_event(callback: &Callback) -> ConversationEvent {
    let conversation = |id: &crate::model::SessionId| ConversationId::new(id.as_str());
    match callback {
        Callback::NewSession { session_id, status: Status::Success, .. } => {
            ConversationEvent::Started { conversation: conversation(session_id), at: None }
        }
        Callback::AgentJoined { session_id, agent_alias, .. } => ConversationEvent::AgentJoined {
            conversation: conversation(session_id),
            agent: Participant::role(Role::Agent).named(agent_alias.clone()),
            at: None,
        },
        Callback::Message { session_id, sender_id, message, event_id } => {
            let sender = if sender_id == SYSTEM_SENDER {
                Participant::role(Role::System)
            } else {
                Participant::role(Role::Agent).with_id(sender_id.as_str())
            };
            ConversationEvent::Message {
                conversation: conversation(session_id),
                message: NeutralMessage {
                    id: Some(cc_core::MessageId::new(event_id.as_str())),
                    sender,
                    text: message.text.clone(),
                    html: None,
                    attachments: message
                        .attachment
                        .iter()
                        .map(|a| NeutralAttachment {
                            url: a.url.clone(),
                            name: None,
                            content_type: Some(a.kind.as_str().to_owned()),
                            size: None,
                        })
                        .collect(),
                },
                at: None,
            }
        }
        Callback::MessageStatus { session_id, message_id, status_message, status, .. }
            if *status == Status::Failed =>
        {
            ConversationEvent::Receipt {
                conversation: conversation(session_id),
                kind: ReceiptKind::Failed,
                messages: vec![cc_core::MessageId::new(message_id.as_str())],
                by: None,
                detail: status_message.clone(),
                at: None,
            }
        }
        Callback::SessionReroute { session_id, agent_alias, worktype_id, .. } => {
            ConversationEvent::Transferred {
                conversation: conversation(session_id),
                to: agent_alias
                    .as_ref()
                    .map(|a| format!("agent {a}"))
                    .or_else(|| worktype_id.as_ref().map(|w| format!("work type {w}"))),
                at: None,
            }
        }
        Callback::SessionEnd { session_id, from, status, .. } => ConversationEvent::Ended {
            conversation: conversation(session_id),
            by: from
                .as_deref()
                .map(|f| if f == SYSTEM_SENDER { Role::System } else { Role::Unknown(f.to_owned()) }),
            reason: Some(format!("SESSION_END {status}")),
            at: None,
        },
        other => ConversationEvent::Other {
            conversation: other.session_id().map(|s| ConversationId::new(s.as_str())),
            kind: format!("alvaria:{}", other.event_name()),
            raw: serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
        },
    }
}

#[cfg(feature = "client")]
pub use self::channel_impl::AlvariaChannel;

#[cfg(feature = "client")]
mod channel_impl {
    use std::time::Duration;

    use async_trait::async_trait;
    use cc_core::conversation::{ChannelError, StartConversation, StartedConversation};
    use cc_core::{ConversationId, MessageId, MessagingChannel};

    use crate::client::AlvariaClient;
    use crate::error::Error;
    use crate::model::{Message, NewSession, SessionId, WorkTypeId};

    const VENDOR: &str = "alvaria-servermsg";

    /// [`MessagingChannel`] over an [`AlvariaClient`]. `start` creates a session on
    /// `StartConversation::route` (or the default work type) with `customer_name` as contact
    /// name and the `integration` attribute, then waits for its confirmation. Server
    /// Messaging has no typing signal: `typing` does nothing.
    #[derive(Clone, Debug)]
    pub struct AlvariaChannel {
        client: AlvariaClient,
        default_work_type: WorkTypeId,
        confirm_timeout: Duration,
    }

    impl AlvariaChannel {
        /// A channel routing to `default_work_type` unless a start request names another;
        /// waits up to 30 s for NEW_SESSION.
        pub fn new(client: AlvariaClient, default_work_type: impl Into<WorkTypeId>) -> Self {
            Self {
                client,
                default_work_type: default_work_type.into(),
                confirm_timeout: Duration::from_secs(30),
            }
        }

        /// How long `start` waits for NEW_SESSION.
        pub fn confirm_timeout(mut self, timeout: Duration) -> Self {
            self.confirm_timeout = timeout;
            self
        }

        fn handle(
            &self,
            conversation: &ConversationId,
        ) -> Result<crate::client::SessionHandle, ChannelError> {
            let id = SessionId::new(conversation.as_str());
            self.client.session(&id).ok_or_else(|| wrap(Error::UnknownSession(id)))
        }
    }

    fn wrap(error: Error) -> ChannelError {
        ChannelError::from_vendor(VENDOR, error)
    }

    #[async_trait]
    impl MessagingChannel for AlvariaChannel {
        async fn start(&self, request: StartConversation) -> Result<StartedConversation, ChannelError> {
            let session = NewSession {
                work_type_id: request
                    .route
                    .map(WorkTypeId::new)
                    .unwrap_or_else(|| self.default_work_type.clone()),
                contact_name: request.customer_name.unwrap_or_else(|| "Customer".into()),
                integration: request.attributes.get("integration").cloned(),
            };
            let handle = self.client.create_session(&session).await.map_err(wrap)?;
            handle.wait_confirmed(self.confirm_timeout).await.map_err(wrap)?;
            Ok(StartedConversation {
                id: ConversationId::new(handle.id().as_str()),
                vendor_ids: Default::default(),
            })
        }

        async fn send_text(
            &self,
            conversation: &ConversationId,
            text: &str,
        ) -> Result<Option<MessageId>, ChannelError> {
            let handle = self.handle(conversation)?;
            let id = self.client.send_message(&handle, &Message::text(text)).await.map_err(wrap)?;
            Ok(Some(MessageId::new(id.as_str())))
        }

        async fn typing(&self, conversation: &ConversationId, _on: bool) -> Result<(), ChannelError> {
            self.handle(conversation).map(|_| ())
        }

        async fn end(&self, conversation: &ConversationId) -> Result<(), ChannelError> {
            let handle = self.handle(conversation)?;
            self.client.delete_session(&handle).await.map_err(wrap)
        }
    }
}
