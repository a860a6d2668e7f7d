//! Sites: CRUD with versions, v2 pages, bulk writes (207 per item) and bulk export.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cc_core::EpochMillis;
use cc_core::sim::lock;
use serde_json::{Value, json};

use super::Shared;
use super::http::{admit, api, bad, echo, error_body, param_i64, tracking};
use crate::model::{BulkAction, BulkRequest, Site};

pub(super) fn org_matches(shared: &Shared, org: &str) -> Result<(), (StatusCode, String)> {
    if org == shared.config.org_id {
        Ok(())
    } else {
        Err((StatusCode::FORBIDDEN, "Token is not authorized for this organization".into()))
    }
}

pub(super) fn site_json(site: &Site) -> Value {
    serde_json::to_value(site).unwrap_or(Value::Null)
}

pub(super) fn save_site(
    shared: &Shared,
    mut site: Site,
    id: Option<&str>,
) -> Result<(StatusCode, Site), (StatusCode, String)> {
    site.validate().map_err(bad)?;
    let mut sites = lock(&shared.sites);
    let now = EpochMillis::now();
    match id {
        None => {
            if sites.values().any(|s| s.name.eq_ignore_ascii_case(&site.name)) {
                return Err((
                    StatusCode::CONFLICT,
                    format!("name: a site named {:?} already exists", site.name),
                ));
            }
            let id = format!("site-{:05}", shared.counter.fetch_add(1, Ordering::Relaxed));
            site.id = Some(id.clone());
            site.version = Some(0);
            site.organization_id = Some(shared.config.org_id.clone());
            site.created_time = Some(now);
            site.last_updated_time = Some(now);
            sites.insert(id, site.clone());
            Ok((StatusCode::CREATED, site))
        }
        Some(id) => {
            let Some(current) = sites.get(id) else {
                return Err((StatusCode::NOT_FOUND, format!("site {id} not found")));
            };
            if site.id.as_deref().is_some_and(|body_id| body_id != id) {
                return Err(bad("id: the body's id differs from the path's"));
            }
            if site.version != current.version {
                return Err((
                    StatusCode::CONFLICT,
                    format!("version: stale version {:?}, current is {:?}", site.version, current.version),
                ));
            }
            if sites.iter().any(|(other, s)| other != id && s.name.eq_ignore_ascii_case(&site.name)) {
                return Err((
                    StatusCode::CONFLICT,
                    format!("name: a site named {:?} already exists", site.name),
                ));
            }
            site.id = Some(id.to_owned());
            site.version = current.version.map(|v| v + 1);
            site.organization_id = current.organization_id.clone();
            site.created_time = current.created_time;
            site.last_updated_time = Some(now);
            sites.insert(id.to_owned(), site.clone());
            Ok((StatusCode::OK, site))
        }
    }
}

pub(super) fn remove_site(shared: &Shared, id: &str) -> Result<(), (StatusCode, String)> {
    if shared.referenced_site.as_deref() == Some(id) {
        return Err((StatusCode::PRECONDITION_FAILED, format!("site {id} is referenced by a team")));
    }
    lock(&shared.sites)
        .remove(id)
        .map(|_| ())
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("site {id} not found")))
}

pub(super) async fn list_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let sites: Vec<Value> = lock(&shared.sites).values().map(site_json).collect();
        Ok((StatusCode::OK, Value::Array(sites)))
    })())
}

pub(super) async fn sites_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let size = param_i64(&params, "pageSize")?.unwrap_or(100).clamp(1, 1000);
        let search = params.get("search").map(|s| s.to_lowercase());
        let all: Vec<Value> = lock(&shared.sites)
            .values()
            .filter(|s| search.as_ref().is_none_or(|q| s.name.to_lowercase().contains(q)))
            .map(site_json)
            .collect();
        let total_pages = (all.len() as i64 + size - 1) / size;
        let data: Vec<&Value> = all.iter().skip((page * size) as usize).take(size as usize).collect();
        let link = |p: i64| format!("/organization/{org}/v2/site?page={p}&pageSize={size}");
        let mut links = json!({"self": link(page), "first": link(0), "last": link((total_pages - 1).max(0))});
        if page + 1 < total_pages {
            links["next"] = Value::from(link(page + 1));
        }
        if page > 0 {
            links["prev"] = Value::from(link(page - 1));
        }
        let meta = json!({
            "orgid": org, "page": page, "pageSize": size, "totalPages": total_pages,
            "totalRecords": all.len(), "links": links,
        });
        Ok((StatusCode::OK, json!({"meta": meta, "data": data})))
    })())
}

pub(super) async fn create_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site: Site = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let (status, site) = save_site(&shared, site, None)?;
        Ok((status, site_json(&site)))
    })())
}

pub(super) async fn get_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site = lock(&shared.sites).get(&id).cloned();
        site.map(|s| (StatusCode::OK, site_json(&s)))
            .ok_or((StatusCode::NOT_FOUND, format!("site {id} not found")))
    })())
}

pub(super) async fn update_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let site: Site = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let (status, site) = save_site(&shared, site, Some(&id))?;
        Ok((status, site_json(&site)))
    })())
}

pub(super) async fn delete_site(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    let tracking = tracking(&headers);
    match admit(&shared, &headers, &tracking).await {
        Err(response) => echo(response, &tracking),
        // Processed first, as every simulated call: a reset breaks the answer, not the call.
        Ok(admitted) => match org_matches(&shared, &org).and_then(|()| remove_site(&shared, &id)) {
            Ok(()) => admitted.respond(echo(StatusCode::NO_CONTENT.into_response(), &tracking)),
            Err((status, message)) => echo(error_body(status, &tracking, &message), &tracking),
        },
    }
}

pub(super) async fn bulk_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Bytes,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let bulk: BulkRequest = serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?;
        let results: Vec<Value> = bulk
            .items
            .into_iter()
            .map(|item| {
                let (operation, outcome) = match item.request_action {
                    BulkAction::Delete => {
                        let id = item.item.id.clone().unwrap_or_default();
                        ("DELETE", remove_site(&shared, &id).map(|()| (StatusCode::NO_CONTENT, id)))
                    }
                    _ => {
                        let update = item.item.id.clone();
                        let op = if update.is_some() { "UPDATE" } else { "CREATE" };
                        let saved = save_site(&shared, item.item, update.as_deref());
                        (op, saved.map(|(status, site)| (status, site.id.unwrap_or_default())))
                    }
                };
                match outcome {
                    Ok((status, id)) => json!({
                        "itemIdentifier": item.item_identifier, "status": status.as_u16(),
                        "operationType": operation, "href": format!("/organization/{org}/site/{id}"),
                    }),
                    Err((status, message)) => json!({
                        "itemIdentifier": item.item_identifier, "status": status.as_u16(),
                        "operationType": operation,
                        "apiError": {"trackingId": tracking, "error": {"key": status.as_u16().to_string(),
                            "message": [{"description": message}]}},
                    }),
                }
            })
            .collect();
        Ok((StatusCode::MULTI_STATUS, json!({"items": results})))
    })())
}

pub(super) async fn export_sites(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    api!(shared, headers, |tracking| (|| {
        org_matches(&shared, &org)?;
        let page = param_i64(&params, "page")?.unwrap_or(0).max(0);
        let size = param_i64(&params, "pageSize")?.unwrap_or(100).clamp(1, 100);
        let sites = lock(&shared.sites);
        let resources: Vec<Value> = sites
            .values()
            .skip((page * size) as usize)
            .take(size as usize)
            .map(|s| json!({"name": s.name, "multimediaProfileName": format!("Profile {}", s.multimedia_profile_id)}))
            .collect();
        let more = ((page + 1) * size) < sites.len() as i64;
        Ok((
            StatusCode::OK,
            json!({
                "totalResources": sites.len(), "pageNumber": page, "pageSize": size,
                "rel": if more { "next" } else { "last" }, "resources": resources,
            }),
        ))
    })())
}
