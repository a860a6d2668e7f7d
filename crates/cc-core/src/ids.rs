//! Typed ids: a newtype per kind of id, so a session id cannot be passed as a conversation id.
//!
//! [`id_type!`](crate::id_type) declares one. Ids are strings on the wire; a vendor that sends
//! a numeric id as a JSON number is accepted too, and the id keeps its decimal text.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// Declares a string id newtype with `Display`, `FromStr`, `AsRef<str>`, conversions and
/// serde (transparent string; integers accepted when parsing).
///
/// ```
/// cc_core::id_type! {
///     /// An order id.
///     pub struct OrderId;
/// }
/// let id: OrderId = serde_json::from_str("42").unwrap();
/// assert_eq!(id.as_str(), "42");
/// assert_eq!(serde_json::to_string(&id).unwrap(), r#""42""#);
/// ```
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis struct $name(::std::string::String);

        impl $name {
            /// Wraps an id.
            pub fn new(id: impl ::std::convert::Into<::std::string::String>) -> Self {
                Self(id.into())
            }
            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Unwraps the id.
            pub fn into_string(self) -> ::std::string::String {
                self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self(s.to_owned()))
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(id: ::std::string::String) -> Self {
                Self(id)
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                $crate::ids::deserialize_id(deserializer).map(Self)
            }
        }
    };
}

/// Deserializes an id from a JSON string or integer. Used by [`id_type!`](crate::id_type).
#[doc(hidden)]
pub fn deserialize_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct IdVisitor;
    impl Visitor<'_> for IdVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id (string or integer)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(IdVisitor)
}

id_type! {
    /// A conversation as the vendor names it (ECE conversation uuid, Alvaria session id,
    /// LivePerson conversation id, iCC chat GUID).
    pub struct ConversationId;
}

id_type! {
    /// A message as the vendor names it.
    pub struct MessageId;
}

id_type! {
    /// A participant (agent, customer, bot) as the vendor names it.
    pub struct ParticipantId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_accept_integers() {
        let id: ConversationId = serde_json::from_str(r#""5d1e""#).unwrap();
        assert_eq!(id, ConversationId::from("5d1e"));
        assert_eq!(format!("{id:?}"), r#"ConversationId("5d1e")"#);
        assert_eq!(id.to_string(), "5d1e");
        let n: MessageId = serde_json::from_str("1234567890123").unwrap();
        assert_eq!(n.as_str(), "1234567890123");
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""1234567890123""#);
        for bad in ["null", "1.5", "true", "{}"] {
            let err = serde_json::from_str::<MessageId>(bad).unwrap_err();
            assert!(err.to_string().contains("an id"), "{bad}: {err}");
        }
    }
}
