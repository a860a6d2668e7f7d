//! The hand-written layers over the reporting operations (feature `reporting`): each sends a
//! generated operation of [`crate::api`] through [`WxccClient::call`] and adds what the spec
//! leaves to the caller — validation before sending, a task stream without an offset,
//! statistics windows of any length, the activity record cap, captures by 10 ids, sites'
//! optimistic locking and export pages, GraphQL errors and cursors.

use std::collections::HashMap;

use cc_core::EpochMillis;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use super::{WxccClient, paged};
use crate::api::search::SearchTasks;
use crate::api::site::{
    BulkExportSites, BulkSaveSites, CreateSite, DeleteSiteById, GetSiteById, ListSites, ListSitesV2,
    UpdateSiteById,
};
use crate::error::Error;
use crate::model::{
    AgentActivity, AgentActivityPage, AgentStatistics, BulkRequest, BulkResponse, CaptureList, PageInfo,
    QueueStatistics, SearchRequest, Site, SiteExport, SitePage, Task, TaskId, TaskPage,
};
use crate::query::{ACTIVITY_RECORD_CAP, ActivityQuery, Captures, StatisticsQuery, TaskQuery};

impl WxccClient {
    // ---------------------------------------------------------------- tasks

    /// One page of tasks (`GET /v1/tasks`; [`TaskQuery::operation`] builds it).
    pub async fn tasks(&self, query: &TaskQuery) -> Result<TaskPage, Error> {
        self.call(&query.operation()?).await
    }

    /// Every task of the window, each once, in `createdTime` order.
    ///
    /// The API sorts by `createdTime` but exposes no offset, so this pages by moving `from`
    /// to the last task's `createdTime` minus 1 ms and drops the ids it already returned.
    /// Whether `from` is inclusive is not documented: the 1 ms overlap covers both readings
    /// (an assumption). If a full page brings nothing new (more tasks share one millisecond
    /// than a page holds), the stream ends with [`Error::Paging`] rather than skip tasks.
    /// The stream ends when a page brings no new task (an empty page, or only the overlap):
    /// a page shorter than `pageSize` is not taken as the end, since a server may cap pages
    /// lower; this costs one extra call per stream.
    pub fn task_stream(&self, query: TaskQuery) -> impl Stream<Item = Result<Task, Error>> + Send + 'static {
        struct State {
            client: WxccClient,
            query: TaskQuery,
            window_from: EpochMillis,
            seen: HashMap<TaskId, EpochMillis>,
        }
        let window_from = query.from;
        let state = State { client: self.clone(), query, window_from, seen: HashMap::new() };
        paged(state, |mut s| async move {
            let page = match s.client.tasks(&s.query).await {
                Ok(page) => page.data,
                Err(e) => return (vec![Err(e)], None),
            };
            let full = page.len() >= s.query.page_size.unwrap_or(100) as usize;
            let last = page.last().map(|t| t.attributes.created_time);
            let fresh: Vec<Task> = page.into_iter().filter(|t| !s.seen.contains_key(&t.id)).collect();
            let Some(last) = last else { return (Vec::new(), None) };
            if fresh.is_empty() {
                if !full {
                    return (Vec::new(), None);
                }
                let error = Error::Paging {
                    operation: "GetTasks",
                    at: last,
                    message: "a full page brought no new task: more tasks share this createdTime than \
                              pageSize; raise pageSize (up to 1000)"
                        .into(),
                };
                return (vec![Err(error)], None);
            }
            let next_from = EpochMillis::new(last.as_i64() - 1).max(s.window_from);
            // Only tasks at or after the new `from` can come back.
            s.seen.retain(|_, created| *created >= next_from);
            s.seen.extend(
                fresh
                    .iter()
                    .filter(|t| t.attributes.created_time >= next_from)
                    .map(|t| (t.id.clone(), t.attributes.created_time)),
            );
            s.query.from = next_from;
            (fresh.into_iter().map(Ok).collect(), Some(s))
        })
    }

    // ---------------------------------------------------------------- statistics

    /// Queue statistics for a window shorter than 24 hours (`GET /v1/queues/statistics`).
    pub async fn queue_statistics(&self, query: &StatisticsQuery) -> Result<Vec<QueueStatistics>, Error> {
        Ok(self.call(&query.queues()?).await?.data)
    }

    /// Agent statistics for a window shorter than 24 hours (`GET /v1/agents/statistics`).
    pub async fn agent_statistics(&self, query: &StatisticsQuery) -> Result<Vec<AgentStatistics>, Error> {
        Ok(self.call(&query.agents()?).await?.data)
    }

    /// Queue statistics for any window: split into valid chunks, fetched in order, concatenated.
    pub async fn queue_statistics_range(
        &self,
        query: &StatisticsQuery,
    ) -> Result<Vec<QueueStatistics>, Error> {
        let mut out = Vec::new();
        for chunk in query.chunks() {
            out.extend(self.queue_statistics(&chunk).await?);
        }
        Ok(out)
    }

    /// Agent statistics for any window: split into valid chunks, fetched in order, concatenated.
    pub async fn agent_statistics_range(
        &self,
        query: &StatisticsQuery,
    ) -> Result<Vec<AgentStatistics>, Error> {
        let mut out = Vec::new();
        for chunk in query.chunks() {
            out.extend(self.agent_statistics(&chunk).await?);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- activities

    /// One page of agent activities (pages from 0; `GET /v1/agents/activities`).
    pub async fn agent_activities_page(
        &self,
        query: &ActivityQuery,
        page: u32,
    ) -> Result<AgentActivityPage, Error> {
        self.call(&query.operation(page)?).await
    }

    /// Every page of the window, in order. When the window holds more records than the API
    /// returns for one window ([`ACTIVITY_RECORD_CAP`]), the records up to the cap come
    /// first and the stream ends with [`Error::RecordCap`]: split the window, or use
    /// [`WxccClient::agent_activities_split`].
    pub fn agent_activities(
        &self,
        query: ActivityQuery,
    ) -> impl Stream<Item = Result<AgentActivity, Error>> + Send + 'static {
        struct State {
            client: WxccClient,
            query: ActivityQuery,
            page: u32,
            fetched: usize,
        }
        let state = State { client: self.clone(), query, page: 0, fetched: 0 };
        paged(state, |mut s| async move {
            let page = match s.client.agent_activities_page(&s.query, s.page).await {
                Ok(page) => page.data,
                Err(e) => return (vec![Err(e)], None),
            };
            // An empty page ends the window; a short one does not (a server may cap pages).
            if page.is_empty() {
                return (Vec::new(), None);
            }
            s.fetched += page.len();
            s.page += 1;
            let mut items: Vec<Result<AgentActivity, Error>> = page.into_iter().map(Ok).collect();
            if s.fetched >= ACTIVITY_RECORD_CAP {
                items.push(Err(Error::RecordCap {
                    from: s.query.from,
                    to: s.query.to.unwrap_or_else(EpochMillis::now),
                    cap: ACTIVITY_RECORD_CAP,
                }));
                return (items, None);
            }
            (items, Some(s))
        })
    }

    /// Every activity of the window: a window that reaches the record cap is split in two
    /// and each half fetched again, down to one-minute windows (below that the cap error is
    /// returned). Records come in window order.
    pub async fn agent_activities_split(&self, query: ActivityQuery) -> Result<Vec<AgentActivity>, Error> {
        let to = query.to.unwrap_or_else(EpochMillis::now);
        let mut windows = vec![(query.from, to)];
        let mut out = Vec::new();
        while let Some((from, to)) = windows.pop() {
            let mut window = query.clone();
            window.from = from;
            window.to = Some(to);
            let mut items = Vec::new();
            let mut capped = None;
            let mut stream = std::pin::pin!(self.agent_activities(window));
            while let Some(item) = stream.next().await {
                match item {
                    Ok(item) => items.push(item),
                    Err(e @ Error::RecordCap { .. }) => capped = Some(e),
                    Err(e) => return Err(e),
                }
            }
            match capped {
                Some(e) if to.as_i64() - from.as_i64() <= 60_000 => return Err(e),
                Some(_) => {
                    let mid = EpochMillis::new(from.as_i64() + (to.as_i64() - from.as_i64()) / 2);
                    // Later half first on the stack, so the earlier half is fetched next.
                    windows.push((mid, to));
                    windows.push((from, mid));
                }
                None => out.extend(items),
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- captures

    /// Captures of any number of tasks: one `POST /v1/captures/query` per 10 ids
    /// ([`Captures::operations`]), results concatenated in order. Tasks without recordings
    /// come back with empty lists.
    pub async fn captures(&self, query: &Captures) -> Result<CaptureList, Error> {
        let org = self.org_id().await?;
        let mut merged: Option<CaptureList> = None;
        for op in query.operations(&org)? {
            let list = self.call(&op).await?;
            match &mut merged {
                None => merged = Some(list),
                Some(all) => all.data.extend(list.data),
            }
        }
        Ok(merged.unwrap_or(CaptureList { meta: Default::default(), data: Vec::new() }))
    }

    // ---------------------------------------------------------------- sites

    /// All sites (`GET /organization/{orgid}/site`, a bare array).
    pub async fn sites(&self) -> Result<Vec<Site>, Error> {
        self.call(&ListSites::new()).await
    }

    /// One page of sites (`GET /organization/{orgid}/v2/site`); `filter` and `search` as the
    /// API defines them.
    pub async fn sites_page(
        &self,
        page: u32,
        page_size: u32,
        filter: Option<&str>,
        search: Option<&str>,
    ) -> Result<SitePage, Error> {
        let mut op = ListSitesV2::new();
        op.page = Some(page.into());
        op.page_size = Some(page_size.into());
        op.filter = filter.map(str::to_owned);
        op.search = search.map(str::to_owned);
        self.call(&op).await
    }

    /// One site.
    pub async fn site(&self, id: &str) -> Result<Site, Error> {
        self.call(&GetSiteById::new(id)).await
    }

    /// The operation [`WxccClient::create_site`] sends for organization `org_id` (no I/O):
    /// the site validated, without an id, its organization filled in.
    pub fn create_site_operation(site: &Site, org_id: &str) -> Result<CreateSite, Error> {
        site.validate().map_err(|m| Error::invalid("site", m))?;
        if site.id.is_some() {
            return Err(Error::invalid("id", "a new site has no id; use update_site"));
        }
        let mut body = site.clone();
        body.organization_id.get_or_insert_with(|| org_id.to_owned());
        let mut op = CreateSite::new(body);
        op.orgid = Some(org_id.to_owned());
        Ok(op)
    }

    /// Creates a site (201); 409 when the name exists.
    pub async fn create_site(&self, site: &Site) -> Result<Site, Error> {
        let org = self.org_id().await?;
        self.call(&Self::create_site_operation(site, &org)?).await
    }

    /// The operation [`WxccClient::update_site`] sends (no I/O): the site validated, with the
    /// `id` and `version` it was read with.
    pub fn update_site_operation(site: &Site) -> Result<UpdateSiteById, Error> {
        site.validate().map_err(|m| Error::invalid("site", m))?;
        let id = site.id.as_deref().ok_or_else(|| Error::invalid("id", "an update needs the site id"))?;
        if site.version.is_none() {
            return Err(Error::invalid(
                "version",
                "an update needs the version that was read (optimistic locking)",
            ));
        }
        Ok(UpdateSiteById::new(id, site.clone()))
    }

    /// Updates a site: send it with the `id` and `version` it was read with; a stale version
    /// is refused by the API (409/412) and surfaced as such, never retried.
    pub async fn update_site(&self, site: &Site) -> Result<Site, Error> {
        self.call(&Self::update_site_operation(site)?).await
    }

    /// Deletes a site (204); 412 when something still refers to it.
    pub async fn delete_site(&self, id: &str) -> Result<(), Error> {
        self.call(&DeleteSiteById::new(id)).await
    }

    /// Bulk create/update/delete (207): one result per item; check each with
    /// [`BulkResult::is_success`](crate::model::BulkResult::is_success). Not repeated after
    /// a possibly processed attempt.
    pub async fn bulk_save_sites(&self, bulk: &BulkRequest) -> Result<BulkResponse, Error> {
        self.call(&BulkSaveSites::new(bulk.clone())).await
    }

    /// Reads a sites CSV (see [`crate::csv`]) and bulk-saves it. Bad rows are reported by
    /// line and nothing is sent; per-item results carry the line as `itemIdentifier`.
    pub async fn bulk_save_sites_csv(&self, csv: &str) -> Result<BulkResponse, Error> {
        let bulk = crate::csv::sites_bulk_request(csv)?;
        self.bulk_save_sites(&bulk).await
    }

    /// Every exported site: all pages of `GET …/site/bulk-export`, in order, while a page
    /// says `rel: next` and is not empty.
    pub async fn export_sites(&self, page_size: u32) -> Result<Vec<SiteExport>, Error> {
        let mut out = Vec::new();
        let mut op = BulkExportSites::new();
        op.page_size = Some(page_size.into());
        for page in 0i64.. {
            op.page = Some(page);
            let export = self.call(&op).await?;
            let empty = export.resources.is_empty();
            out.extend(export.resources);
            if export.rel.as_deref() != Some("next") || empty {
                break;
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- search

    /// The operation [`WxccClient::search`] sends (no I/O): an empty query is refused.
    pub fn search_operation(search: &SearchRequest) -> Result<SearchTasks, Error> {
        if search.query.trim().is_empty() {
            return Err(Error::invalid("query", "empty GraphQL query"));
        }
        Ok(SearchTasks::new(search.clone()))
    }

    /// Runs a GraphQL query (`POST /search`) and returns `data`. GraphQL `errors` (even with
    /// a 200, even with partial data) are [`Error::GraphQl`].
    pub async fn search(&self, search: &SearchRequest) -> Result<Value, Error> {
        let response = self.call(&Self::search_operation(search)?).await?;
        if !response.errors.is_empty() {
            return Err(Error::GraphQl(response.errors));
        }
        Ok(response.data.unwrap_or(Value::Null))
    }

    /// Walks a cursor-paginated query: `field` is the result under `data` (e.g. `task`);
    /// each page's `field.pageInfo.endCursor` is passed as the variable `cursor` of the next
    /// call while `hasNextPage` is true. The query must declare `$cursor: String` and pass it
    /// as `pagination: {cursor: $cursor}` (the first call sends `"0"` unless `cursor` is set).
    /// Yields each page's `data.field` object.
    pub fn search_pages(
        &self,
        search: SearchRequest,
        field: impl Into<String>,
    ) -> impl Stream<Item = Result<Value, Error>> + Send + 'static {
        let mut search = search;
        search.variables.entry("cursor").or_insert_with(|| Value::from("0"));
        let state = (self.clone(), search, field.into());
        paged(state, |(client, mut search, field)| async move {
            let data = match client.search(&search).await {
                Ok(data) => data,
                Err(e) => return (vec![Err(e)], None),
            };
            let Some(result) = data.get(&field).cloned() else {
                let error = Error::invalid("query", format!("the result has no field `{field}` under data"));
                return (vec![Err(error)], None);
            };
            let info: PageInfo = result
                .get("pageInfo")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .unwrap_or_default();
            let next = match (info.has_next_page, info.end_cursor) {
                (true, Some(cursor))
                    if search.variables.get("cursor") != Some(&Value::from(cursor.as_str())) =>
                {
                    search.variables.insert("cursor".into(), Value::from(cursor));
                    Some((client, search, field))
                }
                _ => None,
            };
            (vec![Ok(result)], next)
        })
    }
}
