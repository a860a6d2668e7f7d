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
    fn system_time_round_trip() {
        for ms in [0, 1, -1, 1_700_000_000_123, -86_400_001] {
            let t = EpochMillis::new(ms);
            assert_eq!(EpochMillis::from_system_time(t.to_system_time()), t);
        }
        assert_eq!(serde_json::to_string(&EpochMillis::new(5)).unwrap(), "5");
    }
}
