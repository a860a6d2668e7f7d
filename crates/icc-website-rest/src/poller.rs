//! Turning successive `ChatRunning` states into events. The WebSite pushes nothing: new
//! messages are found by polling Routing ([`ChatDiff`] is the pure part, [`ChatPoller`] the
//! loop, feature `client`).

use std::collections::{BTreeSet, VecDeque};

use cc_core::conversation::{Message, Participant, Role};
use cc_core::{ConversationEvent, ConversationId, MessageId};

use crate::model::{AgentId, ChatModel, ChatStatus, SentenceModel};

/// Something that changed in the chat.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatEvent {
    /// A sentence not seen before.
    Sentence(SentenceModel),
    /// The status changed.
    Status {
        /// The previous status (`None` on the first poll that shows the chat).
        from: Option<ChatStatus>,
        /// The new status.
        to: ChatStatus,
    },
    /// The other party started (`true`) or stopped typing.
    Typing(bool),
    /// The agent changed (joined, or the chat was transferred).
    Agent {
        /// The agent's id.
        id: Option<AgentId>,
        /// The agent's name.
        name: Option<String>,
    },
}

/// How many sentence keys are remembered to drop repeats (sentences repeat on every poll).
const REMEMBERED: usize = 4096;

/// Compares each polled `ChatModel` with what was seen before.
///
/// Sentences are identified by `Counter` (and, for sentences without one, by time and text):
/// each is reported once, in `Counter` order, whatever the gaps between polls — a failed poll
/// loses nothing as long as the next `ChatModel` still lists the sentences, and a jump in
/// `Counter` just reports everything not seen yet. The seed numbers only server → browser
/// sentences; unnumbered ones (the visitor's own) come first, in the order listed.
/// A status change is reported first, except Closed, which comes after the last sentences.
#[derive(Debug, Default)]
pub struct ChatDiff {
    status: Option<ChatStatus>,
    typing: bool,
    agent: Option<(Option<AgentId>, Option<String>)>,
    seen: BTreeSet<(i64, String)>,
    order: VecDeque<(i64, String)>,
}

impl ChatDiff {
    /// A diff that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events between the previous state and `chat`.
    pub fn apply(&mut self, chat: &ChatModel) -> Vec<ChatEvent> {
        let mut events = Vec::new();
        // A status change comes first, except Closed, which comes after the last sentences.
        let mut closing = None;
        if self.status.as_ref() != Some(&chat.status) {
            let event = ChatEvent::Status { from: self.status.clone(), to: chat.status.clone() };
            if chat.status == ChatStatus::Closed {
                closing = Some(event);
            } else {
                events.push(event);
            }
            self.status = Some(chat.status.clone());
        }
        let agent = (chat.agent_id.clone(), chat.agent_name.clone());
        if (agent.0.is_some() || agent.1.is_some()) && self.agent.as_ref() != Some(&agent) {
            events.push(ChatEvent::Agent { id: agent.0.clone(), name: agent.1.clone() });
            self.agent = Some(agent);
        }
        let mut fresh: Vec<&SentenceModel> =
            chat.sentences.iter().filter(|s| !self.seen.contains(&key(s))).collect();
        fresh.sort_by_key(|s| s.counter);
        for sentence in fresh {
            self.remember(key(sentence));
            events.push(ChatEvent::Sentence(sentence.clone()));
        }
        if chat.is_typing != self.typing {
            self.typing = chat.is_typing;
            events.push(ChatEvent::Typing(chat.is_typing));
        }
        events.extend(closing);
        events
    }

    /// The last status seen.
    pub fn status(&self) -> Option<&ChatStatus> {
        self.status.as_ref()
    }

    /// Whether the other party was typing at the last poll.
    pub fn typing(&self) -> bool {
        self.typing
    }

    fn remember(&mut self, k: (i64, String)) {
        if self.seen.insert(k.clone()) {
            self.order.push_back(k);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

/// Counter when the server numbered the sentence; otherwise time, direction and text.
fn key(s: &SentenceModel) -> (i64, String) {
    if s.counter > 0 {
        (s.counter, String::new())
    } else {
        (0, format!("{}|{}|{}", s.time_sent.as_deref().unwrap_or(""), s.is_outbound, s.text))
    }
}

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

#[cfg(feature = "client")]
pub use self::poller_impl::{ChatPoller, PollerConfig};

#[cfg(feature = "client")]
mod poller_impl {
    use std::time::Duration;

    use super::{ChatDiff, ChatEvent};
    use crate::client::Visitor;
    use crate::error::Error;
    use crate::model::{ChatId, ChatStatus, WebApp};

    /// Polling intervals.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PollerConfig {
        /// While an agent is answering or typing (default 1 s).
        pub fast: Duration,
        /// While the chat is queued or being routed (default 3 s).
        pub slow: Duration,
        /// Longest wait after repeated failures (default 30 s); failures double the wait.
        pub max_backoff: Duration,
    }

    impl Default for PollerConfig {
        fn default() -> Self {
            Self {
                fast: Duration::from_secs(1),
                slow: Duration::from_secs(3),
                max_backoff: Duration::from_secs(30),
            }
        }
    }

    /// Polls Routing for one visitor and yields [`ChatEvent`]s until the chat is Closed.
    #[derive(Debug)]
    pub struct ChatPoller {
        visitor: Visitor,
        app: WebApp,
        config: PollerConfig,
        diff: ChatDiff,
        chat: Option<ChatId>,
        failures: u32,
        closed: bool,
    }

    impl ChatPoller {
        /// A poller for `visitor`'s chat in `app` (usually `webchat`).
        pub fn new(visitor: Visitor, app: WebApp, config: PollerConfig) -> Self {
            Self { visitor, app, config, diff: ChatDiff::new(), chat: None, failures: 0, closed: false }
        }

        /// The chat being polled, once one appeared.
        pub fn chat_id(&self) -> Option<&ChatId> {
            self.chat.as_ref()
        }

        /// Whether the chat is Closed (the poller is done).
        pub fn is_closed(&self) -> bool {
            self.closed
        }

        /// How long to wait before the next poll: fast while answered or typing, slow while
        /// routing or queued, doubling (up to `max_backoff`) after failures.
        pub fn interval(&self) -> Duration {
            if self.failures > 0 {
                let doubled = self.config.fast.saturating_mul(1 << self.failures.min(16));
                return doubled.min(self.config.max_backoff);
            }
            match self.diff.status() {
                Some(ChatStatus::Answered) => self.config.fast,
                _ if self.diff.typing() => self.config.fast,
                _ => self.config.slow,
            }
        }

        /// Polls once. A failure is returned (and lengthens [`ChatPoller::interval`]); the next
        /// successful poll reports everything missed meanwhile.
        pub async fn poll(&mut self) -> Result<Vec<ChatEvent>, Error> {
            let routing = match self.visitor.routing(&self.app, None, false).await {
                Ok(r) => r,
                Err(e) => {
                    self.failures = self.failures.saturating_add(1);
                    return Err(e);
                }
            };
            self.failures = 0;
            let Some(chat) = routing.and_then(|r| r.chat_running) else { return Ok(Vec::new()) };
            self.chat = Some(chat.chat_id.clone());
            let events = self.diff.apply(&chat);
            if chat.status == ChatStatus::Closed {
                self.closed = true;
            }
            Ok(events)
        }

        /// Polls until the chat closes, waiting [`ChatPoller::interval`] between polls and
        /// sending events to `sink`; failed polls are retried with backoff (at most
        /// `max_failures` in a row, then the last error is returned).
        pub async fn run(
            mut self,
            sink: tokio::sync::mpsc::Sender<ChatEvent>,
            max_failures: u32,
        ) -> Result<(), Error> {
            loop {
                match self.poll().await {
                    Ok(events) => {
                        for event in events {
                            if sink.send(event).await.is_err() {
                                return Ok(());
                            }
                        }
                        if self.closed {
                            return Ok(());
                        }
                    }
                    Err(e) if self.failures >= max_failures => return Err(e),
                    Err(_) => {}
                }
                tokio::time::sleep(self.interval()).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(counter: i64, outbound: bool, text: &str) -> SentenceModel {
        SentenceModel {
            counter,
            time_sent: Some(format!("2024-05-01T10:00:{counter:02}Z")),
            party_name: Some(if outbound { "Eva" } else { "Visitor" }.into()),
            is_outbound: outbound,
            text: text.into(),
            location: None,
            is_confirmed: true,
        }
    }

    fn chat(status: ChatStatus, typing: bool, sentences: Vec<SentenceModel>) -> ChatModel {
        let answered = status == ChatStatus::Answered || status == ChatStatus::Closed;
        ChatModel {
            chat_id: "c1".into(),
            agent_name: answered.then(|| "Eva".into()),
            agent_id: answered.then(|| "a1".into()),
            counter: sentences.iter().map(|s| s.counter).max().unwrap_or(0),
            status,
            is_typing: typing,
            sentences,
            navigation: None,
            co_browsing_data: None,
        }
    }

    fn sentences(events: &[ChatEvent]) -> Vec<i64> {
        events
            .iter()
            .filter_map(|e| if let ChatEvent::Sentence(s) = e { Some(s.counter) } else { None })
            .collect()
    }

    #[test]
    fn statuses_agent_typing_and_sentences() {
        let mut diff = ChatDiff::new();
        let first = diff.apply(&chat(ChatStatus::Pilot, false, vec![]));
        assert_eq!(first, vec![ChatEvent::Status { from: None, to: ChatStatus::Pilot }]);
        assert!(diff.apply(&chat(ChatStatus::Pilot, false, vec![])).is_empty(), "no change, no event");
        for next in [ChatStatus::Icr, ChatStatus::Waiting, ChatStatus::Alerting] {
            assert_eq!(diff.apply(&chat(next.clone(), false, vec![])).len(), 1);
        }
        let answered =
            diff.apply(&chat(ChatStatus::Answered, true, vec![sentence(1, true, "Hi &amp; welcome")]));
        assert!(matches!(&answered[0], ChatEvent::Status { to: ChatStatus::Answered, .. }));
        assert!(matches!(&answered[1], ChatEvent::Agent { name: Some(n), .. } if n == "Eva"));
        assert_eq!(sentences(&answered), [1]);
        assert_eq!(answered.last(), Some(&ChatEvent::Typing(true)));
    }

    #[test]
    fn counter_jumps_and_lost_polls_miss_nothing_and_repeat_nothing() {
        let mut diff = ChatDiff::new();
        let all: Vec<SentenceModel> = (1..=9).map(|i| sentence(i, i % 2 == 1, &format!("m{i}"))).collect();
        assert_eq!(sentences(&diff.apply(&chat(ChatStatus::Answered, false, all[..2].to_vec()))), [1, 2]);
        // Polls showing 3..5 were lost; the next one shows everything up to 9, out of order.
        let mut shuffled = all.clone();
        shuffled.reverse();
        assert_eq!(
            sentences(&diff.apply(&chat(ChatStatus::Answered, false, shuffled))),
            [3, 4, 5, 6, 7, 8, 9]
        );
        assert!(sentences(&diff.apply(&chat(ChatStatus::Answered, false, all.clone()))).is_empty());
        // A visitor sentence without Counter is reported once too.
        let mut with_own = all;
        with_own.push(sentence(0, false, "my question"));
        assert_eq!(diff.apply(&chat(ChatStatus::Answered, false, with_own.clone())).len(), 1);
        assert!(diff.apply(&chat(ChatStatus::Answered, false, with_own)).is_empty());
    }

    #[test]
    fn events_map_to_neutral_ones() {
        let c = ConversationId::from("c1");
        let msg = conversation_event(&c, &ChatEvent::Sentence(sentence(3, true, "&lt;b&gt;hi&lt;/b&gt;")));
        let ConversationEvent::Message { message, .. } = msg else { panic!() };
        assert_eq!(message.text.as_deref(), Some("<b>hi</b>"));
        assert_eq!(message.sender.role, Role::Agent);
        assert!(conversation_event(&c, &ChatEvent::Status { from: None, to: ChatStatus::Closed }).is_end());
    }
}
