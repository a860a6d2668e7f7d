//! The inbound side: verify the raw request, parse, drop duplicates, hand over events.
