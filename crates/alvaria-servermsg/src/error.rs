//! The crate's error type: vendor status, code and message, never a secret.
