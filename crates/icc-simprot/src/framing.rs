//! How messages travel on the TCP stream.
//!
//! **Assumption, not vendor fact.** The seed gives the message names and payload types and says
//! the transport is TCP with MessagePack, but not the framing, how the name travels, the
//! handshake or keep-alive. This module makes one explicit choice, [`LengthPrefixed`], behind
//! the [`Framing`] trait so a framing checked against a capture of the real ProServer can
//! replace it without touching the model or the catalogue. See `docs/simprot-framing.md`.
//!
//! [`LengthPrefixed`]: a 4-byte big-endian length, then that many bytes holding a MessagePack
//! array `[name, payload]`: the message name as a string and the payload as MessagePack with
//! PascalCase map keys (as in JSON). Frames above a maximum size are rejected from their header,
//! before any allocation.

use crate::catalogue::{Message, MessageName, Payload, PayloadError};

/// The default maximum frame size: 4 MiB (a message with a large HTML body fits; a corrupt
/// header read as a length does not make us allocate gigabytes).
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// A framing: how a [`Message`] becomes bytes and back.
pub trait Framing {
    /// Appends the frame of `message` to `out`.
    fn encode(&self, message: &Message, out: &mut Vec<u8>) -> Result<(), FrameError>;

    /// The length of the frame starting `buf`, header included, or `Ok(None)` while too few
    /// bytes have arrived to tell. Errors when the frame would exceed the maximum size.
    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, FrameError>;

    /// Decodes one whole frame (exactly [`Framing::frame_len`] bytes).
    fn decode(&self, frame: &[u8]) -> Result<Message, FrameError>;
}

/// What is wrong with a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The header announces a frame above the maximum.
    #[error("frame of {length} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// The announced length.
        length: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame: {have} of {need} bytes")]
    Truncated {
        /// Bytes received.
        have: usize,
        /// Bytes the frame needs (header included).
        need: usize,
    },
    /// The frame body is not a MessagePack `[name, payload]` array.
    #[error("frame is not a MessagePack [name, payload] array: {0}")]
    Envelope(String),
    /// The payload does not match the message's type.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The message could not be encoded.
    #[error("cannot encode {name}: {reason}")]
    Encode {
        /// The message name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// 4-byte big-endian length + MessagePack `[name, payload]` (the assumption described above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthPrefixed {
    /// The largest frame body accepted or sent, in bytes.
    pub max_frame: usize,
}

impl Default for LengthPrefixed {
    fn default() -> Self {
        Self { max_frame: DEFAULT_MAX_FRAME }
    }
}

const HEADER: usize = 4;

impl Framing for LengthPrefixed {
    fn encode(&self, message: &Message, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let encode_error = |reason: String| FrameError::Encode { name: message.name.to_string(), reason };
        // Straight into `out` behind a placeholder header, patched once the length is known:
        // no second buffer and no copy. On any error `out` is left as it was.
        let start = out.len();
        out.extend_from_slice(&[0; HEADER]);
        let written = rmp_serde::encode::write_named(out, &(message.name.as_str(), &message.payload))
            .map_err(|e| encode_error(e.to_string()))
            .and_then(|()| {
                let length = out.len() - start - HEADER;
                if length > self.max_frame {
                    return Err(FrameError::TooLarge { length, max: self.max_frame });
                }
                u32::try_from(length).map_err(|_| encode_error("longer than 4 GiB".into()))
            });
        match written {
            Ok(length) => {
                out[start..start + HEADER].copy_from_slice(&length.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let Some(header) = buf.first_chunk::<HEADER>() else { return Ok(None) };
        let length = u32::from_be_bytes(*header) as usize;
        if length > self.max_frame {
            return Err(FrameError::TooLarge { length, max: self.max_frame });
        }
        Ok(Some(HEADER + length))
    }

    fn decode(&self, frame: &[u8]) -> Result<Message, FrameError> {
        let mut rest = frame.get(HEADER..).unwrap_or_default();
        let name = MessageName::parse(envelope_name(&mut rest).map_err(FrameError::Envelope)?);
        let payload = Payload::from_msgpack(&name, rest)?;
        Ok(Message { name, payload })
    }
}

/// Reads the array header and the name of `[name, payload]`, leaving `rest` at the payload.
fn envelope_name<'a>(rest: &mut &'a [u8]) -> Result<&'a str, String> {
    let len = rmp::decode::read_array_len(rest).map_err(|e| format!("expected a 2-element array: {e}"))?;
    if len != 2 {
        return Err(format!("expected a 2-element array, found {len} elements"));
    }
    let name_len =
        rmp::decode::read_str_len(rest).map_err(|e| format!("expected the message name: {e}"))? as usize;
    let Some(name) = rest.get(..name_len) else { return Err("the message name is cut short".into()) };
    let name = std::str::from_utf8(name).map_err(|_| "the message name is not UTF-8".to_string())?;
    *rest = &rest[name_len..];
    Ok(name)
}

/// Turns a byte stream into messages: feed it what the socket gives with [`Decoder::extend`],
/// take messages with [`Decoder::next_message`], and call [`Decoder::finish`] at end of stream.
#[derive(Debug)]
pub struct Decoder<F: Framing = LengthPrefixed> {
    framing: F,
    buf: Vec<u8>,
}

impl Default for Decoder<LengthPrefixed> {
    fn default() -> Self {
        Self::new(LengthPrefixed::default())
    }
}

impl<F: Framing> Decoder<F> {
    /// A decoder using `framing`.
    pub fn new(framing: F) -> Self {
        Self { framing, buf: Vec::new() }
    }

    /// The framing, to encode what is sent on the same stream.
    pub fn framing(&self) -> &F {
        &self.framing
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `Ok(None)` until more bytes arrive. A frame that fails to decode
    /// is consumed (the error says why, the next frame decodes); a frame that is too large
    /// leaves the stream unusable, as where the next frame starts is unknown.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        let Some(len) = self.framing.frame_len(&self.buf)? else { return Ok(None) };
        if self.buf.len() < len {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..len).collect();
        self.framing.decode(&frame).map(Some)
    }

    /// Checks the stream ended between frames.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let need = self.framing.frame_len(&self.buf)?.unwrap_or(self.buf.len() + 1);
        Err(FrameError::Truncated { have: self.buf.len(), need })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChatCommandInfo;

    fn typing() -> Message {
        let info = ChatCommandInfo {
            chat_id: crate::model::Guid::parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"),
            is_typing: Some(true),
            ..Default::default()
        };
        Message { name: MessageName::EsChatTyping, payload: Payload::ChatCommandInfo(Box::new(info)) }
    }

    fn frame(message: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        LengthPrefixed::default().encode(message, &mut out).unwrap();
        out
    }

    #[test]
    fn frames_round_trip_byte_by_byte() {
        let bytes = [frame(&typing()), frame(&typing())].concat();
        let mut decoder = Decoder::default();
        let mut got = Vec::new();
        for b in &bytes {
            decoder.extend(std::slice::from_ref(b));
            while let Some(m) = decoder.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, vec![typing(), typing()]);
        decoder.finish().unwrap();
    }

    #[test]
    fn oversize_header_is_rejected_before_reading_the_body() {
        let mut decoder = Decoder::new(LengthPrefixed { max_frame: 16 });
        decoder.extend(&[0, 0, 0, 17]);
        let err = decoder.next_message().unwrap_err();
        assert_eq!(err.to_string(), "frame of 17 bytes exceeds the maximum of 16 bytes");
        // A refused frame leaves what the buffer held before untouched.
        let mut out = b"earlier frames".to_vec();
        let sent = LengthPrefixed { max_frame: 16 }.encode(&typing(), &mut out).unwrap_err();
        assert!(matches!(sent, FrameError::TooLarge { max: 16, .. }), "{sent}");
        assert_eq!(out, b"earlier frames");
    }

    /// `[name, [[[…nil…]]]]` with `depth` nested arrays in the payload.
    fn nested(name: &str, depth: usize) -> Vec<u8> {
        let mut body = vec![0x92];
        rmp::encode::write_str(&mut body, name).unwrap();
        body.extend(std::iter::repeat_n(0x91, depth));
        body.push(0xc0);
        [(body.len() as u32).to_be_bytes().to_vec(), body].concat()
    }

    #[test]
    fn hostile_nesting_is_refused_on_a_2_mib_task() {
        // Tokio's worker threads have 2 MiB stacks: the depth limit must hold there, in a
        // debug build, not only on the 8 MiB main thread.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_stack_size(2 * 1024 * 1024)
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::spawn(async {
                let mut decoder = Decoder::default();
                for name in ["XX_UNKNOWN", "ES_CHAT_TYPING"] {
                    decoder.extend(&nested(name, 700));
                    let err = decoder.next_message().unwrap_err();
                    let limit = crate::catalogue::MAX_PAYLOAD_DEPTH;
                    assert!(err.to_string().contains(&format!("nested deeper than {limit}")), "{err}");
                }
                decoder.extend(&nested("XX_UNKNOWN", crate::catalogue::MAX_PAYLOAD_DEPTH - 1));
                assert!(decoder.next_message().unwrap().is_some(), "within the limit it decodes");
                decoder.extend(&frame(&typing()));
                assert_eq!(decoder.next_message().unwrap(), Some(typing()), "the stream goes on");
            })
            .await
            .unwrap();
        });
    }

    #[test]
    fn truncated_stream_is_reported_at_the_end() {
        let bytes = frame(&typing());
        let mut decoder = Decoder::default();
        decoder.extend(&bytes[..bytes.len() - 1]);
        assert!(decoder.next_message().unwrap().is_none());
        let err = decoder.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("stream ended inside a frame: {} of {} bytes", bytes.len() - 1, bytes.len())
        );
    }

    #[test]
    fn garbage_and_bad_payloads_name_the_problem_and_the_next_frame_still_decodes() {
        let mut decoder = Decoder::default();
        decoder.extend(&[0, 0, 0, 2, 0xc1, 0xc1]); // 0xc1 is never used in MessagePack
        decoder.extend(&frame(&typing()));
        let err = decoder.next_message().unwrap_err();
        assert!(err.to_string().starts_with("frame is not a MessagePack [name, payload] array"), "{err}");
        assert_eq!(decoder.next_message().unwrap(), Some(typing()));

        let body = rmp_serde::to_vec_named(&("ES_CHAT_TYPING", serde_json::json!({"ChatId": "not-a-guid"})))
            .unwrap();
        decoder.extend(&(body.len() as u32).to_be_bytes());
        decoder.extend(&body);
        let err = decoder.next_message().unwrap_err();
        assert!(err.to_string().starts_with("ES_CHAT_TYPING payload: at `ChatId`"), "{err}");
        decoder.finish().unwrap();
    }

    #[test]
    fn envelopes_other_than_name_and_one_payload_are_refused() {
        let framing = LengthPrefixed::default();
        let framed = |body: Vec<u8>| [(body.len() as u32).to_be_bytes().to_vec(), body].concat();
        let three = framed(rmp_serde::to_vec(&("ES_WS_ROUTING", "gw", 1)).unwrap());
        let err = framing.decode(&three).unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame is not a MessagePack [name, payload] array: expected a 2-element array, found 3 elements"
        );
        let mut body = rmp_serde::to_vec(&("ES_WS_ROUTING", "gw")).unwrap();
        body.push(0xc0);
        let err = framing.decode(&framed(body)).unwrap_err();
        assert_eq!(err.to_string(), "ES_WS_ROUTING payload: 1 bytes after the payload");
        let number_name = framed(rmp_serde::to_vec(&(7, "gw")).unwrap());
        let err = framing.decode(&number_name).unwrap_err();
        assert!(err.to_string().contains("expected the message name"), "{err}");
    }

    #[test]
    fn unknown_names_are_kept_with_their_payload() {
        let body = rmp_serde::to_vec_named(&("XX_NEW_THING", serde_json::json!({"A": [1, 2]}))).unwrap();
        let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let framing = LengthPrefixed::default();
        assert_eq!(framing.frame_len(&bytes).unwrap(), Some(bytes.len()));
        let message = framing.decode(&bytes).unwrap();
        assert_eq!(message.name, MessageName::parse("XX_NEW_THING"));
        assert_eq!(message.payload, Payload::Unknown(serde_json::json!({"A": [1, 2]})));
        assert_eq!(frame(&message), bytes);
    }
}
