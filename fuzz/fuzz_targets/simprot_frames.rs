//! SimProt byte streams: frames fed in two pieces, every decoded message re-encoded and
//! decoded again (it must come back equal).
#![no_main]
use icc_simprot::framing::{Decoder, Framing, LengthPrefixed};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut decoder = Decoder::new(LengthPrefixed::default());
    decoder.extend(&data[..split]);
    let mut messages = Vec::new();
    loop {
        match decoder.next_message() {
            Ok(Some(message)) => messages.push(message),
            Ok(None) if split < data.len() && messages.len() < usize::MAX => {
                decoder.extend(&data[split..]);
                // Only extend once.
                while let Ok(Some(message)) = decoder.next_message() {
                    messages.push(message);
                }
                break;
            }
            _ => break,
        }
    }
    let _ = decoder.finish();
    let framing = LengthPrefixed::default();
    for message in &messages {
        let mut frame = Vec::new();
        if framing.encode(message, &mut frame).is_ok() {
            let again = framing.decode(&frame).expect("a frame we encoded decodes");
            assert_eq!(&again, message, "re-encoding changed the message");
        }
    }
});
