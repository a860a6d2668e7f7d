//! The clients against the simulator over real loopback sockets: the external app alone
//! (`external`), and an external app and an agent client chatting through it (`agent`).
#![cfg(feature = "sim")]

use std::time::Duration;

use icc_simprot::client::SimProtEvent;
use tokio::sync::mpsc::Receiver;

mod agent;
mod external;

/// The next event, within 5 s.
async fn next(events: &mut Receiver<SimProtEvent>) -> SimProtEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("open")
}
