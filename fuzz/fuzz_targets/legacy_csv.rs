//! Legacy CSV results fed in two pieces, records as JSON, and CAR ids.
#![no_main]
use wxcc_legacy::csv::CsvDecoder;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
        let mut decoder = CsvDecoder::new();
        if decoder.feed(&data[..split]).is_ok() && decoder.feed(&data[split..]).is_ok() {
            let _ = decoder.finish();
        }
        let _ = CsvDecoder::decode_all(data);
        let _ = cc_core::de::parse_json::<wxcc_legacy::model::Record>(data);
        if let Ok(text) = std::str::from_utf8(data) {
            for line in text.lines() {
                if let Ok(id) = line.parse::<wxcc_legacy::model::CarId>() {
                    let again: wxcc_legacy::model::CarId = id.to_string().parse().expect("a CAR id we print parses");
                    assert_eq!(again, id);
                }
            }
        }
    });
});
