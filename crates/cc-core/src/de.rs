//! Lenient deserialization helpers and JSON parsing with field-path errors.
//!
//! Vendors send numbers as strings now and then, and add fields without notice. Models in
//! this workspace accept both spellings of a number and ignore unknown fields; when a payload
//! really is malformed, [`parse_json`] says where (`changes[0].event.type`).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

/// What kind of JSON value `value` is, in words (`a string`, `a list`…), for errors that
/// say what arrived instead of what was expected.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An integer that may arrive as a JSON number or as a string of digits.
///
/// Floats with no fractional part (`3600.0`) are accepted too; anything else is an error.
/// Use it directly, or through [`lenient_u64`] / [`lenient_i64`] and their `Option` forms
/// in `#[serde(deserialize_with = …)]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Lenient<T>(pub T);

/// Integer types [`Lenient`] can produce.
pub trait LenientInt: Sized + Copy {
    /// Name used in error messages.
    const NAME: &'static str;
    /// From a signed value, if in range.
    fn from_i64(v: i64) -> Option<Self>;
    /// From an unsigned value, if in range.
    fn from_u64(v: u64) -> Option<Self>;
}

impl LenientInt for i64 {
    const NAME: &'static str = "an integer";
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
}

impl LenientInt for u64 {
    const NAME: &'static str = "a non-negative integer";
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok()
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T: LenientInt> Visitor<'_> for LenientVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (as a number or a string of digits)", T::NAME)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::from_i64(v).ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v).ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        let integral = v.fract() == 0.0 && v.is_finite() && v.abs() < 9.0e15;
        integral
            .then(|| T::from_i64(v as i64))
            .flatten()
            .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let trimmed = v.trim();
        let parsed = if let Some(rest) = trimmed.strip_prefix('-') {
            rest.parse::<u64>().ok().and_then(|n| i64::try_from(n).ok()).and_then(|n| T::from_i64(-n))
        } else {
            trimmed.parse::<u64>().ok().and_then(T::from_u64)
        };
        parsed.ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de, T: LenientInt> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData)).map(Lenient)
    }
}

/// `deserialize_with` for a `u64` sent as number or string.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Lenient::<u64>::deserialize(d).map(|v| v.0)
}

/// `deserialize_with` for an `i64` sent as number or string.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Lenient::<i64>::deserialize(d).map(|v| v.0)
}

/// `deserialize_with` for an optional `u64` sent as number, string, `null` or `""`.
/// Pair it with `#[serde(default)]` so that a missing field is `None` too.
pub fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    optional(d)
}

/// `deserialize_with` for an optional `i64` sent as number, string, `null` or `""`.
/// Pair it with `#[serde(default)]` so that a missing field is `None` too.
pub fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    optional(d)
}

/// `deserialize_with` for an optional `f64` sent as number, numeric string, `null` or `""`.
/// Pair it with `#[serde(default)]` so that a missing field is `None` too.
pub fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct F64Visitor;
    impl<'de> Visitor<'de> for F64Visitor {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number (or a numeric string), null or an empty string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<f64>, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<f64>, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<f64>, E> {
            Ok(Some(v as f64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<f64>, E> {
            let trimmed = v.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            match trimmed.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Some(n)),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }
    d.deserialize_option(F64Visitor)
}

fn optional<'de, D: Deserializer<'de>, T: LenientInt>(d: D) -> Result<Option<T>, D::Error> {
    struct OptVisitor<T>(PhantomData<T>);
    impl<'de, T: LenientInt> Visitor<'de> for OptVisitor<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            LenientVisitor::<T>(PhantomData).expecting(f)?;
            f.write_str(", null or an empty string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
            d.deserialize_any(self)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
            LenientVisitor(PhantomData).visit_i64(v).map(Some)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
            LenientVisitor(PhantomData).visit_u64(v).map(Some)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<T>, E> {
            LenientVisitor(PhantomData).visit_f64(v).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
            if v.trim().is_empty() {
                return Ok(None);
            }
            LenientVisitor(PhantomData).visit_str(v).map(Some)
        }
    }
    d.deserialize_option(OptVisitor(PhantomData))
}

/// A JSON payload that could not be parsed, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at `{path}`{}: {message}", position(*.line, *.column))]
pub struct JsonError {
    /// Field path such as `message[3].type.value`; `.` for the document root, `?` for a
    /// position the parser could not name (a syntax error inside an object).
    pub path: String,
    /// What serde found wrong.
    pub message: String,
    /// 1-based line of the error in the input; 0 when the error is not tied to a position
    /// (a check made after parsing).
    pub line: usize,
    /// 1-based column of the error in the input.
    pub column: usize,
}

fn position(line: usize, column: usize) -> String {
    if line == 0 { String::new() } else { format!(" (line {line}, column {column})") }
}

/// Parses JSON bytes into `T`, naming the field path on error.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Event { kind: String }
/// let err = cc_core::de::parse_json::<Vec<Event>>(br#"[{"kind":"a"},{"kind":7}]"#).unwrap_err();
/// assert_eq!(err.path, "[1].kind");
/// ```
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    parse_json_borrowed(bytes)
}

/// [`parse_json`] for types that borrow from the input (`&str`, `&RawValue` fields).
pub fn parse_json_borrowed<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, JsonError> {
    // Fast path without path tracking; only a failed parse pays for a second, tracked pass.
    from_json_seed(bytes, PhantomData::<T>)
        .map_err(|plain| locate_error::<T>(bytes).unwrap_or_else(|| to_error(".".into(), plain)))
}

/// Deserializes the whole of `bytes` with `seed` (nothing may follow the value), reading them
/// as `&str` when they are UTF-8 throughout.
///
/// Checking the UTF-8 of a body once costs less than checking every string in it one by
/// one, which is what parsing bytes does. Bytes that are not UTF-8 throughout are parsed as
/// bytes, so a bad byte in a field nobody reads still parses, and one that is read is an
/// error naming it. The fast path of [`parse_json`]; public for one-pass parsers that carry
/// state in a [`de::DeserializeSeed`].
pub fn from_json_seed<'a, S: de::DeserializeSeed<'a>>(
    bytes: &'a [u8],
    seed: S,
) -> Result<S::Value, serde_json::Error> {
    fn run<'a, R: serde_json::de::Read<'a>, S: de::DeserializeSeed<'a>>(
        mut de: serde_json::Deserializer<R>,
        seed: S,
    ) -> Result<S::Value, serde_json::Error> {
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => run(serde_json::Deserializer::from_str(text), seed),
        Err(_) => run(serde_json::Deserializer::from_slice(bytes), seed),
    }
}

/// Parses again with path tracking to say where the error is.
fn locate_error<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(err) => {
            let path = err.path().to_string();
            Some(to_error(path, err.into_inner()))
        }
        Ok(_) => de.end().err().map(|e| to_error(".".into(), e)),
    }
}

fn to_error(path: String, inner: serde_json::Error) -> JsonError {
    JsonError {
        path,
        line: inner.line(),
        column: inner.column(),
        message: strip_position(&inner.to_string()),
    }
}

/// serde_json appends " at line L column C"; the error carries those as fields already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A value that is kept even when it does not read as a `T`: one odd field (a timestamp sent
/// as `""`) must not reject the whole payload, and must not be lost either. Serializes back
/// to what arrived when it was kept raw.
///
/// ```
/// use cc_core::EpochMillis;
/// use cc_core::de::OrRaw;
/// let good: OrRaw<EpochMillis> = serde_json::from_str(r#""1700000000000""#).unwrap();
/// assert_eq!(good.parsed(), Some(&EpochMillis::new(1_700_000_000_000)));
/// let odd: OrRaw<EpochMillis> = serde_json::from_str(r#""""#).unwrap();
/// assert_eq!((odd.parsed(), odd.raw()), (None, Some(&serde_json::json!(""))));
/// assert_eq!(serde_json::to_string(&odd).unwrap(), r#""""#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum OrRaw<T> {
    /// It read as a `T`.
    Parsed(T),
    /// It did not; this is what arrived.
    Raw(serde_json::Value),
}

impl<T> OrRaw<T> {
    /// The value, when it read as one.
    pub fn parsed(&self) -> Option<&T> {
        match self {
            Self::Parsed(v) => Some(v),
            Self::Raw(_) => None,
        }
    }

    /// What arrived, when it did not read as a `T`.
    pub fn raw(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Parsed(_) => None,
            Self::Raw(raw) => Some(raw),
        }
    }
}

impl<T> From<T> for OrRaw<T> {
    fn from(value: T) -> Self {
        Self::Parsed(value)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OrRaw<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        Ok(match T::deserialize(&raw) {
            Ok(value) => Self::Parsed(value),
            Err(_) => Self::Raw(raw),
        })
    }
}

impl<T: serde::Serialize> serde::Serialize for OrRaw<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Parsed(value) => value.serialize(serializer),
            Self::Raw(raw) => raw.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(deserialize_with = "lenient_u64")]
        a: u64,
        #[serde(default, deserialize_with = "lenient_opt_i64")]
        b: Option<i64>,
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        let cases = [
            (r#"{"a":1}"#, T { a: 1, b: None }),
            (r#"{"a":"2","b":"-3"}"#, T { a: 2, b: Some(-3) }),
            (r#"{"a":" 4 ","b":null}"#, T { a: 4, b: None }),
            (r#"{"a":5.0,"b":""}"#, T { a: 5, b: None }),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_json::<T>(raw.as_bytes()).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_parse_where_nothing_reads_them() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct S {
            s: String,
        }
        assert_eq!(parse_json::<S>(b"{\"junk\":\"\xFF\",\"s\":\"ok\"}").unwrap(), S { s: "ok".into() });
        let err = parse_json::<S>(b"{\"s\":\"\xFF\"}").unwrap_err();
        assert_eq!(err.path, "s");
        assert!(err.message.contains("unicode"), "{err}");
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct F {
        #[serde(default, deserialize_with = "lenient_opt_f64")]
        x: Option<f64>,
    }

    #[test]
    fn floats_as_numbers_or_strings() {
        for (raw, want) in [
            (r#"{"x":20349.12}"#, Some(20349.12)),
            (r#"{"x":"93729.01"}"#, Some(93729.01)),
            (r#"{"x":7}"#, Some(7.0)),
            (r#"{"x":null}"#, None),
            (r#"{"x":""}"#, None),
            ("{}", None),
        ] {
            assert_eq!(parse_json::<F>(raw.as_bytes()).unwrap(), F { x: want }, "{raw}");
        }
        for raw in [r#"{"x":"fast"}"#, r#"{"x":"NaN"}"#, r#"{"x":true}"#] {
            assert_eq!(parse_json::<F>(raw.as_bytes()).unwrap_err().path, "x", "{raw}");
        }
    }

    #[test]
    fn bad_numbers_name_the_field() {
        for (raw, path) in [
            (r#"{"a":-1}"#, "a"),
            (r#"{"a":"x"}"#, "a"),
            (r#"{"a":1,"b":"1e3"}"#, "b"),
            (r#"{"a":1.5}"#, "a"),
            (r#"{"a":true}"#, "a"),
        ] {
            let err = parse_json::<T>(raw.as_bytes()).unwrap_err();
            assert_eq!(err.path, path, "{raw}: {err}");
        }
    }

    #[test]
    fn json_error_reports_path_and_position() {
        let err = parse_json::<Vec<T>>(b"[{\"a\":1},\n{\"a\":{}}]").unwrap_err();
        assert_eq!(err.path, "[1].a");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("invalid JSON at `[1].a` (line 2"), "{err}");
        let trailing = parse_json::<T>(br#"{"a":1} x"#).unwrap_err();
        assert!(trailing.message.contains("trailing"), "{trailing}");
        let syntax = parse_json::<T>(b"{").unwrap_err();
        assert!(syntax.message.contains("EOF"), "{syntax}");
    }
}
