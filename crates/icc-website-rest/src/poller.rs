//! The inbound side: polling the visitor API and turning successive states into events.
