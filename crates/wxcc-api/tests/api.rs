//! Every generated operation: its request builds from the spec's examples, its answer (the
//! spec's example, else a schema-valid instance) decodes into its type, and every schema
//! example of the spec decodes. The built requests are one reviewed snapshot table per tag.
#![cfg(all(feature = "full", feature = "sim"))]

mod common;

use std::collections::BTreeMap;

use wxcc_api::api::samples;
use wxcc_api::sim::SimConfig;

#[test]
fn every_operation_builds_its_request_and_decodes_its_answer() {
    let all = samples::operations();
    assert_eq!(all.len(), 422, "every operation of the spec is typed");
    let mut problems = Vec::new();
    for sample in &all {
        let key = sample.info.key();
        match (sample.request)() {
            Ok(parts) => assert!(!parts.path().contains('{'), "{key}: {}", parts.path()),
            Err(e) => problems.push(format!("{key}: request: {e}")),
        }
        if !sample.response.is_empty()
            && let Err(e) = (sample.decode)(sample.response.as_bytes())
        {
            problems.push(format!("{key}: answer: {e}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} operations fail:\n{}",
        problems.len(),
        all.len(),
        problems.join("\n")
    );
}

#[test]
fn every_schema_example_of_the_spec_decodes() {
    let all = samples::type_examples();
    assert!(!all.is_empty(), "the spec has schema-level examples");
    let problems: Vec<String> = all
        .iter()
        .filter_map(|e| (e.decode)(e.json.as_bytes()).err().map(|err| format!("{}: {err}", e.name)))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} examples fail:\n{}",
        problems.len(),
        all.len(),
        problems.join("\n")
    );
}

/// One line per operation: method, path and query, headers, body.
fn line(sample: &wxcc_api::api::Sample) -> String {
    let parts = match (sample.request)() {
        Ok(parts) => parts,
        Err(e) => return format!("{} -> error: {e}", sample.info.key()),
    };
    let mut text = format!("{} {}", sample.info.method.as_str(), parts.path_and_query());
    for (name, value) in &parts.headers {
        text.push_str(&format!("\n    {name}: {value}"));
    }
    match &parts.body {
        None => {}
        Some((content_type, bytes)) if content_type.starts_with("multipart/form-data") => {
            // The boundary is random: show the parts' headers only.
            let body = String::from_utf8_lossy(bytes);
            text.push_str("\n    multipart/form-data");
            for disposition in body.lines().filter(|l| l.starts_with("Content-Disposition")) {
                text.push_str(&format!("\n      {disposition}"));
            }
        }
        Some((content_type, bytes)) => {
            text.push_str(&format!("\n    {content_type} {}", String::from_utf8_lossy(bytes)));
        }
    }
    text
}

#[test]
fn built_requests_per_tag() {
    let mut tables: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for sample in samples::operations() {
        tables.entry(sample.info.tag).or_default().push(line(&sample));
    }
    assert_eq!(tables.len(), 52, "every tag");
    for (tag, lines) in tables {
        let name: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        insta::assert_snapshot!(format!("requests__{name}"), lines.join("\n"));
    }
}

#[tokio::test]
async fn every_operation_is_answered_by_the_simulator_in_its_type() {
    // Stateless, for the samples' organization: every item call is answered whatever its id
    // (the stateful behaviour has its own test below).
    let mut config = SimConfig::demo();
    config.org_id = wxcc_api::api::SAMPLE_ORG.into();
    config.stateful = false;
    let (_sim, client) = common::setup(config).await;
    // The hand-written site handlers model sites (seeded `site-0001`…): an id they do not
    // have is a 404, as the API's.
    const MODELLED_ITEMS: &[&str] = &[
        "GET /organization/{orgid}/site/{id}",
        "PUT /organization/{orgid}/site/{id}",
        "DELETE /organization/{orgid}/site/{id}",
    ];
    let mut problems = Vec::new();
    let all = samples::operations();
    for sample in &all {
        let key = sample.info.key();
        match (sample.call)(client.clone()).await {
            Err(e) if MODELLED_ITEMS.contains(&key.as_str()) && e.status() == Some(404) => {}
            Err(e) => problems.push(format!("{key}: {e}")),
            Ok(()) if MODELLED_ITEMS.contains(&key.as_str()) => {
                problems.push(format!("{key}: found an unknown site"))
            }
            Ok(()) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} operations fail:\n{}",
        problems.len(),
        all.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn resources_keep_state_and_bodies_are_checked_against_the_spec() {
    use futures_util::StreamExt as _;
    use wxcc_api::api::address_book::{
        CreateAddressBookV3, DeleteAddressBookByIdV3, GetAddressBookByIdV3, ListAddressBooksV3,
        UpdateAddressBookByIdV3,
    };
    use wxcc_api::api::models::AddressBookDto;

    let (_sim, client) = common::setup(SimConfig::demo()).await;
    let book: AddressBookDto = serde_json::from_value(
        serde_json::json!({"name": "VIP", "parentType": "ORGANIZATION", "crmSystem": "x"}),
    )
    .unwrap();
    assert_eq!(book.extra.get("crmSystem"), Some(&serde_json::json!("x")), "unknown members are kept");
    let created = client.call(&CreateAddressBookV3::new(book.clone())).await.unwrap();
    let id = created.id.clone().expect("the simulator assigns an id");
    assert_eq!(created.name, "VIP");

    let got = client.call(&GetAddressBookByIdV3::new(&id)).await.unwrap();
    assert_eq!(got.name, "VIP");
    assert_eq!(got.extra.get("crmSystem"), Some(&serde_json::json!("x")), "sent back as received");

    let listed: Vec<_> = client.pages(ListAddressBooksV3::new()).collect().await;
    let names: Vec<String> = listed.into_iter().map(|b| b.unwrap().name).collect();
    assert_eq!(names, ["VIP"], "the list shows what was created, and paging ends");

    let mut renamed = got.clone();
    renamed.name = "VIP customers".into();
    let updated = client.call(&UpdateAddressBookByIdV3::new(&id, renamed)).await.unwrap();
    assert_eq!(updated.name, "VIP customers");
    assert_eq!(client.call(&GetAddressBookByIdV3::new(&id)).await.unwrap().name, "VIP customers");

    client.call(&DeleteAddressBookByIdV3::new(&id)).await.unwrap();
    let gone = client.call(&GetAddressBookByIdV3::new(&id)).await.unwrap_err();
    assert_eq!(gone.status(), Some(404), "{gone}");
    let never = client.call(&GetAddressBookByIdV3::new("no-such-id")).await.unwrap_err();
    assert_eq!(never.status(), Some(404), "{never}");

    // A body that does not fit the operation's schema: 400 naming the member.
    let bad: Result<serde_json::Value, _> = client
        .call_json(
            cc_core::http::Method::Post,
            "/organization/97cdbf45-ebe2-4687-8341-44d5c7abf101/v3/address-book",
            &[],
            Some(&serde_json::json!({"name": 5, "parentType": "ORGANIZATION"})),
            false,
        )
        .await;
    let bad = bad.unwrap_err();
    assert_eq!(bad.status(), Some(400), "{bad}");
    assert!(bad.to_string().contains("name"), "{bad}");
    // Another organization's resource: 403.
    let mut foreign = GetAddressBookByIdV3::new(&id);
    foreign.orgid = Some("11111111-1111-4111-8111-111111111111".into());
    assert_eq!(client.call(&foreign).await.unwrap_err().status(), Some(403));
}

#[test]
fn generated_models_keep_credentials_and_unknown_members_out_of_debug() {
    use wxcc_api::api::models::{AddressBookDto, SubscriptionRequest};
    let subscription: SubscriptionRequest = serde_json::from_value(serde_json::json!({
        "name": "n", "destinationUrl": "https://example.com/hook", "eventTypes": ["agent:login"],
        "secret": "my-32-plus-character-long-secret-value"
    }))
    .unwrap();
    let shown = format!("{subscription:?}");
    assert!(!shown.contains("my-32-plus") && shown.contains("[redacted]"), "{shown}");
    assert!(shown.contains("https://example.com/hook"), "other members show: {shown}");
    let book: AddressBookDto = serde_json::from_value(
        serde_json::json!({"name": "VIP", "parentType": "ORGANIZATION", "crmApiKey": "k-value-123"}),
    )
    .unwrap();
    let shown = format!("{book:?}");
    assert!(
        !shown.contains("k-value-123") && shown.contains("crmApiKey"),
        "unknown members by name only: {shown}"
    );
}

/// A server that ignores `page`: the stream must end with an error, not repeat the page.
#[tokio::test]
async fn a_server_that_ignores_page_ends_the_stream_with_an_error() {
    use futures_util::StreamExt as _;
    use wxcc_api::api::address_book::ListAddressBooksV3;

    let page = serde_json::json!({"meta": {}, "data": [{"name": "VIP", "parentType": "ORGANIZATION"}]});
    let app = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move { axum::Json(page) }
    });
    let client = client_of(app).await;
    let items: Vec<_> = client.pages(ListAddressBooksV3::new()).collect().await;
    assert_eq!(items.len(), 2, "page 0's item, then the error: {items:?}");
    assert_eq!(items[0].as_ref().unwrap().name, "VIP");
    let err = items[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("page 1 repeats page 0"), "{err}");
}

/// A page that says it is the last (`rel` other than `next`) ends the stream without asking
/// for another; `rel: next` goes on even after a short page.
#[tokio::test]
async fn a_page_announcing_no_next_ends_the_stream() {
    use futures_util::StreamExt as _;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wxcc_api::api::Paged as _;
    use wxcc_api::api::address_book::BulkExportAddressBooks;

    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let calls = counted.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let page: u32 = uri
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("page=")))
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let rel = if page < 2 { "next" } else { "self" };
            axum::Json(serde_json::json!({
                "rel": rel, "pageNumber": page,
                "resources": [{"id": format!("b{page}"), "name": format!("Book {page}")}]
            }))
        }
    });
    let client = client_of(app).await;
    let items: Vec<_> = client.pages(BulkExportAddressBooks::new()).collect().await;
    let ids: Vec<String> = items.into_iter().map(|b| b.unwrap().id).collect();
    assert_eq!(ids, ["b0", "b1", "b2"]);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "no call after the page without `rel: next`");

    // `links.next` under `meta`, and answers that say nothing.
    use wxcc_api::api::models::ListUsersV2Response;
    use wxcc_api::api::users::ListUsersV2;
    let with = |meta: serde_json::Value| -> ListUsersV2Response {
        serde_json::from_value(serde_json::json!({"meta": meta, "data": []})).unwrap()
    };
    let next = with(serde_json::json!({"links": {"self": "/p0", "next": "/p1"}}));
    let last = with(serde_json::json!({"links": {"self": "/p1"}}));
    let silent = with(serde_json::json!({}));
    assert_eq!(ListUsersV2::has_next(&next), Some(true));
    assert_eq!(ListUsersV2::has_next(&last), Some(false));
    assert_eq!(ListUsersV2::has_next(&silent), None);
}

/// A client of `app` on loopback, with a fixed token and organization `o-1`.
async fn client_of(app: axum::Router) -> wxcc_api::WxccClient {
    use async_trait::async_trait;
    use cc_core::auth::{AuthError, Token, TokenCache, TokenSource};
    use wxcc_api::auth::Region;
    use wxcc_api::{WxccClient, WxccConfig};

    struct Fixed;
    #[async_trait]
    impl TokenSource for Fixed {
        async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, AuthError> {
            Ok(Token::bearer("t", None))
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(cc_core::serve::serve(listener, app, cc_core::serve::ServerLimits::default()));
    let config = WxccConfig::new(Region::Custom(base)).org_id("o-1");
    WxccClient::new(config, std::sync::Arc::new(TokenCache::new(Fixed))).unwrap()
}
