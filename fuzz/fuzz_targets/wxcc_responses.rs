//! Every Webex CC response model on the same bytes, and the sites CSV reader.
#![no_main]
use cc_core::de::parse_json;
use wxcc_api::model::*;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        let _ = parse_json::<TaskPage>(data);
        let _ = parse_json::<QueueStatisticsPage>(data);
        let _ = parse_json::<AgentStatisticsPage>(data);
        let _ = parse_json::<AgentActivityPage>(data);
        let _ = parse_json::<CaptureList>(data);
        let _ = parse_json::<Vec<Site>>(data).map(|sites| sites.iter().map(Site::validate).count());
        let _ = parse_json::<SitePage>(data).map(|page| page.meta.has_next());
        let _ = parse_json::<BulkResponse>(data).map(|r| r.items.iter().filter(|i| i.is_success()).count());
        let _ = parse_json::<BulkExport>(data);
        let _ = parse_json::<SearchResponse>(data).map(|r| r.errors.iter().map(ToString::to_string).count());
        let _ = parse_json::<ApiErrorBody>(data);
        let _ = parse_json::<cc_core::auth::Token>(data);
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = wxcc_api::csv::sites_bulk_request(text);
        }
    });
});
