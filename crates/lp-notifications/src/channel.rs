//! Mapping notifications into cc-core's vendor-neutral [`ConversationEvent`], and telling
//! who sent what (agent, consumer, or the echo of your own consumer).

use cc_core::conversation::{Attachment, Message, Participant, ReceiptKind, Role as NeutralRole};
use cc_core::{ConversationEvent, ConversationId, MessageId, ParticipantId};
use serde_json::Value;

use crate::model::{
    AcceptStatus, ChatState, Content, ConversationChange, MessagingChange, MessagingEvent, Role,
};
use crate::sequencer::{Delivery, SnapshotSummary};

/// The neutral role of a LivePerson role.
pub fn neutral_role(role: &Role) -> NeutralRole {
    match role {
        Role::Consumer => NeutralRole::Customer,
        Role::AssignedAgent | Role::Agent => NeutralRole::Agent,
        Role::Manager => NeutralRole::Supervisor,
        Role::Controller => NeutralRole::System,
        other => NeutralRole::Unknown(other.as_str().to_owned()),
    }
}

/// Who sent a messaging event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A consumer other than yours.
    Consumer,
    /// An agent (assigned or not).
    Agent,
    /// A manager.
    Manager,
    /// The system controller (bots, automatic messages).
    System,
    /// Your own connector's consumer: LivePerson echoes your events back to your webhook.
    OwnEcho,
    /// No role given, or one this version does not know.
    Unknown,
}

/// Classifies senders, knowing the participant ids your connector acts as.
#[derive(Clone, Debug, Default)]
pub struct SenderFilter {
    own: Vec<ParticipantId>,
}

impl SenderFilter {
    /// A filter that treats events from `own` participant ids as echoes.
    pub fn new(own: impl IntoIterator<Item = ParticipantId>) -> Self {
        Self { own: own.into_iter().collect() }
    }

    /// Who sent `change`.
    pub fn sender(&self, change: &MessagingChange) -> Sender {
        if change.originator().is_some_and(|id| self.own.contains(id)) {
            return Sender::OwnEcho;
        }
        match change.originator_role() {
            Some(Role::Consumer) => Sender::Consumer,
            Some(Role::AssignedAgent | Role::Agent) => Sender::Agent,
            Some(Role::Manager) => Sender::Manager,
            Some(Role::Controller) => Sender::System,
            _ => Sender::Unknown,
        }
    }
}

fn participant(change: &MessagingChange) -> Participant {
    Participant {
        role: change
            .originator_role()
            .map(neutral_role)
            .unwrap_or_else(|| NeutralRole::Unknown(String::new())),
        id: change.originator().cloned(),
        name: None,
    }
}

/// The conversation of a messaging change. Payloads from before `conversationId` existed
/// carry only `dialogId`; the main dialog's id is the conversation id, so it stands in
/// (an assumption for survey dialogs of such payloads).
pub fn conversation_of(change: &MessagingChange) -> ConversationId {
    change.conversation_id.clone().unwrap_or_else(|| ConversationId::new(change.dialog_id.as_str()))
}

/// The neutral event of one messaging change.
///
/// Text becomes a message; a hosted file becomes a message with an attachment whose `url`
/// is the file's `relativePath` (a download URL needs a LivePerson token); COMPOSING/PAUSE become typing on/off;
/// ACCEPT/READ/NACK become receipts. Message ids are `<dialogId>:<sequence>` (LivePerson
/// has no message id; the pair is unique and receipts refer to it). Forms,
/// rich content, other chat states and statuses, and unknown events become `Other` with the
/// raw event.
pub fn messaging_event(change: &MessagingChange) -> ConversationEvent {
    let conversation = conversation_of(change);
    let at = change.server_timestamp;
    let message_id = change.sequence.map(|s| MessageId::new(format!("{}:{s}", change.dialog_id)));
    let other = |kind: &str| ConversationEvent::Other {
        conversation: Some(conversation.clone()),
        kind: format!("liveperson:{kind}"),
        raw: serde_json::to_value(&change.event).unwrap_or(Value::Null),
    };
    match &change.event {
        MessagingEvent::ContentEvent(content) => match &content.message {
            Content::Text(text) => ConversationEvent::Message {
                conversation,
                message: Message {
                    id: message_id,
                    sender: participant(change),
                    text: Some(text.clone()),
                    html: None,
                    attachments: vec![],
                },
                at,
            },
            Content::File(file) => {
                let caption = file.caption.clone().filter(|c| !c.is_empty());
                ConversationEvent::Message {
                    conversation,
                    message: Message {
                        id: message_id,
                        sender: participant(change),
                        text: caption.clone(),
                        html: None,
                        attachments: file
                            .relative_path
                            .clone()
                            .map(|url| Attachment {
                                url,
                                name: caption.clone(),
                                content_type: file.file_type.clone(),
                                size: None,
                            })
                            .into_iter()
                            .collect(),
                    },
                    at,
                }
            }
            _ => other(&format!("ContentEvent:{}", content.content_type)),
        },
        MessagingEvent::ChatStateEvent(state) => match state.chat_state {
            ChatState::Composing | ChatState::Pause => ConversationEvent::Typing {
                conversation,
                who: participant(change),
                on: state.chat_state == ChatState::Composing,
                at,
            },
            _ => other(&format!("ChatStateEvent:{}", state.chat_state)),
        },
        MessagingEvent::AcceptStatusEvent(status) => {
            let kind = match status.status {
                AcceptStatus::Accept => ReceiptKind::Delivered,
                AcceptStatus::Read => ReceiptKind::Read,
                AcceptStatus::Nack => ReceiptKind::Failed,
                _ => return other(&format!("AcceptStatusEvent:{}", status.status)),
            };
            ConversationEvent::Receipt {
                conversation,
                kind,
                messages: status
                    .sequence_list
                    .iter()
                    .map(|s| MessageId::new(format!("{}:{s}", change.dialog_id)))
                    .collect(),
                by: Some(participant(change)),
                detail: None,
                at,
            }
        }
        MessagingEvent::RichContentEvent(_) => other("RichContentEvent"),
        MessagingEvent::Unknown(_) => other(change.event.type_name()),
    }
}

/// The neutral events a snapshot implies, compared with the previous one released:
/// `Started` for the first one of an open conversation, `AgentJoined` when the assigned agent
/// changes, `Transferred` when the skill changes, `Ended` when the stage becomes CLOSE.
pub fn conversation_events(
    change: &ConversationChange,
    previous: Option<&SnapshotSummary>,
) -> Vec<ConversationEvent> {
    let details = &change.result.conversation_details;
    let conversation = change.result.conv_id.clone();
    let mut events = Vec::new();
    let was_over = previous.is_some_and(|p| p.over);
    if previous.is_none() && !change.is_final() {
        events.push(ConversationEvent::Started { conversation: conversation.clone(), at: details.start_ts });
    }
    if let Some(agent) = details.assigned_agent()
        && previous.and_then(|p| p.assigned_agent.as_ref()) != Some(agent)
    {
        events.push(ConversationEvent::AgentJoined {
            conversation: conversation.clone(),
            agent: Participant::role(NeutralRole::Agent).with_id(agent.clone()),
            at: details.meta_data_last_update_ts,
        });
    }
    if let (Some(prev), Some(skill)) = (previous.and_then(|p| p.skill.as_ref()), details.skill_id.as_ref())
        && prev != skill
    {
        events.push(ConversationEvent::Transferred {
            conversation: conversation.clone(),
            to: Some(format!("skill {skill}")),
            at: details.meta_data_last_update_ts,
        });
    }
    if change.is_final() && !was_over {
        events.push(ConversationEvent::Ended {
            conversation,
            by: details.closed_by().map(|who| neutral_role(&Role::parse(who))),
            reason: details.close_reason.clone(),
            at: details.end_ts,
        });
    }
    events
}

/// The neutral events of a sequencer delivery.
pub fn delivery_events(delivery: &Delivery) -> Vec<ConversationEvent> {
    match delivery {
        Delivery::Messaging { change, .. } => vec![messaging_event(change)],
        Delivery::Conversation { change, previous } => conversation_events(change, previous.as_ref()),
        Delivery::Unknown(raw) => vec![ConversationEvent::Other {
            conversation: None,
            kind: "liveperson:unknown-notification".into(),
            raw: raw.clone(),
        }],
    }
}
