//! The crate's `cc_core::MessagingChannel` implementation and its `ConversationEvent` mapping.
