//! Alvaria callbacks (the JWT is checked on the header, not the body: the body parse is the
//! decoder), then the neutral event.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        if let Ok(callback) = alvaria_servermsg::model::Callback::parse(data) {
            let _ = alvaria_servermsg::channel::conversation_event(&callback);
        }
    });
});
