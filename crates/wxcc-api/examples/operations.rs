//! Generated operations, one per area, against the bundled simulator:
//! `cargo run -p wxcc-api --example operations --features full,sim`
//!
//! Every operation of the spec is a request type in `wxcc_api::api::<tag>`; `client.call(&op)`
//! sends it through the same executor as the hand-written calls and decodes the answer.

use std::sync::Arc;

use cc_core::auth::State;
use cc_core::http::Executor;
use futures_util::StreamExt as _;
use wxcc_api::api::address_book::{CreateAddressBookEntry, CreateAddressBookV3, ListAddressBookEntrys};
use wxcc_api::api::agents::StateChange;
use wxcc_api::api::contact_service_queue::CreateContactServiceQueue;
use wxcc_api::api::models::{
    AddressBookDto, AddressBookEntryDto, ContactServiceQueueDto, StateResourceRequest,
    TransferResourceRequest,
};
use wxcc_api::api::tasks::TransferTask;
use wxcc_api::auth::{FileTokenStore, Integration, Region};
use wxcc_api::sim::{SimConfig, Simulator, WxccSim};
use wxcc_api::{WxccClient, WxccConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = WxccSim::start(SimConfig::demo()).await?;
    let config = sim.config();
    let integration =
        Integration::new(&config.client_id, config.client_secret.clone(), "https://my-app.example/auth")
            .scopes(["cjp:config_read", "cjp:config_write", "cjp:user"])
            .oauth_base(sim.oauth_base());
    let state = State::generate()?;
    let redirect = sim.consent(&integration.authorize_url(&state))?;
    let plain = Executor::builder().build()?;
    let token = integration.complete(&plain, &redirect, &state).await?;
    let store = Arc::new(FileTokenStore::new(std::env::temp_dir().join("wxcc-operations-token.json")));
    let auth = integration.token_cache(plain, token, store).await?;
    let client = WxccClient::new(WxccConfig::new(Region::Custom(sim.base_url())), auth)?;

    // agents: an agent goes Available.
    let state = StateResourceRequest {
        state: "Available".into(),
        aux_code_id: "0".into(),
        agent_id: Some("1a80ba23-194b-49af-9b93-074b3ecc852a".into()),
        ..Default::default()
    };
    // Accepted (202): the new state arrives as an event, not in the answer.
    client.call(&StateChange::new(state)).await?;
    println!("agent state change accepted");

    // tasks: a blind transfer to a dial number.
    let transfer =
        TransferResourceRequest { to: "+14085550100".into(), destination_type: "dialNumber".into() };
    client.call(&TransferTask::new("315fbb91-2288-427c-9588-ec764cd46ea4", transfer)).await?;
    println!("transfer accepted");

    // config: a queue; the organization comes from the token.
    let queue = ContactServiceQueueDto { name: Some("Tier 2".into()), ..Default::default() };
    let created = client.call(&CreateContactServiceQueue::new(queue)).await?;
    println!("queue created: {:?} {:?}", created.id, created.name);

    // config: an address book, an entry, and the entries page by page.
    let book: AddressBookDto =
        serde_json::from_value(serde_json::json!({"name": "VIP", "parentType": "ORGANIZATION"}))?;
    let book = client.call(&CreateAddressBookV3::new(book)).await?;
    let book_id = book.id.unwrap_or_default();
    let entry = AddressBookEntryDto {
        name: "Front desk".into(),
        number: "+14085550111".into(),
        ..Default::default()
    };
    client.call(&CreateAddressBookEntry::new(&book_id, entry)).await?;
    let mut entries = std::pin::pin!(client.pages(ListAddressBookEntrys::new(&book_id)));
    while let Some(entry) = entries.next().await {
        let entry = entry?;
        println!("address book entry: {} {}", entry.name, entry.number);
    }
    Ok(())
}
