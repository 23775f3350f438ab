//! The date window of orderstate, orderresult and resultbydate: `StartYear`, `StartMonth`,
//! `StartDay`, `StartHour`, `StartMin` and the same with `End`, in GMT.

use time::{Date, Duration, Month, PrimitiveDateTime, Time};

use super::codes::ServiceError;
use super::fields::Fields;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: PrimitiveDateTime,
    pub end: PrimitiveDateTime,
}

fn point(fields: &Fields, prefix: &'static str) -> Result<Option<PrimitiveDateTime>, ServiceError> {
    let names: [&'static str; 5] = match prefix {
        "Start" => ["StartYear", "StartMonth", "StartDay", "StartHour", "StartMin"],
        _ => ["EndYear", "EndMonth", "EndDay", "EndHour", "EndMin"],
    };
    if names.iter().all(|n| fields.get(n).is_none()) {
        return Ok(None);
    }
    let year = fields.number(names[0], 2000..=9999)?.ok_or_else(|| ServiceError::field(names[0], "is required"))?;
    let month = fields.number(names[1], 1..=12)?.ok_or_else(|| ServiceError::field(names[1], "is required"))?;
    let day = fields.number(names[2], 1..=31)?.ok_or_else(|| ServiceError::field(names[2], "is required"))?;
    let hour = fields.number(names[3], 0..=23)?.unwrap_or(0);
    let minute = fields.number(names[4], 0..=59)?.unwrap_or(0);
    let month = Month::try_from(month as u8).map_err(|_| ServiceError::field(names[1], "is not a month"))?;
    let date = Date::from_calendar_date(year as i32, month, day as u8)
        .map_err(|_| ServiceError::field(names[2], "is not a day of that month"))?;
    let time =
        Time::from_hms(hour as u8, minute as u8, 0).map_err(|_| ServiceError::field(names[3], "is not a time"))?;
    Ok(Some(PrimitiveDateTime::new(date, time)))
}

/// The window: end defaults to `now`, start to `default_span` before the end; longer than
/// `max_span` (when given) or reversed is refused.
pub fn window(
    fields: &Fields,
    now: PrimitiveDateTime,
    default_span: Duration,
    max_span: Option<Duration>,
) -> Result<Window, ServiceError> {
    let end = point(fields, "End")?.unwrap_or(now);
    let start = point(fields, "Start")?.unwrap_or(end - default_span);
    if start > end {
        return Err(ServiceError::field("StartYear", "the window starts after it ends"));
    }
    if max_span.is_some_and(|max| end - start > max) {
        return Err(ServiceError::field("StartYear", "the window is longer than 24 hours"));
    }
    Ok(Window { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn defaults_parts_and_limits() {
        let now = datetime!(2026-12-03 12:00);
        let w = window(&Fields::parse(b"").unwrap(), now, Duration::hours(3), None).unwrap();
        assert_eq!((w.start, w.end), (datetime!(2026-12-03 9:00), now));
        let f =
            Fields::parse(b"StartYear=2026&StartMonth=12&StartDay=2&StartHour=13&EndYear=2026&EndMonth=12&EndDay=3")
                .unwrap();
        let w = window(&f, now, Duration::hours(3), Some(Duration::hours(24))).unwrap();
        assert_eq!((w.start, w.end), (datetime!(2026-12-02 13:00), datetime!(2026-12-03 0:00)));
        let long = Fields::parse(b"StartYear=2026&StartMonth=12&StartDay=1").unwrap();
        assert_eq!(window(&long, now, Duration::hours(3), Some(Duration::hours(24))).unwrap_err().secondcode, 104);
        let bad = Fields::parse(b"StartYear=2026&StartMonth=2&StartDay=30").unwrap();
        assert!(window(&bad, now, Duration::hours(3), None).is_err());
        let partial = Fields::parse(b"StartYear=2026").unwrap();
        assert!(window(&partial, now, Duration::hours(3), None).is_err());
    }
}
