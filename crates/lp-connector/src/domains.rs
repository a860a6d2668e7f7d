//! Domain discovery (CSDS): which host serves each LivePerson service for an account, cached.
//!
//! `GET {csds}/api/account/{account}/service/baseURI.json?version=1.0` answers every service's
//! domain at once. LivePerson documents no lifetime for the answer; this cache keeps it for
//! [`DomainCache::new`]'s `ttl` (the client's default is 30 minutes, as public connectors
//! use — our choice) and, when a refresh fails, keeps serving the domains it has rather than
//! failing calls that would have worked (the failure is logged; the next call tries again).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cc_core::http::{Executor, Request};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Error;
use crate::model::BaseUris;

/// The domains of one account's services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domains {
    account: String,
    services: BTreeMap<String, String>,
}

impl Domains {
    /// From CSDS's answer. An answer that lists no service means CSDS does not know the
    /// account.
    pub fn from_base_uris(account: &str, answer: BaseUris) -> Result<Self, Error> {
        let services: BTreeMap<String, String> = answer
            .base_uris
            .into_iter()
            .filter(|b| !b.base_uri.trim().is_empty())
            .map(|b| (b.service, b.base_uri.trim().trim_end_matches('/').to_owned()))
            .collect();
        if services.is_empty() {
            return Err(Error::UnknownAccount { account: account.to_owned(), status: None });
        }
        Ok(Self { account: account.to_owned(), services })
    }

    /// The domain of `service` as CSDS gave it (`va.msg.liveperson.net`).
    pub fn domain(&self, service: &str) -> Result<&str, Error> {
        self.services.get(service).map(String::as_str).ok_or_else(|| Error::MissingService {
            account: self.account.clone(),
            service: service.to_owned(),
        })
    }

    /// `https://{domain}` of `service`. A domain that already carries a scheme is used as it
    /// is (the simulator's are `http://127.0.0.1:…`).
    pub fn url(&self, service: &str) -> Result<String, Error> {
        let domain = self.domain(service)?;
        Ok(if domain.starts_with("https://") || domain.starts_with("http://") {
            domain.to_owned()
        } else {
            format!("https://{domain}")
        })
    }

    /// Every service and its domain.
    pub fn services(&self) -> &BTreeMap<String, String> {
        &self.services
    }
}

/// One account's domains, fetched on first use and again after `ttl`; one fetch at a time.
#[derive(Debug)]
pub struct DomainCache {
    url: String,
    account: String,
    ttl: Duration,
    http: Executor,
    current: Mutex<Option<(Instant, Arc<Domains>)>>,
}

impl DomainCache {
    /// A cache for `account` asking CSDS at `csds` (`https://api.liveperson.net`).
    pub fn new(csds: &str, account: &str, ttl: Duration, http: Executor) -> Self {
        Self {
            url: format!("{}/api/account/{}/service/baseURI.json", csds.trim_end_matches('/'), account),
            account: account.to_owned(),
            ttl,
            http,
            current: Mutex::new(None),
        }
    }

    /// The domains: cached while younger than the TTL, else asked again. A failed refresh
    /// serves the domains already held; with none, the error is returned.
    pub async fn get(&self) -> Result<Arc<Domains>, Error> {
        let mut current = self.current.lock().await;
        if let Some((fetched, domains)) = current.as_ref()
            && fetched.elapsed() < self.ttl
        {
            return Ok(domains.clone());
        }
        match self.fetch().await {
            Ok(domains) => {
                let domains = Arc::new(domains);
                *current = Some((Instant::now(), domains.clone()));
                Ok(domains)
            }
            Err(error) => match current.as_ref() {
                Some((_, stale)) => {
                    tracing::warn!(%error, "domain discovery failed; keeping the domains held");
                    Ok(stale.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn fetch(&self) -> Result<Domains, Error> {
        let request = Request::get(self.url.as_str()).operation("lp.csds").query("version", "1.0");
        match self.http.send_json::<BaseUris>(&request).await {
            Ok(answer) => Domains::from_base_uris(&self.account, answer),
            // LivePerson: 400 for bad parameters, 401 "invalid site"; 404 for an account that
            // does not exist.
            Err(e) if matches!(e.status(), Some(400 | 401 | 403 | 404)) => {
                Err(Error::UnknownAccount { account: self.account.clone(), status: e.status() })
            }
            Err(e) => Err(e.into()),
        }
    }
}
