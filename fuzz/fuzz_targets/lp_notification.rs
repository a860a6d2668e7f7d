//! LivePerson notifications: signature check over the raw bytes, parse, sequencer, events.
#![no_main]
use cc_core::Secret;
use lp_notifications::webhook::{LpHeaders, LpWebhook};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        let webhook = LpWebhook::new(
            "42257269",
            "81fad476-88af-4d08-bc0e-20bc69439ed4",
            Secret::from("secret".to_owned()),
        );
        let headers = LpHeaders {
            signature: Some("sha1=AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            account_id: Some("42257269"),
            client_id: Some("81fad476-88af-4d08-bc0e-20bc69439ed4"),
        };
        let _ = webhook.verify(&headers, data);
        if let Ok(notification) = lp_notifications::model::parse_notification(data) {
            let mut sequencer = lp_notifications::sequencer::Sequencer::default();
            for delivery in sequencer.push_notification(notification) {
                let _ = lp_notifications::channel::delivery_events(&delivery);
            }
        }
    });
});
