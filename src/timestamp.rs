//! A moment in UTC to the second, as every timestamp column holds it and
//! every report shows it: `2026-11-26T08:44:52Z` (RFC 3339, `Z`, no
//! fraction). Text in that one form sorts as the moments do, which the
//! store's comparisons in SQL (`next_attempt_at <= ?`) rely on. Parsing
//! accepts only that form: anything else is an error, never a guess.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::{Serialize, Serializer};

/// A UTC moment, whole seconds: what [`fmt::Display`] writes, what
/// [`FromStr`] reads back, with nothing lost between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The one text form, as chrono writes and reads it.
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%SZ";

    /// Now, to the second.
    pub fn now() -> Timestamp {
        Timestamp::from(Utc::now())
    }

    /// The moment as chrono's, for arithmetic and comparisons with now.
    pub fn datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// To the minute, as tables show it: `2026-11-26 08:44`.
    pub fn to_minute(self) -> String {
        self.0.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Drops the fraction of a second: the text keeps none, so a timestamp
/// read back equals the one written.
impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Timestamp {
        Timestamp(t.trunc_subsecs(0))
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> DateTime<Utc> {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(Timestamp::FORMAT))
    }
}

impl FromStr for Timestamp {
    type Err = String;

    /// Exactly the form [`fmt::Display`] writes: `2026-11-26T08:44:52Z`.
    fn from_str(s: &str) -> Result<Timestamp, String> {
        let refused = || format!("`{s}` is not a UTC time such as 2026-11-26T08:44:52Z");
        let t = NaiveDateTime::parse_from_str(s, Timestamp::FORMAT)
            .map_err(|_| refused())?
            .and_utc();
        let t = Timestamp(t);
        // chrono's parser forgives what its writer never produces (a
        // one-digit month, a sign before the year): one form only.
        if t.to_string() == s {
            Ok(t)
        } else {
            Err(refused())
        }
    }
}

/// The same text as [`fmt::Display`], so JSON reports read as before.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in [
            "2026-11-26T08:44:52Z",
            "1970-01-01T00:00:00Z",
            "2030-01-01T00:00:00Z",
        ] {
            let t: Timestamp = text.parse().unwrap();
            assert_eq!(t.to_string(), text);
        }
    }

    #[test]
    fn the_fraction_of_a_second_is_dropped_once() {
        let t = DateTime::parse_from_rfc3339("2026-11-26T08:44:52.987Z")
            .unwrap()
            .to_utc();
        let stamp = Timestamp::from(t);
        assert_eq!(stamp.to_string(), "2026-11-26T08:44:52Z");
        assert_eq!(stamp.to_string().parse::<Timestamp>(), Ok(stamp));
        assert!(stamp.datetime() <= t);
    }

    #[test]
    fn other_forms_are_refused() {
        for text in [
            "",
            "yesterday",
            "2026-11-26",
            "2026-11-26 08:44:52",
            "2026-11-26T08:44:52",
            "2026-11-26T08:44:52.5Z",
            "2026-11-26T08:44:52+00:00",
            "2026-1-26T08:44:52Z",
            "+2026-11-26T08:44:52Z",
            "2026-13-26T08:44:52Z",
            " 2026-11-26T08:44:52Z",
        ] {
            assert!(text.parse::<Timestamp>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn text_order_is_time_order() {
        let a: Timestamp = "2026-11-26T08:44:52Z".parse().unwrap();
        let b: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        assert!(a < b && a.to_string() < b.to_string());
        assert_eq!(a.to_minute(), "2026-11-26 08:44");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"2026-11-26T08:44:52Z\""
        );
    }
}
