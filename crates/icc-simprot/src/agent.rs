//! The agent client side (CS/SC messages): alerts, answer, hang-up, typing, sentences with the
//! 20-second echo rule, confirmations, status and resync.
//!
//! [`AgentClient`] runs on a [`SimProtClient`] as the [`ExternalApp`](crate::external::ExternalApp)
//! does: reconnect with backoff, CS_CHAT_RESYNC on connect and after every reconnect (reported
//! as [`SimProtEvent::Resynced`]), server messages as [`SimProtEvent::Message`] (SC_CHAT_ALERT,
//! SC_CHAT_ALERT_END, SC_CHAT_STATUS, SC_CHAT_TYPING, the customer's SC_CHAT_SENTENCE, …).
//! [`SimProtConfig::peer`] is the agent's **workplace number** (the seed's Peer for CS/SC
//! messages); `port` is not used.

use tokio::sync::mpsc;

use crate::catalogue::{Message, MessageName, Payload};
use crate::client::{Side, SimProtClient, SimProtConfig, SimProtEvent};
use crate::error::Error;
use crate::model::{ChatCommandInfo, ChatSentenceInfo, Guid};

/// An agent client connected to ProServer.
#[derive(Debug)]
pub struct AgentClient {
    agent_id: Guid,
    client: SimProtClient,
}

impl AgentClient {
    /// Connects as agent `agent_id` at workplace `config.peer` and asks for its chats
    /// (CS_CHAT_RESYNC; the SC_CHAT_LIST arrives as [`SimProtEvent::Resynced`]).
    pub async fn connect(
        config: SimProtConfig,
        agent_id: Guid,
    ) -> Result<(Self, mpsc::Receiver<SimProtEvent>), Error> {
        let (client, events) = SimProtClient::connect(config, Side::Agent(Some(agent_id.clone()))).await?;
        Ok((Self { agent_id, client }, events))
    }

    /// The connection underneath, for messages this type has no call for.
    pub fn client(&self) -> &SimProtClient {
        &self.client
    }

    fn command(&self, chat_id: &Guid) -> ChatCommandInfo {
        ChatCommandInfo {
            peer: Some(self.client.config().peer.clone()),
            chat_id: Some(chat_id.clone()),
            agent_id: Some(self.agent_id.clone()),
            ..Default::default()
        }
    }

    async fn send_command(&self, name: MessageName, command: ChatCommandInfo) -> Result<(), Error> {
        let message = Message { name, payload: Payload::ChatCommandInfo(Box::new(command)) };
        self.client.submit(message, None).await
    }

    /// Takes an alerted chat (CS_CHAT_ANSWER).
    pub async fn answer(&self, chat_id: &Guid) -> Result<(), Error> {
        self.send_command(MessageName::CsChatAnswer, self.command(chat_id)).await
    }

    /// Rejects an alerted chat or ends a running one (CS_CHAT_HANGUP).
    pub async fn hangup(&self, chat_id: &Guid) -> Result<(), Error> {
        self.send_command(MessageName::CsChatHangup, self.command(chat_id)).await
    }

    /// The agent is (not) typing (CS_CHAT_TYPING).
    pub async fn typing(&self, chat_id: &Guid, on: bool) -> Result<(), Error> {
        self.send_command(
            MessageName::CsChatTyping,
            ChatCommandInfo { is_typing: Some(on), ..self.command(chat_id) },
        )
        .await
    }

    /// Confirms delivery of the customer's sentence `id` (CS_CHAT_CONFIRM).
    pub async fn confirm(&self, chat_id: &Guid, id: &str) -> Result<(), Error> {
        self.send_command(
            MessageName::CsChatConfirm,
            ChatCommandInfo { id: Some(id.to_owned()), ..self.command(chat_id) },
        )
        .await
    }

    /// Asks for a chat's full status (CS_CHAT_STATUS; SC_CHAT_STATUS arrives as an event).
    pub async fn status(&self, chat_id: &Guid) -> Result<(), Error> {
        self.send_command(MessageName::CsChatStatus, self.command(chat_id)).await
    }

    /// Sends a sentence to the customer (CS_CHAT_SENTENCE) and waits for its SC_CHAT_SENTENCE
    /// echo (same ID, IsOutbound true) for `echo_timeout` (seed: 20 s); returns the echo with
    /// the server's Counter. `ID` and `ChatId` are required; no echo → [`Error::NoEcho`],
    /// and a retry with the same sentence re-sends the same ID.
    pub async fn send_sentence(&self, mut sentence: ChatSentenceInfo) -> Result<ChatSentenceInfo, Error> {
        sentence.chat_id.as_ref().ok_or(Error::Missing("ChatId"))?;
        sentence.peer = Some(self.client.config().peer.clone());
        self.client
            .sentence(MessageName::CsChatSentence, sentence, true, self.client.config().echo_timeout)
            .await
    }
}
