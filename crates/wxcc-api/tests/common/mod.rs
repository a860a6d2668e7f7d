//! Helpers the Webex CC suites share: an authorized client against a running simulator.
#![allow(dead_code)] // each suite uses part of it

use std::sync::Arc;
use std::time::Duration;

use cc_core::auth::{State, TokenCache};
use cc_core::http::{Executor, RetryPolicy};
use wxcc_api::auth::{FileTokenStore, Integration, Region};
use wxcc_api::sim::{SimConfig, Simulator, WxccSim};
use wxcc_api::{WxccClient, WxccConfig};

pub const REDIRECT: &str = "https://app.example/auth";

pub fn plain_executor() -> Executor {
    Executor::builder().build().unwrap()
}

pub fn integration(sim: &WxccSim) -> Integration {
    let config = sim.config();
    Integration::new(&config.client_id, config.client_secret.clone(), REDIRECT)
        .scopes(["cjp:config_read", "cjp:config_write"])
        .oauth_base(sim.oauth_base())
}

pub fn temp_store(name: &str) -> Arc<FileTokenStore> {
    let dir = std::env::temp_dir().join(format!("wxcc-flow-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("token.json"));
    Arc::new(FileTokenStore::new(dir.join("token.json")))
}

/// The whole integration flow: authorize URL, consent, state check, code exchange.
pub async fn authorized(sim: &WxccSim, store: Arc<FileTokenStore>) -> Arc<TokenCache> {
    let integration = integration(sim);
    let state = State::generate().unwrap();
    let url = integration.authorize_url(&state);
    let redirect = sim.consent(&url).unwrap();
    let token = integration.complete(&plain_executor(), &redirect, &state).await.unwrap();
    integration.token_cache(plain_executor(), token, store).await.unwrap()
}

pub fn client_config(sim: &WxccSim) -> WxccConfig {
    let mut config = WxccConfig::new(Region::Custom(sim.base_url()));
    config.retry = RetryPolicy { base_delay: Duration::from_millis(5), ..RetryPolicy::default() };
    config
}

/// A simulator and an authorized client. The rate limit is lifted on both sides: the suites
/// that use this page through hundreds of calls; rate limiting has its own tests below.
pub async fn setup(mut config: SimConfig) -> (WxccSim, WxccClient) {
    config.rate_limit = 1_000_000;
    let sim = WxccSim::start(config).await.unwrap();
    let auth = authorized(&sim, temp_store(&format!("{}", fastrand::u64(..)))).await;
    let mut client_config = client_config(&sim);
    client_config.rate_limit = 1_000_000;
    let client = WxccClient::new(client_config, auth).unwrap();
    (sim, client)
}
