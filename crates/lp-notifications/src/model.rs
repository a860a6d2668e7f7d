//! Wire types: every payload of the contract as Rust types, lenient where the vendor varies.
