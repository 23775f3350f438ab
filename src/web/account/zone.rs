//! The enterprise's time zone: the database keeps UTC, the account shows local times and cuts
//! local days. Every conversion between the two lives here, over jiff's bundled tz database (so
//! it works the same without `/usr/share/zoneinfo`).

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use time::{Date, Month, PrimitiveDateTime};

/// An IANA time zone, e.g. `Europe/Moscow`.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn to_jiff(d: Date) -> jiff::civil::Date {
    jiff::civil::Date::new(d.year() as i16, u8::from(d.month()) as i8, d.day() as i8).expect("a date of year 1-9999")
}

fn from_jiff(d: jiff::civil::Date) -> Date {
    let month = Month::try_from(d.month() as u8).expect("month 1-12");
    Date::from_calendar_date(d.year().into(), month, d.day() as u8).expect("a valid date")
}

fn timestamp(t: PrimitiveDateTime) -> Timestamp {
    let micros = (t.assume_utc().unix_timestamp_nanos() / 1_000) as i64;
    Timestamp::from_microsecond(micros).expect("a time Kassa stores is in jiff's range")
}

fn primitive(t: Timestamp) -> PrimitiveDateTime {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.as_microsecond()) * 1_000)
        .expect("jiff's range fits in time's");
    PrimitiveDateTime::new(t.date(), t.time())
}

impl Zone {
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), tz: TimeZone::UTC }
    }

    /// The zone with this IANA name, if the tz database knows it.
    pub fn named(name: &str) -> Option<Zone> {
        TimeZone::get(name).ok().map(|tz| Zone { name: name.to_owned(), tz })
    }

    /// The zone stored for an enterprise; an unknown name (edited by hand) falls back to UTC.
    pub fn stored(name: &str) -> Zone {
        Zone::named(name).unwrap_or_else(|| {
            tracing::warn!(time_zone = name, "unknown enterprise time zone, using UTC");
            Zone::utc()
        })
    }

    /// The UTC instant at which the local day `d` begins. Where a DST change skips local
    /// midnight, the day begins at the first local time that exists.
    pub fn start_of_day(&self, d: Date) -> PrimitiveDateTime {
        let start = to_jiff(d).to_zoned_datetime(self.tz.clone()).expect("a day of year 1-9999 has a start");
        primitive(start.timestamp())
    }

    /// The local day of a UTC instant.
    pub fn local_date(&self, t: PrimitiveDateTime) -> Date {
        from_jiff(timestamp(t).to_zoned_datetime(self.tz.clone()).date())
    }

    /// The local day of a unix time in seconds.
    pub fn local_date_of_unix(&self, seconds: i64) -> Date {
        let t = Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH);
        from_jiff(t.to_zoned_datetime(self.tz.clone()).date())
    }

    /// Today, here.
    pub fn today(&self) -> Date {
        from_jiff(Timestamp::now().to_zoned_datetime(self.tz.clone()).date())
    }

    /// A UTC instant for people: local time with its offset, `2026-12-04 01:30:00 +03:00`.
    pub fn show(&self, t: PrimitiveDateTime) -> String {
        timestamp(t).to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
    }

    /// [`Zone::show`] of an optional time; empty when there is none.
    pub fn show_opt(&self, t: Option<PrimitiveDateTime>) -> String {
        t.map(|t| self.show(t)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn local_midnight_in_utc() {
        let moscow = Zone::named("Europe/Moscow").unwrap();
        assert_eq!(moscow.start_of_day(date!(2026 - 12 - 04)), datetime!(2026-12-03 21:00));
        assert_eq!(Zone::utc().start_of_day(date!(2026 - 12 - 04)), datetime!(2026-12-04 0:00));
    }

    #[test]
    fn days_follow_daylight_saving() {
        let ny = Zone::named("America/New_York").unwrap();
        // EST (-5) in winter, EDT (-4) in summer; 2026-03-08 is 23 hours long.
        assert_eq!(ny.start_of_day(date!(2026 - 01 - 15)), datetime!(2026-01-15 5:00));
        assert_eq!(ny.start_of_day(date!(2026 - 03 - 08)), datetime!(2026-03-08 5:00));
        assert_eq!(ny.start_of_day(date!(2026 - 03 - 09)), datetime!(2026-03-09 4:00));
        // Santiago skips local midnight when summer time begins: the day starts at 01:00.
        let santiago = Zone::named("America/Santiago").unwrap();
        assert_eq!(santiago.start_of_day(date!(2026 - 09 - 06)), datetime!(2026-09-06 4:00));
    }

    #[test]
    fn local_dates_and_display() {
        let moscow = Zone::named("Europe/Moscow").unwrap();
        let t = datetime!(2026-12-03 22:30);
        assert_eq!(moscow.local_date(t), date!(2026 - 12 - 04));
        assert_eq!(Zone::utc().local_date(t), date!(2026 - 12 - 03));
        assert_eq!(moscow.show(t), "2026-12-04 01:30:00 +03:00");
        assert_eq!(moscow.local_date_of_unix(t.assume_utc().unix_timestamp()), date!(2026 - 12 - 04));
        assert!(Zone::named("Mars/Olympus").is_none());
        assert_eq!(Zone::stored("Mars/Olympus").to_string(), "UTC");
    }
}
