//! `cckit sim`: one simulator standalone, for integrations written in any language.

use std::net::SocketAddr;
use std::time::Duration;

use cc_core::Secret;
use cc_core::sim::{Fault, Simulator};

use crate::Failure;

/// Reads `--faults`: `STATUS[:RETRY_AFTER]`, `reset`, `delay:MS`, comma separated.
fn parse_faults(spec: &str) -> Result<Vec<Fault>, Failure> {
    let bad = |item: &str, why: &str| Failure::usage(format!("--faults: `{item}` {why}"));
    spec.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            if item == "reset" {
                return Ok(Fault::Reset);
            }
            if let Some(ms) = item.strip_prefix("delay:") {
                let ms = ms.parse::<u64>().map_err(|_| bad(item, "needs milliseconds"))?;
                return Ok(Fault::Delay(Duration::from_millis(ms)));
            }
            let (status, retry_after) = match item.split_once(':') {
                Some((status, after)) => {
                    (status, Some(after.parse::<u64>().map_err(|_| bad(item, "needs Retry-After seconds"))?))
                }
                None => (item, None),
            };
            match status.parse::<u16>() {
                Ok(status) if (400..=599).contains(&status) => Ok(Fault::Status { status, retry_after }),
                _ => Err(bad(item, "is not a 4xx/5xx status, `reset` or `delay:MS`")),
            }
        })
        .collect()
}

/// Starts an HTTP simulator on `addr` with `faults` queued: the one way every HTTP simulator
/// is started here.
async fn start<S: Simulator>(config: S::Config, addr: SocketAddr, faults: &[Fault]) -> Result<S, Failure> {
    let sim = S::start_on(config, addr)
        .await
        .map_err(|e| Failure::failed(format!("could not start the simulator on {addr}: {e}")))?;
    for fault in faults {
        sim.inject(fault.clone());
    }
    Ok(sim)
}

/// Starts `vendor`'s simulator and waits for Ctrl-C.
pub async fn run(
    vendor: &str,
    port: Option<u16>,
    webhook: Option<String>,
    faults: Option<&str>,
) -> Result<(), Failure> {
    let faults = parse_faults(faults.unwrap_or_default())?;
    if !faults.is_empty() && vendor == "icc-simprot" {
        return Err(Failure::usage(
            "--faults applies to the HTTP simulators (ece, alvaria, icc-website, lp, wxcc, wxcc-legacy), not icc-simprot",
        ));
    }
    let shown = |faults: &[Fault]| {
        if faults.is_empty() {
            String::new()
        } else {
            format!("  faults:        {faults:?} for the next API calls")
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)));
    let io = |e: std::io::Error| Failure::failed(format!("could not start the simulator on {addr}: {e}"));
    // Keep the simulator alive until interrupted.
    let _running: Box<dyn std::any::Any> = match vendor {
        "ece" => {
            let mut config = ece_messaging::sim::SimConfig::new(
                "ABCD",
                Secret::from("01234"),
                "hook",
                Secret::from("hook-pass"),
            );
            config.callback_url = webhook.clone();
            let sim: ece_messaging::sim::EceSim = start(config, addr, &faults).await?;
            println!("ECE simulator at {}", sim.base_url());
            println!("  API root:      {}{}", sim.base_url(), ece_messaging::client::API_PATH);
            println!("  login:         Basic ABCD:01234 (client key:secret), entry point 1001");
            println!(
                "  sessions:      at most 10 live tokens, as ECE: log out (revoke) or log in with forceLogin=yes"
            );
            println!(
                "  callbacks to:  {} with Basic hook:hook-pass",
                webhook.as_deref().unwrap_or("(none: pass --webhook URL)")
            );
            Box::new(sim)
        }
        "alvaria" => {
            let mut config = alvaria_servermsg::sim::SimConfig::new(
                "acme",
                Secret::from("key"),
                "client",
                Secret::from("secret"),
            );
            config.callback_url = webhook.clone();
            let sim: alvaria_servermsg::sim::AlvariaSim = start(config, addr, &faults).await?;
            println!("Alvaria simulator at {}", sim.base_url());
            println!(
                "  token:         POST {} (Basic client:secret, scope=servermessagingapi, realm=acme)",
                sim.token_url()
            );
            println!(
                "  API root:      {}/via/v2/organizations/acme/serverMessaging (x-api-key: key)",
                sim.base_url()
            );
            println!(
                "  callbacks to:  {} signed RS256; public key: cckit trigger alvaria --print-public-key",
                webhook.as_deref().unwrap_or("(none: pass --webhook URL)")
            );
            Box::new(sim)
        }
        "icc-website" => {
            if webhook.is_some() {
                return Err(Failure::usage("the WebSite API is polled: --webhook does not apply"));
            }
            let sim: icc_website_rest::sim::WebSiteSim =
                start(icc_website_rest::sim::SimConfig::default(), addr, &faults).await?;
            println!("Atlantis iCC WebSite simulator at {}", sim.base_url());
            println!(
                "  routing:       GET {}/api/Routing/WebChat (WebForm free, WebCback busy, WebClick blocked)",
                sim.base_url()
            );
            println!(
                "  agent image:   GET {}/api/AgentImage/{{agentId}}; tracking cookie set on first call",
                sim.base_url()
            );
            Box::new(sim)
        }
        "icc-simprot" => {
            if webhook.is_some() {
                return Err(Failure::usage("SimProt is one TCP connection: --webhook does not apply"));
            }
            let sim = icc_simprot::sim::SimProtSim::start_on(icc_simprot::sim::SimConfig::default(), addr)
                .await
                .map_err(io)?;
            println!("Atlantis iCC SimProt simulator at tcp://{}", sim.addr());
            println!(
                "  framing:       u32 big-endian length + MessagePack [name, payload] (docs/simprot-framing.md)"
            );
            println!(
                "  answers:       ES_CHAT_* (agent \"Sim Agent\" answers and replies), ES_MESSAGE_RECEIVING"
            );
            Box::new(sim)
        }
        "wxcc" => {
            if webhook.is_some() {
                return Err(Failure::usage(
                    "Webex CC delivers events to each subscription's destinationUrl (POST /v1/subscriptions): --webhook does not apply",
                ));
            }
            let sim: wxcc_api::sim::WxccSim = start(wxcc_api::sim::SimConfig::demo(), addr, &faults).await?;
            let config = sim.config();
            println!("Webex Contact Center simulator at {}", sim.base_url());
            println!(
                "  API root:      {}  (/v1/tasks, /v1/queues/statistics, /v1/captures/query, /organization/{{orgid}}/site, /search…)",
                sim.base_url()
            );
            println!(
                "  OAuth:         {}/authorize and {}/access_token (refresh tokens rotate)",
                sim.oauth_base(),
                sim.oauth_base()
            );
            println!(
                "  client:        id {} secret {} (form fields), org {}",
                config.client_id,
                config.client_secret.expose_secret(),
                config.org_id
            );
            println!(
                "  events:        subscriptions (POST /v1/subscriptions, /v2/subscriptions) with secrets; `cckit trigger wxcc` signs one"
            );
            println!(
                "  sockets:       POST /v1/notification/subscribe or /v1/realtime/subscribe → {}/v1/…/subscription/<id> (Welcome, keepalives)",
                sim.socket_base()
            );
            println!(
                "  limit:         {} requests per {} s, then 429 with Retry-After",
                config.rate_limit,
                config.rate_window.as_secs()
            );
            Box::new(sim)
        }
        "wxcc-legacy" => {
            if webhook.is_some() {
                return Err(Failure::usage(
                    "the legacy reporting API has no callbacks: --webhook does not apply",
                ));
            }
            let config = wxcc_legacy::sim::SimConfig::new(
                Secret::from("myRandomApiKeY"),
                "userID@portal-controlhub.com",
                "387",
            );
            let sim: wxcc_legacy::sim::LegacySim = start(config, addr, &faults).await?;
            println!("Webex CC legacy reporting simulator at {}", sim.base_url());
            println!("  Authorization: yDkJq/aXwm9YYs2xgyWRqRnqgfQ=; tenantId=387");
            println!("  From:          userID@portal-controlhub.com   (API key myRandomApiKeY)");
            println!(
                "  try:           GET {}/aws/api/csrs/{}",
                sim.base_url(),
                sim.csrs()[0].sid().unwrap_or_default()
            );
            Box::new(sim)
        }
        "lp" => {
            let mut config = lp_connector::sim::SimConfig::new(
                "42257269",
                "81fad476-88af-4d08-bc0e-20bc69439ed4",
                Secret::from("rl9hacst6kqilbofup64n11ga3"),
            );
            config.webhook_url = webhook.clone();
            let sim: lp_connector::sim::LpSim = start(config, addr, &faults).await?;
            println!("LivePerson simulator at {}", sim.base_url());
            println!("  account:       42257269 (CSDS at {0}; every service answers at {0})", sim.base_url());
            println!(
                "  app:           client id 81fad476-88af-4d08-bc0e-20bc69439ed4, secret rl9hacst6kqilbofup64n11ga3"
            );
            println!(
                "  notifications: {} signed with the app secret (cckit listen lp --secret rl9hacst6kqilbofup64n11ga3 --account-id 42257269 --client-id 81fad476-88af-4d08-bc0e-20bc69439ed4)",
                webhook.as_deref().unwrap_or("(none: pass --webhook URL)")
            );
            Box::new(sim)
        }
        other => {
            return Err(Failure::usage(format!(
                "no simulator for `{other}`: one of ece, alvaria, icc-website, icc-simprot, lp, wxcc, wxcc-legacy"
            )));
        }
    };
    let note = shown(&faults);
    if !note.is_empty() {
        println!("{note}");
    }
    println!("running; Ctrl-C to stop");
    tokio::signal::ctrl_c().await.map_err(|e| Failure::failed(format!("waiting for Ctrl-C: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_in_order_and_bad_ones_are_usage_errors() {
        let faults = parse_faults("429:2, 503,reset,delay:150").unwrap_or_else(|f| panic!("{}", f.message));
        assert_eq!(
            faults,
            [
                Fault::Status { status: 429, retry_after: Some(2) },
                Fault::Status { status: 503, retry_after: None },
                Fault::Reset,
                Fault::Delay(Duration::from_millis(150)),
            ]
        );
        for bad in ["200", "abc", "429:x", "delay:soon"] {
            assert!(parse_faults(bad).is_err(), "{bad}");
        }
        assert!(parse_faults("").unwrap_or_default().is_empty());
    }
}
