//! Typed, validated parameters of the reporting and capture calls, and the time windows they
//! may cover. Validation happens before anything is sent: a request the API would refuse is
//! refused here, naming the parameter. With feature `reporting`, each query turns into the
//! generated operation(s) of [`crate::api`] the client sends.

use cc_core::EpochMillis;

use crate::error::Error;
use crate::model::{CaptureQuery, ChannelType, TaskId};

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The most records `GET /v1/agents/activities` returns for one window (spec).
pub const ACTIVITY_RECORD_CAP: usize = 10_000;
/// Largest `pageSize` of tasks and activities (spec).
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Most task ids per capture query (spec).
pub const MAX_CAPTURE_TASKS: usize = 10;
/// Longest capture URL lifetime, minutes (spec: `maximum: 60`).
pub const MAX_URL_EXPIRATION: u32 = 60;
/// Most agent or team ids per statistics/activities call (spec: `maxItems: 100`).
pub const MAX_IDS: usize = 100;

/// A statistics interval: 15, 30 or 60 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    /// 15 minutes.
    Minutes15,
    /// 30 minutes.
    Minutes30,
    /// 60 minutes.
    Minutes60,
}

impl Interval {
    /// Minutes.
    pub fn minutes(self) -> i64 {
        match self {
            Self::Minutes15 => 15,
            Self::Minutes30 => 30,
            Self::Minutes60 => 60,
        }
    }

    /// Milliseconds.
    pub fn millis(self) -> i64 {
        self.minutes() * 60_000
    }

    /// 15, 30 or 60; anything else is an error.
    pub fn from_minutes(minutes: u32) -> Result<Self, Error> {
        match minutes {
            15 => Ok(Self::Minutes15),
            30 => Ok(Self::Minutes30),
            60 => Ok(Self::Minutes60),
            other => Err(Error::invalid("interval", format!("must be 15, 30 or 60 minutes, got {other}"))),
        }
    }
}

/// Splits `[from, to)` into consecutive windows of at most `max_ms`, each starting on a
/// multiple of `align_ms` after `from` (pass 1 for no alignment). The windows cover the
/// range exactly once: no gap, no overlap.
pub fn split_window(from: EpochMillis, to: EpochMillis, max_ms: i64) -> Vec<(EpochMillis, EpochMillis)> {
    let (mut start, end) = (from.as_i64(), to.as_i64());
    let step = max_ms.max(1);
    let mut out = Vec::new();
    while start < end {
        let stop = start.saturating_add(step).min(end);
        out.push((EpochMillis::new(start), EpochMillis::new(stop)));
        start = stop;
    }
    out
}

fn check_window(from: EpochMillis, to: Option<EpochMillis>) -> Result<(), Error> {
    if from.as_i64() < 0 {
        return Err(Error::invalid("from", "must not be negative"));
    }
    if let Some(to) = to
        && to <= from
    {
        return Err(Error::invalid("to", format!("must be after from ({from}), got {to}")));
    }
    Ok(())
}

fn check_page_size(page_size: Option<u32>) -> Result<(), Error> {
    match page_size {
        Some(n) if n == 0 || n > MAX_PAGE_SIZE => {
            Err(Error::invalid("pageSize", format!("must be 1 to {MAX_PAGE_SIZE}, got {n}")))
        }
        _ => Ok(()),
    }
}

fn check_ids(field: &'static str, ids: &[String]) -> Result<(), Error> {
    if ids.len() > MAX_IDS {
        return Err(Error::invalid(field, format!("at most {MAX_IDS} ids, got {}", ids.len())));
    }
    if let Some(bad) = ids.iter().find(|id| id.trim().is_empty() || id.contains(',')) {
        return Err(Error::invalid(field, format!("{bad:?} is not an id (empty or contains a comma)")));
    }
    Ok(())
}

/// The channels as the operation's own open enum (`None` for all).
#[cfg(feature = "reporting")]
fn channels<T: for<'a> From<&'a str>>(channels: &[ChannelType]) -> Option<Vec<T>> {
    (!channels.is_empty()).then(|| channels.iter().map(|c| T::from(c.as_str())).collect())
}

/// The ids, `None` for none (all).
#[cfg(feature = "reporting")]
fn id_list(ids: &[String]) -> Option<Vec<String>> {
    (!ids.is_empty()).then(|| ids.to_vec())
}

/// `GET /v1/tasks` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskQuery {
    /// Tasks created after this.
    pub from: EpochMillis,
    /// And before this (default: now).
    pub to: Option<EpochMillis>,
    /// Only these channels (default: all).
    pub channel_types: Vec<ChannelType>,
    /// 1..=1000 (API default 100).
    pub page_size: Option<u32>,
    /// The organization (default: the client's).
    pub org_id: Option<String>,
}

impl TaskQuery {
    /// Tasks created in `[from, to)`.
    pub fn new(from: EpochMillis, to: EpochMillis) -> Self {
        Self { from, to: Some(to), channel_types: Vec::new(), page_size: None, org_id: None }
    }

    /// Only these channels.
    pub fn channels(mut self, channels: impl IntoIterator<Item = ChannelType>) -> Self {
        self.channel_types = channels.into_iter().collect();
        self
    }

    /// Page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Checks the window and the page size.
    pub fn validate(&self) -> Result<(), Error> {
        check_window(self.from, self.to)?;
        check_page_size(self.page_size)
    }

    /// The validated `GET /v1/tasks` operation.
    #[cfg(feature = "reporting")]
    pub fn operation(&self) -> Result<crate::api::tasks::GetTasks, Error> {
        self.validate()?;
        let mut op = crate::api::tasks::GetTasks::new(self.from.as_i64());
        op.to = self.to.map(EpochMillis::as_i64);
        op.channel_types = channels(&self.channel_types);
        op.page_size = self.page_size.map(i64::from);
        op.org_id = self.org_id.clone();
        Ok(op)
    }
}

/// Which statistics: queues or agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsKind {
    /// `GET /v1/queues/statistics` (ids are queue ids).
    Queues,
    /// `GET /v1/agents/statistics` (ids are agent ids).
    Agents,
}

impl StatisticsKind {
    /// The ids parameter.
    pub fn ids_param(self) -> &'static str {
        match self {
            Self::Queues => "queueIds",
            Self::Agents => "agentIds",
        }
    }
}

/// Queue or agent statistics parameters. The window must be shorter than 24 hours; use
/// [`StatisticsQuery::chunks`] (or the client's `*_statistics_range`) for longer ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatisticsQuery {
    /// Window start (the API rounds it down to 15 minutes).
    pub from: EpochMillis,
    /// Window end.
    pub to: EpochMillis,
    /// Interval length.
    pub interval: Interval,
    /// Only these queues or agents (default: all).
    pub ids: Vec<String>,
    /// The organization (default: the client's).
    pub org_id: Option<String>,
}

impl StatisticsQuery {
    /// Statistics per `interval` over `[from, to)`.
    pub fn new(from: EpochMillis, to: EpochMillis, interval: Interval) -> Self {
        Self { from, to, interval, ids: Vec::new(), org_id: None }
    }

    /// Only these queues or agents.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the window (< 24 h) and the ids.
    pub fn validate(&self, kind: StatisticsKind) -> Result<(), Error> {
        check_window(self.from, Some(self.to))?;
        let span = self.to.as_i64() - self.from.as_i64();
        if span >= DAY_MS {
            return Err(Error::invalid(
                "to",
                format!("the window must be shorter than 24 hours, got {} minutes: split it", span / 60_000),
            ));
        }
        check_ids(kind.ids_param(), &self.ids)
    }

    /// The same query over consecutive windows shorter than 24 hours, each a whole number of
    /// intervals (the last may be shorter), covering `[from, to)` exactly.
    pub fn chunks(&self) -> Vec<StatisticsQuery> {
        let max = DAY_MS - self.interval.millis();
        split_window(self.from, self.to, max)
            .into_iter()
            .map(|(from, to)| StatisticsQuery { from, to, ..self.clone() })
            .collect()
    }

    /// The validated `GET /v1/queues/statistics` operation (the ids are queue ids).
    #[cfg(feature = "reporting")]
    pub fn queues(&self) -> Result<crate::api::queues::GetQueueStatistics, Error> {
        self.validate(StatisticsKind::Queues)?;
        let mut op = crate::api::queues::GetQueueStatistics::new(self.from.as_i64(), self.to.as_i64());
        op.interval = Some(self.interval.minutes());
        op.queue_ids = id_list(&self.ids);
        op.org_id = self.org_id.clone();
        Ok(op)
    }

    /// The validated `GET /v1/agents/statistics` operation (the ids are agent ids).
    #[cfg(feature = "reporting")]
    pub fn agents(&self) -> Result<crate::api::agents::GetAgentStatistics, Error> {
        self.validate(StatisticsKind::Agents)?;
        let mut op = crate::api::agents::GetAgentStatistics::new(self.from.as_i64(), self.to.as_i64());
        op.interval = Some(self.interval.minutes());
        op.agent_ids = id_list(&self.ids);
        op.org_id = self.org_id.clone();
        Ok(op)
    }
}

/// `GET /v1/agents/activities` parameters (page-numbered; see [`ACTIVITY_RECORD_CAP`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Window start.
    pub from: EpochMillis,
    /// Window end (default: now).
    pub to: Option<EpochMillis>,
    /// Only these agents (≤100).
    pub agent_ids: Vec<String>,
    /// Only these teams (≤100).
    pub team_ids: Vec<String>,
    /// Only these channels.
    pub channel_types: Vec<ChannelType>,
    /// 1..=1000.
    pub page_size: Option<u32>,
    /// The organization (default: the client's).
    pub org_id: Option<String>,
}

impl ActivityQuery {
    /// Activities in `[from, to)`.
    pub fn new(from: EpochMillis, to: EpochMillis) -> Self {
        Self {
            from,
            to: Some(to),
            agent_ids: Vec::new(),
            team_ids: Vec::new(),
            channel_types: Vec::new(),
            page_size: None,
            org_id: None,
        }
    }

    /// Page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Only these agents.
    pub fn agents<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.agent_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the window, the page size and the ids.
    pub fn validate(&self) -> Result<(), Error> {
        check_window(self.from, self.to)?;
        check_page_size(self.page_size)?;
        check_ids("agentIds", &self.agent_ids)?;
        check_ids("teamIds", &self.team_ids)
    }

    /// The validated `GET /v1/agents/activities` operation for page `page` (from 0).
    #[cfg(feature = "reporting")]
    pub fn operation(&self, page: u32) -> Result<crate::api::agents::GetAgentActivities, Error> {
        self.validate()?;
        let mut op = crate::api::agents::GetAgentActivities::new(self.from.as_i64());
        op.to = self.to.map(EpochMillis::as_i64);
        op.agent_ids = id_list(&self.agent_ids);
        op.team_ids = id_list(&self.team_ids);
        op.channel_types = channels(&self.channel_types);
        op.page_size = self.page_size.map(i64::from);
        op.page = Some(page.into());
        op.org_id = self.org_id.clone();
        Ok(op)
    }
}

/// Capture query builder: any number of task ids, split into calls of 10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captures {
    /// The tasks.
    pub task_ids: Vec<TaskId>,
    /// URL lifetime in minutes (1..=60; API default when absent).
    pub url_expiration: Option<u32>,
    /// One recording per segment.
    pub include_segments: Option<bool>,
    /// Include virtual-agent recordings.
    pub include_va_recordings: Option<bool>,
    /// The organization (default: the client's).
    pub org_id: Option<String>,
}

impl Captures {
    /// Captures of these tasks.
    pub fn of<I: IntoIterator<Item = T>, T: Into<TaskId>>(task_ids: I) -> Self {
        Self {
            task_ids: task_ids.into_iter().map(Into::into).collect(),
            url_expiration: None,
            include_segments: None,
            include_va_recordings: None,
            org_id: None,
        }
    }

    /// URL lifetime in minutes.
    pub fn url_expiration(mut self, minutes: u32) -> Self {
        self.url_expiration = Some(minutes);
        self
    }

    /// One recording per segment.
    pub fn include_segments(mut self, yes: bool) -> Self {
        self.include_segments = Some(yes);
        self
    }

    /// Checks the URL lifetime and the ids.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(minutes) = self.url_expiration
            && (minutes == 0 || minutes > MAX_URL_EXPIRATION)
        {
            return Err(Error::invalid(
                "urlExpiration",
                format!("must be 1 to {MAX_URL_EXPIRATION} minutes, got {minutes}"),
            ));
        }
        if let Some(bad) = self.task_ids.iter().find(|id| id.as_str().trim().is_empty()) {
            return Err(Error::invalid("taskIds", format!("{:?} is not a task id", bad.as_str())));
        }
        Ok(())
    }

    /// The request bodies: one per 10 task ids, in order; none for no ids.
    pub fn bodies(&self, org_id: Option<&str>) -> Vec<CaptureQuery> {
        self.task_ids
            .chunks(MAX_CAPTURE_TASKS)
            .map(|ids| CaptureQuery {
                org_id: self.org_id.clone().or_else(|| org_id.map(str::to_owned)),
                url_expiration: self.url_expiration,
                task_ids: ids.to_vec(),
                include_segments: self.include_segments,
                include_va_recordings: self.include_va_recordings,
            })
            .collect()
    }

    /// The validated `POST /v1/captures/query` operations, one per 10 task ids, in order;
    /// `org_id` goes into each body where [`Captures::org_id`] is not set.
    #[cfg(feature = "reporting")]
    pub fn operations(&self, org_id: &str) -> Result<Vec<crate::api::captures::ListCaptures>, Error> {
        self.validate()?;
        Ok(self
            .bodies(Some(org_id))
            .into_iter()
            .map(|query| crate::api::captures::ListCaptures {
                body: Some(crate::model::CaptureQueryBody { query }),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> EpochMillis {
        EpochMillis::new(v)
    }

    #[test]
    fn windows_cover_the_range_exactly_once() {
        let from = ms(1_651_395_600_000);
        for hours in [1, 23, 24, 25, 49, 24 * 7] {
            let to = ms(from.as_i64() + hours * 3_600_000 + 123);
            let q = StatisticsQuery::new(from, to, Interval::Minutes15);
            let chunks = q.chunks();
            assert_eq!(chunks.first().unwrap().from, from);
            assert_eq!(chunks.last().unwrap().to, to);
            for pair in chunks.windows(2) {
                assert_eq!(pair[0].to, pair[1].from, "gap or overlap");
            }
            for c in &chunks {
                c.validate(StatisticsKind::Queues).unwrap();
                let span = c.to.as_i64() - c.from.as_i64();
                assert!(span < DAY_MS);
                if c.to != to {
                    assert_eq!(span % Interval::Minutes15.millis(), 0, "chunks are whole intervals");
                }
            }
        }
    }

    #[test]
    fn statistics_validation_names_the_parameter() {
        let from = ms(1_651_395_600_000);
        let day = StatisticsQuery::new(from, ms(from.as_i64() + DAY_MS), Interval::Minutes60);
        assert!(matches!(day.validate(StatisticsKind::Agents), Err(Error::Invalid { field: "to", .. })));
        assert!(matches!(Interval::from_minutes(20), Err(Error::Invalid { field: "interval", .. })));
        let many = StatisticsQuery::new(from, ms(from.as_i64() + 1000), Interval::Minutes30)
            .ids((0..101).map(|i| format!("a{i}")));
        assert!(matches!(
            many.validate(StatisticsKind::Agents),
            Err(Error::Invalid { field: "agentIds", .. })
        ));
        let backwards = StatisticsQuery::new(from, from, Interval::Minutes15);
        assert!(matches!(
            backwards.validate(StatisticsKind::Queues),
            Err(Error::Invalid { field: "to", .. })
        ));
    }

    #[test]
    fn captures_chunk_by_ten_and_check_the_expiration() {
        let q = Captures::of((0..23).map(|i| format!("t{i}"))).url_expiration(30);
        let bodies = q.bodies(Some("org"));
        assert_eq!(bodies.iter().map(|b| b.task_ids.len()).collect::<Vec<_>>(), [10, 10, 3]);
        assert_eq!(bodies[2].task_ids[2].as_str(), "t22");
        assert!(bodies.iter().all(|b| b.org_id.as_deref() == Some("org")));
        for bad in [0, 61] {
            let err = Captures::of(["t"]).url_expiration(bad).validate().unwrap_err();
            assert!(matches!(err, Error::Invalid { field: "urlExpiration", .. }), "{bad}");
        }
        assert!(Captures::of(Vec::<String>::new()).bodies(None).is_empty());
    }

    #[test]
    fn page_sizes_are_bounded() {
        let q = TaskQuery::new(ms(1), ms(2));
        for (size, ok) in [(1, true), (1000, true), (0, false), (1001, false)] {
            assert_eq!(q.clone().page_size(size).validate().is_ok(), ok, "{size}");
        }
    }
}
