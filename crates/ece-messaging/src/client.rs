//! The outbound client (feature `client`): typed calls run through cc-core's executor.
