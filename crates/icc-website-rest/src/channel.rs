//! The vendor-neutral view: [`conversation_event`] maps each [`ChatEvent`] of a chat to a
//! cc-core [`ConversationEvent`] (conversation id = the chat id).

use cc_core::conversation::{Message, Participant, Role};
use cc_core::{ConversationEvent, ConversationId, MessageId};

use crate::diff::ChatEvent;
use crate::model::ChatStatus;

/// The neutral event of a chat event in `conversation` (the chat id).
///
/// Sentences become messages (agent → visitor when `IsOutbound`; the text is decoded from its
/// HTML encoding, the encoded original kept as `html`); Answered → agent joined is reported by
/// [`ChatEvent::Agent`]; Closed → ended; other statuses → `Other`.
pub fn conversation_event(conversation: &ConversationId, event: &ChatEvent) -> ConversationEvent {
    let conversation = conversation.clone();
    match event {
        ChatEvent::Sentence(s) => ConversationEvent::Message {
            conversation,
            message: Message {
                id: (s.counter > 0).then(|| MessageId::new(s.counter.to_string())),
                sender: {
                    let mut p = Participant::role(if s.is_outbound { Role::Agent } else { Role::Customer });
                    p.name = s.party_name.clone();
                    p
                },
                text: Some(s.decoded_text()),
                html: Some(s.text.clone()),
                attachments: vec![],
            },
            at: None,
        },
        ChatEvent::Typing(on) => {
            ConversationEvent::Typing { conversation, who: Participant::role(Role::Agent), on: *on, at: None }
        }
        ChatEvent::Agent { id, name } => {
            let mut agent = Participant::role(Role::Agent);
            agent.id = id.as_ref().map(|a| a.as_str().into());
            agent.name = name.clone();
            ConversationEvent::AgentJoined { conversation, agent, at: None }
        }
        ChatEvent::Status { to: ChatStatus::Closed, .. } => {
            ConversationEvent::Ended { conversation, by: None, reason: Some("Closed".into()), at: None }
        }
        ChatEvent::Status { from, to } => ConversationEvent::Other {
            conversation: Some(conversation),
            kind: format!("icc-website:status:{to}"),
            raw: serde_json::json!({ "from": from, "to": to }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SentenceModel;

    #[test]
    fn events_map_to_neutral_ones() {
        let c = ConversationId::from("c1");
        let sentence = SentenceModel {
            counter: 3,
            time_sent: Some("2024-05-01T10:00:03Z".into()),
            party_name: Some("Eva".into()),
            is_outbound: true,
            text: "&lt;b&gt;hi&lt;/b&gt;".into(),
            location: None,
            is_confirmed: true,
        };
        let msg = conversation_event(&c, &ChatEvent::Sentence(sentence));
        let ConversationEvent::Message { message, .. } = msg else { panic!() };
        assert_eq!(message.text.as_deref(), Some("<b>hi</b>"));
        assert_eq!(message.sender.role, Role::Agent);
        assert!(conversation_event(&c, &ChatEvent::Status { from: None, to: ChatStatus::Closed }).is_end());
    }
}
