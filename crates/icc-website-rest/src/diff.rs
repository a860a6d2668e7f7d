//! Turning successive `ChatRunning` states into [`ChatEvent`]s, without I/O: [`ChatDiff`]
//! reports each sentence once and every status, agent and typing change, however the polls
//! that feed it were spaced or lost.

use std::collections::{BTreeSet, VecDeque};

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
}
