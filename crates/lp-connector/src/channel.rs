//! LivePerson as a vendor-neutral `MessagingChannel` (feature `client`), and the join of the
//! inbound side: `lp-notifications` turns webhooks into `ConversationEvent`s;
//! [`LpChannel::own_events`] keeps those of the conversations this channel opened and drops
//! the echoes of what it sent itself.
//!
//! Every Send API call needs the consumer's JWS, so the channel remembers which consumer
//! opened each conversation (in memory). After a restart, [`LpChannel::adopt`] tells it again.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use cc_core::conversation::{Role, StartConversation, StartedConversation};
use cc_core::{ChannelError, ConversationEvent, ConversationId, MessageId, MessagingChannel};
use serde_json::Value;

use crate::client::{Consumer, LpClient};
use crate::error::Error;
use crate::model::{OpenConversation, SkillId, UserProfile};

/// The attribute of a `StartConversation` that names your consumer id; without it a new
/// random one is made (a new LivePerson consumer per conversation).
pub const EXT_CONSUMER_ID: &str = "ext_consumer_id";

/// LivePerson as a `MessagingChannel`.
///
/// `start` maps the neutral request so: `customer_name` (split at the last space) and
/// `customer_email` → the Personal Info SDE; `route` → `skillId` (else the channel's default
/// skill, else none: LivePerson's default routing); `attributes` other than
/// [`EXT_CONSUMER_ID`] → the Customer Info SDE's fields as given (LivePerson reads its
/// documented ones: `socialId`, `ctype`, `companyBranch`…); `subject` and
/// `typing_notifications` have no LivePerson counterpart and are ignored.
/// `send_text` returns the message id `<conversation>:<sequence>`, the same id
/// `lp-notifications` gives the echo and the agent's receipts.
#[derive(Debug)]
pub struct LpChannel {
    client: LpClient,
    skill: Option<SkillId>,
    consumers: Mutex<HashMap<ConversationId, String>>,
}

impl LpChannel {
    /// A channel over `client`.
    pub fn new(client: LpClient) -> Self {
        Self { client, skill: None, consumers: Mutex::default() }
    }

    /// Routes conversations without a `route` to `skill`.
    pub fn default_skill(mut self, skill: impl Into<SkillId>) -> Self {
        self.skill = Some(skill.into());
        self
    }

    /// Tells the channel that `conversation` belongs to `ext_consumer_id` (after a restart).
    pub fn adopt(&self, conversation: ConversationId, ext_consumer_id: impl Into<String>) {
        self.lock().insert(conversation, ext_consumer_id.into());
    }

    /// The consumer of a conversation this channel opened or adopted.
    pub fn consumer_of(&self, conversation: &ConversationId) -> Option<Consumer> {
        let ext = self.lock().get(conversation).cloned()?;
        Some(self.client.consumer(ext))
    }

    /// The inbound events that concern this channel: those of its conversations, less the
    /// consumer's own messages, typing and receipts, which LivePerson echoes back (in a
    /// connector's conversation, the consumer is the connector). A conversation is forgotten
    /// once its `Ended` event has passed.
    pub fn own_events(&self, events: impl IntoIterator<Item = ConversationEvent>) -> Vec<ConversationEvent> {
        let mut out = Vec::new();
        for event in events {
            let Some(conversation) = event.conversation().cloned() else { continue };
            if !self.lock().contains_key(&conversation) {
                continue;
            }
            let from_consumer = match &event {
                ConversationEvent::Message { message, .. } => message.sender.role == Role::Customer,
                ConversationEvent::Typing { who, .. } => who.role == Role::Customer,
                ConversationEvent::Receipt { by, .. } => {
                    by.as_ref().is_some_and(|p| p.role == Role::Customer)
                }
                _ => false,
            };
            if from_consumer {
                continue;
            }
            if event.is_end() {
                self.lock().remove(&conversation);
            }
            out.push(event);
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, String>> {
        self.consumers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn consumer(&self, conversation: &ConversationId) -> Result<Consumer, ChannelError> {
        self.consumer_of(conversation)
            .ok_or_else(|| wrap(Error::UnknownConversation(conversation.to_string())))
    }
}

fn wrap(error: Error) -> ChannelError {
    ChannelError::from_vendor("lp-connector", error)
}

/// A random consumer id: `cc-` and 32 hex digits.
fn random_consumer_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Invalid {
        field: EXT_CONSUMER_ID.into(),
        reason: format!("no randomness: {e}"),
    })?;
    Ok(format!("cc-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The open request a neutral start maps to (see [`LpChannel`]).
pub fn open_request(request: &StartConversation, default_skill: Option<&SkillId>) -> OpenConversation {
    let mut profile = UserProfile::new();
    if request.customer_name.is_some() || request.customer_email.is_some() {
        let (first, last) = match request.customer_name.as_deref() {
            Some(name) => match name.trim().rsplit_once(' ') {
                Some((first, last)) => (Some(first), Some(last)),
                None => (Some(name.trim()), None),
            },
            None => (None, None),
        };
        profile = profile.personal(first, last, request.customer_email.as_deref());
    }
    let info: std::collections::BTreeMap<String, Value> = request
        .attributes
        .iter()
        .filter(|(name, _)| name.as_str() != EXT_CONSUMER_ID)
        .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
        .collect();
    if !info.is_empty() {
        profile = profile.customer_info(info);
    }
    let mut open = OpenConversation::new().profile(profile);
    if let Some(skill) = request.route.clone().map(SkillId::new).or_else(|| default_skill.cloned()) {
        open = open.skill(skill);
    }
    open
}

#[async_trait]
impl MessagingChannel for LpChannel {
    async fn start(&self, request: StartConversation) -> Result<StartedConversation, ChannelError> {
        let ext = match request.attributes.get(EXT_CONSUMER_ID) {
            Some(id) if !id.is_empty() => id.clone(),
            _ => random_consumer_id().map_err(wrap)?,
        };
        let consumer = self.client.consumer(ext.clone());
        let conversation = consumer.open(&open_request(&request, self.skill.as_ref())).await.map_err(wrap)?;
        self.adopt(conversation.clone(), ext.clone());
        let mut vendor_ids = std::collections::BTreeMap::new();
        vendor_ids.insert(EXT_CONSUMER_ID.to_owned(), ext);
        if let Ok(jws) = consumer.jws().await
            && let Some(id) = jws.lp_consumer_id()
        {
            vendor_ids.insert("lp_consumer_id".to_owned(), id.to_string());
        }
        Ok(StartedConversation { id: conversation, vendor_ids })
    }

    async fn send_text(
        &self,
        conversation: &ConversationId,
        text: &str,
    ) -> Result<Option<MessageId>, ChannelError> {
        let sequence = self.consumer(conversation)?.send_text(conversation, text).await.map_err(wrap)?;
        Ok(sequence.map(|s| MessageId::new(format!("{conversation}:{s}"))))
    }

    async fn typing(&self, conversation: &ConversationId, on: bool) -> Result<(), ChannelError> {
        self.consumer(conversation)?.typing(conversation, on).await.map_err(wrap)
    }

    async fn end(&self, conversation: &ConversationId) -> Result<(), ChannelError> {
        self.consumer(conversation)?.close(conversation).await.map_err(wrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cc_core::conversation::{Message, Participant};

    #[test]
    fn a_neutral_start_maps_to_sdes_and_a_skill() {
        let start = StartConversation::new()
            .customer_name("Ada  King Lovelace")
            .customer_email("ada@example.com")
            .route("12")
            .attribute("socialId", "11256324780")
            .attribute(EXT_CONSUMER_ID, "ada-1");
        let open = open_request(&start, Some(&SkillId::new("7")));
        let [profile, request] = open.batch("le123").unwrap();
        assert_eq!(
            profile.body,
            serde_json::json!({"authenticatedData": {"lp_sdes": [
                {"type": "personal", "personal": {"firstname": "Ada  King", "lastname": "Lovelace", "contacts": [{"email": "ada@example.com"}]}},
                {"type": "ctmrinfo", "info": {"socialId": "11256324780"}}
            ]}})
        );
        assert_eq!(
            request.body,
            serde_json::json!({"brandId": "le123", "channelType": "MESSAGING", "skillId": "12"})
        );
        let bare = open_request(&StartConversation::new(), Some(&SkillId::new("7")));
        let [profile, request] = bare.batch("le123").unwrap();
        assert_eq!(profile.body, serde_json::json!({}), "LivePerson: the profile body may be empty");
        assert_eq!(request.body["skillId"], "7");
    }

    #[test]
    fn own_events_drop_echoes_and_other_conversations_and_forget_ended_ones() {
        let client = LpClient::new(crate::LpConfig::new("1", "app", cc_core::Secret::from("s"))).unwrap();
        let channel = LpChannel::new(client);
        let mine = ConversationId::new("c-mine");
        channel.adopt(mine.clone(), "ext-1");
        let message = |conversation: &ConversationId, role: Role| ConversationEvent::Message {
            conversation: conversation.clone(),
            message: Message {
                id: None,
                sender: Participant::role(role),
                text: Some("hi".into()),
                html: None,
                attachments: vec![],
            },
            at: None,
        };
        let ended = ConversationEvent::Ended { conversation: mine.clone(), by: None, reason: None, at: None };
        let kept = channel.own_events([
            message(&mine, Role::Customer),
            message(&mine, Role::Agent),
            message(&ConversationId::new("c-other"), Role::Agent),
            ended.clone(),
            message(&mine, Role::Agent),
        ]);
        assert_eq!(kept, vec![message(&mine, Role::Agent), ended]);
        assert!(channel.consumer_of(&mine).is_none(), "forgotten after Ended");
    }

    #[test]
    fn random_consumer_ids_differ() {
        let (a, b) = (random_consumer_id().unwrap(), random_consumer_id().unwrap());
        assert!(a.starts_with("cc-") && a.len() == 35 && a != b);
    }
}
