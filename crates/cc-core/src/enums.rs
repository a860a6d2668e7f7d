//! Open wire enums: known variants plus `Unknown(String)`, so a new vendor value never fails
//! a whole payload.
//!
//! [`open_enum!`](crate::open_enum) declares one. Parsing is infallible; `as_str()` gives the
//! wire spelling back (the original text for unknown values); serde reads and writes strings.
//! Known values may list aliases (`Resync = "CS_CHAT_RESYNC" | "CS_CHAT_RESNYC"`): an alias
//! parses to the variant, which serializes with its first spelling.

/// Declares an open string enum. See the [module docs](crate::enums).
///
/// ```
/// cc_core::open_enum! {
///     /// Chat state.
///     pub enum ChatState {
///         /// Typing.
///         Composing = "COMPOSING",
///         /// Stopped typing.
///         Pause = "PAUSE" | "PAUSED",
///     }
/// }
/// assert_eq!(ChatState::parse("PAUSED"), ChatState::Pause);
/// assert_eq!(ChatState::Pause.as_str(), "PAUSE");
/// let new: ChatState = serde_json::from_str(r#""BACKGROUND""#).unwrap();
/// assert_eq!(new, ChatState::Unknown("BACKGROUND".into()));
/// assert_eq!(serde_json::to_string(&new).unwrap(), r#""BACKGROUND""#);
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The wire spellings of the known variants.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// Parses a wire value; never fails.
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The wire spelling (the original text for unknown values).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }

            /// Whether this is a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match Self::parse(&value) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                let value: ::std::string::String =
                    $crate::__private::serde::Deserialize::deserialize(deserializer)?;
                Ok(Self::from(value))
            }
        }
    };
}

/// Declares an open integer enum: known values plus `Unknown(i64)`; serde reads and writes
/// integers (a string of digits is read too).
///
/// ```
/// cc_core::open_int_enum! {
///     /// Message model.
///     pub enum Model {
///         /// A sentence.
///         Sentence = 0,
///         /// A note.
///         TechNote = 2,
///     }
/// }
/// assert_eq!(Model::from_i64(2), Model::TechNote);
/// assert_eq!(serde_json::from_str::<Model>("7").unwrap(), Model::Unknown(7));
/// assert_eq!(serde_json::to_string(&Model::Sentence).unwrap(), "0");
/// ```
#[macro_export]
macro_rules! open_int_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $value:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown(i64),
        }

        impl $name {
            /// Maps a wire value; never fails.
            pub fn from_i64(value: i64) -> Self {
                match value {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other),
                }
            }

            /// The wire value.
            pub fn as_i64(self) -> i64 {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                serializer.serialize_i64(self.as_i64())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                $crate::de::lenient_i64(deserializer).map(Self::from_i64)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// Test enum.
        pub enum Status {
            /// Open.
            Open = "OPEN",
            /// Closed.
            Close = "CLOSE" | "CLOSED",
        }
    }

    #[test]
    fn parse_is_infallible_and_round_trips() {
        assert_eq!(Status::parse("OPEN"), Status::Open);
        assert_eq!(Status::parse("CLOSED"), Status::Close);
        assert_eq!(Status::parse("open"), Status::Unknown("open".into()));
        assert!(Status::parse("").is_unknown());
        assert_eq!(Status::KNOWN, &["OPEN", "CLOSE"]);
        for wire in ["OPEN", "CLOSE", "PENDING", "ünïcode"] {
            let json = format!("\"{wire}\"");
            let parsed: Status = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
            assert_eq!(parsed.to_string(), wire);
            assert_eq!(wire.parse::<Status>().unwrap(), parsed);
        }
    }

    #[test]
    fn non_strings_are_errors() {
        assert!(serde_json::from_str::<Status>("1").is_err());
        assert!(serde_json::from_str::<Status>("null").is_err());
        // Escaped strings cannot be borrowed; they still parse.
        assert_eq!(serde_json::from_str::<Status>(r#""OP\u0045N""#).unwrap(), Status::Open);
    }
}
