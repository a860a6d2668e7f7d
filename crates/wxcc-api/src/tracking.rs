//! Webhook deliveries arrive unordered, repeated, or not at all (the vendor says so, and
//! recommends a reconciliation job). [`Latest`] keeps one state per entity by event time and
//! ignores what is older; [`EventTracker`] does that for agents and tasks from [`Event`]s;
//! [`EventTracker::missing_tasks`] lists the tasks the API has in a window that no event named.

use std::collections::HashMap;
use std::hash::Hash;

use cc_core::EpochMillis;

use crate::model::TaskId;
use crate::model::events::{AgentState, Event, EventData, EventType};

/// What [`Latest::observe`] did with a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The first state of this entity.
    First,
    /// Newer than (or as new as) the one held: it replaced it.
    Newer,
    /// Older than the one held: ignored.
    Stale,
}

impl Observation {
    /// Whether the state is now the latest.
    pub fn is_latest(self) -> bool {
        !matches!(self, Self::Stale)
    }
}

/// The latest state of each entity, by the time the event happened (not when it arrived).
/// Two states of the same millisecond: the later arrival wins (the vendor gives no order
/// within a millisecond; an assumption).
#[derive(Clone, Debug)]
pub struct Latest<K, S> {
    entries: HashMap<K, (EpochMillis, S)>,
}

impl<K, S> Default for Latest<K, S> {
    fn default() -> Self {
        Self { entries: HashMap::new() }
    }
}

impl<K: Hash + Eq, S> Latest<K, S> {
    /// Nothing known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `state` of `key` as of `at` unless a newer one is held.
    pub fn observe(&mut self, key: K, at: EpochMillis, state: S) -> Observation {
        match self.entries.get_mut(&key) {
            None => {
                self.entries.insert(key, (at, state));
                Observation::First
            }
            Some((held, _)) if at < *held => Observation::Stale,
            Some(slot) => {
                *slot = (at, state);
                Observation::Newer
            }
        }
    }

    /// The latest state of `key` and its time.
    pub fn get(&self, key: &K) -> Option<(&S, EpochMillis)> {
        self.entries.get(key).map(|(at, state)| (state, *at))
    }

    /// Every entity with its latest state and time.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &S, EpochMillis)> {
        self.entries.iter().map(|(k, (at, s))| (k, s, *at))
    }

    /// Drops entities whose latest state is older than `before` (bounds memory).
    pub fn forget_before(&mut self, before: EpochMillis) {
        self.entries.retain(|_, (at, _)| *at >= before);
    }

    /// How many entities are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// An agent as the latest event showed it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSnapshot {
    /// The event (`agent:login`, `agent:state_change`…).
    pub event_type: EventType,
    /// `currentState`, where the event had one; `agent:logout` without one reads as
    /// logged out.
    pub state: Option<AgentState>,
}

/// A task as the latest event showed it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSnapshot {
    /// The event (`task:new`, `task:connected`, `task:ended`…).
    pub event_type: EventType,
    /// The agent, where the event named one.
    pub agent_id: Option<String>,
}

/// Latest agent and task states from events, whatever order they arrive in.
#[derive(Clone, Debug, Default)]
pub struct EventTracker {
    agents: Latest<String, AgentSnapshot>,
    tasks: Latest<TaskId, TaskSnapshot>,
}

impl EventTracker {
    /// Nothing known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `event`: an agent event to its agent, a task event to its task. `None` for an
    /// event that names neither, or has no time (`data.createdTime`, else
    /// `comciscotimestamp`): without one its order cannot be known, so it changes nothing.
    pub fn apply(&mut self, event: &Event) -> Option<Observation> {
        let at = event.time()?;
        match &event.data {
            EventData::Agent(data) => {
                let agent = data.agent_id.clone()?;
                let state = data.current_state.clone().or_else(|| {
                    (event.event_type == EventType::AgentLogout).then_some(AgentState::LoggedOut)
                });
                Some(self.agents.observe(
                    agent,
                    at,
                    AgentSnapshot { event_type: event.event_type.clone(), state },
                ))
            }
            EventData::Task(data) => {
                let task = data.task_id.clone()?;
                let snapshot =
                    TaskSnapshot { event_type: event.event_type.clone(), agent_id: data.agent_id.clone() };
                Some(self.tasks.observe(task, at, snapshot))
            }
            _ => None,
        }
    }

    /// An agent's latest state and its time.
    pub fn agent(&self, agent_id: &str) -> Option<(&AgentSnapshot, EpochMillis)> {
        self.agents.get(&agent_id.to_owned())
    }

    /// A task's latest state and its time.
    pub fn task(&self, task_id: &TaskId) -> Option<(&TaskSnapshot, EpochMillis)> {
        self.tasks.get(task_id)
    }

    /// The agents.
    pub fn agents(&self) -> &Latest<String, AgentSnapshot> {
        &self.agents
    }

    /// The tasks.
    pub fn tasks(&self) -> &Latest<TaskId, TaskSnapshot> {
        &self.tasks
    }

    /// Drops agents and tasks last seen before `before`.
    pub fn forget_before(&mut self, before: EpochMillis) {
        self.agents.forget_before(before);
        self.tasks.forget_before(before);
    }

    /// Reconciliation: every task the API lists as created in `[from, to)`
    /// ([`WxccClient::task_stream`](crate::WxccClient::task_stream)) of which no task event
    /// was applied — the deliveries that were lost. Run it for a window that ended a while
    /// ago (the vendor suggests nightly), and before [`EventTracker::forget_before`] drops
    /// that window.
    #[cfg(feature = "reporting")]
    pub fn missing_tasks(
        &self,
        client: &crate::WxccClient,
        from: EpochMillis,
        to: EpochMillis,
    ) -> impl futures_util::Stream<Item = Result<crate::model::Task, crate::Error>> + Send + 'static {
        use futures_util::StreamExt as _;
        let seen: std::collections::HashSet<TaskId> = self.tasks.entries.keys().cloned().collect();
        client.task_stream(crate::query::TaskQuery::new(from, to)).filter(move |task| {
            let keep = !matches!(task, Ok(task) if seen.contains(&task.id));
            std::future::ready(keep)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::parse_event;

    fn event(id: &str, kind: &str, data: &str, at: i64) -> Event {
        let body = format!(
            r#"{{"id":"{id}","type":"{kind}","source":"/com/cisco/wxcc/s","data":{{{data},"createdTime":{at}}}}}"#
        );
        parse_event(body.as_bytes()).unwrap()
    }

    #[test]
    fn late_and_repeated_events_do_not_win() {
        let mut tracker = EventTracker::new();
        let login = event("1", "agent:login", r#""agentId":"a""#, 100);
        let busy = event("2", "agent:state_change", r#""agentId":"a","currentState":"connected""#, 200);
        let logout = event("3", "agent:logout", r#""agentId":"a""#, 300);
        // Arrival order: logout, login (late), busy (late), logout again.
        assert_eq!(tracker.apply(&logout), Some(Observation::First));
        assert_eq!(tracker.apply(&login), Some(Observation::Stale));
        assert_eq!(tracker.apply(&busy), Some(Observation::Stale));
        assert_eq!(tracker.apply(&logout), Some(Observation::Newer), "a repeat is as new, harmless");
        let (agent, at) = tracker.agent("a").unwrap();
        assert_eq!((agent.state.clone(), at), (Some(AgentState::LoggedOut), EpochMillis::new(300)));

        let ended = event("4", "task:ended", r#""taskId":"t""#, 500);
        let new = event("5", "task:new", r#""taskId":"t""#, 400);
        tracker.apply(&ended);
        assert_eq!(tracker.apply(&new), Some(Observation::Stale));
        assert_eq!(tracker.task(&TaskId::new("t")).unwrap().0.event_type, EventType::TaskEnded);

        let timeless =
            parse_event(br#"{"id":"6","type":"agent:login","source":"/s","data":{"agentId":"b"}}"#).unwrap();
        assert_eq!(tracker.apply(&timeless), None, "no time, no order");
        tracker.forget_before(EpochMillis::new(400));
        assert!(tracker.agent("a").is_none() && tracker.task(&TaskId::new("t")).is_some());
    }
}
