//! [`EpochMillis`]: the vendors' timestamps, milliseconds since the Unix epoch (UTC).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::de::Lenient;

/// Milliseconds since 1970-01-01T00:00:00Z, as every vendor here sends them.
///
/// Deserializes from a JSON integer or a string of digits (some payloads quote numbers);
/// serializes as an integer. `Display` prints RFC 3339 UTC with milliseconds.
///
/// ```
/// use cc_core::EpochMillis;
/// let t: EpochMillis = serde_json::from_str(r#""1700000000123""#).unwrap();
/// assert_eq!(t.as_i64(), 1_700_000_000_123);
/// assert_eq!(t.to_string(), "2023-11-14T22:13:20.123Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct EpochMillis(i64);

impl EpochMillis {
    /// Wraps a millisecond count.
    pub const fn new(millis: i64) -> Self {
        Self(millis)
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// The millisecond count.
    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// Converts from `SystemTime`, saturating at the ends of the `i64` range.
    pub fn from_system_time(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Self(i64::try_from(after.as_millis()).unwrap_or(i64::MAX)),
            Err(before) => Self(-i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// Converts to `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
    }
}

impl EpochMillis {
    /// Parses an RFC 3339 / ISO 8601 date-time: `2024-05-01T10:00:00Z`, with optional fraction
    /// (`.5`, `.123456`; truncated to milliseconds) and offset (`+02:00`). A time without an
    /// offset is taken as UTC (.NET writes UTC values that way). `None` when it is not one.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let t = text.trim().as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = t.get(range)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
        };
        if t.len() < 19
            || t[4] != b'-'
            || t[7] != b'-'
            || !matches!(t[10], b'T' | b't' | b' ')
            || t[13] != b':'
            || t[16] != b':'
        {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &t[19..];
        let mut millis = 0;
        if let Some(fraction) = rest.strip_prefix(b".") {
            let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for (i, d) in fraction[..digits.min(3)].iter().enumerate() {
                millis += i64::from(d - b'0') * [100, 10, 1][i];
            }
            rest = &fraction[digits..];
        }
        let offset_minutes = match rest {
            [] | [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digit = |b: &u8| b.is_ascii_digit().then(|| i64::from(b - b'0'));
                let minutes = (digit(h1)? * 10 + digit(h2)?) * 60 + digit(m1)? * 10 + digit(m2)?;
                if *sign == b'+' { minutes } else { -minutes }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month as u32, day as u32);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Some(Self(seconds * 1000 + millis))
    }
}

/// A proleptic Gregorian date to days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl From<SystemTime> for EpochMillis {
    fn from(time: SystemTime) -> Self {
        Self::from_system_time(time)
    }
}

impl fmt::Display for EpochMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Serialize for EpochMillis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for EpochMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Lenient::<i64>::deserialize(deserializer).map(|v| Self(v.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_digit_strings() {
        for raw in ["1700000000123", r#""1700000000123""#, "1700000000123.0"] {
            let t: EpochMillis = serde_json::from_str(raw).unwrap();
            assert_eq!(t.as_i64(), 1_700_000_000_123, "{raw}");
        }
        for bad in [r#""soon""#, "true", "null", "1.5", r#""""#] {
            assert!(serde_json::from_str::<EpochMillis>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_rfc3339() {
        assert_eq!(EpochMillis::new(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(EpochMillis::new(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(EpochMillis::new(951_782_400_000).to_string(), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_rfc3339() {
        for (text, ms) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
            ("2023-11-14T22:13:20.1234567", 1_700_000_000_123),
            ("2023-11-15T00:13:20+02:00", 1_700_000_000_000),
            ("2000-02-29 00:00:00z", 951_782_400_000),
            ("1969-12-31T23:59:59.999Z", -1),
        ] {
            assert_eq!(EpochMillis::parse_rfc3339(text).map(EpochMillis::as_i64), Some(ms), "{text}");
        }
        for bad in [
            "",
            "2023-13-01T00:00:00Z",
            "2023-11-14",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0200",
            "tomorrow",
        ] {
            assert_eq!(EpochMillis::parse_rfc3339(bad), None, "{bad}");
        }
        let t = EpochMillis::new(1_700_000_000_123);
        assert_eq!(EpochMillis::parse_rfc3339(&t.to_string()), Some(t), "Display round-trips");
    }

    #[test]
    fn system_time_round_trip() {
        for ms in [0, 1, -1, 1_700_000_000_123, -86_400_001] {
            let t = EpochMillis::new(ms);
            assert_eq!(EpochMillis::from_system_time(t.to_system_time()), t);
        }
        assert_eq!(serde_json::to_string(&EpochMillis::new(5)).unwrap(), "5");
    }
}
