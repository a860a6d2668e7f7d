//! iCC WebSite routing answers, then the chat diff over the running chat.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        if let Ok(Some(routing)) =
            cc_core::de::parse_json::<Option<icc_website_rest::model::RoutingModel>>(data)
            && let Some(chat) = routing.chat_running.as_ref()
        {
            let mut diff = icc_website_rest::diff::ChatDiff::new();
            let _ = diff.apply(chat);
            let _ = diff.apply(chat);
        }
    });
});
