//! The client against the simulator over loopback: OAuth, refresh rotation, paging, windows,
//! captures, sites, search, rate limit and faults.
#![cfg(feature = "sim")]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use cc_core::auth::{State, Token};
use cc_core::http::Method;
use cc_core::{EpochMillis, Secret};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use wxcc_api::auth::{Integration, Region, ServiceApp, TokenStore};
use wxcc_api::model::{BulkAction, BulkItem, BulkRequest, ChannelType, SearchRequest, Site};
use wxcc_api::query::{ActivityQuery, Captures, DAY_MS, Interval, StatisticsQuery, TaskQuery};
use wxcc_api::sim::{Fault, SimConfig, Simulator, WxccSim};
use wxcc_api::{Error, WxccClient, WxccConfig};

use common::{REDIRECT, authorized, client_config, integration, plain_executor, setup, temp_store};

/// `n` concurrent `sites()` calls, all of which must succeed.
async fn sites_concurrently(client: &WxccClient, n: usize) {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.sites().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn oauth_flow_end_to_end_with_state_org_id_and_store() {
    let sim = WxccSim::start(SimConfig::demo()).await.unwrap();
    let integration = integration(&sim);
    let state = State::generate().unwrap();
    let url = integration.authorize_url(&state);
    assert!(
        url.starts_with(&format!("{}/authorize?response_type=code&client_id=C-sim", sim.oauth_base())),
        "{url}"
    );

    // The real HTTP redirect carries the code and our state.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT));

    // A redirect for another state is refused before any exchange.
    let other = State::from_stored("forged");
    assert!(integration.complete(&plain_executor(), &location, &other).await.is_err());
    assert_eq!(sim.stats().codes_exchanged, 0);

    let token = integration.complete(&plain_executor(), &location, &state).await.unwrap();
    assert!(token.refresh_token().is_some());
    // The code is single-use.
    assert!(integration.complete(&plain_executor(), &location, &state).await.is_err());

    let store = temp_store("e2e");
    let auth = integration.token_cache(plain_executor(), token, store.clone()).await.unwrap();
    let client = WxccClient::new(client_config(&sim), auth).unwrap();
    assert_eq!(client.org_id().await.unwrap(), sim.config().org_id, "derived from the token");
    let page = client
        .tasks(&TaskQuery::new(sim.config().start, EpochMillis::new(sim.config().start.as_i64() + 3_600_000)))
        .await
        .unwrap();
    assert_eq!(page.meta.org_id.as_deref(), Some(sim.config().org_id.as_str()));
    assert!(!page.data.is_empty());

    // A restart picks the pair up from the store.
    let restored = integration.token_cache_from_store(plain_executor(), store.clone()).await.unwrap();
    let client = WxccClient::new(client_config(&sim), restored).unwrap();
    assert!(client.sites().await.is_ok());
    std::fs::remove_dir_all(store.path().parent().unwrap()).unwrap();
}

#[tokio::test]
async fn one_refresh_for_100_concurrent_callers_and_the_new_pair_is_stored() {
    let sim = WxccSim::start(SimConfig::demo()).await.unwrap();
    let integration = integration(&sim);
    let store = temp_store("rotation");
    let auth = authorized(&sim, store.clone()).await;
    let first_refresh = store.load().await.unwrap().unwrap().refresh_token().unwrap().expose_secret().clone();

    // Everything issued so far stops working: the 100 calls all get 401 and need a refresh.
    sim.expire_access_tokens();
    let client = WxccClient::new(client_config(&sim), auth.clone()).unwrap();
    sites_concurrently(&client, 100).await;
    let stats = sim.stats();
    assert_eq!(stats.refreshes, 1, "one refresh for 100 callers");
    assert_eq!(stats.stale_refreshes, 0, "never a second refresh with the old token");

    // The rotated pair is in the store, and the old refresh token is dead.
    let stored = store.load().await.unwrap().unwrap();
    let new_refresh = stored.refresh_token().unwrap().expose_secret().clone();
    assert_ne!(new_refresh, first_refresh);
    let stale = Token::bearer("x", None).with_refresh_token(first_refresh);
    let grant = cc_core::auth::Grant::RefreshToken { refresh_token: stale.refresh_token().unwrap().clone() };
    let err = plain_executor().fetch_token(&integration.token_endpoint(), &grant).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert_eq!(sim.stats().stale_refreshes, 1);
}

#[tokio::test]
async fn refresh_ahead_of_expiry_without_a_401() {
    let mut config = SimConfig::demo();
    config.access_token_lifetime = Duration::from_secs(2);
    let sim = WxccSim::start(config).await.unwrap();
    let auth = authorized(&sim, temp_store("ahead")).await;
    let client = WxccClient::new(client_config(&sim), auth).unwrap();
    client.sites().await.unwrap();
    // Half the lifetime (the cap on the refresh margin) has passed: the next call refreshes first.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.sites().await.unwrap();
    assert_eq!(sim.stats().refreshes, 1);
}

#[tokio::test]
async fn service_app_token_from_an_admin_token() {
    let mut config = SimConfig::demo();
    config.service_apps.insert("app-1".into(), ("svc-client".into(), Secret::from("svc-secret")));
    let sim = WxccSim::start(config).await.unwrap();
    let admin = authorized(&sim, temp_store("svc")).await;
    let app = ServiceApp::new(
        "app-1",
        "svc-client",
        Secret::from("svc-secret"),
        &sim.config().org_id,
        admin.clone(),
        plain_executor(),
    )
    .oauth_base(sim.oauth_base());
    assert!(!format!("{app:?}").contains("svc-secret"));
    let client = WxccClient::new(client_config(&sim), app.token_cache(None)).unwrap();
    assert_eq!(client.sites().await.unwrap().len(), 3);
    assert_eq!(sim.stats().service_app_tokens, 1);

    let wrong = ServiceApp::new(
        "app-1",
        "svc-client",
        Secret::from("nope"),
        &sim.config().org_id,
        admin,
        plain_executor(),
    )
    .oauth_base(sim.oauth_base());
    let client = WxccClient::new(client_config(&sim), wrong.token_cache(None)).unwrap();
    let err = client.sites().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(!err.to_string().contains("nope"));
}

#[tokio::test]
async fn task_stream_pages_without_loss_or_duplicates() {
    let mut config = SimConfig::demo();
    config.tasks = 1_000;
    config.gzip_threshold = 64 * 1024;
    let (sim, client) = setup(config).await;
    let start = sim.config().start;
    let end = EpochMillis::new(start.as_i64() + 2 * DAY_MS);
    // Page size 10 with three tasks per millisecond: boundaries fall inside ties.
    for size in [10, 7, 100, 1000] {
        let ids: Vec<String> = client
            .task_stream(TaskQuery::new(start, end).page_size(size))
            .map(|t| t.unwrap().id.to_string())
            .collect()
            .await;
        assert_eq!(ids, sim.task_ids(), "page size {size}");
    }
    // Pages of 1000 are over the simulator's gzip threshold: they came compressed.
    assert!(sim.stats().gzipped > 0, "gzip was asked for and decoded");

    // Filtering by channel.
    let chats: Vec<_> = client
        .task_stream(TaskQuery::new(start, end).channels([ChannelType::Chat]).page_size(50))
        .collect()
        .await;
    assert_eq!(chats.len(), 250);
    assert!(chats.iter().all(|t| t.as_ref().unwrap().attributes.channel_type == Some(ChannelType::Chat)));
    let unique: HashSet<_> = chats.iter().map(|t| t.as_ref().unwrap().id.clone()).collect();
    assert_eq!(unique.len(), 250);
}

#[tokio::test]
async fn a_server_that_caps_pages_below_page_size_loses_nothing() {
    let mut config = SimConfig::demo();
    config.tasks = 500;
    config.task_page_cap = 40;
    let (sim, client) = setup(config).await;
    let start = sim.config().start;
    let ids: Vec<String> = client
        .task_stream(TaskQuery::new(start, EpochMillis::new(start.as_i64() + DAY_MS)).page_size(100))
        .map(|t| t.unwrap().id.to_string())
        .collect()
        .await;
    assert_eq!(ids, sim.task_ids(), "short pages are not taken as the end");
}

#[tokio::test]
async fn a_page_of_ties_ends_the_stream_with_an_error_not_a_gap() {
    let (sim, client) = setup(SimConfig::demo()).await;
    let start = sim.config().start;
    // Three tasks share each millisecond: a page of 2 cannot get past the first one.
    let items: Vec<_> = client
        .task_stream(TaskQuery::new(start, EpochMillis::new(start.as_i64() + 3_600_000)).page_size(2))
        .collect()
        .await;
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
    assert!(matches!(items.last(), Some(Err(Error::Paging { .. }))), "{:?}", items.last());
}

#[tokio::test]
async fn statistics_windows_are_validated_and_split() {
    let (sim, client) = setup(SimConfig::demo()).await;
    let from = sim.config().start;
    let to = EpochMillis::new(from.as_i64() + 3 * DAY_MS);
    let query = StatisticsQuery::new(from, to, Interval::Minutes60);
    // One call cannot cover three days: refused before sending.
    let before = sim.stats().api_calls;
    assert!(matches!(client.queue_statistics(&query).await, Err(Error::Invalid { field: "to", .. })));
    assert_eq!(sim.stats().api_calls, before);
    let rows = client.queue_statistics_range(&query).await.unwrap();
    // 72 hourly intervals × 3 queues, each interval once.
    assert_eq!(rows.len(), 72 * 3);
    let intervals: HashSet<_> = rows.iter().map(|r| (r.interval_start_time, r.queue_id.clone())).collect();
    assert_eq!(intervals.len(), rows.len(), "no interval twice");
    assert_eq!(sim.stats().api_calls - before, 4, "3 days in chunks under 24 h");

    let agents = client
        .agent_statistics_range(
            &StatisticsQuery::new(from, to, Interval::Minutes30).ids(Vec::<String>::new()),
        )
        .await
        .unwrap();
    assert_eq!(agents.len(), 144 * 7);
    assert_eq!(agents[0].channels[0].total_engaged_duration, Some(40302));
}

#[tokio::test]
async fn agent_activities_report_the_cap_and_the_split_helper_gets_everything() {
    let mut config = SimConfig::demo();
    // One activity every 30 s: 12,000 span about 4.2 days.
    config.activities = 12_000;
    let (sim, client) = setup(config).await;
    let from = sim.config().start;
    let to = EpochMillis::new(from.as_i64() + 5 * DAY_MS);
    let items: Vec<_> = client.agent_activities(ActivityQuery::new(from, to).page_size(1000)).collect().await;
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 10_000, "everything up to the cap is delivered");
    let Some(Err(err @ Error::RecordCap { cap: 10_000, .. })) = items.last() else {
        panic!("{:?}", items.last())
    };
    assert!(err.to_string().contains("split the window"), "{err}");

    let all = client.agent_activities_split(ActivityQuery::new(from, to).page_size(1000)).await.unwrap();
    assert_eq!(all.len(), 12_000);
    let starts: Vec<_> = all.iter().map(|a| a.start_time.unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "window order");
    assert_eq!(all.iter().map(|a| a.channel_id.clone()).collect::<HashSet<_>>().len(), 12_000, "each once");

    // A short window pages normally and ends without an error.
    let short: Vec<_> = client
        .agent_activities(ActivityQuery::new(from, EpochMillis::new(from.as_i64() + 3_600_000)).page_size(50))
        .collect()
        .await;
    assert_eq!(short.len(), 120);
    assert!(short.iter().all(Result::is_ok));
}

#[tokio::test]
async fn captures_are_chunked_by_ten_and_downloaded_without_authorization() {
    let (sim, client) = setup(SimConfig::demo()).await;
    let ids: Vec<String> = sim.task_ids().into_iter().take(23).collect();
    let list = client.captures(&Captures::of(ids.clone()).url_expiration(5)).await.unwrap();
    assert_eq!(sim.stats().capture_batches, [10, 10, 3]);
    assert_eq!(list.data.len(), 23);
    let order: Vec<String> = list.data.iter().map(|d| d.task_id.clone().unwrap().to_string()).collect();
    assert_eq!(order, ids);
    // Unknown ids: empty lists, not errors.
    let unknown = client.captures(&Captures::of(["no-such-task"])).await.unwrap();
    assert!(unknown.data[0].recording.is_empty());
    // Out-of-range expiration is refused locally.
    assert!(matches!(
        client.captures(&Captures::of(["t"]).url_expiration(0)).await,
        Err(Error::Invalid { field: "urlExpiration", .. })
    ));

    let recorded = list.data.iter().find(|d| !d.recording.is_empty()).unwrap();
    let url = recorded.recording[0].attributes.file_path.clone().unwrap();
    let dir = std::env::temp_dir().join(format!("wxcc-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("call.wav");
    let bytes = client.download(&url, &path).await.unwrap();
    let task_id = recorded.task_id.clone().unwrap().to_string();
    assert_eq!(std::fs::read(&path).unwrap(), WxccSim::recording_bytes(&task_id));
    assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(sim.stats().downloads, 1);

    // A tampered URL fails, leaves no file, and the error does not show the URL.
    let bad = url.replace("sig=", "sig=x");
    let err = client.download(&bad, &dir.join("bad.wav")).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(!err.to_string().contains("sig="), "{err}");
    assert!(!dir.join("bad.wav").exists() && !dir.join("bad.wav.part").exists());

    // A download larger than the cap, or slower than the deadline, stops and leaves nothing.
    let auth = authorized(&sim, temp_store(&format!("{}", fastrand::u64(..)))).await;
    let capped = WxccConfig { max_download_bytes: 1000, ..client_config(&sim) };
    let capped = WxccClient::new(capped, auth.clone()).unwrap();
    let err = capped.download(&url, &dir.join("big.wav")).await.unwrap_err();
    assert!(matches!(&err, Error::DownloadLimit(why) if why.contains("1000 bytes")), "{err}");
    let hurried = WxccConfig { download_deadline: Duration::ZERO, ..client_config(&sim) };
    let hurried = WxccClient::new(hurried, auth).unwrap();
    let err = hurried.download(&url, &dir.join("slow.wav")).await.unwrap_err();
    assert!(matches!(&err, Error::DownloadLimit(why) if why.contains("not complete within")), "{err}");
    for name in ["big.wav", "big.wav.part", "slow.wav", "slow.wav.part"] {
        assert!(!dir.join(name).exists(), "{name} left behind");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn sites_crud_with_versions_conflicts_and_references() {
    let (_sim, client) = setup(SimConfig::demo()).await;
    let created = client.create_site(&Site::new("Austin", "mm-1")).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.version, Some(0));

    let duplicate = client.create_site(&Site::new("austin", "mm-1")).await.unwrap_err();
    assert_eq!(duplicate.status(), Some(409));
    assert!(duplicate.tracking_id().unwrap().starts_with("cckit_"), "{duplicate}");

    let mut renamed = client.site(&id).await.unwrap();
    renamed.name = "Austin TX".into();
    let updated = client.update_site(&renamed).await.unwrap();
    assert_eq!(updated.version, Some(1));
    // The version we read is stale now.
    let stale = client.update_site(&renamed).await.unwrap_err();
    assert_eq!(stale.status(), Some(409), "{stale}");
    // Without a version the update is refused locally.
    let mut unversioned = updated.clone();
    unversioned.version = None;
    assert!(matches!(client.update_site(&unversioned).await, Err(Error::Invalid { field: "version", .. })));

    let page = client.sites_page(0, 2, None, None).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(page.meta.has_next());
    assert_eq!(page.meta.total_records, Some(4));
    let searched = client.sites_page(0, 10, None, Some("austin")).await.unwrap();
    assert_eq!(searched.data.len(), 1);

    assert_eq!(client.delete_site("site-0001").await.unwrap_err().status(), Some(412));
    client.delete_site(&id).await.unwrap();
    assert_eq!(client.site(&id).await.unwrap_err().status(), Some(404));
    // An id is one path segment: `..` is refused before sending; a slash is percent-encoded,
    // so the call names no other resource.
    assert!(matches!(client.site("..").await, Err(Error::Invalid { field: "id", .. })));
    assert_eq!(client.site("../site-0001").await.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn bulk_results_per_item_export_pages_and_csv_upload() {
    let (_sim, client) = setup(SimConfig::demo()).await;
    let bulk = BulkRequest {
        items: vec![
            BulkItem {
                item_identifier: 1,
                item: Site::new("Denver", "mm-1"),
                request_action: BulkAction::Save,
            },
            BulkItem {
                item_identifier: 2,
                item: Site::new("Site 2", "mm-1"),
                request_action: BulkAction::Save,
            },
            BulkItem {
                item_identifier: 3,
                item: Site { id: Some("site-0003".into()), ..Site::new("x", "mm") },
                request_action: BulkAction::Delete,
            },
        ],
    };
    let results = client.bulk_save_sites(&bulk).await.unwrap();
    let outcome: Vec<(Option<i64>, bool)> =
        results.items.iter().map(|r| (r.item_identifier, r.is_success())).collect();
    assert_eq!(outcome, [(Some(1), true), (Some(2), false), (Some(3), true)]);
    let failure = results.items[1].api_error.as_ref().unwrap().error.as_ref().unwrap();
    assert!(failure.message[0].description.as_deref().unwrap().contains("already exists"));

    // A bad CSV row: named by line, nothing sent.
    let before = client.sites().await.unwrap().len();
    let csv = "name,multimediaProfileId,active\nBoston,mm-1,true\nBad/Name,mm-1,true\n";
    let Err(Error::Csv(rows)) = client.bulk_save_sites_csv(csv).await else { panic!("expected a CSV error") };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 3);
    assert_eq!(client.sites().await.unwrap().len(), before);
    let good = "name,multimediaProfileId,active\nBoston,mm-1,true\nChicago,mm-2,false\n";
    let results = client.bulk_save_sites_csv(good).await.unwrap();
    assert!(results.items.iter().all(|r| r.is_success()));
    assert_eq!(results.items.iter().map(|r| r.item_identifier.unwrap()).collect::<Vec<_>>(), [2, 3]);

    let exported = client.export_sites(2).await.unwrap();
    assert_eq!(exported.len(), client.sites().await.unwrap().len());
}

#[tokio::test]
async fn search_pages_by_cursor_and_types_graphql_errors() {
    let mut config = SimConfig::demo();
    config.tasks = 240;
    config.search_page_size = 50;
    let (sim, client) = setup(config).await;
    let start = sim.config().start.as_i64();
    let query = "query($from: Long!, $to: Long!, $cursor: String) { task(from: $from, to: $to, \
                 pagination: {cursor: $cursor}) { tasks { id } pageInfo { hasNextPage endCursor } } }";
    let request = SearchRequest::new(query).variable("from", start).variable("to", start + 2 * DAY_MS);
    let pages: Vec<Value> = client.search_pages(request, "task").map(|p| p.unwrap()).collect().await;
    assert_eq!(pages.len(), 5);
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(ids, sim.task_ids());

    let err = client.search(&SearchRequest::new("{ nonsense(from: 1, to: 2) { id } }")).await.unwrap_err();
    let Error::GraphQl(errors) = &err else { panic!("{err:?}") };
    assert!(errors[0].message.contains("FieldUndefined"));
    assert_eq!(errors[0].locations[0].line, 1);
    assert!(matches!(
        client.search(&SearchRequest::new("  ")).await,
        Err(Error::Invalid { field: "query", .. })
    ));
}

#[tokio::test]
async fn raw_json_call_shares_auth_and_errors() {
    let (sim, client) = setup(SimConfig::demo()).await;
    let org = sim.config().org_id.clone();
    let sites: Vec<Site> = client
        .call_json(Method::Get, &format!("/organization/{org}/site"), &[], None::<&()>, true)
        .await
        .unwrap();
    assert_eq!(sites.len(), 3);
    let err = client
        .call_json::<Value, _>(Method::Get, "/v1/tasks", &[("from", "x")], None::<&()>, true)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("from: not a number"), "{err}");
    let created: Site = client
        .call_json(
            Method::Post,
            &format!("/organization/{org}/site"),
            &[],
            Some(&json!({"name": "Raw", "active": true, "multimediaProfileId": "m"})),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.name, "Raw");
}

#[tokio::test]
async fn the_rate_limit_keeps_calls_inside_the_window() {
    let mut config = SimConfig::demo();
    config.rate_limit = 20;
    config.rate_window = Duration::from_secs(1);
    let sim = WxccSim::start(config).await.unwrap();
    let auth = authorized(&sim, temp_store("rate")).await;
    let mut client_config = client_config(&sim);
    client_config.rate_limit = 20;
    client_config.rate_window = Duration::from_secs(1);
    let client = WxccClient::new(client_config, auth.clone()).unwrap();
    sites_concurrently(&client, 50).await;
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 0, "the client never exceeded the limit");
    assert!(stats.max_in_window <= 20);
    assert_eq!(stats.api_calls, 50);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let mut config = SimConfig::demo();
    config.rate_limit = 5;
    config.rate_window = Duration::from_secs(1);
    let sim = WxccSim::start(config).await.unwrap();
    let auth = authorized(&sim, temp_store("429")).await;
    // A client that does not know the server's limit.
    let client = WxccClient::new(client_config(&sim), auth).unwrap();
    sites_concurrently(&client, 8).await;
    let stats = sim.stats();
    assert!(stats.rate_limited >= 1, "the simulator answered 429: {stats:?}");
    assert_eq!(stats.api_calls, 8);
}

#[tokio::test]
async fn faults_are_retried_or_surfaced_with_status_and_tracking_id() {
    let (sim, client) = setup(SimConfig::demo()).await;
    sim.inject(Fault::Status { status: 503, retry_after: None });
    sim.inject(Fault::Reset);
    assert_eq!(client.sites().await.unwrap().len(), 3, "a GET is retried after 503 and a reset");

    // A create is not repeated after a reset (it may have been processed).
    sim.inject(Fault::Reset);
    let err = client.create_site(&Site::new("Once", "mm")).await.unwrap_err();
    assert!(err.status().is_none(), "{err}");
    assert_eq!(client.sites().await.unwrap().iter().filter(|s| s.name == "Once").count(), 1);

    for _ in 0..10 {
        sim.inject(Fault::Status { status: 500, retry_after: None });
    }
    let err = client.sites().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    let tracking = err.tracking_id().unwrap();
    assert!(tracking.starts_with("cckit_"), "{tracking}");
    assert!(err.to_string().contains("fault injected"), "{err}");
}

/// The fault matrix of docs/reliability.md: a read (`sites`, GET) and a create (POST, not
/// idempotent) under 429, 503, reset, read timeout and an expired token.
#[tokio::test]
async fn fault_matrix() {
    let sim = WxccSim::start(SimConfig::demo()).await.unwrap();
    let auth = authorized(&sim, temp_store("matrix")).await;
    let mut config = client_config(&sim);
    config.attempt_timeout = Duration::from_millis(200);
    let client = WxccClient::new(config, auth).unwrap();
    let timeout = Fault::Delay(Duration::from_millis(400));
    for fault in Fault::survivable(Duration::from_millis(400)) {
        sim.inject(fault.clone());
        client.sites().await.unwrap_or_else(|e| panic!("read under {fault:?}: {e}"));
    }
    sim.inject(Fault::Status { status: 429, retry_after: Some(0) });
    client.create_site(&Site::new("After 429", "mm")).await.unwrap();
    sim.inject(Fault::Status { status: 503, retry_after: None });
    assert_eq!(client.create_site(&Site::new("After 503", "mm")).await.unwrap_err().status(), Some(503));
    sim.inject(Fault::Reset);
    assert!(client.create_site(&Site::new("Reset", "mm")).await.unwrap_err().status().is_none());
    sim.inject(timeout);
    assert!(client.create_site(&Site::new("Slow", "mm")).await.is_err());
    sim.expire_access_tokens();
    client.create_site(&Site::new("After 401", "mm")).await.unwrap();
    assert_eq!(sim.stats().refreshes, 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let names: Vec<String> =
        client.sites().await.unwrap().into_iter().map(|s| s.name).filter(|n| n != "Slow").collect();
    let mut created: Vec<&String> = names.iter().filter(|n| !n.starts_with("Site ")).collect();
    created.sort();
    assert_eq!(created, ["After 401", "After 429", "Reset"], "nothing created twice, the 503 not repeated");
}

/// Three processes share one token through Redis against rotating refresh tokens: 1,000
/// concurrent callers across them, several expiries, one refresh per expiry, no refresh token
/// presented twice (the simulator counts both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_token_through_redis() {
    use cc_core::inbox::InboxConfig;
    use cc_core::inbox::redis::{RedisInbox, RedisServer};
    let Some(redis) = RedisServer::for_test("three_processes_share_one_token_through_redis") else { return };
    let mut config = SimConfig::demo();
    config.access_token_lifetime = Duration::from_secs(2);
    config.rate_limit = 1_000_000;
    let sim = WxccSim::start(config).await.unwrap();
    // Consent once; the pair goes to Redis, where the three processes find it.
    let integration = integration(&sim);
    let state = cc_core::auth::State::generate().unwrap();
    let redirect = sim.consent(&integration.authorize_url(&state)).unwrap();
    let token = integration.complete(&plain_executor(), &redirect, &state).await.unwrap();
    let inbox = RedisInbox::open(&redis.url(), InboxConfig::default()).unwrap();
    inbox.token_store("wxcc").save(&token).await.unwrap();

    let started = std::time::Instant::now();
    let children: Vec<_> = (0..3)
        .map(|i| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "shared_token_process", "--ignored", "--nocapture", "--test-threads", "1"])
                .env("WXCC_SHARED_BASE", sim.base_url())
                .env("WXCC_SHARED_OAUTH", sim.oauth_base())
                .env("WXCC_SHARED_REDIS", redis.url())
                .env("WXCC_SHARED_CALLERS", if i == 0 { "334" } else { "333" })
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut calls = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let reported = stdout.split("calls ").nth(1).and_then(|rest| rest.split_whitespace().next());
        calls += reported.and_then(|n| n.parse::<u64>().ok()).unwrap_or_else(|| panic!("no count: {stdout}"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    println!("3 processes, 1,000 callers, {calls} calls in {seconds:.1} s: {} refreshes", stats.refreshes);
    assert_eq!(stats.stale_refreshes, 0, "a spent refresh token was presented");
    // Calls ran for three lifetimes of a 2 s token, so at least two refreshes were needed; a
    // token is refreshed after half its life (or on a 401 once it expired under load): one
    // refresh per 1 s window at most, never one per process.
    assert!(
        seconds >= 6.0 && stats.refreshes >= 2,
        "several expiries: {} in {seconds:.1} s",
        stats.refreshes
    );
    assert!((stats.refreshes as f64) <= seconds + 1.0, "{} refreshes in {seconds:.1} s", stats.refreshes);
}

/// One of the three processes above (the test runs this binary again with the environment set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of three_processes_share_one_token_through_redis"]
async fn shared_token_process() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name}: run by the parent test"));
    let inbox =
        cc_core::inbox::redis::RedisInbox::open(&var("WXCC_SHARED_REDIS"), Default::default()).unwrap();
    let config = SimConfig::demo();
    let integration = Integration::new(&config.client_id, config.client_secret.clone(), common::REDIRECT)
        .oauth_base(var("WXCC_SHARED_OAUTH"));
    let auth = integration.shared_token_cache(plain_executor(), inbox.token_store("wxcc")).await.unwrap();
    let mut client_config = WxccConfig::new(Region::Custom(var("WXCC_SHARED_BASE")));
    client_config.rate_limit = 1_000_000;
    let client = Arc::new(WxccClient::new(client_config, auth).unwrap());
    let callers: usize = var("WXCC_SHARED_CALLERS").parse().unwrap();
    // Waves of concurrent calls (1,000 in flight across the three processes) for 6 s.
    let until = std::time::Instant::now() + Duration::from_secs(6);
    let mut calls = 0;
    while std::time::Instant::now() < until {
        let wave: Vec<_> = (0..callers)
            .map(|_| {
                let client = Arc::clone(&client);
                tokio::spawn(async move { client.sites().await.map(|_| ()) })
            })
            .collect();
        for call in wave {
            call.await.unwrap().expect("every call succeeds");
            calls += 1;
        }
    }
    println!("calls {calls}");
}
