//! The poll loop: the WebSite pushes nothing, so [`ChatPoller`] polls Routing for one visitor
//! with an adaptive interval and backoff and hands each `ChatRunning` to a
//! [`ChatDiff`] (feature `client`).

use std::time::Duration;

use crate::client::Visitor;
use crate::diff::{ChatDiff, ChatEvent};
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
