//! SimProt byte streams: fed to the decoder in two pieces (the first byte says where to cut),
//! every decoded message re-encoded and decoded again (it must come back equal).
#![no_main]
use icc_simprot::framing::{Decoder, Framing, LengthPrefixed};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cc_fuzz::on_worker_stack(data, |data| {
        let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
        let mut decoder = Decoder::new(LengthPrefixed::default());
        let mut messages = Vec::new();
        'pieces: for piece in [&data[..split], &data[split..]] {
            decoder.extend(piece);
            loop {
                match decoder.next_message() {
                    Ok(Some(message)) => messages.push(message),
                    Ok(None) => break,
                    // A broken stream closes the connection: nothing after it is read.
                    Err(_) => break 'pieces,
                }
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
});
