//! The inbound/outbound TCP connection: framing, reconnect, resynchronisation.
