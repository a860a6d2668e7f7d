//! ECE callbacks as XML, then the neutral events.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        if let Ok(batch) = ece_messaging::webhook::parse_callback(Some("application/xml"), data) {
            for message in &batch.message {
                let _ = ece_messaging::channel::conversation_event(message);
            }
        }
    });
});
